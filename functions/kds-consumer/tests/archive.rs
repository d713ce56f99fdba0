//! The failed-record archive, through the handler with AWS-shaped events (tests/fixtures):
//! every record named in `batchItemFailures` is written once under its own key, with its data
//! as the event carried it; a retry writes the same keys; a failed write changes nothing in the
//! response and is counted. (Against S3 on the emulator: tests/emulator.rs.)

use std::collections::BTreeMap;
use std::sync::Arc;

use kds_consumer::event::KinesisEvent;
use kds_consumer::{Consumer, ValidatingProcessor, handler};
use kstream_pipeline::Telemetry;
use kstream_pipeline::archive::{ArchiveConfig, FailedRecordArchive};
use kstream_pipeline::config::{Env, FunctionConfig};
use kstream_pipeline::emf::{MemorySink, MetricsConfig};
use kstream_pipeline::store::MemoryStore;
use lambda_runtime::{Context, LambdaEvent};
use serde_json::Value;

fn fixture(name: &str) -> (KinesisEvent, Value) {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap();
    (
        serde_json::from_str(&text).unwrap(),
        serde_json::from_str(&text).unwrap(),
    )
}

fn config() -> ArchiveConfig {
    ArchiveConfig {
        bucket: "archive".into(),
        prefix: "failed-records/".into(),
    }
}

fn archiving_consumer(store: Arc<MemoryStore>, archive: bool) -> (Consumer, Arc<MemorySink>) {
    let sink = Arc::new(MemorySink::default());
    let telemetry = Telemetry::new(
        MetricsConfig::builder()
            .namespace("kstream-test")
            .function_name("kds-consumer-test")
            .build(),
    )
    .with_sink(sink.clone());
    let mut builder = Consumer::builder()
        .processor(ValidatingProcessor::default())
        .telemetry(telemetry);
    if archive {
        builder = builder.archive(FailedRecordArchive::new(
            store,
            &config(),
            "kstream-p1-consumer",
        ));
    }
    (builder.build(), sink)
}

async fn failed(event: &KinesisEvent, consumer: &Consumer) -> Vec<String> {
    handler(
        LambdaEvent::new(event.clone(), Context::default()),
        consumer,
    )
    .await
    .unwrap()
    .batch_item_failures
    .iter()
    .map(|f| f.item_identifier.clone().unwrap())
    .collect()
}

fn objects(store: &MemoryStore) -> BTreeMap<String, Value> {
    store
        .objects()
        .into_iter()
        .map(|(k, body)| {
            assert!(body.ends_with(b"\n"));
            (k, serde_json::from_slice(&body).unwrap())
        })
        .collect()
}

