//! [`ValidatingProcessor`](crate::ValidatingProcessor)'s check on a record's JSON text, without
//! building a `serde_json::Value`: one pass over the top-level object that notes the `poison`
//! field and the required fields and skips every value (no allocation; nested values are
//! skipped by serde_json's iterative scanner, so depth costs no stack).
//!
//! It answers exactly as the check on a `Value` does (`ValidatingProcessor::validate`; the
//! tests compare both on the same texts): the same first failure, and for a key given twice
//! the last value counts, as in a `Value`'s map.
//!
//! [`check_document`] does the consumer's check of the bytes (`kstream_pipeline::decode::
//! check_json`: UTF-8, one JSON document, read through `deserialize_any` at every level) and
//! this one in a single walk: every value is read as `check_json` reads it (`AnyJson`), so the
//! errors are `check_json`'s, and the verdict is the one [`check`] gives on the same text. A
//! plain object (most records) is read by `plain_object`'s fast path instead, which answers
//! only where it gives this walk's verdict.

use std::fmt;

use kstream_pipeline::DecodeError;
use kstream_pipeline::decode::{AnyJson, decode_utf8, json_error};
use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use crate::error::ProcessError;
use crate::plain_object;
use crate::processor::POISON_FIELD;

/// How many required fields are tracked on the stack; more are tracked on the heap.
pub(crate) const INLINE_FIELDS: usize = 32;

/// Checks `text` (one JSON document, already checked by the consumer) against the rules of
/// [`ValidatingProcessor`](crate::ValidatingProcessor) with these required fields.
pub(crate) fn check(text: &str, required: &[String]) -> Result<(), ProcessError> {
    // The consumer checked that the text is one JSON document; an error here is not
    // expected, and is reported as the record's failure, not a panic.
    scan(text, required, false)
        .map_err(ProcessError::other)?
        .into_result(required)
}

/// `kstream_pipeline::decode::check_json(bytes)` and, read in the same walk, [`check`] of the
/// text: the text and the verdict, or `check_json`'s error.
///
/// # Errors
/// As `check_json`: [`DecodeError::Empty`], [`DecodeError::Utf8`] or [`DecodeError::Json`].
pub(crate) fn check_document<'t>(
    bytes: &'t [u8],
    required: &[String],
) -> Result<(&'t str, Result<(), ProcessError>), DecodeError> {
    let text = decode_utf8(bytes)?;
    // Most records are plain objects, read by the fast path; for anything else it has no
    // answer and the serde walk gives the verdict or the error.
    let verdict = match plain_object::check(text, required) {
        Some(verdict) => verdict,
        None => scan(text, required, true).map_err(|e| json_error(&e))?,
    };
    Ok((text, verdict.into_result(required)))
}

/// One document read with [`TopLevel`] (`walk`: every value as `check_json` reads it).
pub(crate) fn scan(
    text: &str,
    required: &[String],
    walk: bool,
) -> Result<Verdict, serde_json::Error> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let verdict = TopLevel { required, walk }.deserialize(&mut deserializer)?;
    deserializer.end()?;
    Ok(verdict)
}

impl Verdict {
    fn into_result(self, required: &[String]) -> Result<(), ProcessError> {
        match self {
            Verdict::NotAnObject(found) => Err(ProcessError::NotAnObject { found }),
            Verdict::Poison => Err(ProcessError::Poison),
            Verdict::Missing(index) => Err(ProcessError::MissingField {
                field: required[index].clone(),
            }),
            Verdict::Valid => Ok(()),
        }
    }
}

/// What a top-level key is to the check: `poison`, and/or the index of a required field.
pub(crate) struct Key {
    /// The key is `poison`.
    pub(crate) watched: bool,
    /// The key is this required field.
    pub(crate) required: Option<usize>,
}

impl Key {
    /// What the (decoded) key `key` is to the check with these required fields.
    pub(crate) fn of(key: &[u8], required: &[String]) -> Self {
        Self {
            watched: key == POISON_FIELD.as_bytes(),
            required: required.iter().position(|field| field.as_bytes() == key),
        }
    }
}

/// The required fields' presence, noted by a walk: `inline` when there are at most
/// [`INLINE_FIELDS`] of them, else `heap`, made as long as needed.
pub(crate) fn presence<'p>(
    inline: &'p mut [bool; INLINE_FIELDS],
    heap: &'p mut Vec<bool>,
    count: usize,
) -> &'p mut [bool] {
    if count <= INLINE_FIELDS {
        &mut inline[..count]
    } else {
        heap.resize(count, false);
        heap
    }
}

