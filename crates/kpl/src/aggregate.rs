//! Aggregation: many user records into one Kinesis record, the KPL way.

use bytes::Bytes;
use md5::{Digest, Md5};

use crate::error::Error;
use crate::finish::UnfinishedRecord;
use crate::hash;
use crate::message::MessageWriter;
use crate::record::UserRecord;

/// The four bytes every aggregated record starts with.
pub const MAGIC: [u8; 4] = [0xF3, 0x89, 0x9A, 0xC2];
/// Length of the MD5 trailer.
pub const DIGEST_LEN: usize = 16;
/// Bytes an aggregate adds around its protobuf message: magic and MD5 trailer.
pub const OVERHEAD: usize = MAGIC.len() + DIGEST_LEN;
/// Partition key of every multi-record aggregate (the KPL's convention).
pub const AGGREGATE_PARTITION_KEY: &str = "a";
/// Default [`AggregatorConfigBuilder::max_size`]: 51200 bytes, the KPL's `AggregationMaxSize`.
pub const DEFAULT_MAX_SIZE: usize = 51_200;
/// Default [`AggregatorConfigBuilder::max_count`]: 4294967295, the KPL's `AggregationMaxCount`.
pub const DEFAULT_MAX_COUNT: u64 = 4_294_967_295;
/// Smallest [`AggregatorConfigBuilder::max_size`] accepted (the KPL's lower bound).
pub const MIN_MAX_SIZE: usize = 64;
/// Largest [`AggregatorConfigBuilder::max_size`] accepted: 10 MiB, the largest Kinesis record.
pub const MAX_MAX_SIZE: usize = 10 * 1024 * 1024;

/// Limits of one aggregate. Build with [`AggregatorConfig::builder`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AggregatorConfig {
    max_size: usize,
    max_count: u64,
}

impl Default for AggregatorConfig {
    fn default() -> Self {
        Self {
            max_size: DEFAULT_MAX_SIZE,
            max_count: DEFAULT_MAX_COUNT,
        }
    }
}

impl AggregatorConfig {
    /// A builder starting from the KPL's defaults.
    #[must_use]
    pub fn builder() -> AggregatorConfigBuilder {
        AggregatorConfigBuilder {
            config: Self::default(),
        }
    }

    /// Largest aggregate, in bytes of record data (magic, protobuf and MD5 trailer).
    #[must_use]
    pub fn max_size(&self) -> usize {
        self.max_size
    }

    /// Most user records in one aggregate.
    #[must_use]
    pub fn max_count(&self) -> u64 {
        self.max_count
    }
}

/// Builder of [`AggregatorConfig`].
#[derive(Debug, Clone)]
pub struct AggregatorConfigBuilder {
    config: AggregatorConfig,
}

impl AggregatorConfigBuilder {
    /// Largest aggregate in bytes of Kinesis record data, magic and MD5 trailer included
    /// (`AggregationMaxSize`). A user record too large to share an aggregate is emitted alone,
    /// raw. Range 64 to 10485760. By default, 51200.
    #[must_use]
    pub fn max_size(mut self, bytes: usize) -> Self {
        self.config.max_size = bytes;
        self
    }

    /// Most user records in one aggregate (`AggregationMaxCount`); 1 disables aggregation (every
    /// record is emitted raw). Range 1 to 2^63-1. By default, 4294967295.
    #[must_use]
    pub fn max_count(mut self, count: u64) -> Self {
        self.config.max_count = count;
        self
    }

    /// Checks the ranges and builds the configuration.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the setting out of range.
    pub fn build(self) -> Result<AggregatorConfig, Error> {
        let c = self.config;
        if !(MIN_MAX_SIZE..=MAX_MAX_SIZE).contains(&c.max_size) {
            return Err(Error::InvalidConfig {
                name: "max_size",
                range: "64..=10485760 bytes",
                value: c.max_size as u64,
            });
        }
        if !(1..=i64::MAX as u64).contains(&c.max_count) {
            return Err(Error::InvalidConfig {
                name: "max_count",
                range: "1..=9223372036854775807",
                value: c.max_count,
            });
        }
        Ok(c)
    }
}

