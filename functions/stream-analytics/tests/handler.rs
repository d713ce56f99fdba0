//! The handler with AWS-shaped tumbling-window events (the `KinesisTimeWindowEvent` of the
//! Lambda developer guide), through `handler` as the runtime calls it.

use std::sync::Arc;

use base64::Engine as _;
use kstream_kpl::UserRecord;
use kstream_pipeline::Telemetry;
use kstream_pipeline::emf::{MemorySink, MetricsConfig};
use lambda_runtime::{Context, LambdaEvent};
use serde_json::{Value, json};
use stream_analytics::{
    Analytics, Config, InvokeError, MemoryStore, WindowEvent, WindowResponse, handler,
};

const ARN: &str = "arn:aws:kinesis:us-east-1:123456789012:stream/ticker-stream";

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn record(seq: &str, data: &[u8]) -> Value {
    json!({
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": "AAPL",
            "sequenceNumber": seq,
            "data": b64(data),
            "approximateArrivalTimestamp": 1_795_323_601.5
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": format!("shardId-000000000006:{seq}"),
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": "arn:aws:iam::123456789012:role/analytics",
        "awsRegion": "us-east-1",
        "eventSourceARN": ARN
    })
}

fn tick(ticker: &str, price: f64, time: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({"event_time": time, "ticker": ticker, "price": price})).unwrap()
}

fn event(records: Vec<Value>, state: Value, final_invoke: bool, early: bool) -> WindowEvent {
    serde_json::from_value(json!({
        "Records": records,
        "window": {"start": "2026-11-22T05:00:00Z", "end": "2026-11-22T05:01:00Z"},
        "state": state,
        "shardId": "shardId-000000000006",
        "eventSourceARN": ARN,
        "isFinalInvokeForWindow": final_invoke,
        "isWindowTerminatedEarly": early
    }))
    .unwrap()
}

struct Harness {
    analytics: Analytics,
    store: Arc<MemoryStore>,
    sink: Arc<MemorySink>,
}

/// An `ObjectStore` that forwards to a shared `MemoryStore`, so the test can read it.
struct Shared(Arc<MemoryStore>);

impl stream_analytics::ObjectStore for Shared {
    fn put<'a>(
        &'a self,
        key: &'a str,
        body: Vec<u8>,
    ) -> futures::future::BoxFuture<'a, Result<(), stream_analytics::StoreError>> {
        self.0.put(key, body)
    }
}

fn harness() -> Harness {
    let store = Arc::new(MemoryStore::default());
    let sink = Arc::new(MemorySink::default());
    let telemetry =
        Telemetry::new(MetricsConfig::builder().function_name("t").build()).with_sink(sink.clone());
    Harness {
        analytics: Analytics::new(Config::new("bucket"), Shared(store.clone()), telemetry),
        store,
        sink,
    }
}

async fn invoke(h: &Harness, event: WindowEvent) -> Result<WindowResponse, lambda_runtime::Error> {
    handler(LambdaEvent::new(event, Context::default()), &h.analytics).await
}

/// One invoke that must succeed.
async fn ok(
    h: &Harness,
    records: Vec<Value>,
    state: Value,
    final_invoke: bool,
    early: bool,
) -> WindowResponse {
    invoke(h, event(records, state, final_invoke, early))
        .await
        .unwrap()
}

fn state_of(response: &WindowResponse) -> Value {
    serde_json::to_value(&response.state).unwrap()
}

/// The JSON lines of every object under `prefix`, object by object in key order.
fn under(objects: &std::collections::BTreeMap<String, Vec<u8>>, prefix: &str) -> Vec<Vec<Value>> {
    objects
        .iter()
        .filter(|(k, _)| k.starts_with(prefix))
        .map(|(_, v)| lines(v))
        .collect()
}

fn lines(body: &[u8]) -> Vec<Value> {
    std::str::from_utf8(body)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test]
async fn awss_own_example_event_is_read_its_numeric_state_ignored_and_its_text_record_failed() {
    // The developer guide's example: state {"1": 282, "2": 715} and "Hello World" as data.
    let h = harness();
    let mut example = record(
        "49590338271490256608559692538361571095921575989136588898",
        b"Hello World",
    );
    example["kinesis"]["data"] = json!("SGVsbG8gV29ybGQ=");
    let response = ok(&h, vec![example], json!({"1": 282, "2": 715}), false, false).await;
    let failed: Vec<_> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    assert_eq!(
        failed,
        ["49590338271490256608559692538361571095921575989136588898"]
    );
    let body = serde_json::to_value(&response).unwrap();
    assert!(
        body["state"]["kstream"].is_string(),
        "a response always carries state: {body}"
    );
    assert_eq!(body["batchItemFailures"][0]["itemIdentifier"], failed[0]);
}

