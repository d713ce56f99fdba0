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
/// (through [`SubRecords`]), with no allocation per user record (beyond `tags` when the
/// record has tags).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubRecordRef<'a> {
    /// Partition key, from the aggregate's table.
    pub partition_key: &'a str,
    /// Explicit hash key from the aggregate's table, if the record had one.
    pub explicit_hash_key: Option<&'a str>,
    /// The user data.
    pub data: &'a [u8],
    /// Tags from the aggregate (empty, and unallocated, without tags).
    pub tags: Vec<TagRef<'a>>,
    /// Index of this record inside the aggregate.
    pub sub_sequence_number: u64,
}

/// A tag of a [`SubRecordRef`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TagRef<'a> {
    /// Tag key.
    pub key: &'a str,
    /// Optional tag value.
    pub value: Option<&'a str>,
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
    fn to_owned_in(&self, buffer: &Bytes, sequence_number: Option<&str>) -> SubRecord {
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
    tags: Vec<(usize, Vec<TagRef<'a>>)>,
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
        tags: Vec<TagRef<'a>>,
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
            tags: side(&self.tags, index).cloned().unwrap_or_default(),
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
        SubRecordsIter {
            records: *self,
            next: 0,
            explicit_hash_key: side_start(&self.records.explicit_hash_keys, self.start),
            tags: side_start(&self.records.tags, self.start),
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
#[derive(Debug, Clone)]
pub struct SubRecordsIter<'b, 'a> {
    records: SubRecords<'b, 'a>,
    next: usize,
    /// Where the next record's entries are, or would be, in the side tables (walked along
    /// with the records, rather than searched for each).
    explicit_hash_key: usize,
    tags: usize,
}

impl<'a> Iterator for SubRecordsIter<'_, 'a> {
    type Item = SubRecordRef<'a>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.next >= self.records.len {
            return None;
        }
        let records = self.records.records;
        let index = self.records.start + self.next;
        let (partition_key, data) = records.keys_and_data[index];
        let explicit_hash_key = match records.explicit_hash_keys.get(self.explicit_hash_key) {
            Some(&(i, key)) if i == index => {
                self.explicit_hash_key += 1;
                Some(key)
            }
            _ => None,
        };
        let tags = match records.tags.get(self.tags) {
            Some((i, tags)) if *i == index => {
                self.tags += 1;
                tags.clone()
            }
            _ => Vec::new(),
        };
        let sub = SubRecordRef {
            partition_key,
            explicit_hash_key,
            data,
            tags,
            sub_sequence_number: self.next as u64,
        };
        self.next += 1;
        Some(sub)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.records.len - self.next;
        (left, Some(left))
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
    });
    DeaggregatedBatch {
        sub_records,
        outcomes,
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

/// The key tables of an aggregate, kept from one aggregate to the next (no allocation per
/// aggregate).
#[derive(Default)]
struct Tables<'a> {
    pks: Vec<&'a str>,
    ehks: Vec<&'a str>,
    /// Where the entries are in the message, before they are checked as UTF-8 together.
    pk_ranges: Vec<Range<usize>>,
    ehk_ranges: Vec<Range<usize>>,
}

impl<'a> Tables<'a> {
    /// Reads the key tables at the start of `body`, up to its first record: where that record
    /// starts, `None` at anything unusual (no record, a wrong wire type, invalid UTF-8).
    fn read(&mut self, body: &'a [u8]) -> Option<usize> {
        self.pk_ranges.clear();
        self.ehk_ranges.clear();
        let mut reader = Reader::new(body);
        let (mut first, mut last) = (body.len(), 0);
        let records = loop {
            if reader.is_empty() {
                return None;
            }
            let at = reader.pos();
            let (field, wire_type) = reader.key().ok()?;
            let ranges = match (field, wire_type) {
                (1, wire::LEN) => &mut self.pk_ranges,
                (2, wire::LEN) => &mut self.ehk_ranges,
                (3, wire::LEN) => break at,
                (1..=3, _) => return None,
                _ => {
                    reader.skip(field, wire_type).ok()?;
                    continue;
                }
            };
            let range = reader.len_delimited().ok()?;
            first = first.min(range.start);
            last = range.end;
            ranges.push(range);
        };
        // The keys are checked as UTF-8 together, in one pass over the bytes they span (a key
        // table's entries are usually contiguous, one or two bytes of field key and length
        // between them); a key whose ends are character boundaries of valid UTF-8 is valid
        // UTF-8. Where the span is not valid UTF-8 (a bad key, or an unknown field between),
        // each key is checked alone.
        let span = std::str::from_utf8(body.get(first..last).unwrap_or_default()).ok();
        let key = |range: &Range<usize>| match span
            .and_then(|s| s.get(range.start - first..range.end - first))
        {
            Some(key) => Some(key),
            None => std::str::from_utf8(&body[range.clone()]).ok(),
        };
        self.pks.clear();
        self.ehks.clear();
        for range in &self.pk_ranges {
            self.pks.push(key(range)?);
        }
        for range in &self.ehk_ranges {
            self.ehks.push(key(range)?);
        }
        Some(records)
    }
}

