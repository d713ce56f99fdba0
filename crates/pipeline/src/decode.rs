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
    let text = decode_utf8(bytes)?;
    serde_json::from_str(text).map_err(|e| json_error(&e))
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
