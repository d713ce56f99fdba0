//! JSON flattening: nested objects become `a.b.c` keys, array elements `a.0`, `a.1`.
//!
//! The rules (as the seed's `flatten_data` step, made precise):
//! - an object member `b` inside `a` becomes the key `a.b` (the separator is configurable);
//! - an array element `i` inside `a` becomes `a.i` (`i` from 0);
//! - scalars (string, number, boolean, null) are leaves and keep their value;
//! - an empty object or array is a leaf too (kept as `{}` / `[]`), so nothing is lost;
//! - a top-level array is flattened to an object with keys `0`, `1`, ...; a top-level scalar
//!   is returned unchanged;
//! - two paths that produce the same key (`{"a.b":1,"a":{"b":2}}`) are an error, not a
//!   silent overwrite.
//!
//! Keys of the result are in sorted order (serde_json's map), which JSON does not give
//! meaning to.
//!
//! To use a flattened key in a Handlebars template, quote it: `{{'a.b'}}` or `{{[a.b]}}`
//! (a bare `{{a.b}}` is the path `a` → `b`).
//!
//! # Example
//! ```
//! use kstream_transform::flatten::flatten;
//! use serde_json::json;
//!
//! let flat = flatten(json!({"a": {"b": {"c": 1}}, "tags": ["x", {"k": true}], "e": {}}), ".").unwrap();
//! assert_eq!(flat, json!({"a.b.c": 1, "tags.0": "x", "tags.1.k": true, "e": {}}));
//! ```

use serde_json::{Map, Value};

use crate::error::TransformError;

/// The default separator between key segments.
pub const DEFAULT_SEPARATOR: &str = ".";

/// Flattens `value` as described in the module docs.
///
/// # Errors
/// [`TransformError::DuplicateKey`] when two paths produce the same key.
pub fn flatten(value: Value, separator: &str) -> Result<Value, TransformError> {
    match value {
        Value::Object(map) if !map.is_empty() => {
            let mut out = Map::new();
            for (k, v) in map {
                flatten_into(&mut out, k, v, separator)?;
            }
            Ok(Value::Object(out))
        }
        Value::Array(items) if !items.is_empty() => {
            let mut out = Map::new();
            for (i, v) in items.into_iter().enumerate() {
                flatten_into(&mut out, i.to_string(), v, separator)?;
            }
            Ok(Value::Object(out))
        }
        other => Ok(other),
    }
}

fn flatten_into(
    out: &mut Map<String, Value>,
    prefix: String,
    value: Value,
    separator: &str,
) -> Result<(), TransformError> {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (k, v) in map {
                flatten_into(out, format!("{prefix}{separator}{k}"), v, separator)?;
            }
            Ok(())
        }
        Value::Array(items) if !items.is_empty() => {
            for (i, v) in items.into_iter().enumerate() {
                flatten_into(out, format!("{prefix}{separator}{i}"), v, separator)?;
            }
            Ok(())
        }
        leaf => {
            if out.contains_key(&prefix) {
                return Err(TransformError::DuplicateKey { key: prefix });
            }
            out.insert(prefix, leaf);
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn nested_objects_and_arrays() {
        let v = json!({
            "id": 7,
            "user": {"name": "ann", "address": {"city": "Oslo", "zip": null}},
            "items": [{"sku": "a", "qty": 1}, {"sku": "b", "qty": 2}],
            "matrix": [[1, 2], [3]],
            "empty_obj": {},
            "empty_arr": [],
        });
        assert_eq!(
            flatten(v, ".").unwrap(),
            json!({
                "id": 7,
                "user.name": "ann",
                "user.address.city": "Oslo",
                "user.address.zip": null,
                "items.0.sku": "a",
                "items.0.qty": 1,
                "items.1.sku": "b",
                "items.1.qty": 2,
                "matrix.0.0": 1,
                "matrix.0.1": 2,
                "matrix.1.0": 3,
                "empty_obj": {},
                "empty_arr": [],
            })
        );
    }

    #[test]
    fn custom_separator_and_top_level_shapes() {
        assert_eq!(
            flatten(json!({"a": {"b": 1}}), "_").unwrap(),
            json!({"a_b": 1})
        );
        assert_eq!(
            flatten(json!([{"a": 1}, 2]), ".").unwrap(),
            json!({"0.a": 1, "1": 2})
        );
        assert_eq!(flatten(json!("s"), ".").unwrap(), json!("s"));
        assert_eq!(flatten(json!({}), ".").unwrap(), json!({}));
    }

    #[test]
    fn collisions_are_errors() {
        assert_eq!(
            flatten(json!({"a.b": 1, "a": {"b": 2}}), "."),
            Err(TransformError::DuplicateKey { key: "a.b".into() })
        );
    }
}
