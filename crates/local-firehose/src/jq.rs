//! The JQ queries of Firehose's `MetadataExtraction` processor, for simple paths.
//!
//! Supported: an object construction whose values are paths, as Firehose's dynamic
//! partitioning examples use them: `{ticker: .ticker}`, `{ticker: .ticker, src: .meta.source}`,
//! `{"k": .a."b c"[0]}`, and the shorthand `{ticker}` (= `{ticker: .ticker}`). Each value must be
//! a string, number or boolean (written as text); anything else, or a missing field, fails the
//! record with `partitioning-failed`, as on AWS. Other JQ (pipes, functions) is refused when the
//! delivery stream is loaded, with a clear message.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::error::{Error, Result};

/// One step of a path.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Field(String),
    Index(usize),
}

/// A compiled `MetadataExtractionQuery`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    keys: Vec<(String, Vec<Step>)>,
}

impl Query {
    /// Compiles `query`.
    ///
    /// # Errors
    /// [`Error::Config`] naming what is not supported.
    pub fn parse(query: &str) -> Result<Self> {
        let err = |why: &str| {
            Error::Config(format!(
                "MetadataExtractionQuery {query:?}: {why} (kstream local supports {{key: .path, ...}} with simple paths)"
            ))
        };
        let body = query
            .trim()
            .strip_prefix('{')
            .and_then(|s| s.strip_suffix('}'))
            .ok_or_else(|| err("not an object construction {...}"))?;
        let mut keys = Vec::new();
        for entry in split_top_level(body) {
            let entry = entry.trim();
            if entry.is_empty() {
                continue;
            }
            let (name, path) = match find_top_level_colon(entry) {
                Some(i) => (unquote(entry[..i].trim()), entry[i + 1..].trim().to_owned()),
                None => (unquote(entry), format!(".{}", entry.trim())),
            };
            let name = name.ok_or_else(|| err("a key is neither a name nor a quoted string"))?;
            let steps =
                parse_path(&path).ok_or_else(|| err(&format!("{path:?} is not a simple path")))?;
            keys.push((name, steps));
        }
        if keys.is_empty() {
            return Err(err("no keys"));
        }
        Ok(Self { keys })
    }

    /// The partition keys of one JSON record.
    ///
    /// # Errors
    /// A message for the error output when the record is not JSON or a key is missing or not a
    /// scalar.
    pub fn extract(&self, record: &[u8]) -> Result<BTreeMap<String, String>, String> {
        let value: Value =
            serde_json::from_slice(record).map_err(|e| format!("record is not JSON: {e}"))?;
        let mut out = BTreeMap::new();
        for (name, steps) in &self.keys {
            let mut v = &value;
            for step in steps {
                v = match (step, v) {
                    (Step::Field(f), Value::Object(m)) => m.get(f).unwrap_or(&Value::Null),
                    (Step::Index(i), Value::Array(a)) => a.get(*i).unwrap_or(&Value::Null),
                    _ => &Value::Null,
                };
            }
            let text = match v {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                Value::Null => return Err(format!("partition key {name:?} is missing (null)")),
                _ => return Err(format!("partition key {name:?} is not a scalar")),
            };
            out.insert(name.clone(), text);
        }
        Ok(out)
    }
}

fn unquote(s: &str) -> Option<String> {
    if let Some(inner) = s.strip_prefix('"').and_then(|x| x.strip_suffix('"')) {
        return serde_json::from_str::<String>(&format!("\"{inner}\"")).ok();
    }
    (!s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .then(|| s.to_owned())
}

fn split_top_level(s: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut in_str, mut start) = (0i32, false, 0);
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if in_str => i += 1,
            b'"' => in_str = !in_str,
            b'[' | b'{' | b'(' if !in_str => depth += 1,
            b']' | b'}' | b')' if !in_str => depth -= 1,
            b',' if !in_str && depth == 0 => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    parts.push(&s[start..]);
    parts
}

