//! The protobuf message of one aggregate, written as its records come.
//!
//! [`MessageWriter`] writes what prost writes for `proto::AggregatedRecord` (see `proto.rs`),
//! byte for byte: the partition key table, the explicit hash key table, then the records, each
//! field in field-number order (a property test below compares with prost). It writes each
//! record's fields when the record is added, so an aggregate is finished by copying three
//! buffers after the magic, with no message structs in between, and the key tables keep their
//! keys as encoded bytes: once warm, no allocation per record or key.

use std::hash::{BuildHasher, RandomState};

use crate::aggregate::{DIGEST_LEN, MAGIC};
use crate::record::UserRecord;
use crate::wire::varint_len;

/// Field keys (field number << 3 | wire type): `AggregatedRecord`.
const PARTITION_KEY_TABLE: u8 = 0x0A;
const EXPLICIT_HASH_KEY_TABLE: u8 = 0x12;
const RECORDS: u8 = 0x1A;
/// `Record`.
const PARTITION_KEY_INDEX: u8 = 0x08;
const EXPLICIT_HASH_KEY_INDEX: u8 = 0x10;
const DATA: u8 = 0x1A;
const TAGS: u8 = 0x22;
/// `Tag`.
const TAG_KEY: u8 = 0x0A;
const TAG_VALUE: u8 = 0x12;

/// Tables up to this size are searched linearly (faster than hashing for a few keys).
const LINEAR_SEARCH_MAX: usize = 8;
/// Fewest slots of a table's hash index.
const MIN_SLOTS: usize = 32;

/// Encoded length of a length-delimited field (key byte, length varint, payload). Every field
/// number here is below 16, so its key is one byte.
pub(crate) fn field_len(payload: usize) -> usize {
    1 + varint_len(payload as u64) + payload
}

/// Encoded length of a varint field (key byte and varint).
fn varint_field_len(value: u64) -> usize {
    1 + varint_len(value)
}

#[inline]
fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

#[inline]
fn put_bytes_field(out: &mut Vec<u8>, key: u8, payload: &[u8]) {
    out.push(key);
    put_varint(out, payload.len() as u64);
    out.extend_from_slice(payload);
}

/// A deduplicated key table, kept as the fields it encodes to.
#[derive(Debug)]
pub(crate) struct KeyTable {
    /// The table's field key.
    field: u8,
    /// The table's fields, as written: key byte, length, key.
    encoded: Vec<u8>,
    /// Where each key is in `encoded` (start, length).
    spans: Vec<(usize, usize)>,
    /// Open addressing (linear probing) over key index + 1, 0 for empty; kept only when the
    /// table has more than [`LINEAR_SEARCH_MAX`] keys. Its length is a power of two.
    slots: Vec<u32>,
    /// SipHash with a random key: keys may come from anywhere.
    hasher: RandomState,
}

impl KeyTable {
    fn new(field: u8) -> Self {
        Self {
            field,
            encoded: Vec::new(),
            spans: Vec::new(),
            slots: Vec::new(),
            hasher: RandomState::new(),
        }
    }

    fn len(&self) -> usize {
        self.spans.len()
    }

    fn bytes(&self, (start, len): (usize, usize)) -> &[u8] {
        &self.encoded[start..start + len]
    }

    /// Key `index` (it was written from a `&str`).
    pub(crate) fn key(&self, index: usize) -> &str {
        std::str::from_utf8(self.bytes(self.spans[index])).expect("keys are written from &str")
    }

    fn find(&self, key: &str) -> Option<u64> {
        let key = key.as_bytes();
        if self.spans.len() <= LINEAR_SEARCH_MAX {
            return self
                .spans
                .iter()
                .position(|&span| self.bytes(span) == key)
                .map(|i| i as u64);
        }
        let mask = self.slots.len() - 1;
        let mut slot = self.hasher.hash_one(key) as usize & mask;
        loop {
            match self.slots[slot] {
                0 => return None,
                entry => {
                    let index = entry as usize - 1;
                    if self.bytes(self.spans[index]) == key {
                        return Some(index as u64);
                    }
                }
            }
            slot = (slot + 1) & mask;
        }
    }

