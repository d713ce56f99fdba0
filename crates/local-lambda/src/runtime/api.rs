//! The Lambda Runtime API, as one function process sees it.
//!
//! Each function process gets its own listener (`AWS_LAMBDA_RUNTIME_API=127.0.0.1:<port>`), so a
//! route never has to work out which process is calling. The routes and status codes follow the
//! Runtime API reference (`/2018-06-01/runtime/...`):
//!
//! | route | success | errors |
//! |---|---|---|
//! | `GET  invocation/next` | 200, the event, with the `Lambda-Runtime-*` headers | 500 when the host is gone (the runtime should exit) |
//! | `POST invocation/{id}/response` | 202 | 400 unknown request id, 403 already answered or timed out, 413 over 6 MiB |
//! | `POST invocation/{id}/error` | 202 | 400, 403 as above |
//! | `POST init/error` | 202 | 403 once the runtime has asked for an invocation |

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot, watch};

use super::{FunctionError, InvokeResult};

/// Path of the "next invocation" route.
pub const NEXT_PATH: &str = "/2018-06-01/runtime/invocation/next";
/// Path of the "invocation response" route (`{request_id}` is the request id).
pub const RESPONSE_PATH: &str = "/2018-06-01/runtime/invocation/{request_id}/response";
/// Path of the "invocation error" route.
pub const ERROR_PATH: &str = "/2018-06-01/runtime/invocation/{request_id}/error";
/// Path of the "initialization error" route.
pub const INIT_ERROR_PATH: &str = "/2018-06-01/runtime/init/error";

/// Header: the request id of the invocation.
pub const HEADER_REQUEST_ID: &str = "lambda-runtime-aws-request-id";
/// Header: the deadline of the invocation, in Unix epoch milliseconds.
pub const HEADER_DEADLINE_MS: &str = "lambda-runtime-deadline-ms";
/// Header: the ARN of the function invoked.
pub const HEADER_FUNCTION_ARN: &str = "lambda-runtime-invoked-function-arn";
/// Header: the X-Ray tracing header.
pub const HEADER_TRACE_ID: &str = "lambda-runtime-trace-id";
/// Header a runtime may set on `/error` and `/init/error`: the error type.
pub const HEADER_FUNCTION_ERROR_TYPE: &str = "lambda-runtime-function-error-type";

/// The largest response a synchronous invocation may return (6 MiB, as on Lambda).
pub const MAX_RESPONSE_BYTES: usize = 6 * 1024 * 1024;

/// An invocation handed to a function process through `/next`.
#[derive(Debug)]
pub(crate) struct Invocation {
    pub(crate) request_id: String,
    pub(crate) payload: Bytes,
    /// Milliseconds the function may run, counted from the moment `/next` hands it out.
    pub(crate) timeout_ms: u64,
    pub(crate) trace_id: String,
    /// Told the deadline when the process takes the invocation.
    pub(crate) taken: oneshot::Sender<u64>,
    /// Told the result when the process answers.
    pub(crate) responder: oneshot::Sender<InvokeResult>,
}

/// The state of one function process's Runtime API.
#[derive(Debug)]
pub(crate) struct RuntimeState {
    function_arn: String,
    next: tokio::sync::Mutex<mpsc::Receiver<Invocation>>,
    inflight: Mutex<HashMap<String, oneshot::Sender<InvokeResult>>>,
    /// Request ids recently handed out and since answered (or abandoned), for 403s.
    finished: Mutex<VecDeque<String>>,
    /// Set once the runtime has called `/next` (initialization is over).
    initialized: watch::Sender<bool>,
    /// An initialization error posted by the runtime.
    init_error: watch::Sender<Option<FunctionError>>,
}

impl RuntimeState {
    /// A state fed by `invocations`.
    pub(crate) fn new(function_arn: String, invocations: mpsc::Receiver<Invocation>) -> Arc<Self> {
        Arc::new(Self {
            function_arn,
            next: tokio::sync::Mutex::new(invocations),
            inflight: Mutex::new(HashMap::new()),
            finished: Mutex::new(VecDeque::new()),
            initialized: watch::Sender::new(false),
            init_error: watch::Sender::new(None),
        })
    }

    /// Watches for an initialization error.
    pub(crate) fn init_error(&self) -> watch::Receiver<Option<FunctionError>> {
        self.init_error.subscribe()
    }

    /// Watches whether the runtime has finished initializing.
    pub(crate) fn initialized(&self) -> watch::Receiver<bool> {
        self.initialized.subscribe()
    }

