// The producer against a fault-injecting local endpoint: throttled entries inside PutRecords
// responses, 5xx, timeouts, expiry, resharding, oversize records, automatic distribution.
// Included (`include!`, hence no inner doc comment) by tests.rs into one module per Kinesis
// client, whose `client` function it calls: the SDK's (feature `sdk`) and the signing
// `AwsClient` (feature `signed`).

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use kstream_producer::{Error, Producer, RecordFailure, UserRecord};

use crate::common::{ReadBack, check_read_back, fast_config, payload, put_all, user_records};
use crate::fake_kinesis::{FakeKinesis, Fault};

const STREAM: &str = "fault-test";

fn keys(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("key-{i}")).collect()
}


fn read_back(fake: &FakeKinesis) -> Vec<ReadBack> {
    fake.stored()
        .iter()
        .flat_map(|s| {
            user_records(
                &s.shard_id,
                s.sequence_number,
                &s.entry.partition_key,
                &s.entry.data,
            )
        })
        .collect()
}

#[tokio::test]
async fn every_record_arrives_aggregated_on_its_shard_in_order() {
    let fake = FakeKinesis::builder(STREAM).shards(4).start().await;
    let config = fast_config(STREAM).build().unwrap();
    let producer = Producer::new(client(&fake), config).await.unwrap();
    assert!(producer.aggregating());
    assert_eq!(producer.shard_count(), Some(4));
    let keys = keys(40);
    let results = put_all(&producer, &keys, 50).await;
    for r in &results {
        let outcome = r.as_ref().expect("every record put");
        assert_eq!(outcome.attempts.len(), 1);
        assert!(outcome.shard_id.starts_with("shardId-"));
    }
    let metrics = producer.shutdown().await;
    let records = read_back(&fake);
    assert_eq!(records.len(), 2000, "no duplicates without faults");
    assert_eq!(check_read_back(&records, &keys, 50, &fake.shard_map()), 0);
    assert_eq!(metrics.totals.user_records_put, 2000);
    assert_eq!(metrics.totals.user_records_failed, 0);
    assert!(
        metrics.totals.user_records_per_kinesis_record() > 10.0,
        "aggregated: {metrics:?}"
    );
    assert_eq!(
        metrics.totals.kinesis_records_put as usize,
        fake.stored().len()
    );
    // Every aggregate holds records of one shard only (else consumers drop some).
    for stored in fake.stored() {
        if let kstream_kpl::Deaggregated::Aggregated(subs) =
            kstream_kpl::deaggregate(&stored.entry.data)
        {
            assert_eq!(stored.entry.partition_key, "a");
            let first = subs[0].hash_key().unwrap();
            assert_eq!(stored.entry.explicit_hash_key, Some(first.to_string()));
        }
    }
}

#[tokio::test]
async fn a_lone_record_is_sent_raw() {
    let fake = FakeKinesis::builder(STREAM).shards(2).start().await;
    let producer = Producer::new(client(&fake), fast_config(STREAM).build().unwrap())
        .await
        .unwrap();
    let handle = producer
        .put(UserRecord::new("only", "{\"a\":1}"))
        .await
        .unwrap();
    let outcome = handle.await.unwrap();
    assert!(!outcome.aggregated);
    producer.shutdown().await;
    let stored = fake.stored();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].entry.partition_key, "only");
    assert_eq!(stored[0].entry.explicit_hash_key, None);
    assert_eq!(stored[0].entry.data, b"{\"a\":1}");
}

