//! How a value is written for its place in the output: the encodings of the table in the
//! [module docs](super), the Handlebars helpers that apply them on the interpreter path,
//! the same encodings from JSON text (the fast path), and the scan that tells where an
//! expression of a JSON template stands.

use handlebars::{
    Context, Handlebars, Helper, HelperDef, HelperResult, Output, RenderContext, RenderErrorReason,
};
use serde_json::Value;

use crate::error::TransformError;
use crate::raw;

/// How an expression's value is written.
#[derive(Debug, Clone, Copy)]
pub(super) enum Encoding {
    /// Outside a JSON string: the value as JSON.
    JsonValue,
    /// Inside a JSON string: escaped as string content, no quotes.
    JsonString,
    /// Triple-stash and text output: strings as they are, `null` as nothing.
    Raw,
}

/// The encoders the rewritten expressions call.
pub(super) struct Encode(pub(super) Encoding);

impl HelperDef for Encode {
    fn call<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        _: &'reg Handlebars<'reg>,
        _: &'rc Context,
        _: &mut RenderContext<'reg, 'rc>,
        out: &mut dyn Output,
    ) -> HelperResult {
        let param = h
            .param(0)
            .ok_or(RenderErrorReason::ParamNotFoundForIndex("encode", 0))?;
        if param.is_value_missing() {
            return Err(RenderErrorReason::MissingVariable(param.relative_path().cloned()).into());
        }
        let mut sink = OutputSink { out, error: None };
        encode(self.0, param.value(), &mut sink);
        match sink.error {
            Some(e) => Err(e.into()),
            None => Ok(()),
        }
    }
}

/// Writes straight to Handlebars' output (no string per expression), keeping the first
/// error.
struct OutputSink<'o> {
    out: &'o mut dyn Output,
    error: Option<std::io::Error>,
}

impl Sink for OutputSink<'_> {
    fn put(&mut self, s: &str) {
        if self.error.is_none()
            && let Err(e) = self.out.write(s)
        {
            self.error = Some(e);
        }
    }
}

/// Where encoded text goes: a byte buffer (fast path) or a `String` (helpers).
pub(super) trait Sink {
    fn put(&mut self, s: &str);
}

impl Sink for Vec<u8> {
    fn put(&mut self, s: &str) {
        self.extend_from_slice(s.as_bytes());
    }
}

impl Sink for String {
    fn put(&mut self, s: &str) {
        self.push_str(s);
    }
}

/// Writes `value` encoded as `encoding` (the table in the module docs).
pub(super) fn encode(encoding: Encoding, value: &Value, out: &mut impl Sink) {
    match (encoding, value) {
        (Encoding::JsonValue, Value::String(s)) => {
            out.put("\"");
            write_escaped(s, out);
            out.put("\"");
        }
        (Encoding::JsonString, Value::String(s)) => write_escaped(s, out),
        (Encoding::Raw, Value::String(s)) => out.put(s),
        (Encoding::JsonString | Encoding::Raw, Value::Null) => {}
        (Encoding::JsonString, v @ (Value::Object(_) | Value::Array(_))) => {
            write_escaped(&v.to_string(), out);
        }
        (_, v) => out.put(&v.to_string()),
    }
}

#[inline]
fn needs_escape(b: u8) -> bool {
    b < 0x20 || b == b'"' || b == b'\\'
}

/// Writes `s` escaped as JSON string content (no quotes), as serde_json escapes.
pub(super) fn write_escaped(s: &str, out: &mut impl Sink) {
    let bytes = s.as_bytes();
    // Branch-free scan (vectorizes): most values need no escaping at all.
    if !bytes.iter().fold(false, |acc, &b| acc | needs_escape(b)) {
        out.put(s);
        return;
    }
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if !needs_escape(b) {
            continue;
        }
        if start < i {
            out.put(&s[start..i]);
        }
        match b {
            b'"' => out.put("\\\""),
            b'\\' => out.put("\\\\"),
            b'\n' => out.put("\\n"),
            b'\r' => out.put("\\r"),
            b'\t' => out.put("\\t"),
            0x08 => out.put("\\b"),
            0x0c => out.put("\\f"),
            _ => out.put(&format!("\\u{b:04x}")),
        }
        start = i + 1;
    }
    if start < bytes.len() {
        out.put(&s[start..]);
    }
}

/// [`encode`] for a value given as (valid) JSON text: the same output. Bare in JSON output a
/// value is copied rather than rebuilt (the record's spelling kept: `1e2` stays `1e2`, the same
/// JSON value). As text (inside a JSON string, triple-stash, text output and partition keys) a
/// number, boolean or container is written as [`encode`] writes the decoded value: its spelling
/// is then the content, so `1e2` is `100.0` and an object's keys come sorted as serde_json
/// writes them, on both paths, and the same record always gives the same string and lands under
/// the same prefix.
pub(super) fn encode_raw(
    encoding: Encoding,
    text: &str,
    out: &mut Vec<u8>,
) -> Result<(), TransformError> {
    match (encoding, raw::kind(text)) {
        (Encoding::JsonValue, raw::Kind::Container) => raw::compact_into(text.as_bytes(), out),
        (Encoding::JsonValue, _) => out.extend_from_slice(text.as_bytes()),
        // a JSON string's content is already escaped as string content
        (Encoding::JsonString, raw::Kind::String) => {
            out.extend_from_slice(&text.as_bytes()[1..text.len() - 1]);
        }
        (Encoding::Raw, raw::Kind::String) => out.put(&raw::string_value(text)?),
        (Encoding::JsonString | Encoding::Raw, raw::Kind::Null) => {}
        (Encoding::JsonString | Encoding::Raw, raw::Kind::Container | raw::Kind::Other) => {
            let value: Value = serde_json::from_str(text).map_err(|e| TransformError::Render {
                template: String::new(),
                message: e.to_string(),
            })?;
            encode(encoding, &value, out);
        }
    }
    Ok(())
}

/// Where the scan of a JSON template's literal text stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum JsonState {
    /// Outside any string literal.
    Outside,
    /// Inside a string literal.
    InString,
    /// Just after a backslash inside a string literal.
    Escape,
}

impl JsonState {
    pub(super) fn advance(mut self, text: &str) -> Self {
        for ch in text.chars() {
            self = self.advance_char(ch);
        }
        self
    }

    pub(super) fn advance_char(self, ch: char) -> Self {
        match (self, ch) {
            (Self::Outside, '"') => Self::InString,
            (Self::Outside, _) => Self::Outside,
            (Self::InString, '"') => Self::Outside,
            (Self::InString, '\\') => Self::Escape,
            (Self::InString, _) | (Self::Escape, _) => Self::InString,
        }
    }

    pub(super) fn describe(self) -> &'static str {
        match self {
            Self::Outside => "outside",
            Self::InString | Self::Escape => "inside",
        }
    }
}
