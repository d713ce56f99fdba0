//! Lambda's `Invoke` API, served by the local data plane for the functions it runs.
//!
//! On AWS a function that invokes another (the redrive workflow's function in its `invoke`
//! mode) calls `POST /2015-03-31/functions/{FunctionName}/invocations` on the Lambda endpoint.
//! The emulator stores functions but runs them only in Docker, which `kstream local` does not
//! need: so the data plane serves this endpoint itself and gives every function process
//! `AWS_ENDPOINT_URL_LAMBDA` naming it (the SDKs' service-specific endpoint variable). The
//! other Lambda operations on that endpoint (`GetFunctionConfiguration`, `ListFunctions`, …)
//! are passed through to the emulator unchanged, so a function sees one Lambda service: the
//! emulator's control plane and this host's invocations.
//!
//! What `Invoke` answers, as Lambda's API reference describes it:
//! - `X-Amz-Invocation-Type: RequestResponse` (the default): 200 with the function's response;
//!   a function error is still 200, with `X-Amz-Function-Error: Unhandled` and the error
//!   document (`errorType`, `errorMessage`) as the body. `X-Amz-Executed-Version: $LATEST`.
//! - `Event`: 202 with an empty body; the function runs after the answer. Lambda's own retries
//!   of a failed asynchronous invocation (up to two more) and its destinations are not
//!   emulated: the failure is logged.
//! - `DryRun`: 204 when the function exists.
//! - an unknown function, or a qualifier other than `$LATEST` (this host runs only that):
//!   404 `ResourceNotFoundException`, `Function not found: <ARN>`;
//! - a payload over 6 MB (`RequestResponse`) or 1 MB (`Event`): 413
//!   `RequestTooLargeException`; another invocation type: 400 `InvalidParameterValueException`;
//! - the host shutting down or unable to start the function: 500 `ServiceException`.
//!
//! Errors carry the REST-JSON protocol's `X-Amzn-ErrorType` header and a `{"Type", "message"}`
//! body, which is what the SDKs read. `X-Amz-Log-Type: Tail` is accepted, but no log tail is
//! returned (the function's logs are in the state directory). Requests are not authenticated:
//! the listener is on the loopback interface, as the Runtime API is.

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, Request, State};
/// The emulator's endpoint that other Lambda operations are passed to.
pub use axum::http::Uri;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use http_body_util::BodyExt as _;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde::Deserialize;

use crate::runtime::{FunctionHost, InvokeResult, function_name_of, new_request_id};

/// The path of `Invoke` (API version 2015-03-31).
pub const INVOKE_PATH: &str = "/2015-03-31/functions/{function}/invocations";

/// The largest payload of a synchronous invocation: 6 MB (6,291,456 bytes).
pub const MAX_SYNC_PAYLOAD: usize = 6 * 1024 * 1024;

/// The largest payload of an asynchronous (`Event`) invocation: 1 MB.
pub const MAX_ASYNC_PAYLOAD: usize = 1024 * 1024;

/// What the endpoint serves: the host's functions, and the emulator behind it.
struct InvokeState {
    host: FunctionHost,
    /// The emulator's endpoint (`http://127.0.0.1:4566`) for every other Lambda operation;
    /// `None`: those get 501.
    upstream: Option<Uri>,
    client: Client<HttpConnector, Body>,
}

impl InvokeState {
    /// The ARN Lambda would name for an unknown function: the account and region of the
    /// registered functions (all deployed to one account and region), the name given.
    fn arn_of(&self, function: &str) -> String {
        let name = function_name_of(function);
        self.host
            .functions()
            .first()
            .and_then(|spec| {
                spec.arn
                    .split_once(":function:")
                    .map(|(prefix, _)| format!("{prefix}:function:{name}"))
            })
            .unwrap_or_else(|| format!("function:{name}"))
    }
}

/// The routes of the endpoint: `Invoke` on `host`, everything else passed to `upstream`.
pub fn routes(host: FunctionHost, upstream: Option<Uri>) -> Router {
    let state = Arc::new(InvokeState {
        host,
        upstream,
        client: Client::builder(TokioExecutor::new()).build_http(),
    });
    Router::new()
        .route(INVOKE_PATH, post(invoke))
        .fallback(pass_through)
        // The payload limits are checked in the handler, with Lambda's error.
        .layer(axum::extract::DefaultBodyLimit::disable())
        .with_state(state)
}

/// Serves [`routes`] on `listener` until `shutdown` completes.
///
/// # Errors
/// When the listener fails.
pub async fn serve(
    listener: tokio::net::TcpListener,
    host: FunctionHost,
    upstream: Option<Uri>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, routes(host, upstream))
        .with_graceful_shutdown(shutdown)
        .await
}

#[derive(Debug, Deserialize)]
struct InvokeQuery {
    #[serde(rename = "Qualifier")]
    qualifier: Option<String>,
}