    /// Forgets an invocation the host gave up on (timeout): a later answer gets 403.
    pub(crate) fn abandon(&self, request_id: &str) {
        let removed = self
            .inflight
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(request_id);
        if removed.is_some() {
            self.remember_finished(request_id);
        }
    }

    fn remember_finished(&self, request_id: &str) {
        let mut finished = self.finished.lock().unwrap_or_else(PoisonError::into_inner);
        finished.push_back(request_id.to_owned());
        while finished.len() > 64 {
            finished.pop_front();
        }
    }

    fn take_responder(&self, request_id: &str) -> Result<oneshot::Sender<InvokeResult>, ApiError> {
        let taken = self
            .inflight
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(request_id);
        match taken {
            Some(tx) => {
                self.remember_finished(request_id);
                Ok(tx)
            }
            None => {
                let known = self
                    .finished
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .iter()
                    .any(|id| id == request_id);
                if known {
                    Err(ApiError::forbidden(format!(
                        "invocation {request_id} was already answered or timed out"
                    )))
                } else {
                    Err(ApiError::bad_request(
                        "InvalidRequestID",
                        format!("no invocation with request id {request_id} is in flight"),
                    ))
                }
            }
        }
    }
}

/// The Runtime API routes over `state`.
pub(crate) fn routes(state: Arc<RuntimeState>) -> Router {
    Router::new()
        .route(NEXT_PATH, get(next))
        .route(RESPONSE_PATH, post(response))
        .route(ERROR_PATH, post(error))
        .route(INIT_ERROR_PATH, post(init_error))
        // Sizes are checked in the handlers (bodies read through a cap), so an oversized
        // answer still fails its invocation.
        .layer(axum::extract::DefaultBodyLimit::disable())
        .with_state(state)
}

/// The JSON error body the Runtime API answers with.
#[derive(Debug, Serialize)]
struct ApiErrorBody {
    #[serde(rename = "errorType")]
    error_type: String,
    #[serde(rename = "errorMessage")]
    error_message: String,
}

#[derive(Debug)]
struct ApiError {
    status: StatusCode,
    body: ApiErrorBody,
}

impl ApiError {
    fn bad_request(error_type: &str, message: String) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            body: ApiErrorBody {
                error_type: error_type.to_owned(),
                error_message: message,
            },
        }
    }
    fn forbidden(message: String) -> Self {
        Self {
            status: StatusCode::FORBIDDEN,
            body: ApiErrorBody {
                error_type: "InvalidStateTransition".to_owned(),
                error_message: message,
            },
        }
    }
    fn container(message: &str) -> Self {
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            body: ApiErrorBody {
                error_type: "ServiceException".to_owned(),
                error_message: message.to_owned(),
            },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, axum::Json(self.body)).into_response()
    }
}

fn accepted() -> Response {
    (
        StatusCode::ACCEPTED,
        axum::Json(serde_json::json!({ "status": "OK" })),
    )
        .into_response()
}

fn now_ms() -> u64 {
    u64::try_from(chrono::Utc::now().timestamp_millis()).unwrap_or(0)
}

async fn next(State(state): State<Arc<RuntimeState>>) -> Result<Response, ApiError> {
    state.initialized.send_replace(true);
    let invocation = {
        let mut rx = state.next.lock().await;
        rx.recv().await
    };
    let Some(invocation) = invocation else {
        return Err(ApiError::container(
            "the local runtime host is shutting down; exit",
        ));
    };
    let deadline = now_ms().saturating_add(invocation.timeout_ms);
    let Invocation {
        request_id,
        payload,
        trace_id,
        taken,
        responder,
        ..
    } = invocation;
    state
        .inflight
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(request_id.clone(), responder);
    // The host may have stopped waiting (shutdown); the invocation then fails on its own.
    let _ = taken.send(deadline);

    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    for (name, value) in [
        (HEADER_REQUEST_ID, request_id),
        (HEADER_DEADLINE_MS, deadline.to_string()),
        (HEADER_FUNCTION_ARN, state.function_arn.clone()),
        (HEADER_TRACE_ID, trace_id),
    ] {
        let value = HeaderValue::from_str(&value)
            .map_err(|_| ApiError::container("header value not representable"))?;
        headers.insert(name, value);
    }
    Ok((StatusCode::OK, headers, payload).into_response())
}

