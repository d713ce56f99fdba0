//! Deaggregation: pass-through reasons, corruption, positions.

use bytes::Bytes;
use kstream_kpl::{
    Deaggregated, DeaggregatedRef, KeyTableKind, MAGIC, NotAggregatedReason, SubRecord, Tag,
    TagRef, UserRecord, deaggregate, deaggregate_batch, deaggregate_bytes, deaggregate_record,
    encode,
};
use proptest::prelude::*;

use crate::support::{arb_record, ld, vi, wrap};

fn reason(data: &[u8]) -> NotAggregatedReason {
    match deaggregate(data) {
        Deaggregated::NotAggregated { reason } => reason,
        Deaggregated::Aggregated(r) => panic!("unexpectedly aggregated: {r:?}"),
    }
}

fn sample() -> Vec<u8> {
    encode(&[
        UserRecord::new("k1", "alpha"),
        UserRecord::new("k2", "beta").with_explicit_hash_key("12345"),
    ])
}

#[test]
fn plain_records_pass_through_and_are_not_corrupt() {
    assert_eq!(reason(b""), NotAggregatedReason::TooShort { len: 0 });
    assert_eq!(
        reason(&MAGIC[..3]),
        NotAggregatedReason::TooShort { len: 3 }
    );
    assert_eq!(reason(b"{\"a\":1}"), NotAggregatedReason::BadMagic);
    assert_eq!(
        reason(&[0xF3, 0x89, 0x9A, 0xC3, 1, 2, 3]),
        NotAggregatedReason::BadMagic
    );
    for r in [reason(b""), reason(b"plain")] {
        assert!(!r.is_corrupt());
    }
    assert!(!deaggregate(b"plain").is_corrupt());
}

#[test]
fn magic_without_room_for_a_message_is_truncated() {
    for len in [4, 5, 19, 20] {
        let mut data = MAGIC.to_vec();
        data.resize(len, 0);
        let r = reason(&data);
        assert_eq!(r, NotAggregatedReason::Truncated { len });
        assert!(r.is_corrupt());
    }
}

#[test]
fn bad_md5_passes_through_unchanged() {
    let good = sample();
    for at in [4, good.len() / 2, good.len() - 1] {
        let mut bad = good.clone();
        bad[at] ^= 0x01;
        let data = Bytes::from(bad.clone());
        assert!(matches!(
            deaggregate_bytes(data.clone()),
            Deaggregated::NotAggregated {
                reason: NotAggregatedReason::BadChecksum
            }
        ));
        let subs = deaggregate_record("outer-pk", "4960000", data.clone());
        assert_eq!(subs.len(), 1);
        let s = &subs[0];
        assert_eq!(
            (
                s.partition_key.as_str(),
                s.aggregated,
                s.sub_sequence_number
            ),
            ("outer-pk", false, 0)
        );
        assert_eq!(s.data, data, "data unchanged");
        assert_eq!(s.data.as_ptr(), data.as_ptr(), "not even copied");
        assert_eq!(s.not_aggregated, Some(NotAggregatedReason::BadChecksum));
        assert!(s.is_corrupt());
        assert_eq!(bad, data.as_ref());
    }
}

#[test]
fn every_truncation_of_an_aggregate_passes_through() {
    let good = sample();
    for len in 0..good.len() {
        let r = reason(&good[..len]);
        assert_eq!(r.is_corrupt(), len >= 4, "{len}: {r}");
    }
}

#[test]
fn invalid_protobuf_with_a_valid_md5_is_reported() {
    // Field 3 claims 100 bytes but only 1 follows.
    let r = reason(&wrap(&[0x1A, 100, 0]));
    assert!(matches!(r, NotAggregatedReason::Protobuf(_)), "{r}");
    assert!(r.is_corrupt());
    assert!(
        r.to_string()
            .starts_with("corrupt aggregate: invalid protobuf")
    );
    // Invalid UTF-8 in a partition key.
    assert!(matches!(
        reason(&wrap(&ld(1, &[0xFF, 0xFE]))),
        NotAggregatedReason::Protobuf(_)
    ));
}

#[test]
fn index_out_of_range_is_reported() {
    let pk = ld(1, b"k");
    let rec = ld(3, &[vi(1, 1), ld(3, b"x")].concat());
    assert_eq!(
        reason(&wrap(&[pk.clone(), rec].concat())),
        NotAggregatedReason::IndexOutOfRange {
            record: 0,
            table: KeyTableKind::PartitionKey,
            index: 1,
            len: 1
        }
    );
    let ok = ld(3, &[vi(1, 0), ld(3, b"x")].concat());
    let bad_ehk = ld(3, &[vi(1, 0), vi(2, 0), ld(3, b"y")].concat());
    let r = reason(&wrap(&[pk, ok, bad_ehk].concat()));
    assert_eq!(
        r,
        NotAggregatedReason::IndexOutOfRange {
            record: 1,
            table: KeyTableKind::ExplicitHashKey,
            index: 0,
            len: 0
        }
    );
    assert_eq!(
        r.to_string(),
        "corrupt aggregate: record 1 has explicit hash key index 0, table has 0 entries"
    );
}

