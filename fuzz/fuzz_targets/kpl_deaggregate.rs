//! KPL deaggregation on arbitrary bytes: never panics, agrees between the single-record and the
//! batch paths, and an aggregate written by `encode` round-trips.
//!
//! The input is used three ways: as a Kinesis record's data; behind the magic with its correct
//! MD5 trailer (so the fuzzer reaches the protobuf decoder instead of stopping at the digest);
//! and cut into user records that are encoded and must come back identical.
#![no_main]

use kstream_kpl::{
    Deaggregated, DeaggregatedRef, MAGIC, UserRecord, deaggregate, deaggregate_batch, encode,
};
use libfuzzer_sys::fuzz_target;

fn check_any(data: &[u8]) {
    let single = deaggregate(data);
    let records = [data];
    let batch = deaggregate_batch(&records);
    assert_eq!(batch.len(), 1);
    match (&single, batch.get(0).expect("one outcome")) {
        (Deaggregated::Aggregated(records), DeaggregatedRef::Aggregated(subs)) => {
            assert!(!records.is_empty(), "an aggregate with no user records");
            assert_eq!(records.len(), subs.len());
            for (i, (r, s)) in records.iter().zip(subs.iter()).enumerate() {
                assert_eq!(r.sub_sequence_number, i as u64);
                assert_eq!(s.sub_sequence_number, i as u64);
                assert_eq!(r.partition_key, s.partition_key);
                assert_eq!(r.explicit_hash_key.as_deref(), s.explicit_hash_key);
                assert_eq!(&r.data[..], s.data);
                assert_eq!(r.tags.len(), s.tags.len());
                // The borrowed tags, read again from the record's bytes, are the owned ones.
                assert!(r.tags.iter().map(|t| (t.key.as_str(), t.value.as_deref())).eq(
                    s.tags.iter().map(|t| (t.key, t.value))
                ));
                assert!(!r.is_corrupt());
                let _ = r.hash_key();
            }
        }
        (Deaggregated::NotAggregated { reason }, DeaggregatedRef::NotAggregated { reason: b }) => {
            assert_eq!(reason, b);
            assert_eq!(
                single.is_corrupt(),
                kstream_kpl::has_magic(data) && reason.is_corrupt()
            );
            let _ = reason.to_string();
        }
        (a, b) => panic!("single and batch deaggregation disagree: {a:?} vs {b:?}"),
    }
}

fn with_digest(body: &[u8]) -> Vec<u8> {
    let digest = kstream_kpl::md5x::digest_many(&[body])[0];
    let mut out = Vec::with_capacity(MAGIC.len() + body.len() + digest.len());
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(body);
    out.extend_from_slice(&digest);
    out
}

fuzz_target!(|data: &[u8]| {
    check_any(data);
    check_any(&with_digest(data));

    // Round trip: the first byte says how many records (1..=8), the rest is cut evenly; each
    // piece's first byte picks the key shape.
    let Some((&n, rest)) = data.split_first() else {
        return;
    };
    let n = usize::from(n % 8) + 1;
    let chunk = rest.len().div_ceil(n).max(1);
    let records: Vec<UserRecord> = rest
        .chunks(chunk)
        .chain(std::iter::repeat_n(
            &[][..],
            n.saturating_sub(rest.chunks(chunk).count()),
        ))
        .take(n)
        .enumerate()
        .map(|(i, piece)| {
            let key = String::from_utf8_lossy(&piece[..piece.len().min(8)]).into_owned();
            let mut r = UserRecord::new(format!("k{key}{}", i % 3), piece.to_vec());
            if piece.first().is_some_and(|b| b & 1 == 1) {
                r = r.with_explicit_hash_key(format!("{}", u128::from(piece[0]) << 64));
            }
            if piece.first().is_some_and(|b| b & 2 == 2) {
                r = r.with_tag(key, piece.get(1).map(|b| b.to_string()));
            }
            r
        })
        .collect();
    let encoded = encode(&records);
    check_any(&encoded);
    match deaggregate(&encoded) {
        Deaggregated::Aggregated(out) => {
            assert_eq!(out.len(), records.len());
            for (r, o) in records.iter().zip(&out) {
                assert_eq!(r.partition_key, o.partition_key);
                assert_eq!(r.explicit_hash_key, o.explicit_hash_key);
                assert_eq!(r.data, o.data);
                assert_eq!(r.tags, o.tags);
            }
        }
        other => panic!("an encoded aggregate did not deaggregate: {other:?}"),
    }
});
