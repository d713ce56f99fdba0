//! Helpers shared by the test modules.

use kstream_kpl::{MAGIC, UserRecord};
use md5::{Digest, Md5};
use proptest::prelude::*;

/// Wraps a protobuf body as an aggregate: magic, body, MD5 of body.
pub(crate) fn wrap(body: &[u8]) -> Vec<u8> {
    let mut out = MAGIC.to_vec();
    out.extend_from_slice(body);
    out.extend_from_slice(&Md5::digest(body));
    out
}

/// A length-delimited protobuf field.
pub(crate) fn ld(tag: u8, payload: &[u8]) -> Vec<u8> {
    assert!(
        payload.len() < 128,
        "test helper handles one-byte lengths only"
    );
    let mut out = vec![(tag << 3) | 2, payload.len() as u8];
    out.extend_from_slice(payload);
    out
}

/// A varint protobuf field with a small value.
pub(crate) fn vi(tag: u8, value: u8) -> Vec<u8> {
    assert!(value < 128);
    vec![tag << 3, value]
}

pub(crate) fn arb_key() -> impl Strategy<Value = String> {
    prop_oneof![
        // Few distinct keys, so the tables deduplicate.
        prop::sample::select(vec!["AAPL", "AMZN", "MSFT", "INTC", "TBV"]).prop_map(str::to_owned),
        "[a-z0-9]{1,40}",
        "\\PC{1,20}",
    ]
}

pub(crate) fn arb_ehk() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        3 => Just(None),
        1 => any::<u128>().prop_map(|h| Some(h.to_string())),
        1 => prop::sample::select(vec!["0", "1", "340282366920938463463374607431768211455"])
            .prop_map(|s| Some(s.to_owned())),
    ]
}

pub(crate) fn arb_tags() -> impl Strategy<Value = Vec<kstream_kpl::Tag>> {
    prop::collection::vec(
        ("[a-z]{1,8}", prop::option::of("\\PC{0,8}"))
            .prop_map(|(key, value)| kstream_kpl::Tag { key, value }),
        0..3,
    )
}

pub(crate) fn arb_record(max_data: usize) -> impl Strategy<Value = UserRecord> {
    (
        arb_key(),
        arb_ehk(),
        prop::collection::vec(any::<u8>(), 0..max_data),
        prop_oneof![3 => Just(Vec::new()), 1 => arb_tags()],
    )
        .prop_map(
            |(partition_key, explicit_hash_key, data, tags)| UserRecord {
                partition_key,
                explicit_hash_key,
                data: data.into(),
                tags,
            },
        )
}