#[tokio::test]
async fn only_throttled_entries_are_resent() {
    let fake = FakeKinesis::builder(STREAM)
        .shards(1)
        .fault(|request, _| {
            if request == 0 {
                Fault::Throttle(HashSet::from([1, 3]))
            } else {
                Fault::None
            }
        })
        .start()
        .await;
    // No aggregation, so entries are user records and easy to follow; a long linger, so the six
    // records surely share the first request.
    let config = fast_config(STREAM)
        .aggregation_enabled(false)
        .record_max_buffered_time(Duration::from_millis(300))
        .build()
        .unwrap();
    let producer = Producer::new(client(&fake), config).await.unwrap();
    let mut handles = Vec::new();
    for i in 0..6 {
        handles.push(
            producer
                .put(UserRecord::new(format!("k{i}"), format!("record {i}")))
                .await
                .unwrap(),
        );
    }
    producer.flush();
    let mut outcomes = Vec::new();
    for h in handles {
        outcomes.push(h.await.expect("put after retry"));
    }
    producer.shutdown().await;
    let requests = fake.requests();
    assert_eq!(
        requests.len(),
        2,
        "one request, then one retry: {requests:?}"
    );
    assert_eq!(requests[0].len(), 6);
    let resent: Vec<&[u8]> = requests[1].iter().map(|e| e.data.as_slice()).collect();
    assert_eq!(resent, vec![&b"record 1"[..], &b"record 3"[..]]);
    for (i, outcome) in outcomes.iter().enumerate() {
        let expected = if i == 1 || i == 3 { 2 } else { 1 };
        assert_eq!(outcome.attempts.len(), expected, "record {i}");
        if expected == 2 {
            assert_eq!(
                outcome.attempts[0].error_code.as_deref(),
                Some("ProvisionedThroughputExceededException")
            );
        }
    }
    assert_eq!(fake.stored().len(), 6);
}

#[tokio::test]
async fn server_errors_are_retried_and_nothing_is_lost() {
    let fake = FakeKinesis::builder(STREAM)
        .shards(2)
        .fault(|request, _| {
            if request < 2 {
                Fault::Status(500)
            } else if request == 2 {
                Fault::Status(503)
            } else {
                Fault::None
            }
        })
        .start()
        .await;
    let producer = Producer::new(client(&fake), fast_config(STREAM).build().unwrap())
        .await
        .unwrap();
    let keys = keys(10);
    let results = put_all(&producer, &keys, 30).await;
    assert!(results.iter().all(Result::is_ok));
    let retried: usize = results
        .iter()
        .map(|r| r.as_ref().unwrap().attempts.len() - 1)
        .sum();
    assert!(
        retried >= 3,
        "the records of the three failed requests were retried"
    );
    let metrics = producer.shutdown().await;
    // One error per failed request, however many entries it held, as the KPL's retrier (the
    // fake answers both statuses as InternalFailure).
    assert_eq!(
        metrics.totals.errors_by_code,
        [("InternalFailure".to_owned(), 3)].into(),
        "{metrics:?}"
    );
    let records = read_back(&fake);
    assert_eq!(check_read_back(&records, &keys, 30, &fake.shard_map()), 0);
    // The failed requests stored nothing; what they held was sent again.
    let requests = fake.requests();
    assert!(requests.len() >= 4);
    assert_eq!(
        metrics.totals.retries as usize, retried,
        "RetriesPerRecord counts every retry"
    );
}

#[tokio::test]
async fn timed_out_requests_are_retried() {
    let fake = FakeKinesis::builder(STREAM)
        .shards(1)
        .fault(|request, _| {
            if request == 0 {
                Fault::Delay(Duration::from_millis(1500))
            } else {
                Fault::None
            }
        })
        .start()
        .await;
    // A long linger, so the thirty records surely share one aggregate.
    let config = fast_config(STREAM)
        .request_timeout(Duration::from_millis(300))
        .record_max_buffered_time(Duration::from_millis(300))
        .build()
        .unwrap();
    let producer = Producer::new(client(&fake), config).await.unwrap();
    let keys = keys(3);
    let results = put_all(&producer, &keys, 10).await;
    for r in &results {
        let outcome = r.as_ref().expect("put after the timeout");
        assert_eq!(outcome.attempts.len(), 2);
        assert_eq!(outcome.attempts[0].error_code.as_deref(), Some("Timeout"));
    }
    producer.shutdown().await;
    // The abandoned request was cut off (the fake stores nothing for it); a real one might
    // still succeed, which `check_read_back` would count as duplicates.
    let records = read_back(&fake);
    check_read_back(&records, &keys, 10, &fake.shard_map());
    assert_eq!(
        fake.requests().len(),
        2,
        "the timed-out request, then its retry"
    );
    assert_eq!(
        fake.requests()[0],
        fake.requests()[1],
        "the same entries resent"
    );
}

