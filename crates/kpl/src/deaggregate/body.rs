//! An aggregate's protobuf body, once its magic and MD5 are checked (`super::check_and_decode`):
//! its key tables and records into the batch's [`Records`](super::Records). The KPL's own
//! layout (key index, then data) takes a tight loop; anything else the general decoder, with the
//! same results and error reasons.

use super::*;

/// The key tables of an aggregate, kept from one aggregate to the next (no allocation per
/// aggregate).
#[derive(Default)]
pub(super) struct Tables<'a> {
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
        // The entries of fewer than 128 bytes at the start, one after the other (`0a <len>` or
        // `12 <len>`, then the key): the KPL's own layout, taken without the general reader.
        let mut at = 0;
        while let [tag @ (0x0a | 0x12), len @ 0..0x80, ..] = body[at..] {
            let end = at + 2 + usize::from(len);
            if end > body.len() {
                break;
            }
            let ranges = if tag == 0x0a {
                &mut self.pk_ranges
            } else {
                &mut self.ehk_ranges
            };
            ranges.push(at + 2..end);
            at = end;
        }
        // Anything else, up to the first record.
        let mut reader = Reader::at(body, at);
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
            ranges.push(reader.len_delimited().ok()?);
        };
        // Each table's entries are in order: where the first begins and where the last ends.
        let ends = |ranges: &[Range<usize>]| {
            ranges
                .first()
                .map(|r| r.start)
                .zip(ranges.last().map(|r| r.end))
        };
        let (first, last) = match (ends(&self.pk_ranges), ends(&self.ehk_ranges)) {
            (Some((a, b)), Some((c, d))) => (a.min(c), b.max(d)),
            (Some(ends), None) | (None, Some(ends)) => ends,
            (None, None) => (0, 0),
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
            out.push(pk, ehk, data, TagRefs::default());
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
    // The vector in a local: its length and capacity stay in registers through the loop.
    let mut records = std::mem::take(out);
    let start = records.len();
    let mut buf = *rest;
    loop {
        if let Some((key, data, after)) = short_plain_record(buf, pks) {
            records.push((key, data));
            buf = after;
            same_size_records(&mut buf, pks, &mut records, data.len());
        } else if let Some((len, tail)) = length(buf, 0x1a)
            && let Some((record, after)) = tail.split_at_checked(len)
            && let [0x08, pk @ 0..0x80, rest @ ..] = record
            && let Some((data_len, data)) = length(rest, 0x1a)
            && data.len() == data_len
            && let Some(&key) = pks.get(usize::from(*pk))
        {
            records.push((key, data));
            buf = after;
        } else {
            break;
        }
    }
    *rest = buf;
    *out = records;
    out.len() - start
}

/// The record of the KPL's own shape at the start of `buf` when both its lengths take one byte
/// (`1a <len> 08 <pk> 1a <len> <data>`, records of under 124 bytes of data): its six bytes of
/// framing checked in one 8-byte word. Its partition key, data and the bytes after it; `None`
/// where the word does not match (the caller tries the longer shapes) or the record does not
/// fit or its key index is out of range.
#[inline(always)]
fn short_plain_record<'a>(buf: &'a [u8], pks: &[&'a str]) -> Option<(&'a str, &'a [u8], &'a [u8])> {
    // Bytes 0, 2 and 4 are the field keys 1a, 08 and 1a; bytes 1, 3 and 5 (the record's length,
    // the key index, the data's length) are one-byte varints. Bytes 6 and 7 may be the next
    // record's: only the first 6 are looked at.
    const MASK: u64 = 0x0000_80ff_80ff_80ff;
    const FRAME: u64 = 0x0000_001a_0008_001a;
    let word = u64::from_le_bytes(*buf.first_chunk::<8>()?);
    if word & MASK != FRAME {
        return None;
    }
    let byte = |i: u32| (word >> (8 * i)) as usize & 0xff;
    let (len, pk, data_len) = (byte(1), byte(3), byte(5));
    // The data ends the record: its length is the record's but for the 4 bytes before it.
    if len != data_len + 4 {
        return None;
    }
    let (record, after) = buf.split_at_checked(len + 2)?;
    let key = *pks.get(pk)?;
    Some((key, &record[6..], after))
}