/// Decodes an aggregate laid out as the KPL and the Python and Node libraries write it (the key
/// tables before the records) in one pass, each record of the usual shape
/// (`1a <len> 08 <pk> [10 <ehk>] 1a <len> <data>`) without the general parsers. `None` at
/// anything else (a table after a record, any error, no records), having perhaps appended
/// records that the caller removes before [`decode_general`] decides: what this accepts,
/// that decodes to the same records.
fn decode_common<'a>(body: &'a [u8], out: &mut Records<'a>, tables: &mut Tables<'a>) -> Option<()> {
    let mut rest = &body[tables.read(body)?..];
    let (pks, ehks) = (&tables.pks[..], &tables.ehks[..]);
    let mut i = 0;
    while !rest.is_empty() {
        let plain = plain_records(&mut rest, pks, &mut out.keys_and_data);
        if plain > 0 {
            i += plain;
            continue;
        }
        if let Some((pk, ehk, data, next)) = common_record(rest, pks, ehks) {
            out.push(pk, ehk, data, Vec::new());
            rest = next;
            i += 1;
            continue;
        }
        let mut reader = Reader::new(rest);
        let (field, wire_type) = reader.key().ok()?;
        match (field, wire_type) {
            (3, wire::LEN) => {
                let record = &rest[reader.len_delimited().ok()?];
                out.push_ref(decode_record(record, i, pks, ehks).ok()?);
                i += 1;
            }
            // A table after a record, or a wrong wire type: the general decoder's case.
            (1..=3, _) => return None,
            _ => reader.skip(field, wire_type).ok()?,
        }
        rest = &rest[reader.pos()..];
    }
    Some(())
}

/// Appends to `out` the partition keys and data of the records at the start of `rest` that
/// have the KPL's own shape, `1a <len> 08 <pk> 1a <len> <data>` (one-byte key index, one- or
/// two-byte lengths, the data ending the record, the index in range), and moves `rest` past
/// them: how many. The hot loop of deaggregation: nothing to check but those bytes, and nothing
/// to keep but a key and a slice.
#[inline]
fn plain_records<'a>(
    rest: &mut &'a [u8],
    pks: &[&'a str],
    out: &mut Vec<(&'a str, &'a [u8])>,
) -> usize {
    let start = out.len();
    let mut buf = *rest;
    while let Some((len, tail)) = length(buf, 0x1a)
        && let Some((record, after)) = tail.split_at_checked(len)
        && let [0x08, pk @ 0..0x80, rest @ ..] = record
        && let Some((data_len, data)) = length(rest, 0x1a)
        && data.len() == data_len
        && let Some(&key) = pks.get(usize::from(*pk))
    {
        out.push((key, data));
        buf = after;
    }
    *rest = buf;
    out.len() - start
}

