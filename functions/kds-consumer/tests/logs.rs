//! Log tests: a failed record's warning carries the record's span (`sequence_number`,
//! `partition_key`, `shard_id`), whether the consumer made a span for every record (a processor
//! that logs) or only for the failure (`ValidatingProcessor`, at INFO), and the processor's own
//! events are logged inside the span of their record.

use std::io::Write;
use std::sync::{Arc, Mutex};

use kds_consumer::event::KinesisEvent;
use kds_consumer::{Consumer, ProcessError, RecordProcessor, UserRecord, ValidatingProcessor};
use kstream_pipeline::Telemetry;
use kstream_pipeline::emf::{MemorySink, MetricsConfig};
use lambda_runtime::{Context, LambdaEvent};
use serde_json::{Value, json};
use tracing_subscriber::fmt::MakeWriter;

/// The log lines written, shared with the subscriber.
#[derive(Clone, Default)]
struct Lines(Arc<Mutex<Vec<u8>>>);

impl Write for Lines {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Lines {
    type Writer = Lines;

    fn make_writer(&'a self) -> Lines {
        self.clone()
    }
}

/// The shipped validation, logging every record it sees at INFO.
#[derive(Default)]
struct Chatty(ValidatingProcessor);

impl RecordProcessor for Chatty {
    async fn process(&self, record: &UserRecord<'_>) -> Result<(), ProcessError> {
        tracing::info!(bytes = record.data.len(), "seen");
        self.0.validate(record.json)
    }
}

fn event() -> KinesisEvent {
    serde_json::from_value(json!({"Records": [
        {"kinesis": {"sequenceNumber": "1", "partitionKey": "a", "data": "eyJvayI6dHJ1ZX0="},
         "eventID": "shardId-000000000007:1"},
        {"kinesis": {"sequenceNumber": "2", "partitionKey": "b", "data": "eyJwb2lzb24iOnRydWV9"},
         "eventID": "shardId-000000000007:2"},
    ]}))
    .unwrap()
}

/// The JSON log lines the handler writes at INFO for `event()`.
fn log_lines<P: RecordProcessor>(processor: P) -> Vec<Value> {
    let lines = Lines::default();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_max_level(tracing::Level::INFO)
        .with_writer(lines.clone())
        .finish();
    let consumer: Consumer<P> = Consumer::builder()
        .processor(processor)
        .telemetry(
            Telemetry::new(MetricsConfig::builder().namespace("kstream-test").build())
                .with_sink(Arc::new(MemorySink::default())),
        )
        .try_build()
        .ok()
        .unwrap();
    tracing::subscriber::with_default(subscriber, || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let response = runtime
            .block_on(kds_consumer::handler(
                LambdaEvent::new(event(), Context::default()),
                &consumer,
            ))
            .unwrap();
        assert_eq!(response.batch_item_failures.len(), 1);
    });
    let text = String::from_utf8(lines.0.lock().unwrap().clone()).unwrap();
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn record_span(sequence_number: &str, partition_key: &str) -> Value {
    json!({"name": "record", "sequence_number": sequence_number,
           "partition_key": partition_key, "shard_id": "shardId-000000000007"})
}

fn failure(lines: &[Value]) -> &Value {
    let failures: Vec<&Value> = lines.iter().filter(|l| l["level"] == "WARN").collect();
    assert_eq!(failures.len(), 1, "{lines:?}");
    assert_eq!(failures[0]["fields"]["error_kind"], "Poison");
    failures[0]
}

#[test]
fn a_failure_is_logged_in_its_record_span_without_a_span_per_record() {
    let lines = log_lines(ValidatingProcessor::default());
    assert_eq!(failure(&lines)["span"], record_span("2", "b"));
}

#[test]
fn a_processor_that_logs_does_so_in_its_record_span() {
    let lines = log_lines(Chatty::default());
    assert_eq!(failure(&lines)["span"], record_span("2", "b"));
    let seen: Vec<&Value> = lines
        .iter()
        .filter(|l| l["fields"]["message"] == "seen")
        .map(|l| &l["span"])
        .collect();
    assert_eq!(seen, [&record_span("1", "a"), &record_span("2", "b")]);
}