async fn invoke(
    State(state): State<Arc<InvokeState>>,
    Path(function): Path<String>,
    Query(query): Query<InvokeQuery>,
    headers: HeaderMap,
    payload: Bytes,
) -> Response {
    let invocation_type = headers
        .get("x-amz-invocation-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("RequestResponse");
    let limit = match invocation_type {
        "RequestResponse" | "DryRun" => MAX_SYNC_PAYLOAD,
        "Event" => MAX_ASYNC_PAYLOAD,
        other => {
            return lambda_error(
                StatusCode::BAD_REQUEST,
                "InvalidParameterValueException",
                &format!(
                    "1 validation error detected: Value '{other}' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: [Event, RequestResponse, DryRun]"
                ),
            );
        }
    };
    // The qualifier comes in the query or at the end of an ARN (`…:function:name:qualifier`).
    let qualifier = query.qualifier.or_else(|| qualifier_of(&function));
    let known = state.host.function(&function);
    let spec = match (known, qualifier.as_deref()) {
        (Some(spec), None | Some("$LATEST")) => spec,
        (known, qualifier) => {
            let arn = known.map_or_else(|| state.arn_of(&function), |spec| spec.arn);
            let arn = match qualifier {
                Some(q) => format!("{arn}:{q}"),
                None => arn,
            };
            return lambda_error(
                StatusCode::NOT_FOUND,
                "ResourceNotFoundException",
                &format!("Function not found: {arn}"),
            );
        }
    };
    if payload.len() > limit {
        return lambda_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "RequestTooLargeException",
            &format!("Request must be smaller than {limit} bytes for the InvokeFunction operation"),
        );
    }
    match invocation_type {
        "DryRun" => executed(StatusCode::NO_CONTENT, Body::empty(), None),
        "Event" => {
            let host = state.host.clone();
            let name = spec.name.clone();
            tokio::spawn(async move {
                match host.invoke(&name, payload).await {
                    Ok(outcome) => {
                        if let Some(error) = outcome.error() {
                            tracing::warn!(function = %name, request_id = %outcome.request_id, error_type = %error.error_type, error = %error.error_message, "asynchronous invocation failed (not retried here)");
                        }
                    }
                    Err(e) => {
                        tracing::warn!(function = %name, error = %e, "asynchronous invocation could not run");
                    }
                }
            });
            let mut response = executed(StatusCode::ACCEPTED, Body::empty(), None);
            response.headers_mut().remove("x-amz-executed-version");
            response
        }
        _ => match state.host.invoke(&spec.name, payload).await {
            Ok(outcome) => match outcome.result {
                InvokeResult::Ok(body) => executed(StatusCode::OK, Body::from(body), None),
                InvokeResult::Error(error) => {
                    executed(StatusCode::OK, Body::from(error.payload), Some("Unhandled"))
                }
            },
            Err(e) => lambda_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "ServiceException",
                &e.to_string(),
            ),
        },
    }
}

/// The qualifier at the end of a function ARN (`arn:aws:lambda:r:a:function:name:qualifier`,
/// `a:function:name:qualifier`), if any.
fn qualifier_of(name_or_arn: &str) -> Option<String> {
    let (_, rest) = name_or_arn.split_once(":function:")?;
    rest.split_once(':').map(|(_, q)| q.to_owned())
}

/// An `Invoke` answer: the status, the body, the request id and the executed version.
fn executed(status: StatusCode, body: Body, function_error: Option<&'static str>) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(
        "x-amz-executed-version",
        HeaderValue::from_static("$LATEST"),
    );
    if let Some(kind) = function_error {
        headers.insert("x-amz-function-error", HeaderValue::from_static(kind));
    }
    insert_request_id(headers);
    response
}

/// An error as Lambda's REST-JSON protocol gives it.
fn lambda_error(status: StatusCode, kind: &'static str, message: &str) -> Response {
    let body = serde_json::json!({ "Type": "User", "message": message });
    let mut response = (status, axum::Json(body)).into_response();
    let headers = response.headers_mut();
    headers.insert("x-amzn-errortype", HeaderValue::from_static(kind));
    insert_request_id(headers);
    response
}

fn insert_request_id(headers: &mut HeaderMap) {
    if let Ok(id) = HeaderValue::from_str(&new_request_id()) {
        headers.insert("x-amzn-requestid", id);
    }
}

/// Every other Lambda operation: the request as it came, sent to the emulator.
async fn pass_through(State(state): State<Arc<InvokeState>>, request: Request) -> Response {
    let Some(upstream) = &state.upstream else {
        return lambda_error(
            StatusCode::NOT_IMPLEMENTED,
            "ServiceException",
            "kstream local serves only Invoke here: no emulator endpoint (AWS_ENDPOINT_URL) to pass other Lambda operations to",
        );
    };
    let (mut parts, body) = request.into_parts();
    let path_and_query = parts
        .uri
        .path_and_query()
        .map_or("/", axum::http::uri::PathAndQuery::as_str);
    let uri = format!(
        "{}{}",
        upstream.to_string().trim_end_matches('/'),
        path_and_query
    );
    match uri.parse::<Uri>() {
        Ok(uri) => parts.uri = uri,
        Err(e) => {
            return lambda_error(
                StatusCode::BAD_GATEWAY,
                "ServiceException",
                &format!("cannot pass the request on to {upstream}: {e}"),
            );
        }
    }
    parts.headers.remove(header::HOST);
    match state
        .client
        .request(axum::http::Request::from_parts(parts, body))
        .await
    {
        Ok(response) => {
            let (parts, body) = response.into_parts();
            match body.collect().await {
                Ok(collected) => {
                    Response::from_parts(parts, Body::from(collected.to_bytes())).into_response()
                }
                Err(e) => lambda_error(
                    StatusCode::BAD_GATEWAY,
                    "ServiceException",
                    &format!("the emulator's answer broke off: {e}"),
                ),
            }
        }
        Err(e) => lambda_error(
            StatusCode::BAD_GATEWAY,
            "ServiceException",
            &format!("the emulator at {upstream} does not answer: {e}"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qualifiers_come_from_arns_only() {
        assert_eq!(qualifier_of("f"), None);
        assert_eq!(
            qualifier_of("arn:aws:lambda:us-east-1:123456789012:function:f"),
            None
        );
        assert_eq!(
            qualifier_of("arn:aws:lambda:us-east-1:123456789012:function:f:live").as_deref(),
            Some("live")
        );
        assert_eq!(
            qualifier_of("123456789012:function:f:$LATEST").as_deref(),
            Some("$LATEST")
        );
    }
}