fn find_top_level_colon(s: &str) -> Option<usize> {
    let mut in_str = false;
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if in_str => i += 1,
            b'"' => in_str = !in_str,
            b':' if !in_str => return Some(i),
            _ => {}
        }
        i += 1;
    }
    None
}

/// `.a.b`, `."x y"`, `.a[0]`, `.["k"]`.
fn parse_path(path: &str) -> Option<Vec<Step>> {
    let chars: Vec<char> = path.chars().collect();
    if chars.first() != Some(&'.') {
        return None;
    }
    let mut steps = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '.' => {
                i += 1;
                match chars.get(i) {
                    Some('"') => {
                        let (s, next) = read_string(&chars, i)?;
                        steps.push(Step::Field(s));
                        i = next;
                    }
                    Some('[') => {}
                    Some(c) if c.is_ascii_alphanumeric() || *c == '_' => {
                        let start = i;
                        while i < chars.len()
                            && (chars[i].is_ascii_alphanumeric() || chars[i] == '_')
                        {
                            i += 1;
                        }
                        steps.push(Step::Field(chars[start..i].iter().collect()));
                    }
                    None if steps.is_empty() => return Some(steps), // `.` alone
                    _ => return None,
                }
            }
            '[' => {
                i += 1;
                if chars.get(i) == Some(&'"') {
                    let (s, next) = read_string(&chars, i)?;
                    steps.push(Step::Field(s));
                    i = next;
                } else {
                    let start = i;
                    while i < chars.len() && chars[i].is_ascii_digit() {
                        i += 1;
                    }
                    steps.push(Step::Index(
                        chars[start..i].iter().collect::<String>().parse().ok()?,
                    ));
                }
                if chars.get(i) != Some(&']') {
                    return None;
                }
                i += 1;
            }
            _ => return None,
        }
    }
    Some(steps)
}

fn read_string(chars: &[char], start: usize) -> Option<(String, usize)> {
    let mut i = start + 1;
    let mut raw = String::from("\"");
    while i < chars.len() {
        raw.push(chars[i]);
        if chars[i] == '\\' {
            i += 1;
            raw.push(*chars.get(i)?);
        } else if chars[i] == '"' {
            return Some((serde_json::from_str(&raw).ok()?, i + 1));
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_query() {
        let q = Query::parse("{ ticker: .ticker }").unwrap();
        let keys = q.extract(br#"{"ticker":"AMZN","price":1}"#).unwrap();
        assert_eq!(
            keys,
            BTreeMap::from([("ticker".to_owned(), "AMZN".to_owned())])
        );
    }

    #[test]
    fn nested_quoted_indexed_and_shorthand() {
        let q = Query::parse(r#"{src: .meta.source, "day key": ."a b"[1], n: .n, ok, id: .["x"]}"#)
            .unwrap();
        let keys = q
            .extract(br#"{"meta":{"source":"web"},"a b":["x","y"],"n":42,"ok":true,"x":"1"}"#)
            .unwrap();
        assert_eq!(keys["src"], "web");
        assert_eq!(keys["day key"], "y");
        assert_eq!(keys["n"], "42");
        assert_eq!(keys["ok"], "true");
        assert_eq!(keys["id"], "1");
    }

    #[test]
    fn missing_or_non_scalar_keys_fail_the_record() {
        let q = Query::parse("{ticker: .ticker}").unwrap();
        assert!(
            q.extract(br#"{"price":1}"#)
                .unwrap_err()
                .contains("\"ticker\" is missing")
        );
        assert!(
            q.extract(br#"{"ticker":{"a":1}}"#)
                .unwrap_err()
                .contains("not a scalar")
        );
        assert!(q.extract(b"not json").unwrap_err().contains("not JSON"));
    }

    #[test]
    fn unsupported_jq_is_refused_at_load() {
        for q in [
            ".ticker",
            "{t: .ticker | ascii_downcase}",
            "{}",
            "{t: ticker}",
            "{t: .a..b}",
        ] {
            assert!(Query::parse(q).is_err(), "{q}");
        }
    }
}
