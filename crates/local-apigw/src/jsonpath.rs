//! JSONPath for `$input.path()`, `$input.json()` and `integration.response.body.*` mappings.
//!
//! Expressions are evaluated by [`serde_json_path`] (RFC 9535: members, indexes, wildcards,
//! slices `[1:3]`, filters `[?(@.price < 10)]`, unions and deep scans `..`). This module is the
//! adapter that gives them API Gateway's shape, which is Jayway JsonPath's (what API Gateway
//! runs):
//! - a *definite* path (only members and indexes) yields the one value it names, or nothing;
//! - any other path (a wildcard, slice, filter, union or `..`) yields a list of every match,
//!   an empty list when nothing matches.
//!
//! Jayway syntax RFC 9535 refuses is rewritten first: a missing leading `$` (`a.b` means
//! `$.a.b`), and dotted member names outside RFC 9535's grammar (`$.content-type`,
//! `$.2024`), which become bracketed names (`$['content-type']`). Not carried over from
//! Jayway: its filter operators beyond RFC 9535's comparisons (`=~`, `in`, `nin`,
//! `subsetof`, `size`, `empty`), its functions (`length()`, `min()`, …) and its map-shaped
//! result for multi-member brackets (`$['a','b']` yields a list here); these are rejected or
//! shaped as RFC 9535 says, and the error names the expression.

use serde_json::Value;

use super::error::{ApigwError, Result};

/// A compiled JSONPath expression.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonPath {
    query: serde_json_path::JsonPath,
    definite: bool,
}

