//! The handler as the runtime calls it, on real Kinesis event shapes (tests/fixtures), against a
//! local HTTP server standing in for the API Gateway endpoint, through the real fare client in
//! local mode. The objects go to the in-memory store (tests/emulator.rs writes to S3).

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::{FareServer, RotatingKey, config, fare_of, fixture, ok};
use enrichment_consumer::{MemoryStore, handler};
use kstream_pipeline::kinesis::KinesisEvent;
use lambda_runtime::{Context, LambdaEvent};
use serde_json::Value;

/// A context whose deadline is `left` from now.
fn context(left: Duration) -> Context {
    let mut context = Context::default();
    context.request_id = "req-1".to_owned();
    let deadline = SystemTime::now() + left;
    context.deadline = deadline.duration_since(UNIX_EPOCH).unwrap().as_millis() as u64;
    context
}

/// Every JSON line of every object whose key starts with `prefix`.
fn lines(store: &MemoryStore, prefix: &str) -> Vec<Value> {
    store
        .objects()
        .iter()
        .filter(|(key, _)| key.starts_with(prefix))
        .flat_map(|(_, body)| {
            let text = String::from_utf8(body.clone()).unwrap();
            assert!(text.ends_with('\n'), "one JSON object per line");
            text.lines()
                .map(|l| serde_json::from_str::<Value>(l).unwrap())
                .collect::<Vec<_>>()
        })
        .collect()
}

fn trip_ids(rows: &[Value]) -> Vec<i64> {
    let mut ids: Vec<i64> = rows
        .iter()
        .map(|r| r["trip_id"].as_i64().unwrap())
        .collect();
    ids.sort_unstable();
    ids
}

fn failures(response: &aws_lambda_events::streams::KinesisEventResponse) -> Vec<String> {
    response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone().unwrap())
        .collect()
}

fn seq(event: &KinesisEvent, index: usize) -> String {
    event.records[index].kinesis.sequence_number.clone()
}

