//! Lambda event filtering for Kinesis records (`FilterCriteria`).
//!
//! A record is kept when any filter's pattern matches it; with no filters every record is kept.
//! A pattern is matched against the record as Lambda presents it to filters:
//! `{"kinesisSchemaVersion", "partitionKey", "sequenceNumber", "approximateArrivalTimestamp", "data"}`,
//! where `data` is the decoded payload parsed as JSON (when it is not JSON, `data` is the base64
//! text, so a pattern that looks inside `data` does not match it).
//!
//! Supported (the documented syntax, less `wildcard` and `$or`):
//!
//! | pattern | matches |
//! |---|---|
//! | `"value"`, `12`, `true`, `null` | equal value (numbers compared numerically) |
//! | `{"prefix": "s"}`, `{"suffix": "s"}` | a string starting / ending with `s` |
//! | `{"equals-ignore-case": "s"}` | a string equal ignoring case |
//! | `{"exists": true}` / `{"exists": false}` | the field is present / absent |
//! | `{"numeric": [">", 0, "<=", 5]}` | a number in range (`=`, `<`, `<=`, `>`, `>=`) |
//! | `{"anything-but": v}`, `{"anything-but": [v, …]}`, `{"anything-but": {"prefix": "s"}}` | a present value that is not one of these |
//!
//! Several values in one array match when any of them matches; a field holding an array matches
//! when any of its elements does; nested objects match nested fields.

use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// The parsed filters of one mapping.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FilterCriteria {
    patterns: Vec<Map<String, Value>>,
}

impl FilterCriteria {
    /// Parses and checks each filter's `Pattern` (a JSON document).
    pub fn parse<S: AsRef<str>>(patterns: &[S]) -> Result<Self> {
        let mut parsed = Vec::new();
        for raw in patterns {
            let raw = raw.as_ref();
            let invalid = |reason: String| Error::FilterPattern {
                pattern: raw.to_owned(),
                reason,
            };
            let value: Value =
                serde_json::from_str(raw).map_err(|e| invalid(format!("not JSON: {e}")))?;
            let Value::Object(object) = value else {
                return Err(invalid("a pattern is a JSON object".to_owned()));
            };
            check_object(&object).map_err(invalid)?;
            parsed.push(object);
        }
        Ok(Self { patterns: parsed })
    }

    /// Whether there are no filters (every record passes).
    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// Whether `record` (the filter view described in the module docs) passes.
    pub fn matches(&self, record: &Value) -> bool {
        self.patterns.is_empty() || self.patterns.iter().any(|p| object_matches(p, record))
    }
}

fn check_object(object: &Map<String, Value>) -> Result<(), String> {
    for (key, value) in object {
        match value {
            Value::Object(inner) => check_object(inner)?,
            Value::Array(matchers) => {
                if matchers.is_empty() {
                    return Err(format!("the array for {key:?} is empty"));
                }
                for m in matchers {
                    check_matcher(m).map_err(|e| format!("{key:?}: {e}"))?;
                }
            }
            _ => {
                return Err(format!(
                    "the value for {key:?} must be an array of matchers or an object"
                ));
            }
        }
    }
    Ok(())
}

fn check_matcher(m: &Value) -> Result<(), String> {
    let Value::Object(op) = m else {
        return match m {
            Value::Array(_) => Err("nested arrays are not matchers".to_owned()),
            _ => Ok(()),
        };
    };
    if op.len() != 1 {
        return Err("a matcher object has exactly one operator".to_owned());
    }
    let (name, arg) = op.iter().next().ok_or("empty matcher")?;
    match name.as_str() {
        "prefix" | "suffix" | "equals-ignore-case" if arg.is_string() => Ok(()),
        "exists" if arg.is_boolean() => Ok(()),
        "numeric" => parse_numeric(arg).map(|_| ()),
        "anything-but" => match arg {
            Value::Object(inner) if inner.len() == 1 => match inner.iter().next() {
                Some((k, v)) if (k == "prefix" || k == "suffix") && v.is_string() => Ok(()),
                _ => Err(
                    "anything-but takes a value, a list, or {\"prefix\"|\"suffix\": s}".to_owned(),
                ),
            },
            Value::Object(_) => {
                Err("anything-but takes a value, a list, or {\"prefix\"|\"suffix\": s}".to_owned())
            }
            _ => Ok(()),
        },
        other => Err(format!(
            "unsupported operator {other:?} (or a wrong argument type)"
        )),
    }
}

type Bound = (String, f64);

