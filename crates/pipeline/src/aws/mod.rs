//! The functions' AWS calls without the AWS SDK (feature `aws`): requests signed with SigV4 by
//! aws-sigv4 (the SDK's own signer) and sent over the function's HTTPS connector
//! ([`crate::https::connector`]), for the few operations a function makes per batch or per cold
//! start: S3 PutObject ([`AwsClient::put_object`], `s3.rs`) and the JSON-protocol reads of an
//! API key ([`AwsClient::get_parameter`], [`AwsClient::get_secret_string`], `json.rs`), and any
//! JSON-protocol ([`AwsClient::call_json`]) or REST-JSON ([`AwsClient::call_rest`], `rest.rs`)
//! operation.
//!
//! Why not the SDK: for one operation, an SDK client links the generated service crate, the
//! SDK's runtime (orchestrator, endpoint rules engine, interceptors, identity cache) and
//! aws-config's credential chain (profiles, SSO, STS, IMDS); that was most of an S3-writing
//! function's Lambda zip (bench/cold-start measures them).
//!
//! What is kept of the SDK's behaviour, from the environment Lambda gives every function:
//! - credentials: `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN` (Lambda sets
//!   them from the execution role for the life of the execution environment; no profile, SSO
//!   or instance-metadata chain);
//! - region: `AWS_REGION`, else `AWS_DEFAULT_REGION`;
//! - endpoints: `AWS_ENDPOINT_URL_<SERVICE>`, `AWS_ENDPOINT_URL`, FIPS and dual-stack flags
//!   (`endpoint.rs`);
//! - retries: the standard retry mode (`retry.rs`);
//! - timeouts: 3.1 s to connect (the SDK's default), and each attempt, answer read included,
//!   bounded by [`ATTEMPT_TIMEOUT`] (the SDK sets none: a stalled connection would hold the
//!   invocation until Lambda's timeout).
//!
//! Not kept: clock-skew correction (Lambda's clock is synchronised), the retry quota (see
//! `retry.rs`), HTTP/2 (no operation here needs it).

mod endpoint;
mod json;
mod rest;
mod retry;
mod s3;

use std::fmt;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

pub use endpoint::{Endpoint, Endpoints, KINESIS, LAMBDA, S3, SECRETS_MANAGER, SQS, SSM, Service};
pub use json::JsonProtocol;
pub use rest::{RestAnswer, encode_segment};
pub use retry::MAX_ATTEMPTS;

use crate::config::Env;
pub use crate::error::AwsError;
use crate::https::HttpsConnector;
use crate::roots::Roots;

/// Time to open a connection (TCP and TLS), the SDK's default.
pub const CONNECT_TIMEOUT: Duration = Duration::from_millis(3_100);

/// Time for one attempt, from sending the request to the end of the answer. Generous for the
/// objects the functions write (kilobytes to a few megabytes, within the region).
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(15);

/// The most of an answer read: a Kinesis GetRecords page (up to 10 MiB of data, base64 in
/// JSON); error documents, parameters and secrets are far smaller, S3 PutObject answers with no
/// body.
const MAX_ANSWER_BYTES: usize = 16 << 20;

/// A signing client for AWS, configured from the environment; cheap to clone (shared state).
#[derive(Clone)]
pub struct AwsClient {
    inner: Arc<Inner>,
    max_attempts: u32,
    attempt_timeout: Duration,
}

struct Inner {
    credentials: Credentials,
    endpoints: Endpoints,
    roots: OnceLock<Roots>,
    http: OnceLock<Result<Client<HttpsConnector, Full<Bytes>>, String>>,
}

impl fmt::Debug for AwsClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AwsClient")
            .field("region", &self.inner.endpoints.region())
            .finish_non_exhaustive()
    }
}

