//! The failed-record archive through the handler, on real Kinesis event shapes
//! (tests/fixtures) and the real fare client against the local stand-in of the API: the record
//! named in `batchItemFailures` is written under its own key (with the failed sub-record of a KPL
//! aggregate), a retry overwrites it, and a failed archive write changes nothing else.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{FareServer, RotatingKey, config, fixture, ok};
use enrichment_consumer::{Enricher, MemoryStore, ObjectStore, StoreError, handler};
use kstream_pipeline::archive::{ArchiveConfig, FailedRecordArchive};
use kstream_pipeline::emf::MemorySink;
use kstream_pipeline::kinesis::KinesisEvent;
use lambda_runtime::{Context, LambdaEvent};
use serde_json::Value;

/// The MemoryStore shared with the test (the enricher owns its store).
struct ArcStore(Arc<MemoryStore>);

impl ObjectStore for ArcStore {
    fn put<'a>(
        &'a self,
        key: &'a str,
        body: Vec<u8>,
    ) -> futures::future::BoxFuture<'a, Result<(), StoreError>> {
        self.0.put(key, body)
    }
}

struct Setup {
    enricher: Enricher,
    sink: Arc<MemorySink>,
    output: Arc<MemoryStore>,
    archive: Arc<MemoryStore>,
}

/// An enricher calling `server` (every trip sampled), with the archive on.
async fn setup(server: &FareServer) -> Setup {
    let output = Arc::new(MemoryStore::default());
    let archive = Arc::new(MemoryStore::default());
    let (enricher, sink) = common::enricher(
        config(server, |c| c.sample_every = 1),
        RotatingKey::new(&["key-1"]),
        ArcStore(output.clone()),
    )
    .await;
    let config = ArchiveConfig {
        bucket: "archive".into(),
        prefix: "failed-records/".into(),
    };
    let enricher = enricher.with_archive(FailedRecordArchive::new(
        archive.clone(),
        &config,
        "kstream-p4-consumer",
    ));
    Setup {
        enricher,
        sink,
        output,
        archive,
    }
}

async fn failures(enricher: &Enricher, event: &KinesisEvent) -> Vec<String> {
    let mut context = Context::default();
    context.deadline = (std::time::SystemTime::now() + Duration::from_secs(60))
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    handler(LambdaEvent::new(event.clone(), context), enricher)
        .await
        .unwrap()
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone().unwrap())
        .collect()
}

fn refusing(id: i64) -> impl Fn(i64, usize, &str) -> (u16, Duration, String) + Send + Sync {
    move |got, _, _| {
        if got == id {
            (400, Duration::ZERO, "Missing ride_request_id".into())
        } else {
            ok(got)
        }
    }
}

fn document(store: &MemoryStore, key: &str) -> Value {
    let objects = store.objects();
    let body = objects
        .get(key)
        .unwrap_or_else(|| panic!("no {key} in {:?}", objects.keys()));
    serde_json::from_slice(body).unwrap()
}

#[tokio::test]
async fn the_failed_record_is_archived_and_a_retry_overwrites_it() {
    let server = FareServer::start(refusing(6)).await;
    let s = setup(&server).await;
    let mut event = fixture("trips.json");
    event.records.truncate(10);
    let failed = failures(&s.enricher, &event).await;
    let record = &event.records[5];
    assert_eq!(failed, [record.kinesis.sequence_number.as_str()]);

    let key = format!(
        "failed-records/shardId-000000000001/{}.json",
        record.kinesis.sequence_number
    );
    assert_eq!(s.archive.objects().len(), 1);
    let doc = document(&s.archive, &key);
    assert_eq!(doc["function_name"], "kstream-p4-consumer");
    assert_eq!(doc["shard_id"], "shardId-000000000001");
    assert_eq!(
        doc["sequence_number"],
        record.kinesis.sequence_number.as_str()
    );
    assert_eq!(doc["sub_sequence_number"], Value::Null);
    assert_eq!(doc["partition_key"], record.kinesis.partition_key.as_str());
    assert_eq!(
        doc["approximate_arrival_timestamp"].as_f64(),
        record.kinesis.approximate_arrival_timestamp
    );
    assert_eq!(doc["data_base64"], record.kinesis.data.as_str());
    assert_eq!(doc["error_kind"], "FareApiStatus");
    assert!(
        doc["reason"]
            .as_str()
            .unwrap()
            .starts_with("the fare API answered 400"),
        "{doc}"
    );
    let metrics = &s.sink.invocation_documents()[0];
    assert_eq!(
        (
            metrics["ArchivedRecords"].as_u64(),
            metrics["ArchiveFailures"].as_u64(),
            metrics["BatchItemFailures"].as_u64()
        ),
        (Some(1), Some(0), Some(1))
    );

    // Lambda retries from the failed record: the same key, no second object.
    let retry = KinesisEvent {
        records: event.records[5..].to_vec(),
    };
    assert_eq!(failures(&s.enricher, &retry).await, failed);
    assert_eq!(s.archive.puts(), 2);
    assert_eq!(s.archive.objects().into_keys().collect::<Vec<_>>(), [key]);
}

#[tokio::test]
async fn the_failed_sub_record_of_an_aggregate_names_its_key() {
    // kpl.json: record 1 aggregates trips 40, 60 and 80; 60 is refused.
    let server = FareServer::start(refusing(60)).await;
    let s = setup(&server).await;
    let event = fixture("kpl.json");
    let failed = failures(&s.enricher, &event).await;
    let record = &event.records[1];
    assert_eq!(failed, [record.kinesis.sequence_number.as_str()]);
    let key = format!(
        "failed-records/shardId-000000000001/{}-1.json",
        record.kinesis.sequence_number
    );
    let doc = document(&s.archive, &key);
    assert_eq!(doc["sub_sequence_number"], 1);
    assert_eq!(
        doc["data_base64"],
        record.kinesis.data.as_str(),
        "the whole aggregate, every sub-record"
    );
}

#[tokio::test]
async fn a_failed_archive_write_is_counted_and_changes_nothing_else() {
    let server = FareServer::start(refusing(6)).await;
    let s = setup(&server).await;
    s.archive.fail_keys_containing(Some("failed-records/"));
    let mut event = fixture("trips.json");
    event.records.truncate(10);
    let failed = failures(&s.enricher, &event).await;
    assert_eq!(failed, [event.records[5].kinesis.sequence_number.clone()]);
    assert!(s.archive.objects().is_empty());
    let rows: usize = s
        .output
        .objects()
        .values()
        .map(|b| b.iter().filter(|&&c| c == b'\n').count())
        .sum();
    assert_eq!(
        rows, 5,
        "the rows before the failed record are written as always"
    );
    let metrics = &s.sink.invocation_documents()[0];
    assert_eq!(
        (
            metrics["ArchivedRecords"].as_u64(),
            metrics["ArchiveFailures"].as_u64()
        ),
        (Some(0), Some(1))
    );
}

#[tokio::test]
async fn nothing_is_archived_without_a_failure() {
    let server = FareServer::fares().await;
    let s = setup(&server).await;
    let event = fixture("trips.json");
    assert!(failures(&s.enricher, &event).await.is_empty());
    assert_eq!(s.archive.puts(), 0);
    assert_eq!(s.sink.invocation_documents()[0]["ArchivedRecords"], 0);
}
