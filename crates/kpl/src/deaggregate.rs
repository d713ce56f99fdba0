//! Deaggregation: a Kinesis record back into its user records, or through unchanged.

use std::fmt;
use std::ops::Range;

use bytes::Bytes;
use md5::{Digest, Md5};

use crate::aggregate::{DIGEST_LEN, MAGIC, OVERHEAD};
use crate::error::Error;
use crate::hash;
use crate::record::Tag;
use crate::wire::{self, Reader, WireError};

mod body;
mod tags;
use body::{Tables, decode_message_into};
pub use tags::{TagRef, TagRefs, TagRefsIter};

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

/// A user record borrowed from its Kinesis record's data: what [`deaggregate_batch`] gives
/// (through [`SubRecords`]), with no allocation per user record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubRecordRef<'a> {
    /// Partition key, from the aggregate's table.
    pub partition_key: &'a str,
    /// Explicit hash key from the aggregate's table, if the record had one.
    pub explicit_hash_key: Option<&'a str>,
    /// The user data.
    pub data: &'a [u8],
    /// Tags from the aggregate (read from the record's bytes when iterated).
    pub tags: TagRefs<'a>,
    /// Index of this record inside the aggregate.
    pub sub_sequence_number: u64,
}

impl SubRecordRef<'_> {
    /// The hash key that placed this record: its explicit hash key if any, else the MD5 of its
    /// partition key.
    ///
    /// # Errors
    /// [`Error::InvalidHashKey`] if the explicit hash key does not parse.
    pub fn hash_key(&self) -> Result<u128, Error> {
        hash::effective_hash_key(self.partition_key, self.explicit_hash_key)
    }

    /// The owned [`SubRecord`], its data a slice of `buffer` (which must hold `self.data`).
    fn to_owned_in(self, buffer: &Bytes, sequence_number: Option<&str>) -> SubRecord {
        SubRecord {
            partition_key: self.partition_key.to_owned(),
            explicit_hash_key: self.explicit_hash_key.map(str::to_owned),
            data: buffer.slice_ref(self.data),
            tags: self
                .tags
                .iter()
                .map(|t| Tag {
                    key: t.key.to_owned(),
                    value: t.value.map(str::to_owned),
                })
                .collect(),
            sequence_number: sequence_number.map(str::to_owned),
            sub_sequence_number: self.sub_sequence_number,
            aggregated: true,
            not_aggregated: None,
        }
    }
}

/// The user records of a batch, compactly: partition key and data of each (32 bytes, nothing
/// to drop), the rarer explicit hash keys and tags in side tables by record index (sorted).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Records<'a> {
    keys_and_data: Vec<(&'a str, &'a [u8])>,
    explicit_hash_keys: Vec<(usize, &'a str)>,
    tags: Vec<(usize, TagRefs<'a>)>,
}

impl<'a> Records<'a> {
    fn len(&self) -> usize {
        self.keys_and_data.len()
    }

    #[inline(always)]
    fn push(
        &mut self,
        partition_key: &'a str,
        explicit_hash_key: Option<&'a str>,
        data: &'a [u8],
        tags: TagRefs<'a>,
    ) {
        let index = self.keys_and_data.len();
        if let Some(key) = explicit_hash_key {
            self.explicit_hash_keys.push((index, key));
        }
        if !tags.is_empty() {
            self.tags.push((index, tags));
        }
        self.keys_and_data.push((partition_key, data));
    }

    fn push_ref(&mut self, sub: SubRecordRef<'a>) {
        self.push(sub.partition_key, sub.explicit_hash_key, sub.data, sub.tags);
    }

    /// Keeps the first `len` records.
    fn truncate(&mut self, len: usize) {
        self.keys_and_data.truncate(len);
        while self
            .explicit_hash_keys
            .last()
            .is_some_and(|(i, _)| *i >= len)
        {
            self.explicit_hash_keys.pop();
        }
        while self.tags.last().is_some_and(|(i, _)| *i >= len) {
            self.tags.pop();
        }
    }

    /// Record `index` of the batch, as record `sub_sequence_number` of its aggregate.
    #[inline(always)]
    fn get(&self, index: usize, sub_sequence_number: usize) -> SubRecordRef<'a> {
        let (partition_key, data) = self.keys_and_data[index];
        SubRecordRef {
            partition_key,
            explicit_hash_key: side(&self.explicit_hash_keys, index).copied(),
            data,
            tags: side(&self.tags, index).copied().unwrap_or_default(),
            sub_sequence_number: sub_sequence_number as u64,
        }
    }
}