#[tokio::test]
async fn expiry_is_reported_when_the_ttl_runs_out() {
    let throttled = Arc::new(AtomicUsize::new(0));
    let counter = throttled.clone();
    let fake = FakeKinesis::builder(STREAM)
        .shards(1)
        .fault(move |_, entries| {
            counter.fetch_add(entries.len(), Ordering::SeqCst);
            Fault::Throttle((0..entries.len()).collect())
        })
        .start()
        .await;
    let config = fast_config(STREAM)
        .record_ttl(Duration::from_millis(400))
        .build()
        .unwrap();
    let producer = Producer::new(client(&fake), config).await.unwrap();
    let mut handles = Vec::new();
    for i in 0..20 {
        handles.push(
            producer
                .put(UserRecord::new(format!("k{}", i % 4), format!("r{i}")))
                .await
                .unwrap(),
        );
    }
    for h in handles {
        match h.await {
            Err(RecordFailure::Expired { ttl, attempts }) => {
                assert_eq!(ttl, Duration::from_millis(400));
                assert!(attempts.len() >= 2, "retried before expiring: {attempts:?}");
                assert!(
                    attempts.iter().all(|a| a.error_code.as_deref()
                        == Some("ProvisionedThroughputExceededException"))
                );
            }
            other => panic!("expected expiry, got {other:?}"),
        }
    }
    let metrics = producer.shutdown().await;
    assert_eq!(metrics.totals.user_record_expired, 20);
    assert_eq!(metrics.totals.user_records_failed, 20);
    assert_eq!(metrics.totals.user_records_put, 0);
    assert!(fake.stored().is_empty());
    assert!(throttled.load(Ordering::SeqCst) >= 2);
}

#[tokio::test]
async fn fail_if_throttled_fails_at_once() {
    let fake = FakeKinesis::builder(STREAM)
        .shards(1)
        .fault(|_, entries| Fault::Throttle((0..entries.len()).collect()))
        .start()
        .await;
    let config = fast_config(STREAM).fail_if_throttled(true).build().unwrap();
    let producer = Producer::new(client(&fake), config).await.unwrap();
    let h = producer.put(UserRecord::new("k", "v")).await.unwrap();
    producer.flush();
    match h.await {
        Err(RecordFailure::Rejected { code, attempts, .. }) => {
            assert_eq!(code, "ProvisionedThroughputExceededException");
            assert_eq!(attempts.len(), 1);
        }
        other => panic!("expected rejection, got {other:?}"),
    }
    producer.shutdown().await;
    assert_eq!(fake.requests().len(), 1);
}

#[tokio::test]
async fn oversize_records_are_rejected_by_put() {
    let fake = FakeKinesis::builder(STREAM)
        .shards(1)
        .max_record_size_kib(1)
        .start()
        .await;
    let producer = Producer::new(client(&fake), fast_config(STREAM).build().unwrap())
        .await
        .unwrap();
    assert_eq!(
        producer.max_record_size(),
        1024,
        "read from DescribeStreamSummary"
    );
    let err = producer
        .put(UserRecord::new("big", vec![b'x'; 1022]))
        .await
        .unwrap_err();
    match &err {
        Error::RecordTooLarge {
            partition_key,
            size,
            limit,
        } => {
            assert_eq!(partition_key, "big");
            assert_eq!(*size, 1025);
            assert_eq!(*limit, 1024);
        }
        other => panic!("expected RecordTooLarge, got {other:?}"),
    }
    assert!(err.to_string().contains("\"big\""), "{err}");
    // Exactly at the limit is fine.
    let ok = producer
        .put(UserRecord::new("big", vec![b'x'; 1021]))
        .await
        .unwrap();
    producer.flush();
    ok.await.unwrap();
    let bad_key = producer.put(UserRecord::new("", "x")).await.unwrap_err();
    assert!(matches!(bad_key, Error::InvalidRecord(_)), "{bad_key:?}");
    producer.shutdown().await;
}

