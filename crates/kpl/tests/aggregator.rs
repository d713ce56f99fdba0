//! Aggregator: KPL conventions, limits, exact sizes, deduplication.

use bytes::Bytes;
use kstream_kpl::{
    AggregatedRecord, Aggregator, AggregatorConfig, Deaggregated, Error, MAGIC, OVERHEAD,
    SubRecord, UserRecord, deaggregate, encode, finish_all, hash_key,
};
use proptest::prelude::*;

use crate::support::{arb_record, wrap};

fn aggregator(max_size: usize, max_count: u64) -> Aggregator {
    Aggregator::new(
        AggregatorConfig::builder()
            .max_size(max_size)
            .max_count(max_count)
            .build()
            .expect("valid config"),
    )
}

/// Runs records through an aggregator and returns every emitted Kinesis record.
fn run(agg: &mut Aggregator, records: &[UserRecord]) -> Vec<AggregatedRecord> {
    let mut out = Vec::new();
    for r in records {
        out.extend(agg.add(r.clone()).expect("valid record"));
    }
    out.extend(agg.flush());
    out
}

/// What a consumer gets back from an emitted record, as user records.
fn user_records_of(rec: &AggregatedRecord) -> Vec<UserRecord> {
    match deaggregate(&rec.data) {
        Deaggregated::Aggregated(subs) => subs.into_iter().map(to_user).collect(),
        Deaggregated::NotAggregated { reason } => {
            assert!(
                !rec.is_aggregated(),
                "an aggregate failed to decode: {reason}"
            );
            vec![UserRecord {
                partition_key: rec.partition_key.clone(),
                explicit_hash_key: rec.explicit_hash_key.clone(),
                data: rec.data.clone(),
                tags: Vec::new(),
            }]
        }
    }
}

fn to_user(s: SubRecord) -> UserRecord {
    UserRecord {
        partition_key: s.partition_key,
        explicit_hash_key: s.explicit_hash_key,
        data: s.data,
        tags: s.tags,
    }
}

#[test]
fn defaults_are_the_kpl_defaults() {
    let c = AggregatorConfig::default();
    assert_eq!(c.max_size(), 51_200);
    assert_eq!(c.max_count(), 4_294_967_295);
    assert_eq!(AggregatorConfig::builder().build(), Ok(c));
}

#[test]
fn config_out_of_range_is_rejected() {
    for size in [0, 63, 10 * 1024 * 1024 + 1] {
        let err = AggregatorConfig::builder()
            .max_size(size)
            .build()
            .unwrap_err();
        assert!(
            matches!(
                err,
                Error::InvalidConfig {
                    name: "max_size",
                    ..
                }
            ),
            "{err}"
        );
        assert!(
            err.to_string()
                .contains("max_size must be in 64..=10485760"),
            "{err}"
        );
    }
    let err = AggregatorConfig::builder()
        .max_count(0)
        .build()
        .unwrap_err();
    assert!(matches!(
        err,
        Error::InvalidConfig {
            name: "max_count",
            ..
        }
    ));
    assert!(
        AggregatorConfig::builder()
            .max_size(64)
            .max_count(1)
            .build()
            .is_ok()
    );
}

#[test]
fn empty_aggregator_flushes_nothing() {
    let mut agg = Aggregator::default();
    assert!(agg.is_empty());
    assert_eq!(agg.size_bytes(), 0);
    assert_eq!(agg.flush(), None);
}

#[test]
fn one_record_container_is_sent_raw() {
    let mut agg = Aggregator::default();
    let rec = UserRecord::new("pk-1", &b"hello"[..]).with_explicit_hash_key("42");
    assert_eq!(agg.add(rec.clone()), Ok(None));
    let out = agg.flush().expect("one record");
    assert_eq!(
        out,
        AggregatedRecord {
            partition_key: "pk-1".into(),
            explicit_hash_key: Some("42".into()),
            data: Bytes::from_static(b"hello"),
            user_records: 1,
        }
    );
    assert!(!out.is_aggregated());
    assert_eq!(out.size_bytes(), 4 + 5);
    assert!(agg.is_empty());
}

#[test]
fn aggregate_uses_partition_key_a_and_first_records_hash_key() {
    let mut agg = Aggregator::default();
    agg.add(UserRecord::new("first", "1")).unwrap();
    agg.add(UserRecord::new("second", "2")).unwrap();
    let out = agg.flush().unwrap();
    assert!(out.is_aggregated());
    assert_eq!(out.partition_key, "a");
    assert_eq!(out.explicit_hash_key, Some(hash_key("first").to_string()));
    assert_eq!(out.hash_key(), Ok(hash_key("first")));
    assert!(out.data.starts_with(&MAGIC));

    // With an explicit hash key on the first record, that key is the aggregate's.
    agg.add(UserRecord::new("first", "1").with_explicit_hash_key("7"))
        .unwrap();
    agg.add(UserRecord::new("second", "2")).unwrap();
    assert_eq!(agg.flush().unwrap().explicit_hash_key.as_deref(), Some("7"));
}

