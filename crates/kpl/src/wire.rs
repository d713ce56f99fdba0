//! A minimal protobuf wire reader for the deaggregation hot path.
//!
//! prost (see `proto.rs`) defines the messages and encodes them; decoding walks the bytes directly
//! so that each user record becomes a [`SubRecord`](crate::SubRecord) in one step, without the
//! intermediate message structs. Its checks are prost's: a test in `deaggregate.rs` decodes
//! random and mutated aggregates both ways and compares.

use std::fmt;
use std::ops::Range;

/// A malformed protobuf message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum WireError {
    /// The message ends inside a field.
    Truncated,
    /// A varint longer than 10 bytes or larger than 64 bits.
    VarintOverflow,
    /// A field key with field number 0 or above 2^29-1.
    InvalidKey(u64),
    /// A wire type that does not exist, or an unmatched end of group.
    InvalidWireType(u8),
    /// Groups nested too deeply.
    TooDeep,
    /// A known field written with the wrong wire type.
    WrongWireType {
        /// Field number.
        field: u32,
        /// Wire type found.
        wire_type: u8,
    },
    /// A string field that is not UTF-8.
    NotUtf8,
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated => f.write_str("message ends inside a field"),
            Self::VarintOverflow => f.write_str("varint longer than 64 bits"),
            Self::InvalidKey(key) => write!(f, "invalid field key {key}"),
            Self::InvalidWireType(w) => write!(f, "invalid wire type {w}"),
            Self::TooDeep => f.write_str("groups nested too deeply"),
            Self::WrongWireType { field, wire_type } => {
                write!(
                    f,
                    "field {field} has wire type {wire_type}, not the type the format defines"
                )
            }
            Self::NotUtf8 => f.write_str("string field is not valid UTF-8"),
        }
    }
}

pub(crate) const VARINT: u8 = 0;
pub(crate) const LEN: u8 = 2;
const START_GROUP: u8 = 3;
const END_GROUP: u8 = 4;
/// Nesting limit for skipped groups (prost and the C++ library allow 100 levels of messages).
const MAX_GROUP_DEPTH: u32 = 96;

/// A cursor over a protobuf message.
#[derive(Clone)]
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    /// A reader of `buf` from byte `pos` on (its positions and ranges are still in `buf`).
    pub(crate) fn at(buf: &'a [u8], pos: usize) -> Self {
        Self { buf, pos }
    }

    /// The whole message.
    pub(crate) fn buf(&self) -> &'a [u8] {
        self.buf
    }

    /// Bytes read so far.
    #[inline]
    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.pos >= self.buf.len()
    }

    #[inline]
    pub(crate) fn varint(&mut self) -> Result<u64, WireError> {
        // Fast path: one byte (field keys, key indexes, short lengths).
        if let Some(&byte) = self.buf.get(self.pos)
            && byte < 0x80
        {
            self.pos += 1;
            return Ok(u64::from(byte));
        }
        self.varint_slow()
    }

    #[cold]
    fn varint_slow(&mut self) -> Result<u64, WireError> {
        let mut value = 0u64;
        for i in 0..10 {
            let byte = *self.buf.get(self.pos).ok_or(WireError::Truncated)?;
            self.pos += 1;
            if i == 9 && byte > 1 {
                return Err(WireError::VarintOverflow);
            }
            value |= u64::from(byte & 0x7F) << (7 * i);
            if byte < 0x80 {
                return Ok(value);
            }
        }
        Err(WireError::VarintOverflow)
    }

    /// The next field's number and wire type.
    #[inline]
    pub(crate) fn key(&mut self) -> Result<(u32, u8), WireError> {
        let key = self.varint()?;
        let field = key >> 3;
        if field == 0 || field > (1 << 29) - 1 {
            return Err(WireError::InvalidKey(key));
        }
        Ok((field as u32, (key & 7) as u8))
    }

    /// The byte range of a length-delimited payload, within the reader's buffer.
    #[inline]
    pub(crate) fn len_delimited(&mut self) -> Result<Range<usize>, WireError> {
        let len = self.varint()?;
        let start = self.pos;
        let end = usize::try_from(len)
            .ok()
            .and_then(|len| start.checked_add(len))
            .filter(|end| *end <= self.buf.len())
            .ok_or(WireError::Truncated)?;
        self.pos = end;
        Ok(start..end)
    }

    /// A length-delimited UTF-8 string.
    #[inline]
    pub(crate) fn string(&mut self) -> Result<&'a str, WireError> {
        let range = self.len_delimited()?;
        std::str::from_utf8(&self.buf[range]).map_err(|_| WireError::NotUtf8)
    }

    /// Skips a field of an unknown number (groups included, as protobuf decoders do).
    pub(crate) fn skip(&mut self, field: u32, wire_type: u8) -> Result<(), WireError> {
        self.skip_nested(field, wire_type, 0)
    }

    fn skip_nested(&mut self, field: u32, wire_type: u8, depth: u32) -> Result<(), WireError> {
        let fixed = match wire_type {
            VARINT => return self.varint().map(drop),
            LEN => return self.len_delimited().map(drop),
            START_GROUP => {
                if depth >= MAX_GROUP_DEPTH {
                    return Err(WireError::TooDeep);
                }
                loop {
                    let (inner, inner_type) = self.key()?;
                    if inner_type == END_GROUP {
                        return if inner == field {
                            Ok(())
                        } else {
                            Err(WireError::InvalidWireType(END_GROUP))
                        };
                    }
                    self.skip_nested(inner, inner_type, depth + 1)?;
                }
            }
            1 => 8,
            5 => 4,
            other => return Err(WireError::InvalidWireType(other)),
        };
        if self.buf.len() - self.pos < fixed {
            return Err(WireError::Truncated);
        }
        self.pos += fixed;
        Ok(())
    }
}

/// Checks that a known field has the wire type the format defines.
pub(crate) fn expect(field: u32, wire_type: u8, want: u8) -> Result<(), WireError> {
    if wire_type == want {
        Ok(())
    } else {
        Err(WireError::WrongWireType { field, wire_type })
    }
}

/// Encoded length of a varint.
pub(crate) fn varint_len(value: u64) -> usize {
    // 1 byte per started group of 7 bits, at least one.
    (64 - (value | 1).leading_zeros() as usize).div_ceil(7)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints() {
        for (bytes, want) in [
            (&[0x00][..], Ok(0)),
            (&[0x7F], Ok(127)),
            (&[0x80, 0x01], Ok(128)),
            (
                &[0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01],
                Ok(u64::MAX),
            ),
            (
                &[0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02],
                Err(WireError::VarintOverflow),
            ),
            (&[0x80], Err(WireError::Truncated)),
            (&[], Err(WireError::Truncated)),
        ] {
            assert_eq!(Reader::new(bytes).varint(), want, "{bytes:?}");
        }
        for v in [0, 1, 127, 128, 16383, 16384, u64::from(u32::MAX), u64::MAX] {
            assert_eq!(varint_len(v), prost::encoding::encoded_len_varint(v), "{v}");
        }
    }
}
