//! Shard hashing and the shard map.

use kstream_kpl::{
    Error, ShardId, ShardMap, ShardRange, UserRecord, effective_hash_key, hash_key, parse_hash_key,
};
use proptest::prelude::*;

#[test]
fn hash_key_is_md5_big_endian() {
    // MD5("a") = 0cc175b9c0f1b6a831c399e269772661
    assert_eq!(hash_key("a"), 0x0cc175b9c0f1b6a831c399e269772661);
    // MD5("") = d41d8cd98f00b204e9800998ecf8427e
    assert_eq!(hash_key(""), 0xd41d8cd98f00b204e9800998ecf8427e);
    // UTF-8 bytes: MD5("é") = 0x2d2ec0c5... computed over C3 A9.
    assert_eq!(hash_key("é"), u128::from_be_bytes(md5_of(&[0xC3, 0xA9])));
}

fn md5_of(b: &[u8]) -> [u8; 16] {
    use md5::{Digest, Md5};
    Md5::digest(b).into()
}

#[test]
fn explicit_hash_key_wins() {
    assert_eq!(effective_hash_key("a", Some("5")), Ok(5));
    assert_eq!(effective_hash_key("a", None), Ok(hash_key("a")));
    assert_eq!(
        UserRecord::new("a", "")
            .with_explicit_hash_key("0")
            .hash_key(),
        Ok(0)
    );
}

#[test]
fn hash_key_text_follows_the_kinesis_pattern() {
    assert_eq!(parse_hash_key("0"), Ok(0));
    assert_eq!(
        parse_hash_key("340282366920938463463374607431768211455"),
        Ok(u128::MAX)
    );
    for (bad, reason) in [
        ("", "empty"),
        ("00", "leading zero"),
        ("+1", "not all decimal digits"),
        ("-1", "not all decimal digits"),
        (" 1", "not all decimal digits"),
        ("1e3", "not all decimal digits"),
        (
            "340282366920938463463374607431768211456",
            "greater than 2^128-1",
        ),
        (
            "1000000000000000000000000000000000000000",
            "more than 39 digits",
        ),
    ] {
        assert_eq!(
            parse_hash_key(bad),
            Err(Error::InvalidHashKey {
                value: bad.into(),
                reason
            }),
            "{bad:?}"
        );
    }
}

fn two_shards() -> ShardMap {
    ShardMap::from_decimal([
        (
            "shardId-000000000001",
            "170141183460469231731687303715884105728",
            "340282366920938463463374607431768211455",
        ),
        (
            "shardId-000000000000",
            "0",
            "170141183460469231731687303715884105727",
        ),
    ])
    .unwrap()
}

#[test]
fn shard_map_finds_the_owner() {
    let map = two_shards();
    assert_eq!(map.len(), 2);
    assert!(map.is_complete());
    let half = 1u128 << 127;
    assert_eq!(
        map.shard_for(0).map(ShardId::as_str),
        Some("shardId-000000000000")
    );
    assert_eq!(
        map.shard_for(half - 1).map(ShardId::as_str),
        Some("shardId-000000000000")
    );
    assert_eq!(
        map.shard_for(half).map(ShardId::as_str),
        Some("shardId-000000000001")
    );
    assert_eq!(
        map.shard_for(u128::MAX).map(ShardId::as_str),
        Some("shardId-000000000001")
    );
    // MD5("a") starts with 0x0c: lower half.
    assert_eq!(
        map.shard_for_key("a", None).unwrap().unwrap().as_str(),
        "shardId-000000000000"
    );
    assert_eq!(
        map.shard_for_key("a", Some(&u128::MAX.to_string()))
            .unwrap()
            .unwrap()
            .as_str(),
        "shardId-000000000001"
    );
    assert!(map.shard_for_key("a", Some("x")).is_err());
}

#[test]
fn shard_map_gaps_give_none() {
    let map = ShardMap::new(vec![
        ShardRange {
            shard_id: "s1".into(),
            starting_hash_key: 10,
            ending_hash_key: 19,
        },
        ShardRange {
            shard_id: "s2".into(),
            starting_hash_key: 30,
            ending_hash_key: 39,
        },
    ])
    .unwrap();
    assert!(!map.is_complete());
    for (h, want) in [
        (0, None),
        (10, Some("s1")),
        (19, Some("s1")),
        (20, None),
        (29, None),
        (30, Some("s2")),
        (40, None),
    ] {
        assert_eq!(map.shard_for(h).map(ShardId::as_str), want, "{h}");
    }
    assert!(ShardMap::default().shard_for(1).is_none());
    assert!(!ShardMap::default().is_complete());
}

#[test]
fn shard_map_rejects_bad_ranges() {
    let err = ShardMap::from_decimal([("p", "0", "100"), ("c", "50", "100")]).unwrap_err();
    assert_eq!(
        err,
        Error::OverlappingShards {
            first: "p".into(),
            second: "c".into()
        }
    );
    assert!(err.to_string().contains("open shards only"));
    let err = ShardMap::from_decimal([("s", "5", "4")]).unwrap_err();
    assert!(matches!(
        err,
        Error::InvalidShardRange {
            start: 5,
            end: 4,
            ..
        }
    ));
    assert!(matches!(
        ShardMap::from_decimal([("s", "x", "4")]),
        Err(Error::InvalidHashKey { .. })
    ));
}

proptest! {
    #[test]
    fn shard_for_matches_a_linear_scan(bounds in prop::collection::btree_set(any::<u128>(), 1..20), probe in any::<u128>()) {
        // Contiguous shards covering [0, MAX], split at the sampled bounds.
        let mut starts: Vec<u128> = bounds.into_iter().filter(|b| *b > 0).collect();
        starts.insert(0, 0);
        let ranges: Vec<ShardRange> = starts.iter().enumerate().map(|(i, s)| ShardRange {
            shard_id: format!("s{i}").into(),
            starting_hash_key: *s,
            ending_hash_key: starts.get(i + 1).map_or(u128::MAX, |n| n - 1),
        }).collect();
        let map = ShardMap::new(ranges.clone()).unwrap();
        prop_assert!(map.is_complete());
        let want = ranges.iter().find(|r| r.starting_hash_key <= probe && probe <= r.ending_hash_key).map(|r| &r.shard_id);
        prop_assert_eq!(map.shard_for(probe), want);
    }
}