    /// Appends a key known not to be in the table; returns its index.
    fn push(&mut self, key: &str) -> u64 {
        let index = self.spans.len();
        put_bytes_field(&mut self.encoded, self.field, key.as_bytes());
        self.spans.push((self.encoded.len() - key.len(), key.len()));
        let len = self.spans.len();
        if len <= LINEAR_SEARCH_MAX {
            return index as u64;
        }
        if len == LINEAR_SEARCH_MAX + 1 || len * 2 > self.slots.len() {
            // First use for this message, or half full: (re)built, at least as large as before
            // (the last message's size is a good guess for the next).
            let mut size = self.slots.len().max(MIN_SLOTS);
            while size < len * 2 {
                size *= 2;
            }
            self.slots.clear();
            self.slots.resize(size, 0);
            for i in 0..len {
                self.index(i);
            }
        } else {
            self.index(index);
        }
        index as u64
    }

    /// Enters key `index` in the hash index.
    fn index(&mut self, index: usize) {
        let mask = self.slots.len() - 1;
        let mut slot = self.hasher.hash_one(self.bytes(self.spans[index])) as usize & mask;
        while self.slots[slot] != 0 {
            slot = (slot + 1) & mask;
        }
        // At most 10 MiB of message: far fewer keys than u32::MAX.
        self.slots[slot] = index as u32 + 1;
    }

    /// Index of `key`, appending it if new.
    #[cfg(test)]
    fn insert(&mut self, key: &str) -> u64 {
        match self.find(key) {
            Some(i) => i,
            None => self.push(key),
        }
    }

    fn clear(&mut self) {
        self.encoded.clear();
        self.spans.clear();
    }
}

/// Where a record goes in the message (see [`MessageWriter::place`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Placement {
    pk_found: bool,
    pk_index: u64,
    ehk_found: bool,
    ehk_index: Option<u64>,
    /// Bytes the message grows by.
    pub(crate) added_len: usize,
}

/// Length of a record's fields.
fn record_len(pk_index: u64, ehk_index: Option<u64>, record: &UserRecord) -> usize {
    let tags: usize = record
        .tags
        .iter()
        .map(|t| field_len(tag_len(&t.key, t.value.as_deref())))
        .sum();
    varint_field_len(pk_index)
        + ehk_index.map_or(0, varint_field_len)
        + field_len(record.data.len())
        + tags
}

fn tag_len(key: &str, value: Option<&str>) -> usize {
    field_len(key.len()) + value.map_or(0, |v| field_len(v.len()))
}

/// An `AggregatedRecord` message being written, in the buffer it will be sent in.
///
/// The records' fields go into `buf` after a gap kept for the magic and the key tables, which
/// precede them on the wire but are complete only when the message is: [`take`](Self::take)
/// writes them at the end of the gap and hands over `buf` with the message at an offset, so that
/// the records, most of the bytes, are copied once (from the user records). The gap is sized from
/// the last message's tables; larger tables shift the records once.
#[derive(Debug)]
pub(crate) struct MessageWriter {
    pub(crate) partition_keys: KeyTable,
    pub(crate) explicit_hash_keys: KeyTable,
    /// `gap` bytes, then the records' fields; empty (not yet allocated) before the first record.
    buf: Vec<u8>,
    gap: usize,
    count: usize,
    /// Most bytes of records a message may hold (its limit), for the first capacity of `buf`.
    max_records_len: usize,
    /// Bytes of records of the last message taken.
    last_records_len: usize,
}

/// Smallest first capacity of a message's buffer (beyond the gap), within the limit.
const MIN_CAPACITY: usize = 1024;

impl MessageWriter {
    /// A writer whose messages, magic and MD5 included, are at most `max_size` bytes, multi-record
    /// ones at least (a first record larger than that grows the buffer).
    pub(crate) fn new(max_size: usize) -> Self {
        Self {
            partition_keys: KeyTable::new(PARTITION_KEY_TABLE),
            explicit_hash_keys: KeyTable::new(EXPLICIT_HASH_KEY_TABLE),
            buf: Vec::new(),
            gap: MAGIC.len(),
            count: 0,
            max_records_len: max_size.saturating_sub(MAGIC.len() + DIGEST_LEN),
            last_records_len: 0,
        }
    }

    /// Number of records.
    pub(crate) fn count(&self) -> usize {
        self.count
    }

    fn records_len(&self) -> usize {
        self.buf.len().saturating_sub(self.gap)
    }

    /// Encoded length of the message so far.
    pub(crate) fn len(&self) -> usize {
        self.partition_keys.encoded.len()
            + self.explicit_hash_keys.encoded.len()
            + self.records_len()
    }

