//! What the handler tests share: a local HTTP server standing in for the API Gateway endpoint
//! (it records every request's headers and its in-flight count), the fixtures, and an
//! [`Enricher`] wired to them the way `main.rs` wires the real one (the real [`FareClient`],
//! in local mode through `AWS_ENDPOINT_URL_EXECUTE_API`).

#![allow(dead_code, unreachable_pub)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use enrichment_consumer::{
    ApiKey, Config, Endpoint, Enricher, FUNCTION_NAME, FareClient, KeyError, KeyLocation,
    KeySource, ObjectStore,
};
use futures::future::BoxFuture;
use kstream_pipeline::Telemetry;
use kstream_pipeline::emf::MemorySink;
use kstream_pipeline::kinesis::KinesisEvent;

/// The resource URL the function is configured with (never resolved: local mode).
pub const URL: &str = "https://abc123.execute-api.eu-west-1.amazonaws.com/prod/predictFare";
/// Its host.
pub const HOST: &str = "abc123.execute-api.eu-west-1.amazonaws.com";
/// The test credentials.
pub const ACCESS_KEY: &str = "AKIDEXAMPLE";
/// The test secret key.
pub const SECRET_KEY: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
/// The test session token.
pub const SESSION_TOKEN: &str = "session-token-example";

/// A fixture event.
pub fn fixture(name: &str) -> KinesisEvent {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap();
    // The fixtures are real Kinesis event shapes: aws_lambda_events' own type reads each record
    // (but one whose data is deliberately not base64: that one is why the crate reads events
    // with kstream_pipeline's type, which fails that record alone).
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    for record in value["Records"].as_array().unwrap() {
        let data = record["kinesis"]["data"].as_str().unwrap();
        if base64::Engine::decode(&base64::engine::general_purpose::STANDARD, data).is_ok() {
            let _: aws_lambda_events::kinesis::KinesisEventRecord =
                serde_json::from_value(record.clone()).unwrap();
        }
    }
    serde_json::from_str(&text).unwrap()
}

/// One request the server received.
#[derive(Debug, Clone)]
pub struct Seen {
    /// `ride_request_id`.
    pub id: i64,
    /// Which attempt for this id (1 for the first).
    pub attempt: usize,
    /// The request's headers.
    pub headers: HeaderMap,
    /// Path and query as received.
    pub path_and_query: String,
}

/// What the server answers: status, delay, body; given the id, the attempt for it and the
/// `x-api-key`.
pub type Behaviour = dyn Fn(i64, usize, &str) -> (u16, Duration, String) + Send + Sync;

/// The stand-in for API Gateway.
pub struct FareServer {
    /// Where it listens.
    pub addr: SocketAddr,
    state: Arc<ServerState>,
}

struct ServerState {
    behaviour: Box<Behaviour>,
    seen: Mutex<Vec<Seen>>,
    attempts: Mutex<HashMap<i64, usize>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

/// The fare the server gives `id`.
pub fn fare_of(id: i64) -> f64 {
    id as f64 * 1.5 + 0.018
}

/// A 200 with the fare, as the fare API writes it.
pub fn ok(id: i64) -> (u16, Duration, String) {
    (
        200,
        Duration::ZERO,
        format!(
            r#"{{"ride_request_id":{id},"expected_fare":{}}}"#,
            fare_of(id)
        ),
    )
}

#[derive(serde::Deserialize)]
struct FareQuery {
    ride_request_id: i64,
}

async fn predict(
    State(state): State<Arc<ServerState>>,
    headers: HeaderMap,
    uri: axum::http::Uri,
    Query(query): Query<FareQuery>,
) -> Response {
    let now = state.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    state.max_in_flight.fetch_max(now, Ordering::SeqCst);
    let id = query.ride_request_id;
    let attempt = {
        let mut attempts = state.attempts.lock().unwrap();
        let n = attempts.entry(id).or_default();
        *n += 1;
        *n
    };
    let key = headers
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    state.seen.lock().unwrap().push(Seen {
        id,
        attempt,
        headers,
        path_and_query: uri
            .path_and_query()
            .map(|p| p.to_string())
            .unwrap_or_default(),
    });
    let (status, delay, body) = (state.behaviour)(id, attempt, &key);
    tokio::time::sleep(delay).await;
    state.in_flight.fetch_sub(1, Ordering::SeqCst);
    (
        StatusCode::from_u16(status).unwrap(),
        [("content-type", "application/json")],
        body,
    )
        .into_response()
}

impl FareServer {
    /// Starts a server answering with `behaviour`.
    pub async fn start(
        behaviour: impl Fn(i64, usize, &str) -> (u16, Duration, String) + Send + Sync + 'static,
    ) -> Self {
        let state = Arc::new(ServerState {
            behaviour: Box::new(behaviour),
            seen: Mutex::new(Vec::new()),
            attempts: Mutex::new(HashMap::new()),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
        });
        let app = axum::Router::new()
            .route("/prod/predictFare", axum::routing::get(predict))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { addr, state }
    }