#[tokio::test]
async fn auto_distribution_turns_aggregation_off() {
    let fake = FakeKinesis::builder(STREAM)
        .shards(2)
        .auto_distribution(true)
        .start()
        .await;
    let producer = Producer::new(client(&fake), fast_config(STREAM).build().unwrap())
        .await
        .unwrap();
    assert!(!producer.aggregating());
    assert_eq!(producer.shard_count(), None);
    let keys = keys(2);
    let results = put_all(&producer, &keys, 20).await;
    assert!(results.iter().all(|r| !r.as_ref().unwrap().aggregated));
    producer.shutdown().await;
    assert_eq!(
        fake.stored().len(),
        40,
        "one Kinesis record per user record"
    );
    assert_eq!(fake.list_shards_calls(), 0);
}

#[tokio::test]
async fn resharding_refreshes_the_shard_map() {
    let fake = FakeKinesis::builder(STREAM).shards(1).start().await;
    let config = fast_config(STREAM)
        .shard_map_refresh_interval(None)
        .build()
        .unwrap();
    let producer = Producer::new(client(&fake), config).await.unwrap();
    let keys = keys(20);
    // Split the only shard: the producer still predicts the parent.
    fake.reshard(2);
    let results = put_all(&producer, &keys, 20).await;
    assert!(results.iter().all(Result::is_ok));
    let metrics = producer.shutdown().await;
    assert!(fake.list_shards_calls() >= 2, "shard map refreshed");
    assert!(
        metrics.totals.errors_by_code.contains_key("WrongShard"),
        "{metrics:?}"
    );
    assert!(metrics.shard_map_refreshes >= 1);
    // Every record was put by an aggregate on its own shard; copies from the wrong-shard
    // aggregates may exist too (as with the KPL), on the parent's other child.
    let map = fake.shard_map();
    let mut good = Vec::new();
    for r in read_back(&fake) {
        let owner = map
            .shard_for(kstream_kpl::hash_key(&r.partition_key))
            .unwrap();
        if owner.as_str() == r.shard_id {
            good.push(r);
        }
    }
    // Retries after a wrong shard may overtake later records of the same key: check presence.
    let mut found: Vec<String> = good
        .iter()
        .map(|r| String::from_utf8(r.data.clone()).unwrap())
        .collect();
    found.sort();
    found.dedup();
    let mut expected: Vec<String> = (0..20)
        .flat_map(|i| keys.iter().map(move |k| payload(k, i)))
        .collect();
    expected.sort();
    assert_eq!(
        found, expected,
        "every record on its own shard at least once"
    );
    for r in &results {
        let shard = &r.as_ref().unwrap().shard_id;
        assert!(
            shard == "shardId-000000000001" || shard == "shardId-000000000002",
            "outcome on a child shard: {shard}"
        );
    }
}

#[tokio::test]
async fn put_waits_when_too_many_records_are_outstanding() {
    let fake = FakeKinesis::builder(STREAM)
        .shards(1)
        .fault(|request, _| {
            if request == 0 {
                Fault::Delay(Duration::from_millis(300))
            } else {
                Fault::None
            }
        })
        .start()
        .await;
    let config = fast_config(STREAM)
        .max_outstanding_records(5)
        .build()
        .unwrap();
    let producer = Producer::new(client(&fake), config).await.unwrap();
    let mut handles = Vec::new();
    for i in 0..5 {
        handles.push(
            producer
                .put(UserRecord::new("k", format!("{i}")))
                .await
                .unwrap(),
        );
    }
    assert_eq!(producer.outstanding(), 5);
    assert!(
        producer
            .try_put(UserRecord::new("k", "6"))
            .unwrap()
            .is_none(),
        "full"
    );
    let started = std::time::Instant::now();
    let sixth = producer.put(UserRecord::new("k", "6")).await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(200),
        "put waited for room"
    );
    handles.push(sixth);
    producer.flush_all().await.unwrap();
    assert_eq!(producer.outstanding(), 0);
    for h in handles {
        h.await.unwrap();
    }
    producer.shutdown().await;
}