/// The entry of a side table for record `index`.
#[inline]
fn side<T>(table: &[(usize, T)], index: usize) -> Option<&T> {
    if table.is_empty() {
        return None;
    }
    table
        .binary_search_by_key(&index, |(i, _)| *i)
        .ok()
        .map(|k| &table[k].1)
}

/// Where the entries of records `start..` begin in a side table.
fn side_start<T>(table: &[(usize, T)], start: usize) -> usize {
    table.partition_point(|(i, _)| *i < start)
}

/// The user records of one aggregate in a [`DeaggregatedBatch`], in order: a view that makes
/// each [`SubRecordRef`] when asked (the batch keeps them compactly). Copy it freely.
#[derive(Clone, Copy)]
pub struct SubRecords<'b, 'a> {
    records: &'b Records<'a>,
    start: usize,
    len: usize,
}

impl<'b, 'a> SubRecords<'b, 'a> {
    /// Number of user records (at least one).
    #[must_use]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there is no user record (never, for an aggregate).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// User record `index` (its `sub_sequence_number`).
    #[must_use]
    #[inline]
    pub fn get(&self, index: usize) -> Option<SubRecordRef<'a>> {
        (index < self.len).then(|| self.records.get(self.start + index, index))
    }

    /// The user records in order.
    #[must_use]
    pub fn iter(&self) -> SubRecordsIter<'b, 'a> {
        let Records {
            keys_and_data,
            explicit_hash_keys,
            tags,
        } = self.records;
        SubRecordsIter {
            keys_and_data: keys_and_data[self.start..self.start + self.len].iter(),
            index: self.start,
            sub_sequence_number: 0,
            explicit_hash_keys: &explicit_hash_keys[side_start(explicit_hash_keys, self.start)..],
            tags: &tags[side_start(tags, self.start)..],
        }
    }
}

impl<'b, 'a> IntoIterator for SubRecords<'b, 'a> {
    type Item = SubRecordRef<'a>;
    type IntoIter = SubRecordsIter<'b, 'a>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<'b, 'a> IntoIterator for &SubRecords<'b, 'a> {
    type Item = SubRecordRef<'a>;
    type IntoIter = SubRecordsIter<'b, 'a>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl fmt::Debug for SubRecords<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl PartialEq for SubRecords<'_, '_> {
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len && self.iter().eq(other.iter())
    }
}

impl Eq for SubRecords<'_, '_> {}

/// Iterator over [`SubRecords`].
///
/// It holds the slices it walks, rather than the batch and indexes into it: a consumer's loop
/// keeps them in registers (not reloading the batch's vectors for each record, as it must
/// when the loop body may write memory) and takes each record without a bounds check.
#[derive(Debug, Clone)]
pub struct SubRecordsIter<'b, 'a> {
    /// Partition keys and data of the records not yet visited.
    keys_and_data: std::slice::Iter<'b, (&'a str, &'a [u8])>,
    /// Batch index of the next record.
    index: usize,
    /// Its index in the aggregate.
    sub_sequence_number: u64,
    /// The side tables' entries from the next record's on (walked along with the records,
    /// rather than searched for each).
    explicit_hash_keys: &'b [(usize, &'a str)],
    tags: &'b [(usize, TagRefs<'a>)],
}