impl JsonPath {
    /// Parses an expression (Jayway's syntax where it differs, see the module docs).
    pub fn parse(path: &str) -> Result<Self> {
        let rfc = to_rfc9535(path.trim());
        let query = serde_json_path::JsonPath::parse(&rfc).map_err(|e| ApigwError::JsonPath {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        Ok(Self {
            query,
            definite: is_definite(&rfc),
        })
    }

    /// Whether the path names one value (Jayway's "definite" path) rather than a list.
    pub fn is_definite(&self) -> bool {
        self.definite
    }

    /// Evaluates the path on a document, shaped as API Gateway shapes it: the value of a
    /// definite path (`None` when it does not resolve), the list of matches of any other.
    pub fn eval(&self, doc: &Value) -> Option<Value> {
        let nodes = self.query.query(doc);
        if self.definite {
            nodes.first().map(|v| (*v).clone())
        } else {
            Some(Value::Array(nodes.into_iter().cloned().collect()))
        }
    }
}

/// Parses and evaluates in one step.
pub fn select(doc: &Value, path: &str) -> Result<Option<Value>> {
    Ok(JsonPath::parse(path)?.eval(doc))
}

/// Rewrites Jayway-only syntax into RFC 9535: a leading `$` where it is missing, and dotted
/// member names RFC 9535 does not allow into bracketed ones. Text inside brackets (indexes,
/// quoted names, filters) is kept as written.
fn to_rfc9535(path: &str) -> String {
    let mut out = String::with_capacity(path.len() + 4);
    let rest = if let Some(rest) = path.strip_prefix('$') {
        rest
    } else if path.starts_with('.') || path.starts_with('[') {
        path
    } else {
        // `a.b` → `$.a.b`
        out.push('$');
        out.push_str(&member(path.split(['.', '[']).next().unwrap_or_default()));
        &path[path.find(['.', '[']).unwrap_or(path.len())..]
    };
    if !out.starts_with('$') {
        out.push('$');
    }
    let chars: Vec<char> = rest.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '[' => {
                // Copy up to the matching `]`, skipping quoted text and nested brackets.
                let start = i;
                let mut depth = 0;
                let mut quote: Option<char> = None;
                while i < chars.len() {
                    let c = chars[i];
                    match quote {
                        Some(_) if c == '\\' => i += 1,
                        Some(q) if c == q => quote = None,
                        Some(_) => {}
                        None if c == '\'' || c == '"' => quote = Some(c),
                        None if c == '[' => depth += 1,
                        None if c == ']' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        None => {}
                    }
                    i += 1;
                }
                let end = (i + 1).min(chars.len());
                out.extend(&chars[start..end]);
                i = end;
            }
            '.' => {
                let dots = if chars.get(i + 1) == Some(&'.') { 2 } else { 1 };
                let start = i + dots;
                let mut end = start;
                while end < chars.len() && chars[end] != '.' && chars[end] != '[' {
                    end += 1;
                }
                let name: String = chars[start..end].iter().collect();
                let name = name.trim();
                if name.is_empty() || name == "*" {
                    // `..[0]`, `.*`, or an error RFC 9535 reports.
                    out.extend(&chars[i..end]);
                } else if dots == 2 {
                    let m = member(name);
                    out.push_str(if m.starts_with('[') { ".." } else { "." });
                    out.push_str(&m);
                } else {
                    out.push_str(&member(name));
                }
                i = end;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

/// `.name` when RFC 9535 allows the name after a dot, else `['name']`.
fn member(name: &str) -> String {
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || !c.is_ascii());
    if first_ok && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || !c.is_ascii()) {
        format!(".{name}")
    } else {
        format!("['{}']", name.replace('\\', "\\\\").replace('\'', "\\'"))
    }
}

/// Jayway's definite path: no wildcard, deep scan, slice, filter or union (looked for outside
/// quoted names).
fn is_definite(rfc: &str) -> bool {
    let mut quote: Option<char> = None;
    let mut escaped = false;
    let mut prev = '\0';
    for c in rfc.chars() {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '\'' | '"' => quote = Some(c),
            '*' | '?' | ':' | ',' => return false,
            '.' if prev == '.' => return false,
            _ => {}
        }
        prev = c;
    }
    true
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn doc() -> Value {
        json!({"a": {"b": [10, {"c": "x"}], "k y": true, "content-type": "t"},
               "records": [{"data": "d1", "n": 1}, {"data": "d2", "n": 5}]})
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
    fn jayway_member_names_rfc_9535_refuses() {
        assert_eq!(
            select(&doc(), "$.a.content-type").unwrap(),
            Some(json!("t"))
        );
        assert_eq!(
            select(&json!({"2024": 1}), "$.2024").unwrap(),
            Some(json!(1))
        );
        assert_eq!(
            select(&json!({"x": {"a-b": 2}}), "$..a-b").unwrap(),
            Some(json!([2]))
        );
    }

    #[test]
    fn missing_paths_yield_none() {
        assert_eq!(select(&doc(), "$.nope").unwrap(), None);
        assert_eq!(select(&doc(), "$.a.b[5]").unwrap(), None);
        assert_eq!(select(&doc(), "$.a.b.c").unwrap(), None);
        assert_eq!(select(&json!("text"), "$.a").unwrap(), None);
    }

    #[test]
    fn wildcards_filters_slices_and_deep_scans_return_lists() {
        assert_eq!(
            select(&doc(), "$.records[*].data").unwrap(),
            Some(json!(["d1", "d2"]))
        );
        assert_eq!(
            select(&doc(), "$.records.*.data").unwrap(),
            Some(json!(["d1", "d2"]))
        );
        assert_eq!(
            select(&doc(), "$.records[?(@.n > 2)].data").unwrap(),
            Some(json!(["d2"]))
        );
        assert_eq!(
            select(&doc(), "$.records[0:1].data").unwrap(),
            Some(json!(["d1"]))
        );
        assert_eq!(select(&doc(), "$..c").unwrap(), Some(json!(["x"])));
        assert_eq!(select(&doc(), "$..nope").unwrap(), Some(json!([])));
        // A quoted name with wildcard characters is still one member.
        assert_eq!(
            select(&json!({"a*b": 1}), "$['a*b']").unwrap(),
            Some(json!(1))
        );
    }

    #[test]
    fn malformed_paths_are_rejected_with_the_path() {
        for bad in ["$.a[0", "$.", "$.a[?(@.b =~ /x/)]", "$[?@.a.length() > 1]"] {
            let e = JsonPath::parse(bad).unwrap_err().to_string();
            assert!(e.contains(bad), "{bad}: {e}");
        }
    }
}