#[tokio::test]
async fn a_missing_stream_is_a_clear_error() {
    let fake = FakeKinesis::builder(STREAM).start().await;
    let err = Producer::new(
        client(&fake),
        fast_config("no-such-stream").build().unwrap(),
    )
    .await
    .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("no-such-stream") && text.contains("ResourceNotFoundException"),
        "{text}"
    );
}

#[tokio::test]
async fn the_shard_limits_are_respected() {
    // With the endpoint enforcing 1000 records/s per shard and the producer limited to 90 %,
    // nothing is throttled and a non-aggregating producer runs at 900 records/s.
    let fake = FakeKinesis::builder(STREAM)
        .shards(1)
        .enforce_limits(true)
        .start()
        .await;
    let config = fast_config(STREAM)
        .aggregation_enabled(false)
        .rate_limit(90)
        .build()
        .unwrap();
    let producer = Producer::new(client(&fake), config).await.unwrap();
    let started = std::time::Instant::now();
    let keys = keys(10);
    let results = put_all(&producer, &keys, 150).await;
    let elapsed = started.elapsed();
    assert!(results.iter().all(Result::is_ok));
    producer.shutdown().await;
    assert_eq!(
        fake.throttled(),
        0,
        "the limiter kept under the shard limit"
    );
    // 1500 records: 900 of burst, then 600 at 900/s.
    assert!(elapsed >= Duration::from_millis(600), "{elapsed:?}");
}

#[tokio::test]
async fn requests_respect_the_collection_limits() {
    let fake = FakeKinesis::builder(STREAM).shards(3).start().await;
    let config = fast_config(STREAM)
        .aggregation_enabled(false)
        .collection_max_count(7)
        .collection_max_size(60_000)
        .build()
        .unwrap();
    let producer = Producer::new(client(&fake), config).await.unwrap();
    // Sizes from a fixed pseudo-random sequence, 1 byte to 20 KB.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut handles = Vec::new();
    let mut expected = Vec::new();
    for i in 0..200 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let size = 1 + (x % 20_000) as usize;
        let data = format!("{i:05}")
            .into_bytes()
            .into_iter()
            .chain(std::iter::repeat_n(b'.', size))
            .collect::<Vec<u8>>();
        expected.push(data.clone());
        handles.push(
            producer
                .put(UserRecord::new(format!("k{}", i % 11), data))
                .await
                .unwrap(),
        );
    }
    producer.flush();
    for h in handles {
        h.await.unwrap();
    }
    producer.shutdown().await;
    for request in fake.requests() {
        assert!(request.len() <= 7, "{} entries", request.len());
        let bytes: usize = request
            .iter()
            .map(|e| e.data.len() + e.partition_key.len())
            .sum();
        assert!(bytes <= 60_000, "{bytes} bytes");
    }
    let mut stored: Vec<Vec<u8>> = fake.stored().into_iter().map(|s| s.entry.data).collect();
    stored.sort();
    expected.sort();
    assert_eq!(stored, expected, "every record once");
}

