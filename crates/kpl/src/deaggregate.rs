//! Deaggregation: a Kinesis record back into its user records, or through unchanged.

use std::fmt;

use bytes::Bytes;
use md5::{Digest, Md5};
use prost::Message as _;

use crate::aggregate::{DIGEST_LEN, MAGIC, OVERHEAD};
use crate::error::Error;
use crate::hash;
use crate::proto;
use crate::record::Tag;

/// A user record taken out of a Kinesis record, with its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubRecord {
    /// Partition key: from the aggregate's table, or the outer record's key when not aggregated.
    pub partition_key: String,
    /// Explicit hash key from the aggregate's table, if the record had one (`None` when not
    /// aggregated: Kinesis does not return a record's explicit hash key).
    pub explicit_hash_key: Option<String>,
    /// The user data (a slice of the outer record's buffer, not a copy).
    pub data: Bytes,
    /// Tags from the aggregate.
    pub tags: Vec<Tag>,
    /// Sequence number of the outer Kinesis record, when given.
    pub sequence_number: Option<String>,
    /// Index of this record inside the aggregate (0 when not aggregated).
    pub sub_sequence_number: u64,
    /// Whether this came out of a KPL aggregate.
    pub aggregated: bool,
    /// Why the outer record was passed through unchanged, when it was not aggregated.
    pub not_aggregated: Option<NotAggregatedReason>,
}

impl SubRecord {
    /// The hash key that placed this record: its explicit hash key if any, else the MD5 of its
    /// partition key.
    ///
    /// # Errors
    /// [`Error::InvalidHashKey`] if the explicit hash key does not parse.
    pub fn hash_key(&self) -> Result<u128, Error> {
        hash::effective_hash_key(&self.partition_key, self.explicit_hash_key.as_deref())
    }

    /// Whether the outer record looked aggregated (it starts with the magic) but could not be
    /// decoded: bad MD5, truncated, bad protobuf or bad indexes. Such a record is passed through
    /// unchanged; a consumer may prefer to fail it.
    #[must_use]
    pub fn is_corrupt(&self) -> bool {
        self.not_aggregated
            .as_ref()
            .is_some_and(NotAggregatedReason::is_corrupt)
    }
}

/// Result of [`deaggregate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Deaggregated {
    /// A KPL aggregate and its user records in order (`sub_sequence_number` = index, no
    /// sequence number).
    Aggregated(Vec<SubRecord>),
    /// Not a (valid) aggregate: use the bytes as they are.
    NotAggregated {
        /// Why.
        reason: NotAggregatedReason,
    },
}

impl Deaggregated {
    /// Whether the record started with the magic but could not be decoded (see
    /// [`NotAggregatedReason::is_corrupt`]).
    #[must_use]
    pub fn is_corrupt(&self) -> bool {
        match self {
            Self::Aggregated(_) => false,
            Self::NotAggregated { reason } => reason.is_corrupt(),
        }
    }
}

/// Which of an aggregate's key tables an index points into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyTableKind {
    /// `partition_key_table`.
    PartitionKey,
    /// `explicit_hash_key_table`.
    ExplicitHashKey,
}

impl fmt::Display for KeyTableKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::PartitionKey => "partition key",
            Self::ExplicitHashKey => "explicit hash key",
        })
    }
}

/// Why a record was not deaggregated. Only the variants for which
/// [`is_corrupt`](NotAggregatedReason::is_corrupt) is `true` start with the magic.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum NotAggregatedReason {
    /// Shorter than the 4-byte magic: a plain record.
    TooShort {
        /// Record length in bytes.
        len: usize,
    },
    /// Does not start with the magic: a plain record.
    BadMagic,
    /// Starts with the magic but has no room for a message and the 16-byte MD5 (20 bytes or
    /// fewer).
    Truncated {
        /// Record length in bytes.
        len: usize,
    },
    /// The MD5 trailer does not match the message.
    BadChecksum,
    /// The message is not a valid `AggregatedRecord`.
    Protobuf(String),
    /// A user record lacks a field the format requires (`partition_key_index`, `data`, a tag's
    /// `key`).
    MissingField {
        /// Index of the user record.
        record: usize,
        /// The missing field.
        field: &'static str,
    },
    /// A user record's key index points past the end of its table.
    IndexOutOfRange {
        /// Index of the user record.
        record: usize,
        /// The table.
        table: KeyTableKind,
        /// The index found.
        index: u64,
        /// The table's length.
        len: usize,
    },
    /// A valid aggregate holding no user record.
    NoRecords,
}

impl NotAggregatedReason {
    /// Whether the record starts with the magic but could not be decoded. `false` for plain
    /// records ([`TooShort`](Self::TooShort), [`BadMagic`](Self::BadMagic)).
    #[must_use]
    pub fn is_corrupt(&self) -> bool {
        !matches!(self, Self::TooShort { .. } | Self::BadMagic)
    }
}

impl fmt::Display for NotAggregatedReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooShort { len } => {
                write!(f, "not aggregated: {len} bytes, shorter than the magic")
            }
            Self::BadMagic => f.write_str("not aggregated: no KPL magic"),
            Self::Truncated { len } => {
                write!(
                    f,
                    "corrupt aggregate: {len} bytes, too short for a message and its MD5"
                )
            }
            Self::BadChecksum => f.write_str("corrupt aggregate: MD5 trailer does not match"),
            Self::Protobuf(e) => write!(f, "corrupt aggregate: invalid protobuf: {e}"),
            Self::MissingField { record, field } => {
                write!(f, "corrupt aggregate: record {record} has no {field}")
            }
            Self::IndexOutOfRange {
                record,
                table,
                index,
                len,
            } => write!(
                f,
                "corrupt aggregate: record {record} has {table} index {index}, table has {len} entries"
            ),
            Self::NoRecords => f.write_str("corrupt aggregate: no user records"),
        }
    }
}