    /// A server that always answers 200 with the fare.
    pub async fn fares() -> Self {
        Self::start(|id, _, _| ok(id)).await
    }

    /// Every request received, in order.
    pub fn seen(&self) -> Vec<Seen> {
        self.state.seen.lock().unwrap().clone()
    }

    /// The ids asked about, sorted, once each.
    pub fn ids(&self) -> Vec<i64> {
        let mut ids: Vec<i64> = self.seen().iter().map(|s| s.id).collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// The most requests in flight at once.
    pub fn max_in_flight(&self) -> usize {
        self.state.max_in_flight.load(Ordering::SeqCst)
    }

    /// `AWS_ENDPOINT_URL_EXECUTE_API` for this server.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// An API key source that hands out `keys` in turn (the last one again once they run out),
/// counting the reads: the key rotation of a real parameter, in memory.
pub struct RotatingKey {
    keys: Vec<&'static str>,
    reads: AtomicUsize,
}

impl RotatingKey {
    /// Hands out `keys` in turn.
    pub fn new(keys: &[&'static str]) -> Arc<Self> {
        Arc::new(Self {
            keys: keys.to_vec(),
            reads: AtomicUsize::new(0),
        })
    }

    /// How many times the key was read.
    pub fn reads(&self) -> usize {
        self.reads.load(Ordering::SeqCst)
    }
}

impl KeySource for RotatingKey {
    fn fetch(&self) -> BoxFuture<'_, Result<String, KeyError>> {
        let n = self.reads.fetch_add(1, Ordering::SeqCst);
        let key = self.keys[n.min(self.keys.len() - 1)].to_owned();
        Box::pin(async move { Ok(key) })
    }
}

/// The test configuration: local mode towards `server`, the given changes applied.
pub fn config(server: &FareServer, change: impl FnOnce(&mut Config)) -> Config {
    let endpoint = Endpoint::new(URL, Some(&server.base_url()), None).unwrap();
    let mut config = Config::new(endpoint, KeyLocation::Ssm("/test/api-key".into()), "bucket");
    change(&mut config);
    config
}

/// The credentials the test functions sign with.
pub fn credentials(session_token: bool) -> SharedCredentialsProvider {
    SharedCredentialsProvider::new(Credentials::new(
        ACCESS_KEY,
        SECRET_KEY,
        session_token.then(|| SESSION_TOKEN.to_owned()),
        None,
        "test",
    ))
}

/// An enricher as main.rs builds it, with `key`, writing to `store`, metrics to the sink.
pub async fn enricher(
    config: Config,
    key: Arc<dyn KeySource>,
    store: impl ObjectStore + 'static,
) -> (Enricher, Arc<MemorySink>) {
    let key = Arc::new(ApiKey::load(key).await.unwrap());
    let fare = FareClient::new(config.endpoint.clone(), key, credentials(true))
        .unwrap()
        .with_rate_limit(config.max_calls_per_second);
    let sink = Arc::new(MemorySink::default());
    let telemetry = Telemetry::from_env(FUNCTION_NAME).with_sink(sink.clone());
    (Enricher::new(config, fare, store, telemetry), sink)
}