#[test]
fn wire_bytes_match_the_format_and_keys_are_deduplicated() {
    let records = [UserRecord::new("k", "x"), UserRecord::new("k", "y")];
    let body = [
        0x0A, 0x01, b'k', // partition_key_table: ["k"], once
        0x1A, 0x05, 0x08, 0x00, 0x1A, 0x01, b'x', // record {pk 0, data "x"}
        0x1A, 0x05, 0x08, 0x00, 0x1A, 0x01, b'y', // record {pk 0, data "y"}
    ];
    assert_eq!(encode(&records), wrap(&body));

    let records = [
        UserRecord::new("k", "x").with_explicit_hash_key("9"),
        UserRecord::new("j", "").with_explicit_hash_key("9"),
    ];
    let body = [
        0x0A, 0x01, b'k', 0x0A, 0x01, b'j', // partition keys
        0x12, 0x01, b'9', // explicit hash keys, once
        0x1A, 0x07, 0x08, 0x00, 0x10, 0x00, 0x1A, 0x01, b'x', //
        0x1A, 0x06, 0x08, 0x01, 0x10, 0x00, 0x1A, 0x00, // empty data is still written
    ];
    assert_eq!(encode(&records), wrap(&body));
}

#[test]
fn tags_are_encoded_and_decoded() {
    let rec = UserRecord::new("k", "x")
        .with_tag("source", Some("sensor-1".into()))
        .with_tag("flag", None);
    let Deaggregated::Aggregated(subs) = deaggregate(&encode(std::slice::from_ref(&rec))) else {
        panic!("aggregate expected");
    };
    assert_eq!(to_user(subs[0].clone()), rec);
}

#[test]
fn invalid_records_are_rejected_and_the_aggregator_is_unchanged() {
    let mut agg = Aggregator::default();
    agg.add(UserRecord::new("ok", "1")).unwrap();
    let size = agg.size_bytes();
    for (rec, chars) in [
        (UserRecord::new("", "x"), 0),
        (UserRecord::new("k".repeat(257), "x"), 257),
        (UserRecord::new("é".repeat(257), "x"), 257),
    ] {
        let err = agg.add(rec).unwrap_err();
        assert_eq!(err, Error::InvalidPartitionKey { chars });
        assert!(err.to_string().contains("1 to 256 characters"));
    }
    // 256 two-byte characters are fine (the limit is in characters).
    assert!(UserRecord::new("é".repeat(256), "x").validate().is_ok());
    for ehk in [
        "",
        "01",
        "-1",
        "1.5",
        "340282366920938463463374607431768211456",
    ] {
        let err = agg
            .add(UserRecord::new("k", "x").with_explicit_hash_key(ehk))
            .unwrap_err();
        assert!(matches!(err, Error::InvalidHashKey { .. }), "{ehk}: {err}");
    }
    assert_eq!((agg.len(), agg.size_bytes()), (1, size));
}

#[test]
fn a_record_larger_than_max_size_goes_alone_and_raw() {
    let mut agg = aggregator(200, u64::MAX >> 1);
    assert_eq!(agg.add(UserRecord::new("s1", vec![1u8; 10])), Ok(None));
    // The big record does not fit with the first: the first comes out (alone, so raw).
    let first = agg
        .add(UserRecord::new("big", vec![2u8; 1000]))
        .unwrap()
        .unwrap();
    assert_eq!(
        (first.partition_key.as_str(), first.user_records),
        ("s1", 1)
    );
    // The big one is alone and comes out raw before the next record.
    let big = agg
        .add(UserRecord::new("s2", vec![3u8; 10]))
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            big.partition_key.as_str(),
            big.data.len(),
            big.is_aggregated()
        ),
        ("big", 1000, false)
    );
    assert_eq!(agg.flush().unwrap().partition_key, "s2");
}

#[test]
fn max_count_one_sends_every_record_raw() {
    let mut agg = aggregator(51_200, 1);
    let records: Vec<_> = (0..5)
        .map(|i| UserRecord::new(format!("k{i}"), format!("d{i}")))
        .collect();
    let out = run(&mut agg, &records);
    assert_eq!(out.len(), 5);
    assert!(out.iter().all(|r| !r.is_aggregated()));
    assert_eq!(out[3].partition_key, "k3");
}