#[test]
fn missing_required_fields_are_reported() {
    let pk = ld(1, b"k");
    let no_data = ld(3, &vi(1, 0));
    assert_eq!(
        reason(&wrap(&[pk.clone(), no_data].concat())),
        NotAggregatedReason::MissingField {
            record: 0,
            field: "data"
        }
    );
    let no_index = ld(3, &ld(3, b"x"));
    assert_eq!(
        reason(&wrap(&[pk.clone(), no_index].concat())),
        NotAggregatedReason::MissingField {
            record: 0,
            field: "partition_key_index"
        }
    );
    let tag_without_key = ld(3, &[vi(1, 0), ld(3, b"x"), ld(4, &ld(2, b"v"))].concat());
    assert_eq!(
        reason(&wrap(&[pk, tag_without_key].concat())),
        NotAggregatedReason::MissingField {
            record: 0,
            field: "tag key"
        }
    );
}

#[test]
fn an_aggregate_without_records_is_reported() {
    assert_eq!(reason(&wrap(&ld(1, b"k"))), NotAggregatedReason::NoRecords);
    assert_eq!(
        reason(&encode(&[])),
        NotAggregatedReason::Truncated { len: 20 }
    );
}

#[test]
fn sub_records_carry_their_position() {
    let subs = deaggregate_record(
        "a",
        "49590338271490256608559692538361571095921575989136588898",
        sample(),
    );
    assert_eq!(subs.len(), 2);
    for (i, s) in subs.iter().enumerate() {
        assert_eq!(
            s.sequence_number.as_deref(),
            Some("49590338271490256608559692538361571095921575989136588898")
        );
        assert_eq!(s.sub_sequence_number, i as u64);
        assert!(s.aggregated && s.not_aggregated.is_none() && !s.is_corrupt());
    }
    assert_eq!(
        (
            subs[0].partition_key.as_str(),
            subs[0].explicit_hash_key.as_deref()
        ),
        ("k1", None)
    );
    assert_eq!(
        (
            subs[1].partition_key.as_str(),
            subs[1].explicit_hash_key.as_deref()
        ),
        ("k2", Some("12345"))
    );
    assert_eq!(&subs[1].data[..], b"beta");
    assert_eq!(subs[1].hash_key(), Ok(12345));
}

#[test]
fn a_one_record_aggregate_from_other_libraries_is_deaggregated() {
    // Python's aggregator emits one-record containers in the aggregated format.
    let subs = deaggregate_record("k", "1", encode(&[UserRecord::new("k", "only")]));
    assert_eq!(subs.len(), 1);
    assert!(subs[0].aggregated);
}

#[test]
fn sub_record_data_shares_the_outer_buffer() {
    let data = Bytes::from(sample());
    let Deaggregated::Aggregated(subs) = deaggregate_bytes(data.clone()) else {
        panic!()
    };
    let range = data.as_ptr() as usize..data.as_ptr() as usize + data.len();
    assert!(range.contains(&(subs[0].data.as_ptr() as usize)));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn random_bytes_never_panic(data in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = deaggregate(&data);
        // With the magic and a valid MD5, the protobuf parser and the checks get the bytes.
        let _ = deaggregate(&wrap(&data));
    }

    #[test]
    fn flipping_any_byte_is_caught(records in prop::collection::vec(arb_record(50), 1..5), pick in any::<prop::sample::Index>(), bit in 0u8..8) {
        let mut data = encode(&records);
        let at = pick.index(data.len());
        data[at] ^= 1 << bit;
        let got = deaggregate(&data);
        let aggregated = matches!(got, Deaggregated::Aggregated(_));
        prop_assert!(!aggregated);
        prop_assert_eq!(got.is_corrupt(), at >= 4, "byte {}", at);
    }
}

/// The owned result [`deaggregate`] gives, from the batch API's borrowed one.
fn owned(result: DeaggregatedRef<'_, '_>) -> Deaggregated {
    match result {
        DeaggregatedRef::NotAggregated { reason } => Deaggregated::NotAggregated {
            reason: reason.clone(),
        },
        DeaggregatedRef::Aggregated(subs) => Deaggregated::Aggregated(
            subs.iter()
                .map(|s| SubRecord {
                    partition_key: s.partition_key.to_owned(),
                    explicit_hash_key: s.explicit_hash_key.map(str::to_owned),
                    data: Bytes::copy_from_slice(s.data),
                    tags: s
                        .tags
                        .iter()
                        .map(|t| Tag {
                            key: t.key.to_owned(),
                            value: t.value.map(str::to_owned),
                        })
                        .collect(),
                    sequence_number: None,
                    sub_sequence_number: s.sub_sequence_number,
                    aggregated: true,
                    not_aggregated: None,
                })
                .collect(),
        ),
    }
}

