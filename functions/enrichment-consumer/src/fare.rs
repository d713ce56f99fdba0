//! The fare API client: `GET {FARE_API_URL}?ride_request_id={id}` signed with SigV4 for
//! `execute-api` (the function's credentials, `x-api-key` among the signed headers), one
//! attempt bounded by the call timeout, retried as [`crate::retry`] allows.
//!
//! # Local mode
//! With `AWS_ENDPOINT_URL_EXECUTE_API` set (kstream local), each request goes to that base URL
//! with the original path (after the base URL's own path, if any) and the original `Host`
//! header; it is signed for the original host, so the local API executor sees exactly what API
//! Gateway would.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use aws_credential_types::Credentials;
use aws_credential_types::provider::{ProvideCredentials as _, SharedCredentialsProvider};
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use bytes::Bytes;
use http::{StatusCode, Uri};
use http_body_util::{BodyExt as _, Empty, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use kstream_pipeline::https::Roots;
use kstream_pipeline::https::{self, HttpsConnector};
use kstream_throttle::TokenBucket;

use crate::error::{CallError, ConfigError};
use crate::key::ApiKey;
use crate::retry::{RetryBudget, full_jitter};

/// The largest answer body read.
const MAX_BODY: usize = 64 * 1024;

/// Credentials are read again this long before they expire.
const CREDENTIALS_REFRESH: Duration = Duration::from_secs(300);

/// Where the calls go, and how they are signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// The original host (`{api}.execute-api.{region}.amazonaws.com`): signed and sent as `Host`.
    pub host: String,
    /// The resource path (`/prod/predictFare`).
    pub path: String,
    /// The SigV4 signing region.
    pub region: String,
    /// Where requests are sent: `https://{host}`, or the local base URL (scheme, authority and
    /// path prefix, no trailing '/').
    pub send_base: String,
}

impl Endpoint {
    /// The endpoint for `url` (`FARE_API_URL`), with `local` (`AWS_ENDPOINT_URL_EXECUTE_API`)
    /// when set; `default_region` (`AWS_REGION`) when the host does not name one.
    ///
    /// # Errors
    /// [`ConfigError::Url`] for a URL that is not `https://host/path` without a query, or a
    /// local base URL that is not `http(s)://authority[/path]`; [`ConfigError::Missing`] when no
    /// region can be found.
    pub fn new(
        url: &str,
        local: Option<&str>,
        default_region: Option<&str>,
    ) -> Result<Self, ConfigError> {
        let bad = |expected| ConfigError::Url {
            var: "FARE_API_URL",
            value: url.to_owned(),
            expected,
        };
        let uri: Uri = url
            .parse()
            .map_err(|_| bad("an https URL (https://{api}.execute-api.{region}.amazonaws.com/{stage}/predictFare)"))?;
        if uri.scheme_str() != Some("https") {
            return Err(bad("an https:// URL (the API is TLS-only)"));
        }
        if uri.query().is_some() {
            return Err(bad(
                "a URL without a query string (the consumer adds ?ride_request_id=)",
            ));
        }
        let host = uri
            .authority()
            .map(|a| a.as_str().to_owned())
            .filter(|h| !h.is_empty() && !h.contains('@'))
            .ok_or_else(|| bad("a URL with a host"))?;
        let path = uri.path();
        if path.len() <= 1 {
            return Err(bad("a URL with the resource path (/{stage}/predictFare)"));
        }
        let region = region_of(&host)
            .map(str::to_owned)
            .or_else(|| default_region.filter(|r| !r.is_empty()).map(str::to_owned))
            .ok_or(ConfigError::Missing("AWS_REGION"))?;
        let send_base = match local {
            None => format!("https://{host}"),
            Some(base) => {
                let bad = |expected| ConfigError::Url {
                    var: "AWS_ENDPOINT_URL_EXECUTE_API",
                    value: base.to_owned(),
                    expected,
                };
                let uri: Uri = base
                    .parse()
                    .map_err(|_| bad("a base URL (http://127.0.0.1:4567)"))?;
                if !matches!(uri.scheme_str(), Some("http" | "https")) || uri.authority().is_none()
                {
                    return Err(bad("an http:// or https:// base URL with a host"));
                }
                if uri.query().is_some() {
                    return Err(bad("a base URL without a query string"));
                }
                base.trim_end_matches('/').to_owned()
            }
        };
        Ok(Self {
            host,
            path: path.to_owned(),
            region,
            send_base,
        })
    }

