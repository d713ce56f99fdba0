//! Records read without building a `serde_json::Value`: field values stay borrowed JSON
//! text, located by one validating pass over the record.
//!
//! Templates made only of text and field substitutions (see [`crate::template`]) need
//! nothing else: a string, number, boolean or null is copied as it appears in the record
//! (already valid JSON; inside a JSON string its escaped content is copied as is), an
//! object or array is copied with the whitespace outside its strings removed. Only the
//! Handlebars interpreter, flattening and text output of escaped strings need decoded
//! values. The output is the same JSON as through `Value` (same values, same structure);
//! only spellings the record chose are kept where the value stays JSON (bare, `1e2` stays
//! `1e2`; in a string, `\u00e9` stays escaped). Where a value becomes text (a partition key,
//! a string's content) it is written as through `Value` (see [`crate::template`]).
//!
//! Objects and arrays are located by a small JSON scanner that skips string contents a
//! chunk at a time (most of a record's bytes are inside strings). It accepts only what
//! serde_json accepts; whatever it does not accept is handed to serde_json, which
//! decides (and words the error), so the result and the errors are serde_json's.

use std::borrow::Cow;
use std::fmt;

use kstream_pipeline::DecodeError;
use kstream_pipeline::decode::{decode_json, decode_utf8, json_error};
use serde::Deserialize;
use serde::de::{self, MapAccess, Visitor};
use serde_json::value::RawValue;

use crate::budget::MAX_DEPTH;
use crate::error::TransformError;

/// A record whose top level is located once; nested levels are located on demand.
#[derive(Debug)]
pub struct RawRecord<'a> {
    top: Node<'a>,
}

#[derive(Debug)]
enum Node<'a> {
    Object(Vec<(Cow<'a, str>, &'a str)>),
    Array(Vec<&'a str>),
    Scalar,
}

impl<'a> RawRecord<'a> {
    /// Validates `bytes` as one UTF-8 JSON document and locates its top-level members,
    /// in one pass.
    ///
    /// # Errors
    /// The same [`DecodeError`]s as [`kstream_pipeline::decode::decode_json`].
    pub fn parse(bytes: &'a [u8]) -> Result<Self, DecodeError> {
        let text = decode_utf8(bytes)?;
        if let Some(top) = scan_document(text) {
            return Ok(Self { top });
        }
        // Not scanned: invalid, nested too deep, or a key the scanner leaves to
        // serde_json. The `Value` path's reading decides first, so both paths accept and
        // reject the same records with the same errors (its depth limit included:
        // serde_json's raw values below have none).
        decode_json(bytes)?;
        let json_error = |e: serde_json::Error| json_error(&e);
        let top = match text.trim_start().as_bytes().first() {
            Some(b'{') => Node::Object(
                serde_json::from_str::<Fields<'_>>(text)
                    .map_err(json_error)?
                    .0,
            ),
            Some(b'[') => Node::Array(
                serde_json::from_str::<Vec<&RawValue>>(text)
                    .map_err(json_error)?
                    .into_iter()
                    .map(RawValue::get)
                    .collect(),
            ),
            _ => {
                serde_json::from_str::<&RawValue>(text).map_err(json_error)?;
                Node::Scalar
            }
        };
        Ok(Self { top })
    }

    /// The value at `path` (object members by name, the last duplicate winning as in
    /// serde_json; array elements by index), as JSON text (valid, no surrounding space).
    pub fn get(&self, path: &[String]) -> Option<&'a str> {
        let (first, rest) = path.split_first()?;
        let mut value = child(&self.top, first)?;
        for seg in rest {
            value = child(&node(value)?, seg)?;
        }
        Some(value)
    }
}

/// The members of valid JSON `value`, if it is an object or an array.
fn node(value: &str) -> Option<Node<'_>> {
    match value.as_bytes().first()? {
        b'{' | b'[' => scan_document(value).or_else(|| match value.as_bytes()[0] {
            b'{' => serde_json::from_str::<Fields<'_>>(value)
                .ok()
                .map(|f| Node::Object(f.0)),
            _ => serde_json::from_str::<Vec<&RawValue>>(value)
                .ok()
                .map(|items| Node::Array(items.into_iter().map(RawValue::get).collect())),
        }),
        _ => Some(Node::Scalar),
    }
}