/// A user record of the usual shape at the start of `buf`: `1a <len> 08 <pk> [10 <ehk>] 1a
/// <len> <data>` with one-byte key indexes and one- or two-byte lengths, the data ending the
/// record, indexes in range: its partition key, explicit hash key and data, and the bytes after
/// it.
#[inline]
#[allow(clippy::type_complexity)]
fn common_record<'a>(
    buf: &'a [u8],
    pks: &[&'a str],
    ehks: &[&'a str],
) -> Option<(&'a str, Option<&'a str>, &'a [u8], &'a [u8])> {
    let (len, rest) = length(buf, 0x1a)?;
    let (record, after) = rest.split_at_checked(len)?;
    let [0x08, pk, rest @ ..] = record else {
        return None;
    };
    if *pk >= 0x80 {
        return None;
    }
    let (explicit_hash_key, rest) = match rest {
        [0x10, ehk, rest @ ..] if *ehk < 0x80 => (Some(*ehks.get(usize::from(*ehk))?), rest),
        _ => (None, rest),
    };
    let (len, data) = length(rest, 0x1a)?;
    if data.len() != len {
        return None;
    }
    Some((pks.get(usize::from(*pk))?, explicit_hash_key, data, after))
}

/// A length-delimited field's length and what follows it, if `buf` starts with the field key
/// `key` and a one- or two-byte length.
#[inline(always)]
fn length(buf: &[u8], key: u8) -> Option<(usize, &[u8])> {
    match buf {
        [k, len, rest @ ..] if *k == key && *len < 0x80 => Some((usize::from(*len), rest)),
        [k, low, high, rest @ ..] if *k == key && *low >= 0x80 && *high < 0x80 => {
            Some((usize::from(*low & 0x7f) | usize::from(*high) << 7, rest))
        }
        _ => None,
    }
}

/// What went wrong in one user record.
enum RecordError {
    /// Malformed protobuf: the whole message is invalid.
    Wire(WireError),
    /// Well-formed, but not a valid user record.
    Invalid(NotAggregatedReason),
}

impl From<WireError> for RecordError {
    fn from(e: WireError) -> Self {
        Self::Wire(e)
    }
}

fn protobuf(e: WireError) -> NotAggregatedReason {
    NotAggregatedReason::Protobuf(e.to_string())
}

/// Decodes an `AggregatedRecord` message into owned user records (slices of `body`).
#[cfg(test)]
fn decode_message(
    body: &Bytes,
    sequence_number: Option<&str>,
) -> Result<Vec<SubRecord>, NotAggregatedReason> {
    let records = decode_message_ref(body)?;
    Ok(records
        .iter()
        .map(|r| r.to_owned_in(body, sequence_number))
        .collect())
}

/// Decodes an `AggregatedRecord` message into user records borrowed from it. A malformed
/// message anywhere is reported before a well-formed but invalid record (as a decoder of the
/// whole message would).
#[cfg(test)]
fn decode_message_ref(body: &[u8]) -> Result<Vec<SubRecordRef<'_>>, NotAggregatedReason> {
    let mut out = Records::default();
    decode_message_into(body, &mut out, &mut Tables::default())?;
    Ok((0..out.len()).map(|i| out.get(i, i)).collect())
}

/// [`decode_message_ref`], appending the user records to `out` (left as it was on error):
/// the one-pass decoder of the usual layout, else the general one.
fn decode_message_into<'a>(
    body: &'a [u8],
    out: &mut Records<'a>,
    tables: &mut Tables<'a>,
) -> Result<(), NotAggregatedReason> {
    let start = out.len();
    if decode_common(body, out, tables).is_some() {
        return Ok(());
    }
    out.truncate(start);
    decode_general(body, out)
}

/// Decodes any valid `AggregatedRecord` message (tables and records in any order), and finds
/// what is wrong with an invalid one, appending the user records to `out` (left as it was on
/// error).
fn decode_general<'a>(body: &'a [u8], out: &mut Records<'a>) -> Result<(), NotAggregatedReason> {
    // Pass 1: the key tables, and where the records are (the tables may come in any order).
    let mut pks: Vec<&str> = Vec::new();
    let mut ehks: Vec<&str> = Vec::new();
    let mut records: Vec<Range<usize>> = Vec::new();
    let mut reader = Reader::new(body);
    while !reader.is_empty() {
        let (field, wire_type) = reader.key().map_err(protobuf)?;
        let step = match field {
            1 => wire::expect(1, wire_type, wire::LEN)
                .and_then(|()| reader.string().map(|s| pks.push(s))),
            2 => wire::expect(2, wire_type, wire::LEN)
                .and_then(|()| reader.string().map(|s| ehks.push(s))),
            3 => wire::expect(3, wire_type, wire::LEN)
                .and_then(|()| reader.len_delimited().map(|r| records.push(r))),
            _ => reader.skip(field, wire_type),
        };
        step.map_err(protobuf)?;
    }
    if records.is_empty() {
        return Err(NotAggregatedReason::NoRecords);
    }
    // Pass 2: each record straight into a SubRecordRef.
    let start = out.len();
    out.keys_and_data.reserve(records.len());
    let mut invalid = None;
    for (i, range) in records.into_iter().enumerate() {
        match decode_record(&body[range], i, &pks, &ehks) {
            Ok(sub) => out.push_ref(sub),
            Err(RecordError::Wire(e)) => {
                out.truncate(start);
                return Err(protobuf(e));
            }
            // Keep checking the rest for malformed protobuf, which takes precedence.
            Err(RecordError::Invalid(reason)) => {
                invalid.get_or_insert(reason);
            }
        }
    }
    match invalid {
        Some(reason) => {
            out.truncate(start);
            Err(reason)
        }
        None => Ok(()),
    }
}

