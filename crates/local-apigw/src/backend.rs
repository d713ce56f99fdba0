//! Calling AWS service integrations on the emulator (or any endpoint).
//!
//! An `AWS` integration URI `arn:aws:apigateway:<region>:<service>:action/<Action>` becomes a
//! `POST /` to the endpoint with `X-Amz-Target: <prefix>.<Action>` for the JSON-protocol
//! services below, the rendered template as the body, signed with SigV4 for the service and
//! region when credentials are available. Integration request headers
//! (`integration.request.header.*`) are sent as mapped; the content type defaults to
//! `application/x-amz-json-1.1`.

use std::time::Duration;

use aws_credential_types::provider::SharedCredentialsProvider;
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, Uri};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

/// `X-Amz-Target` prefixes of the JSON-protocol services an `action/` URI can name.
const JSON_TARGETS: &[(&str, &str, &str)] = &[
    ("kinesis", "Kinesis_20131202", "application/x-amz-json-1.1"),
    (
        "firehose",
        "Firehose_20150804",
        "application/x-amz-json-1.1",
    ),
    (
        "dynamodb",
        "DynamoDB_20120810",
        "application/x-amz-json-1.0",
    ),
    ("sqs", "AmazonSQS", "application/x-amz-json-1.0"),
    ("states", "AWSStepFunctions", "application/x-amz-json-1.0"),
    ("events", "AWSEvents", "application/x-amz-json-1.1"),
    ("logs", "Logs_20140328", "application/x-amz-json-1.1"),
    ("sns", "", ""),
];

/// Where AWS integrations are sent, and how they are signed.
#[derive(Clone, Debug)]
pub struct AwsBackend {
    endpoint: String,
    credentials: Option<SharedCredentialsProvider>,
    client: Client<HttpConnector, Full<Bytes>>,
}

/// What the backend answered.
#[derive(Debug, Clone)]
pub(crate) struct BackendResponse {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

/// A parsed `AWS` integration URI.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ServiceAction {
    pub(crate) region: String,
    pub(crate) service: String,
    pub(crate) action: String,
}

impl ServiceAction {
    /// Parses `arn:<partition>:apigateway:<region>:<[subdomain.]service>:action/<Action>`.
    pub(crate) fn parse(uri: &str) -> Option<Self> {
        let parts: Vec<&str> = uri.splitn(6, ':').collect();
        if parts.len() != 6 || parts[0] != "arn" || parts[2] != "apigateway" {
            return None;
        }
        let service = parts[4].rsplit('.').next().unwrap_or(parts[4]);
        let action = parts[5].strip_prefix("action/")?;
        Some(Self {
            region: parts[3].to_owned(),
            service: service.to_owned(),
            action: action.split('&').next().unwrap_or(action).to_owned(),
        })
    }
}

impl AwsBackend {
    /// A backend sending to `endpoint` (such as `http://127.0.0.1:4566`), signing with
    /// `credentials` when given. Only `http://` endpoints are supported.
    pub fn new(
        endpoint: impl Into<String>,
        credentials: Option<SharedCredentialsProvider>,
    ) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(Duration::from_secs(5)));
        Self {
            endpoint: endpoint.into().trim_end_matches('/').to_owned(),
            credentials,
            client: Client::builder(TokioExecutor::new()).build(connector),
        }
    }

    /// A backend for the SDK configuration's endpoint (`AWS_ENDPOINT_URL`) and credentials.
    pub async fn from_sdk_config(config: &aws_config::SdkConfig) -> crate::error::Result<Self> {
        let endpoint = config.endpoint_url().ok_or_else(|| crate::ApigwError::Load {
            operation: "endpoint",
            message: "AWS integrations run against an emulator: set AWS_ENDPOINT_URL (such as http://127.0.0.1:4566)".to_owned(),
        })?;
        if !endpoint.starts_with("http://") {
            return Err(crate::ApigwError::Load {
                operation: "endpoint",
                message: format!("only http:// endpoints are supported, not {endpoint}"),
            });
        }
        Ok(Self::new(endpoint, config.credentials_provider()))
    }

    /// The endpoint.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Calls a JSON-protocol service action with `body`. `headers` are the mapped integration
    /// request headers.
    pub(crate) async fn call(
        &self,
        action: &ServiceAction,
        headers: &[(String, String)],
        body: Bytes,
        timeout: Duration,
    ) -> Result<BackendResponse, BackendError> {
        let (_, prefix, default_ct) = JSON_TARGETS
            .iter()
            .find(|(s, p, _)| *s == action.service && !p.is_empty())
            .ok_or_else(|| {
                BackendError::Unsupported(format!(
                    "the local executor does not support AWS integrations with service {:?} (JSON-protocol services: kinesis, firehose, dynamodb, sqs, states, events, logs)",
                    action.service
                ))
            })?;
        let url = format!("{}/", self.endpoint);
        let uri: Uri = url
            .parse()
            .map_err(|e| BackendError::Request(format!("endpoint {url}: {e}")))?;
        let host = uri
            .authority()
            .map(|a| a.to_string())
            .ok_or_else(|| BackendError::Request(format!("endpoint {url} has no host")))?;
        let mut req = Request::builder()
            .method(Method::POST)
            .uri(uri.clone())
            .body(Full::new(body.clone()))
            .map_err(|e| BackendError::Request(e.to_string()))?;
        let h = req.headers_mut();
        h.insert(http::header::HOST, header_value(&host)?);
        h.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static(default_ct),
        );
        for (name, value) in headers {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|e| BackendError::Request(e.to_string()))?;
            h.insert(name, header_value(value)?);
        }
        h.insert(
            "x-amz-target",
            header_value(&format!("{prefix}.{}", action.action))?,
        );
        if let Some(provider) = &self.credentials {
            kstream_local_lambda::sigv4::sign_post(
                &mut req,
                &body,
                provider,
                &action.region,
                &action.service,
            )
            .await
            .map_err(BackendError::Request)?;
        }
        let response = tokio::time::timeout(timeout, self.client.request(req))
            .await
            .map_err(|_| BackendError::Timeout)?
            .map_err(|e| {
                BackendError::Unreachable(format!("{} unreachable: {e}", self.endpoint))
            })?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = tokio::time::timeout(timeout, response.into_body().collect())
            .await
            .map_err(|_| BackendError::Timeout)?
            .map_err(|e| BackendError::Response(format!("reading the response: {e}")))?
            .to_bytes();
        Ok(BackendResponse {
            status,
            headers,
            body,
        })
    }
}