#[tokio::test]
async fn samples_one_in_n_deterministically_and_writes_rows_per_pickup_hour() {
    let server = FareServer::fares().await;
    let event = fixture("trips.json");
    let (enricher, sink, store) = with_memory_store(config(&server, |_| {})).await;
    // SAMPLE_EVERY defaults to 20: ids 20 and 40 of 1..=40.
    let response = invoke(&enricher, event.clone(), Duration::from_secs(60)).await;
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(server.ids(), [20, 40]);
    let rows = lines(&store, "enriched/");
    assert_eq!(trip_ids(&rows), [20, 40]);
    let keys: Vec<String> = store.objects().keys().cloned().collect();
    let (first, last) = (seq(&event, 0), seq(&event, 39));
    assert_eq!(
        keys,
        [
            format!("enriched/dt=2018-01-01/hr=00/shardId-000000000001-{first}-{last}.jsonl"),
            format!("enriched/dt=2018-01-01/hr=01/shardId-000000000001-{first}-{last}.jsonl"),
        ]
    );
    let row = rows.iter().find(|r| r["trip_id"] == 20).unwrap();
    assert_eq!(row["expected_fare"], fare_of(20));
    assert_eq!(row["sampled"], true);
    assert_eq!(row["pickup_datetime"], "2018-01-01T00:20:12Z");
    assert_eq!(row["dropoff_datetime"], "2018-01-01T01:20:40Z");
    assert_eq!(row["shard_id"], "shardId-000000000001");
    assert_eq!(row["sequence_number"], seq(&event, 19).as_str());
    // The contract's field order, as written.
    let body = store.objects().values().next().cloned().unwrap();
    let first_line = String::from_utf8(body)
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_owned();
    let positions: Vec<usize> = [
        "trip_id",
        "ride_request_id",
        "pickup_datetime",
        "dropoff_datetime",
        "pickup_location_id",
        "dropoff_location_id",
        "passenger_count",
        "trip_distance",
        "total_amount",
        "expected_fare",
        "sampled",
        "shard_id",
        "sequence_number",
    ]
    .iter()
    .map(|f| {
        first_line
            .find(&format!("\"{f}\":"))
            .unwrap_or_else(|| panic!("{f} in {first_line}"))
    })
    .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{first_line}");
    assert_eq!(row.as_object().unwrap().len(), 13);

    // The same batch again (a retry) samples the same trips and overwrites the same keys.
    invoke(&enricher, event.clone(), Duration::from_secs(60)).await;
    assert_eq!(server.ids(), [20, 40]);
    assert_eq!(server.seen().len(), 4);
    assert_eq!(store.objects().len(), 2);
    assert_eq!(store.puts(), 4);

    let doc = &sink.invocation_documents()[0];
    assert_eq!(doc["Records"], 40);
    assert_eq!(doc["Trips"], 40);
    assert_eq!(doc["Sampled"], 2);
    assert_eq!(doc["Calls"], 2);
    assert_eq!(doc["CallLatency"].as_array().unwrap().len(), 2);
    assert_eq!(doc["RowsWritten"], 2);
    assert_eq!(doc["BatchItemFailures"], 0);
    assert_eq!(doc["FunctionName"], "enrichment-consumer");
    let names: Vec<&str> = doc["_aws"]["CloudWatchMetrics"][0]["Metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["Name"].as_str().unwrap())
        .collect();
    for name in [
        "Records",
        "Trips",
        "Sampled",
        "Calls",
        "CallLatency",
        "Retries",
        "Throttles",
        "CallFailures",
        "Skipped",
        "ParseFailures",
        "RowsWritten",
        "BatchItemFailures",
    ] {
        assert!(names.contains(&name), "{name} in {names:?}");
    }
}

/// An enricher with `config`, the key "key-1" and an in-memory store (returned with it).
async fn with_memory_store(
    config: enrichment_consumer::Config,
) -> (
    enrichment_consumer::Enricher,
    Arc<kstream_pipeline::emf::MemorySink>,
    Arc<MemoryStore>,
) {
    let store = Arc::new(MemoryStore::default());
    let (enricher, sink) = common::enricher(
        config,
        RotatingKey::new(&["key-1"]),
        ArcStore(store.clone()),
    )
    .await;
    (enricher, sink, store)
}

/// The handler on `event` with `left` before the deadline; the invocation must succeed.
async fn invoke(
    enricher: &enrichment_consumer::Enricher,
    event: KinesisEvent,
    left: Duration,
) -> aws_lambda_events::streams::KinesisEventResponse {
    handler(LambdaEvent::new(event, context(left)), enricher)
        .await
        .unwrap()
}

/// The MemoryStore shared with the test (the enricher owns its store).
struct ArcStore(Arc<MemoryStore>);

impl enrichment_consumer::ObjectStore for ArcStore {
    fn put<'a>(
        &'a self,
        key: &'a str,
        body: Vec<u8>,
    ) -> futures::future::BoxFuture<'a, Result<(), enrichment_consumer::StoreError>> {
        self.0.put(key, body)
    }
}

#[tokio::test]
async fn every_trip_with_n_1_and_unsampled_rows_when_asked() {
    let server = FareServer::fares().await;
    let (enricher, _, store) = with_memory_store(config(&server, |c| c.sample_every = 1)).await;
    let event = fixture("trips.json");
    invoke(&enricher, event, Duration::from_secs(60)).await;
    assert_eq!(server.ids(), (1..=40).collect::<Vec<_>>());
    let rows = lines(&store, "enriched/");
    assert_eq!(trip_ids(&rows), (1..=40).collect::<Vec<_>>());
    assert!(
        rows.iter()
            .all(|r| r["expected_fare"].is_f64() && r["sampled"] == true)
    );

    let server = FareServer::fares().await;
    let (enricher, _, store) =
        with_memory_store(config(&server, |c| c.write_unsampled = true)).await;
    invoke(&enricher, fixture("trips.json"), Duration::from_secs(60)).await;
    assert_eq!(server.ids(), [20, 40]);
    let rows = lines(&store, "enriched/");
    assert_eq!(rows.len(), 40);
    let unsampled: Vec<&Value> = rows.iter().filter(|r| r["sampled"] == false).collect();
    assert_eq!(unsampled.len(), 38);
    assert!(unsampled.iter().all(|r| r["expected_fare"].is_null()));
}

