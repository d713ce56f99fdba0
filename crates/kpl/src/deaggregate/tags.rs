//! The tags of a borrowed user record ([`TagRefs`]), read from the record's bytes when asked.

use std::fmt;

use super::body::decode_tag;
use crate::wire::{self, Reader};

/// A tag of a [`SubRecordRef`](super::SubRecordRef).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TagRef<'a> {
    /// Tag key.
    pub key: &'a str,
    /// Optional tag value.
    pub value: Option<&'a str>,
}

/// The tags of a [`SubRecordRef`](super::SubRecordRef), in order: a view of the user record's
/// protobuf bytes, which [`deaggregate_batch`](super::deaggregate_batch) checked (every tag
/// well-formed, with a key), read again when iterated. 16 bytes, `Copy`, nothing allocated: the
/// records of a batch (nearly always without tags) are handed out without a vector each.
#[derive(Clone, Copy, Default)]
pub struct TagRefs<'a> {
    /// The user record's message when it has tags; empty when it has none.
    record: &'a [u8],
}

impl<'a> TagRefs<'a> {
    /// The tags of the checked user record `record` (a `Record` message) that has at least one.
    pub(super) fn of_record(record: &'a [u8]) -> Self {
        Self { record }
    }

    /// Whether there is no tag.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.record.is_empty()
    }

    /// Number of tags.
    #[must_use]
    pub fn len(&self) -> usize {
        self.iter().count()
    }

    /// The tags in order.
    #[must_use]
    pub fn iter(&self) -> TagRefsIter<'a> {
        TagRefsIter {
            reader: Reader::new(self.record),
        }
    }

    /// The tags in a vector.
    #[must_use]
    pub fn to_vec(&self) -> Vec<TagRef<'a>> {
        self.iter().collect()
    }
}

impl fmt::Debug for TagRefs<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl PartialEq for TagRefs<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for TagRefs<'_> {}

impl<'a> IntoIterator for TagRefs<'a> {
    type Item = TagRef<'a>;
    type IntoIter = TagRefsIter<'a>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<'a> IntoIterator for &TagRefs<'a> {
    type Item = TagRef<'a>;
    type IntoIter = TagRefsIter<'a>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// Iterator over [`TagRefs`].
#[derive(Clone)]
pub struct TagRefsIter<'a> {
    reader: Reader<'a>,
}

impl fmt::Debug for TagRefsIter<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TagRefsIter").finish_non_exhaustive()
    }
}

impl<'a> TagRefsIter<'a> {
    fn next_tag(&mut self) -> Option<TagRef<'a>> {
        while !self.reader.is_empty() {
            let (field, wire_type) = self.reader.key().ok()?;
            if (field, wire_type) == (4, wire::LEN) {
                let range = self.reader.len_delimited().ok()?;
                let (key, value) = decode_tag(&self.reader.buf()[range]).ok()?;
                return Some(TagRef { key: key?, value });
            }
            self.reader.skip(field, wire_type).ok()?;
        }
        None
    }
}

impl<'a> Iterator for TagRefsIter<'a> {
    type Item = TagRef<'a>;

    fn next(&mut self) -> Option<Self::Item> {
        let tag = self.next_tag();
        if tag.is_none() {
            // The end; or an error, which cannot occur in a record that was checked when it was
            // deaggregated: it ends the iteration too.
            self.reader = Reader::new(&[]);
        }
        tag
    }
}

impl std::iter::FusedIterator for TagRefsIter<'_> {}