    fn signed_uri(&self, id: i64) -> String {
        format!("https://{}{}?ride_request_id={id}", self.host, self.path)
    }

    fn send_uri(&self, id: i64) -> String {
        format!("{}{}?ride_request_id={id}", self.send_base, self.path)
    }
}

/// `{api}.execute-api.{region}.amazonaws.com[.cn]` → `region`.
fn region_of(host: &str) -> Option<&str> {
    let host = host.split(':').next()?;
    let mut labels = host.split('.');
    let (_api, service, region) = (labels.next()?, labels.next()?, labels.next()?);
    (service == "execute-api" && labels.next() == Some("amazonaws") && !region.is_empty())
        .then_some(region)
}

/// The function's credentials, read through aws-config's provider and kept until five
/// minutes before they expire.
pub struct CredentialsCache {
    provider: SharedCredentialsProvider,
    cached: tokio::sync::Mutex<Option<Credentials>>,
}

impl std::fmt::Debug for CredentialsCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialsCache").finish_non_exhaustive()
    }
}

impl CredentialsCache {
    /// Credentials from `provider` (`SdkConfig::credentials_provider()` in Lambda).
    pub fn new(provider: SharedCredentialsProvider) -> Self {
        Self {
            provider,
            cached: tokio::sync::Mutex::new(None),
        }
    }

    async fn get(&self) -> Result<Credentials, CallError> {
        let mut cached = self.cached.lock().await;
        if let Some(credentials) = cached.as_ref() {
            let fresh = credentials
                .expiry()
                .is_none_or(|expiry| expiry > SystemTime::now() + CREDENTIALS_REFRESH);
            if fresh {
                return Ok(credentials.clone());
            }
        }
        let credentials = self
            .provider
            .provide_credentials()
            .await
            .map_err(|e| CallError::Signing(e.to_string()))?;
        *cached = Some(credentials.clone());
        Ok(credentials)
    }
}

/// How the calls of one trip may be retried.
#[derive(Debug, Clone, Copy)]
pub struct CallPolicy {
    /// Per attempt.
    pub timeout: Duration,
    /// Attempts per trip, the first included.
    pub max_attempts: u32,
    /// Time kept for the S3 writes at the end of the invocation.
    pub write_margin: Duration,
}

/// What one invocation's calls share: the retry budget, the deadline, and the index of the
/// first record that failed (calls for later records stop retrying).
#[derive(Debug)]
pub struct Invocation {
    /// The retry budget.
    pub budget: RetryBudget,
    /// When the invocation times out (`None`: unknown).
    pub deadline: Option<Instant>,
    /// Index of the first failed record (`usize::MAX` while none).
    pub first_failed: AtomicUsize,
}

impl Invocation {
    /// An invocation with `budget` ending at `deadline`.
    pub fn new(budget: RetryBudget, deadline: Option<Instant>) -> Self {
        Self {
            budget,
            deadline,
            first_failed: AtomicUsize::new(usize::MAX),
        }
    }

    /// Records that the record at `index` failed.
    pub fn fail(&self, index: usize) {
        self.first_failed.fetch_min(index, Ordering::SeqCst);
    }

    fn cancelled(&self, index: usize) -> bool {
        self.first_failed.load(Ordering::SeqCst) < index
    }
}

/// What the calls of one trip did.
#[derive(Debug, Clone)]
pub struct CallOutcome {
    /// The fare, or why there is none.
    pub result: Result<f64, CallError>,
    /// Latency of each attempt, in milliseconds.
    pub latencies_ms: Vec<f64>,
    /// Retries made (after 429, 5xx, timeouts, connection errors).
    pub retries: u32,
    /// 429 answers seen.
    pub throttles: u32,
}

enum Attempt {
    Fare(f64),
    Status(StatusCode, String),
    Transient(String),
    Fatal(CallError),
}