#[test]
fn kpl_defaults_pack_100_byte_records_into_51200_byte_aggregates() {
    let mut agg = Aggregator::default();
    let records: Vec<_> = (0..10_000)
        .map(|i| UserRecord::new(["AAPL", "AMZN", "MSFT"][i % 3], vec![b'x'; 100]))
        .collect();
    let out = run(&mut agg, &records);
    let full = &out[..out.len() - 1];
    assert!(
        full.iter()
            .all(|r| r.data.len() <= 51_200 && r.data.len() > 51_200 - 110)
    );
    assert_eq!(out.iter().map(|r| r.user_records).sum::<usize>(), 10_000);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn encode_then_deaggregate_gives_the_records_back(
        records in prop::collection::vec(arb_record(300), 1..40)
    ) {
        let data = encode(&records);
        let Deaggregated::Aggregated(subs) = deaggregate(&data) else {
            panic!("not an aggregate");
        };
        prop_assert_eq!(subs.len(), records.len());
        for (i, s) in subs.iter().enumerate() {
            prop_assert_eq!(s.sub_sequence_number, i as u64);
            prop_assert!(s.aggregated);
        }
        prop_assert_eq!(subs.into_iter().map(to_user).collect::<Vec<_>>(), records);
    }

    #[test]
    fn size_bytes_is_exact(records in prop::collection::vec(arb_record(300), 1..40)) {
        let mut agg = aggregator(10 * 1024 * 1024, u64::MAX >> 1);
        for r in &records {
            prop_assert_eq!(agg.add(r.clone()).unwrap(), None);
        }
        prop_assert_eq!(agg.len(), records.len());
        prop_assert_eq!(agg.size_bytes(), encode(&records).len());
    }

    #[test]
    fn aggregates_finished_together_are_those_add_gives(
        records in prop::collection::vec(arb_record(600), 1..150),
        max_size in 64usize..6000,
        max_count in 1u64..40,
        group in 1usize..40,
    ) {
        let want = run(&mut aggregator(max_size, max_count), &records);
        // The same records, the aggregates finished `group` at a time (in lanes from three on).
        let mut agg = aggregator(max_size, max_count);
        let mut ready = Vec::new();
        let mut got = Vec::new();
        let finish = |ready: Vec<kstream_kpl::UnfinishedRecord>, got: &mut Vec<AggregatedRecord>| {
            let sizes: Vec<_> = ready.iter().map(|u| (u.size_bytes(), u.user_records(), u.is_aggregated())).collect();
            let finished = finish_all(ready);
            let finished_sizes: Vec<_> = finished.iter().map(|r| (r.size_bytes(), r.user_records, r.is_aggregated())).collect();
            assert_eq!(sizes, finished_sizes);
            got.extend(finished);
        };
        for r in &records {
            ready.extend(agg.add_unfinished(r).unwrap());
            if ready.len() == group {
                finish(std::mem::take(&mut ready), &mut got);
            }
        }
        ready.extend(agg.flush_unfinished());
        finish(ready, &mut got);
        prop_assert_eq!(got, want);
    }

    #[test]
    fn limits_hold_and_nothing_is_lost_or_reordered(
        records in prop::collection::vec(arb_record(600), 1..120),
        max_size in 64usize..4000,
        max_count in 1u64..20,
    ) {
        let mut agg = aggregator(max_size, max_count);
        let out = run(&mut agg, &records);
        let mut back = Vec::new();
        for rec in &out {
            prop_assert!(rec.user_records as u64 <= max_count);
            if rec.is_aggregated() {
                prop_assert!(rec.data.len() <= max_size, "{} > {}", rec.data.len(), max_size);
                prop_assert_eq!(rec.partition_key.as_str(), "a");
                prop_assert!(rec.data.len() > OVERHEAD);
            }
            let users = user_records_of(rec);
            prop_assert_eq!(users.len(), rec.user_records);
            // Predicted shard of the aggregate = the first user record's.
            prop_assert_eq!(rec.hash_key().unwrap(), users[0].hash_key().unwrap());
            back.extend(users);
        }
        // Raw records lose their tags (they cannot travel outside an aggregate); compare the rest.
        let strip = |mut r: UserRecord| { r.tags.clear(); r };
        let out_users: Vec<_> = back.into_iter().map(strip).collect();
        let in_users: Vec<_> = records.into_iter().map(strip).collect();
        prop_assert_eq!(out_users, in_users);
    }
}