/// The CloudWatch publisher against a local rpc-v2-cbor endpoint (moto 5.2.5 does not speak
/// CloudWatch's current protocol): a periodic upload, then the final one from `finish`, with
/// deltas that add up to the totals.
#[cfg(feature = "cloudwatch")]
#[tokio::test]
async fn metrics_are_published_with_put_metric_data() {
    use crate::fake_cloudwatch::FakeCloudWatch;

    let endpoint = FakeCloudWatch::start().await;
    let cloudwatch = aws_sdk_cloudwatch::Client::from_conf(
        aws_sdk_cloudwatch::Config::builder()
            .behavior_version(aws_sdk_cloudwatch::config::BehaviorVersion::latest())
            .region(aws_sdk_cloudwatch::config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_cloudwatch::config::Credentials::new(
                "test", "test", None, None, "test",
            ))
            .endpoint_url(endpoint.url())
            .build(),
    );

    let fake = FakeKinesis::builder(STREAM).shards(2).start().await;
    // The first request has its first entry throttled: one retry, one ErrorsByCode.
    fake.set_fault(|n, _| {
        if n == 0 {
            Fault::Throttle([0].into_iter().collect())
        } else {
            Fault::None
        }
    });
    let config = fast_config(STREAM)
        .metrics_level(kstream_producer::MetricsLevel::Detailed)
        .metrics_namespace("kstream-test")
        .metrics_upload_delay(Duration::from_secs(1))
        .build()
        .unwrap();
    let producer = Producer::new(client(&fake), config).await.unwrap();
    let publisher = producer
        .start_metrics_publisher(cloudwatch.clone())
        .expect("publishing at Detailed");
    for i in 0..50 {
        producer
            .put(UserRecord::new(format!("k{}", i % 5), payload("k", i)))
            .await
            .unwrap();
    }
    producer.flush_all().await.unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    for i in 50..60 {
        producer
            .put(UserRecord::new(format!("k{}", i % 5), payload("k", i)))
            .await
            .unwrap();
    }
    let last = producer.shutdown().await;
    assert_eq!(last.totals.user_records_put, 60);
    // A periodic tick after the producer is gone must not end the publisher before `finish`.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    publisher
        .finish(last.clone())
        .await
        .expect("PutMetricData succeeds");

    let requests = endpoint.requests();
    assert!(requests.len() >= 2, "the periodic upload and the final one");
    assert!(requests.iter().all(|r| r.operation == "PutMetricData"));
    let data = endpoint.data();
    // Shard granularity, the default (as the KPL): every metric overall (no dimension) and for
    // the stream, the per-shard ones also per shard; ErrorsByCode adds ErrorCode at each level.
    let shards: std::collections::BTreeSet<String> =
        fake.stored().into_iter().map(|s| s.shard_id).collect();
    assert_eq!(shards.len(), 2, "both shards received records");
    for datum in &data {
        assert_eq!(datum.namespace, "kstream-test");
        if let Some(stream) = datum.dimensions.get("StreamName") {
            assert_eq!(stream, STREAM, "{datum:?}");
        }
        if let Some(shard) = datum.dimensions.get("ShardId") {
            assert!(shards.contains(shard), "{datum:?}");
            assert!(
                kstream_producer::SHARD_METRIC_NAMES.contains(&datum.name.as_str()),
                "{} is not reported per shard: {datum:?}",
                datum.name
            );
        }
        let levels: Vec<&str> = datum
            .dimensions
            .keys()
            .map(String::as_str)
            .filter(|d| *d != "ErrorCode")
            .collect();
        assert!(
            [&[][..], &["StreamName"], &["ShardId", "StreamName"]].contains(&levels.as_slice()),
            "{datum:?}"
        );
        assert_eq!(
            datum.dimensions.contains_key("ErrorCode"),
            datum.name == "ErrorsByCode",
            "{datum:?}"
        );
    }
    // Each level adds up to the totals; the shard level per shard to what the shard stored.
    let sum = |name: &str, level: &[&str]| -> f64 {
        data.iter()
            .filter(|d| {
                d.name == name
                    && d.dimensions
                        .keys()
                        .filter(|k| *k != "ErrorCode")
                        .eq(level.iter().copied())
            })
            .map(|d| d.value)
            .sum()
    };
    for level in [&[][..], &["StreamName"], &["ShardId", "StreamName"]] {
        assert_eq!(
            sum("UserRecordsPut", level),
            60.0,
            "deltas add up: {level:?}"
        );
        assert_eq!(
            sum("KinesisRecordsPut", level),
            last.totals.kinesis_records_put as f64,
            "{level:?}"
        );
    }
    for shard in &shards {
        let stored = fake
            .stored()
            .iter()
            .filter(|s| &s.shard_id == shard)
            .count();
        let on_shard: f64 = data
            .iter()
            .filter(|d| d.name == "KinesisRecordsPut" && d.dimensions.get("ShardId") == Some(shard))
            .map(|d| d.value)
            .sum();
        assert_eq!(on_shard, stored as f64, "{shard}");
    }
    let names: std::collections::BTreeSet<&str> = data.iter().map(|d| d.name.as_str()).collect();
    for name in kstream_producer::METRIC_NAMES {
        assert!(names.contains(name), "{name} missing from {names:?}");
    }
    let errors: Vec<_> = data.iter().filter(|d| d.name == "ErrorsByCode").collect();
    assert_eq!(errors.len(), 3, "overall, stream, shard: {errors:?}");
    for error in &errors {
        assert_eq!(
            error.dimensions["ErrorCode"],
            "ProvisionedThroughputExceededException"
        );
        assert_eq!(error.value, 1.0);
    }
}

