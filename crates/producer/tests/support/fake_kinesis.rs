//! A local Kinesis endpoint speaking the JSON 1.1 protocol for `DescribeStreamSummary`,
//! `ListShards` and `PutRecords`, with the shard write limits enforced as Kinesis does
//! (per-shard token buckets of 1000 records/s and 1 MiB/s; entries beyond them fail with
//! `ProvisionedThroughputExceededException`) and fault injection (5xx, delays, throttled
//! entries). It records every request it answers, so tests can check what was resent.
//!
//! Shared by the producer's tests and its benchmark (`examples/bench_producer.rs`).

#![allow(dead_code, unreachable_pub, missing_docs)]

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use kstream_kpl::{ShardMap, ShardRange};
use serde_json::{Value, json};

/// One entry of a PutRecords request, as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub partition_key: String,
    pub explicit_hash_key: Option<String>,
    pub data: Vec<u8>,
}

/// A record stored on a shard.
#[derive(Debug, Clone)]
pub struct Stored {
    pub shard_id: String,
    pub sequence_number: u64,
    pub entry: Entry,
}

/// What to do with one PutRecords request.
#[derive(Debug, Clone, Default)]
pub enum Fault {
    /// Answer normally.
    #[default]
    None,
    /// Answer with this HTTP status and an `InternalFailure` body; store nothing.
    Status(u16),
    /// Wait this long before answering normally (the client may time out; the records are still
    /// stored, as a real timed-out request may have succeeded).
    Delay(Duration),
    /// Fail these entry indexes with `ProvisionedThroughputExceededException`.
    Throttle(HashSet<usize>),
}

type FaultFn = dyn Fn(usize, &[Entry]) -> Fault + Send + Sync;

struct Shard {
    id: String,
    start: u128,
    end: u128,
    open: bool,
    next_seq: u64,
    records_tokens: f64,
    bytes_tokens: f64,
    last: Instant,
}

impl Shard {
    fn refill(&mut self, limits: &Limits, now: Instant) {
        let dt = now.duration_since(self.last).as_secs_f64();
        self.records_tokens = (self.records_tokens + dt * limits.records).min(limits.records);
        self.bytes_tokens = (self.bytes_tokens + dt * limits.bytes).min(limits.bytes);
        self.last = now;
    }
}

#[derive(Clone, Copy)]
struct Limits {
    records: f64,
    bytes: f64,
}

struct State {
    stream: String,
    shards: Vec<Shard>,
    shard_counter: usize,
    limits: Option<Limits>,
    max_record_size_kib: Option<u32>,
    auto_distribution: bool,
    requests: Vec<Vec<Entry>>,
    stored: Vec<Stored>,
    throttled: u64,
    list_shards_calls: usize,
    fault: Option<Arc<FaultFn>>,
    /// Route puts to the first listed shard owning the hash, closed or not (as moto 5.2.5 does
    /// after a split), instead of to the open shard.
    route_to_closed: bool,
}

/// The fake endpoint. Clone freely; all clones share state.
#[derive(Clone)]
pub struct FakeKinesis {
    state: Arc<Mutex<State>>,
    pub addr: SocketAddr,
}

/// Builder of [`FakeKinesis`].
pub struct FakeKinesisBuilder {
    stream: String,
    shards: usize,
    limits: bool,
    max_record_size_kib: Option<u32>,
    auto_distribution: bool,
    fault: Option<Arc<FaultFn>>,
    port: u16,
}

