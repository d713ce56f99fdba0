//! The JSONPath subset that `$input.path()` and `$input.json()` use.
//!
//! Supported: the root `$`, child members `$.a.b`, bracketed members `$['a b']` and `$["a"]`,
//! array indexes `$.a[0]` (negative indexes count from the end), and the wildcards `$.a.*` and
//! `$.a[*]`, which make the result a list, as in Jayway JsonPath (what API Gateway uses).
//! A path that does not resolve yields `None`; filters, slices and deep scans (`..`) are
//! rejected with [`ApigwError::JsonPath`].

use serde_json::Value;

use super::error::{ApigwError, Result};

#[derive(Debug, Clone, PartialEq)]
enum Step {
    Member(String),
    Index(i64),
    Wildcard,
}

/// A compiled JSONPath expression.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonPath {
    steps: Vec<Step>,
}

impl JsonPath {
    /// Parses an expression. A missing leading `$` is tolerated (`a.b` means `$.a.b`), as
    /// API Gateway tolerates it.
    pub fn parse(path: &str) -> Result<Self> {
        let err = |message: &str| ApigwError::JsonPath {
            path: path.to_owned(),
            message: message.to_owned(),
        };
        let chars: Vec<char> = path.trim().chars().collect();
        let mut i = 0;
        let mut steps = Vec::new();
        if chars.first() == Some(&'$') {
            i = 1;
        } else if !chars.is_empty() && chars[0] != '.' && chars[0] != '[' {
            // `a.b` → `$.a.b`
            let (name, next) = read_name(&chars, 0);
            if name.is_empty() {
                return Err(err("expected a member name"));
            }
            steps.push(Step::Member(name));
            i = next;
        }
        while i < chars.len() {
            match chars[i] {
                '.' => {
                    if chars.get(i + 1) == Some(&'.') {
                        return Err(err("deep scan (..) is not supported"));
                    }
                    if chars.get(i + 1) == Some(&'*') {
                        steps.push(Step::Wildcard);
                        i += 2;
                        continue;
                    }
                    let (name, next) = read_name(&chars, i + 1);
                    if name.is_empty() {
                        return Err(err("expected a member name after '.'"));
                    }
                    steps.push(Step::Member(name));
                    i = next;
                }
                '[' => {
                    let close = chars[i..]
                        .iter()
                        .position(|&c| c == ']')
                        .map(|p| p + i)
                        .ok_or_else(|| err("unclosed '['"))?;
                    let inner: String = chars[i + 1..close].iter().collect();
                    let inner = inner.trim();
                    if inner == "*" {
                        steps.push(Step::Wildcard);
                    } else if let Some(q) = inner.chars().next().filter(|c| *c == '\'' || *c == '"')
                    {
                        if inner.len() < 2 || !inner.ends_with(q) {
                            return Err(err("unterminated quoted member"));
                        }
                        steps.push(Step::Member(inner[1..inner.len() - 1].to_owned()));
                    } else if let Ok(n) = inner.parse::<i64>() {
                        steps.push(Step::Index(n));
                    } else {
                        return Err(err(
                            "only quoted members, integer indexes and * are supported in brackets",
                        ));
                    }
                    i = close + 1;
                }
                c if c.is_whitespace() => i += 1,
                _ => return Err(err("expected '.' or '['")),
            }
        }
        Ok(Self { steps })
    }

    /// Evaluates the path on a document; `None` when it does not resolve.
    pub fn eval(&self, doc: &Value) -> Option<Value> {
        let mut current: Vec<&Value> = vec![doc];
        let mut definite = true;
        for step in &self.steps {
            let mut next = Vec::new();
            for v in current {
                match step {
                    Step::Member(name) => {
                        if let Some(x) = v.as_object().and_then(|o| o.get(name)) {
                            next.push(x);
                        }
                    }
                    Step::Index(n) => {
                        if let Some(a) = v.as_array() {
                            let idx = if *n < 0 { a.len() as i64 + n } else { *n };
                            if idx >= 0
                                && let Some(x) = a.get(idx as usize)
                            {
                                next.push(x);
                            }
                        }
                    }
                    Step::Wildcard => {
                        definite = false;
                        match v {
                            Value::Array(a) => next.extend(a.iter()),
                            Value::Object(o) => next.extend(o.values()),
                            _ => {}
                        }
                    }
                }
            }
            current = next;
        }
        if definite {
            current.first().map(|v| (*v).clone())
        } else {
            Some(Value::Array(current.into_iter().cloned().collect()))
        }
    }
}

fn read_name(chars: &[char], start: usize) -> (String, usize) {
    let mut end = start;
    while end < chars.len() && chars[end] != '.' && chars[end] != '[' {
        end += 1;
    }
    (
        chars[start..end]
            .iter()
            .collect::<String>()
            .trim()
            .to_owned(),
        end,
    )
}

/// Parses and evaluates in one step.
pub fn select(doc: &Value, path: &str) -> Result<Option<Value>> {
    Ok(JsonPath::parse(path)?.eval(doc))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn doc() -> Value {
        json!({"a": {"b": [10, {"c": "x"}], "k y": true}, "records": [{"data": "d1"}, {"data": "d2"}]})
    }

    #[test]
    fn root_returns_the_whole_document() {
        assert_eq!(select(&doc(), "$").unwrap(), Some(doc()));
    }

    #[test]
    fn members_indexes_and_quoted_members() {
        assert_eq!(select(&doc(), "$.a.b[0]").unwrap(), Some(json!(10)));
        assert_eq!(select(&doc(), "$.a.b[1].c").unwrap(), Some(json!("x")));
        assert_eq!(select(&doc(), "$.a.b[-1].c").unwrap(), Some(json!("x")));
        assert_eq!(select(&doc(), "$['a']['k y']").unwrap(), Some(json!(true)));
        assert_eq!(select(&doc(), "$[\"a\"].b[0]").unwrap(), Some(json!(10)));
        assert_eq!(select(&doc(), "a.b[0]").unwrap(), Some(json!(10)));
    }

    #[test]
    fn missing_paths_yield_none() {
        assert_eq!(select(&doc(), "$.nope").unwrap(), None);
        assert_eq!(select(&doc(), "$.a.b[5]").unwrap(), None);
        assert_eq!(select(&doc(), "$.a.b.c").unwrap(), None);
        assert_eq!(select(&json!("text"), "$.a").unwrap(), None);
    }

    #[test]
    fn wildcards_return_lists() {
        assert_eq!(
            select(&doc(), "$.records[*].data").unwrap(),
            Some(json!(["d1", "d2"]))
        );
        assert_eq!(
            select(&doc(), "$.records.*.data").unwrap(),
            Some(json!(["d1", "d2"]))
        );
    }

    #[test]
    fn unsupported_syntax_is_rejected() {
        assert!(JsonPath::parse("$..a").is_err());
        assert!(JsonPath::parse("$.a[?(@.b)]").is_err());
        assert!(JsonPath::parse("$.a[0").is_err());
        assert!(JsonPath::parse("$.").is_err());
    }
}