#[test]
fn a_batch_keeps_order_and_every_pass_through_reason() {
    let good = sample();
    let mut bad_md5 = sample();
    let last = bad_md5.len() - 1;
    bad_md5[last] ^= 1;
    let records: Vec<Vec<u8>> = vec![
        good.clone(),
        b"plain".to_vec(),
        bad_md5,
        MAGIC.to_vec(),
        b"{}".to_vec(),
        wrap(&[]),
        wrap(&ld(1, b"k")),
        good,
    ];
    let batch = deaggregate_batch(&records);
    assert_eq!(batch.len(), records.len());
    let reasons: Vec<Option<NotAggregatedReason>> = batch
        .iter()
        .map(|r| match r {
            DeaggregatedRef::Aggregated(_) => None,
            DeaggregatedRef::NotAggregated { reason } => Some(reason.clone()),
        })
        .collect();
    // The two good aggregates' records, and only theirs, in one list.
    assert_eq!(batch.sub_record_count(), 4);
    assert_eq!(batch.sub_records().count(), 4);
    assert_eq!(
        reasons,
        [
            None,
            Some(NotAggregatedReason::BadMagic),
            Some(NotAggregatedReason::BadChecksum),
            Some(NotAggregatedReason::Truncated { len: 4 }),
            Some(NotAggregatedReason::TooShort { len: 2 }),
            Some(NotAggregatedReason::Truncated { len: 20 }),
            Some(NotAggregatedReason::NoRecords),
            None,
        ]
    );
    assert!(batch.get(2).unwrap().is_corrupt() && !batch.get(1).unwrap().is_corrupt());
    assert!(batch.get(8).is_none());
    let Some(DeaggregatedRef::Aggregated(subs)) = batch.get(7) else {
        unreachable!()
    };
    let second = subs.get(1).expect("two user records");
    assert_eq!(subs.len(), 2);
    assert!(subs.get(2).is_none());
    assert_eq!(second.partition_key, "k2");
    assert_eq!(second.explicit_hash_key, Some("12345"));
    assert_eq!(second.data, b"beta");
    assert_eq!(second.sub_sequence_number, 1);
    // Borrowed from the caller's buffer, not copied.
    let range = records[7].as_ptr_range();
    assert!(range.contains(&second.data.as_ptr()));
}

#[test]
fn borrowed_tags_are_read_from_the_record_in_order() {
    let data = encode(&[
        UserRecord::new("k", "tagged")
            .with_tag("a", Some("1".to_owned()))
            .with_tag("b", None)
            .with_explicit_hash_key("7"),
        UserRecord::new("k", "plain"),
    ]);
    let records = [data];
    let batch = deaggregate_batch(&records);
    let Some(DeaggregatedRef::Aggregated(subs)) = batch.get(0) else {
        panic!("an aggregate")
    };
    let (tagged, plain) = (subs.get(0).expect("two"), subs.get(1).expect("two"));
    let want = [
        TagRef {
            key: "a",
            value: Some("1"),
        },
        TagRef {
            key: "b",
            value: None,
        },
    ];
    assert_eq!(tagged.tags.to_vec(), want);
    assert_eq!(tagged.tags.len(), 2);
    assert!(!tagged.tags.is_empty());
    assert_eq!(format!("{:?}", tagged.tags), format!("{want:?}"));
    assert_eq!(tagged.explicit_hash_key, Some("7"));
    assert!(plain.tags.is_empty());
    assert_eq!(plain.tags.len(), 0);
    assert_eq!(plain.tags.iter().next(), None);
    assert_ne!(tagged.tags, plain.tags);
    // A `SubRecordRef` is `Copy`: the iterator and random access give equal values.
    let copy = tagged;
    assert_eq!(copy, tagged);
    assert_eq!(subs.iter().next(), Some(tagged));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn a_batch_deaggregates_as_one_record_at_a_time(
        batch in prop::collection::vec(
            (prop::collection::vec(arb_record(300), 1..40), any::<prop::sample::Index>(), 0u8..4),
            0..40,
        ),
    ) {
        // Aggregates, some corrupted (a flipped bit, a cut) and some plain.
        let records: Vec<Vec<u8>> = batch
            .into_iter()
            .map(|(users, pick, kind)| {
                let mut data = encode(&users);
                let at = pick.index(data.len());
                match kind {
                    0 => data[at] ^= 0x10,
                    1 => data.truncate(at),
                    2 => data = users[0].data.to_vec(),
                    _ => {}
                }
                data
            })
            .collect();
        let batch = deaggregate_batch(&records);
        prop_assert_eq!(batch.len(), records.len());
        for (data, got) in records.iter().zip(batch.iter()) {
            prop_assert_eq!(owned(got), deaggregate(data));
            // Random access gives what the iterator gives.
            if let DeaggregatedRef::Aggregated(subs) = got {
                prop_assert_eq!(subs.iter().len(), subs.len());
                for (i, sub) in subs.iter().enumerate() {
                    prop_assert_eq!(subs.get(i), Some(sub));
                }
                prop_assert!(subs.get(subs.len()).is_none());
            }
        }
    }
}