#[tokio::test]
async fn unreadable_records_go_to_the_error_output_with_their_reason() {
    let server = FareServer::fares().await;
    let (enricher, sink, store) = with_memory_store(config(&server, |c| c.sample_every = 1)).await;
    let event = fixture("mixed.json");
    let response = invoke(&enricher, event.clone(), Duration::from_secs(60)).await;
    assert!(
        response.batch_item_failures.is_empty(),
        "unreadable records are not retried"
    );
    // Trips 20 and 41 (trailing newline), 40 (none); 41 asks with its ride_request_id 60.
    assert_eq!(server.ids(), [20, 40, 60]);
    let rows = lines(&store, "enriched/");
    assert_eq!(trip_ids(&rows), [20, 40, 41]);
    let row41 = rows.iter().find(|r| r["trip_id"] == 41).unwrap();
    assert_eq!(
        (
            row41["ride_request_id"].as_i64(),
            row41["expected_fare"].as_f64()
        ),
        (Some(60), Some(fare_of(60)))
    );

    let errors = lines(&store, "errors/");
    let reasons: Vec<(String, String)> = errors
        .iter()
        .map(|e| {
            (
                e["sequence_number"].as_str().unwrap().to_owned(),
                e["reason"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(reasons.len(), 5, "{reasons:#?}");
    let reason_of = |index: usize| {
        reasons
            .iter()
            .find(|(s, _)| *s == seq(&event, index))
            .map(|(_, r)| r.clone())
            .unwrap_or_else(|| panic!("record {index} in the error output"))
    };
    assert!(reason_of(2).contains("not valid JSON"), "{}", reason_of(2));
    assert!(reason_of(3).contains("array"), "{}", reason_of(3));
    assert!(
        reason_of(4).contains("pickup_datetime") && reason_of(4).contains("ISO-8601"),
        "{}",
        reason_of(4)
    );
    assert!(reason_of(7).contains("base64"), "{}", reason_of(7));
    assert!(reason_of(8).contains("UTF-8"), "{}", reason_of(8));
    let bad_json = errors
        .iter()
        .find(|e| e["sequence_number"] == seq(&event, 2).as_str())
        .unwrap();
    assert_eq!(bad_json["shard_id"], "shardId-000000000001");
    assert_eq!(bad_json["partition_key"], "x");
    assert_eq!(bad_json["approximate_arrival_timestamp"], 1732246803.125);
    assert_eq!(
        bad_json["data_base64"],
        event.records[2].kinesis.data.as_str()
    );
    let today = chrono::Utc::now().format("%Y-%m-%d");
    let error_keys: Vec<String> = store
        .objects()
        .keys()
        .filter(|k| k.starts_with("errors/"))
        .cloned()
        .collect();
    assert_eq!(
        error_keys,
        [format!(
            "errors/dt={today}/shardId-000000000001-{}-{}.jsonl",
            seq(&event, 0),
            seq(&event, 9)
        )]
    );
    let doc = &sink.invocation_documents()[0];
    assert_eq!(
        (
            doc["ParseFailures"].as_u64(),
            doc["Skipped"].as_u64(),
            doc["Trips"].as_u64()
        ),
        (Some(5), Some(2), Some(3))
    );
}

#[tokio::test]
async fn kpl_aggregates_are_deaggregated_and_fail_as_one_kinesis_record() {
    let server = FareServer::fares().await;
    let (enricher, _, store) = with_memory_store(config(&server, |c| c.sample_every = 20)).await;
    let event = fixture("kpl.json");
    let response = invoke(&enricher, event.clone(), Duration::from_secs(60)).await;
    assert!(response.batch_item_failures.is_empty());
    let rows = lines(&store, "enriched/");
    assert_eq!(trip_ids(&rows), [20, 40, 60, 80, 100]);
    let aggregated: Vec<&Value> = rows
        .iter()
        .filter(|r| [40, 60, 80].contains(&r["trip_id"].as_i64().unwrap()))
        .collect();
    assert!(
        aggregated
            .iter()
            .all(|r| r["sequence_number"] == seq(&event, 1).as_str())
    );

    // Trip 60, inside the aggregate, is refused: the aggregate's Kinesis record is the failure,
    // and only the record before it is written.
    let server = FareServer::start(|id, _, _| {
        if id == 60 {
            (400, Duration::ZERO, "Missing ride_request_id".into())
        } else {
            ok(id)
        }
    })
    .await;
    let (enricher, _, store) = with_memory_store(config(&server, |_| {})).await;
    let response = invoke(&enricher, event.clone(), Duration::from_secs(60)).await;
    assert_eq!(failures(&response), [seq(&event, 1)]);
    assert_eq!(trip_ids(&lines(&store, "enriched/")), [20]);
}

#[tokio::test]
async fn calls_are_bounded_by_max_in_flight_and_reach_it() {
    let server = FareServer::start(|id, _, _| {
        let (status, _, body) = ok(id);
        (status, Duration::from_millis(60), body)
    })
    .await;
    let store = Arc::new(MemoryStore::default());
    let (enricher, sink) = common::enricher(
        config(&server, |c| {
            c.sample_every = 1;
            c.max_in_flight = 4;
        }),
        RotatingKey::new(&["key-1"]),
        ArcStore(store.clone()),
    )
    .await;
    invoke(&enricher, fixture("trips.json"), Duration::from_secs(60)).await;
    assert_eq!(server.seen().len(), 40);
    assert_eq!(server.max_in_flight(), 4);
    assert_eq!(lines(&store, "enriched/").len(), 40);
    let latencies = sink.invocation_documents()[0]["CallLatency"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(latencies.len(), 40);
    assert!(
        latencies.iter().all(|l| l.as_f64().unwrap() >= 60.0),
        "{latencies:?}"
    );
}

#[tokio::test]
async fn max_calls_per_second_paces_the_attempts_across_invocations() {
    let server = FareServer::fares().await;
    let store = Arc::new(MemoryStore::default());
    let (enricher, _) = common::enricher(
        config(&server, |c| {
            c.sample_every = 1;
            c.max_calls_per_second = 20;
        }),
        RotatingKey::new(&["key-1"]),
        ArcStore(store.clone()),
    )
    .await;
    let started = std::time::Instant::now();
    for _ in 0..2 {
        handler(
            LambdaEvent::new(fixture("trips.json"), context(Duration::from_secs(60))),
            &enricher,
        )
        .await
        .unwrap();
    }
    // 80 attempts at 20 a second, a second's worth at once: at least 3 s, and every row.
    let elapsed = started.elapsed();
    assert_eq!(server.seen().len(), 80);
    assert!(elapsed >= Duration::from_millis(2900), "{elapsed:?}");
    assert_eq!(lines(&store, "enriched/").len(), 40);
}

#[tokio::test]
async fn pacing_that_would_outlast_the_invocation_fails_the_rest_as_batch_item_failures() {
    let server = FareServer::fares().await;
    let store = Arc::new(MemoryStore::default());
    let (enricher, _) = common::enricher(
        config(&server, |c| {
            c.sample_every = 1;
            c.max_calls_per_second = 10;
            c.call_timeout = Duration::from_millis(500);
        }),
        RotatingKey::new(&["key-1"]),
        ArcStore(store.clone()),
    )
    .await;
    let event = fixture("trips.json");
    // 10 attempts at once, then one every 100 ms: about 10 more fit in 3 s less the attempt's
    // timeout and the write margin; the record after them is the first failure.
    let response = invoke(&enricher, event.clone(), Duration::from_secs(3)).await;
    let failed = failures(&response);
    assert_eq!(failed.len(), 1, "{failed:?}");
    let written = lines(&store, "enriched/").len();
    assert!((10..40).contains(&written), "{written} rows");
    assert_eq!(failed[0], seq(&event, written));
}

#[tokio::test]
async fn a_slow_attempt_times_out_and_is_retried() {
    // Each trip's first attempt takes 5 s; the call timeout is 200 ms.
    let server = FareServer::start(|id, attempt, _| {
        let (status, _, body) = ok(id);
        let delay = if attempt == 1 {
            Duration::from_secs(5)
        } else {
            Duration::ZERO
        };
        (status, delay, body)
    })
    .await;
    let (enricher, sink, store) = with_memory_store(config(&server, |c| {
        c.call_timeout = Duration::from_millis(200)
    }))
    .await;
    let started = Instant::now();
    let response = invoke(&enricher, fixture("trips.json"), Duration::from_secs(60)).await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(trip_ids(&lines(&store, "enriched/")), [20, 40]);
    let doc = &sink.invocation_documents()[0];
    assert_eq!(
        (doc["Calls"].as_u64(), doc["Retries"].as_u64()),
        (Some(4), Some(2))
    );
    let slow: Vec<f64> = doc["CallLatency"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .filter(|l| *l >= 150.0)
        .collect();
    assert_eq!(slow.len(), 2);
    assert!(slow.iter().all(|l| *l < 1000.0), "{slow:?}");
}

#[tokio::test]
async fn throttles_and_server_errors_are_retried_within_the_deadline() {
    // 429, then 503, then the fare.
    let server = FareServer::start(|id, attempt, _| match attempt {
        1 => (
            429,
            Duration::ZERO,
            r#"{"message":"Too Many Requests"}"#.into(),
        ),
        2 => (
            503,
            Duration::ZERO,
            r#"{"message":"injected fault"}"#.into(),
        ),
        _ => ok(id),
    })
    .await;
    let (enricher, sink, store) = with_memory_store(config(&server, |_| {})).await;
    let response = invoke(&enricher, fixture("trips.json"), Duration::from_secs(60)).await;
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(trip_ids(&lines(&store, "enriched/")), [20, 40]);
    let doc = &sink.invocation_documents()[0];
    assert_eq!(
        (
            doc["Calls"].as_u64(),
            doc["Retries"].as_u64(),
            doc["Throttles"].as_u64(),
            doc["CallFailures"].as_u64()
        ),
        (Some(6), Some(4), Some(2), Some(0))
    );

    // MAX_ATTEMPTS = 2: the third attempt is not made; the first trip's record fails.
    let server = FareServer::start(|id, attempt, _| {
        if attempt < 3 {
            (503, Duration::ZERO, "{}".into())
        } else {
            ok(id)
        }
    })
    .await;
    let store = Arc::new(MemoryStore::default());
    let (enricher, _) = common::enricher(
        config(&server, |c| {
            c.max_attempts = 2;
            c.max_in_flight = 1;
        }),
        RotatingKey::new(&["key-1"]),
        ArcStore(store.clone()),
    )
    .await;
    let event = fixture("trips.json");
    let response = invoke(&enricher, event.clone(), Duration::from_secs(60)).await;
    assert_eq!(failures(&response), [seq(&event, 19)]);
    assert_eq!(server.seen().iter().filter(|s| s.id == 20).count(), 2);
    assert!(
        server.seen().iter().all(|s| s.id != 40),
        "record 40 comes after the failed one"
    );
}

#[tokio::test]
async fn a_tiny_deadline_stops_the_retries() {
    let server = FareServer::start(|_, _, _| (503, Duration::ZERO, "{}".into())).await;
    let (enricher, sink, store) = with_memory_store(config(&server, |_| {})).await;
    let event = fixture("trips.json");
    let started = Instant::now();
    // 1 s left: less than a call timeout (3 s) plus the S3 write margin.
    let response = invoke(&enricher, event.clone(), Duration::from_secs(1)).await;
    assert!(started.elapsed() < Duration::from_millis(900));
    assert_eq!(failures(&response), [seq(&event, 19)]);
    assert_eq!(
        server.seen().len(),
        2,
        "one attempt per sampled trip, no retry"
    );
    let doc = &sink.invocation_documents()[0];
    assert_eq!(
        (
            doc["Retries"].as_u64(),
            doc["CallFailures"].as_u64(),
            doc["BatchItemFailures"].as_u64()
        ),
        (Some(0), Some(2), Some(1))
    );
    // Records 0..=18 hold no sampled trip: nothing to write.
    assert!(store.objects().is_empty());
}

#[tokio::test]
async fn the_retry_budget_caps_retries_per_invocation() {
    // Every trip's first attempt fails; 12 trips, budget 0%: the floor of 10 retries.
    let server = FareServer::start(|id, attempt, _| {
        if attempt == 1 {
            (503, Duration::from_millis(20), "{}".into())
        } else {
            ok(id)
        }
    })
    .await;
    let store = Arc::new(MemoryStore::default());
    let (enricher, sink) = common::enricher(
        config(&server, |c| {
            c.sample_every = 1;
            c.max_in_flight = 12;
            c.retry_budget_percent = 0;
        }),
        RotatingKey::new(&["key-1"]),
        ArcStore(store.clone()),
    )
    .await;
    let mut event = fixture("trips.json");
    event.records.truncate(12);
    let response = invoke(&enricher, event.clone(), Duration::from_secs(60)).await;
    let doc = &sink.invocation_documents()[0];
    assert_eq!(
        (doc["Retries"].as_u64(), doc["CallFailures"].as_u64()),
        (Some(10), Some(2))
    );
    let failed = failures(&response);
    assert_eq!(failed.len(), 1);
    let index = event
        .records
        .iter()
        .position(|r| r.kinesis.sequence_number == failed[0])
        .unwrap();
    let rows = lines(&store, "enriched/");
    assert_eq!(trip_ids(&rows), (1..=index as i64).collect::<Vec<_>>());
    assert!(rows.iter().all(|r| r["expected_fare"].is_f64()));
}

#[tokio::test]
async fn a_403_reads_the_key_again_once() {
    // The key was rotated: the server takes only key-2.
    let server = FareServer::start(|id, _, key| {
        if key == "key-2" {
            ok(id)
        } else {
            (403, Duration::ZERO, r#"{"message":"Forbidden"}"#.into())
        }
    })
    .await;
    let key = RotatingKey::new(&["key-1", "key-2"]);
    let store = Arc::new(MemoryStore::default());
    let (enricher, _) = common::enricher(
        config(&server, |c| c.sample_every = 4),
        key.clone(),
        ArcStore(store.clone()),
    )
    .await;
    let response = invoke(&enricher, fixture("trips.json"), Duration::from_secs(60)).await;
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(
        trip_ids(&lines(&store, "enriched/")),
        [4, 8, 12, 16, 20, 24, 28, 32, 36, 40]
    );
    assert_eq!(
        key.reads(),
        2,
        "read at cold start, then once for all the concurrent 403s"
    );

    // Still 403 with the new key: the record fails, after exactly one more read and one more call.
    let server =
        FareServer::start(|_, _, _| (403, Duration::ZERO, r#"{"message":"Forbidden"}"#.into()))
            .await;
    let key = RotatingKey::new(&["key-1", "key-2"]);
    let (enricher, sink) = common::enricher(
        config(&server, |c| c.max_in_flight = 1),
        key.clone(),
        MemoryStore::default(),
    )
    .await;
    let event = fixture("trips.json");
    let response = invoke(&enricher, event.clone(), Duration::from_secs(60)).await;
    assert_eq!(failures(&response), [seq(&event, 19)]);
    assert_eq!(key.reads(), 2);
    let keys: Vec<String> = server
        .seen()
        .iter()
        .map(|s| s.headers["x-api-key"].to_str().unwrap().to_owned())
        .collect();
    assert_eq!(keys, ["key-1", "key-2"]);
    assert_eq!(sink.invocation_documents()[0]["Retries"], 0);
}

#[tokio::test]
async fn a_400_is_not_retried_and_only_earlier_rows_are_written() {
    let server = FareServer::start(|id, _, _| {
        if id == 6 {
            (400, Duration::ZERO, "Missing ride_request_id".into())
        } else {
            ok(id)
        }
    })
    .await;
    let store = Arc::new(MemoryStore::default());
    let (enricher, sink) = common::enricher(
        config(&server, |c| c.sample_every = 1),
        RotatingKey::new(&["key-1"]),
        ArcStore(store.clone()),
    )
    .await;
    let mut event = fixture("trips.json");
    event.records.truncate(10);
    // An unreadable record after the failed one: it comes again with the retry, so it is not
    // written now either.
    event.records[8].kinesis.data = "not base64!".into();
    let response = invoke(&enricher, event.clone(), Duration::from_secs(60)).await;
    assert_eq!(failures(&response), [seq(&event, 5)]);
    assert_eq!(server.seen().iter().filter(|s| s.id == 6).count(), 1);
    let rows = lines(&store, "enriched/");
    assert_eq!(trip_ids(&rows), [1, 2, 3, 4, 5]);
    assert!(lines(&store, "errors/").is_empty());
    let keys: Vec<String> = store.objects().keys().cloned().collect();
    assert_eq!(
        keys,
        [format!(
            "enriched/dt=2018-01-01/hr=00/shardId-000000000001-{}-{}.jsonl",
            seq(&event, 0),
            seq(&event, 4)
        )]
    );
    let doc = &sink.invocation_documents()[0];
    assert_eq!(
        (
            doc["RowsWritten"].as_u64(),
            doc["BatchItemFailures"].as_u64(),
            doc["Retries"].as_u64()
        ),
        (Some(5), Some(1), Some(0))
    );
}

#[tokio::test]
async fn requests_are_signed_for_execute_api_with_the_api_key() {
    let server = FareServer::fares().await;
    let (enricher, _) = common::enricher(
        config(&server, |_| {}),
        RotatingKey::new(&["key-1"]),
        MemoryStore::default(),
    )
    .await;
    invoke(&enricher, fixture("trips.json"), Duration::from_secs(60)).await;
    let seen = server.seen();
    assert_eq!(seen.len(), 2);
    for request in &seen {
        let h = &request.headers;
        let header = |name: &str| {
            h.get(name)
                .unwrap_or_else(|| panic!("{name} header"))
                .to_str()
                .unwrap()
                .to_owned()
        };
        // Local mode: the original path, query and Host.
        assert_eq!(
            request.path_and_query,
            format!("/prod/predictFare?ride_request_id={}", request.id)
        );
        assert_eq!(header("host"), common::HOST);
        assert_eq!(header("x-api-key"), "key-1");
        assert_eq!(header("x-amz-security-token"), common::SESSION_TOKEN);
        let date = header("x-amz-date");
        let authorization = header("authorization");
        assert!(
            authorization.starts_with(&format!(
                "AWS4-HMAC-SHA256 Credential={}/{}/eu-west-1/execute-api/aws4_request, SignedHeaders=host;x-amz-date;x-amz-security-token;x-api-key, Signature=",
                common::ACCESS_KEY,
                &date[..8]
            )),
            "{authorization}"
        );
        // The signature verifies: computed again from what the server received, it matches;
        // with another x-api-key it does not (the key is signed).
        assert_eq!(signature(request, "key-1"), authorization);
        assert_ne!(signature(request, "key-2"), authorization);
    }
}

/// The Authorization header for the request the server received, as API Gateway computes it
/// (the secret key is the test's).
fn signature(request: &common::Seen, api_key: &str) -> String {
    use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
    let h = &request.headers;
    let date = h["x-amz-date"].to_str().unwrap();
    let time = chrono::NaiveDateTime::parse_from_str(date, "%Y%m%dT%H%M%SZ")
        .unwrap()
        .and_utc();
    let identity = aws_credential_types::Credentials::new(
        common::ACCESS_KEY,
        common::SECRET_KEY,
        Some(h["x-amz-security-token"].to_str().unwrap().to_owned()),
        None,
        "server",
    )
    .into();
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region("eu-west-1")
        .name("execute-api")
        .time(SystemTime::from(time))
        .settings(SigningSettings::default())
        .build()
        .unwrap()
        .into();
    let uri = format!(
        "https://{}{}",
        h["host"].to_str().unwrap(),
        request.path_and_query
    );
    let headers = [
        ("host", h["host"].to_str().unwrap()),
        ("x-api-key", api_key),
    ];
    let signable = SignableRequest::new(
        "GET",
        uri.as_str(),
        headers.into_iter(),
        SignableBody::Bytes(&[]),
    )
    .unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    let (headers, _) = instructions.into_parts();
    headers
        .iter()
        .find(|h| h.name() == "authorization")
        .unwrap()
        .value()
        .to_owned()
}

#[tokio::test]
async fn a_failed_write_fails_the_invocation() {
    let server = FareServer::fares().await;
    let store = Arc::new(MemoryStore::default());
    store.fail_keys_containing(Some("hr=01"));
    let (enricher, _) = common::enricher(
        config(&server, |_| {}),
        RotatingKey::new(&["key-1"]),
        ArcStore(store.clone()),
    )
    .await;
    let error = handler(
        LambdaEvent::new(fixture("trips.json"), context(Duration::from_secs(60))),
        &enricher,
    )
    .await
    .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("could not write s3 object enriched/dt=2018-01-01/hr=01/"),
        "{error}"
    );
}