fn child<'a>(node: &Node<'a>, seg: &str) -> Option<&'a str> {
    match node {
        Node::Object(fields) => fields.iter().rev().find(|(k, _)| k == seg).map(|(_, v)| *v),
        Node::Array(items) => items.get(seg.parse::<usize>().ok()?).copied(),
        Node::Scalar => None,
    }
}

/// Locates the members of `text` when it is one valid JSON object or array (surrounding
/// whitespace allowed). `None` for anything else: serde_json then decides (and words the
/// error).
fn scan_document(text: &str) -> Option<Node<'_>> {
    let b = text.as_bytes();
    let mut i = skip_ws(b, 0);
    let node = match *b.get(i)? {
        b'{' => {
            let mut fields = Vec::with_capacity(8);
            i = skip_ws(b, i + 1);
            if b.get(i) == Some(&b'}') {
                i += 1;
            } else {
                loop {
                    let key_start = i;
                    i = skip_key(b, i)?;
                    let key = &text[key_start + 1..i - 1];
                    let key = if key.contains('\\') {
                        Cow::Owned(serde_json::from_str::<String>(&text[key_start..i]).ok()?)
                    } else {
                        Cow::Borrowed(key)
                    };
                    i = skip_ws(b, i);
                    if b.get(i) != Some(&b':') {
                        return None;
                    }
                    let start = skip_ws(b, i + 1);
                    i = skip_value(b, start, 1)?;
                    fields.push((key, &text[start..i]));
                    i = skip_ws(b, i);
                    match *b.get(i)? {
                        b',' => i = skip_ws(b, i + 1),
                        b'}' => {
                            i += 1;
                            break;
                        }
                        _ => return None,
                    }
                }
            }
            Node::Object(fields)
        }
        b'[' => {
            let mut items = Vec::new();
            i = skip_ws(b, i + 1);
            if b.get(i) == Some(&b']') {
                i += 1;
            } else {
                loop {
                    let start = i;
                    i = skip_value(b, start, 1)?;
                    items.push(&text[start..i]);
                    i = skip_ws(b, i);
                    match *b.get(i)? {
                        b',' => i = skip_ws(b, i + 1),
                        b']' => {
                            i += 1;
                            break;
                        }
                        _ => return None,
                    }
                }
            }
            Node::Array(items)
        }
        _ => return None,
    };
    (skip_ws(b, i) == b.len()).then_some(node)
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while matches!(b.get(i), Some(b' ' | b'\n' | b'\t' | b'\r')) {
        i += 1;
    }
    i
}

/// The end of the object key (a string) at `i`.
fn skip_key(b: &[u8], i: usize) -> Option<usize> {
    if b.get(i) != Some(&b'"') {
        return None;
    }
    skip_string(b, i)
}

/// The end of the one JSON value at `i` (no leading whitespace), inside `depth`
/// containers: iterative, and `None` for a container [`MAX_DEPTH`] deep or more, which
/// serde_json's `Value` parsing rejects (its raw values alone would not).
fn skip_value(b: &[u8], mut i: usize, depth: usize) -> Option<usize> {
    // the closing byte of each open container
    let mut open: Vec<u8> = Vec::new();
    loop {
        // a value starts at i
        let c = *b.get(i)?;
        if matches!(c, b'{' | b'[') && depth + open.len() + 1 >= MAX_DEPTH {
            return None;
        }
        match c {
            b'"' => i = skip_string(b, i)?,
            b'{' => {
                i = skip_ws(b, i + 1);
                if b.get(i) == Some(&b'}') {
                    i += 1;
                } else {
                    open.push(b'}');
                    i = skip_ws(b, skip_key(b, i)?);
                    if b.get(i) != Some(&b':') {
                        return None;
                    }
                    i = skip_ws(b, i + 1);
                    continue;
                }
            }
            b'[' => {
                i = skip_ws(b, i + 1);
                if b.get(i) == Some(&b']') {
                    i += 1;
                } else {
                    open.push(b']');
                    continue;
                }
            }
            b't' => i = skip_literal(b, i, b"true")?,
            b'f' => i = skip_literal(b, i, b"false")?,
            b'n' => i = skip_literal(b, i, b"null")?,
            b'-' | b'0'..=b'9' => i = skip_number(b, i)?,
            _ => return None,
        }
        // a value ended at i: close containers until one continues
        loop {
            let Some(&close) = open.last() else {
                return Some(i);
            };
            i = skip_ws(b, i);
            match *b.get(i)? {
                b',' => {
                    i = skip_ws(b, i + 1);
                    if close == b'}' {
                        i = skip_ws(b, skip_key(b, i)?);
                        if b.get(i) != Some(&b':') {
                            return None;
                        }
                        i = skip_ws(b, i + 1);
                    }
                    break;
                }
                c if c == close => {
                    open.pop();
                    i += 1;
                }
                _ => return None,
            }
        }
    }
}

