//! The Parquet schema of a delivery stream: the columns of its Glue table, read from the
//! emulator like the rest of the deployed configuration (`AWSGlue.GetTable`, or
//! `AWSGlue.GetTableVersion` for a pinned `VersionId`).
//!
//! One SigV4-signed JSON call over the crate's `hyper` client rather than `aws-sdk-glue`: that
//! SDK crate alone took 150 s to build (debug, 2 cores) against 37 s for `aws-sdk-firehose`, for
//! a single read. Like the API Gateway executor's AWS integrations, it needs an `http://`
//! endpoint (`AWS_ENDPOINT_URL`, the emulator), which is where `kstream local` runs.

use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, Uri};
use http_body_util::{BodyExt as _, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};

use super::config::Conversion;
use super::convert::{Column, Converter};
use super::error::GlueError;

const TIMEOUT: Duration = Duration::from_secs(30);

/// Calls one action of the Glue JSON API (`AWSGlue.<action>`); returns the response document.
async fn call(
    sdk: &aws_config::SdkConfig,
    region: &str,
    action: &'static str,
    body: &Value,
) -> Result<Value, GlueError> {
    let endpoint = sdk
        .endpoint_url()
        .ok_or(GlueError::NoEndpoint)?
        .trim_end_matches('/');
    if !endpoint.starts_with("http://") {
        return Err(GlueError::NotHttp(endpoint.to_owned()));
    }
    let url = format!("{endpoint}/");
    let uri: Uri = url
        .parse()
        .map_err(|e: http::uri::InvalidUri| GlueError::Endpoint {
            url: url.clone(),
            message: e.to_string(),
        })?;
    let host = uri
        .authority()
        .map(ToString::to_string)
        .ok_or_else(|| GlueError::NoHost(url.clone()))?;
    let body = Bytes::from(body.to_string());
    let mut req = Request::builder()
        .method(Method::POST)
        .uri(uri)
        .header(http::header::HOST, &host)
        .header(http::header::CONTENT_TYPE, "application/x-amz-json-1.1")
        .header("x-amz-target", format!("AWSGlue.{action}"))
        .body(Full::new(body.clone()))
        .map_err(|e| GlueError::Request(e.to_string()))?;
    if let Some(provider) = sdk.credentials_provider() {
        kstream_local_lambda::sigv4::sign_post(&mut req, &body, &provider, region, "glue")
            .await
            .map_err(GlueError::Request)?;
    }
    let mut connector = HttpConnector::new();
    connector.set_connect_timeout(Some(Duration::from_secs(5)));
    let client: Client<HttpConnector, Full<Bytes>> =
        Client::builder(TokioExecutor::new()).build(connector);
    let response = tokio::time::timeout(TIMEOUT, client.request(req))
        .await
        .map_err(|_| GlueError::Timeout {
            action,
            endpoint: endpoint.to_owned(),
        })?
        .map_err(|e| GlueError::Unreachable {
            action,
            endpoint: endpoint.to_owned(),
            message: e.to_string(),
        })?;
    let status = response.status();
    let bytes = tokio::time::timeout(TIMEOUT, response.into_body().collect())
        .await
        .map_err(|_| GlueError::ResponseTimeout { action })?
        .map_err(|e| GlueError::Read {
            action,
            message: e.to_string(),
        })?
        .to_bytes();
    let doc: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    if !status.is_success() {
        let kind = doc["__type"].as_str().unwrap_or("").rsplit('#').next();
        let message = doc["message"]
            .as_str()
            .or(doc["Message"].as_str())
            .map_or_else(
                || String::from_utf8_lossy(&bytes).into_owned(),
                str::to_owned,
            );
        return Err(GlueError::Status {
            action,
            status: status.as_u16(),
            code: kind.filter(|k| !k.is_empty()).map(str::to_owned),
            message,
        });
    }
    Ok(doc)
}

/// The columns of a table document (`Table.StorageDescriptor.Columns`).
fn columns_of(table: &Value) -> Result<Vec<Column>, GlueError> {
    let columns = table["StorageDescriptor"]["Columns"]
        .as_array()
        .ok_or(GlueError::NoColumns)?;
    columns
        .iter()
        .map(|c| {
            Column::new(
                c["Name"].as_str().unwrap_or_default(),
                c["Type"].as_str().unwrap_or_default(),
            )
            .map_err(GlueError::from)
        })
        .collect()
}

/// The converter for `conversion`, with the table's columns.
///
/// # Errors
/// A [`GlueError`] when the table cannot be read, has no columns, or has a column type kstream
/// local does not convert (named).
pub(crate) async fn converter(
    sdk: &aws_config::SdkConfig,
    conversion: &Conversion,
) -> Result<Converter, GlueError> {
    let t = &conversion.table;
    let name = format!("Glue table {}.{}", t.database, t.table);
    let named = |e: GlueError| GlueError::Table {
        table: name.clone(),
        source: Box::new(e),
    };
    let mut request = if t.version_id.is_empty() || t.version_id == "LATEST" {
        json!({"DatabaseName": t.database, "Name": t.table})
    } else {
        json!({"DatabaseName": t.database, "TableName": t.table, "VersionId": t.version_id})
    };
    if !t.catalog_id.is_empty() {
        request["CatalogId"] = json!(t.catalog_id);
    }
    let region = if t.region.is_empty() {
        sdk.region().map_or("us-east-1", |r| r.as_ref()).to_owned()
    } else {
        t.region.clone()
    };
    let columns = if request.get("VersionId").is_some() {
        let doc = call(sdk, &region, "GetTableVersion", &request)
            .await
            .map_err(named)?;
        columns_of(&doc["TableVersion"]["Table"])
    } else {
        let doc = call(sdk, &region, "GetTable", &request)
            .await
            .map_err(named)?;
        columns_of(&doc["Table"])
    }
    .map_err(named)?;
    Converter::new(
        columns,
        conversion.deserializer.clone(),
        conversion.compression,
        conversion.table.clone(),
    )
    .map_err(GlueError::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_come_from_the_storage_descriptor() {
        let table = json!({"StorageDescriptor": {"Columns": [
            {"Name": "ticker", "Type": "string"},
            {"Name": "price", "Type": "double"}
        ]}});
        let cols = columns_of(&table).unwrap();
        assert_eq!(
            cols.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
            ["ticker", "price"]
        );
        let err = columns_of(&json!({"StorageDescriptor": {"Columns": [
            {"Name": "tags", "Type": "array<string>"}
        ]}}))
        .unwrap_err();
        assert!(err.to_string().contains("column tags"), "{err}");
        assert!(columns_of(&json!({})).is_err());
    }
}