impl FakeKinesis {
    pub fn builder(stream: &str) -> FakeKinesisBuilder {
        FakeKinesisBuilder {
            stream: stream.to_owned(),
            shards: 1,
            limits: false,
            max_record_size_kib: None,
            auto_distribution: false,
            fault: None,
            port: 0,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A Kinesis client for this endpoint with test credentials.
    pub fn client(&self) -> aws_sdk_kinesis::Client {
        let config = aws_sdk_kinesis::Config::builder()
            .behavior_version(aws_sdk_kinesis::config::BehaviorVersion::latest())
            .region(aws_sdk_kinesis::config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_kinesis::config::Credentials::new(
                "test", "test", None, None, "fake",
            ))
            .endpoint_url(self.url())
            .build();
        aws_sdk_kinesis::Client::from_conf(config)
    }

    /// Every PutRecords request answered (faulty ones included), in arrival order.
    pub fn requests(&self) -> Vec<Vec<Entry>> {
        self.state.lock().unwrap().requests.clone()
    }

    /// Every record stored, in storage order.
    pub fn stored(&self) -> Vec<Stored> {
        self.state.lock().unwrap().stored.clone()
    }

    /// Entries refused by the shard limits so far.
    pub fn throttled(&self) -> u64 {
        self.state.lock().unwrap().throttled
    }

    /// Route puts like moto: to the first listed shard owning the hash, even a closed one.
    pub fn set_route_to_closed(&self, on: bool) {
        self.state.lock().unwrap().route_to_closed = on;
    }

    pub fn list_shards_calls(&self) -> usize {
        self.state.lock().unwrap().list_shards_calls
    }

    /// Replaces the fault hook.
    pub fn set_fault(&self, fault: impl Fn(usize, &[Entry]) -> Fault + Send + Sync + 'static) {
        self.state.lock().unwrap().fault = Some(Arc::new(fault));
    }

    /// Closes every open shard and opens `n` new ones splitting the hash key space evenly
    /// (a resharding, as seen by PutRecords and ListShards).
    pub fn reshard(&self, n: usize) {
        let mut state = self.state.lock().unwrap();
        for shard in &mut state.shards {
            shard.open = false;
        }
        let limits = state.limits;
        let first = state.shard_counter;
        state.shard_counter += n;
        let new = even_shards(first, n, limits);
        state.shards.extend(new);
    }

    /// The shard map of the open shards.
    pub fn shard_map(&self) -> ShardMap {
        let state = self.state.lock().unwrap();
        open_map(&state)
    }
}

impl FakeKinesisBuilder {
    pub fn shards(mut self, n: usize) -> Self {
        self.shards = n;
        self
    }
    /// Enforce Kinesis' shard write limits (1000 records/s, 1 MiB/s, one second of burst).
    pub fn enforce_limits(mut self, on: bool) -> Self {
        self.limits = on;
        self
    }
    pub fn max_record_size_kib(mut self, kib: u32) -> Self {
        self.max_record_size_kib = Some(kib);
        self
    }
    pub fn auto_distribution(mut self, on: bool) -> Self {
        self.auto_distribution = on;
        self
    }
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }
    pub fn fault(
        mut self,
        fault: impl Fn(usize, &[Entry]) -> Fault + Send + Sync + 'static,
    ) -> Self {
        self.fault = Some(Arc::new(fault));
        self
    }

    /// Binds 127.0.0.1 and serves in a background task.
    pub async fn start(self) -> FakeKinesis {
        let limits = self.limits.then_some(Limits {
            records: 1000.0,
            bytes: 1024.0 * 1024.0,
        });
        let state = Arc::new(Mutex::new(State {
            stream: self.stream,
            shards: even_shards(0, self.shards, limits),
            shard_counter: self.shards,
            limits,
            max_record_size_kib: self.max_record_size_kib,
            auto_distribution: self.auto_distribution,
            requests: Vec::new(),
            stored: Vec::new(),
            throttled: 0,
            list_shards_calls: 0,
            fault: self.fault,
            route_to_closed: false,
        }));
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", self.port))
            .await
            .expect("bind 127.0.0.1");
        let addr = listener.local_addr().expect("local addr");
        // Kinesis takes requests up to 10 MiB (axum's default limit is 2 MB).
        let app = Router::new()
            .route("/", post(handle))
            .layer(axum::extract::DefaultBodyLimit::max(16 * 1024 * 1024))
            .with_state(state.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeKinesis { state, addr }
    }
}

fn even_shards(first: usize, n: usize, limits: Option<Limits>) -> Vec<Shard> {
    let step = u128::MAX / n as u128;
    (0..n)
        .map(|i| {
            let start = step * i as u128;
            let end = if i + 1 == n {
                u128::MAX
            } else {
                step * (i as u128 + 1) - 1
            };
            Shard {
                id: format!("shardId-{:012}", first + i),
                start,
                end,
                open: true,
                next_seq: 1,
                records_tokens: limits.map_or(0.0, |l| l.records),
                bytes_tokens: limits.map_or(0.0, |l| l.bytes),
                last: Instant::now(),
            }
        })
        .collect()
}

fn open_map(state: &State) -> ShardMap {
    ShardMap::new(
        state
            .shards
            .iter()
            .filter(|s| s.open)
            .map(|s| ShardRange {
                shard_id: s.id.clone().into(),
                starting_hash_key: s.start,
                ending_hash_key: s.end,
            })
            .collect(),
    )
    .expect("valid ranges")
}

fn error(status: StatusCode, kind: &str, message: &str) -> Response {
    (
        status,
        [("content-type", "application/x-amz-json-1.1")],
        json!({"__type": kind, "message": message}).to_string(),
    )
        .into_response()
}

fn ok(body: Value) -> Response {
    (
        StatusCode::OK,
        [("content-type", "application/x-amz-json-1.1")],
        body.to_string(),
    )
        .into_response()
}

async fn handle(
    axum::extract::State(state): axum::extract::State<Arc<Mutex<State>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "SerializationException",
            "bad JSON",
        );
    };
    match target.as_str() {
        "Kinesis_20131202.DescribeStreamSummary" => describe(&state, &request),
        "Kinesis_20131202.ListShards" => list_shards(&state),
        "Kinesis_20131202.PutRecords" => put_records(&state, &request).await,
        other => error(
            StatusCode::BAD_REQUEST,
            "UnknownOperationException",
            &format!("not supported by the fake: {other}"),
        ),
    }
}