/// A Kinesis record ready for `PutRecord(s)`: either an aggregate of several user records or a
/// single user record sent raw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AggregatedRecord {
    /// The record's partition key: `"a"` for an aggregate (the KPL's convention), the user
    /// record's own key for a raw record.
    pub partition_key: String,
    /// The record's explicit hash key: for an aggregate, the first user record's hash key in
    /// decimal (so the aggregate lands on that record's shard); for a raw record, its own
    /// explicit hash key, if any.
    pub explicit_hash_key: Option<String>,
    /// The record's data: magic, protobuf and MD5 for an aggregate; the user data for a raw record.
    pub data: Bytes,
    /// How many user records it carries. More than one means aggregated.
    pub user_records: usize,
}

impl AggregatedRecord {
    /// Whether this is a KPL aggregate (more than one user record); `false` for a raw record.
    #[must_use]
    pub fn is_aggregated(&self) -> bool {
        self.user_records > 1
    }

    /// Bytes Kinesis counts against its record and request limits: data plus partition key.
    #[must_use]
    pub fn size_bytes(&self) -> usize {
        self.data.len() + self.partition_key.len()
    }

    /// The hash key that places this record on a shard.
    ///
    /// # Errors
    /// [`Error::InvalidHashKey`] if the explicit hash key does not parse (cannot happen for
    /// records made by [`Aggregator`], which validates input).
    pub fn hash_key(&self) -> Result<u128, Error> {
        hash::effective_hash_key(&self.partition_key, self.explicit_hash_key.as_deref())
    }
}

/// Collects user records into KPL aggregates, with deduplicated key tables and an exact size.
///
/// [`add`](Aggregator::add) returns the pending aggregate when the new record would push it past
/// a limit; the new record then starts the next one. The records of an emitted aggregate are
/// always the oldest records added and not yet emitted, in order, so a caller can track its own
/// per-record state in a queue and pop [`AggregatedRecord::user_records`] entries per emission.
///
/// A container holding a single record is emitted raw (its own partition key, explicit hash key
/// and data; tags cannot travel outside an aggregate and are dropped), as the KPL does.
///
/// [`add_unfinished`](Aggregator::add_unfinished) and
/// [`flush_unfinished`](Aggregator::flush_unfinished) do the same but leave the aggregate's MD5
/// trailer to the caller, who can then finish the aggregates it has ready together (those of
/// several shards, say) side by side in SIMD lanes with [`finish_all`](crate::finish_all).
///
/// Each record's protobuf fields are written when it is added (see `message.rs`); the
/// aggregator keeps its buffers from one aggregate to the next.
///
/// One aggregator should only see records bound for one shard (see
/// [`ShardMap`](crate::ShardMap)): consumers such as the KCL drop sub-records whose hash key is
/// outside the shard they read.
#[derive(Debug)]
pub struct Aggregator {
    config: AggregatorConfig,
    message: MessageWriter,
    /// The first pending record's data and whether it has an explicit hash key: a container of
    /// one record is sent as that record, and an aggregate takes that record's hash key.
    first: Option<(Bytes, bool)>,
}

impl Default for Aggregator {
    /// An aggregator with the KPL's default limits.
    fn default() -> Self {
        Self::new(AggregatorConfig::default())
    }
}

impl Aggregator {
    /// An aggregator with these limits.
    #[must_use]
    pub fn new(config: AggregatorConfig) -> Self {
        Self {
            config,
            message: MessageWriter::new(config.max_size),
            first: None,
        }
    }

    /// The limits in use.
    #[must_use]
    pub fn config(&self) -> &AggregatorConfig {
        &self.config
    }

    /// Adds a user record. Returns the pending aggregate if this record does not fit in it
    /// (by size or count); the record then starts the next aggregate.
    ///
    /// # Errors
    /// [`Error::InvalidPartitionKey`] or [`Error::InvalidHashKey`] if the record would be rejected
    /// by Kinesis; the aggregator is unchanged.
    pub fn add(&mut self, record: UserRecord) -> Result<Option<AggregatedRecord>, Error> {
        Ok(self.add_unfinished(&record)?.map(UnfinishedRecord::finish))
    }