/// One request as the operation builds it, before signing.
struct Request {
    /// The operation, for errors and logs (`S3 PutObject`).
    operation: &'static str,
    service: Service,
    method: http::Method,
    url: String,
    /// Headers to sign and send (the signer adds `host`, `x-amz-date` and the token).
    headers: Vec<(&'static str, String)>,
    body: Bytes,
    settings: SigningSettings,
}

/// An answer, read whole.
struct Answer {
    status: u16,
    headers: http::HeaderMap,
    body: Bytes,
}

/// The error code and message of an error answer, as the service's protocol states them.
type ErrorOf = fn(&Answer) -> (String, String);

/// Why an attempt failed.
enum Failure {
    /// No answer (connection, timeout): worth another attempt.
    Transport(String),
    /// Another attempt cannot help.
    Final(AwsError),
}

impl AwsClient {
    /// A client configured from the process environment; it reads the system's root
    /// certificates at its first request.
    ///
    /// # Errors
    /// [`AwsError::Config`] naming the variable that is missing or unusable.
    pub fn from_env() -> Result<Self, AwsError> {
        Self::build(&Env::process(), None)
    }

    /// [`from_env`](Self::from_env), trusting `roots` (read already for another client).
    ///
    /// # Errors
    /// As [`from_env`](Self::from_env).
    pub fn from_env_with_roots(roots: &Roots) -> Result<Self, AwsError> {
        Self::build(&Env::process(), Some(roots.clone()))
    }

    /// A client configured from `env`, trusting `roots` when given (else the system's, read at
    /// the first request).
    ///
    /// # Errors
    /// As [`from_env`](Self::from_env).
    pub fn build(env: &Env<'_>, roots: Option<Roots>) -> Result<Self, AwsError> {
        let required = |var: &str| {
            env.get(var).ok_or_else(|| {
                AwsError::Config(format!(
                    "{var} is not set (Lambda sets AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and \
                     AWS_SESSION_TOKEN from the function's role)"
                ))
            })
        };
        let credentials = Credentials::new(
            required("AWS_ACCESS_KEY_ID")?,
            required("AWS_SECRET_ACCESS_KEY")?,
            env.get("AWS_SESSION_TOKEN"),
            None,
            "environment",
        );
        let region = env
            .get("AWS_REGION")
            .or_else(|| env.get("AWS_DEFAULT_REGION"))
            .ok_or_else(|| {
                AwsError::Config("neither AWS_REGION nor AWS_DEFAULT_REGION is set".into())
            })?;
        let endpoints = Endpoints::from_env(env, &region)?;
        let inner = Inner {
            credentials,
            endpoints,
            roots: OnceLock::new(),
            http: OnceLock::new(),
        };
        if let Some(roots) = roots {
            let _ = inner.roots.set(roots);
        }
        Ok(Self {
            inner: Arc::new(inner),
            max_attempts: MAX_ATTEMPTS,
            attempt_timeout: ATTEMPT_TIMEOUT,
        })
    }

    /// The client with at most `attempts` attempts per call (at least 1; [`MAX_ATTEMPTS`] by
    /// default), for a caller with retries of its own (1: none here).
    #[must_use]
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// The client with `timeout` for each attempt instead of [`ATTEMPT_TIMEOUT`], for calls
    /// that take long by design (a synchronous Lambda Invoke lasts as long as the function).
    #[must_use]
    pub fn with_attempt_timeout(mut self, timeout: Duration) -> Self {
        self.attempt_timeout = timeout;
        self
    }

    /// The region the client calls.
    pub fn region(&self) -> &str {
        self.inner.endpoints.region()
    }

    /// The function's credentials (for signing its other requests, e.g. to API Gateway).
    pub fn credentials(&self) -> &Credentials {
        &self.inner.credentials
    }

    /// `service`'s endpoint.
    pub fn endpoint(&self, service: Service) -> Endpoint {
        self.inner.endpoints.of(service)
    }

    /// The pooled HTTPS client, built at the first request.
    fn http(&self) -> Result<&Client<HttpsConnector, Full<Bytes>>, AwsError> {
        self.inner
            .http
            .get_or_init(|| {
                let roots = match self.inner.roots.get() {
                    Some(roots) => roots.clone(),
                    None => Roots::load().map_err(|e| e.to_string())?,
                };
                let connector = crate::https::connector(&roots, Some(CONNECT_TIMEOUT))
                    .map_err(|e| e.to_string())?;
                Ok(Client::builder(TokioExecutor::new()).build(connector))
            })
            .as_ref()
            .map_err(|reason| AwsError::Config(format!("no HTTPS client: {reason}")))
    }