fn skip_literal(b: &[u8], i: usize, literal: &[u8]) -> Option<usize> {
    b.get(i..)?
        .starts_with(literal)
        .then_some(i + literal.len())
}

/// `-? (0 | [1-9][0-9]*) (\.[0-9]+)? ([eE][+-]?[0-9]+)?`, within `f64`'s range: serde_json
/// refuses a number out of it (`1e999`, or an integer of 309 digits or more above `f64::MAX`) as
/// "number out of range", so such a number is left to it (`None`), like anything else the scanner
/// does not accept.
fn skip_number(b: &[u8], i: usize) -> Option<usize> {
    let end = skip_number_syntax(b, i)?;
    let text = &b[i..end];
    // Without an exponent, a text of at most 308 characters is always within range: no parse.
    let may_overflow =
        text.len() > MAX_PLAIN_NUMBER_LEN || text.iter().any(|&c| c == b'e' || c == b'E');
    if may_overflow {
        let value: f64 = std::str::from_utf8(text).ok()?.parse().ok()?;
        if !value.is_finite() {
            return None;
        }
    }
    Some(end)
}

/// The longest number text without an exponent that is surely finite as an `f64`: at most 308
/// integer digits, so below 1e308 (the largest `f64` is about 1.8e308, so 309 digits may
/// already be out of range: `18` and 307 zeros is). A longer text is parsed to decide.
const MAX_PLAIN_NUMBER_LEN: usize = 308;

/// The end of the number's syntax at `i`.
fn skip_number_syntax(b: &[u8], mut i: usize) -> Option<usize> {
    let digits = |mut i: usize| {
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        i
    };
    if b.get(i) == Some(&b'-') {
        i += 1;
    }
    match *b.get(i)? {
        b'0' => i += 1,
        b'1'..=b'9' => i = digits(i + 1),
        _ => return None,
    }
    if b.get(i) == Some(&b'.') {
        let end = digits(i + 1);
        if end == i + 1 {
            return None;
        }
        i = end;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let end = digits(i);
        if end == i {
            return None;
        }
        i = end;
    }
    Some(i)
}

/// Bytes that end a run of plain string content: the quote, a backslash, a control character.
#[inline]
fn special(c: u8) -> bool {
    c == b'"' || c == b'\\' || c < 0x20
}

/// The end of the string at `i` (`b[i]` is its opening quote). The text is UTF-8 already.
fn skip_string(b: &[u8], mut i: usize) -> Option<usize> {
    const CHUNK: usize = 32;
    i += 1;
    loop {
        // whole chunks without a special byte, tested without a branch per byte so that
        // the loop vectorizes (SSE2, NEON): several times faster than bytewise
        while let Some(chunk) = b.get(i..i + CHUNK) {
            let mut found = 0u8;
            for &c in chunk {
                found |= u8::from(c == b'"') | u8::from(c == b'\\') | u8::from(c < 0x20);
            }
            if found != 0 {
                break;
            }
            i += CHUNK;
        }
        i += b.get(i..)?.iter().position(|&c| special(c))?;
        match b[i] {
            b'"' => return Some(i + 1),
            b'\\' => match *b.get(i + 1)? {
                b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => i += 2,
                b'u' => i = skip_unicode_escape(b, i)?,
                _ => return None,
            },
            _ => return None,
        }
    }
}

