//! The producer against the emulator (moto): every record read back with GetRecords and
//! deaggregated, none lost, order kept per partition key, on a multi-shard stream.
//!
//! Needs `AWS_ENDPOINT_URL` (and test credentials); run by scripts/test-producer-emulator.sh,
//! which scripts/test-e2e.sh calls. The streams are made and read with the SDK's client; the
//! producer runs on it, and (feature `signed`) on the signing client scheduled-producer uses.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_kinesis::Client;
use aws_sdk_kinesis::types::{Record, ShardIteratorType, StreamStatus};
use kstream_kpl::ShardMap;
use kstream_producer::{Kinesis, Producer, UserRecord};

use crate::common::{ReadBack, check_read_back, fast_config, payload, put_all, user_records};

async fn client() -> Client {
    let endpoint = std::env::var("AWS_ENDPOINT_URL")
        .expect("AWS_ENDPOINT_URL must point at the emulator (scripts/test-e2e.sh sets it)");
    kstream_producer::client_from_env(Some(&endpoint), None).await
}

fn unique(prefix: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{prefix}-{}-{nanos}", std::process::id())
}

async fn create_stream(client: &Client, name: &str, shards: i32) {
    client
        .create_stream()
        .stream_name(name)
        .shard_count(shards)
        .send()
        .await
        .expect("CreateStream");
    for _ in 0..50 {
        let out = client
            .describe_stream_summary()
            .stream_name(name)
            .send()
            .await
            .expect("DescribeStreamSummary");
        if out
            .stream_description_summary()
            .is_some_and(|s| *s.stream_status() == StreamStatus::Active)
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("stream {name} did not become active");
}

async fn shard_map(client: &Client, name: &str) -> ShardMap {
    let out = client.list_shards().stream_name(name).send().await.unwrap();
    ShardMap::from_decimal(out.shards().iter().map(|s| {
        let range = s.hash_key_range().unwrap();
        (
            s.shard_id().to_owned(),
            range.starting_hash_key().to_owned(),
            range.ending_hash_key().to_owned(),
        )
    }))
    .unwrap()
}

/// Every record of one shard, from TRIM_HORIZON to the end.
async fn shard_records(client: &Client, name: &str, shard_id: &str) -> Vec<Record> {
    let mut iterator = client
        .get_shard_iterator()
        .stream_name(name)
        .shard_id(shard_id)
        .shard_iterator_type(ShardIteratorType::TrimHorizon)
        .send()
        .await
        .unwrap()
        .shard_iterator
        .unwrap();
    let mut out = Vec::new();
    loop {
        let page = client
            .get_records()
            .shard_iterator(&iterator)
            .limit(10_000)
            .send()
            .await
            .expect("GetRecords");
        let caught_up = page.records().is_empty() || page.millis_behind_latest() == Some(0);
        let more = !page.records().is_empty() || !caught_up;
        out.extend_from_slice(page.records());
        match page.next_shard_iterator() {
            Some(next) if more => iterator = next.to_owned(),
            _ => return out,
        }
    }
}

/// Reads every shard from TRIM_HORIZON to the end and deaggregates.
async fn read_all(client: &Client, name: &str) -> Vec<ReadBack> {
    let shards = client.list_shards().stream_name(name).send().await.unwrap();
    let mut out = Vec::new();
    for shard in shards.shards() {
        let records = shard_records(client, name, shard.shard_id()).await;
        for (position, record) in records.iter().enumerate() {
            out.extend(user_records(
                shard.shard_id(),
                position as u64,
                record.partition_key().unwrap_or_default(),
                record.data().as_ref(),
            ));
        }
    }
    out
}

/// Puts `per_key` records for each of `keys` through a producer of stream `name` on `kinesis`
/// (which must find the stream's `shards`), and checks that every one is read back once, most
/// of them aggregated, in order per key, on the shard owning its key; deletes the stream.
async fn put_and_read_back(
    client: &Client,
    kinesis: impl Kinesis,
    name: &str,
    shards: usize,
    keys: &[String],
    per_key: usize,
) {
    let producer = Producer::new(kinesis, fast_config(name).build().unwrap())
        .await
        .unwrap();
    assert!(producer.aggregating());
    assert_eq!(producer.shard_count(), Some(shards));
    let results = put_all(&producer, keys, per_key).await;
    for result in results {
        let outcome = result.expect("every record put");
        assert!(outcome.shard_id.starts_with("shardId-"), "{outcome:?}");
        assert!(!outcome.sequence_number.is_empty(), "{outcome:?}");
    }
    let total = (keys.len() * per_key) as u64;
    let metrics = producer.shutdown().await;
    assert_eq!(metrics.totals.user_records_put, total);
    assert!(
        metrics.totals.user_records_per_kinesis_record() > 5.0,
        "{metrics:?}"
    );

    let records = read_all(client, name).await;
    let aggregated = records.iter().filter(|r| r.aggregated).count() as u64;
    assert!(
        aggregated > total / 2,
        "most records aggregated: {aggregated}"
    );
    let map = shard_map(client, name).await;
    let duplicates = check_read_back(&records, keys, per_key, &map);
    assert_eq!(duplicates, 0);
    assert_eq!(records.len() as u64, total);
    client
        .delete_stream()
        .stream_name(name)
        .send()
        .await
        .unwrap();
}

#[tokio::test]
#[ignore = "needs the emulator: run by scripts/test-e2e.sh"]
async fn every_record_is_read_back_in_order_per_key() {
    let client = client().await;
    let name = unique("producer-e2e");
    create_stream(&client, &name, 4).await;
    let keys: Vec<String> = (0..25).map(|i| format!("ticker-{i}")).collect();
    put_and_read_back(&client, client.clone(), &name, 4, &keys, 80).await;
}

/// The producer on kstream-pipeline's signing client (no SDK), configured from the environment
/// as scheduled-producer's `main.rs` does: the stream described, its shards listed, every
/// record put and read back, aggregated, in order per key.
#[cfg(feature = "signed")]
#[tokio::test]
#[ignore = "needs the emulator: run by scripts/test-e2e.sh"]
async fn the_signing_client_puts_every_record_in_order_per_key() {
    let client = client().await;
    let name = unique("producer-e2e-signed");
    create_stream(&client, &name, 3).await;
    let signed = kstream_pipeline::aws::AwsClient::from_env()
        .expect("credentials and region in the environment (scripts/emulator.sh env)");
    let keys: Vec<String> = (0..12).map(|i| format!("signed-{i}")).collect();
    put_and_read_back(&client, signed, &name, 3, &keys, 50).await;
}

#[tokio::test]
#[ignore = "needs the emulator: run by scripts/test-e2e.sh"]
async fn unaggregated_records_are_read_back_in_order_per_key() {
    let client = client().await;
    let name = unique("producer-e2e-raw");
    create_stream(&client, &name, 3).await;
    let config = fast_config(&name)
        .aggregation_enabled(false)
        .build()
        .unwrap();
    let producer = Producer::new(client.clone(), config).await.unwrap();
    let keys: Vec<String> = (0..7).map(|i| format!("k{i}")).collect();
    let mut handles = Vec::new();
    for i in 0..60 {
        for key in &keys {
            handles.push(
                producer
                    .put(UserRecord::new(key.clone(), payload(key, i)))
                    .await
                    .unwrap(),
            );
        }
    }
    for h in handles {
        let outcome = h.await.unwrap();
        assert!(!outcome.aggregated);
    }
    producer.shutdown().await;
    let records = read_all(&client, &name).await;
    assert!(records.iter().all(|r| !r.aggregated));
    let map = shard_map(&client, &name).await;
    assert_eq!(check_read_back(&records, &keys, 60, &map), 0);
    client
        .delete_stream()
        .stream_name(&name)
        .send()
        .await
        .unwrap();
}

/// Kinesis gives every acknowledged record its own sequence number and keeps it, however many
/// PutRecords run on one shard at once. Stock moto 5.2 does not (two concurrent puts got one
/// number and the second record replaced the first); scripts/lib/moto_server.py makes it so, and
/// this test fails without it (8 callers x 1,000 records: 1 and 6 lost in two runs).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs the emulator: run by scripts/test-e2e.sh"]
async fn concurrent_puts_on_one_shard_lose_nothing() {
    use aws_sdk_kinesis::primitives::Blob;
    use aws_sdk_kinesis::types::PutRecordsRequestEntry;
    use std::collections::HashMap;

    const CALLERS: usize = 8;
    const REQUESTS: usize = 40;
    const PER_REQUEST: usize = 25;
    let client = client().await;
    let name = unique("producer-e2e-concurrent");
    create_stream(&client, &name, 1).await;
    let callers = (0..CALLERS).map(|caller| {
        let (client, name) = (client.clone(), name.clone());
        tokio::spawn(async move {
            let mut acknowledged = Vec::new();
            for request in 0..REQUESTS {
                let entries: Vec<PutRecordsRequestEntry> = (0..PER_REQUEST)
                    .map(|i| {
                        PutRecordsRequestEntry::builder()
                            .partition_key("one-shard")
                            .data(Blob::new(format!("{caller}-{request}-{i}")))
                            .build()
                            .unwrap()
                    })
                    .collect();
                let datas: Vec<Vec<u8>> =
                    entries.iter().map(|e| e.data().as_ref().to_vec()).collect();
                let out = client
                    .put_records()
                    .stream_name(&name)
                    .set_records(Some(entries))
                    .send()
                    .await
                    .expect("PutRecords");
                for (result, data) in out.records().iter().zip(datas) {
                    if let Some(sequence) = result.sequence_number() {
                        acknowledged.push((sequence.to_owned(), data));
                    }
                }
            }
            acknowledged
        })
    });
    let mut acknowledged = Vec::new();
    for caller in callers.collect::<Vec<_>>() {
        acknowledged.extend(caller.await.unwrap());
    }
    assert_eq!(acknowledged.len(), CALLERS * REQUESTS * PER_REQUEST);

    let shard = client
        .list_shards()
        .stream_name(&name)
        .send()
        .await
        .unwrap();
    let stored: HashMap<String, Vec<u8>> =
        shard_records(&client, &name, shard.shards()[0].shard_id())
            .await
            .into_iter()
            .map(|r| (r.sequence_number().to_owned(), r.data().as_ref().to_vec()))
            .collect();
    let lost: Vec<&String> = acknowledged
        .iter()
        .filter(|(sequence, data)| stored.get(sequence) != Some(data))
        .map(|(sequence, _)| sequence)
        .collect();
    assert!(
        lost.is_empty(),
        "acknowledged but not stored as put: {lost:?}"
    );
    assert_eq!(stored.len(), acknowledged.len());
    client
        .delete_stream()
        .stream_name(&name)
        .send()
        .await
        .unwrap();
}
