//! The HTTP front: the address schemes, and serving an [`Executor`] with axum.

use std::future::Future;
use std::net::SocketAddr;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::response::Response;
use tokio::net::TcpListener;

use super::error::Result;
use super::executor::{Executor, ExecutorRequest, gateway_error};

/// The largest request body accepted (API Gateway's 10 MB payload limit).
pub const MAX_BODY_BYTES: usize = 10 * 1024 * 1024;

/// Where a request is addressed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    pub(crate) api_id: String,
    pub(crate) stage: String,
    /// Starts with `/`.
    pub(crate) path: String,
}

/// Resolves the two address schemes:
/// - `/restapis/<api-id>/<stage>/_user_request_/<path>` (LocalStack's), on any host;
/// - `Host: <api-id>.execute-api.<anything>` with `/<stage>/<path>` (AWS's own shape).
pub(crate) fn target(host: Option<&str>, path: &str) -> Option<Target> {
    if let Some(rest) = path.strip_prefix("/restapis/") {
        let mut parts = rest.splitn(3, '/');
        let api_id = parts.next().filter(|s| !s.is_empty())?;
        let stage = parts.next().filter(|s| !s.is_empty())?;
        let rest = parts.next().unwrap_or_default();
        let path = rest.strip_prefix("_user_request_")?;
        return Some(Target {
            api_id: api_id.to_owned(),
            stage: stage.to_owned(),
            path: if path.is_empty() {
                "/".to_owned()
            } else {
                path.to_owned()
            },
        });
    }
    let host = host?;
    let host = host.split(':').next().unwrap_or(host);
    let (api_id, domain) = host.split_once('.')?;
    if !domain.starts_with("execute-api.") || api_id.is_empty() {
        return None;
    }
    // `//stage/path` reaches the stage as `/stage/path` does (AWS-recorded).
    let rest = path.trim_start_matches('/');
    if rest.len() == path.len() {
        return None;
    }
    let (stage, path) = rest.split_once('/').unwrap_or((rest, ""));
    if stage.is_empty() {
        return None;
    }
    Some(Target {
        api_id: api_id.to_owned(),
        stage: stage.to_owned(),
        path: format!("/{path}"),
    })
}

fn into_response(r: super::executor::ExecutorResponse) -> Response {
    let mut resp = Response::new(Body::from(r.body));
    *resp.status_mut() = r.status;
    *resp.headers_mut() = r.headers;
    resp
}

async fn handle(State(executor): State<Executor>, req: Request) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    let source_ip = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_else(|| "127.0.0.1".to_owned());
    let (parts, body) = req.into_parts();
    let host = parts
        .headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| parts.uri.host())
        .map(str::to_owned);
    let Some(t) = target(host.as_deref(), parts.uri.path()) else {
        let mut r = gateway_error(404, "Not Found", "NotFoundException");
        if let Ok(v) = http::HeaderValue::from_str(&request_id) {
            r.headers.insert("x-amzn-requestid", v);
        }
        return into_response(r);
    };
    let body = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(b) => b,
        Err(_) => {
            let mut r = gateway_error(413, "Request Too Long", "RequestTooLongException");
            if let Ok(v) = http::HeaderValue::from_str(&request_id) {
                r.headers.insert("x-amzn-requestid", v);
            }
            return into_response(r);
        }
    };

    let domain_name = host
        .as_deref()
        .map(|h| h.split(':').next().unwrap_or(h).to_owned())
        .unwrap_or_default();
    let response = executor
        .execute(
            ExecutorRequest {
                api_id: t.api_id,
                stage: t.stage,
                path: t.path,
                query: parts.uri.query().map(str::to_owned),
                method: parts.method,
                headers: parts.headers,
                body,
                source_ip,
                domain_name,
                request_path: parts.uri.path().to_owned(),
            },
            &request_id,
        )
        .await;
    into_response(response)
}

/// The axum router serving every deployed API under both address schemes.
pub fn router(executor: Executor) -> Router {
    Router::new().fallback(handle).with_state(executor)
}

/// Serves `executor` on `listener` until `shutdown` completes (in-flight requests finish).
///
/// Bind `127.0.0.1:0` to get a free port: `listener.local_addr()` tells which.
pub async fn serve(
    executor: Executor,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let addr = listener.local_addr()?;
    tracing::info!(%addr, "API Gateway executor listening");
    axum::serve(
        listener,
        router(executor).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(api: &str, stage: &str, path: &str) -> Option<Target> {
        Some(Target {
            api_id: api.into(),
            stage: stage.into(),
            path: path.into(),
        })
    }

    #[test]
    fn localstack_scheme() {
        assert_eq!(
            target(None, "/restapis/abc123/prod/_user_request_/record"),
            t("abc123", "prod", "/record")
        );
        assert_eq!(
            target(
                Some("127.0.0.1:9"),
                "/restapis/abc123/prod/_user_request_/a/b%20c"
            ),
            t("abc123", "prod", "/a/b%20c")
        );
        assert_eq!(
            target(None, "/restapis/abc123/prod/_user_request_"),
            t("abc123", "prod", "/")
        );
        assert_eq!(target(None, "/restapis/abc123/prod/record"), None);
        assert_eq!(target(None, "/restapis//prod/_user_request_/x"), None);
    }

    #[test]
    fn host_scheme() {
        assert_eq!(
            target(Some("abc123.execute-api.localhost:4567"), "/prod/record"),
            t("abc123", "prod", "/record")
        );
        assert_eq!(
            target(Some("abc123.execute-api.us-east-1.amazonaws.com"), "/prod"),
            t("abc123", "prod", "/")
        );
        assert_eq!(
            target(Some("abc123.execute-api.localhost:4567"), "//prod/record"),
            t("abc123", "prod", "/record")
        );
        assert_eq!(target(Some("localhost:4567"), "/prod/record"), None);
        assert_eq!(target(Some("abc123.execute-api.localhost"), "/"), None);
    }
}