fn describe(state: &Mutex<State>, request: &Value) -> Response {
    let state = state.lock().unwrap();
    if request["StreamName"].as_str() != Some(state.stream.as_str()) {
        return error(
            StatusCode::BAD_REQUEST,
            "ResourceNotFoundException",
            "Stream not found",
        );
    }
    let mut summary = json!({
        "StreamName": state.stream,
        "StreamARN": format!("arn:aws:kinesis:us-east-1:123456789012:stream/{}", state.stream),
        "StreamStatus": "ACTIVE",
        "RetentionPeriodHours": 24,
        "StreamCreationTimestamp": 1_700_000_000.0,
        "EnhancedMonitoring": [{"ShardLevelMetrics": []}],
        "EncryptionType": "NONE",
        "OpenShardCount": state.shards.iter().filter(|s| s.open).count(),
    });
    if let Some(kib) = state.max_record_size_kib {
        summary["MaxRecordSizeInKiB"] = json!(kib);
    }
    if state.auto_distribution {
        summary["StreamModeDetails"] = json!({"StreamMode": "ON_DEMAND"});
        summary["RecordDistributionStrategy"] = json!("AUTO");
    }
    ok(json!({ "StreamDescriptionSummary": summary }))
}

fn list_shards(state: &Mutex<State>) -> Response {
    let mut state = state.lock().unwrap();
    state.list_shards_calls += 1;
    let shards: Vec<Value> = state
        .shards
        .iter()
        .map(|s| {
            let mut range = json!({"StartingSequenceNumber": "1"});
            if !s.open {
                range["EndingSequenceNumber"] = json!(s.next_seq.to_string());
            }
            json!({
                "ShardId": s.id,
                "HashKeyRange": {"StartingHashKey": s.start.to_string(), "EndingHashKey": s.end.to_string()},
                "SequenceNumberRange": range,
            })
        })
        .collect();
    ok(json!({ "Shards": shards }))
}

async fn put_records(state: &Mutex<State>, request: &Value) -> Response {
    let entries: Vec<Entry> = request["Records"]
        .as_array()
        .map(|records| {
            records
                .iter()
                .map(|r| Entry {
                    partition_key: r["PartitionKey"].as_str().unwrap_or_default().to_owned(),
                    explicit_hash_key: r["ExplicitHashKey"].as_str().map(str::to_owned),
                    data: STANDARD
                        .decode(r["Data"].as_str().unwrap_or_default())
                        .unwrap_or_default(),
                })
                .collect()
        })
        .unwrap_or_default();
    let (fault, index) = {
        let mut state = state.lock().unwrap();
        let index = state.requests.len();
        state.requests.push(entries.clone());
        let fault = state
            .fault
            .clone()
            .map(|f| f(index, &entries))
            .unwrap_or_default();
        (fault, index)
    };
    let _ = index;
    let mut throttle = HashSet::new();
    match fault {
        Fault::None => {}
        Fault::Status(code) => {
            return error(
                StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                "InternalFailure",
                "injected failure",
            );
        }
        Fault::Delay(delay) => tokio::time::sleep(delay).await,
        Fault::Throttle(set) => throttle = set,
    }
    let mut state = state.lock().unwrap();
    let map = open_map(&state);
    let limits = state.limits;
    let now = Instant::now();
    let mut results = Vec::with_capacity(entries.len());
    let mut failed = 0;
    let rate_exceeded = json!({
        "ErrorCode": "ProvisionedThroughputExceededException",
        "ErrorMessage": "Rate exceeded for shard in stream under account 123456789012.",
    });
    for (i, entry) in entries.into_iter().enumerate() {
        if throttle.contains(&i) {
            failed += 1;
            results.push(rate_exceeded.clone());
            continue;
        }
        let hash = match kstream_kpl::effective_hash_key(
            &entry.partition_key,
            entry.explicit_hash_key.as_deref(),
        ) {
            Ok(hash) => hash,
            Err(e) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "InvalidArgumentException",
                    &e.to_string(),
                );
            }
        };
        let shard_id = if state.route_to_closed {
            state
                .shards
                .iter()
                .find(|s| (s.start..=s.end).contains(&hash))
                .expect("a shard owns every hash")
                .id
                .clone()
        } else {
            map.shard_for(hash).expect("complete map").to_string()
        };
        let shard = state
            .shards
            .iter_mut()
            .find(|s| s.id == shard_id)
            .expect("open shard");
        let size = (entry.data.len() + entry.partition_key.len()) as f64;
        if let Some(limits) = &limits {
            shard.refill(limits, now);
            if shard.records_tokens < 1.0 || shard.bytes_tokens < size {
                failed += 1;
                results.push(rate_exceeded.clone());
                state.throttled += 1;
                continue;
            }
            shard.records_tokens -= 1.0;
            shard.bytes_tokens -= size;
        }
        let seq = shard.next_seq;
        shard.next_seq += 1;
        let sequence_number = format!(
            "4960{:036}{:012}",
            seq,
            shard_id[8..].parse::<u64>().unwrap_or(0)
        );
        results.push(json!({"SequenceNumber": sequence_number, "ShardId": shard_id}));
        state.stored.push(Stored {
            shard_id,
            sequence_number: seq,
            entry,
        });
    }
    ok(json!({"FailedRecordCount": failed, "Records": results}))
}