    /// Sends `request` until it succeeds, fails for good or has had its attempts.
    async fn send(&self, request: &Request, error_of: ErrorOf) -> Result<Answer, AwsError> {
        let operation = request.operation;
        let mut attempt = 1;
        loop {
            let (retry, error) = match self.attempt(request).await {
                Ok(answer) if (200..300).contains(&answer.status) => return Ok(answer),
                Ok(answer) => {
                    let (code, message) = error_of(&answer);
                    let retry = retry::retryable(answer.status, &code);
                    let error = AwsError::Service {
                        operation,
                        status: answer.status,
                        request_id: request_id(&answer.headers),
                        code,
                        message,
                        attempts: attempt,
                    };
                    (retry, error)
                }
                Err(Failure::Transport(reason)) => (
                    true,
                    AwsError::Transport {
                        operation,
                        reason,
                        attempts: attempt,
                    },
                ),
                Err(Failure::Final(error)) => return Err(error),
            };
            if !retry || attempt >= self.max_attempts {
                return Err(error);
            }
            let wait = retry::backoff(attempt);
            tracing::warn!(
                operation,
                attempt,
                error = %error,
                wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                "AWS call failed; trying again"
            );
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    /// One attempt: signed now, answered and read within the attempt timeout
    /// ([`ATTEMPT_TIMEOUT`] unless set).
    async fn attempt(&self, request: &Request) -> Result<Answer, Failure> {
        let http = self.http().map_err(Failure::Final)?;
        let signed = self.sign(request).map_err(Failure::Final)?;
        let exchange = async {
            let response = http
                .request(signed)
                .await
                .map_err(|e| Failure::Transport(chain(&e)))?;
            let (parts, body) = response.into_parts();
            let body = Limited::new(body, MAX_ANSWER_BYTES)
                .collect()
                .await
                .map_err(|e| {
                    if e.is::<http_body_util::LengthLimitError>() {
                        Failure::Final(AwsError::Transport {
                            operation: request.operation,
                            reason: format!("the answer is over {MAX_ANSWER_BYTES} bytes"),
                            attempts: 1,
                        })
                    } else {
                        Failure::Transport(format!("reading the answer: {}", chain(&*e)))
                    }
                })?
                .to_bytes();
            Ok(Answer {
                status: parts.status.as_u16(),
                headers: parts.headers,
                body,
            })
        };
        let timeout = self.attempt_timeout;
        tokio::time::timeout(timeout, exchange)
            .await
            .unwrap_or_else(|_| Err(Failure::Transport(format!("no answer within {timeout:?}"))))
    }

    /// `request` signed with the function's credentials, at the current time.
    fn sign(&self, request: &Request) -> Result<http::Request<Full<Bytes>>, AwsError> {
        let failed = |reason: String| AwsError::Signing {
            operation: request.operation,
            reason,
        };
        let identity = self.inner.credentials.clone().into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(self.region())
            .name(request.service.name)
            .time(SystemTime::now())
            .settings(request.settings.clone())
            .build()
            .map_err(|e| failed(e.to_string()))?
            .into();
        let signable = SignableRequest::new(
            request.method.as_str(),
            &request.url,
            request.headers.iter().map(|(k, v)| (*k, v.as_str())),
            SignableBody::Bytes(&request.body),
        )
        .map_err(|e| failed(e.to_string()))?;
        let (instructions, _signature) = sign(signable, &params)
            .map_err(|e| failed(e.to_string()))?
            .into_parts();
        let mut builder = http::Request::builder()
            .method(request.method.clone())
            .uri(&request.url);
        for (name, value) in &request.headers {
            builder = builder.header(*name, value);
        }
        let mut signed = builder
            .body(Full::new(request.body.clone()))
            .map_err(|e| failed(e.to_string()))?;
        instructions.apply_to_request_http1x(&mut signed);
        Ok(signed)
    }
}

/// The request id of an answer (S3's `x-amz-request-id`, the JSON services'
/// `x-amzn-RequestId`), `-` when there is none.
fn request_id(headers: &http::HeaderMap) -> String {
    ["x-amz-request-id", "x-amzn-requestid"]
        .iter()
        .find_map(|name| headers.get(*name)?.to_str().ok())
        .unwrap_or("-")
        .to_owned()
}

/// An error and its sources, `: `-separated (hyper's errors say what failed in their source).
fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        text.push_str(": ");
        text.push_str(&e.to_string());
        source = e.source();
    }
    text
}

#[cfg(test)]
mod tests;