fn parse_numeric(arg: &Value) -> Result<Vec<Bound>, String> {
    let Value::Array(items) = arg else {
        return Err("numeric takes [op, n] or [op, n, op, n]".to_owned());
    };
    if items.len() != 2 && items.len() != 4 {
        return Err("numeric takes [op, n] or [op, n, op, n]".to_owned());
    }
    items
        .chunks(2)
        .map(|pair| {
            let op = pair[0]
                .as_str()
                .ok_or("numeric operator must be a string")?;
            if !matches!(op, "=" | "<" | "<=" | ">" | ">=") {
                return Err(format!("unknown numeric operator {op:?}"));
            }
            let n = pair[1].as_f64().ok_or("numeric bound must be a number")?;
            Ok((op.to_owned(), n))
        })
        .collect()
}

fn object_matches(pattern: &Map<String, Value>, event: &Value) -> bool {
    pattern.iter().all(|(key, p)| {
        let field = match event {
            Value::Object(o) => o.get(key),
            _ => None,
        };
        match p {
            Value::Object(inner) => match field {
                Some(Value::Array(items)) => items.iter().any(|v| object_matches(inner, v)),
                Some(v) => object_matches(inner, v),
                // Only `exists: false` style leaves can match an absent subtree.
                None => object_matches(inner, &Value::Null),
            },
            Value::Array(matchers) => matchers.iter().any(|m| matcher_matches(m, field)),
            _ => false,
        }
    })
}

fn values(field: Option<&Value>) -> Vec<&Value> {
    match field {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(v) => vec![v],
        None => Vec::new(),
    }
}

fn equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

