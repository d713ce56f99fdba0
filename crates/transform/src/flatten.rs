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

use serde_json::{Map, Number, Value};

use crate::budget::{self, MAX_FLATTEN_KEYS, MAX_OUTPUT_BYTES};
use crate::error::TransformError;

/// The default separator between key segments.
pub const DEFAULT_SEPARATOR: &str = ".";

/// Flattens `value` as described in the module docs, within the per-record budget: at
/// most [`MAX_FLATTEN_KEYS`] keys and [`MAX_OUTPUT_BYTES`] of output (keys and values as
/// compact JSON). A long key over a long array grows with their product (a 30 KB record
/// can ask for 100 MB); the budget is checked before each key is built, so memory stays
/// within it.
///
/// # Errors
/// [`TransformError::DuplicateKey`] when two paths produce the same key;
/// [`TransformError::OverBudget`] when the result would cross the budget.
pub fn flatten(value: Value, separator: &str) -> Result<Value, TransformError> {
    let mut state = Flattener {
        out: Map::new(),
        separator,
        bytes: 2, // the braces
    };
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (k, v) in map {
                state.flatten_into(k, v)?;
            }
            Ok(Value::Object(state.out))
        }
        Value::Array(items) if !items.is_empty() => {
            for (i, v) in items.into_iter().enumerate() {
                state.flatten_into(i.to_string(), v)?;
            }
            Ok(Value::Object(state.out))
        }
        other => Ok(other),
    }
}

struct Flattener<'s> {
    out: Map<String, Value>,
    separator: &'s str,
    /// Output bytes so far (a lower bound of the compact JSON: escapes not counted).
    bytes: usize,
}

impl Flattener<'_> {
    /// `prefix` + separator + `segment`, if that key fits in the budget.
    fn key(&self, prefix: &str, segment: &str) -> Result<String, TransformError> {
        let len = prefix.len() + self.separator.len() + segment.len();
        if self.bytes.saturating_add(len) > MAX_OUTPUT_BYTES {
            return Err(over_bytes());
        }
        let mut key = String::with_capacity(len);
        key.push_str(prefix);
        key.push_str(self.separator);
        key.push_str(segment);
        Ok(key)
    }

    fn flatten_into(&mut self, prefix: String, value: Value) -> Result<(), TransformError> {
        match value {
            Value::Object(map) if !map.is_empty() => {
                for (k, v) in map {
                    let key = self.key(&prefix, &k)?;
                    self.flatten_into(key, v)?;
                }
                Ok(())
            }
            Value::Array(items) if !items.is_empty() => {
                for (i, v) in items.into_iter().enumerate() {
                    let key = self.key(&prefix, &i.to_string())?;
                    self.flatten_into(key, v)?;
                }
                Ok(())
            }
            leaf => {
                if self.out.contains_key(&prefix) {
                    return Err(TransformError::DuplicateKey { key: prefix });
                }
                if self.out.len() >= MAX_FLATTEN_KEYS {
                    return Err(budget::over("flattening", MAX_FLATTEN_KEYS, "keys"));
                }
                // "key":value, (quotes, colon and comma)
                self.bytes = self
                    .bytes
                    .saturating_add(prefix.len() + 4 + leaf_len(&leaf));
                if self.bytes > MAX_OUTPUT_BYTES {
                    return Err(over_bytes());
                }
                self.out.insert(prefix, leaf);
                Ok(())
            }
        }
    }
}

fn over_bytes() -> TransformError {
    budget::over("flattening", MAX_OUTPUT_BYTES, "output bytes")
}

/// A lower bound of a leaf's compact JSON length.
fn leaf_len(leaf: &Value) -> usize {
    match leaf {
        Value::Null | Value::Bool(true) => 4,
        Value::Bool(false) => 5,
        Value::Number(n) => number_len(n),
        Value::String(s) => s.len() + 2,
        Value::Array(_) | Value::Object(_) => 2,
    }
}

fn number_len(n: &Number) -> usize {
    match (n.as_u64(), n.as_i64()) {
        (Some(u), _) => u.checked_ilog10().map_or(1, |d| d as usize + 1),
        (None, Some(i)) => {
            i.unsigned_abs()
                .checked_ilog10()
                .map_or(1, |d| d as usize + 1)
                + 1
        }
        _ => 3, // a float: at least `0.5`
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

    /// The issue's case: a long key over a long array grows with their product. The
    /// sizes the unbounded flatten would produce (reckoned without building them), then
    /// the bounded one failing the record instead.
    #[test]
    fn long_key_over_long_array_stops_at_the_budget() {
        for (kb, unbounded) in [(30, 100_098_891), (60, 400_208_891), (90, 900_318_891)] {
            let size = kb * 1000;
            let (key, n) = ("k".repeat(size / 3), size / 3);
            // each leaf: "kkk….i":0, (the key, the separator, the index digits)
            let would_be: usize = (0..n)
                .map(|i| key.len() + 1 + i.to_string().len() + 5)
                .sum::<usize>()
                + 1;
            assert_eq!(would_be, unbounded, "{kb} KB");
            let record = json!({ key: vec![0; n] });
            assert_eq!(
                flatten(record, "."),
                Err(TransformError::OverBudget {
                    what: "flattening",
                    limit: MAX_OUTPUT_BYTES,
                    unit: "output bytes"
                }),
                "{kb} KB"
            );
        }
    }

    #[test]
    fn many_small_leaves_stop_at_the_key_budget() {
        let record = json!({ "a": vec![0; MAX_FLATTEN_KEYS + 1] });
        let err = flatten(record, ".").unwrap_err();
        assert_eq!(
            err.to_string(),
            "flattening exceeds the per-record limit of 100000 keys"
        );
        assert_eq!(err.kind(), "OverBudget");
        // at the budget: fine
        let record = json!({ "a": vec![0; MAX_FLATTEN_KEYS] });
        let Value::Object(flat) = flatten(record, ".").unwrap() else {
            panic!("an object");
        };
        assert_eq!(flat.len(), MAX_FLATTEN_KEYS);
    }

    #[test]
    fn output_bytes_are_counted_from_keys_and_values() {
        // one leaf of nearly the whole budget passes, two do not
        let big = "x".repeat(MAX_OUTPUT_BYTES / 2);
        assert!(flatten(json!({ "a": [big.clone()] }), ".").is_ok());
        assert!(matches!(
            flatten(json!({ "a": [big.clone(), big] }), "."),
            Err(TransformError::OverBudget { .. })
        ));
        assert_eq!(number_len(&Number::from(0)), 1);
        assert_eq!(number_len(&Number::from(10)), 2);
        assert_eq!(number_len(&Number::from(-10)), 3);
        assert_eq!(number_len(&Number::from(u64::MAX)), 20);
    }

    #[test]
    fn collisions_are_errors() {
        assert_eq!(
            flatten(json!({"a.b": 1, "a": {"b": 2}}), "."),
            Err(TransformError::DuplicateKey { key: "a.b".into() })
        );
    }
}