#[tokio::test]
async fn every_failed_record_is_archived_once_under_its_own_key() {
    let (event, raw) = fixture("mixed.json");
    let store = Arc::new(MemoryStore::default());
    let (consumer, sink) = archiving_consumer(store.clone(), true);
    let failed = failed(&event, &consumer).await;
    assert_eq!(
        failed,
        raw["expectedBatchItemFailures"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect::<Vec<_>>(),
        "the archive changes nothing in the response"
    );

    let objects = objects(&store);
    // The fifth failure is sub-record 1 of a KPL aggregate: its key says so.
    let expected_keys: Vec<String> = failed
        .iter()
        .enumerate()
        .map(|(i, seq)| {
            let sub = if i == 4 { "-1" } else { "" };
            format!("failed-records/shardId-000000000000/{seq}{sub}.json")
        })
        .collect();
    let mut keys: Vec<String> = objects.keys().cloned().collect();
    keys.sort_by_key(|k| expected_keys.iter().position(|e| e == k));
    assert_eq!(keys, expected_keys);

    let kinds = raw["expectedErrorKinds"].as_array().unwrap();
    let report = consumer.process_batch(&event).await;
    for ((key, seq), (kind, failure)) in expected_keys
        .iter()
        .zip(&failed)
        .zip(kinds.iter().zip(&report.failures))
    {
        let record = event
            .records
            .iter()
            .find(|r| &r.kinesis.sequence_number == seq)
            .unwrap();
        let doc = &objects[key];
        assert_eq!(doc["function_name"], "kstream-p1-consumer");
        assert_eq!(
            doc["event_source_arn"],
            "arn:aws:kinesis:us-east-1:123456789012:stream/kstream-p1-stream"
        );
        assert_eq!(doc["shard_id"], "shardId-000000000000");
        assert_eq!(doc["sequence_number"], seq.as_str());
        assert_eq!(doc["partition_key"], record.kinesis.partition_key.as_str());
        assert_eq!(
            doc["approximate_arrival_timestamp"].as_f64(),
            record.kinesis.approximate_arrival_timestamp
        );
        assert_eq!(
            doc["data_base64"],
            record.kinesis.data.as_str(),
            "the data as the event carried it (the whole aggregate for a KPL record)"
        );
        assert_eq!(&doc["error_kind"], kind);
        assert_eq!(doc["reason"], failure.error.to_string());
        assert_eq!(
            doc["sub_sequence_number"].as_u64(),
            failure.error.sub_sequence_number()
        );
        assert!(doc["archived_at"].as_f64().unwrap() > 1_700_000_000.0);
    }

    let doc = &sink.invocation_documents()[0];
    assert_eq!(doc["FailedRecords"], 5);
    assert_eq!(doc["ArchivedRecords"], 5);
    assert_eq!(doc["ArchiveFailures"], 0);
}

#[tokio::test]
async fn a_retry_overwrites_instead_of_multiplying() {
    let (event, _) = fixture("mixed.json");
    let store = Arc::new(MemoryStore::default());
    let (consumer, _) = archiving_consumer(store.clone(), true);
    let first = failed(&event, &consumer).await;
    let before = store.objects();
    let second = failed(&event, &consumer).await;
    assert_eq!(first, second);
    assert_eq!(
        store.puts(),
        10,
        "each of the 5 written by both invocations"
    );
    let after = store.objects();
    assert_eq!(
        after.keys().collect::<Vec<_>>(),
        before.keys().collect::<Vec<_>>(),
        "the same keys, no new object"
    );
}

#[tokio::test]
async fn a_failed_archive_write_is_counted_and_the_record_still_reported() {
    let (event, _) = fixture("mixed.json");
    let store = Arc::new(MemoryStore::default());
    let (consumer_off, _) = archiving_consumer(Arc::new(MemoryStore::default()), false);
    let expected = failed(&event, &consumer_off).await;
    // The writes of the poison record (the second failure) fail.
    store.fail_keys_containing(Some(&expected[1]));
    let (consumer, sink) = archiving_consumer(store.clone(), true);
    assert_eq!(failed(&event, &consumer).await, expected);
    let keys: Vec<String> = store.objects().into_keys().collect();
    assert_eq!(keys.len(), 4);
    assert!(!keys.iter().any(|k| k.contains(&expected[1])));
    let doc = &sink.invocation_documents()[0];
    assert_eq!(doc["ArchivedRecords"], 4);
    assert_eq!(doc["ArchiveFailures"], 1);
    assert_eq!(doc["FailedRecords"], 5);
}

#[tokio::test]
async fn nothing_is_archived_when_every_record_succeeds() {
    let (event, _) = fixture("plain.json");
    let store = Arc::new(MemoryStore::default());
    let (consumer, sink) = archiving_consumer(store.clone(), true);
    assert!(failed(&event, &consumer).await.is_empty());
    assert_eq!(store.puts(), 0);
    assert_eq!(sink.invocation_documents()[0]["ArchivedRecords"], 0);
}

#[tokio::test]
async fn the_archive_is_off_unless_its_bucket_is_set() {
    let off = Consumer::from_env_with(&Env::from_pairs(&[])).unwrap();
    assert_eq!(off.archive_config(), None);
    let (consumer, sink) = archiving_consumer(Arc::new(MemoryStore::default()), false);
    let (event, _) = fixture("mixed.json");
    failed(&event, &consumer).await;
    let doc = &sink.invocation_documents()[0];
    assert!(doc.get("ArchivedRecords").is_none() && doc.get("ArchiveFailures").is_none());

    let on = Consumer::from_env_with(&Env::from_pairs(&[
        ("FAILED_RECORD_ARCHIVE_BUCKET", "archive"),
        ("FAILED_RECORD_ARCHIVE_PREFIX", "p1/failed/"),
    ]))
    .unwrap();
    assert_eq!(
        on.archive_config(),
        Some(&ArchiveConfig {
            bucket: "archive".into(),
            prefix: "p1/failed/".into()
        })
    );
    let bad = Consumer::from_env_with(&Env::from_pairs(&[
        ("FAILED_RECORD_ARCHIVE_BUCKET", "archive"),
        ("FAILED_RECORD_ARCHIVE_PREFIX", "/failed"),
    ]))
    .unwrap_err();
    assert!(
        bad.to_string()
            .starts_with("FAILED_RECORD_ARCHIVE_PREFIX=\"/failed\": an S3 prefix"),
        "{bad}"
    );
}
