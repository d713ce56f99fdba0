//! The handler against the emulator (moto), as the runtime calls it: a Scheduler-shaped event
//! (the schedule's Input) and a context with a deadline; every record read back from the stream
//! with GetRecords and deaggregated with `kstream_kpl`.
//!
//! Needs `AWS_ENDPOINT_URL`: `#[ignore]`d here, run by scripts/test-e2e.sh (`-- --ignored`).

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use kstream_pipeline::Telemetry;
use kstream_pipeline::aws::{AwsClient, JsonProtocol, KINESIS};
use kstream_pipeline::emf::{MemorySink, MetricsConfig};
use lambda_runtime::{Context, LambdaEvent};
use scheduled_producer::{Config, ScheduledProducer, handler};
use serde_json::{Value, json};

/// The client as `main.rs` builds it (kstream-pipeline's signing client, from the
/// environment), pointed at the emulator by `AWS_ENDPOINT_URL`.
fn kinesis() -> AwsClient {
    std::env::var("AWS_ENDPOINT_URL")
        .expect("AWS_ENDPOINT_URL names the emulator (scripts/test-e2e.sh sets it)");
    AwsClient::from_env().expect("credentials and region in the environment")
}

/// A Kinesis operation of the test's own (creating, reading back, deleting), with the same
/// client: its JSON answer.
async fn call(client: &AwsClient, operation: &'static str, input: Value) -> Value {
    let body = client
        .call_json(
            KINESIS,
            JsonProtocol::V1_1,
            operation,
            &format!("Kinesis_20131202.{operation}"),
            &input,
        )
        .await
        .unwrap_or_else(|e| panic!("{operation}: {e}"));
    serde_json::from_slice(&body).unwrap()
}

async fn stream(client: &AwsClient, shards: u32) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let name = format!("sp-{}-{nanos}", std::process::id());
    call(
        client,
        "CreateStream",
        json!({"StreamName": name, "ShardCount": shards}),
    )
    .await;
    name
}

async fn delete_stream(client: &AwsClient, name: &str) {
    call(client, "DeleteStream", json!({"StreamName": name})).await;
}

/// Every user record in the stream, deaggregated, with the number of Kinesis records.
async fn read_back(client: &AwsClient, name: &str) -> (Vec<Value>, usize) {
    let shards = call(client, "ListShards", json!({"StreamName": name})).await;
    let mut users = Vec::new();
    let mut outer = 0;
    for shard in shards["Shards"].as_array().unwrap() {
        let iterator = call(
            client,
            "GetShardIterator",
            json!({"StreamName": name, "ShardId": shard["ShardId"],
                   "ShardIteratorType": "TRIM_HORIZON"}),
        )
        .await;
        let mut iterator = iterator["ShardIterator"].clone();
        loop {
            let out = call(client, "GetRecords", json!({"ShardIterator": iterator})).await;
            let records = out["Records"].as_array().unwrap();
            for record in records {
                outer += 1;
                let data = STANDARD.decode(record["Data"].as_str().unwrap()).unwrap();
                match kstream_kpl::deaggregate(&data) {
                    kstream_kpl::Deaggregated::Aggregated(subs) => {
                        for sub in subs {
                            users.push(serde_json::from_slice(&sub.data).unwrap());
                        }
                    }
                    kstream_kpl::Deaggregated::NotAggregated { .. } => {
                        users.push(serde_json::from_slice(&data).unwrap());
                    }
                }
            }
            if records.is_empty() {
                break;
            }
            iterator = out["NextShardIterator"].clone();
        }
    }
    (users, outer)
}

fn event(payload: Value, timeout: Duration) -> LambdaEvent<Value> {
    let mut context = Context::default();
    context.request_id = "c0ffee00-0000-4000-8000-000000000001".into();
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    context.deadline = u64::try_from((now + timeout).as_millis()).unwrap();
    LambdaEvent::new(payload, context)
}

