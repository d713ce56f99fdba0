//! `$util` functions and Java-compatible string conversions.

use base64::Engine;
use serde_json::Value;

/// The text API Gateway's Velocity renders for a value (and its `toString()`): strings as is,
/// numbers and booleans as literals, null as `null`; a list as compact JSON at any depth
/// (`[{"foo":"bar"}]`: API Gateway's lists are JSON arrays), a map Java-style (`{foo=bar}`,
/// `java.util.Map`'s form) with each value rendered by these same rules, so that a list
/// inside a map is JSON (`{foo=[{"nested":"bar"}]}`).
pub(crate) fn java_string(v: &Value) -> String {
    match v {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        Value::Array(_) => v.to_string(),
        Value::Object(o) => {
            let items: Vec<String> = o
                .iter()
                .map(|(k, v)| format!("{k}={}", java_string(v)))
                .collect();
            format!("{{{}}}", items.join(", "))
        }
    }
}

/// `$util.escapeJavaScript()`: Apache Commons Lang `StringEscapeUtils.escapeJavaScript`, which is
/// what API Gateway uses. Note that it escapes `'` as `\'` (not valid in JSON) and `/` as `\/`.
pub(crate) fn escape_javascript(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for unit in s.encode_utf16() {
        match unit {
            0x08 => out.push_str("\\b"),
            0x09 => out.push_str("\\t"),
            0x0a => out.push_str("\\n"),
            0x0c => out.push_str("\\f"),
            0x0d => out.push_str("\\r"),
            0x27 => out.push_str("\\'"),
            0x22 => out.push_str("\\\""),
            0x5c => out.push_str("\\\\"),
            0x2f => out.push_str("\\/"),
            u if !(0x20..=0x7f).contains(&u) => out.push_str(&format!("\\u{u:04X}")),
            u => out.push(char::from(u as u8)),
        }
    }
    out
}

/// `$util.urlEncode()`: `java.net.URLEncoder.encode(s, "UTF-8")` (space as `+`).
pub(crate) fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'.' | b'-' | b'*' | b'_' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// `$util.urlDecode()`: `java.net.URLDecoder.decode(s, "UTF-8")`.
pub(crate) fn url_decode(s: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' => {
                let hex = s
                    .get(i + 1..i + 3)
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| format!("urlDecode: bad escape at position {i}"))?;
                out.push(hex);
                i += 3;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// `$util.base64Encode()`: standard alphabet with padding over the UTF-8 bytes.
pub(crate) fn base64_encode(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s.as_bytes())
}

/// `$util.base64Decode()`: standard alphabet; the bytes as UTF-8 text.
pub(crate) fn base64_decode(s: &str) -> Result<String, String> {
    base64::engine::general_purpose::STANDARD
        .decode(s.trim())
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .map_err(|e| format!("base64Decode: {e}"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn lists_render_as_json_and_maps_java_style() {
        assert_eq!(
            java_string(&json!({"a": 1, "b": [true, "x"], "c": {"d": [{"e": "f"}]}})),
            r#"{a=1, b=[true,"x"], c={d=[{"e":"f"}]}}"#
        );
        assert_eq!(java_string(&json!([{"foo": "bar"}])), r#"[{"foo":"bar"}]"#);
        assert_eq!(java_string(&json!(1.5)), "1.5");
    }

    #[test]
    fn escape_javascript_matches_commons_lang() {
        assert_eq!(
            escape_javascript("He said \"hi\"\n it's a/b \\ é\u{1}"),
            "He said \\\"hi\\\"\\n it\\'s a\\/b \\\\ \\u00E9\\u0001"
        );
        assert_eq!(escape_javascript("😀"), "\\uD83D\\uDE00");
    }

    #[test]
    fn url_encoding_round_trips() {
        assert_eq!(url_encode("a b&c=d/é*"), "a+b%26c%3Dd%2F%C3%A9*");
        assert_eq!(url_decode("a+b%26c%3Dd%2F%C3%A9*").unwrap(), "a b&c=d/é*");
        assert!(url_decode("%zz").is_err());
    }

    #[test]
    fn base64_round_trips() {
        assert_eq!(base64_encode("hello"), "aGVsbG8=");
        assert_eq!(base64_decode("aGVsbG8=").unwrap(), "hello");
        assert!(base64_decode("***").is_err());
    }
}