type HttpClient = Client<HttpsConnector, Empty<Bytes>>;

/// The HTTP client of the calls: hyper-util's pooled client over rustls on ring (the crypto
/// provider of the functions' SDK client) with the system's root certificates (the ones the
/// SDK's client trusts, read once: [`Roots`]), `http://` for a local base URL. Built on its
/// own so that `main.rs` can build it while the API key is being read.
#[derive(Clone)]
pub struct FareHttp(HttpClient);

impl std::fmt::Debug for FareHttp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FareHttp").finish_non_exhaustive()
    }
}

impl FareHttp {
    /// The client, on `connector` (the function's one TLS connector:
    /// [`kstream_pipeline::https::connector`], trusting the root certificates the SDK's client
    /// trusts, read once).
    pub fn new(connector: HttpsConnector) -> Self {
        Self(
            Client::builder(TokioExecutor::new())
                .pool_idle_timeout(Duration::from_secs(60))
                .build(connector),
        )
    }
}

/// The fare API client, built once per cold start.
pub struct FareClient {
    endpoint: Endpoint,
    key: Arc<ApiKey>,
    credentials: CredentialsCache,
    http: HttpClient,
    /// `MAX_CALLS_PER_SECOND`: a token bucket (a second's worth of burst) every attempt takes
    /// a token from, across the invocations of this process.
    pacer: Option<Mutex<TokenBucket>>,
}

impl std::fmt::Debug for FareClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FareClient")
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

impl FareClient {
    /// A client for `endpoint` sending `key`, signing with `credentials`, trusting the
    /// system's root certificates.
    ///
    /// # Errors
    /// When the system's root certificates cannot be read.
    pub fn new(
        endpoint: Endpoint,
        key: Arc<ApiKey>,
        credentials: SharedCredentialsProvider,
    ) -> std::io::Result<Self> {
        let connector = https::connector(&Roots::load()?, None).map_err(std::io::Error::other)?;
        Ok(Self::with_http(
            endpoint,
            key,
            credentials,
            FareHttp::new(connector),
        ))
    }

    /// [`FareClient::new`] with an HTTP client built beforehand.
    pub fn with_http(
        endpoint: Endpoint,
        key: Arc<ApiKey>,
        credentials: SharedCredentialsProvider,
        http: FareHttp,
    ) -> Self {
        Self {
            endpoint,
            key,
            credentials: CredentialsCache::new(credentials),
            http: http.0,
            pacer: None,
        }
    }

    /// Starts at most `calls_per_second` attempts a second (0: no limit), so that the
    /// consumers of all shards together stay under the API's usage plan instead of being
    /// throttled by it.
    #[must_use]
    pub fn with_rate_limit(mut self, calls_per_second: u32) -> Self {
        self.pacer = (calls_per_second > 0).then(|| {
            let rate = f64::from(calls_per_second);
            Mutex::new(TokenBucket::new(rate, rate, Instant::now()))
        });
        self
    }

    /// Waits for this attempt's turn under the rate limit; false (and no turn taken) when the
    /// wait would leave no time for the attempt and the S3 writes before the deadline.
    async fn pace(&self, invocation: &Invocation, policy: &CallPolicy) -> bool {
        let Some(pacer) = &self.pacer else {
            return true;
        };
        let wait = {
            let mut bucket = pacer.lock().expect("pacer lock");
            let now = Instant::now();
            let wait = bucket.wait_for(1.0, now);
            if let Some(deadline) = invocation.deadline
                && now + wait + policy.timeout + policy.write_margin > deadline
            {
                return false;
            }
            // A reservation: later callers wait behind this one.
            bucket.take(1.0, now);
            wait
        };
        tokio::time::sleep(wait).await;
        true
    }