impl Verdict {
    /// The verdict on an object, in the order `validate` checks: `poison` (its last value was
    /// `true`), then the first required field (by its position in `REQUIRED_FIELDS`) whose last
    /// value was absent or null.
    pub(crate) fn of(poison: bool, present: &[bool]) -> Self {
        if poison {
            Self::Poison
        } else {
            present
                .iter()
                .position(|&p| !p)
                .map_or(Self::Valid, Self::Missing)
        }
    }
}

/// Reads a top-level key and looks it up, without allocating: a `String` (or an owned
/// `Cow<str>`, what serde gives a `Cow` that is not `#[serde(borrow)]`) per key was about a
/// tenth of the check's time (bench/kds-consumer). The key's text is read by the same
/// `deserialize_str` path, so an escaped key (`"i\u0064"`) is compared decoded, as before.
struct KeySeed<'r> {
    required: &'r [String],
}

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = Key;

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<Key, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_> {
    type Value = Key;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E>(self, key: &str) -> Result<Key, E> {
        Ok(Key::of(key.as_bytes(), self.required))
    }
}

/// What a watched value (`poison`, a required field) is to the check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// The literal `true`.
    True,
    /// The literal `null`.
    Null,
    Other,
}

/// Reads a watched value through `deserialize_any`, as `AnyJson` does (nested values as
/// `AnyJson`), and says which [`Kind`] it is.
struct Watched;

impl<'de> DeserializeSeed<'de> for Watched {
    type Value = Kind;

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<Kind, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Watched {
    type Value = Kind;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, value: bool) -> Result<Kind, E> {
        Ok(if value { Kind::True } else { Kind::Other })
    }