async fn response(
    State(state): State<Arc<RuntimeState>>,
    Path(request_id): Path<String>,
    body: Body,
) -> Result<Response, ApiError> {
    let responder = state.take_responder(&request_id)?;
    let body = match read_capped(body).await {
        Ok(body) => body,
        Err(BodyError::TooLarge) => {
            let error = FunctionError::new(
                "Function.ResponseSizeTooLarge",
                format!(
                    "Response payload size exceeded maximum allowed payload size ({MAX_RESPONSE_BYTES} bytes)."
                ),
            );
            let _ = responder.send(InvokeResult::Error(error));
            return Err(too_large());
        }
        Err(BodyError::Read(message)) => {
            let error = FunctionError::new("Runtime.InvalidResponse", message.clone());
            let _ = responder.send(InvokeResult::Error(error));
            return Err(ApiError::bad_request("InvalidRequestBody", message));
        }
    };
    // The invoker may be gone (shutdown); the answer is then simply dropped.
    let _ = responder.send(InvokeResult::Ok(body));
    Ok(accepted())
}

/// Why a posted body was not read.
#[derive(Debug)]
enum BodyError {
    /// Longer than [`MAX_RESPONSE_BYTES`]: reading stopped there.
    TooLarge,
    /// The connection failed while reading.
    Read(String),
}

/// Reads a posted body, at most [`MAX_RESPONSE_BYTES`] of it: a runtime posting more (or
/// never ending) costs the host no more than that, as on Lambda, which answers 413.
async fn read_capped(body: Body) -> Result<Bytes, BodyError> {
    use http_body_util::BodyExt as _;
    match http_body_util::Limited::new(body, MAX_RESPONSE_BYTES)
        .collect()
        .await
    {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(BodyError::TooLarge),
        Err(e) => Err(BodyError::Read(format!(
            "cannot read the request body: {e}"
        ))),
    }
}

fn too_large() -> ApiError {
    ApiError {
        status: StatusCode::PAYLOAD_TOO_LARGE,
        body: ApiErrorBody {
            error_type: "RequestEntityTooLarge".to_owned(),
            error_message: format!("the request body is larger than {MAX_RESPONSE_BYTES} bytes"),
        },
    }
}

/// The error document a runtime posts (`errorMessage`, `errorType`, `stackTrace`).
#[derive(Debug, Default, Deserialize)]
struct ErrorRequest {
    #[serde(rename = "errorMessage", default)]
    error_message: Option<String>,
    #[serde(rename = "errorType", default)]
    error_type: Option<String>,
}