    /// Where `record` would go: its key indexes (existing or new) and the bytes the message would
    /// grow by. One table lookup per key.
    pub(crate) fn place(&self, record: &UserRecord) -> Placement {
        let pk = self.partition_keys.find(&record.partition_key);
        let pk_index = pk.unwrap_or(self.partition_keys.len() as u64);
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
            (found, found.unwrap_or(self.explicit_hash_keys.len() as u64))
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

    /// Writes `record` where [`place`](Self::place) said (for this very state), without checks.
    pub(crate) fn push(&mut self, record: &UserRecord, placed: Placement) {
        if !placed.pk_found {
            self.partition_keys.push(&record.partition_key);
        }
        if let (Some(ehk), false) = (record.explicit_hash_key.as_deref(), placed.ehk_found) {
            self.explicit_hash_keys.push(ehk);
        }
        if self.buf.is_empty() {
            // A new message: room for a quarter more records than the last one had (up to the
            // limit, which full aggregates reach), and the digest after them.
            let records = (self.last_records_len + self.last_records_len / 4)
                .max(MIN_CAPACITY)
                .min(self.max_records_len);
            self.buf = Vec::with_capacity(self.gap + records + DIGEST_LEN);
            self.buf.resize(self.gap, 0);
        }
        let out = &mut self.buf;
        out.reserve(placed.added_len + DIGEST_LEN);
        out.push(RECORDS);
        put_varint(
            out,
            record_len(placed.pk_index, placed.ehk_index, record) as u64,
        );
        out.push(PARTITION_KEY_INDEX);
        put_varint(out, placed.pk_index);
        if let Some(index) = placed.ehk_index {
            out.push(EXPLICIT_HASH_KEY_INDEX);
            put_varint(out, index);
        }
        put_bytes_field(out, DATA, &record.data);
        for tag in &record.tags {
            out.push(TAGS);
            put_varint(out, tag_len(&tag.key, tag.value.as_deref()) as u64);
            put_bytes_field(out, TAG_KEY, tag.key.as_bytes());
            if let Some(value) = &tag.value {
                put_bytes_field(out, TAG_VALUE, value.as_bytes());
            }
        }
        self.count += 1;
    }

    /// Appends every record of `records` (no limits), deduplicating keys.
    pub(crate) fn extend(&mut self, records: &[UserRecord]) {
        for record in records {
            let placed = self.place(record);
            self.push(record, placed);
        }
    }

    /// The message's buffer and where in it the magic starts, the message after it, with room
    /// for the MD5 trailer; the writer is then empty again.
    pub(crate) fn take(&mut self) -> (Vec<u8>, usize) {
        let tables = self.partition_keys.encoded.len() + self.explicit_hash_keys.encoded.len();
        let head = MAGIC.len() + tables;
        let records = self.records_len();
        let mut buf = std::mem::take(&mut self.buf);
        if buf.is_empty() {
            buf.resize(self.gap, 0);
        }
        if head > self.gap {
            // Tables larger than the gap: the records move up.
            buf.resize(head + records, 0);
            buf.copy_within(self.gap..self.gap + records, head);
            self.gap = head;
        }
        let mut start = self.gap - head;
        let mut at = start;
        for part in [
            &MAGIC[..],
            &self.partition_keys.encoded,
            &self.explicit_hash_keys.encoded,
        ] {
            buf[at..at + part.len()].copy_from_slice(part);
            at += part.len();
        }
        if buf.capacity() > 2 * (buf.len() - start + DIGEST_LEN) {
            // Much smaller than its buffer (a message flushed early): sent in one of its size.
            let mut small = Vec::with_capacity(buf.len() - start + DIGEST_LEN);
            small.extend_from_slice(&buf[start..]);
            buf = small;
            start = 0;
        } else if buf.capacity() < buf.len() + DIGEST_LEN {
            buf.reserve_exact(DIGEST_LEN);
        }
        // The next message's tables are probably about as large: a little room to grow.
        self.gap = (head + head / 8).max(MAGIC.len());
        self.last_records_len = records;
        self.clear();
        (buf, start)
    }

    /// Forgets every record and key (the buffer, if any, is kept for the next message).
    pub(crate) fn clear(&mut self) {
        self.partition_keys.clear();
        self.explicit_hash_keys.clear();
        self.buf.truncate(self.gap.min(self.buf.len()));
        if self.buf.len() < self.gap {
            self.buf.clear();
        }
        self.count = 0;
    }
}

#[cfg(test)]
mod tests {
    //! The writer against prost's encoding of the same message.

