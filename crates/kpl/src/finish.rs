//! Finishing aggregates: their MD5 trailers, one at a time or many side by side in SIMD lanes.
//!
//! An aggregate's MD5 is most of what aggregating costs (one MD5 stream runs at about 700 MB/s
//! whatever the vector width; see [`md5x`](crate::md5x)). [`Aggregator::add_unfinished`] and
//! [`Aggregator::flush_unfinished`] give aggregates without it, and [`finish_all`] digests the
//! aggregates a caller has ready together (several shards' aggregators flushed at once, a burst
//! that fills several) in the lane MD5 the deaggregator uses.
//!
//! [`Aggregator::add_unfinished`]: crate::Aggregator::add_unfinished
//! [`Aggregator::flush_unfinished`]: crate::Aggregator::flush_unfinished

use bytes::{Buf as _, Bytes};
use md5::{Digest as _, Md5};

use crate::aggregate::{AggregatedRecord, DIGEST_LEN, MAGIC};
use crate::md5x;

/// A Kinesis record whose MD5 trailer is not written yet: an aggregate (magic and protobuf
/// message), or a single user record to be sent raw (nothing to finish). Finish it with
/// [`finish`](Self::finish), or many at once with [`finish_all`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnfinishedRecord {
    partition_key: String,
    explicit_hash_key: Option<String>,
    body: Body,
    user_records: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Body {
    /// A single user record's data, sent as it is.
    Raw(Bytes),
    /// A buffer holding magic and message from `start` on, with room for the digest after them.
    Aggregate { buf: Vec<u8>, start: usize },
}

impl UnfinishedRecord {
    /// A single user record, sent raw.
    pub(crate) fn raw(
        partition_key: String,
        explicit_hash_key: Option<String>,
        data: Bytes,
    ) -> Self {
        Self {
            partition_key,
            explicit_hash_key,
            body: Body::Raw(data),
            user_records: 1,
        }
    }

    /// An aggregate of `user_records` records: `buf[start..]`, magic and message, lacks only the
    /// MD5 of the message.
    pub(crate) fn aggregate(
        partition_key: String,
        explicit_hash_key: String,
        buf: Vec<u8>,
        start: usize,
        user_records: usize,
    ) -> Self {
        Self {
            partition_key,
            explicit_hash_key: Some(explicit_hash_key),
            body: Body::Aggregate { buf, start },
            user_records,
        }
    }

    /// How many user records it carries (see [`AggregatedRecord::user_records`]).
    #[must_use]
    pub fn user_records(&self) -> usize {
        self.user_records
    }

    /// Whether it is an aggregate (more than one user record), whose MD5 is still to compute.
    #[must_use]
    pub fn is_aggregated(&self) -> bool {
        matches!(self.body, Body::Aggregate { .. })
    }

    /// [`AggregatedRecord::size_bytes`] of the finished record.
    #[must_use]
    pub fn size_bytes(&self) -> usize {
        let data = match &self.body {
            Body::Raw(data) => data.len(),
            Body::Aggregate { buf, start } => buf.len() - start + DIGEST_LEN,
        };
        data + self.partition_key.len()
    }

    /// The message an aggregate's MD5 covers.
    fn message(&self) -> Option<&[u8]> {
        match &self.body {
            Body::Raw(_) => None,
            Body::Aggregate { buf, start } => Some(&buf[start + MAGIC.len()..]),
        }
    }

    /// The finished record: the MD5 trailer computed (one scalar MD5) and written.
    #[must_use]
    pub fn finish(self) -> AggregatedRecord {
        let digest = self.message().map(|m| Md5::digest(m).into());
        self.with_digest(digest)
    }

    fn with_digest(self, digest: Option<[u8; DIGEST_LEN]>) -> AggregatedRecord {
        let data = match (self.body, digest) {
            (Body::Raw(data), _) => data,
            (Body::Aggregate { mut buf, start }, Some(digest)) => {
                buf.extend_from_slice(&digest);
                let mut data = Bytes::from(buf);
                data.advance(start);
                data
            }
            (Body::Aggregate { .. }, None) => {
                unreachable!("an aggregate is finished with its digest")
            }
        };
        AggregatedRecord {
            partition_key: self.partition_key,
            explicit_hash_key: self.explicit_hash_key,
            data,
            user_records: self.user_records,
        }
    }
}

/// Finishes every record, in order: the aggregates' MD5s are computed side by side in SIMD lanes
/// ([`md5x::digest_many`], which digests two or fewer one by one). Same result as
/// [`UnfinishedRecord::finish`] on each.
#[must_use]
pub fn finish_all(records: Vec<UnfinishedRecord>) -> Vec<AggregatedRecord> {
    let messages: Vec<&[u8]> = records
        .iter()
        .filter_map(UnfinishedRecord::message)
        .collect();
    let mut digests = md5x::digest_many(&messages).into_iter();
    records
        .into_iter()
        .map(|record| {
            let digest = if record.is_aggregated() {
                digests.next()
            } else {
                None
            };
            record.with_digest(digest)
        })
        .collect()
}