fn matcher_matches(m: &Value, field: Option<&Value>) -> bool {
    let Value::Object(op) = m else {
        return values(field).into_iter().any(|v| equal(m, v));
    };
    let Some((name, arg)) = op.iter().next() else {
        return false;
    };
    let strings = || values(field).into_iter().filter_map(Value::as_str);
    match name.as_str() {
        "exists" => arg.as_bool() == Some(field.is_some() && !matches!(field, Some(Value::Null))),
        "prefix" => arg
            .as_str()
            .is_some_and(|p| strings().any(|s| s.starts_with(p))),
        "suffix" => arg
            .as_str()
            .is_some_and(|p| strings().any(|s| s.ends_with(p))),
        "equals-ignore-case" => arg
            .as_str()
            .is_some_and(|p| strings().any(|s| s.eq_ignore_ascii_case(p))),
        "numeric" => {
            let Ok(bounds) = parse_numeric(arg) else {
                return false;
            };
            values(field)
                .into_iter()
                .filter_map(Value::as_f64)
                .any(|n| {
                    bounds.iter().all(|(op, b)| match op.as_str() {
                        "=" => n == *b,
                        "<" => n < *b,
                        "<=" => n <= *b,
                        ">" => n > *b,
                        ">=" => n >= *b,
                        _ => false,
                    })
                })
        }
        "anything-but" => {
            let present = values(field);
            if present.is_empty() {
                return false;
            }
            match arg {
                Value::Array(excluded) => present
                    .iter()
                    .all(|v| !excluded.iter().any(|x| equal(x, v))),
                Value::Object(inner) => match inner.iter().next() {
                    Some((k, Value::String(s))) if k == "prefix" => present
                        .iter()
                        .all(|v| v.as_str().is_some_and(|v| !v.starts_with(s.as_str()))),
                    Some((k, Value::String(s))) if k == "suffix" => present
                        .iter()
                        .all(|v| v.as_str().is_some_and(|v| !v.ends_with(s.as_str()))),
                    _ => false,
                },
                single => present.iter().all(|v| !equal(single, v)),
            }
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn record(data: Value) -> Value {
        json!({
            "kinesisSchemaVersion": "1.0",
            "partitionKey": "device-7",
            "sequenceNumber": "42",
            "approximateArrivalTimestamp": 1_700_000_000.5,
            "data": data,
        })
    }

    fn keeps(pattern: &str, data: Value) -> bool {
        FilterCriteria::parse(&[pattern])
            .unwrap()
            .matches(&record(data))
    }

    #[test]
    fn no_filters_keep_everything() {
        assert!(FilterCriteria::default().matches(&record(json!(1))));
    }

    #[test]
    fn exact_values_and_nested_fields() {
        let p = r#"{"data":{"kind":["order"],"meta":{"v":[2]}}}"#;
        assert!(keeps(p, json!({"kind":"order","meta":{"v":2.0}})));
        assert!(!keeps(p, json!({"kind":"order","meta":{"v":3}})));
        assert!(!keeps(p, json!({"kind":"refund","meta":{"v":2}})));
        assert!(keeps(
            r#"{"data":{"tags":["red"]}}"#,
            json!({"tags":["blue","red"]})
        ));
        assert!(keeps(r#"{"data":{"x":[null]}}"#, json!({"x":null})));
    }

    #[test]
    fn metadata_fields() {
        assert!(keeps(
            r#"{"partitionKey":[{"prefix":"device-"}]}"#,
            json!({})
        ));
        assert!(!keeps(r#"{"partitionKey":["device-8"]}"#, json!({})));
    }

    #[test]
    fn prefix_suffix_and_case() {
        assert!(keeps(
            r#"{"data":{"s":[{"prefix":"ab"}]}}"#,
            json!({"s":"abc"})
        ));
        assert!(!keeps(
            r#"{"data":{"s":[{"prefix":"ab"}]}}"#,
            json!({"s":"xabc"})
        ));
        assert!(keeps(
            r#"{"data":{"s":[{"suffix":".png"}]}}"#,
            json!({"s":"a.png"})
        ));
        assert!(keeps(
            r#"{"data":{"s":[{"equals-ignore-case":"OK"}]}}"#,
            json!({"s":"ok"})
        ));
    }

    #[test]
    fn numeric_ranges() {
        let p = r#"{"data":{"t":[{"numeric":[">",0,"<=",5]}]}}"#;
        assert!(keeps(p, json!({"t": 5})));
        assert!(keeps(p, json!({"t": 0.1})));
        assert!(!keeps(p, json!({"t": 0})));
        assert!(!keeps(p, json!({"t": "3"})));
        assert!(keeps(
            r#"{"data":{"t":[{"numeric":["=",3]}]}}"#,
            json!({"t": 3})
        ));
    }

    #[test]
    fn exists() {
        assert!(keeps(
            r#"{"data":{"id":[{"exists":true}]}}"#,
            json!({"id": 1})
        ));
        assert!(!keeps(r#"{"data":{"id":[{"exists":true}]}}"#, json!({})));
        assert!(keeps(r#"{"data":{"id":[{"exists":false}]}}"#, json!({})));
        assert!(!keeps(
            r#"{"data":{"id":[{"exists":false}]}}"#,
            json!({"id": 1})
        ));
    }

    #[test]
    fn anything_but() {
        assert!(keeps(
            r#"{"data":{"s":[{"anything-but":["a","b"]}]}}"#,
            json!({"s":"c"})
        ));
        assert!(!keeps(
            r#"{"data":{"s":[{"anything-but":["a","b"]}]}}"#,
            json!({"s":"b"})
        ));
        assert!(!keeps(
            r#"{"data":{"s":[{"anything-but":"a"}]}}"#,
            json!({"s":"a"})
        ));
        assert!(!keeps(
            r#"{"data":{"s":[{"anything-but":"a"}]}}"#,
            json!({})
        ));
        assert!(keeps(
            r#"{"data":{"s":[{"anything-but":{"prefix":"tmp"}}]}}"#,
            json!({"s":"x"})
        ));
        assert!(!keeps(
            r#"{"data":{"s":[{"anything-but":{"prefix":"tmp"}}]}}"#,
            json!({"s":"tmp1"})
        ));
    }

    #[test]
    fn any_filter_may_match() {
        let f = FilterCriteria::parse(&[r#"{"data":{"a":[1]}}"#, r#"{"data":{"b":[2]}}"#]).unwrap();
        assert!(f.matches(&record(json!({"b": 2}))));
        assert!(!f.matches(&record(json!({"c": 3}))));
    }

    #[test]
    fn non_json_data_does_not_match_data_patterns() {
        assert!(!keeps(r#"{"data":{"a":[1]}}"#, json!("aGVsbG8=")));
    }

    #[test]
    fn invalid_patterns_are_rejected_with_the_reason() {
        for (p, why) in [
            ("not json", "not JSON"),
            ("[1]", "JSON object"),
            (r#"{"data":{"a":1}}"#, "array of matchers"),
            (r#"{"data":{"a":[]}}"#, "empty"),
            (
                r#"{"data":{"a":[{"wildcard":"*"}]}}"#,
                "unsupported operator",
            ),
            (
                r#"{"data":{"a":[{"numeric":["~",1]}]}}"#,
                "numeric operator",
            ),
        ] {
            let err = FilterCriteria::parse(&[p]).unwrap_err().to_string();
            assert!(err.contains(why), "{p}: {err}");
        }
    }
}