    use proptest::prelude::*;
    use prost::Message as _;

    use super::*;
    use crate::proto;
    use crate::record::Tag;

    /// prost's encoding of `records` with tables deduplicated in order of first use.
    fn with_prost(records: &[UserRecord]) -> Vec<u8> {
        let mut pks: Vec<String> = Vec::new();
        let mut ehks: Vec<String> = Vec::new();
        let index = |table: &mut Vec<String>, key: &str| {
            let i = table.iter().position(|k| k == key).unwrap_or_else(|| {
                table.push(key.to_owned());
                table.len() - 1
            });
            i as u64
        };
        let records = records
            .iter()
            .map(|r| proto::Record {
                partition_key_index: Some(index(&mut pks, &r.partition_key)),
                explicit_hash_key_index: r
                    .explicit_hash_key
                    .as_deref()
                    .map(|k| index(&mut ehks, k)),
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
        proto::AggregatedRecord {
            partition_key_table: pks,
            explicit_hash_key_table: ehks,
            records,
        }
        .encode_to_vec()
    }

    fn arb_record() -> impl Strategy<Value = UserRecord> {
        (
            // Few keys (linear search) and many (the hash index), short and long.
            prop_oneof!["[a-c]{1,2}", "k[0-9]{1,3}", "\\PC{1,20}", "[a-z]{150,300}"],
            prop::option::of(prop_oneof!["[0-9]{1,3}", "[1-9][0-9]{20,38}"]),
            prop_oneof![
                prop::collection::vec(any::<u8>(), 0..20),
                prop::collection::vec(any::<u8>(), 100..300)
            ],
            prop::collection::vec(("[a-z]{1,4}", prop::option::of("\\PC{0,200}")), 0..3),
        )
            .prop_map(|(pk, ehk, data, tags)| UserRecord {
                partition_key: pk,
                explicit_hash_key: ehk,
                data: data.into(),
                tags: tags
                    .into_iter()
                    .map(|(key, value)| Tag { key, value })
                    .collect(),
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn writes_what_prost_writes(
            records in prop::collection::vec(arb_record(), 0..200),
            split in any::<prop::sample::Index>(),
        ) {
            let mut writer = MessageWriter::new(usize::MAX);
            let take = |writer: &mut MessageWriter| {
                let len = writer.len();
                let (buf, start) = writer.take();
                assert_eq!(&buf[start..start + MAGIC.len()], MAGIC);
                assert_eq!(buf.len() - start - MAGIC.len(), len);
                assert!(buf.capacity() >= buf.len() + DIGEST_LEN);
                buf[start + MAGIC.len()..].to_vec()
            };
            // Messages one after the other, reusing the tables, the gap and the buffer sizes.
            let (first, second) = records.split_at(split.index(records.len() + 1));
            prop_assert_eq!(take(&mut writer), with_prost(&[]));
            writer.extend(first);
            prop_assert_eq!(writer.count(), first.len());
            prop_assert_eq!(take(&mut writer), with_prost(first));
            writer.extend(second);
            prop_assert_eq!(take(&mut writer), with_prost(second));
            writer.extend(first);
            writer.clear();
            writer.extend(second);
            prop_assert_eq!(take(&mut writer), with_prost(second));
            // A limit smaller than the messages: the buffer grows.
            let mut writer = MessageWriter::new(64);
            writer.extend(first);
            prop_assert_eq!(take(&mut writer), with_prost(first));
            writer.extend(second);
            prop_assert_eq!(take(&mut writer), with_prost(second));
        }

        #[test]
        fn the_hash_index_finds_every_key(keys in prop::collection::hash_set("\\PC{0,12}", 0..300)) {
            let mut table = KeyTable::new(PARTITION_KEY_TABLE);
            let keys: Vec<String> = keys.into_iter().collect();
            for round in 0..2 {
                for (i, key) in keys.iter().enumerate() {
                    prop_assert_eq!(table.find(key), None, "round {}", round);
                    prop_assert_eq!(table.insert(key), i as u64);
                    prop_assert_eq!(table.insert(key), i as u64);
                }
                for (i, key) in keys.iter().enumerate() {
                    prop_assert_eq!(table.find(key), Some(i as u64));
                    prop_assert_eq!(table.key(i), key.as_str());
                }
                table.clear();
            }
        }
    }
}
