//! Record decoding: bytes → UTF-8 text → JSON, with a specific error for each step.
//!
//! Event sources hand the functions raw bytes (the Lambda event's base64 is decoded
//! before this point). Decoding is strict: the bytes must be UTF-8 (no lossy
//! replacement, so nothing is silently altered) and one JSON document, optionally
//! surrounded by whitespace (a trailing newline, as line-oriented producers send, is fine).

use serde_json::{Map, Value};

use crate::error::DecodeError;

/// Checks that `bytes` are UTF-8 and returns them as text.
///
/// # Errors
/// [`DecodeError::Empty`] for zero bytes, [`DecodeError::Utf8`] with the offset of the
/// first invalid byte otherwise.
pub fn decode_utf8(bytes: &[u8]) -> Result<&str, DecodeError> {
    if bytes.is_empty() {
        return Err(DecodeError::Empty);
    }
    std::str::from_utf8(bytes).map_err(|e| DecodeError::Utf8 {
        valid_up_to: e.valid_up_to(),
    })
}

/// Decodes `bytes` as one UTF-8 JSON document of any type.
///
/// # Errors
/// [`DecodeError::Empty`], [`DecodeError::Utf8`] or [`DecodeError::Json`] (with line and column).
pub fn decode_json(bytes: &[u8]) -> Result<Value, DecodeError> {
    decode_json_text(bytes).map(|(_, value)| value)
}

/// As [`decode_json`], returning the text with the value.
///
/// # Errors
/// As [`decode_json`].
pub fn decode_json_text(bytes: &[u8]) -> Result<(&str, Value), DecodeError> {
    let text = decode_utf8(bytes)?;
    let value = serde_json::from_str(text).map_err(|e| json_error(&e))?;
    Ok((text, value))
}

/// Checks that `bytes` are one UTF-8 JSON document, without building a [`Value`]: the same
/// walk through serde_json's parser that a `Value` is built by, keeping nothing (no allocation;
/// a string with escapes is decoded into the parser's reused buffer). So it accepts and refuses
/// exactly what [`decode_json`] does, with the same errors: nesting deeper than serde_json's
/// 128 and numbers beyond `f64`'s range included.
///
/// # Errors
/// As [`decode_json`].
pub fn check_json(bytes: &[u8]) -> Result<&str, DecodeError> {
    use serde::Deserialize as _;
    let text = decode_utf8(bytes)?;
    let mut deserializer = serde_json::Deserializer::from_str(text);
    AnyJson::deserialize(&mut deserializer)
        .and_then(|AnyJson| deserializer.end())
        .map_err(|e| json_error(&e))?;
    Ok(text)
}

/// Any JSON value, read through and dropped ([`check_json`]). Unlike `serde::de::IgnoredAny`,
/// which serde_json skips with a scanner of its own (no depth limit, numbers unchecked), it
/// goes through `deserialize_any` at every level, as a `Value` does. Public for checks that
/// read a part of the document themselves and the rest as [`check_json`] does (kds-consumer's
/// text check): the same walk, so the same errors.
#[derive(Debug, Clone, Copy)]
pub struct AnyJson;

impl<'de> serde::Deserialize<'de> for AnyJson {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(AnyJsonVisitor)
    }
}

struct AnyJsonVisitor;

impl<'de> serde::de::Visitor<'de> for AnyJsonVisitor {
    type Value = AnyJson;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<AnyJson, E> {
        Ok(AnyJson)
    }

    fn visit_i64<E>(self, _: i64) -> Result<AnyJson, E> {
        Ok(AnyJson)
    }

    fn visit_u64<E>(self, _: u64) -> Result<AnyJson, E> {
        Ok(AnyJson)
    }

    fn visit_f64<E>(self, _: f64) -> Result<AnyJson, E> {
        Ok(AnyJson)
    }

    fn visit_str<E>(self, _: &str) -> Result<AnyJson, E> {
        Ok(AnyJson)
    }

    fn visit_unit<E>(self) -> Result<AnyJson, E> {
        Ok(AnyJson)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, seq: A) -> Result<AnyJson, A::Error> {
        AnyJson::read_seq(seq)
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<AnyJson, A::Error> {
        AnyJson::read_map(map)
    }
}

impl AnyJson {
    /// Reads an array's elements through, as [`AnyJson`] reads an array (for a visitor of
    /// its own that reads the rest as `AnyJson` does).
    ///
    /// # Errors
    /// The deserializer's.
    pub fn read_seq<'de, A: serde::de::SeqAccess<'de>>(mut seq: A) -> Result<Self, A::Error> {
        while seq.next_element::<AnyJson>()?.is_some() {}
        Ok(AnyJson)
    }

