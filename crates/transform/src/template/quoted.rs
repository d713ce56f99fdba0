//! Quoted keys: `{{'reading date'}}` (or `{{"reading date"}}`), a quoted literal used as
//! the whole expression, reads the field `reading date`, as in Handlebars.js. The template
//! source is rewritten to the path `{{[reading date]}}` before it is parsed; quoted
//! literals as helper arguments stay strings.

use std::borrow::Cow;

use crate::error::TemplateError;

/// Rewrites `{{'key'}}` / `{{"key"}}` (a quoted literal as the whole expression) to the
/// path `{{[key]}}`, the Handlebars.js reading of a literal in path position.
pub(super) fn quote_keys<'a>(tname: &str, source: &'a str) -> Result<Cow<'a, str>, TemplateError> {
    let bytes = source.as_bytes();
    let mut out = String::new();
    let mut copied = 0;
    let mut i = 0;
    while let Some(found) = source[i..].find("{{") {
        let start = i + found;
        i = start + 2;
        if start > 0 && bytes[start - 1] == b'\\' {
            continue; // an escaped mustache is text
        }
        if source[start..].starts_with("{{{{") {
            // raw block: skip to its end tag untouched
            match source[start + 4..].find("{{{{/") {
                Some(end) => i = start + 4 + end + 5,
                None => i = bytes.len(),
            }
            continue;
        }
        let mut j = i;
        if bytes.get(j) == Some(&b'~') {
            j += 1;
        }
        let opener = bytes.get(j).copied();
        let triple = opener == Some(b'{');
        if triple || opener == Some(b'&') {
            j += 1;
        }
        while bytes.get(j).is_some_and(u8::is_ascii_whitespace) {
            j += 1;
        }
        let quote = match bytes.get(j) {
            Some(&q @ (b'\'' | b'"')) => q,
            _ => continue,
        };
        let body_start = j + 1;
        let mut k = body_start;
        let mut key = String::new();
        let mut closed = false;
        while k < bytes.len() {
            match bytes[k] {
                b'\\' if k + 1 < bytes.len() => {
                    // the escaped character is whole: it may be several bytes long
                    let ch = source[k + 1..].chars().next().unwrap_or_default();
                    key.push(ch);
                    k += 1 + ch.len_utf8();
                }
                b if b == quote => {
                    closed = true;
                    break;
                }
                _ => {
                    let ch = source[k..].chars().next().unwrap_or_default();
                    key.push(ch);
                    k += ch.len_utf8();
                }
            }
        }
        if !closed {
            continue; // let the parser report it
        }
        let mut m = k + 1;
        while bytes.get(m).is_some_and(u8::is_ascii_whitespace) {
            m += 1;
        }
        if triple {
            if bytes.get(m) != Some(&b'}') {
                continue;
            }
            m += 1;
        }
        if bytes.get(m) == Some(&b'~') {
            m += 1;
        }
        if !source[m..].starts_with("}}") {
            continue; // a literal followed by more: not a bare quoted key
        }
        if key.contains(']') {
            return Err(TemplateError::QuotedKey {
                template: tname.to_owned(),
                key,
            });
        }
        out.push_str(&source[copied..j]);
        out.push('[');
        out.push_str(&key);
        out.push(']');
        copied = k + 1;
        i = m + 2;
    }
    if copied == 0 {
        return Ok(Cow::Borrowed(source));
    }
    out.push_str(&source[copied..]);
    Ok(Cow::Owned(out))
}