fn decode_record<'a>(
    buf: &'a [u8],
    i: usize,
    pks: &[&'a str],
    ehks: &[&'a str],
) -> Result<SubRecordRef<'a>, RecordError> {
    let mut reader = Reader::new(buf);
    let (mut pk_index, mut ehk_index, mut data) = (None, None, None);
    let mut tags: Vec<(Option<&'a str>, Option<&'a str>)> = Vec::new();
    while !reader.is_empty() {
        let (field, wire_type) = reader.key()?;
        match field {
            1 => {
                wire::expect(1, wire_type, wire::VARINT)?;
                pk_index = Some(reader.varint()?);
            }
            2 => {
                wire::expect(2, wire_type, wire::VARINT)?;
                ehk_index = Some(reader.varint()?);
            }
            3 => {
                wire::expect(3, wire_type, wire::LEN)?;
                data = Some(&buf[reader.len_delimited()?]);
            }
            4 => {
                wire::expect(4, wire_type, wire::LEN)?;
                let r = reader.len_delimited()?;
                tags.push(decode_tag(&buf[r])?);
            }
            _ => reader.skip(field, wire_type)?,
        }
    }
    let missing =
        |field| RecordError::Invalid(NotAggregatedReason::MissingField { record: i, field });
    let pk_index = pk_index.ok_or_else(|| missing("partition_key_index"))?;
    let partition_key = lookup(pks, KeyTableKind::PartitionKey, i, pk_index)?;
    let explicit_hash_key = match ehk_index {
        Some(index) => Some(lookup(ehks, KeyTableKind::ExplicitHashKey, i, index)?),
        None => None,
    };
    let data = data.ok_or_else(|| missing("data"))?;
    let tags = if tags.is_empty() {
        Vec::new()
    } else {
        tags.into_iter()
            .map(|(key, value)| {
                Ok(TagRef {
                    key: key.ok_or_else(|| missing("tag key"))?,
                    value,
                })
            })
            .collect::<Result<Vec<_>, RecordError>>()?
    };
    Ok(SubRecordRef {
        partition_key,
        explicit_hash_key,
        data,
        tags,
        sub_sequence_number: i as u64,
    })
}

/// A `Tag` message: key and value, each optional on the wire.
fn decode_tag(buf: &[u8]) -> Result<(Option<&str>, Option<&str>), WireError> {
    let mut reader = Reader::new(buf);
    let (mut key, mut value) = (None, None);
    while !reader.is_empty() {
        let (field, wire_type) = reader.key()?;
        match field {
            1 => {
                wire::expect(1, wire_type, wire::LEN)?;
                key = Some(reader.string()?);
            }
            2 => {
                wire::expect(2, wire_type, wire::LEN)?;
                value = Some(reader.string()?);
            }
            _ => reader.skip(field, wire_type)?,
        }
    }
    Ok((key, value))
}

fn lookup<'a>(
    table: &[&'a str],
    kind: KeyTableKind,
    record: usize,
    index: u64,
) -> Result<&'a str, RecordError> {
    usize::try_from(index)
        .ok()
        .and_then(|j| table.get(j).copied())
        .ok_or(RecordError::Invalid(NotAggregatedReason::IndexOutOfRange {
            record,
            table: kind,
            index,
            len: table.len(),
        }))
}

#[cfg(test)]
mod tests {
    //! The hand-written decoder against prost's, on random and mutated messages.

    use proptest::prelude::*;
    use prost::Message as _;

    use super::*;
    use crate::proto;