fn function(client: AwsClient, config: Config) -> (ScheduledProducer, Arc<MemorySink>) {
    let sink = Arc::new(MemorySink::default());
    let telemetry = Telemetry::new(MetricsConfig::builder().function_name("sp").build())
        .with_sink(sink.clone());
    (ScheduledProducer::new(config, client, telemetry), sink)
}

#[tokio::test]
#[ignore = "needs the emulator (scripts/test-e2e.sh)"]
async fn a_run_puts_the_inputs_count_of_aggregated_ticker_records() {
    let client = kinesis();
    let name = stream(&client, 2).await;
    let (producer, sink) = function(client.clone(), Config::new(&name));
    let report = handler(
        event(json!({"records": 300}), Duration::from_secs(30)),
        &producer,
    )
    .await
    .unwrap();
    assert_eq!(
        (report.requested, report.put, report.failed),
        (300, 300, 0),
        "{report:?}"
    );
    let (users, outer) = read_back(&client, &name).await;
    assert_eq!(users.len(), 300);
    assert!(
        outer < 300,
        "aggregated: {outer} Kinesis records for 300 user records"
    );
    for user in &users {
        let object = user.as_object().unwrap();
        assert_eq!(object.len(), 3, "{user}");
        let time = user["event_time"].as_str().unwrap();
        assert_eq!(
            time.len(),
            "2026-11-22 05:00:00.123".len(),
            "sql by default: {time}"
        );
        assert!(kstream_ticker::TICKERS.contains(&user["ticker"].as_str().unwrap()));
        assert!((0.0..100.0).contains(&user["price"].as_f64().unwrap()));
    }
    let doc = &sink.invocation_documents()[0];
    assert_eq!(doc["RecordsPut"], 300);
    assert_eq!(doc["RecordsFailed"], 0);
}

#[tokio::test]
#[ignore = "needs the emulator (scripts/test-e2e.sh)"]
async fn an_absent_input_runs_the_environments_count_at_its_rate() {
    let client = kinesis();
    let name = stream(&client, 1).await;
    let mut config = Config::new(&name);
    config.records_per_run = 20;
    config.rate = 40;
    let (producer, _) = function(client.clone(), config);
    let report = handler(event(Value::Null, Duration::from_secs(30)), &producer)
        .await
        .unwrap();
    assert_eq!(report.put, 20);
    assert!(
        report.duration_ms >= 450,
        "20 records at 40/s take about 0.5 s: {report:?}"
    );
    assert_eq!(read_back(&client, &name).await.0.len(), 20);
}

#[tokio::test]
#[ignore = "needs the emulator (scripts/test-e2e.sh)"]
async fn records_that_cannot_be_put_fail_the_invocation_with_the_counts() {
    let client = kinesis();
    // A stream that does not exist: the producer cannot start, nothing is put.
    let (producer, _) = function(client.clone(), Config::new("sp-no-such-stream"));
    let err = handler(
        event(json!({"records": 5}), Duration::from_secs(30)),
        &producer,
    )
    .await
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("could not start the producer for stream sp-no-such-stream"),
        "{err}"
    );
    // A stream deleted after the producer read its shards: every record fails after retries
    // (or at the deadline) and the invocation says how many.
    let name = stream(&client, 1).await;
    let (producer, sink) = function(client.clone(), Config::new(&name));
    let deleting = {
        let client = client.clone();
        let name = name.clone();
        async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            delete_stream(&client, &name).await;
        }
    };
    let run = handler(
        event(json!({"records": 30, "rate": 10}), Duration::from_secs(8)),
        &producer,
    );
    let (result, ()) = tokio::join!(run, deleting);
    let err = result.unwrap_err().to_string();
    assert!(
        err.contains("of 30 records were not put into stream"),
        "{err}"
    );
    let doc = &sink.invocation_documents()[0];
    let not_put = doc["RecordsFailed"].as_u64().unwrap()
        + doc["RecordsUnresolved"].as_u64().unwrap()
        + (30 - doc["RecordsProduced"].as_u64().unwrap());
    assert!(
        not_put > 0 && doc["RecordsPut"].as_u64().unwrap() + not_put == 30,
        "{doc}"
    );
}
