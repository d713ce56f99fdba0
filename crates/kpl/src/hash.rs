//! Shard hashing: partition key → 128-bit hash key → shard.

use std::borrow::Borrow;
use std::fmt;

use md5::{Digest, Md5};

use crate::error::Error;

/// The hash key of a partition key: MD5 of its UTF-8 bytes, read as a big-endian `u128`
/// (what Kinesis and the KPL compute).
#[must_use]
pub fn hash_key(partition_key: &str) -> u128 {
    u128::from_be_bytes(Md5::digest(partition_key.as_bytes()).into())
}

/// Parses a hash key written in decimal, as Kinesis accepts it: `0|[1-9][0-9]{0,38}` and at most
/// `2^128-1`.
///
/// # Errors
/// [`Error::InvalidHashKey`] naming the reason.
pub fn parse_hash_key(text: &str) -> Result<u128, Error> {
    let invalid = |reason| Error::InvalidHashKey {
        value: text.to_owned(),
        reason,
    };
    let bytes = text.as_bytes();
    if bytes.is_empty() {
        return Err(invalid("empty"));
    }
    if !bytes.iter().all(u8::is_ascii_digit) {
        return Err(invalid("not all decimal digits"));
    }
    if bytes.len() > 1 && bytes[0] == b'0' {
        return Err(invalid("leading zero"));
    }
    if bytes.len() > 39 {
        return Err(invalid("more than 39 digits"));
    }
    text.parse::<u128>()
        .map_err(|_| invalid("greater than 2^128-1"))
}

/// The hash key of a record: its explicit hash key if given, else [`hash_key`] of the partition key.
///
/// # Errors
/// [`Error::InvalidHashKey`] if the explicit hash key does not parse (see [`parse_hash_key`]).
pub fn effective_hash_key(
    partition_key: &str,
    explicit_hash_key: Option<&str>,
) -> Result<u128, Error> {
    match explicit_hash_key {
        Some(ehk) => parse_hash_key(ehk),
        None => Ok(hash_key(partition_key)),
    }
}

/// A shard's id, such as `shardId-000000000000`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ShardId(String);

impl ShardId {
    /// Wraps a shard id.
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }

    /// The id as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The id as an owned `String`.
    #[must_use]
    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for ShardId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<String> for ShardId {
    fn from(id: String) -> Self {
        Self(id)
    }
}

impl From<&str> for ShardId {
    fn from(id: &str) -> Self {
        Self(id.to_owned())
    }
}

impl Borrow<str> for ShardId {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for ShardId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// One shard and the inclusive range of hash keys it owns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardRange {
    /// The shard.
    pub shard_id: ShardId,
    /// First hash key the shard owns.
    pub starting_hash_key: u128,
    /// Last hash key the shard owns (inclusive).
    pub ending_hash_key: u128,
}

/// Which shard owns a hash key, from the hash key ranges of the open shards (`ListShards`).
///
/// Lookups are a binary search over the ranges sorted by starting hash key. Gaps (possible while
/// a stream is being resharded, or when the map was built from a subset of shards) give `None`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShardMap {
    /// Sorted by `starting_hash_key`, non-overlapping.
    ranges: Vec<ShardRange>,
}

impl ShardMap {
    /// Builds a map from shard ranges in any order.
    ///
    /// # Errors
    /// [`Error::InvalidShardRange`] if a range starts after it ends, [`Error::OverlappingShards`]
    /// if two ranges overlap (pass open shards only).
    pub fn new(mut ranges: Vec<ShardRange>) -> Result<Self, Error> {
        for r in &ranges {
            if r.starting_hash_key > r.ending_hash_key {
                return Err(Error::InvalidShardRange {
                    shard_id: r.shard_id.to_string(),
                    start: r.starting_hash_key,
                    end: r.ending_hash_key,
                });
            }
        }
        ranges.sort_by_key(|r| r.starting_hash_key);
        for pair in ranges.windows(2) {
            if pair[1].starting_hash_key <= pair[0].ending_hash_key {
                return Err(Error::OverlappingShards {
                    first: pair[0].shard_id.to_string(),
                    second: pair[1].shard_id.to_string(),
                });
            }
        }
        Ok(Self { ranges })
    }

    /// Builds a map from `(shard_id, starting_hash_key, ending_hash_key)` with the keys in decimal,
    /// as `ListShards` returns them in `HashKeyRange`.
    ///
    /// # Errors
    /// [`Error::InvalidHashKey`] if a bound does not parse, else as [`ShardMap::new`].
    pub fn from_decimal<I, S, A, B>(shards: I) -> Result<Self, Error>
    where
        I: IntoIterator<Item = (S, A, B)>,
        S: Into<ShardId>,
        A: AsRef<str>,
        B: AsRef<str>,
    {
        let ranges = shards
            .into_iter()
            .map(|(id, start, end)| {
                Ok(ShardRange {
                    shard_id: id.into(),
                    starting_hash_key: parse_hash_key(start.as_ref())?,
                    ending_hash_key: parse_hash_key(end.as_ref())?,
                })
            })
            .collect::<Result<Vec<_>, Error>>()?;
        Self::new(ranges)
    }

    /// The shard that owns `hash`, if any.
    #[must_use]
    pub fn shard_for(&self, hash: u128) -> Option<&ShardId> {
        self.range_for(hash).map(|r| &r.shard_id)
    }

    /// The range (and shard) that owns `hash`, if any.
    #[must_use]
    pub fn range_for(&self, hash: u128) -> Option<&ShardRange> {
        // Index of the first range starting after `hash`; the candidate is the one before it.
        let after = self.ranges.partition_point(|r| r.starting_hash_key <= hash);
        let candidate = self.ranges.get(after.checked_sub(1)?)?;
        (hash <= candidate.ending_hash_key).then_some(candidate)
    }

    /// The shard that owns a record with this partition key and optional explicit hash key.
    ///
    /// # Errors
    /// [`Error::InvalidHashKey`] if the explicit hash key does not parse.
    pub fn shard_for_key(
        &self,
        partition_key: &str,
        explicit_hash_key: Option<&str>,
    ) -> Result<Option<&ShardId>, Error> {
        Ok(self.shard_for(effective_hash_key(partition_key, explicit_hash_key)?))
    }

    /// The ranges, sorted by starting hash key.
    #[must_use]
    pub fn ranges(&self) -> &[ShardRange] {
        &self.ranges
    }

    /// Number of shards.
    #[must_use]
    pub fn len(&self) -> usize {
        self.ranges.len()
    }

    /// Whether the map has no shards.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// Whether the ranges cover every hash key from 0 to `2^128-1` without gaps.
    #[must_use]
    pub fn is_complete(&self) -> bool {
        let Some(first) = self.ranges.first() else {
            return false;
        };
        first.starting_hash_key == 0
            && self
                .ranges
                .last()
                .is_some_and(|r| r.ending_hash_key == u128::MAX)
            && self
                .ranges
                .windows(2)
                .all(|p| p[0].ending_hash_key.checked_add(1) == Some(p[1].starting_hash_key))
    }
}