    /// The endpoint.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// The fare of `id`, retried as `policy` and `invocation` allow; `index` is the record's
    /// place in the batch.
    pub async fn fare(
        &self,
        id: i64,
        index: usize,
        policy: CallPolicy,
        invocation: &Invocation,
    ) -> CallOutcome {
        let mut outcome = CallOutcome {
            result: Err(CallError::Cancelled),
            latencies_ms: Vec::new(),
            retries: 0,
            throttles: 0,
        };
        let mut attempts = 0u32;
        let mut key_refreshed = false;
        loop {
            if invocation.cancelled(index) {
                outcome.result = Err(CallError::Cancelled);
                return outcome;
            }
            attempts += 1;
            if attempts == 1 && !key_refreshed {
                invocation.budget.deposit();
            }
            if !self.pace(invocation, &policy).await {
                outcome.result = Err(CallError::Exhausted {
                    attempts: attempts - 1,
                    why: "the invocation's remaining time (waiting for MAX_CALLS_PER_SECOND)",
                    last: "none".to_owned(),
                });
                return outcome;
            }
            let (generation, key) = self.key.get();
            let started = Instant::now();
            let attempt = self.attempt(id, &key, policy.timeout).await;
            outcome
                .latencies_ms
                .push(started.elapsed().as_secs_f64() * 1000.0);
            let last = match attempt {
                Attempt::Fare(fare) => {
                    outcome.result = Ok(fare);
                    return outcome;
                }
                Attempt::Fatal(error) => {
                    outcome.result = Err(error);
                    return outcome;
                }
                Attempt::Status(StatusCode::FORBIDDEN, _) if !key_refreshed => {
                    // The key may have been rotated: read it again, once, and try again (this
                    // attempt is not a retry: neither the budget nor the backoff applies).
                    key_refreshed = true;
                    attempts -= 1;
                    if let Err(error) = self.key.refresh(generation).await {
                        outcome.result = Err(CallError::Status {
                            status: 403,
                            body: error.to_string(),
                        });
                        return outcome;
                    }
                    continue;
                }
                Attempt::Status(status, body)
                    if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() =>
                {
                    if status == StatusCode::TOO_MANY_REQUESTS {
                        outcome.throttles += 1;
                    }
                    format!("{} {body}", status.as_u16())
                }
                Attempt::Status(status, body) => {
                    outcome.result = Err(CallError::Status {
                        status: status.as_u16(),
                        body,
                    });
                    return outcome;
                }
                Attempt::Transient(reason) => reason,
            };
            let give_up = |why| CallError::Exhausted {
                attempts: attempts + u32::from(key_refreshed),
                why,
                last: last.clone(),
            };
            if attempts >= policy.max_attempts {
                outcome.result = Err(give_up("MAX_ATTEMPTS reached"));
                return outcome;
            }
            let backoff = full_jitter(outcome.retries);
            if let Some(deadline) = invocation.deadline
                && Instant::now() + backoff + policy.timeout + policy.write_margin > deadline
            {
                outcome.result = Err(give_up("the invocation's remaining time"));
                return outcome;
            }
            if !invocation.budget.withdraw() {
                outcome.result = Err(give_up("the invocation's retry budget is spent"));
                return outcome;
            }
            outcome.retries += 1;
            tracing::debug!(id, attempt = attempts, backoff_ms = backoff.as_millis() as u64, last = %last, "retrying the fare call");
            tokio::time::sleep(backoff).await;
        }
    }

    async fn attempt(&self, id: i64, key: &str, timeout: Duration) -> Attempt {
        let request = match self.signed_request(id, key).await {
            Ok(request) => request,
            Err(error) => return Attempt::Fatal(error),
        };
        let exchange = async {
            let response = self
                .http
                .request(request)
                .await
                .map_err(|e| format!("connection error: {e}"))?;
            let (parts, body) = response.into_parts();
            let body = Limited::new(body, MAX_BODY)
                .collect()
                .await
                .map_err(|e| format!("error reading the answer: {e}"))?
                .to_bytes();
            Ok::<_, String>((parts.status, body))
        };
        match tokio::time::timeout(timeout, exchange).await {
            Err(_) => Attempt::Transient(format!("timed out after {} ms", timeout.as_millis())),
            Ok(Err(reason)) => Attempt::Transient(reason),
            Ok(Ok((status, body))) if status == StatusCode::OK => match parse_fare(&body) {
                Ok(fare) => Attempt::Fare(fare),
                Err(error) => Attempt::Fatal(error),
            },
            Ok(Ok((status, body))) => Attempt::Status(status, excerpt(&body)),
        }
    }

