//! Aggregation: many user records into one Kinesis record, the KPL way.

use std::collections::HashMap;

use bytes::Bytes;
use md5::{Digest, Md5};
use prost::Message as _;

use crate::error::Error;
use crate::hash;
use crate::proto;
use crate::record::UserRecord;
use crate::wire::varint_len;

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
/// One aggregator should only see records bound for one shard (see
/// [`ShardMap`](crate::ShardMap)): consumers such as the KCL drop sub-records whose hash key is
/// outside the shard they read.
#[derive(Debug, Default)]
pub struct Aggregator {
    config: AggregatorConfig,
    partition_keys: KeyTable,
    explicit_hash_keys: KeyTable,
    records: Vec<proto::Record>,
    /// Exact encoded length of the pending protobuf message.
    proto_len: usize,
}

/// Where a record goes in the pending aggregate (see [`Aggregator::place`]).
#[derive(Debug, Clone, Copy)]
struct Placement {
    pk_found: bool,
    pk_index: u64,
    ehk_found: bool,
    ehk_index: Option<u64>,
    /// Bytes the protobuf message grows by.
    added_len: usize,
}

/// Tables up to this size are searched linearly (faster than hashing for a few keys).
const LINEAR_SEARCH_MAX: usize = 8;

/// A deduplicated table of keys.
#[derive(Debug, Default)]
struct KeyTable {
    keys: Vec<String>,
    index: HashMap<String, u64>,
}

impl KeyTable {
    fn find(&self, key: &str) -> Option<u64> {
        // Linear search beats hashing for the small tables most aggregates have.
        if self.keys.len() <= LINEAR_SEARCH_MAX {
            return self.keys.iter().position(|k| k == key).map(|i| i as u64);
        }
        self.index.get(key).copied()
    }

    /// Appends a key known not to be in the table; returns its index.
    fn push(&mut self, key: &str) -> u64 {
        let i = self.keys.len() as u64;
        self.keys.push(key.to_owned());
        if self.keys.len() > LINEAR_SEARCH_MAX {
            if self.index.is_empty() {
                for (j, k) in self.keys.iter().enumerate() {
                    self.index.insert(k.clone(), j as u64);
                }
            } else {
                self.index.insert(key.to_owned(), i);
            }
        }
        i
    }

    /// Index of `key`, appending it if new.
    fn insert(&mut self, key: &str) -> u64 {
        match self.find(key) {
            Some(i) => i,
            None => self.push(key),
        }
    }

    fn take(&mut self) -> Vec<String> {
        self.index.clear();
        std::mem::take(&mut self.keys)
    }
}

/// Encoded length of a length-delimited field (key byte, length varint, payload). Every field
/// number here is below 16, so its key is one byte.
fn field_len(payload: usize) -> usize {
    1 + varint_len(payload as u64) + payload
}

/// Encoded length of a varint field (key byte and varint).
fn varint_field_len(value: u64) -> usize {
    1 + varint_len(value)
}

fn record_len(pk_index: u64, ehk_index: Option<u64>, record: &UserRecord) -> usize {
    let tags: usize = record
        .tags
        .iter()
        .map(|t| {
            field_len(field_len(t.key.len()) + t.value.as_ref().map_or(0, |v| field_len(v.len())))
        })
        .sum();
    varint_field_len(pk_index)
        + ehk_index.map_or(0, varint_field_len)
        + field_len(record.data.len())
        + tags
}