#[tokio::test]
async fn a_window_aggregates_across_invokes_filters_rows_and_closes_once() {
    let h = harness();
    let first = ok(
        &h,
        vec![
            record("1", &tick("AAPL", 60.0, "2026-11-22 05:00:01.5")),
            record("2", &tick("AAPL", 40.0, "2026-11-22T05:00:02Z")),
            record("3", &tick("MSFT", 51.25, "2026-11-22 05:00:03")),
        ],
        json!({}),
        false,
        false,
    )
    .await;
    assert!(first.batch_item_failures.is_empty());
    // String state, as Lambda hands it back.
    let second = ok(
        &h,
        vec![record("4", &tick("AAPL", 99.0, "2026-11-22 05:00:30.120"))],
        state_of(&first),
        false,
        false,
    )
    .await;
    let last = ok(&h, vec![], state_of(&second), true, false).await;
    assert!(last.batch_item_failures.is_empty());

    let objects = h.store.objects();
    let rows: Vec<(&String, Vec<Value>)> = objects
        .iter()
        .filter(|(k, _)| k.starts_with("filtered/"))
        .map(|(k, v)| (k, lines(v)))
        .collect();
    let keys: Vec<&str> = rows.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        [
            "filtered/ticker=AAPL/dt=2026-11-22/hr=05/ticker-stream-shardId-000000000006-20261122T050000Z-1-00000.json",
            "filtered/ticker=AAPL/dt=2026-11-22/hr=05/ticker-stream-shardId-000000000006-20261122T050000Z-1-00001.json",
            "filtered/ticker=MSFT/dt=2026-11-22/hr=05/ticker-stream-shardId-000000000006-20261122T050000Z-1-00000.json",
        ]
    );
    assert_eq!(
        rows[0].1,
        [json!({"event_time": "2026-11-22 05:00:01.5", "price": 60.0})]
    );
    assert_eq!(
        rows[1].1,
        [json!({"event_time": "2026-11-22 05:00:30.12", "price": 99.0})]
    );
    let aggregates: Vec<_> = objects
        .iter()
        .filter(|(k, _)| k.starts_with("aggregates/"))
        .collect();
    assert_eq!(aggregates.len(), 1);
    assert_eq!(
        aggregates[0].0,
        "aggregates/dt=2026-11-22/hr=05/ticker-stream-shardId-000000000006-20261122T050000Z-1.json"
    );
    let lines = lines(aggregates[0].1);
    assert_eq!(lines.len(), 2);
    let aapl = &lines[0];
    assert_eq!(
        (aapl["ticker"].as_str(), aapl["count"].as_u64()),
        (Some("AAPL"), Some(3))
    );
    assert_eq!(
        (aapl["min_price"].as_f64(), aapl["max_price"].as_f64()),
        (Some(40.0), Some(99.0))
    );
    assert_eq!(
        (aapl["sum_price"].as_f64(), aapl["avg_price"].as_f64()),
        (Some(199.0), Some(199.0 / 3.0))
    );
    assert_eq!(aapl["first_event_time"], "2026-11-22 05:00:01.5");
    assert_eq!(aapl["last_event_time"], "2026-11-22 05:00:30.12");
    assert_eq!(aapl["window_start"], "2026-11-22 05:00:00");
    assert_eq!(aapl["shard_id"], "shardId-000000000006");
    assert_eq!(lines[1]["ticker"], "MSFT");

    let all = h.sink.documents();
    assert_eq!(
        all[0]["ColdStart"], 1,
        "the process's ColdStart document first"
    );
    assert_eq!(all.len(), 4, "then one EMF document per invoke");
    let docs = h.sink.invocation_documents();
    assert_eq!(docs.len(), 3, "one EMF document per invoke");
    assert_eq!(docs[0]["FilteredRows"], 2);
    assert_eq!(docs[2]["WindowsClosed"], 1);
    assert!(docs[2]["StateBytes"].as_u64().unwrap() > 0);
}

#[tokio::test]
async fn a_bad_record_stops_the_batch_there_and_the_retry_counts_nothing_twice() {
    let h = harness();
    let batch = vec![
        record("10", &tick("AAPL", 70.0, "2026-11-22 05:00:01")),
        record(
            "11",
            br#"{"ticker":"AAPL","price":"n/a","event_time":"2026-11-22 05:00:02"}"#,
        ),
        record("12", &tick("AAPL", 80.0, "2026-11-22 05:00:03")),
    ];
    let response = ok(&h, batch, json!({}), false, false).await;
    let failed: Vec<_> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    assert_eq!(
        failed,
        ["11"],
        "only the first bad record: Lambda retries from it"
    );
    // Lambda retries from 11 with the returned state; the bad record was skipped by then
    // (on-failure destination), so the retry carries 12 only.
    let retry = ok(
        &h,
        vec![record("12", &tick("AAPL", 80.0, "2026-11-22 05:00:03"))],
        state_of(&response),
        true,
        false,
    )
    .await;
    assert!(retry.batch_item_failures.is_empty());
    let objects = h.store.objects();
    let line = &under(&objects, "aggregates/")[0][0];
    assert_eq!(line["count"], 2, "10 and 12, each once: {line}");
    assert_eq!(under(&objects, "filtered/").concat().len(), 2);
}

