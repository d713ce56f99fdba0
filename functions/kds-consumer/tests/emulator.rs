//! The failed-record archive against S3 on the emulator (moto), wired as main.rs wires it: the
//! handler writes every failed record of an AWS-shaped event to a real bucket, read back here;
//! with the bucket gone, every write fails, is counted, and the response is unchanged.
//!
//! Needs `AWS_ENDPOINT_URL`: `#[ignore]`d here, run by scripts/test-e2e.sh (`-- --ignored`).

use std::sync::Arc;

use kds_consumer::event::KinesisEvent;
use kds_consumer::{Consumer, ValidatingProcessor, handler};
use kstream_local_testkit::{emulator, s3_objects};
use kstream_pipeline::Telemetry;
use kstream_pipeline::archive::{ArchiveConfig, FailedRecordArchive};
use kstream_pipeline::aws::AwsClient;
use kstream_pipeline::emf::{MemorySink, MetricsConfig};
use kstream_pipeline::store::S3Store;
use lambda_runtime::{Context, LambdaEvent};
use serde_json::Value;

fn archiving_consumer(bucket: &str) -> (Consumer, Arc<MemorySink>) {
    let sink = Arc::new(MemorySink::default());
    let config = ArchiveConfig {
        bucket: bucket.to_owned(),
        prefix: "failed-records/".into(),
    };
    // As main.rs builds it: the signing client from the environment (AWS_ENDPOINT_URL).
    let client = AwsClient::from_env().expect("AWS client from the emulator's environment");
    let store = S3Store::new(client, config.bucket.clone());
    let consumer = Consumer::builder()
        .processor(ValidatingProcessor::default())
        .telemetry(
            Telemetry::new(MetricsConfig::builder().namespace("kstream-test").build())
                .with_sink(sink.clone()),
        )
        .archive(FailedRecordArchive::new(
            Arc::new(store),
            &config,
            "kstream-p1-consumer",
        ))
        .build();
    (consumer, sink)
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

#[tokio::test]
#[ignore = "needs the emulator (scripts/test-e2e.sh)"]
async fn failed_records_are_archived_to_s3_and_a_missing_bucket_loses_nothing() {
    let emu = emulator().await;
    let s3 = aws_sdk_s3::Client::new(&emu.sdk);
    let bucket = format!("{}-archive", emu.prefix.to_lowercase());
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    let path = format!("{}/tests/fixtures/mixed.json", env!("CARGO_MANIFEST_DIR"));
    let event: KinesisEvent =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();

    let (consumer, sink) = archiving_consumer(&bucket);
    let expected = failed(&event, &consumer).await;
    assert_eq!(expected.len(), 5);
    // A retry of the same batch: the same keys again.
    assert_eq!(failed(&event, &consumer).await, expected);

    let objects = s3_objects(&s3, &bucket).await;
    assert_eq!(
        objects.len(),
        5,
        "one object per failed record, retries included"
    );
    for seq in &expected {
        let (key, _, body) = objects
            .iter()
            .find(|(k, _, _)| k.contains(seq.as_str()))
            .unwrap_or_else(|| panic!("no object for {seq}"));
        assert!(key.starts_with(&format!("failed-records/shardId-000000000000/{seq}")));
        let doc: Value = serde_json::from_slice(body).unwrap();
        let record = event
            .records
            .iter()
            .find(|r| &r.kinesis.sequence_number == seq)
            .unwrap();
        assert_eq!(doc["data_base64"], record.kinesis.data.as_str());
        assert_eq!(doc["sequence_number"], seq.as_str());
        assert!(!doc["reason"].as_str().unwrap().is_empty());
    }
    let head = s3
        .head_object()
        .bucket(&bucket)
        .key(&objects[0].0)
        .send()
        .await
        .unwrap();
    assert_eq!(head.content_type(), Some("application/json"));
    let doc = &sink.invocation_documents()[0];
    assert_eq!(
        (
            doc["ArchivedRecords"].as_u64(),
            doc["ArchiveFailures"].as_u64()
        ),
        (Some(5), Some(0))
    );

    // The bucket is gone: every write fails (NoSuchBucket), is counted, and the response still
    // names every failed record.
    let (consumer, sink) = archiving_consumer(&format!("{bucket}-missing"));
    assert_eq!(failed(&event, &consumer).await, expected);
    let doc = &sink.invocation_documents()[0];
    assert_eq!(
        (
            doc["ArchivedRecords"].as_u64(),
            doc["ArchiveFailures"].as_u64()
        ),
        (Some(0), Some(5))
    );

    for (key, _, _) in &objects {
        let _ = s3.delete_object().bucket(&bucket).key(key).send().await;
    }
    let _ = s3.delete_bucket().bucket(&bucket).send().await;
}
