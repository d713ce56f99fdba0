//! Helpers shared by the test modules.

use std::collections::HashMap;
use std::time::Duration;

use kstream_kpl::{Deaggregated, ShardMap, deaggregate};
use kstream_producer::{
    Producer, ProducerConfig, ProducerConfigBuilder, PutOutcome, RecordFailure, UserRecord,
};

/// A configuration that lingers and backs off briefly, so tests finish fast.
pub(crate) fn fast_config(stream: &str) -> ProducerConfigBuilder {
    ProducerConfig::builder()
        .stream_name(stream)
        .record_max_buffered_time(Duration::from_millis(20))
        .retry_base_delay(Duration::from_millis(10))
        .retry_max_delay(Duration::from_millis(100))
}

/// One user record read back from a Kinesis record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ReadBack {
    pub(crate) shard_id: String,
    /// Position of the Kinesis record in the shard, then inside the aggregate.
    pub(crate) position: (u64, u64),
    pub(crate) partition_key: String,
    pub(crate) data: Vec<u8>,
    pub(crate) aggregated: bool,
}

/// Deaggregates a stored Kinesis record into its user records.
pub(crate) fn user_records(
    shard_id: &str,
    position: u64,
    partition_key: &str,
    data: &[u8],
) -> Vec<ReadBack> {
    match deaggregate(data) {
        Deaggregated::Aggregated(subs) => subs
            .into_iter()
            .map(|s| ReadBack {
                shard_id: shard_id.to_owned(),
                position: (position, s.sub_sequence_number),
                partition_key: s.partition_key,
                data: s.data.to_vec(),
                aggregated: true,
            })
            .collect(),
        Deaggregated::NotAggregated { reason } => {
            assert!(!reason.is_corrupt(), "corrupt aggregate: {reason}");
            vec![ReadBack {
                shard_id: shard_id.to_owned(),
                position: (position, 0),
                partition_key: partition_key.to_owned(),
                data: data.to_vec(),
                aggregated: false,
            }]
        }
    }
}

/// The payload of test record `i` of key `key`: `key:i`, padded.
pub(crate) fn payload(key: &str, i: usize) -> String {
    format!("{key}:{i:06}:{}", "x".repeat(40))
}

/// Checks that the read-back user records hold every `(key, i)` for `i < per_key`, each on the
/// shard owning its key, in order per key (by shard position), and returns the duplicate count.
pub(crate) fn check_read_back(
    records: &[ReadBack],
    keys: &[String],
    per_key: usize,
    map: &ShardMap,
) -> usize {
    let mut by_key: HashMap<&str, Vec<(&ReadBack, usize)>> = HashMap::new();
    for r in records {
        let text = std::str::from_utf8(&r.data).expect("utf-8 payload");
        let mut parts = text.split(':');
        let key = parts.next().expect("key");
        let i: usize = parts.next().expect("index").parse().expect("number");
        assert_eq!(key, r.partition_key, "partition key kept");
        let owner = map
            .shard_for(kstream_kpl::hash_key(&r.partition_key))
            .expect("owned");
        assert_eq!(
            owner.as_str(),
            r.shard_id,
            "user record {text} on the shard owning its key"
        );
        by_key.entry(key).or_default().push((r, i));
    }
    let mut duplicates = 0;
    for key in keys {
        let mut seen = by_key.remove(key.as_str()).unwrap_or_default();
        seen.sort_by_key(|(r, _)| r.position);
        let mut expected = 0;
        for (_, i) in &seen {
            if *i < expected {
                duplicates += 1;
                continue;
            }
            assert_eq!(
                *i, expected,
                "key {key}: record {expected} missing or out of order"
            );
            expected += 1;
        }
        assert_eq!(expected, per_key, "key {key}: every record read back");
    }
    assert!(by_key.is_empty(), "unexpected keys: {:?}", by_key.keys());
    duplicates
}

/// Puts `per_key` records for every key, round-robin, and awaits every result.
pub(crate) async fn put_all(
    producer: &Producer,
    keys: &[String],
    per_key: usize,
) -> Vec<Result<PutOutcome, RecordFailure>> {
    let mut handles = Vec::new();
    for i in 0..per_key {
        for key in keys {
            let handle = producer
                .put(UserRecord::new(key.clone(), payload(key, i)))
                .await
                .expect("accepted");
            handles.push(handle);
        }
    }
    producer.flush();
    let mut results = Vec::new();
    for handle in handles {
        results.push(handle.await);
    }
    results
}