/// The HTTP client for `HTTP` and `HTTP_PROXY` integrations (`http://` backends only).
pub(crate) fn http_client() -> Client<HttpConnector, Full<Bytes>> {
    let mut connector = HttpConnector::new();
    connector.set_connect_timeout(Some(Duration::from_secs(5)));
    Client::builder(TokioExecutor::new()).build(connector)
}

/// Headers a proxy must not forward.
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
];

/// Sends an `HTTP`/`HTTP_PROXY` integration request.
pub(crate) async fn send_http(
    client: &Client<HttpConnector, Full<Bytes>>,
    method: &str,
    url: &str,
    headers: &[(String, String)],
    body: Bytes,
    timeout: Duration,
) -> Result<BackendResponse, BackendError> {
    let uri: Uri = url
        .parse()
        .map_err(|e| BackendError::Request(format!("integration URL {url}: {e}")))?;
    if uri.scheme_str() != Some("http") {
        return Err(BackendError::Unsupported(format!(
            "only http:// integration URLs are supported locally, not {url}"
        )));
    }
    let method =
        Method::from_bytes(method.as_bytes()).map_err(|e| BackendError::Request(e.to_string()))?;
    let mut req = Request::builder()
        .method(method)
        .uri(uri)
        .body(Full::new(body))
        .map_err(|e| BackendError::Request(e.to_string()))?;
    for (name, value) in headers {
        if HOP_BY_HOP.contains(&name.to_ascii_lowercase().as_str()) {
            continue;
        }
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|e| BackendError::Request(e.to_string()))?;
        req.headers_mut().append(name, header_value(value)?);
    }
    let response = tokio::time::timeout(timeout, client.request(req))
        .await
        .map_err(|_| BackendError::Timeout)?
        .map_err(|e| BackendError::Unreachable(format!("{url} unreachable: {e}")))?;
    let status = response.status().as_u16();
    let mut headers = response.headers().clone();
    for h in HOP_BY_HOP {
        headers.remove(*h);
    }
    let body = tokio::time::timeout(timeout, response.into_body().collect())
        .await
        .map_err(|_| BackendError::Timeout)?
        .map_err(|e| BackendError::Response(format!("reading the response: {e}")))?
        .to_bytes();
    Ok(BackendResponse {
        status,
        headers,
        body,
    })
}

fn header_value(v: &str) -> Result<HeaderValue, BackendError> {
    HeaderValue::from_str(v).map_err(|e| BackendError::Request(format!("header value {v:?}: {e}")))
}

/// Why an integration backend (an AWS service or an `http://` URL) gave no answer.
#[derive(Debug, thiserror::Error)]
pub(crate) enum BackendError {
    /// No answer within the integration's timeout: API Gateway answers 504.
    #[error("the integration timed out")]
    Timeout,
    /// The integration is not one the local executor can call.
    #[error("{0}")]
    Unsupported(String),
    /// The request could not be built or signed.
    #[error("{0}")]
    Request(String),
    /// The backend could not be reached.
    #[error("{0}")]
    Unreachable(String),
    /// The backend's response could not be read.
    #[error("{0}")]
    Response(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_action_uris() {
        assert_eq!(
            ServiceAction::parse("arn:aws:apigateway:us-east-1:kinesis:action/PutRecord"),
            Some(ServiceAction {
                region: "us-east-1".into(),
                service: "kinesis".into(),
                action: "PutRecord".into()
            })
        );
        assert_eq!(
            ServiceAction::parse("arn:aws-cn:apigateway:cn-north-1:abc.dynamodb:action/PutItem")
                .unwrap()
                .service,
            "dynamodb"
        );
        assert_eq!(
            ServiceAction::parse("arn:aws:apigateway:us-east-1:s3:path/bucket/key"),
            None
        );
        assert_eq!(ServiceAction::parse("https://example.com"), None);
    }
}