    /// [`add`](Self::add), but the aggregate returned still needs its MD5 trailer: finish it with
    /// [`UnfinishedRecord::finish`], or with the others ready at the same time with
    /// [`finish_all`](crate::finish_all). The record's fields are copied into the aggregate (its
    /// data is kept, not copied, in case it ends up alone and raw).
    ///
    /// # Errors
    /// As [`add`](Self::add).
    pub fn add_unfinished(
        &mut self,
        record: &UserRecord,
    ) -> Result<Option<UnfinishedRecord>, Error> {
        record.validate()?;
        let mut placed = self.message.place(record);
        let mut emitted = None;
        if self.message.count() > 0 {
            let grown = OVERHEAD + self.message.len() + placed.added_len;
            let full_count = self.message.count() as u64 >= self.config.max_count;
            if grown > self.config.max_size || full_count {
                emitted = Some(self.take());
                placed = self.message.place(record);
            }
        }
        if self.message.count() == 0 {
            self.first = Some((record.data.clone(), record.explicit_hash_key.is_some()));
        }
        self.message.push(record, placed);
        Ok(emitted)
    }

    /// Emits whatever is pending (an aggregate, a raw record, or `None` when empty).
    pub fn flush(&mut self) -> Option<AggregatedRecord> {
        self.flush_unfinished().map(UnfinishedRecord::finish)
    }

    /// [`flush`](Self::flush), leaving an aggregate's MD5 to the caller (see
    /// [`add_unfinished`](Self::add_unfinished)).
    pub fn flush_unfinished(&mut self) -> Option<UnfinishedRecord> {
        (self.message.count() > 0).then(|| self.take())
    }

    /// Number of user records pending.
    #[must_use]
    pub fn len(&self) -> usize {
        self.message.count()
    }

    /// Whether no user record is pending.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.message.count() == 0
    }

    /// Exact size in bytes of the pending records encoded as an aggregate (magic, protobuf, MD5);
    /// 0 when empty.
    #[must_use]
    pub fn size_bytes(&self) -> usize {
        if self.is_empty() {
            0
        } else {
            OVERHEAD + self.message.len()
        }
    }

    /// Takes the pending records out as one Kinesis record (not empty) and resets the aggregator.
    fn take(&mut self) -> UnfinishedRecord {
        let (first_data, first_has_ehk) = self.first.take().unwrap_or_default();
        let message = &mut self.message;
        // The first record's keys are the first of their tables.
        let first_pk = message.partition_keys.key(0);
        let first_ehk = first_has_ehk.then(|| message.explicit_hash_keys.key(0));
        let user_records = message.count();
        if user_records == 1 {
            let record = UnfinishedRecord::raw(
                first_pk.to_owned(),
                first_ehk.map(str::to_owned),
                first_data,
            );
            message.clear();
            return record;
        }
        // Records were validated on the way in, so the explicit hash key parses.
        let hash = hash::effective_hash_key(first_pk, first_ehk)
            .unwrap_or_else(|_| hash::hash_key(first_pk));
        let (buf, start) = message.take();
        UnfinishedRecord::aggregate(
            AGGREGATE_PARTITION_KEY.to_owned(),
            hash.to_string(),
            buf,
            start,
            user_records,
        )
    }
}

/// Encodes records as one KPL aggregate (magic, protobuf, MD5), whatever their number or size,
/// with deduplicated key tables. No validation: keys are written as given.
///
/// Use [`Aggregator`] to respect size limits and the KPL's raw single-record convention.
#[must_use]
pub fn encode(records: &[UserRecord]) -> Vec<u8> {
    let mut message = MessageWriter::new(usize::MAX);
    message.extend(records);
    let (mut out, start) = message.take();
    let digest = Md5::digest(&out[start + MAGIC.len()..]);
    out.extend_from_slice(&digest);
    out.drain(..start);
    out
}