#[tokio::test]
async fn kpl_aggregates_are_read_and_a_corrupt_one_fails_its_record() {
    let h = harness();
    let aggregate = kstream_kpl::encode(&[
        UserRecord::new("AAPL", tick("AAPL", 55.0, "2026-11-22 05:00:01")),
        UserRecord::new("INTC", tick("INTC", 12.0, "2026-11-22 05:00:02")),
        UserRecord::new("AAPL", tick("AAPL", 65.0, "2026-11-22 05:00:03")),
    ]);
    let mut corrupt = aggregate.clone();
    let last = corrupt.len() - 1;
    corrupt[last] ^= 0xff; // the MD5 no longer matches
    let response = ok(
        &h,
        vec![record("20", &aggregate), record("21", &corrupt)],
        json!({}),
        false,
        false,
    )
    .await;
    let failed: Vec<_> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    assert_eq!(failed, ["21"]);
    let state: Value =
        serde_json::from_str(state_of(&response)["kstream"].as_str().unwrap()).unwrap();
    assert_eq!(state["tickers"]["AAPL"]["count"], 2);
    assert_eq!(state["tickers"]["INTC"]["count"], 1);
    assert_eq!(state["records"], 3);
}

#[tokio::test]
async fn a_failed_final_invoke_is_retried_into_the_same_keys() {
    let h = harness();
    let open = ok(
        &h,
        vec![record("30", &tick("TBV", 75.0, "2026-11-22 05:00:09"))],
        json!({}),
        false,
        false,
    )
    .await;
    h.store.fail_keys_containing(Some("aggregates/"));
    let final_event = event(
        vec![record("31", &tick("TBV", 76.0, "2026-11-22 05:00:10"))],
        state_of(&open),
        true,
        false,
    );
    let error = invoke(&h, final_event.clone()).await.unwrap_err();
    assert!(
        error
            .downcast_ref::<InvokeError>()
            .is_some_and(|e| matches!(e, InvokeError::Store(_))),
        "{error}"
    );
    h.store.fail_keys_containing(None);
    let before = h.store.objects();
    invoke(&h, final_event).await.unwrap();
    let after = h.store.objects();
    // The retry rewrote the rows of 31 under the key its failed attempt used, and added the aggregate.
    assert_eq!(after.len(), before.len() + 1);
    assert_eq!(
        under(&after, "filtered/").concat().len(),
        2,
        "30 and 31 once each"
    );
    assert_eq!(under(&after, "aggregates/")[0][0]["count"], 2);
    let docs = h.sink.invocation_documents();
    let failed: Vec<_> = docs
        .iter()
        .map(|d| d["FailedFinalInvokes"].clone())
        .collect();
    assert_eq!(
        failed,
        [json!(0), json!(1), json!(0)],
        "the failed final invoke, and only it, is counted"
    );
}

#[tokio::test]
async fn an_early_termination_closes_its_segment_and_the_fresh_state_writes_a_new_one() {
    let h = harness();
    let early = ok(
        &h,
        vec![record("40", &tick("AMZN", 90.0, "2026-11-22 05:00:01"))],
        json!({}),
        false,
        true,
    )
    .await;
    assert!(early.batch_item_failures.is_empty());
    // Lambda continues the same window with a fresh state.
    ok(
        &h,
        vec![record("41", &tick("AMZN", 91.0, "2026-11-22 05:00:02"))],
        json!({}),
        true,
        false,
    )
    .await;
    let aggregates = under(&h.store.objects(), "aggregates/");
    assert_eq!(
        aggregates.len(),
        2,
        "one per segment, neither overwriting the other"
    );
    assert_eq!(aggregates[0][0]["terminated_early"], true);
    assert_eq!(aggregates[1][0]["terminated_early"], false);
    assert_eq!(
        h.sink.invocation_documents()[0]["WindowsTerminatedEarly"],
        1
    );
}

#[tokio::test]
async fn a_window_less_event_or_a_foreign_state_fails_the_invocation() {
    let h = harness();
    let mut no_window = event(vec![], json!({}), false, false);
    no_window.window = None;
    let error = invoke(&h, no_window).await.unwrap_err();
    assert!(
        error.to_string().contains("TumblingWindowInSeconds"),
        "{error}"
    );
    let error = invoke(
        &h,
        event(vec![], json!({"kstream": "{not json"}), false, false),
    )
    .await
    .unwrap_err();
    assert!(
        error.to_string().contains("not this function's state"),
        "{error}"
    );
}