/// The end of the `\uXXXX` escape at `i`, refusing what serde_json refuses when it reads a
/// string (as a `Value` does; its raw values alone would not): a lone surrogate. A leading
/// surrogate (`D800`-`DBFF`) must be followed at once by an escaped trailing one (`DC00`-`DFFF`),
/// and a trailing one alone is refused.
fn skip_unicode_escape(b: &[u8], i: usize) -> Option<usize> {
    let unit = |at: usize| -> Option<u16> {
        let hex = b.get(at..at + 4)?;
        if !hex.iter().all(u8::is_ascii_hexdigit) {
            return None;
        }
        u16::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()
    };
    match unit(i + 2)? {
        0xD800..=0xDBFF => {
            if b.get(i + 6..i + 8)? != b"\\u" || !(0xDC00..=0xDFFF).contains(&unit(i + 8)?) {
                return None;
            }
            Some(i + 12)
        }
        0xDC00..=0xDFFF => None,
        _ => Some(i + 6),
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

pub(crate) fn kind(value: &str) -> Kind {
    match value.as_bytes().first() {
        Some(b'"') => Kind::String,
        Some(b'n') => Kind::Null,
        Some(b'{' | b'[') => Kind::Container,
        _ => Kind::Other,
    }
}

/// The decoded text of a JSON string (borrowed when it has no escapes).
pub(crate) fn string_value(text: &str) -> Result<Cow<'_, str>, TransformError> {
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

/// Appends valid JSON `text` without the whitespace outside its strings (string contents
/// skipped a chunk at a time, the rest copied in runs).
pub(crate) fn compact_into(text: &[u8], out: &mut Vec<u8>) {
    out.reserve(text.len());
    let mut copied = 0;
    let mut i = 0;
    while i < text.len() {
        match text[i] {
            b' ' | b'\n' | b'\r' | b'\t' => {
                out.extend_from_slice(&text[copied..i]);
                i += 1;
                copied = i;
            }
            // valid JSON: the string ends (the fallback keeps a malformed tail as it is)
            b'"' => i = skip_string(text, i).unwrap_or(text.len()),
            _ => i += 1,
        }
    }
    out.extend_from_slice(&text[copied..]);
}

/// An object's members in order, keys borrowed when they have no escapes (serde_json's
/// reading, when the scanner leaves a document to it).
struct Fields<'a>(Vec<(Cow<'a, str>, &'a str)>);

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
                    fields.push((key, map.next_value::<&'de RawValue>()?.get()));
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

    #[test]
    fn numbers_out_of_f64_range_are_refused_as_serde_json_refuses_them() {
        // Found by the raw_json fuzz target: the scanner accepted these, serde_json does not.
        let long_integer = format!("{{\"a\":{}}}", "9".repeat(400));
        let long_but_finite = format!("[{}]", "9".repeat(300));
        // Found by the raw_json fuzz target in session 8: an integer of 310 digits (1.88e309)
        // was not parsed, as the check counted a sign and a point into the length.
        let digits_309 = format!("[1,[{}]]", "9".repeat(309));
        let just_over = format!("[-18{}]", "0".repeat(307));
        let found = format!("[ 13,[\t188{}]]", "0".repeat(307));
        let just_under = format!("[1{}, -1{}.5]", "0".repeat(308), "7".repeat(307));
        for text in [
            r#"{"a":1e999}"#,
            "51E513",
            "18888000009711162116e888888",
            r#"[-1.5e400]"#,
            long_integer.as_str(),
            digits_309.as_str(),
            just_over.as_str(),
            found.as_str(),
        ] {
            assert!(
                RawRecord::parse(text.as_bytes()).is_err(),
                "{text} is refused like serde_json refuses it"
            );
            assert!(decode_json(text.as_bytes()).is_err(), "{text}");
        }
        for text in [
            r#"{"a":1e308}"#,
            r#"{"a":1e-999}"#,
            long_but_finite.as_str(),
            just_under.as_str(),
        ] {
            assert!(RawRecord::parse(text.as_bytes()).is_ok(), "{text}");
            assert!(decode_json(text.as_bytes()).is_ok(), "{text}");
        }
    }

    #[test]
    fn lone_surrogates_are_refused_as_serde_json_refuses_them() {
        // Found by the raw_json fuzz target (fuzz/corpus/raw_json/lone-surrogate): the scanner
        // accepted a trailing surrogate alone, which serde_json refuses when it reads a string.
        let found = br#"{"reading date":"4/7data{\\n\uddda","data":"q","b":-0,"c":0}"#;
        assert!(RawRecord::parse(found).is_err());
        assert!(decode_json(found).is_err());
        for text in [
            r#"{"a":"\uDDDA"}"#,
            r#"["\udc00"]"#,
            r#"["\uD800"]"#,
            r#"{"a":"\uD800x"}"#,
            r#"{"a":"\uD800\n"}"#,
            r#"{"a":"\uD800\uD800"}"#,
            r#"{"a":"\uD800\u0041"}"#,
            r#"{"a":"\uDC00\uD800"}"#,
            r#"{"a":"\uD83D\uDE0"}"#,
            r#"{"a":{"b":["\uDBFF"]}}"#,
        ] {
            assert!(scan_document(text).is_none(), "scanned {text}");
            assert!(RawRecord::parse(text.as_bytes()).is_err(), "{text}");
            assert!(decode_json(text.as_bytes()).is_err(), "{text}");
        }
        for text in [
            r#"{"a":"\uD83D\uDE00"}"#,
            r#"{"a":"\udbff\udfff","b":"\uD800\uDC00"}"#,
            r#"["\ud7ff\ue000\uffff\u0000"]"#,
        ] {
            assert!(assert_agrees(text), "{text}");
            assert!(decode_json(text.as_bytes()).is_ok(), "{text}");
        }
    }

    fn path(p: &[&str]) -> Vec<String> {
        p.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn lookups_match_value_semantics() {
        let text = br#"{"a": {"b": [1, {"c": "x"}]}, "k\"q": 2, "d": 1, "d": 3, "s": "p\u00e9"}"#;
        let r = RawRecord::parse(text).unwrap();
        assert_eq!(r.get(&path(&["a", "b", "1", "c"])).unwrap(), r#""x""#);
        assert_eq!(r.get(&path(&["k\"q"])).unwrap(), "2");
        assert_eq!(r.get(&path(&["d"])).unwrap(), "3", "last duplicate wins");
        assert!(r.get(&path(&["a", "x"])).is_none());
        assert!(r.get(&path(&["d", "x"])).is_none());
        assert!(r.get(&path(&["a", "b", "9"])).is_none());
        let s = r.get(&path(&["s"])).unwrap();
        assert_eq!(string_value(s).unwrap(), "pé");
        let mut out = Vec::new();
        compact_into(r.get(&path(&["a"])).unwrap().as_bytes(), &mut out);
        assert_eq!(out, br#"{"b":[1,{"c":"x"}]}"#);
    }

    #[test]
    fn decode_errors_match_decode_json() {
        for input in [&b""[..], b"\xff", b"{\"a\":", b"{} x"] {
            assert_eq!(
                RawRecord::parse(input).unwrap_err(),
                kstream_pipeline::decode::decode_json(input).unwrap_err(),
                "{input:?}"
            );
        }
    }

    /// serde_json's reading of `text` as an object or array: its members as JSON text.
    fn serde_members(text: &str) -> Option<Vec<(Option<String>, String)>> {
        match text.trim_start().as_bytes().first()? {
            b'{' => serde_json::from_str::<Fields<'_>>(text).ok().map(|f| {
                f.0.into_iter()
                    .map(|(k, v)| (Some(k.into_owned()), v.to_owned()))
                    .collect()
            }),
            b'[' => serde_json::from_str::<Vec<&RawValue>>(text)
                .ok()
                .map(|items| {
                    items
                        .into_iter()
                        .map(|v| (None, v.get().to_owned()))
                        .collect()
                }),
            _ => None,
        }
    }

    fn scanned_members(text: &str) -> Option<Vec<(Option<String>, String)>> {
        match scan_document(text)? {
            Node::Object(fields) => Some(
                fields
                    .into_iter()
                    .map(|(k, v)| (Some(k.into_owned()), v.to_owned()))
                    .collect(),
            ),
            Node::Array(items) => Some(items.into_iter().map(|v| (None, v.to_owned())).collect()),
            Node::Scalar => None,
        }
    }

    /// Whatever the scanner accepts, serde_json accepts, as a `Value` (which validates more
    /// than its raw values: surrogates, depth), with the same members. Whether the scanner
    /// accepted.
    fn assert_agrees(text: &str) -> bool {
        let Some(scanned) = scanned_members(text) else {
            return false;
        };
        assert!(
            decode_json(text.as_bytes()).is_ok(),
            "the scanner accepted {text:?}, which serde_json refuses"
        );
        assert_eq!(
            Some(scanned),
            serde_members(text),
            "the scanner accepted {text:?}"
        );
        true
    }

    const VALID: &[&str] = &[
        "{}",
        " [ ] ",
        r#"{"a":1}"#,
        "{ \"a\" : [ 1 , -2.5e+3 , 0 , -0.0E-0 , 1e9 ] , \"b\" : { \"c\" : null } }\n",
        r#"{"s":"q\"\\\/\b\f\n\r\t\u00e9\uD83D\uDE00 é 😀","t":true,"f":false}"#,
        r#"{"k\u0041y":1,"k\"q":{"x":[[],{},[{}]]},"d":1,"d":2}"#,
        r#"[1,"two",{"three":3},[4],null,true,false,-5]"#,
        r#"{"deep":[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]}"#,
        r#"{"long":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}"#,
    ];

    #[test]
    fn scanner_reads_valid_documents_as_serde_json_does() {
        for text in VALID {
            assert!(scanned_members(text).is_some(), "{text}");
            assert_agrees(text);
        }
        // a key escaping a lone surrogate is left to serde_json (which rejects it)
        assert!(scan_document(r#"{"\uD800":1}"#).is_none());
        assert!(RawRecord::parse(br#"{"\uD800":1}"#).is_err());
    }

    #[test]
    fn scanner_rejects_what_serde_json_rejects() {
        for text in [
            "",
            "{",
            "{\"a\"}",
            "{\"a\":}",
            "{\"a\":1,}",
            "[1,]",
            "[1 2]",
            "{\"a\":1}x",
            "{\"a\":01}",
            "{\"a\":1.}",
            "{\"a\":.5}",
            "{\"a\":1e}",
            "{\"a\":-}",
            "{\"a\":+1}",
            "{\"a\":tru}",
            "{\"a\":nul}",
            "{\"a\":\"\\x\"}",
            "{\"a\":\"\\u12G4\"}",
            "{\"a\":\"tab\there\"}",
            "{\"a\":\"open}",
            "{a:1}",
            "{\"a\":1 \"b\":2}",
            "{\"a\":[}",
            "{\"a\":{]}",
            "{\"a\":1}}",
        ] {
            assert!(scanned_members(text).is_none(), "accepted {text:?}");
            assert!(RawRecord::parse(text.as_bytes()).is_err(), "{text:?}");
        }
    }

    /// Every single-byte change, deletion and truncation of valid documents: the scanner
    /// never accepts what serde_json rejects, and reads what it accepts the same way.
    #[test]
    fn scanner_agrees_with_serde_json_on_mutations() {
        const BYTES: &[u8] = b" \t\n{}[]:,\"\\/0123456789-+.eEtrufalsn\x01\x1fbx";
        let (mut seen, mut accepted) = (0, 0);
        for text in VALID {
            let bytes = text.as_bytes();
            for i in 0..bytes.len() {
                let mut variants: Vec<Vec<u8>> = BYTES
                    .iter()
                    .map(|&c| {
                        let mut v = bytes.to_vec();
                        v[i] = c;
                        v
                    })
                    .collect();
                let mut deleted = bytes.to_vec();
                deleted.remove(i);
                variants.push(deleted);
                variants.push(bytes[..i].to_vec());
                for v in variants {
                    if let Ok(v) = std::str::from_utf8(&v) {
                        accepted += usize::from(assert_agrees(v));
                        seen += 1;
                    }
                }
            }
        }
        assert!(seen > 10_000 && accepted > 1_000, "{accepted} of {seen}");
    }

    /// The whitespace outside strings, removed one byte at a time (the reference).
    fn compact_reference(text: &[u8]) -> Vec<u8> {
        let (mut out, mut in_string, mut escaped) = (Vec::new(), false, false);
        for &c in text {
            if in_string {
                in_string = escaped || c != b'"';
                escaped = !escaped && c == b'\\';
            } else if matches!(c, b' ' | b'\n' | b'\r' | b'\t') {
                continue;
            } else {
                in_string = c == b'"';
            }
            out.push(c);
        }
        out
    }

    #[test]
    fn compaction_matches_the_bytewise_reference() {
        let pad = " x ".repeat(20);
        let mut docs: Vec<String> = VALID.iter().map(|s| (*s).to_owned()).collect();
        for cut in 25..40 {
            // escapes and quotes on and around the 32-byte chunk boundaries
            let head = &pad[..cut];
            docs.push(format!(
                r#"{{ "k" : "{head}\"{pad}\\" , "l" : [ "{pad}" , 1 ] }}"#
            ));
            docs.push(format!("[ \"{head}\\\\\" , \"\\\"{pad}\" ]"));
        }
        for doc in &docs {
            assert!(
                serde_json::from_str::<serde_json::Value>(doc).is_ok(),
                "{doc}"
            );
            let mut out = Vec::new();
            compact_into(doc.as_bytes(), &mut out);
            assert_eq!(
                String::from_utf8(out).unwrap(),
                String::from_utf8(compact_reference(doc.as_bytes())).unwrap(),
                "{doc}"
            );
        }
    }
}