    fn visit_unit<E>(self) -> Result<Kind, E> {
        Ok(Kind::Null)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Kind, E> {
        Ok(Kind::Other)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Kind, E> {
        Ok(Kind::Other)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Kind, E> {
        Ok(Kind::Other)
    }

    fn visit_str<E>(self, _: &str) -> Result<Kind, E> {
        Ok(Kind::Other)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Kind, A::Error> {
        AnyJson::read_seq(seq).map(|AnyJson| Kind::Other)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Kind, A::Error> {
        AnyJson::read_map(map).map(|AnyJson| Kind::Other)
    }
}

/// The outcome of the scan, in the order `validate` checks: object, poison, required fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    NotAnObject(&'static str),
    Poison,
    /// The first required field (by its position in `REQUIRED_FIELDS`) absent or null.
    Missing(usize),
    Valid,
}

struct TopLevel<'r> {
    required: &'r [String],
    /// Every value read through as `check_json` reads it ([`check_document`]); else skipped.
    walk: bool,
}

impl<'de> DeserializeSeed<'de> for TopLevel<'_> {
    type Value = Verdict;

    fn deserialize<D: serde::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Verdict, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for TopLevel<'_> {
    type Value = Verdict;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON document")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Verdict, A::Error> {
        let (mut inline, mut heap) = ([false; INLINE_FIELDS], Vec::new());
        let present = presence(&mut inline, &mut heap, self.required.len());
        let mut poison = false;
        while let Some(key) = map.next_key_seed(KeySeed {
            required: self.required,
        })? {
            if !key.watched && key.required.is_none() {
                if self.walk {
                    map.next_value::<AnyJson>()?;
                } else {
                    map.next_value::<IgnoredAny>()?;
                }
                continue;
            }
            let kind = if self.walk {
                map.next_value_seed(Watched)?
            } else {
                match map.next_value::<&'de RawValue>()?.get() {
                    "true" => Kind::True,
                    "null" => Kind::Null,
                    _ => Kind::Other,
                }
            };
            if key.watched {
                poison = kind == Kind::True;
            }
            if let Some(index) = key.required {
                present[index] = kind != Kind::Null;
            }
        }
        Ok(Verdict::of(poison, present))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Verdict, A::Error> {
        if self.walk {
            while seq.next_element::<AnyJson>()?.is_some() {}
        } else {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
        }
        Ok(Verdict::NotAnObject("array"))
    }

    fn visit_str<E>(self, _: &str) -> Result<Verdict, E> {
        Ok(Verdict::NotAnObject("string"))
    }

    fn visit_bool<E>(self, _: bool) -> Result<Verdict, E> {
        Ok(Verdict::NotAnObject("boolean"))
    }

    fn visit_i64<E>(self, _: i64) -> Result<Verdict, E> {
        Ok(Verdict::NotAnObject("number"))
    }

    fn visit_u64<E>(self, _: u64) -> Result<Verdict, E> {
        Ok(Verdict::NotAnObject("number"))
    }

    fn visit_f64<E>(self, _: f64) -> Result<Verdict, E> {
        Ok(Verdict::NotAnObject("number"))
    }

    fn visit_unit<E>(self) -> Result<Verdict, E> {
        Ok(Verdict::NotAnObject("null"))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use crate::{RecordProcessor as _, ValidatingProcessor};

    /// Both checks give the same verdict (the same error text, or none) on every text.
    #[test]
    fn the_text_check_answers_as_the_value_check() {
        let processors = [
            ValidatingProcessor::new(["id", "ticker", "price"]),
            ValidatingProcessor::default(),
            ValidatingProcessor::new((0..40).map(|i| format!("f{i}"))),
        ];
        let many: String = (0..40)
            .map(|i| format!("\"f{i}\":{i}"))
            .collect::<Vec<_>>()
            .join(",");
        let texts = [
            r#"{"id":1,"ticker":"AMZN","price":12.5}"#.to_owned(),
            r#"{"id":1,"ticker":"AMZN"}"#.into(),
            r#"{"id":1,"ticker":null,"price":1}"#.into(),
            r#"{"id":1,"ticker":"A","price":1,"poison":true}"#.into(),
            r#"{"poison":true}"#.into(),
            r#"{"poison":false,"id":1,"ticker":"A","price":1}"#.into(),
            r#"{"poison":"true","id":1,"ticker":"A","price":1}"#.into(),
            r#"{"poison":true,"poison":false,"id":1,"ticker":"A","price":1}"#.into(),
            r#"{"poison":false,"poison":true}"#.into(),
            r#"{"id":null,"id":1,"ticker":"A","price":1}"#.into(),
            r#"{"id":1,"id":null,"ticker":"A","price":1}"#.into(),
            r#"{"i\u0064":1,"ticker":"A","price":{"a":[1,{"b":null}]}}"#.into(),
            r#" { "id" : 1 , "ticker" : [ ] , "price" : 0 , "poison" : true } "#.into(),
            r#"{"price":1,"ticker":"A"}"#.into(),
            "[1,2,{\"id\":1}]".into(),
            "\"text\"".into(),
            "12".into(),
            "-1.5e3".into(),
            "true".into(),
            "null".into(),
            "{}".into(),
            format!("{{{many}}}"),
            format!("{{{many},\"f7\":null}}"),
        ];
        for processor in &processors {
            for text in &texts {
                let value: Value = serde_json::from_str(text).unwrap();
                let by_value = processor.validate(&value).map_err(|e| e.to_string());
                let by_text = processor.validate_text(text).map_err(|e| e.to_string());
                assert_eq!(by_text, by_value, "{text} with {processor:?}");
                // The consumer's one walk: the same text and the same verdict.
                let (checked, verdict) = processor.check_text(text.as_bytes()).unwrap();
                assert_eq!(checked, text);
                let verdict = verdict.expect("ValidatingProcessor gives its verdict");
                assert_eq!(verdict.map_err(|e| e.to_string()), by_value, "{text}");
            }
        }
    }

    /// The one walk refuses what `check_json` refuses, with the same error.
    #[test]
    fn the_one_walk_fails_as_check_json() {
        let processor = ValidatingProcessor::new(["id", "ticker", "price"]);
        let deep = format!("{{\"id\":{}1{}}}", "[".repeat(200), "]".repeat(200));
        let texts: [&[u8]; 14] = [
            b"",
            b"\xff{}",
            b"{\"id\":1,}",
            b"{\"id\":NaN,\"ticker\":\"A\",\"price\":1}",
            b"{\"id\":1e999,\"ticker\":\"A\",\"price\":1}",
            b"{\"id\":1,\"other\":1e999}",
            b"{\"poison\":[1e999]}",
            b"{\"id\":\"\\ud800\"}",
            b"{\"id\":1} {}",
            b"[1,2e999]",
            b"{\"id\":1,\"ticker\":\"A\",\"price\":{\"a\":[tru]}}",
            b"{\"poison\":true",
            deep.as_bytes(),
            b"{\"id\":1,\"ticker\":\"A\",\"price\":1}",
        ];
        for text in texts {
            let by_check_json = kstream_pipeline::decode::check_json(text).map(|_| ());
            let by_walk = processor.check_text(text).map(|_| ());
            assert_eq!(by_walk, by_check_json, "{}", String::from_utf8_lossy(text));
        }
        assert!(processor.check_text(texts[13]).is_ok());
    }
}