    async fn signed_request(
        &self,
        id: i64,
        key: &str,
    ) -> Result<http::Request<Empty<Bytes>>, CallError> {
        let credentials = self.credentials.get().await?;
        let identity = credentials.into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.endpoint.region)
            .name("execute-api")
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| CallError::Signing(e.to_string()))?
            .into();
        let signed_uri = self.endpoint.signed_uri(id);
        let headers = [("host", self.endpoint.host.as_str()), ("x-api-key", key)];
        let signable = SignableRequest::new(
            "GET",
            signed_uri.as_str(),
            headers.into_iter(),
            SignableBody::Bytes(&[]),
        )
        .map_err(|e| CallError::Signing(e.to_string()))?;
        let (instructions, _signature) = sign(signable, &params)
            .map_err(|e| CallError::Signing(e.to_string()))?
            .into_parts();
        let mut request = http::Request::builder()
            .method("GET")
            .uri(self.endpoint.send_uri(id))
            .header(http::header::HOST, &self.endpoint.host)
            .header("x-api-key", key)
            .header(http::header::ACCEPT, "application/json")
            .body(Empty::new())
            .map_err(|e| CallError::Signing(e.to_string()))?;
        instructions.apply_to_request_http1x(&mut request);
        Ok(request)
    }
}

fn excerpt(body: &[u8]) -> String {
    String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned()
}

/// `{"ride_request_id":..,"expected_fare":<finite number>}` → the fare.
fn parse_fare(body: &[u8]) -> Result<f64, CallError> {
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| CallError::BadBody(e.to_string()))?;
    value
        .get("expected_fare")
        .and_then(serde_json::Value::as_f64)
        .filter(|f| f.is_finite())
        .ok_or_else(|| CallError::BadBody(format!("no finite expected_fare in {}", excerpt(body))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_from_the_url_and_the_local_base() {
        let url = "https://abc123.execute-api.eu-west-1.amazonaws.com/prod/predictFare";
        let aws = Endpoint::new(url, None, Some("us-east-1")).unwrap();
        assert_eq!(aws.host, "abc123.execute-api.eu-west-1.amazonaws.com");
        assert_eq!(aws.region, "eu-west-1");
        assert_eq!(aws.send_uri(5), format!("{url}?ride_request_id=5"));
        let local = Endpoint::new(url, Some("http://127.0.0.1:4567/"), None).unwrap();
        assert_eq!(
            local.send_uri(5),
            "http://127.0.0.1:4567/prod/predictFare?ride_request_id=5"
        );
        assert_eq!(local.signed_uri(5), format!("{url}?ride_request_id=5"));
        let custom = Endpoint::new(
            "https://fares.example.com/v1/predictFare",
            None,
            Some("us-east-2"),
        );
        assert_eq!(custom.unwrap().region, "us-east-2");
        for bad in [
            "http://abc.execute-api.eu-west-1.amazonaws.com/prod/predictFare",
            "https://abc.execute-api.eu-west-1.amazonaws.com/prod/predictFare?x=1",
            "https://abc.execute-api.eu-west-1.amazonaws.com/",
            "not a url",
        ] {
            assert!(
                Endpoint::new(bad, None, Some("us-east-1")).is_err(),
                "{bad}"
            );
        }
        assert!(Endpoint::new(url, Some("ftp://x"), None).is_err());
        assert!(Endpoint::new("https://fares.example.com/p", None, None).is_err());
    }

    #[test]
    fn fares_are_read_from_the_answer() {
        assert_eq!(
            parse_fare(br#"{"ride_request_id":123,"expected_fare":38.518104367585856}"#),
            Ok(38.518104367585856)
        );
        // The nearest f64, as JSON.parse reads it (serde_json's float_roundtrip feature): the
        // default fast path reads this one as 105.40016403198244, a fare the API never answered.
        assert_eq!(
            parse_fare(br#"{"expected_fare":105.40016403198243}"#).map(f64::to_bits),
            Ok(105.400_164_031_982_43_f64.to_bits())
        );
        assert!(parse_fare(br#"{"ride_request_id":123}"#).is_err());
        assert!(parse_fare(b"<html>").is_err());
    }
}