impl Aggregator {
    /// An aggregator with these limits.
    #[must_use]
    pub fn new(config: AggregatorConfig) -> Self {
        Self {
            config,
            ..Self::default()
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
        record.validate()?;
        let mut placed = self.place(&record);
        let mut emitted = None;
        if !self.records.is_empty() {
            let grown = OVERHEAD + self.proto_len + placed.added_len;
            let full_count = self.records.len() as u64 >= self.config.max_count;
            if grown > self.config.max_size || full_count {
                emitted = Some(self.take());
                placed = self.place(&record);
            }
        }
        self.push(record, placed);
        Ok(emitted)
    }

    /// Emits whatever is pending (an aggregate, a raw record, or `None` when empty).
    pub fn flush(&mut self) -> Option<AggregatedRecord> {
        (!self.records.is_empty()).then(|| self.take())
    }

    /// Number of user records pending.
    #[must_use]
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether no user record is pending.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Exact size in bytes of the pending records encoded as an aggregate (magic, protobuf, MD5);
    /// 0 when empty.
    #[must_use]
    pub fn size_bytes(&self) -> usize {
        if self.records.is_empty() {
            0
        } else {
            OVERHEAD + self.proto_len
        }
    }

    /// Where `record` would go: its key indexes (existing or new) and the bytes the protobuf
    /// message would grow by. One table lookup per key.
    fn place(&self, record: &UserRecord) -> Placement {
        let pk = self.partition_keys.find(&record.partition_key);
        let pk_index = pk.unwrap_or(self.partition_keys.keys.len() as u64);
        let mut added_len = if pk.is_some() {
            0
        } else {
            field_len(record.partition_key.len())
        };
        let ehk = record.explicit_hash_key.as_deref().map(|ehk| {
            let found = self.explicit_hash_keys.find(ehk);
            if found.is_none() {
                added_len += field_len(ehk.len());
            }
            (
                found,
                found.unwrap_or(self.explicit_hash_keys.keys.len() as u64),
            )
        });
        added_len += field_len(record_len(pk_index, ehk.map(|(_, i)| i), record));
        Placement {
            pk_found: pk.is_some(),
            pk_index,
            ehk_found: ehk.is_some_and(|(found, _)| found.is_some()),
            ehk_index: ehk.map(|(_, i)| i),
            added_len,
        }
    }

    /// Adds a record where [`place`](Self::place) said, without checks.
    fn push(&mut self, record: UserRecord, placed: Placement) {
        self.proto_len += placed.added_len;
        if !placed.pk_found {
            self.partition_keys.push(&record.partition_key);
        }
        if let (Some(ehk), false) = (record.explicit_hash_key.as_deref(), placed.ehk_found) {
            self.explicit_hash_keys.push(ehk);
        }
        self.records.push(proto::Record {
            partition_key_index: Some(placed.pk_index),
            explicit_hash_key_index: placed.ehk_index,
            data: Some(record.data),
            tags: record
                .tags
                .into_iter()
                .map(|t| proto::Tag {
                    key: Some(t.key),
                    value: t.value,
                })
                .collect(),
        });
    }

    /// Takes the pending records out as one Kinesis record and resets the aggregator.
    fn take(&mut self) -> AggregatedRecord {
        let mut message = proto::AggregatedRecord {
            partition_key_table: self.partition_keys.take(),
            explicit_hash_key_table: self.explicit_hash_keys.take(),
            records: std::mem::take(&mut self.records),
        };
        debug_assert_eq!(message.encoded_len(), self.proto_len);
        self.proto_len = 0;
        let user_records = message.records.len();
        if user_records == 1 {
            let record = message.records.swap_remove(0);
            return AggregatedRecord {
                partition_key: message.partition_key_table.swap_remove(0),
                explicit_hash_key: message.explicit_hash_key_table.pop(),
                data: record.data.unwrap_or_default(),
                user_records,
            };
        }
        let first = &message.records[0];
        let first_pk = &message.partition_key_table[index(first.partition_key_index)];
        let first_ehk = first
            .explicit_hash_key_index
            .map(|i| message.explicit_hash_key_table[index(Some(i))].as_str());
        // Records were validated on the way in, so the explicit hash key parses.
        let hash = hash::effective_hash_key(first_pk, first_ehk)
            .unwrap_or_else(|_| hash::hash_key(first_pk));
        AggregatedRecord {
            partition_key: AGGREGATE_PARTITION_KEY.to_owned(),
            explicit_hash_key: Some(hash.to_string()),
            data: Bytes::from(encode_message(&message)),
            user_records,
        }
    }
}

fn index(i: Option<u64>) -> usize {
    i.unwrap_or_default() as usize
}

/// Magic, message, MD5 of the message.
fn encode_message(message: &proto::AggregatedRecord) -> Vec<u8> {
    let mut out = Vec::with_capacity(OVERHEAD + message.encoded_len());
    out.extend_from_slice(&MAGIC);
    // Cannot fail: the buffer was sized for the message, and a Vec grows anyway.
    message
        .encode(&mut out)
        .expect("a Vec<u8> has room for any message");
    let digest = Md5::digest(&out[MAGIC.len()..]);
    out.extend_from_slice(&digest);
    out
}

/// Encodes records as one KPL aggregate (magic, protobuf, MD5), whatever their number or size,
/// with deduplicated key tables. No validation: keys are written as given.
///
/// Use [`Aggregator`] to respect size limits and the KPL's raw single-record convention.
#[must_use]
pub fn encode(records: &[UserRecord]) -> Vec<u8> {
    let mut partition_keys = KeyTable::default();
    let mut explicit_hash_keys = KeyTable::default();
    let records = records
        .iter()
        .map(|r| proto::Record {
            partition_key_index: Some(partition_keys.insert(&r.partition_key)),
            explicit_hash_key_index: r
                .explicit_hash_key
                .as_deref()
                .map(|k| explicit_hash_keys.insert(k)),
            data: Some(r.data.clone()),
            tags: r
                .tags
                .iter()
                .map(|t| proto::Tag {
                    key: Some(t.key.clone()),
                    value: t.value.clone(),
                })
                .collect(),
        })
        .collect();
    encode_message(&proto::AggregatedRecord {
        partition_key_table: partition_keys.take(),
        explicit_hash_key_table: explicit_hash_keys.take(),
        records,
    })
}