fn function_error(headers: &HeaderMap, body: &Bytes, default_type: &str) -> FunctionError {
    let parsed: ErrorRequest = serde_json::from_slice(body).unwrap_or_default();
    let header_type = headers
        .get(HEADER_FUNCTION_ERROR_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let error_type = parsed
        .error_type
        .or(header_type)
        .unwrap_or_else(|| default_type.to_owned());
    let error_message = parsed.error_message.unwrap_or_default();
    let mut error = FunctionError::new(error_type, error_message);
    if serde_json::from_slice::<serde_json::Value>(body).is_ok() {
        error.payload = body.clone();
    }
    error
}

async fn error(
    State(state): State<Arc<RuntimeState>>,
    Path(request_id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let responder = state.take_responder(&request_id)?;
    let body = match read_capped(body).await {
        Ok(body) => body,
        Err(e) => {
            let (error, api) = match e {
                BodyError::TooLarge => (
                    FunctionError::new(
                        "Function.ResponseSizeTooLarge",
                        format!("the error document is larger than {MAX_RESPONSE_BYTES} bytes"),
                    ),
                    too_large(),
                ),
                BodyError::Read(message) => (
                    FunctionError::new("Runtime.InvalidResponse", message.clone()),
                    ApiError::bad_request("InvalidRequestBody", message),
                ),
            };
            let _ = responder.send(InvokeResult::Error(error));
            return Err(api);
        }
    };
    let error = function_error(&headers, &body, "Unhandled");
    let _ = responder.send(InvokeResult::Error(error));
    Ok(accepted())
}

async fn init_error(
    State(state): State<Arc<RuntimeState>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    if *state.initialized.borrow() {
        return Err(ApiError::forbidden(
            "initialization is over: the runtime already asked for an invocation".to_owned(),
        ));
    }
    let body = match read_capped(body).await {
        Ok(body) => body,
        Err(BodyError::TooLarge) => return Err(too_large()),
        Err(BodyError::Read(message)) => {
            return Err(ApiError::bad_request("InvalidRequestBody", message));
        }
    };
    let error = function_error(&headers, &body, "Runtime.InitError");
    state.init_error.send_replace(Some(error));
    Ok(accepted())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use http_body_util::BodyExt as _;
    use tower::ServiceExt as _;

    const ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:f";

    struct Pending {
        taken: oneshot::Receiver<u64>,
        result: oneshot::Receiver<InvokeResult>,
    }

    fn invocation(id: &str, payload: &'static str) -> (Invocation, Pending) {
        let (taken_tx, taken) = oneshot::channel();
        let (responder, result) = oneshot::channel();
        (
            Invocation {
                request_id: id.to_owned(),
                payload: Bytes::from_static(payload.as_bytes()),
                timeout_ms: 3000,
                trace_id: "Root=1-00000000-000000000000000000000000;Sampled=0".to_owned(),
                taken: taken_tx,
                responder,
            },
            Pending { taken, result },
        )
    }

    fn state() -> (Arc<RuntimeState>, mpsc::Sender<Invocation>) {
        let (tx, rx) = mpsc::channel(4);
        (RuntimeState::new(ARN.to_owned(), rx), tx)
    }

    async fn call(
        app: Router,
        method: &str,
        path: &str,
        body: &'static str,
    ) -> (StatusCode, HeaderMap, Bytes) {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .body(Body::from(body))
            .unwrap();
        let response = app.oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (status, headers, body)
    }

    fn path(template: &str, id: &str) -> String {
        template.replace("{request_id}", id)
    }

    #[tokio::test]
    async fn next_hands_out_the_event_with_the_documented_headers() {
        let (state, tx) = state();
        let (inv, mut pending) = invocation("req-1", r#"{"hello":"world"}"#);
        tx.send(inv).await.unwrap();
        let before = now_ms();
        let (status, headers, body) = call(routes(state.clone()), "GET", NEXT_PATH, "").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body.as_ref(), br#"{"hello":"world"}"#);
        assert_eq!(headers[HEADER_REQUEST_ID], "req-1");
        assert_eq!(headers[HEADER_FUNCTION_ARN], ARN);
        assert!(
            headers[HEADER_TRACE_ID]
                .to_str()
                .unwrap()
                .starts_with("Root=1-")
        );
        let deadline: u64 = headers[HEADER_DEADLINE_MS]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(
            deadline >= before + 3000 && deadline <= now_ms() + 3000,
            "deadline {deadline}"
        );
        assert_eq!(pending.taken.try_recv().unwrap(), deadline);
        assert!(*state.initialized().borrow());
    }

    #[tokio::test]
    async fn next_answers_500_when_the_host_is_gone() {
        let (state, tx) = state();
        drop(tx);
        let (status, _, body) = call(routes(state), "GET", NEXT_PATH, "").await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(String::from_utf8_lossy(&body).contains("shutting down"));
    }

    #[tokio::test]
    async fn response_is_accepted_once_then_forbidden() {
        let (state, tx) = state();
        let (inv, pending) = invocation("req-2", "{}");
        tx.send(inv).await.unwrap();
        call(routes(state.clone()), "GET", NEXT_PATH, "").await;
        let (status, _, _) = call(
            routes(state.clone()),
            "POST",
            &path(RESPONSE_PATH, "req-2"),
            r#"{"ok":true}"#,
        )
        .await;
        assert_eq!(status, StatusCode::ACCEPTED);
        assert_eq!(
            pending.result.await.unwrap(),
            InvokeResult::Ok(Bytes::from_static(br#"{"ok":true}"#))
        );
        let (status, _, _) = call(routes(state), "POST", &path(RESPONSE_PATH, "req-2"), "{}").await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }

    #[tokio::test]
    async fn response_for_an_unknown_request_is_a_bad_request() {
        let (state, _tx) = state();
        let (status, _, body) =
            call(routes(state), "POST", &path(RESPONSE_PATH, "nope"), "{}").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(String::from_utf8_lossy(&body).contains("InvalidRequestID"));
    }

    #[tokio::test]
    async fn an_abandoned_invocation_is_forbidden() {
        let (state, tx) = state();
        let (inv, _pending) = invocation("req-t", "{}");
        tx.send(inv).await.unwrap();
        call(routes(state.clone()), "GET", NEXT_PATH, "").await;
        state.abandon("req-t");
        let (status, _, _) = call(routes(state), "POST", &path(ERROR_PATH, "req-t"), "{}").await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }

    #[tokio::test]
    async fn an_oversized_response_is_413_and_fails_the_invocation() {
        let (state, tx) = state();
        let (inv, pending) = invocation("req-big", "{}");
        tx.send(inv).await.unwrap();
        call(routes(state.clone()), "GET", NEXT_PATH, "").await;
        let big: &'static str = Box::leak("x".repeat(MAX_RESPONSE_BYTES + 1).into_boxed_str());
        let (status, _, _) =
            call(routes(state), "POST", &path(RESPONSE_PATH, "req-big"), big).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        match pending.result.await.unwrap() {
            InvokeResult::Error(e) => assert_eq!(e.error_type, "Function.ResponseSizeTooLarge"),
            other => panic!("expected an error, got {other:?}"),
        }
    }

    /// The body is read through the cap: a runtime streaming without end gets 413 once
    /// 6 MiB have come, and the host never holds more.
    #[tokio::test]
    async fn an_endless_response_stops_at_the_cap() {
        let (state, tx) = state();
        let (inv, pending) = invocation("req-endless", "{}");
        tx.send(inv).await.unwrap();
        call(routes(state.clone()), "GET", NEXT_PATH, "").await;
        let chunk = Bytes::from(vec![b'x'; 64 * 1024]);
        let endless = futures::stream::repeat_with(move || Ok::<_, std::io::Error>(chunk.clone()));
        let request = Request::builder()
            .method("POST")
            .uri(path(RESPONSE_PATH, "req-endless"))
            .body(Body::from_stream(endless))
            .unwrap();
        let response = tokio::time::timeout(
            std::time::Duration::from_secs(20),
            routes(state).oneshot(request),
        )
        .await
        .expect("the host stops reading at the cap")
        .unwrap();
        assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
        match pending.result.await.unwrap() {
            InvokeResult::Error(e) => {
                assert_eq!(e.error_type, "Function.ResponseSizeTooLarge");
                assert!(
                    e.error_message.contains("6291456 bytes"),
                    "{}",
                    e.error_message
                );
            }
            other => panic!("expected an error, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn an_oversized_error_document_is_413_and_still_fails_the_invocation() {
        let (state, tx) = state();
        let (inv, pending) = invocation("req-bigerr", "{}");
        tx.send(inv).await.unwrap();
        call(routes(state.clone()), "GET", NEXT_PATH, "").await;
        let big: &'static str = Box::leak("x".repeat(MAX_RESPONSE_BYTES + 1).into_boxed_str());
        let (status, _, _) =
            call(routes(state), "POST", &path(ERROR_PATH, "req-bigerr"), big).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        assert!(matches!(
            pending.result.await.unwrap(),
            InvokeResult::Error(_)
        ));
    }

    #[tokio::test]
    async fn error_is_accepted_with_the_posted_type_and_message() {
        let (state, tx) = state();
        let (inv, pending) = invocation("req-3", "{}");
        tx.send(inv).await.unwrap();
        call(routes(state.clone()), "GET", NEXT_PATH, "").await;
        let body = r#"{"errorMessage":"boom","errorType":"MyError","stackTrace":[]}"#;
        let (status, _, _) = call(routes(state), "POST", &path(ERROR_PATH, "req-3"), body).await;
        assert_eq!(status, StatusCode::ACCEPTED);
        match pending.result.await.unwrap() {
            InvokeResult::Error(e) => {
                assert_eq!(e.error_type, "MyError");
                assert_eq!(e.error_message, "boom");
                assert_eq!(e.payload.as_ref(), body.as_bytes());
            }
            other => panic!("expected an error, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn error_type_falls_back_to_the_header_then_unhandled() {
        let (state, tx) = state();
        let (inv, pending) = invocation("req-4", "{}");
        tx.send(inv).await.unwrap();
        call(routes(state.clone()), "GET", NEXT_PATH, "").await;
        let request = Request::builder()
            .method("POST")
            .uri(path(ERROR_PATH, "req-4"))
            .header(HEADER_FUNCTION_ERROR_TYPE, "Runtime.Custom")
            .body(Body::from("not json"))
            .unwrap();
        let response = routes(state).oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::ACCEPTED);
        match pending.result.await.unwrap() {
            InvokeResult::Error(e) => assert_eq!(e.error_type, "Runtime.Custom"),
            other => panic!("expected an error, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn init_error_is_accepted_before_next_and_forbidden_after() {
        let (state, tx) = state();
        let body = r#"{"errorMessage":"no config","errorType":"Runtime.ConfigError"}"#;
        let (status, _, _) = call(routes(state.clone()), "POST", INIT_ERROR_PATH, body).await;
        assert_eq!(status, StatusCode::ACCEPTED);
        let posted = state.init_error().borrow().clone().unwrap();
        assert_eq!(posted.error_type, "Runtime.ConfigError");
        assert_eq!(posted.error_message, "no config");

        let (inv, _pending) = invocation("req-5", "{}");
        tx.send(inv).await.unwrap();
        call(routes(state.clone()), "GET", NEXT_PATH, "").await;
        let (status, _, _) = call(routes(state), "POST", INIT_ERROR_PATH, body).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
}
