//! [`ValidatingProcessor`](crate::ValidatingProcessor)'s check on a record's JSON text, without
//! building a `serde_json::Value`: one pass over the top-level object that notes the `poison`
//! field and the required fields and skips every value (no allocation; nested values are
//! skipped by serde_json's iterative scanner, so depth costs no stack).
//!
//! It answers exactly as the check on a `Value` does (`ValidatingProcessor::validate`; the
//! tests compare both on the same texts): the same first failure, and for a key given twice
//! the last value counts, as in a `Value`'s map.

use std::fmt;

use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use crate::error::ProcessError;
use crate::processor::POISON_FIELD;

/// How many required fields are tracked on the stack; more are tracked on the heap.
const INLINE_FIELDS: usize = 32;

/// Checks `text` (one JSON document, already checked by the consumer) against the rules of
/// [`ValidatingProcessor`](crate::ValidatingProcessor) with these required fields.
pub(crate) fn check(text: &str, required: &[String]) -> Result<(), ProcessError> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let verdict = TopLevel { required }
        .deserialize(&mut deserializer)
        .and_then(|verdict| deserializer.end().map(|()| verdict))
        // The consumer checked that the text is one JSON document; an error here is not
        // expected, and is reported as the record's failure, not a panic.
        .map_err(ProcessError::other)?;
    match verdict {
        Verdict::NotAnObject(found) => Err(ProcessError::NotAnObject { found }),
        Verdict::Poison => Err(ProcessError::Poison),
        Verdict::Missing(index) => Err(ProcessError::MissingField {
            field: required[index].clone(),
        }),
        Verdict::Valid => Ok(()),
    }
}

/// What a top-level key is to the check: `poison`, and/or the index of a required field.
struct Key {
    watched: bool,
    required: Option<usize>,
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
        Ok(Key {
            watched: key == POISON_FIELD,
            required: self.required.iter().position(|field| field == key),
        })
    }
}

/// The outcome of the scan, in the order `validate` checks: object, poison, required fields.
enum Verdict {
    NotAnObject(&'static str),
    Poison,
    /// The first required field (by its position in `REQUIRED_FIELDS`) absent or null.
    Missing(usize),
    Valid,
}

struct TopLevel<'r> {
    required: &'r [String],
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
        let count = self.required.len();
        let mut inline = [false; INLINE_FIELDS];
        let mut heap = Vec::new();
        let present: &mut [bool] = if count <= INLINE_FIELDS {
            &mut inline[..count]
        } else {
            heap.resize(count, false);
            &mut heap
        };
        let mut poison = false;
        while let Some(Key { watched, required }) = map.next_key_seed(KeySeed {
            required: self.required,
        })? {
            if !watched && required.is_none() {
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            let value: &'de RawValue = map.next_value()?;
            if watched {
                poison = value.get() == "true";
            }
            if let Some(index) = required {
                present[index] = value.get() != "null";
            }
        }
        Ok(if poison {
            Verdict::Poison
        } else {
            present
                .iter()
                .position(|&p| !p)
                .map_or(Verdict::Valid, Verdict::Missing)
        })
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Verdict, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
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

    use crate::ValidatingProcessor;

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
            }
        }
    }
}