/// Whether `data` starts with the KPL magic (it may still be corrupt).
#[must_use]
pub fn has_magic(data: &[u8]) -> bool {
    data.starts_with(&MAGIC)
}

/// Deaggregates the data of one Kinesis record (copying it once into a shared buffer; see
/// [`deaggregate_bytes`] to avoid the copy).
#[must_use]
pub fn deaggregate(data: &[u8]) -> Deaggregated {
    // Decide cheaply before copying plain records.
    if let Some(reason) = plain_reason(data) {
        return Deaggregated::NotAggregated { reason };
    }
    deaggregate_bytes(Bytes::copy_from_slice(data))
}

/// Deaggregates the data of one Kinesis record. Sub-record data are slices of `data`.
///
/// Rules (those of the KPL/KCL and the Python library): no magic → plain record; magic but 20
/// bytes or fewer, a bad MD5, an invalid message, a missing required field, a key index out of
/// range or no records → passed through with the reason ([`Deaggregated::is_corrupt`]).
#[must_use]
pub fn deaggregate_bytes(data: Bytes) -> Deaggregated {
    match decode(data) {
        Ok(records) => Deaggregated::Aggregated(records),
        Err(reason) => Deaggregated::NotAggregated { reason },
    }
}

/// Deaggregates a whole Kinesis record: every user record, with the outer sequence number and
/// its subsequence number. A record that is not a valid aggregate comes back as one
/// [`SubRecord`] with the outer partition key, the data unchanged, `aggregated: false` and the
/// reason in [`SubRecord::not_aggregated`].
pub fn deaggregate_record(
    partition_key: &str,
    sequence_number: &str,
    data: impl Into<Bytes>,
) -> Vec<SubRecord> {
    let data = data.into();
    match decode(data.clone()) {
        Ok(mut records) => {
            for r in &mut records {
                r.sequence_number = Some(sequence_number.to_owned());
            }
            records
        }
        Err(reason) => vec![SubRecord {
            partition_key: partition_key.to_owned(),
            explicit_hash_key: None,
            data,
            tags: Vec::new(),
            sequence_number: Some(sequence_number.to_owned()),
            sub_sequence_number: 0,
            aggregated: false,
            not_aggregated: Some(reason),
        }],
    }
}

/// The reason a record cannot be an aggregate, judged from its header alone.
fn plain_reason(data: &[u8]) -> Option<NotAggregatedReason> {
    if data.len() < MAGIC.len() {
        Some(NotAggregatedReason::TooShort { len: data.len() })
    } else if !has_magic(data) {
        Some(NotAggregatedReason::BadMagic)
    } else if data.len() <= OVERHEAD {
        Some(NotAggregatedReason::Truncated { len: data.len() })
    } else {
        None
    }
}

fn decode(data: Bytes) -> Result<Vec<SubRecord>, NotAggregatedReason> {
    if let Some(reason) = plain_reason(&data) {
        return Err(reason);
    }
    let body_end = data.len() - DIGEST_LEN;
    let digest = Md5::digest(&data[MAGIC.len()..body_end]);
    if digest.as_slice() != &data[body_end..] {
        return Err(NotAggregatedReason::BadChecksum);
    }
    let message = proto::AggregatedRecord::decode(data.slice(MAGIC.len()..body_end))
        .map_err(|e| NotAggregatedReason::Protobuf(e.to_string()))?;
    if message.records.is_empty() {
        return Err(NotAggregatedReason::NoRecords);
    }
    let pks = &message.partition_key_table;
    let ehks = &message.explicit_hash_key_table;
    let mut out = Vec::with_capacity(message.records.len());
    for (i, record) in message.records.into_iter().enumerate() {
        let missing = |field| NotAggregatedReason::MissingField { record: i, field };
        let pk_index = record
            .partition_key_index
            .ok_or_else(|| missing("partition_key_index"))?;
        let partition_key = lookup(pks, KeyTableKind::PartitionKey, i, pk_index)?.clone();
        let explicit_hash_key = match record.explicit_hash_key_index {
            Some(index) => Some(lookup(ehks, KeyTableKind::ExplicitHashKey, i, index)?.clone()),
            None => None,
        };
        let data = record.data.ok_or_else(|| missing("data"))?;
        let tags = record
            .tags
            .into_iter()
            .map(|t| {
                Ok(Tag {
                    key: t.key.ok_or_else(|| missing("tag key"))?,
                    value: t.value,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        out.push(SubRecord {
            partition_key,
            explicit_hash_key,
            data,
            tags,
            sequence_number: None,
            sub_sequence_number: i as u64,
            aggregated: true,
            not_aggregated: None,
        });
    }
    Ok(out)
}

fn lookup(
    table: &[String],
    kind: KeyTableKind,
    record: usize,
    index: u64,
) -> Result<&String, NotAggregatedReason> {
    usize::try_from(index)
        .ok()
        .and_then(|j| table.get(j))
        .ok_or(NotAggregatedReason::IndexOutOfRange {
            record,
            table: kind,
            index,
            len: table.len(),
        })
}