/// Appends the records at the start of `buf` that have the short shape of
/// [`short_plain_record`] with `data_len` bytes of data (as the record before them: a producer's
/// records are often of one size), and moves `buf` past them.
///
/// Where the next record starts does not depend on what is read: each record is `data_len + 6`
/// bytes on from the last, and its framing, lengths included, is compared with the one expected
/// in one 8-byte word. So the loads of successive records do not wait for each other (in
/// [`short_plain_record`], each waits for the length read before it), and a run of records of one
/// size is read at the rate of the instructions, not of the latency of each load. The first
/// record of another size ends the run: one compare, and the caller reads it.
#[inline(always)]
fn same_size_records<'a>(
    buf: &mut &'a [u8],
    pks: &[&'a str],
    records: &mut Vec<(&'a str, &'a [u8])>,
    data_len: usize,
) {
    // The word of `short_plain_record` with both lengths in it, the key index's high bit clear.
    const MASK: u64 = 0x0000_ffff_80ff_ffff;
    let expected = 0x0000_001a_0008_001a | ((data_len as u64 + 4) << 8) | ((data_len as u64) << 40);
    let stride = data_len + 6;
    // The record at the start of `rest`, if it is of the run's kind: its key, data and the bytes
    // after it.
    let one = |rest: &'a [u8]| {
        let (record, after) = rest.split_at_checked(stride)?;
        let word = u64::from_le_bytes(*record.first_chunk::<8>()?);
        if word & MASK != expected {
            return None;
        }
        let key = *pks.get((word >> 24) as usize & 0x7f)?;
        Some((key, &record[6..], after))
    };
    // The first record after the run's first: where sizes vary, the run ends here, at the cost
    // of one compare.
    let Some((key, data, mut rest)) = one(buf) else {
        return;
    };
    records.push((key, data));
    // Four at a time, kept together and appended at once (one check of the list's capacity, not
    // four); any record that does not match stops the group, and the loop below reads on from
    // its first record.
    if stride >= 8 && !pks.is_empty() {
        let last = pks.len() - 1;
        while let Some((group, after)) = rest.split_at_checked(4 * stride) {
            let mut matched = true;
            let four: [(&'a str, &'a [u8]); 4] = std::array::from_fn(|i| {
                let record = &group[i * stride..(i + 1) * stride];
                let word = u64::from_le_bytes(*record.first_chunk::<8>().unwrap_or(&[0; 8]));
                let pk = (word >> 24) as usize & 0x7f;
                matched &= (word & MASK == expected) & (pk <= last);
                (pks[pk.min(last)], &record[6..])
            });
            if !matched {
                break;
            }
            records.extend_from_slice(&four);
            rest = after;
        }
    }
    while let Some((key, data, after)) = one(rest) {
        records.push((key, data));
        rest = after;
    }
    *buf = rest;
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
pub(super) fn decode_message_into<'a>(
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
    // Whether the record has tags, and whether one of them has no key.
    let (mut has_tags, mut keyless_tag) = (false, false);
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
                let (key, _) = decode_tag(&buf[r])?;
                has_tags = true;
                keyless_tag |= key.is_none();
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
    if keyless_tag {
        return Err(missing("tag key"));
    }
    // The tags are read again from the record's bytes when asked (`TagRefs`).
    let tags = if has_tags {
        TagRefs::of_record(buf)
    } else {
        TagRefs::default()
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
pub(super) fn decode_tag(buf: &[u8]) -> Result<(Option<&str>, Option<&str>), WireError> {
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

    /// The hand decoder's outcome for `body` is prost's.
    fn agrees_with_prost(body: &Bytes) -> Result<(), TestCaseError> {
        let ours = decode_message(body, None);
        let reference = decode_with_prost(body);
        prop_assert!(
            same(&ours, &reference),
            "ours {ours:?}\nprost {reference:?}\nbody {:02x?}",
            &body[..]
        );
        Ok(())
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

    /// Messages of the KPL's usual kind: many records of one data size, a few of another (or
    /// with an explicit hash key, or a key index out of the table's range) among them, so that
    /// runs of one size (`same_size_records`, four at a time and one at a time) start, stop
    /// and resume at every place.
    fn arb_run_message() -> impl Strategy<Value = Vec<u8>> {
        let record = (
            prop_oneof![12 => 0u64..3, 1 => 3u64..6],
            prop::option::weighted(0.05, 0u64..2),
            prop_oneof![12 => Just(None), 1 => (0usize..3).prop_map(Some), 1 => Just(Some(130))],
            any::<u8>(),
        );
        (
            0usize..12,
            prop::collection::vec("[a-z]{1,4}", 1..4),
            prop::collection::vec(record, 1..40),
        )
            .prop_map(|(size, partition_key_table, records)| {
                proto::AggregatedRecord {
                    partition_key_table,
                    explicit_hash_key_table: vec!["7".to_owned(), "42".to_owned()],
                    records: records
                        .into_iter()
                        .map(|(pk, ehk, other_size, fill)| proto::Record {
                            partition_key_index: Some(pk),
                            explicit_hash_key_index: ehk,
                            data: Some(Bytes::from(vec![fill; other_size.unwrap_or(size)])),
                            tags: Vec::new(),
                        })
                        .collect(),
                }
                .encode_to_vec()
            })
    }

    /// Runs of one size, four at a time and then one at a time, with a record that is not of
    /// the run's kind at each place in turn: the same records as prost's, and the same error
    /// where that record's key index is out of range.
    #[test]
    fn runs_of_one_size_stop_at_the_first_other_record() {
        let record = |pk, size| proto::Record {
            partition_key_index: Some(pk),
            explicit_hash_key_index: None,
            data: Some(Bytes::from(vec![b'x'; size])),
            tags: Vec::new(),
        };
        for at in 0..13 {
            for (pk, size) in [(0, 9), (1, 10), (5, 8), (0, 130), (1, 1)] {
                let mut records: Vec<_> = (0..13).map(|i| record(i % 2, 8)).collect();
                records[at] = record(pk, size);
                let body = Bytes::from(
                    proto::AggregatedRecord {
                        partition_key_table: vec!["a".to_owned(), "bc".to_owned()],
                        explicit_hash_key_table: Vec::new(),
                        records,
                    }
                    .encode_to_vec(),
                );
                let ours = decode_message(&body, None);
                let reference = decode_with_prost(&body);
                assert!(same(&ours, &reference), "at {at}, {pk}/{size}: {ours:?}");
                assert_eq!(ours.is_ok(), pk < 2, "at {at}, {pk}/{size}");
            }
        }
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
                agrees_with_prost(&body)?;
            }
        }

        #[test]
        fn hand_decoder_agrees_with_prost(message in arb_message(), edits in prop::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 0..3)) {
            let body = Bytes::from(mutate(message, &edits));
            agrees_with_prost(&body)?;
        }

        #[test]
        fn hand_decoder_agrees_with_prost_on_runs(message in arb_run_message(), edits in prop::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 0..2)) {
            let body = Bytes::from(mutate(message, &edits));
            agrees_with_prost(&body)?;
        }

        #[test]
        fn hand_decoder_agrees_with_prost_on_noise(body in prop::collection::vec(any::<u8>(), 0..64)) {
            let body = Bytes::from(body);
            agrees_with_prost(&body)?;
        }
    }
}