/// The per-shard counters follow the records: accepted ones on the shard Kinesis reported,
/// throttled entries on their predicted shard.
#[tokio::test]
async fn per_shard_counters_match_the_outcomes() {
    let fake = FakeKinesis::builder(STREAM).shards(3).start().await;
    // The first request has its first two entries throttled.
    fake.set_fault(|n, _| {
        if n == 0 {
            Fault::Throttle([0, 1].into_iter().collect())
        } else {
            Fault::None
        }
    });
    let producer = Producer::new(client(&fake), fast_config(STREAM).build().unwrap())
        .await
        .unwrap();
    let results = put_all(&producer, &keys(30), 4).await;
    let metrics = producer.shutdown().await;
    let mut put_per_shard = std::collections::BTreeMap::<String, u64>::new();
    for outcome in results.iter().map(|r| r.as_ref().expect("put")) {
        *put_per_shard.entry(outcome.shard_id.clone()).or_default() += 1;
    }
    assert_eq!(put_per_shard.len(), 3, "{put_per_shard:?}");
    let counted: std::collections::BTreeMap<String, u64> = metrics
        .shards
        .iter()
        .map(|(shard, m)| (shard.clone(), m.user_records_put))
        .collect();
    assert_eq!(counted, put_per_shard);
    for (shard, m) in &metrics.shards {
        let stored = fake
            .stored()
            .iter()
            .filter(|s| &s.shard_id == shard)
            .count();
        assert_eq!(m.kinesis_records_put, stored as u64, "{shard}");
    }
    let sum = |f: fn(&kstream_producer::RecordMetrics) -> u64| -> u64 {
        metrics.shards.values().map(f).sum()
    };
    assert_eq!(
        sum(|m| m.user_records_data_put),
        metrics.totals.user_records_data_put
    );
    assert_eq!(
        sum(|m| m.kinesis_records_data_put),
        metrics.totals.kinesis_records_data_put
    );
    assert_eq!(sum(|m| m.buffered_records), 120);
    // Every throttled entry had a predicted shard (one or two, as the first request held them).
    assert!(metrics.totals.all_errors() >= 1, "{metrics:?}");
    assert_eq!(
        sum(|m| m.all_errors()),
        metrics.totals.all_errors(),
        "{metrics:?}"
    );
    assert_eq!(sum(|m| m.retries), metrics.totals.retries);
    assert!(metrics.totals.retries > 0);
}

#[tokio::test]
async fn an_aggregate_on_a_shard_owning_all_its_records_is_not_resent() {
    // After a split, moto keeps writing to the closed parent, whose range owns every hash key:
    // no consumer drops those records, so they are not put again (the KPL would resend them
    // until they expire, duplicating them each time).
    let fake = FakeKinesis::builder(STREAM).shards(1).start().await;
    fake.reshard(2);
    fake.set_route_to_closed(true);
    let config = fast_config(STREAM)
        .record_ttl(Duration::from_secs(2))
        .build()
        .unwrap();
    let producer = Producer::new(client(&fake), config).await.unwrap();
    assert_eq!(producer.shard_count(), Some(2), "predicting the children");
    let keys = keys(20);
    let results = put_all(&producer, &keys, 10).await;
    let metrics = producer.shutdown().await;
    assert!(results.iter().all(Result::is_ok), "{metrics:?}");
    let records = read_back(&fake);
    assert_eq!(records.len(), 200, "no copies: {metrics:?}");
    assert!(records.iter().all(|r| r.shard_id == "shardId-000000000000"));
    assert!(
        !metrics.totals.errors_by_code.contains_key("WrongShard"),
        "{metrics:?}"
    );
}