    /// The reference: prost decodes the whole message, then the same checks.
    fn decode_with_prost(body: &Bytes) -> Result<Vec<SubRecord>, NotAggregatedReason> {
        let message = proto::AggregatedRecord::decode(body.clone())
            .map_err(|e| NotAggregatedReason::Protobuf(e.to_string()))?;
        if message.records.is_empty() {
            return Err(NotAggregatedReason::NoRecords);
        }
        let pks: Vec<&str> = message
            .partition_key_table
            .iter()
            .map(String::as_str)
            .collect();
        let ehks: Vec<&str> = message
            .explicit_hash_key_table
            .iter()
            .map(String::as_str)
            .collect();
        let invalid = |e: RecordError| match e {
            RecordError::Invalid(reason) => reason,
            RecordError::Wire(e) => protobuf(e),
        };
        let mut out = Vec::new();
        for (i, record) in message.records.into_iter().enumerate() {
            let missing = |field| NotAggregatedReason::MissingField { record: i, field };
            let pk_index = record
                .partition_key_index
                .ok_or_else(|| missing("partition_key_index"))?;
            let partition_key =
                lookup(&pks, KeyTableKind::PartitionKey, i, pk_index).map_err(invalid)?;
            let explicit_hash_key = match record.explicit_hash_key_index {
                Some(index) => Some(
                    lookup(&ehks, KeyTableKind::ExplicitHashKey, i, index)
                        .map_err(invalid)?
                        .to_owned(),
                ),
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
                .collect::<Result<Vec<_>, NotAggregatedReason>>()?;
            out.push(SubRecord {
                partition_key: partition_key.to_owned(),
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

    /// Same outcome; protobuf error messages may differ in wording.
    fn same(
        a: &Result<Vec<SubRecord>, NotAggregatedReason>,
        b: &Result<Vec<SubRecord>, NotAggregatedReason>,
    ) -> bool {
        match (a, b) {
            (Err(NotAggregatedReason::Protobuf(_)), Err(NotAggregatedReason::Protobuf(_))) => true,
            _ => a == b,
        }
    }

    fn arb_message() -> impl Strategy<Value = Vec<u8>> {
        // Indexes and lengths of one and of several varint bytes (the one-pass decoder's
        // common shape and its fallback).
        let record = (
            prop::option::weighted(0.95, prop_oneof![8 => 0u64..4, 1 => 127u64..130]),
            prop::option::weighted(0.3, prop_oneof![8 => 0u64..3, 1 => 127u64..130]),
            prop::option::weighted(
                0.95,
                prop_oneof![
                    8 => prop::collection::vec(any::<u8>(), 0..20),
                    1 => prop::collection::vec(any::<u8>(), 120..140),
                ],
            ),
            prop::collection::vec(
                (
                    prop::option::weighted(0.9, "[a-z]{0,3}"),
                    prop::option::of("[a-z]{0,3}"),
                ),
                0..2,
            ),
        )
            .prop_map(|(pk, ehk, data, tags)| proto::Record {
                partition_key_index: pk,
                explicit_hash_key_index: ehk,
                data: data.map(Bytes::from),
                tags: tags
                    .into_iter()
                    .map(|(key, value)| proto::Tag { key, value })
                    .collect(),
            });
        (
            prop::collection::vec("[a-z]{0,4}", 0..4),
            prop::collection::vec("[0-9]{1,3}", 0..3),
            prop::collection::vec(record, 0..5),
        )
            .prop_map(|(partition_key_table, explicit_hash_key_table, records)| {
                proto::AggregatedRecord {
                    partition_key_table,
                    explicit_hash_key_table,
                    records,
                }
                .encode_to_vec()
            })
    }

    /// Random edits: byte changes, insertions, deletions, truncation.
    fn mutate(mut bytes: Vec<u8>, edits: &[(usize, u8, u8)]) -> Vec<u8> {
        for &(at, kind, value) in edits {
            let at = if bytes.is_empty() {
                0
            } else {
                at % (bytes.len() + 1)
            };
            match kind % 4 {
                0 if at < bytes.len() => bytes[at] = value,
                1 => bytes.insert(at, value),
                2 if at < bytes.len() => {
                    bytes.remove(at);
                }
                3 => bytes.truncate(at),
                _ => {}
            }
        }
        bytes
    }

    /// Moves the message's key table entries after its records (same order within each
    /// table): valid protobuf that the one-pass decoder leaves to the general one. `None` if
    /// the message has no table entry or does not parse.
    fn tables_last(body: &[u8]) -> Option<Vec<u8>> {
        let (mut tables, mut rest) = (Vec::new(), Vec::new());
        let mut reader = Reader::new(body);
        while !reader.is_empty() {
            let start = reader.pos();
            let (field, wire_type) = reader.key().ok()?;
            reader.skip(field, wire_type).ok()?;
            let bytes = &body[start..reader.pos()];
            if matches!(field, 1 | 2) {
                tables.extend_from_slice(bytes);
            } else {
                rest.extend_from_slice(bytes);
            }
        }
        (!tables.is_empty()).then(|| [rest, tables].concat())
    }

    #[test]
    fn tables_after_the_records_are_decoded() {
        let message = proto::AggregatedRecord {
            partition_key_table: vec!["a".into(), "b".into()],
            explicit_hash_key_table: vec!["7".into()],
            records: (0..3)
                .map(|i| proto::Record {
                    partition_key_index: Some(i % 2),
                    explicit_hash_key_index: (i == 1).then_some(0),
                    data: Some(Bytes::from(vec![i as u8; 200])),
                    tags: Vec::new(),
                })
                .collect(),
        }
        .encode_to_vec();
        let want = decode_message(&Bytes::from(message.clone()), None).expect("valid");
        let moved = Bytes::from(tables_last(&message).expect("a table first"));
        assert_eq!(decode_message(&moved, None), Ok(want.clone()));
        assert_eq!(decode_with_prost(&moved), Ok(want));
    }

    #[test]
    fn key_tables_are_checked_as_utf8_key_by_key() {
        let record = [0x1a, 0x06, 0x08, 0x00, 0x1a, 0x02, b'h', b'i'];
        let message = |table: &[u8]| Bytes::from([table, &record[..]].concat());
        // Valid keys of several bytes per character, one after the other.
        let keys = [
            &[0x0a, 0x02, 0xc3, 0xa9][..],
            &[0x0a, 0x03, b'a', 0xc3, 0xa8],
        ]
        .concat();
        let body = message(&keys);
        let want = decode_with_prost(&body);
        assert_eq!(
            want.as_ref().map(|r| r[0].partition_key.as_str()),
            Ok("\u{e9}")
        );
        assert_eq!(decode_message(&body, None), want);
        // A key that is half a character, followed by an unknown field whose key's first byte
        // completes it: the bytes the keys span are valid UTF-8, the first key is not.
        let split = [
            &[0x0a, 0x01, 0xc3][..],
            &[0xa8, 0x01, 0x00],
            &[0x0a, 0x01, b'a'],
        ]
        .concat();
        let body = message(&split);
        assert!(matches!(
            decode_with_prost(&body),
            Err(NotAggregatedReason::Protobuf(_))
        ));
        assert!(matches!(
            decode_message(&body, None),
            Err(NotAggregatedReason::Protobuf(_))
        ));
        // An invalid key alone.
        let body = message(&[0x0a, 0x02, 0xff, b'a']);
        assert!(matches!(
            decode_message(&body, None),
            Err(NotAggregatedReason::Protobuf(_))
        ));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]

        #[test]
        fn hand_decoder_agrees_with_prost_with_tables_last(message in arb_message()) {
            if let Some(moved) = tables_last(&message) {
                let body = Bytes::from(moved);
                let ours = decode_message(&body, None);
                let reference = decode_with_prost(&body);
                prop_assert!(same(&ours, &reference), "ours {:?}\nprost {:?}\nbody {:02x?}", ours, reference, &body[..]);
            }
        }

        #[test]
        fn hand_decoder_agrees_with_prost(message in arb_message(), edits in prop::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 0..3)) {
            let body = Bytes::from(mutate(message, &edits));
            let ours = decode_message(&body, None);
            let reference = decode_with_prost(&body);
            prop_assert!(same(&ours, &reference), "ours {:?}\nprost {:?}\nbody {:02x?}", ours, reference, &body[..]);
        }

        #[test]
        fn hand_decoder_agrees_with_prost_on_noise(body in prop::collection::vec(any::<u8>(), 0..64)) {
            let body = Bytes::from(body);
            let ours = decode_message(&body, None);
            let reference = decode_with_prost(&body);
            prop_assert!(same(&ours, &reference), "ours {:?}\nprost {:?}\nbody {:02x?}", ours, reference, &body[..]);
        }
    }
}
