//! KPL-compatible aggregation for Amazon Kinesis Data Streams, with no AWS dependency.
//!
//! The Kinesis Producer Library (KPL) packs many small *user records* into one Kinesis record so
//! that 100-byte records do not each pay for a whole record (1,000 records/s per shard). The
//! format is the KPL's (`aggregation-format.md`): the magic `F3 89 9A C2`, a proto2
//! `AggregatedRecord` message (partition-key and explicit-hash-key tables, then the records), and
//! the MD5 of that message. This crate writes it byte-for-byte as the KPL and the
//! `aws_kinesis_agg` (Python) and `aws-kinesis-agg` (Node) libraries do, and reads theirs.
//!
//! - [`Aggregator`] collects user records into aggregates within a size and count limit
//!   (KPL defaults: 51200 bytes, 4294967295 records), with the KPL's conventions: a container of
//!   one record is sent raw; an aggregate uses partition key `"a"` and, as explicit hash key, the
//!   first record's hash key, so it lands on that record's shard. Each record's protobuf fields
//!   are written as it is added, into the buffer the aggregate is sent in.
//! - [`Aggregator::add_unfinished`] / [`Aggregator::flush_unfinished`] give aggregates without
//!   their MD5 trailer ([`UnfinishedRecord`]), and [`finish_all`] finishes those a caller has
//!   ready together (several shards' aggregates, say) side by side in the lane MD5 ([`md5x`]):
//!   the MD5 is most of what aggregating costs.
//! - [`deaggregate`] / [`deaggregate_record`] take records apart again. Records that are not
//!   aggregates, or are corrupt, pass through unchanged with a [`NotAggregatedReason`]; corrupt ones
//!   (magic present, but bad MD5, truncated, bad protobuf, index out of range) are flagged by
//!   `is_corrupt()` so a consumer can fail them instead.
//! - [`deaggregate_batch`] does the same for many Kinesis records at once (a Lambda batch):
//!   their MD5s are digested side by side in SIMD lanes ([`md5x`]), several times faster than
//!   one after the other, and the user records borrow from the input, with no allocation per
//!   user record: the batch keeps them compactly, and [`SubRecords`] (an aggregate's records)
//!   makes each [`SubRecordRef`] when asked. The owned API above is built on the same decoder.
//! - [`hash_key`], [`effective_hash_key`] and [`ShardMap`] predict the shard of a record, as
//!   Kinesis does: MD5 of the partition key as a big-endian `u128`, or the explicit hash key.
//!
//! # Example
//!
//! ```
//! use kstream_kpl::{
//!     deaggregate, deaggregate_batch, AggregatorConfig, Aggregator, Deaggregated, DeaggregatedRef,
//!     UserRecord,
//! };
//!
//! let config = AggregatorConfig::builder().max_size(51_200).build()?;
//! let mut aggregator = Aggregator::new(config);
//! for i in 0..3 {
//!     // `add` returns an aggregate only when the next record would not fit.
//!     assert!(aggregator.add(UserRecord::new("AAPL", format!("price {i}")))?.is_none());
//! }
//! let record = aggregator.flush().expect("three records pending");
//! assert_eq!(record.partition_key, "a");
//! assert_eq!(record.user_records, 3);
//!
//! let Deaggregated::Aggregated(sub_records) = deaggregate(&record.data) else {
//!     panic!("an aggregate");
//! };
//! assert_eq!(sub_records.len(), 3);
//! assert_eq!(sub_records[2].partition_key, "AAPL");
//! assert_eq!(&sub_records[2].data[..], b"price 2");
//! assert_eq!(sub_records[2].sub_sequence_number, 2);
//!
//! // Plain records pass through with the reason.
//! assert!(matches!(deaggregate(b"{\"plain\":true}"), Deaggregated::NotAggregated { .. }));
//!
//! // A whole batch at once (MD5s in SIMD lanes), user records borrowed from the input.
//! let batch = [record.data.to_vec(), b"plain".to_vec()];
//! let results = deaggregate_batch(&batch);
//! let Some(DeaggregatedRef::Aggregated(subs)) = results.get(0) else { panic!("an aggregate") };
//! let second = subs.get(1).expect("three user records");
//! assert_eq!((second.partition_key, second.data), ("AAPL", &b"price 1"[..]));
//! assert_eq!(subs.iter().map(|sub| sub.sub_sequence_number).collect::<Vec<_>>(), [0, 1, 2]);
//! assert!(matches!(results.get(1), Some(DeaggregatedRef::NotAggregated { .. })));
//! # Ok::<(), kstream_kpl::Error>(())
//! ```
//!
//! # Layout
//!
//! - `record.rs`: [`UserRecord`] and [`Tag`], partition key validation.
//! - `aggregate.rs`: [`Aggregator`], [`AggregatorConfig`], [`AggregatedRecord`], [`encode`] and the
//!   format constants.
//! - `message.rs`: the protobuf message of an aggregate, written as its records come (what prost
//!   writes, byte for byte: a property test compares), and its deduplicated key tables.
//! - `finish.rs`: [`UnfinishedRecord`] and [`finish_all`], the MD5 trailers.
//! - `deaggregate.rs`: [`deaggregate`], [`deaggregate_bytes`], [`deaggregate_record`],
//!   [`deaggregate_batch`], [`SubRecord`], [`SubRecordRef`], [`NotAggregatedReason`].
//! - `md5x.rs`: [`md5x::digest_many`], multi-buffer MD5. Hand-written (portable lane arrays
//!   that LLVM vectorizes, compiled per instruction set by `multiversion`, so no `unsafe` here)
//!   because no maintained crate digests messages of different lengths in SIMD lanes; its
//!   module docs say more, and property tests check it against the `md-5` crate.
//! - `hash.rs`: [`hash_key`], [`parse_hash_key`], [`effective_hash_key`], [`ShardMap`].
//! - `proto.rs` (tests only): the protobuf messages, written for prost by hand (no protoc), the
//!   reference the hand-written writer and reader are tested against; `wire.rs`: the small
//!   protobuf reader deaggregation uses.
//! - `error.rs`: [`Error`].

mod aggregate;
mod deaggregate;
mod error;
mod finish;
mod hash;
pub mod md5x;
mod message;
#[cfg(test)]
mod proto;
mod record;
mod wire;

/// The `bytes` crate, whose [`Bytes`](bytes::Bytes) carries record data here.
pub use bytes;

pub use aggregate::{
    AGGREGATE_PARTITION_KEY, AggregatedRecord, Aggregator, AggregatorConfig,
    AggregatorConfigBuilder, DEFAULT_MAX_COUNT, DEFAULT_MAX_SIZE, DIGEST_LEN, MAGIC, MAX_MAX_SIZE,
    MIN_MAX_SIZE, OVERHEAD, encode,
};
pub use deaggregate::{
    Deaggregated, DeaggregatedBatch, DeaggregatedRef, KeyTableKind, NotAggregatedReason, SubRecord,
    SubRecordRef, SubRecords, SubRecordsIter, TagRef, TagRefs, TagRefsIter, deaggregate,
    deaggregate_batch, deaggregate_bytes, deaggregate_record, has_magic,
};
pub use error::Error;
pub use finish::{UnfinishedRecord, finish_all};
pub use hash::{ShardId, ShardMap, ShardRange, effective_hash_key, hash_key, parse_hash_key};
pub use record::{MAX_PARTITION_KEY_CHARS, Tag, UserRecord, validate_partition_key};