impl<'a> Iterator for SubRecordsIter<'_, 'a> {
    type Item = SubRecordRef<'a>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        let &(partition_key, data) = self.keys_and_data.next()?;
        let index = self.index;
        let explicit_hash_key = match self.explicit_hash_keys {
            [(i, key), rest @ ..] if *i == index => {
                self.explicit_hash_keys = rest;
                Some(*key)
            }
            _ => None,
        };
        let tags = match self.tags {
            [(i, tags), rest @ ..] if *i == index => {
                self.tags = rest;
                *tags
            }
            _ => TagRefs::default(),
        };
        let sub = SubRecordRef {
            partition_key,
            explicit_hash_key,
            data,
            tags,
            sub_sequence_number: self.sub_sequence_number,
        };
        self.index += 1;
        self.sub_sequence_number += 1;
        Some(sub)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.keys_and_data.size_hint()
    }
}

impl ExactSizeIterator for SubRecordsIter<'_, '_> {}

impl std::iter::FusedIterator for SubRecordsIter<'_, '_> {}

/// Result of [`deaggregate_batch`] for one Kinesis record: [`Deaggregated`] with borrowed
/// user records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeaggregatedRef<'b, 'a> {
    /// A KPL aggregate and its user records in order (`sub_sequence_number` = index).
    Aggregated(SubRecords<'b, 'a>),
    /// Not a (valid) aggregate: use the bytes as they are.
    NotAggregated {
        /// Why.
        reason: &'b NotAggregatedReason,
    },
}

impl DeaggregatedRef<'_, '_> {
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

/// The results of [`deaggregate_batch`], one per input record, in order. The user records of
/// the whole batch live in one allocation, compactly (32 bytes each; the explicit hash keys and
/// tags that some have, aside): [`SubRecords`] makes each [`SubRecordRef`] when asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeaggregatedBatch<'a> {
    sub_records: Records<'a>,
    outcomes: Vec<Result<Range<usize>, NotAggregatedReason>>,
}

impl<'a> DeaggregatedBatch<'a> {
    /// Number of input records.
    #[must_use]
    pub fn len(&self) -> usize {
        self.outcomes.len()
    }

    /// Whether the batch had no records.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.outcomes.is_empty()
    }

    /// The result for input record `index`.
    #[must_use]
    pub fn get(&self, index: usize) -> Option<DeaggregatedRef<'_, 'a>> {
        self.outcomes.get(index).map(|outcome| self.view(outcome))
    }

    /// The results in input order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = DeaggregatedRef<'_, 'a>> {
        self.outcomes.iter().map(|outcome| self.view(outcome))
    }

    /// Every user record of the batch's aggregates, aggregate by aggregate in input order.
    pub fn sub_records(&self) -> impl Iterator<Item = SubRecordRef<'a>> + '_ {
        self.iter().flat_map(|result| match result {
            DeaggregatedRef::Aggregated(subs) => subs.iter(),
            DeaggregatedRef::NotAggregated { .. } => SubRecords {
                records: &self.sub_records,
                start: 0,
                len: 0,
            }
            .iter(),
        })
    }

    /// Number of user records in the batch's aggregates.
    #[must_use]
    pub fn sub_record_count(&self) -> usize {
        self.sub_records.len()
    }

    fn view<'b>(
        &'b self,
        outcome: &'b Result<Range<usize>, NotAggregatedReason>,
    ) -> DeaggregatedRef<'b, 'a> {
        match outcome {
            Ok(range) => DeaggregatedRef::Aggregated(SubRecords {
                records: &self.sub_records,
                start: range.start,
                len: range.len(),
            }),
            Err(reason) => DeaggregatedRef::NotAggregated { reason },
        }
    }
}

