//! Handler tests: AWS-shaped Kinesis events (tests/fixtures, made by make_fixtures.py with
//! the Python aws_kinesis_agg library for KPL aggregates) and aggregates made here with
//! kstream_kpl, passed to the handler as Lambda would; the response must name exactly the
//! failing sequence numbers, in batch order.

use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use kds_consumer::body::EventBody;
use kds_consumer::event::KinesisEvent;
use kds_consumer::{
    Consumer, EventError, ProcessError, RecordProcessor, UserRecord, ValidatingProcessor,
    handle_text, handler, handler_body,
};
use kstream_kpl::{Aggregator, AggregatorConfig, UserRecord as KplRecord};
use kstream_pipeline::Telemetry;
use kstream_pipeline::emf::{MemorySink, MetricsConfig};
use lambda_runtime::{Context, LambdaEvent};
use serde_json::{Value, json};

const FIXTURES: [&str; 6] = [
    "plain.json",
    "malformed_base64.json",
    "malformed_json.json",
    "kpl_python.json",
    "corrupt_kpl.json",
    "mixed.json",
];

fn fixture_text(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn strings(raw: &Value, member: &str) -> Vec<String> {
    raw[member]
        .as_array()
        .unwrap_or_else(|| panic!("fixture member {member}"))
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

/// The event and the failures the fixture expects.
fn fixture(name: &str) -> (KinesisEvent, Vec<String>) {
    let text = fixture_text(name);
    let raw: Value = serde_json::from_str(&text).unwrap();
    let expected = strings(&raw, "expectedBatchItemFailures");
    (serde_json::from_str(&text).unwrap(), expected)
}

fn test_consumer<P: RecordProcessor>(processor: P) -> (Consumer<P>, Arc<MemorySink>) {
    let sink = Arc::new(MemorySink::default());
    let consumer = Consumer::builder()
        .processor(processor)
        .telemetry(
            Telemetry::new(
                MetricsConfig::builder()
                    .namespace("kstream-test")
                    .function_name("kds-consumer-test")
                    .build(),
            )
            .with_sink(sink.clone()),
        )
        .try_build()
        .unwrap_or_else(|_| unreachable!("processor set"));
    (consumer, sink)
}

/// The failures `handle_text` (what the binary runs) reports for `event` as JSON text.
async fn run<P: RecordProcessor>(event: KinesisEvent, consumer: &Consumer<P>) -> Vec<String> {
    let text = serde_json::to_vec(&event).unwrap();
    let response = handle_text(&text, &Context::default(), consumer)
        .await
        .unwrap();
    response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone().expect("item identifier set"))
        .collect()
}

fn event(records: &[(&str, &str, Vec<u8>)]) -> KinesisEvent {
    let records: Vec<Value> = records
        .iter()
        .map(|(seq, pk, data)| {
            json!({
                "kinesis": {
                    "kinesisSchemaVersion": "1.0",
                    "partitionKey": pk,
                    "sequenceNumber": seq,
                    "data": BASE64.encode(data),
                    "approximateArrivalTimestamp": 1_732_246_800.5,
                },
                "eventSource": "aws:kinesis",
                "eventVersion": "1.0",
                "eventID": format!("shardId-000000000001:{seq}"),
                "eventName": "aws:kinesis:record",
                "invokeIdentityArn": "arn:aws:iam::123456789012:role/consumer",
                "awsRegion": "us-east-1",
                "eventSourceARN": "arn:aws:kinesis:us-east-1:123456789012:stream/s",
            })
        })
        .collect();
    serde_json::from_value(json!({ "Records": records })).unwrap()
}

/// Every fixture: the response names exactly the expected sequence numbers, in order.
#[tokio::test]
async fn fixtures_report_exactly_the_failing_sequence_numbers() {
    for name in FIXTURES {
        let (event, expected) = fixture(name);
        let (consumer, _) = test_consumer(ValidatingProcessor::default());
        assert_eq!(run(event, &consumer).await, expected, "fixture {name}");
    }
}

/// Every fixture: each record fails for the expected reason (a corrupt aggregate is not
/// "invalid UTF-8", though its bytes are not UTF-8 either).
/// `handler` (an owned event) and `handle_text` (the event's bytes) answer alike, and bytes
/// that are not a Kinesis event fail the invocation with a clear error.
#[tokio::test]
async fn both_handlers_answer_alike() {
    let (consumer, _) = test_consumer(ValidatingProcessor::new(["ticker"]));
    for name in FIXTURES {
        let text = fixture_text(name);
        let (event, _) = fixture(name);
        let owned = handler(LambdaEvent::new(event, Context::default()), &consumer)
            .await
            .unwrap();
        let borrowed = handle_text(text.as_bytes(), &Context::default(), &consumer)
            .await
            .unwrap();
        assert_eq!(borrowed, owned, "fixture {name}");
    }
    for (bytes, error) in [
        (
            &br#"{"Records": {"kinesis": 1}}"#[..],
            "the event is not a Kinesis event: invalid type: map, expected a sequence at line 1 column 12",
        ),
        (
            b"{\"Records\": [{\"kinesis\": {\"data\": \"\xff\"}}]}",
            "the event is not a Kinesis event: invalid unicode code point at line 1 column 36",
        ),
        (
            b"[",
            "the event is not a Kinesis event: EOF while parsing a list at line 1 column 1",
        ),
    ] {
        let failed = handle_text(bytes, &Context::default(), &consumer).await;
        assert_eq!(failed.unwrap_err().to_string(), error);
    }
    // The binary's path: the body put by the layer, taken once.
    let body = EventBody::default();
    let failed = handler_body(LambdaEvent::new((), Context::default()), &body, &consumer).await;
    assert!(matches!(failed, Err(EventError::NoBody)));
}

#[tokio::test]
async fn fixtures_fail_for_the_expected_reasons() {
    for name in FIXTURES {
        let raw: Value = serde_json::from_str(&fixture_text(name)).unwrap();
        let (event, expected_seqs) = fixture(name);
        let expected_kinds = strings(&raw, "expectedErrorKinds");
        let (consumer, _) = test_consumer(ValidatingProcessor::default());
        let report = consumer.process_batch(&event).await;
        let got: Vec<(String, &str)> = report
            .failures
            .iter()
            .map(|f| (f.sequence_number.clone(), f.error.kind()))
            .collect();
        let expected: Vec<(String, &str)> = expected_seqs
            .into_iter()
            .zip(expected_kinds.iter().map(String::as_str))
            .collect();
        assert_eq!(got, expected, "fixture {name}");
        for f in &report.failures {
            let message = f.error.to_string();
            assert!(!message.is_empty() && !message.contains("\n"), "{message}");
        }
    }
}

#[tokio::test]
async fn failure_messages_say_what_is_wrong() {
    let (event, _) = fixture("mixed.json");
    let (consumer, _) = test_consumer(ValidatingProcessor::default());
    let report = consumer.process_batch(&event).await;
    let messages: Vec<String> = report
        .failures
        .iter()
        .map(|f| f.error.to_string())
        .collect();
    assert!(
        messages[0].starts_with("record data is not valid base64: "),
        "{}",
        messages[0]
    );
    assert_eq!(
        messages[1],
        "poison record: field `poison` is true, so processing fails by convention"
    );
    assert!(
        messages[2].starts_with("record data is not valid JSON: "),
        "{}",
        messages[2]
    );
    assert!(
        messages[3].contains("MD5")
            && messages[3].ends_with(
                "(the record starts with the KPL magic, so it is not processed as plain data)"
            ),
        "{}",
        messages[3]
    );
    assert_eq!(
        messages[4],
        "sub-record 1 of the KPL aggregate: record data is not valid UTF-8: \
         invalid byte sequence at offset 0"
    );
}

#[tokio::test]
async fn plain_records_all_succeed() {
    let (event, expected) = fixture("plain.json");
    assert!(expected.is_empty());
    let (consumer, _) = test_consumer(ValidatingProcessor::default());
    let response = handler(LambdaEvent::new(event, Context::default()), &consumer)
        .await
        .unwrap();
    assert_eq!(
        serde_json::to_value(&response).unwrap(),
        json!({"batchItemFailures": []})
    );
}

#[tokio::test]
async fn response_serializes_as_lambda_expects() {
    let (event, expected) = fixture("malformed_json.json");
    let (consumer, _) = test_consumer(ValidatingProcessor::default());
    let response = handler(LambdaEvent::new(event, Context::default()), &consumer)
        .await
        .unwrap();
    let items: Vec<Value> = expected
        .iter()
        .map(|s| json!({ "itemIdentifier": s }))
        .collect();
    assert_eq!(
        serde_json::to_value(&response).unwrap(),
        json!({ "batchItemFailures": items })
    );
}

/// The fixtures are real AWS shapes: those without malformed base64 parse as
/// `aws_lambda_events::kinesis::KinesisEvent` to the same records and bytes.
#[test]
fn fixtures_match_aws_lambda_events_shape() {
    for name in FIXTURES {
        let text = fixture_text(name);
        let ours: KinesisEvent = serde_json::from_str(&text).unwrap();
        let theirs = serde_json::from_str::<aws_lambda_events::kinesis::KinesisEvent>(&text);
        let has_bad_base64 = ours
            .records
            .iter()
            .any(|r| BASE64.decode(&r.kinesis.data).is_err());
        if has_bad_base64 {
            // Why the consumer has its own event type: with aws_lambda_events, one bad
            // record fails the deserialization of the whole batch (a failed invocation).
            assert!(
                theirs.is_err(),
                "{name}: aws_lambda_events rejects the batch"
            );
            continue;
        }
        let theirs = theirs.unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(theirs.records.len(), ours.records.len(), "{name}");
        for (t, o) in theirs.records.iter().zip(&ours.records) {
            assert_eq!(t.kinesis.sequence_number, o.kinesis.sequence_number);
            assert_eq!(t.kinesis.partition_key, o.kinesis.partition_key);
            assert_eq!(
                &t.kinesis.data[..],
                &BASE64.decode(&o.kinesis.data).unwrap()[..]
            );
            assert_eq!(t.event_id, o.event_id);
            assert_eq!(t.event_source_arn, o.event_source_arn);
            assert_eq!(
                t.kinesis.kinesis_schema_version,
                o.kinesis.kinesis_schema_version
            );
        }
    }
}

/// What a processor saw, for assertions.
#[derive(Debug, Clone, PartialEq)]
struct Seen {
    sequence_number: String,
    sub_sequence_number: Option<u64>,
    partition_key: String,
    ticker: Option<String>,
}

/// Records every user record, then applies the shipped validation.
#[derive(Default)]
struct Recording {
    seen: Mutex<Vec<Seen>>,
    inner: ValidatingProcessor,
}

impl RecordProcessor for Recording {
    async fn process(&self, record: &UserRecord<'_>) -> Result<(), ProcessError> {
        self.seen.lock().unwrap().push(Seen {
            sequence_number: record.sequence_number.to_owned(),
            sub_sequence_number: record.sub_sequence_number,
            partition_key: record.partition_key.to_owned(),
            ticker: record.json["ticker"].as_str().map(str::to_owned),
        });
        self.inner.validate(record.json)
    }
}

#[tokio::test]
async fn python_aggregates_are_taken_apart_in_order() {
    let (event, expected) = fixture("kpl_python.json");
    let seqs: Vec<String> = event
        .records
        .iter()
        .map(|r| r.kinesis.sequence_number.clone())
        .collect();
    let (consumer, _) = test_consumer(Recording::default());
    assert_eq!(run(event, &consumer).await, expected);
    assert_eq!(expected, [seqs[2].clone()]);

    let seen = consumer.processor().seen.lock().unwrap().clone();
    let got: Vec<(usize, Option<u64>, &str, Option<&str>)> = seen
        .iter()
        .map(|s| {
            (
                seqs.iter().position(|q| *q == s.sequence_number).unwrap(),
                s.sub_sequence_number,
                s.partition_key.as_str(),
                s.ticker.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (0, Some(0), "AAPL", Some("AAPL")),
            (0, Some(1), "MSFT", Some("MSFT")),
            (0, Some(2), "AAPL", Some("AAPL")),
            (1, None, "INTC", Some("INTC")),
            (2, Some(0), "AMZN", Some("AMZN")),
            // sub-record 1 is poison: it fails the outer record, and sub-record 2
            // (not JSON) is skipped; it comes back with the retried record.
            (2, Some(1), "AMZN", None),
            (3, Some(0), "TBV", Some("TBV")),
        ]
    );
}

fn aggregate(records: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let config = AggregatorConfig::builder().build().unwrap();
    let mut aggregator = Aggregator::new(config);
    for (pk, data) in records {
        assert!(
            aggregator
                .add(KplRecord::new(*pk, data.clone()))
                .unwrap()
                .is_none()
        );
    }
    let record = aggregator.flush().expect("pending records");
    record.data.to_vec()
}

fn tick(ticker: &str, price: u32) -> Vec<u8> {
    serde_json::to_vec(&json!({"ticker": ticker, "price": price})).unwrap()
}

/// Aggregates made by kstream_kpl, good and bad, with plain records between them.
#[tokio::test]
async fn kstream_aggregates_good_and_bad() {
    let good = aggregate(&[("AAPL", tick("AAPL", 1)), ("MSFT", tick("MSFT", 2))]);
    let bad_json = aggregate(&[
        ("AAPL", tick("AAPL", 3)),
        ("AAPL", b"{\"ticker\":".to_vec()),
    ]);
    let poison_first = aggregate(&[
        ("TBV", br#"{"poison":true}"#.to_vec()),
        ("TBV", tick("TBV", 4)),
    ]);
    let mut corrupt = good.clone();
    let middle = corrupt.len() / 2;
    corrupt[middle] ^= 0x01; // MD5 no longer matches
    let event = event(&[
        ("100", "a", good.clone()),
        ("101", "AMZN", tick("AMZN", 5)),
        ("102", "a", bad_json),
        ("103", "a", poison_first),
        ("104", "a", corrupt),
        ("105", "a", good),
    ]);
    let (consumer, sink) = test_consumer(Recording::default());
    assert_eq!(run(event, &consumer).await, ["102", "103", "104"]);
    let seen = consumer.processor().seen.lock().unwrap().clone();
    let per_record: Vec<&str> = seen.iter().map(|s| s.sequence_number.as_str()).collect();
    // 102: its first sub-record is processed, the second fails to decode (the processor
    // never sees it); 103: fails on its first sub-record; 104 is never processed.
    assert_eq!(
        per_record,
        ["100", "100", "101", "102", "103", "105", "105"]
    );

    let doc = &sink.invocation_documents()[0];
    assert_eq!(doc["Records"], 6);
    assert_eq!(doc["AggregatedRecords"], 4);
    assert_eq!(doc["SubRecords"], 8);
    assert_eq!(doc["UserRecords"], 6);
    assert_eq!(doc["FailedRecords"], 3);
}

#[tokio::test]
async fn required_fields_are_enforced() {
    let event = event(&[
        ("1", "k", br#"{"ticker":"AMZN","price":1}"#.to_vec()),
        ("2", "k", br#"{"ticker":"AMZN"}"#.to_vec()),
        ("3", "k", br#"{"ticker":"AMZN","price":null}"#.to_vec()),
        (
            "4",
            "k",
            br#"{"price":1,"ticker":"X","extra":[1]}"#.to_vec(),
        ),
    ]);
    let (consumer, _) = test_consumer(ValidatingProcessor::new(["ticker", "price"]));
    assert_eq!(run(event, &consumer).await, ["2", "3"]);
}

/// A user-supplied processor's errors fail their records too.
struct RejectOddPrices;

impl RecordProcessor for RejectOddPrices {
    async fn process(&self, record: &UserRecord<'_>) -> Result<(), ProcessError> {
        match record.json["price"].as_u64() {
            Some(p) if p % 2 == 0 => Ok(()),
            other => Err(ProcessError::other(format!(
                "odd or missing price {other:?}"
            ))),
        }
    }
}

#[tokio::test]
async fn custom_processor_failures_are_reported() {
    let agg = aggregate(&[("a", tick("A", 2)), ("b", tick("B", 3))]);
    let event = event(&[
        ("1", "k", tick("A", 2)),
        ("2", "k", tick("A", 3)),
        ("3", "a", agg),
        ("4", "k", tick("A", 4)),
    ]);
    let (consumer, _) = test_consumer(RejectOddPrices);
    assert_eq!(run(event, &consumer).await, ["2", "3"]);
}

/// One EMF document per invocation, with every counter; written through the injected sink.
#[tokio::test]
async fn emf_document_per_invocation() {
    let (event, _) = fixture("mixed.json");
    let bytes: usize = event
        .records
        .iter()
        .filter_map(|r| BASE64.decode(&r.kinesis.data).ok())
        .map(|d| d.len())
        .sum();
    let (consumer, sink) = test_consumer(ValidatingProcessor::default());
    let mut context = Context::default();
    context.request_id = "6f1b1c1e-0000-4000-8000-000000000001".to_owned();
    handler(LambdaEvent::new(event, context), &consumer)
        .await
        .unwrap();

    let lines = sink.lines();
    assert_eq!(
        lines.len(),
        2,
        "the process's ColdStart document, then the invocation's"
    );
    assert!(lines.iter().all(|l| l.ends_with(b"\n")));
    let cold = &sink.documents()[0];
    assert_eq!(cold["ColdStart"], 1);
    assert_eq!(cold["function_name"], "kds-consumer-test");
    let doc = &sink.invocation_documents()[0];
    let meta = &doc["_aws"]["CloudWatchMetrics"][0];
    assert_eq!(meta["Namespace"], "kstream-test");
    assert_eq!(meta["Dimensions"], json!([["FunctionName"]]));
    let names: Vec<&str> = meta["Metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["Name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "Records",
            "Bytes",
            "AggregatedRecords",
            "SubRecords",
            "UserRecords",
            "FailedRecords"
        ]
    );
    assert!(doc["_aws"]["Timestamp"].as_u64().unwrap() > 1_700_000_000_000);
    assert_eq!(doc["FunctionName"], "kds-consumer-test");
    assert_eq!(doc["requestId"], "6f1b1c1e-0000-4000-8000-000000000001");
    // mixed.json: 10 records; 2 is not base64 (no bytes); aggregates at 3 (3 good
    // sub-records) and 9 (first sub-record ok, second not UTF-8); 7 is corrupt.
    assert_eq!(doc["Records"], 10);
    assert_eq!(doc["Bytes"], bytes);
    assert_eq!(doc["AggregatedRecords"], 2);
    assert_eq!(doc["SubRecords"], 5);
    // plain ok: 1, 5, 8, 10; sub-records ok: 3 (three), 9 (one)
    assert_eq!(doc["UserRecords"], 8);
    assert_eq!(doc["FailedRecords"], 5);
}

#[tokio::test]
async fn empty_batch() {
    let (consumer, sink) = test_consumer(ValidatingProcessor::default());
    assert!(run(KinesisEvent::default(), &consumer).await.is_empty());
    assert_eq!(sink.invocation_documents()[0]["Records"], 0);
}

/// A record without a sequence number cannot be named: Lambda reads an empty identifier
/// as "the whole batch failed", which is the safe answer.
#[tokio::test]
async fn record_without_sequence_number_fails_the_batch() {
    let event: KinesisEvent = serde_json::from_value(json!({
        "Records": [{"kinesis": {"partitionKey": "k", "data": "bm90IGpzb24="}}]
    }))
    .unwrap();
    let (consumer, _) = test_consumer(ValidatingProcessor::default());
    assert_eq!(run(event, &consumer).await, [""]);
}

/// A Lambda-sized batch of aggregates of different sizes (more than the 16 MD5 lanes, so lanes
/// are refilled), every fifth with a bad MD5 and one with malformed base64: exactly those fail,
/// every other user record is processed in order.
#[tokio::test]
async fn a_large_batch_of_aggregates_fails_exactly_the_corrupt_ones() {
    let mut records: Vec<(String, Vec<u8>)> = Vec::new();
    let mut want_failed = Vec::new();
    let mut want_seen = Vec::new();
    for i in 0..100u32 {
        let seq = format!("{}", 1000 + i);
        let users: Vec<(&str, Vec<u8>)> = (0..2 + i % 7 * 20)
            .map(|j| ("AAPL", tick("AAPL", i * 1000 + j)))
            .collect();
        let mut data = aggregate(&users);
        if i % 5 == 3 {
            let at = 4 + (i as usize * 37) % (data.len() - 20);
            data[at] ^= 0x40;
            want_failed.push(seq.clone());
        } else {
            want_seen.extend(std::iter::repeat_n(seq.clone(), users.len()));
        }
        records.push((seq, data));
    }
    let borrowed: Vec<(&str, &str, Vec<u8>)> = records
        .iter()
        .map(|(seq, data)| (seq.as_str(), "a", data.clone()))
        .collect();
    let mut event = event(&borrowed);
    event.records[50].kinesis.data = "not base64!".to_owned();
    want_failed.push("1050".to_owned());
    want_failed.sort();
    want_seen.retain(|seq| seq != "1050");

    let (consumer, sink) = test_consumer(Recording::default());
    assert_eq!(run(event, &consumer).await, want_failed);
    let seen = consumer.processor().seen.lock().unwrap().clone();
    let seen: Vec<&str> = seen.iter().map(|s| s.sequence_number.as_str()).collect();
    assert_eq!(seen, want_seen);
    assert_eq!(
        sink.invocation_documents()[0]["UserRecords"],
        want_seen.len()
    );
}

/// Per-record bounds: data past 1 MiB and JSON nested past serde_json's 128 fail alone,
/// the records around them succeed.
#[tokio::test]
async fn oversized_and_deep_records_fail_alone() {
    let big = format!(
        r#"{{"ticker":"AMZN","price":1,"pad":"{}"}}"#,
        "x".repeat(kds_consumer::MAX_RECORD_BYTES)
    );
    let deep = format!(
        r#"{{"ticker":"AMZN","price":1,"d":{}0{}}}"#,
        "[".repeat(200_000),
        "]".repeat(200_000)
    );
    let ok = br#"{"ticker":"AMZN","price":1}"#.to_vec();
    let event = event(&[
        ("1", "a", ok.clone()),
        ("2", "a", big.into_bytes()),
        ("3", "a", deep.into_bytes()),
        ("4", "a", ok),
    ]);
    let (consumer, _) = test_consumer(ValidatingProcessor::default());
    let report = consumer.process_batch(&event).await;
    let failed: Vec<(&str, &str)> = report
        .failures
        .iter()
        .map(|f| (f.sequence_number.as_str(), f.error.kind()))
        .collect();
    assert_eq!(failed, [("2", "RecordTooLarge"), ("3", "InvalidJson")]);
    assert!(
        report.failures[0]
            .error
            .to_string()
            .ends_with("bytes, more than the 1048576 a record may hold"),
        "{}",
        report.failures[0].error
    );
    assert!(
        report.failures[1]
            .error
            .to_string()
            .contains("recursion limit exceeded"),
        "{}",
        report.failures[1].error
    );
}
