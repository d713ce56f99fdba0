//! Records read without building a `serde_json::Value`: field values stay borrowed JSON
//! text, located by one validating pass over the record.
//!
//! Templates made only of text and field substitutions (see [`crate::template`]) need
//! nothing else: a string, number, boolean or null is copied as it appears in the record
//! (already valid JSON; inside a JSON string its escaped content is copied as is), an
//! object or array is copied with the whitespace outside its strings removed. Only the
//! Handlebars interpreter, flattening and text output of escaped strings need decoded
//! values. The output is the same JSON as through `Value` (same values, same structure);
//! only spellings the record chose are kept (`1e2` stays `1e2`, `\u00e9` stays escaped).

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, MapAccess, Visitor};
use serde_json::value::RawValue;

use crate::decode::decode_utf8;
use crate::error::{DecodeError, TransformError};

/// A record whose top level is located once; nested levels are located on demand.
#[derive(Debug)]
pub struct RawRecord<'a> {
    top: Node<'a>,
}

#[derive(Debug)]
enum Node<'a> {
    Object(Vec<(Cow<'a, str>, &'a RawValue)>),
    Array(Vec<&'a RawValue>),
    Scalar,
}

impl<'a> RawRecord<'a> {
    /// Validates `bytes` as one UTF-8 JSON document and locates its top-level members,
    /// in one pass.
    ///
    /// # Errors
    /// The same [`DecodeError`]s as [`crate::decode::decode_json`].
    pub fn parse(bytes: &'a [u8]) -> Result<Self, DecodeError> {
        let text = decode_utf8(bytes)?;
        let json_error = |e: serde_json::Error| crate::decode::json_error(&e);
        let top = match text.trim_start().as_bytes().first() {
            Some(b'{') => Node::Object(
                serde_json::from_str::<Fields<'_>>(text)
                    .map_err(json_error)?
                    .0,
            ),
            Some(b'[') => {
                Node::Array(serde_json::from_str::<Vec<&RawValue>>(text).map_err(json_error)?)
            }
            _ => {
                serde_json::from_str::<&RawValue>(text).map_err(json_error)?;
                Node::Scalar
            }
        };
        Ok(Self { top })
    }

    /// The value at `path` (object members by name, the last duplicate winning as in
    /// serde_json; array elements by index), as JSON text.
    pub fn get(&self, path: &[String]) -> Option<&'a RawValue> {
        let (first, rest) = path.split_first()?;
        let mut value = child(&self.top, first)?;
        for seg in rest {
            value = child(&node(value)?, seg)?;
        }
        Some(value)
    }
}

fn node(value: &RawValue) -> Option<Node<'_>> {
    match value.get().as_bytes().first()? {
        b'{' => serde_json::from_str::<Fields<'_>>(value.get())
            .ok()
            .map(|f| Node::Object(f.0)),
        b'[' => serde_json::from_str::<Vec<&RawValue>>(value.get())
            .ok()
            .map(Node::Array),
        _ => Some(Node::Scalar),
    }
}

fn child<'a>(node: &Node<'a>, seg: &str) -> Option<&'a RawValue> {
    match node {
        Node::Object(fields) => fields.iter().rev().find(|(k, _)| k == seg).map(|(_, v)| *v),
        Node::Array(items) => items.get(seg.parse::<usize>().ok()?).copied(),
        Node::Scalar => None,
    }
}

/// What a JSON text is, from its first byte (the text is valid JSON, no leading space).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    String,
    Null,
    Container,
    Other,
}

pub(crate) fn kind(value: &RawValue) -> Kind {
    match value.get().as_bytes().first() {
        Some(b'"') => Kind::String,
        Some(b'n') => Kind::Null,
        Some(b'{' | b'[') => Kind::Container,
        _ => Kind::Other,
    }
}

/// The decoded text of a JSON string (borrowed when it has no escapes).
pub(crate) fn string_value(value: &RawValue) -> Result<Cow<'_, str>, TransformError> {
    let text = value.get();
    let inner = &text[1..text.len() - 1];
    if !inner.contains('\\') {
        return Ok(Cow::Borrowed(inner));
    }
    serde_json::from_str::<String>(text)
        .map(Cow::Owned)
        .map_err(|e| TransformError::Render {
            template: String::new(),
            message: e.to_string(),
        })
}

/// Appends valid JSON `text` without the whitespace outside its strings.
pub(crate) fn compact_into(text: &[u8], out: &mut Vec<u8>) {
    let mut rest = text;
    let mut in_string = false;
    while !rest.is_empty() {
        if in_string {
            let mut i = 0;
            while i < rest.len() {
                match rest[i] {
                    b'\\' => i += 2,
                    b'"' => break,
                    _ => i += 1,
                }
            }
            let end = (i + 1).min(rest.len());
            out.extend_from_slice(&rest[..end]);
            rest = &rest[end..];
            in_string = false;
        } else {
            match rest
                .iter()
                .position(|&b| matches!(b, b'"' | b' ' | b'\n' | b'\r' | b'\t'))
            {
                Some(i) => {
                    out.extend_from_slice(&rest[..i]);
                    if rest[i] == b'"' {
                        out.push(b'"');
                        in_string = true;
                    }
                    rest = &rest[i + 1..];
                }
                None => {
                    out.extend_from_slice(rest);
                    rest = &[];
                }
            }
        }
    }
}

/// An object's members in order, keys borrowed when they have no escapes.
struct Fields<'a>(Vec<(Cow<'a, str>, &'a RawValue)>);

impl<'de> Deserialize<'de> for Fields<'de> {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FieldsVisitor;
        impl<'de> Visitor<'de> for FieldsVisitor {
            type Value = Fields<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Fields<'de>, A::Error> {
                let mut fields = Vec::with_capacity(map.size_hint().unwrap_or(8));
                while let Some(Key(key)) = map.next_key()? {
                    fields.push((key, map.next_value::<&'de RawValue>()?));
                }
                Ok(Fields(fields))
            }
        }
        deserializer.deserialize_map(FieldsVisitor)
    }
}

struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(p: &[&str]) -> Vec<String> {
        p.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn lookups_match_value_semantics() {
        let text = br#"{"a": {"b": [1, {"c": "x"}]}, "k\"q": 2, "d": 1, "d": 3, "s": "p\u00e9"}"#;
        let r = RawRecord::parse(text).unwrap();
        assert_eq!(r.get(&path(&["a", "b", "1", "c"])).unwrap().get(), r#""x""#);
        assert_eq!(r.get(&path(&["k\"q"])).unwrap().get(), "2");
        assert_eq!(
            r.get(&path(&["d"])).unwrap().get(),
            "3",
            "last duplicate wins"
        );
        assert!(r.get(&path(&["a", "x"])).is_none());
        assert!(r.get(&path(&["d", "x"])).is_none());
        assert!(r.get(&path(&["a", "b", "9"])).is_none());
        let s = r.get(&path(&["s"])).unwrap();
        assert_eq!(string_value(s).unwrap(), "pé");
        let mut out = Vec::new();
        compact_into(r.get(&path(&["a"])).unwrap().get().as_bytes(), &mut out);
        assert_eq!(out, br#"{"b":[1,{"c":"x"}]}"#);
    }

    #[test]
    fn decode_errors_match_decode_json() {
        for input in [&b""[..], b"\xff", b"{\"a\":", b"{} x"] {
            assert_eq!(
                RawRecord::parse(input).unwrap_err(),
                crate::decode::decode_json(input).unwrap_err(),
                "{input:?}"
            );
        }
    }
}