    /// Reads an object's keys and values through, as [`AnyJson`] reads an object.
    ///
    /// # Errors
    /// The deserializer's.
    pub fn read_map<'de, A: serde::de::MapAccess<'de>>(mut map: A) -> Result<Self, A::Error> {
        while map.next_key::<AnyJson>()?.is_some() {
            map.next_value::<AnyJson>()?;
        }
        Ok(AnyJson)
    }
}

/// Decodes `bytes` as one UTF-8 JSON object (`{...}`), the shape every kstream record has.
///
/// # Errors
/// As [`decode_json`], plus [`DecodeError::NotAnObject`] naming the type found.
///
/// # Example
/// ```
/// use kstream_pipeline::decode::decode_object;
/// use kstream_pipeline::DecodeError;
///
/// let object = decode_object(br#"{"ticker":"AMZN","price":12.5}"#).unwrap();
/// assert_eq!(object["ticker"], "AMZN");
/// assert_eq!(
///     decode_object(b"[1,2]"),
///     Err(DecodeError::NotAnObject { found: "array" })
/// );
/// ```
pub fn decode_object(bytes: &[u8]) -> Result<Map<String, Value>, DecodeError> {
    match decode_json(bytes)? {
        Value::Object(map) => Ok(map),
        other => Err(DecodeError::NotAnObject {
            found: json_type_name(&other),
        }),
    }
}

/// The JSON type name of a value, as used in error messages: `object`, `array`,
/// `string`, `number`, `boolean` or `null`.
pub fn json_type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// serde_json's error as a [`DecodeError::Json`]: its message without the position
/// serde_json appends, and the line and column in their own fields.
pub fn json_error(e: &serde_json::Error) -> DecodeError {
    // serde_json's Display appends " at line L column C"; keep the bare message and
    // report the position in our own fields.
    let full = e.to_string();
    let message = match full.rfind(" at line ") {
        Some(at) => full[..at].to_owned(),
        None => full,
    };
    DecodeError::Json {
        message,
        line: e.line(),
        column: e.column(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_objects_with_surrounding_whitespace() {
        let object = decode_object(b" {\"a\":1}\n").unwrap();
        assert_eq!(object["a"], 1);
    }

    #[test]
    fn empty_is_its_own_error() {
        assert_eq!(decode_object(b""), Err(DecodeError::Empty));
    }

    #[test]
    fn invalid_utf8_reports_offset() {
        assert_eq!(
            decode_object(b"{\"a\":\"\xff\"}"),
            Err(DecodeError::Utf8 { valid_up_to: 6 })
        );
    }

    #[test]
    fn invalid_json_reports_position_without_duplicating_it() {
        let err = decode_object(b"{\"a\":\n  tru}").unwrap_err();
        let DecodeError::Json {
            message,
            line,
            column,
        } = &err
        else {
            panic!("expected a JSON error, got {err:?}");
        };
        assert_eq!((*line, *column), (2, 6));
        assert!(!message.contains(" at line "), "{message}");
        assert_eq!(
            err.to_string(),
            format!("record data is not valid JSON: {message} (line 2, column 6)")
        );
    }

    #[test]
    fn the_check_accepts_and_refuses_as_the_decoder() {
        for text in [
            &b" {\"a\":[1,{\"b\":null}],\"c\":\"\\u00e9\"}\n"[..],
            b"[]",
            b"-1.5e3",
            b"\"s\"",
            b"",
            b"{\"a\":1} {\"b\":2}",
            b"{\"a\":\n  tru}",
            b"{\"a\":\"\xff\"}",
            b"NaN",
            b"{\"a\":1,}",
        ] {
            assert_eq!(check_json(text).err(), decode_json(text).err(), "{text:?}");
            if let Ok(checked) = check_json(text) {
                assert_eq!(checked.as_bytes(), text);
            }
        }
        // A `Value`'s limits: nesting past 128, numbers past f64.
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        let fine = format!("{}{}", "[".repeat(100), "]".repeat(100));
        for text in [
            deep.as_bytes(),
            fine.as_bytes(),
            b"1e999",
            b"{\"a\":-1e400}",
        ] {
            assert_eq!(check_json(text).err(), decode_json(text).err(), "{text:?}");
        }
        assert!(check_json(deep.as_bytes()).is_err() && check_json(b"1e999").is_err());
    }

    #[test]
    fn trailing_garbage_is_rejected() {
        assert!(matches!(
            decode_object(b"{\"a\":1} {\"b\":2}"),
            Err(DecodeError::Json { .. })
        ));
    }

    #[test]
    fn non_objects_are_named() {
        for (input, found) in [
            (&b"[]"[..], "array"),
            (b"\"s\"", "string"),
            (b"1", "number"),
            (b"true", "boolean"),
            (b"null", "null"),
        ] {
            assert_eq!(
                decode_object(input),
                Err(DecodeError::NotAnObject { found })
            );
        }
    }
}