/// Deaggregates the data of many Kinesis records (a Lambda batch, say) at once, with the same
/// rules and results as [`deaggregate`] on each, in order.
///
/// The aggregates' MD5s are computed side by side in SIMD lanes ([`md5x`](crate::md5x)), which
/// is several times faster than one after the other; user records borrow from `records`, and
/// all of them share one allocation.
#[must_use]
pub fn deaggregate_batch<T: AsRef<[u8]>>(records: &[T]) -> DeaggregatedBatch<'_> {
    // Records that may be aggregates need their body's MD5; the others are settled here.
    let mut outcomes: Vec<Result<Range<usize>, NotAggregatedReason>> = Vec::new();
    let mut candidates: Vec<usize> = Vec::new();
    let mut bodies: Vec<&[u8]> = Vec::new();
    for (index, record) in records.iter().enumerate() {
        let data = record.as_ref();
        match plain_reason(data) {
            Some(reason) => outcomes.push(Err(reason)),
            None => {
                outcomes.push(Ok(0..0));
                candidates.push(index);
                bodies.push(&data[MAGIC.len()..data.len() - DIGEST_LEN]);
            }
        }
    }
    // Each aggregate is decoded as soon as its MD5 is known, while much of it is still in cache.
    let mut sub_records = Records::default();
    let mut tables = Tables::default();
    let body_bytes: usize = bodies.iter().map(|body| body.len()).sum();
    crate::md5x::digest_many_with(&bodies, |k, digest| {
        let index = candidates[k];
        let start = sub_records.len();
        outcomes[index] = check_and_decode(
            records[index].as_ref(),
            Some(&digest),
            &mut sub_records,
            &mut tables,
        )
        .map(|()| start..sub_records.len());
        if start == 0 {
            reserve_like(&mut sub_records, bodies[k].len(), body_bytes);
        }
    });
    DeaggregatedBatch {
        sub_records,
        outcomes,
    }
}

/// Reserves room in `records` (the user records of the first aggregate decoded, from a body of
/// `first_bytes`) for the batch's `body_bytes`, at the first aggregate's density: a batch's
/// aggregates usually come from one producer, with records of one kind, and the list then grows
/// once instead of doubling a dozen times (each a copy of all of it: a tenth of the
/// deaggregation's time at 100-byte records, with the functions' allocator). The reservation
/// takes at most as many bytes as the bodies (an aggregate of records much smaller than those
/// after it grows the list as before).
fn reserve_like(records: &mut Records<'_>, first_bytes: usize, body_bytes: usize) {
    let first = records.len();
    if first == 0 || first_bytes == 0 {
        return;
    }
    let estimate = first.saturating_mul(body_bytes) / first_bytes;
    let most = body_bytes / std::mem::size_of::<(&str, &[u8])>();
    records
        .keys_and_data
        .reserve(estimate.min(most).saturating_sub(first));
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
    match decode(data, None) {
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
    match decode(data.clone(), Some(sequence_number)) {
        Ok(records) => records,
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

fn decode(
    data: Bytes,
    sequence_number: Option<&str>,
) -> Result<Vec<SubRecord>, NotAggregatedReason> {
    let mut records = Records::default();
    check_and_decode(&data, None, &mut records, &mut Tables::default())?;
    Ok((0..records.len())
        .map(|i| records.get(i, i).to_owned_in(&data, sequence_number))
        .collect())
}

/// The checks and decoding of one record's data; `digest` is its body's MD5 when the caller
/// already computed it (the batch path), else it is computed here.
fn check_and_decode<'a>(
    data: &'a [u8],
    digest: Option<&[u8; 16]>,
    out: &mut Records<'a>,
    tables: &mut Tables<'a>,
) -> Result<(), NotAggregatedReason> {
    if let Some(reason) = plain_reason(data) {
        return Err(reason);
    }
    let body_end = data.len() - DIGEST_LEN;
    let body = &data[MAGIC.len()..body_end];
    let matches = match digest {
        Some(digest) => digest[..] == data[body_end..],
        None => Md5::digest(body).as_slice() == &data[body_end..],
    };
    if !matches {
        return Err(NotAggregatedReason::BadChecksum);
    }
    decode_message_into(body, out, tables)
}
