//! Errors of the KPL codec, the aggregator and the shard map.

/// An error from this crate.
///
/// Deaggregation never fails: records that are not aggregated, or are corrupt, pass through with a
/// [`NotAggregatedReason`](crate::NotAggregatedReason) instead of an error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A partition key is empty or longer than Kinesis allows (1 to 256 Unicode characters).
    #[error("partition key must be 1 to 256 characters long, got {chars} characters")]
    InvalidPartitionKey {
        /// Length of the rejected key, in Unicode characters.
        chars: usize,
    },

    /// An explicit hash key (or a hash key range bound) is not a decimal integer in `0..=2^128-1`.
    #[error(
        "hash key {value:?} is not valid: it must be a decimal integer from 0 to 2^128-1 \
         without leading zeros or sign ({reason})"
    )]
    InvalidHashKey {
        /// The rejected text.
        value: String,
        /// Why it was rejected.
        reason: &'static str,
    },

    /// An aggregator setting is out of its range.
    #[error("invalid aggregator configuration: {name} must be in {range}, got {value}")]
    InvalidConfig {
        /// The setting's name (as in the builder).
        name: &'static str,
        /// The allowed range.
        range: &'static str,
        /// The rejected value.
        value: u64,
    },

    /// A shard's hash key range has its start after its end.
    #[error(
        "shard {shard_id} has an empty hash key range (start {start} is after end {end}); \
         check the ListShards HashKeyRange"
    )]
    InvalidShardRange {
        /// The shard.
        shard_id: String,
        /// Its starting hash key.
        start: u128,
        /// Its ending hash key.
        end: u128,
    },

    /// Two shards own overlapping hash key ranges, which happens when closed parent shards are
    /// passed along with their children.
    #[error(
        "shards {first} and {second} have overlapping hash key ranges; \
         build the shard map from open shards only (no EndingSequenceNumber)"
    )]
    OverlappingShards {
        /// The shard with the lower starting hash key.
        first: String,
        /// The shard whose range starts inside the first one's.
        second: String,
    },
}
