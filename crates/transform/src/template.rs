//! Handlebars templates for record transforms, compiled once, with JSON-aware encoding.
//!
//! Templates are [Handlebars](https://handlebarsjs.com/guide/) (the `handlebars` crate) in
//! strict mode: a field the template names that the record lacks is an error for that record,
//! never an empty string. Templates are checked when they are added (once per cold start):
//! a malformed template, an unknown helper, partials, decorators, or an invalid
//! `format_date` format fail there with a message naming the template.
//!
//! # Encoding rule for JSON output ([`OutputFormat::Json`])
//! The template's literal text is scanned as JSON to find where each `{{expression}}`
//! stands, and its value is encoded for that place:
//!
//! | where the expression stands | string `a"b` | number `10` | `true` | `null` | object / array |
//! |---|---|---|---|---|---|
//! | outside a JSON string: `"a": {{x}}` | `"a\"b"` | `10` | `true` | `null` | its JSON |
//! | inside a JSON string: `"a": "x={{x}}"` | `a\"b` | `10` | `true` | *(empty)* | its JSON, string-escaped |
//! | triple-stash, anywhere: `{{{x}}}` | `a"b` (as is) | `10` | `true` | *(empty)* | its JSON |
//!
//! So a value substituted bare is JSON-encoded (strings quoted and escaped), and a value
//! substituted inside a JSON string literal is escaped as string content without adding
//! quotes: the seed's template
//! `{ "reading date":  "{{'reading date'}}", "a": {{data}}, "b": {{b}}, "c": {{c}} }`
//! gives valid JSON for any values. Triple-stash opts out (to splice pre-rendered JSON).
//! JSON output is validated and compacted to one line (whitespace outside strings
//! removed, key order kept); for templates made only of text and field substitutions
//! (the usual case, like the seed's) validity is proven once when the template is added
//! and the output is built compact, so no per-record pass is needed.
//! HTML escaping never applies. A block (`{{#if}}`, `{{#each}}`, ...) must start and end
//! in the same context (it cannot open or close a string), checked when the template is
//! added. The context of an expression is known statically, so encoding costs nothing
//! per record beyond the escaping itself.
//!
//! For [`OutputFormat::Text`] (partition keys, filters, text output) values are written
//! as text: strings as they are, `null` as nothing, other values as their JSON.
//!
//! # Quoted keys
//! As in Handlebars.js, a quoted literal used as the whole expression is a lookup of
//! that key: `{{'reading date'}}` (or `{{"reading date"}}`) reads the field `reading date`,
//! like `{{[reading date]}}`. Quoted literals as helper arguments stay strings.
//!
//! # Helpers
//! The Handlebars built-ins (`if`, `unless`, `each`, `with`, `lookup`, `eq`, `ne`, `gt`,
//! `gte`, `lt`, `lte`, `and`, `or`, `not`, `len`, `raw`, `log`) and:
//! - `format_date value "format" [input="format"]`: formats a timestamp in UTC with a
//!   strftime format (`%Y-%m-%d`, `%H`, ...). `value` is an RFC 3339 string
//!   (`2026-11-22T04:00:00Z`), a `YYYY-MM-DD[ HH:MM:SS]` string, a number of seconds
//!   since the epoch, or of milliseconds when it is 100000000000 or more; with `input=`,
//!   a string in that strftime format (`input="%m/%d/%y"` reads `1/4/22`).
//!
//! # Example
//! ```
//! use kstream_transform::template::{OutputFormat, Templates};
//! use serde_json::json;
//!
//! let mut templates = Templates::new();
//! templates
//!     .add("TEMPLATE", r#"{ "reading date":  "{{'reading date'}}", "a": {{data}}, "b": {{b}}, "c": {{c}} }"#, OutputFormat::Json)
//!     .unwrap();
//! let out = templates
//!     .render("TEMPLATE", &json!({"reading date":"1/4/22","data":"some string","b":10,"c":100}))
//!     .unwrap();
//! assert_eq!(out, r#"{"reading date":"1/4/22","a":"some string","b":10,"c":100}"#);
//! ```

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};
use std::fmt::Write as _;

use chrono::format::{Item, StrftimeItems};
use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone as _, Utc};
use handlebars::template::{HelperTemplate, Parameter, Subexpression, Template, TemplateElement};
use handlebars::{
    Context, Handlebars, Helper, HelperDef, HelperResult, Output, Path, PathSeg, RenderContext,
    RenderError, RenderErrorReason, ScopedJson,
};
use serde_json::Value;

use crate::error::{TemplateError, TransformError};
use crate::raw::{self, RawRecord};

/// What a template produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OutputFormat {
    /// JSON: expressions are encoded for their place (see the module docs).
    #[default]
    Json,
    /// Text: values written as text.
    Text,
}

const JSON_VALUE: &str = "__kstream_json_value";
const JSON_STRING: &str = "__kstream_json_string";
const RAW: &str = "__kstream_raw";
const FORMAT_DATE: &str = "format_date";

/// Helpers every template can use (the built-ins and kstream's).
const HELPERS: &[&str] = &[
    "if",
    "unless",
    "each",
    "with",
    "lookup",
    "raw",
    "log",
    "eq",
    "ne",
    "gt",
    "gte",
    "lt",
    "lte",
    "and",
    "or",
    "not",
    "len",
    FORMAT_DATE,
];

/// A set of named templates sharing one Handlebars registry.
pub struct Templates {
    registry: Handlebars<'static>,
    helpers: BTreeSet<&'static str>,
    wrapper: Box<HelperTemplate>,
    plans: HashMap<String, Plan>,
    json: BTreeSet<String>,
}

impl std::fmt::Debug for Templates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Templates")
            .field("templates", &self.registry.get_templates().keys())
            .finish_non_exhaustive()
    }
}

impl Default for Templates {
    fn default() -> Self {
        Self::new()
    }
}

impl Templates {
    /// An empty set: strict mode, no HTML escaping, kstream's helpers registered.
    pub fn new() -> Self {
        let mut registry = Handlebars::new();
        registry.set_strict_mode(true);
        registry.register_escape_fn(handlebars::no_escape);
        registry.register_helper(JSON_VALUE, Box::new(Encode(Encoding::JsonValue)));
        registry.register_helper(JSON_STRING, Box::new(Encode(Encoding::JsonString)));
        registry.register_helper(RAW, Box::new(Encode(Encoding::Raw)));
        registry.register_helper(FORMAT_DATE, Box::new(FormatDate));
        // The shape of a wrapped expression, `{{{helper x}}}`, taken from the parser so
        // the (non-exhaustive) AST types never need constructing by hand.
        let donor = Template::compile("{{{__kstream_raw x}}}").expect("valid donor template");
        let wrapper = match donor.elements.into_iter().next() {
            Some(TemplateElement::HtmlExpression(ht)) => ht,
            other => unreachable!("donor template parsed as {other:?}"),
        };
        Self {
            registry,
            helpers: HELPERS.iter().copied().collect(),
            wrapper,
            plans: HashMap::new(),
            json: BTreeSet::new(),
        }
    }

    /// Compiles `source` as the template `name` (also used in error messages, e.g.
    /// `TEMPLATE`), checks it and rewrites its expressions for `format`.
    ///
    /// # Errors
    /// [`TemplateError`] naming `name` (see the module docs for what is checked).
    pub fn add(
        &mut self,
        name: &str,
        source: &str,
        format: OutputFormat,
    ) -> Result<(), TemplateError> {
        let source = quote_keys(name, source)?;
        let mut template = Template::compile_with_name(&source, name.to_owned()).map_err(|e| {
            TemplateError::Syntax {
                template: name.to_owned(),
                message: syntax_message(&e),
            }
        })?;
        self.check(name, &template.elements)?;
        match format {
            OutputFormat::Json => {
                // A template that ends inside a string renders invalid JSON, which output
                // validation reports per record with the rendered text.
                self.rewrite_json(name, &mut template.elements, JsonState::Outside)?;
            }
            OutputFormat::Text => self.rewrite_text(&mut template.elements),
        }
        match Plan::build(&template.elements) {
            Some(mut plan) => {
                if format == OutputFormat::Json {
                    plan.prepare_json(name)?;
                }
                self.plans.insert(name.to_owned(), plan);
            }
            None => {
                self.plans.remove(name);
            }
        }
        if format == OutputFormat::Json {
            self.json.insert(name.to_owned());
        } else {
            self.json.remove(name);
        }
        self.registry.register_template(name, template);
        Ok(())
    }

    /// Whether template `name` is made only of text and field substitutions, so
    /// [`render_raw`](Self::render_raw) can render it.
    pub fn has_plan(&self, name: &str) -> bool {
        self.plans.contains_key(name)
    }

    /// Renders template `name`, which must have a plan ([`has_plan`](Self::has_plan)),
    /// from a record read as JSON text (no `Value` built); appends to `out`. JSON
    /// templates come out validated and compact, as with [`render_to`](Self::render_to).
    ///
    /// # Errors
    /// As [`render_to`](Self::render_to); [`TransformError::Render`] if `name` has no plan.
    pub fn render_raw(
        &self,
        name: &str,
        record: &RawRecord<'_>,
        out: &mut Vec<u8>,
    ) -> Result<(), TransformError> {
        let start = out.len();
        let plan = self.plans.get(name).ok_or_else(|| TransformError::Render {
            template: name.to_owned(),
            message: "template has no direct plan".to_owned(),
        })?;
        plan.render_raw(name, record, out)?;
        if self.json.contains(name) && !plan.prevalidated {
            let compact = compact_json(&out[start..])?;
            out.truncate(start);
            out.extend_from_slice(&compact);
        }
        Ok(())
    }

    /// Whether every output of JSON template `name` is known, from the template alone, to
    /// be valid compact JSON (a template of text and field substitutions, no triple-stash),
    /// so it needs no per-record validation.
    pub fn is_prevalidated(&self, name: &str) -> bool {
        self.plans.get(name).is_some_and(|p| p.prevalidated)
    }

    /// Whether a template named `name` was added.
    pub fn contains(&self, name: &str) -> bool {
        self.registry.has_template(name)
    }

    /// Renders template `name` with `ctx`, appending to `out`. JSON templates render validated, compact JSON (one line: whitespace
    /// outside strings removed, key order kept).
    ///
    /// # Errors
    /// [`TransformError::Render`] (a missing field, a helper error, an unknown template),
    /// [`TransformError::InvalidOutput`] (a JSON template rendered invalid JSON).
    pub fn render_to(
        &self,
        name: &str,
        ctx: &Context,
        out: &mut Vec<u8>,
    ) -> Result<(), TransformError> {
        let start = out.len();
        let plan = self.plans.get(name);
        if let Some(plan) = plan {
            plan.render(name, ctx.data(), out)?;
        } else {
            self.registry
                .render_with_context_to_write(name, ctx, &mut *out)
                .map_err(|e| render_error(name, &e))?;
        }
        if self.json.contains(name) && !plan.is_some_and(|p| p.prevalidated) {
            let compact = compact_json(&out[start..])?;
            out.truncate(start);
            out.extend_from_slice(&compact);
        }
        Ok(())
    }

    /// Renders template `name` with `data` (convenience for tests and tools).
    ///
    /// # Errors
    /// As [`render_to`](Self::render_to).
    pub fn render(&self, name: &str, data: &Value) -> Result<String, TransformError> {
        let ctx = Context::from(data.clone());
        let mut out = Vec::new();
        self.render_to(name, &ctx, &mut out)?;
        String::from_utf8(out).map_err(|e| TransformError::Render {
            template: name.to_owned(),
            message: e.to_string(),
        })
    }

    fn available(&self) -> String {
        self.helpers.iter().copied().collect::<Vec<_>>().join(", ")
    }

    fn is_helper(&self, name: &str) -> bool {
        self.helpers.contains(name)
    }

    /// Rejects unknown helpers, partials, decorators and bad date formats.
    fn check(&self, tname: &str, elements: &[TemplateElement]) -> Result<(), TemplateError> {
        for element in elements {
            match element {
                TemplateElement::RawString(_) | TemplateElement::Comment(_) => {}
                TemplateElement::Expression(ht) | TemplateElement::HtmlExpression(ht) => {
                    self.check_helper(tname, ht)?;
                }
                TemplateElement::HelperBlock(ht) => {
                    self.check_helper(tname, ht)?;
                    for t in [&ht.template, &ht.inverse].into_iter().flatten() {
                        self.check(tname, &t.elements)?;
                    }
                }
                TemplateElement::PartialExpression(_) | TemplateElement::PartialBlock(_) => {
                    return Err(TemplateError::Unsupported {
                        template: tname.to_owned(),
                        feature: "partials",
                    });
                }
                _ => {
                    return Err(TemplateError::Unsupported {
                        template: tname.to_owned(),
                        feature: "decorators",
                    });
                }
            }
        }
        Ok(())
    }

    fn check_helper(&self, tname: &str, ht: &HelperTemplate) -> Result<(), TemplateError> {
        let calls = ht.block || !ht.params.is_empty() || !ht.hash.is_empty();
        let name = ht.name.as_name().unwrap_or_default();
        if calls && !self.is_helper(name) {
            return Err(TemplateError::UnknownHelper {
                template: tname.to_owned(),
                helper: name.to_owned(),
                available: self.available(),
            });
        }
        if name == FORMAT_DATE {
            let formats = ht.params.get(1).into_iter().chain(ht.hash.get("input"));
            for format in formats {
                if let Parameter::Literal(Value::String(format)) = format
                    && StrftimeItems::new(format).any(|i| matches!(i, Item::Error))
                {
                    return Err(TemplateError::DateFormat {
                        template: tname.to_owned(),
                        format: format.clone(),
                    });
                }
            }
        }
        if let Parameter::Subexpression(s) = &ht.name {
            self.check_param_subexpression(tname, s)?;
        }
        for p in ht.params.iter().chain(ht.hash.values()) {
            if let Parameter::Subexpression(s) = p {
                self.check_param_subexpression(tname, s)?;
            }
        }
        Ok(())
    }

    fn check_param_subexpression(
        &self,
        tname: &str,
        s: &Subexpression,
    ) -> Result<(), TemplateError> {
        match s.as_element() {
            TemplateElement::Expression(ht) => self.check_helper(tname, ht),
            _ => Ok(()),
        }
    }

    /// Wraps each output expression in the encoder for its JSON context.
    fn rewrite_json(
        &self,
        tname: &str,
        elements: &mut [TemplateElement],
        mut state: JsonState,
    ) -> Result<JsonState, TemplateError> {
        for element in elements.iter_mut() {
            match element {
                TemplateElement::RawString(text) => state = state.advance(text),
                TemplateElement::Expression(ht) => {
                    let encoder = match state {
                        JsonState::Outside => JSON_VALUE,
                        JsonState::InString => JSON_STRING,
                        JsonState::Escape => {
                            return Err(TemplateError::JsonContext {
                                template: tname.to_owned(),
                                block: ht.name.as_name().unwrap_or_default().to_owned(),
                                problem: "follows a backslash inside a JSON string".to_owned(),
                            });
                        }
                    };
                    *element = self.wrap(ht, encoder);
                }
                TemplateElement::HtmlExpression(ht) => *element = self.wrap(ht, RAW),
                TemplateElement::HelperBlock(ht) => {
                    let block = ht.name.as_name().unwrap_or_default().to_owned();
                    for t in [&mut ht.template, &mut ht.inverse].into_iter().flatten() {
                        let end = self.rewrite_json(tname, &mut t.elements, state)?;
                        if end != state {
                            return Err(TemplateError::JsonContext {
                                template: tname.to_owned(),
                                block,
                                problem: format!(
                                    "starts {} a JSON string and ends {} one",
                                    state.describe(),
                                    end.describe()
                                ),
                            });
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(state)
    }

    /// Wraps each output expression in the text encoder.
    fn rewrite_text(&self, elements: &mut [TemplateElement]) {
        for element in elements.iter_mut() {
            match element {
                TemplateElement::Expression(ht) | TemplateElement::HtmlExpression(ht) => {
                    *element = self.wrap(ht, RAW);
                }
                TemplateElement::HelperBlock(ht) => {
                    for t in [&mut ht.template, &mut ht.inverse].into_iter().flatten() {
                        self.rewrite_text(&mut t.elements);
                    }
                }
                _ => {}
            }
        }
    }

    /// `{{x}}` → `{{{encoder x}}}`; `{{helper a b}}` → `{{{encoder (helper a b)}}}`.
    fn wrap(&self, ht: &HelperTemplate, encoder: &str) -> TemplateElement {
        let name_only = !ht.block && ht.params.is_empty() && ht.hash.is_empty();
        let param = match &ht.name {
            Parameter::Path(p) if name_only && !self.is_helper(ht.name.as_name().unwrap_or("")) => {
                Parameter::Path(p.clone())
            }
            Parameter::Subexpression(s) if name_only => Parameter::Subexpression(s.clone()),
            Parameter::Literal(v) if name_only => Parameter::Literal(v.clone()),
            name => {
                let name = match name.as_name() {
                    Some(n) => Parameter::Name(n.to_owned()),
                    None => name.clone(),
                };
                Parameter::Subexpression(Subexpression::new(
                    name,
                    ht.params.clone(),
                    ht.hash.clone(),
                ))
            }
        };
        let mut wrapped = self.wrapper.clone();
        wrapped.name = Parameter::Name(encoder.to_owned());
        wrapped.params = vec![param];
        wrapped.hash = HashMap::new();
        TemplateElement::HtmlExpression(wrapped)
    }
}

/// Where the scan of a JSON template's literal text stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum JsonState {
    Outside,
    InString,
    Escape,
}

impl JsonState {
    fn advance(mut self, text: &str) -> Self {
        for ch in text.chars() {
            self = self.advance_char(ch);
        }
        self
    }

    fn advance_char(self, ch: char) -> Self {
        match (self, ch) {
            (Self::Outside, '"') => Self::InString,
            (Self::Outside, _) => Self::Outside,
            (Self::InString, '"') => Self::Outside,
            (Self::InString, '\\') => Self::Escape,
            (Self::InString, _) | (Self::Escape, _) => Self::InString,
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Self::Outside => "outside",
            Self::InString | Self::Escape => "inside",
        }
    }
}

/// Rewrites `{{'key'}}` / `{{"key"}}` (a quoted literal as the whole expression) to the
/// path `{{[key]}}`, the Handlebars.js reading of a literal in path position.
fn quote_keys<'a>(tname: &str, source: &'a str) -> Result<Cow<'a, str>, TemplateError> {
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
                    key.push(char::from(bytes[k + 1]));
                    k += 2;
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

fn syntax_message(e: &handlebars::TemplateError) -> String {
    let reason = e.reason().to_string();
    match e.pos() {
        Some((line, column)) => format!("{reason} at line {line}, column {column}"),
        None => reason,
    }
}

fn render_error(name: &str, e: &RenderError) -> TransformError {
    let message = match e.reason() {
        RenderErrorReason::MissingVariable(Some(path)) => {
            format!("the record has no field `{path}` (strict mode)")
        }
        RenderErrorReason::MissingVariable(None) => {
            "a field the template uses is missing (strict mode)".to_owned()
        }
        RenderErrorReason::NestedError(inner) => inner.to_string(),
        other => other.to_string(),
    };
    TransformError::Render {
        template: name.to_owned(),
        message,
    }
}

#[derive(Debug, Clone, Copy)]
enum Encoding {
    JsonValue,
    JsonString,
    Raw,
}

/// The encoders the rewritten expressions call.
struct Encode(Encoding);

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
trait Sink {
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
fn encode(encoding: Encoding, value: &Value, out: &mut impl Sink) {
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
fn write_escaped(s: &str, out: &mut impl Sink) {
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

/// A template made only of text and field substitutions, rendered without the
/// Handlebars interpreter (same output, same errors; checked by the tests).
#[derive(Debug)]
struct Plan {
    pieces: Vec<Piece>,
    /// Output is always valid compact JSON (see [`Templates::is_prevalidated`]).
    prevalidated: bool,
}

#[derive(Debug)]
enum Piece {
    Text(String),
    Field {
        path: Vec<String>,
        raw: String,
        encoding: Encoding,
    },
}

impl Plan {
    /// The plan of a rewritten template, if it has only text, comments and wrapped
    /// plain field paths (no blocks, helpers, `this`, `..`, `@` variables).
    fn build(elements: &[TemplateElement]) -> Option<Self> {
        let mut pieces = Vec::with_capacity(elements.len());
        for element in elements {
            match element {
                TemplateElement::RawString(text) => pieces.push(Piece::Text(text.clone())),
                TemplateElement::Comment(_) => {}
                TemplateElement::HtmlExpression(ht) => {
                    let encoding = match ht.name.as_name()? {
                        JSON_VALUE => Encoding::JsonValue,
                        JSON_STRING => Encoding::JsonString,
                        RAW => Encoding::Raw,
                        _ => return None,
                    };
                    let [Parameter::Path(Path::Relative((segs, raw)))] = ht.params.as_slice()
                    else {
                        return None;
                    };
                    let mut path = Vec::with_capacity(segs.len());
                    for seg in segs {
                        match seg {
                            PathSeg::Named(n) if n != "this" && !n.starts_with('@') => {
                                path.push(n.clone());
                            }
                            _ => return None,
                        }
                    }
                    if path.is_empty() {
                        return None;
                    }
                    pieces.push(Piece::Field {
                        path,
                        raw: raw.clone(),
                        encoding,
                    });
                }
                _ => return None,
            }
        }
        Some(Self {
            pieces,
            prevalidated: false,
        })
    }

    /// For a JSON template without triple-stash: proves every output valid by checking
    /// the skeleton (each bare value replaced by `null`, each in-string value by nothing:
    /// JSON has no token that `null` could merge with, and escaped content cannot end a
    /// string), then compacts the text pieces so outputs need no per-record pass.
    ///
    /// # Errors
    /// [`TemplateError::InvalidJson`] when the template can never render valid JSON.
    fn prepare_json(&mut self, tname: &str) -> Result<(), TemplateError> {
        let raw_slot = self.pieces.iter().any(|p| {
            matches!(
                p,
                Piece::Field {
                    encoding: Encoding::Raw,
                    ..
                }
            )
        });
        if raw_slot {
            return Ok(());
        }
        let mut skeleton = Vec::new();
        for piece in &self.pieces {
            match piece {
                Piece::Text(t) => skeleton.extend_from_slice(t.as_bytes()),
                Piece::Field {
                    encoding: Encoding::JsonValue,
                    ..
                } => skeleton.extend_from_slice(b"null"),
                Piece::Field { .. } => {}
            }
        }
        if let Err(e) = serde_json::from_slice::<serde::de::IgnoredAny>(&skeleton) {
            return Err(TemplateError::InvalidJson {
                template: tname.to_owned(),
                message: e.to_string(),
            });
        }
        let mut state = JsonState::Outside;
        for piece in &mut self.pieces {
            if let Piece::Text(text) = piece {
                let mut compact = String::with_capacity(text.len());
                for ch in text.chars() {
                    let next = state.advance_char(ch);
                    if state == JsonState::Outside
                        && next == JsonState::Outside
                        && matches!(ch, ' ' | '\n' | '\r' | '\t')
                    {
                        continue;
                    }
                    compact.push(ch);
                    state = next;
                }
                *text = compact;
            }
        }
        self.pieces
            .retain(|p| !matches!(p, Piece::Text(t) if t.is_empty()));
        self.prevalidated = true;
        Ok(())
    }

    fn render_raw(
        &self,
        tname: &str,
        record: &RawRecord<'_>,
        out: &mut Vec<u8>,
    ) -> Result<(), TransformError> {
        for piece in &self.pieces {
            match piece {
                Piece::Text(text) => out.extend_from_slice(text.as_bytes()),
                Piece::Field {
                    path,
                    raw,
                    encoding,
                } => {
                    let value = record.get(path).ok_or_else(|| TransformError::Render {
                        template: tname.to_owned(),
                        message: format!("the record has no field `{raw}` (strict mode)"),
                    })?;
                    encode_raw(*encoding, value, out).map_err(|e| match e {
                        TransformError::Render { message, .. } => TransformError::Render {
                            template: tname.to_owned(),
                            message,
                        },
                        other => other,
                    })?;
                }
            }
        }
        Ok(())
    }

    fn render(&self, tname: &str, data: &Value, out: &mut Vec<u8>) -> Result<(), TransformError> {
        for piece in &self.pieces {
            match piece {
                Piece::Text(text) => out.extend_from_slice(text.as_bytes()),
                Piece::Field {
                    path,
                    raw,
                    encoding,
                } => {
                    let value = lookup(data, path).ok_or_else(|| TransformError::Render {
                        template: tname.to_owned(),
                        message: format!("the record has no field `{raw}` (strict mode)"),
                    })?;
                    encode(*encoding, value, out);
                }
            }
        }
        Ok(())
    }
}

/// Validates `rendered` as one JSON document and removes whitespace outside strings.
///
/// # Errors
/// [`TransformError::InvalidOutput`] with serde_json's message and position.
pub fn compact_json(rendered: &[u8]) -> Result<Vec<u8>, TransformError> {
    if let Err(e) = serde_json::from_slice::<serde::de::IgnoredAny>(rendered) {
        let full = e.to_string();
        let message = match full.rfind(" at line ") {
            Some(at) => full[..at].to_owned(),
            None => full,
        };
        return Err(TransformError::InvalidOutput {
            message,
            line: e.line(),
            column: e.column(),
        });
    }
    let mut out = Vec::with_capacity(rendered.len());
    raw::compact_into(rendered, &mut out);
    Ok(out)
}

/// [`encode`] for a value given as (valid) JSON text: the same JSON, copied rather than
/// rebuilt.
fn encode_raw(encoding: Encoding, text: &str, out: &mut Vec<u8>) -> Result<(), TransformError> {
    match (encoding, raw::kind(text)) {
        (Encoding::JsonValue, raw::Kind::Container) | (Encoding::Raw, raw::Kind::Container) => {
            raw::compact_into(text.as_bytes(), out);
        }
        (Encoding::JsonValue, _) => out.extend_from_slice(text.as_bytes()),
        // a JSON string's content is already escaped as string content
        (Encoding::JsonString, raw::Kind::String) => {
            out.extend_from_slice(&text.as_bytes()[1..text.len() - 1]);
        }
        (Encoding::JsonString | Encoding::Raw, raw::Kind::Null) => {}
        (Encoding::JsonString, raw::Kind::Container) => {
            let mut compact = Vec::with_capacity(text.len());
            raw::compact_into(text.as_bytes(), &mut compact);
            let compact = String::from_utf8(compact).map_err(|e| TransformError::Render {
                template: String::new(),
                message: e.to_string(),
            })?;
            write_escaped(&compact, out);
        }
        (Encoding::Raw, raw::Kind::String) => out.put(&raw::string_value(text)?),
        (Encoding::JsonString | Encoding::Raw, raw::Kind::Other) => {
            out.extend_from_slice(text.as_bytes());
        }
    }
    Ok(())
}

/// Handlebars' path lookup: object members by name, array elements by index.
fn lookup<'a>(mut value: &'a Value, path: &[String]) -> Option<&'a Value> {
    for seg in path {
        value = match value {
            Value::Object(map) => map.get(seg)?,
            Value::Array(items) => items.get(seg.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(value)
}

/// `format_date value "format" [input="format"]`.
struct FormatDate;

impl HelperDef for FormatDate {
    fn call_inner<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        _: &'reg Handlebars<'reg>,
        _: &'rc Context,
        _: &mut RenderContext<'reg, 'rc>,
    ) -> Result<ScopedJson<'rc>, RenderError> {
        let value = h
            .param(0)
            .ok_or(RenderErrorReason::ParamNotFoundForIndex(FORMAT_DATE, 0))?;
        if value.is_value_missing() {
            return Err(RenderErrorReason::MissingVariable(value.relative_path().cloned()).into());
        }
        let format = h
            .param(1)
            .and_then(|p| p.value().as_str())
            .ok_or(RenderErrorReason::ParamNotFoundForIndex(FORMAT_DATE, 1))?;
        let input = h.hash_get("input").and_then(|p| p.value().as_str());
        let instant = parse_instant(value.value(), input).map_err(|why| {
            RenderErrorReason::Other(format!(
                "format_date: cannot read {} as a timestamp: {why}",
                value.value()
            ))
        })?;
        let mut text = String::new();
        write!(text, "{}", instant.format(format)).map_err(|_| {
            RenderErrorReason::Other(format!("format_date: invalid format {format:?}"))
        })?;
        Ok(ScopedJson::Derived(Value::String(text)))
    }
}

/// Seconds-or-milliseconds threshold: numbers at or above it are milliseconds.
const MILLIS_THRESHOLD: f64 = 100_000_000_000.0;

fn parse_instant(value: &Value, input: Option<&str>) -> Result<DateTime<Utc>, String> {
    match value {
        Value::Number(n) => {
            let n = n.as_f64().ok_or("not a finite number")?;
            let millis = if n.abs() >= MILLIS_THRESHOLD {
                n
            } else {
                n * 1000.0
            };
            Utc.timestamp_millis_opt(millis.round() as i64)
                .single()
                .ok_or_else(|| "out of range".to_owned())
        }
        Value::String(s) => {
            let s = s.trim();
            if let Some(format) = input {
                return NaiveDateTime::parse_from_str(s, format)
                    .or_else(|_| {
                        NaiveDate::parse_from_str(s, format).map(|d| d.and_time(Default::default()))
                    })
                    .map(|t| t.and_utc())
                    .map_err(|e| format!("{e} (input format {format:?})"));
            }
            if let Ok(t) = DateTime::parse_from_rfc3339(s) {
                return Ok(t.with_timezone(&Utc));
            }
            for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
                if let Ok(t) = NaiveDateTime::parse_from_str(s, format) {
                    return Ok(t.and_utc());
                }
            }
            if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
                return Ok(d.and_time(Default::default()).and_utc());
            }
            if let Ok(n) = s.parse::<f64>() {
                return parse_instant(&serde_json::json!(n), None);
            }
            Err(
                "expected RFC 3339, YYYY-MM-DD[ HH:MM:SS] or epoch seconds/milliseconds; \
                 give input=\"<strftime format>\" for other layouts"
                    .to_owned(),
            )
        }
        other => Err(format!(
            "a {} is not a timestamp",
            kstream_pipeline::decode::json_type_name(other)
        )),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const SEED: &str =
        r#"{ "reading date":  "{{'reading date'}}", "a": {{data}}, "b": {{b}}, "c": {{c}} }"#;

    fn one(source: &str, format: OutputFormat) -> Templates {
        let mut t = Templates::new();
        t.add("T", source, format).unwrap();
        t
    }

    #[test]
    fn seed_example_renders_valid_json() {
        let t = one(SEED, OutputFormat::Json);
        let out = t
            .render(
                "T",
                &json!({"reading date":"1/4/22","data":"some string","b":10,"c":100}),
            )
            .unwrap();
        let parsed: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(
            parsed,
            json!({"reading date":"1/4/22","a":"some string","b":10,"c":100})
        );
    }

    /// Each encoding, through the direct plan and through the Handlebars interpreter
    /// (forced by an enclosing block): the same output.
    #[test]
    fn encoding_by_context() {
        let cases = [
            (
                json!("a\"b\\c\n"),
                r#""a\"b\\c\n""#,
                r#"a\"b\\c\n"#,
                "a\"b\\c\n",
            ),
            (json!(10), "10", "10", "10"),
            (json!(1.5), "1.5", "1.5", "1.5"),
            (json!(true), "true", "true", "true"),
            (json!(null), "null", "", ""),
            (
                json!({"k": "v"}),
                r#"{"k":"v"}"#,
                r#"{\"k\":\"v\"}"#,
                r#"{"k":"v"}"#,
            ),
            (json!([1, "x"]), r#"[1,"x"]"#, r#"[1,\"x\"]"#, r#"[1,"x"]"#),
            (json!("\u{1}é"), "\"\\u0001é\"", "\\u0001é", "\u{1}é"),
        ];
        let json_template = r#"{"bare": {{v}}, "in": "<{{v}}>"}"#;
        let text_template = "{{{v}}}|{{v}}";
        for interpreted in [false, true] {
            let wrap = |t: &str| {
                if interpreted {
                    format!("{{{{#if 1}}}}{t}{{{{/if}}}}")
                } else {
                    t.to_owned()
                }
            };
            let mut t = Templates::new();
            t.add("J", &wrap(json_template), OutputFormat::Json)
                .unwrap();
            t.add("T", &wrap(text_template), OutputFormat::Text)
                .unwrap();
            assert_eq!(t.plans.contains_key("J"), !interpreted);
            assert_eq!(t.is_prevalidated("J"), !interpreted);
            for (v, bare, inside, raw) in &cases {
                let data = json!({ "v": v });
                assert_eq!(
                    t.render("J", &data).unwrap(),
                    format!(r#"{{"bare":{bare},"in":"<{inside}>"}}"#),
                    "{v} interpreted={interpreted}"
                );
                assert_eq!(
                    t.render("T", &data).unwrap(),
                    format!("{raw}|{raw}"),
                    "{v} interpreted={interpreted}"
                );
            }
            let missing = t.render("J", &json!({})).unwrap_err();
            assert_eq!(
                missing.to_string(),
                "J: the record has no field `v` (strict mode)",
                "interpreted={interpreted}"
            );
        }
    }

    #[test]
    fn triple_stash_output_is_validated_per_record() {
        let t = one(r#"{"raw": {{{v}}}}"#, OutputFormat::Json);
        assert!(!t.is_prevalidated("T"));
        assert_eq!(
            t.render("T", &json!({"v": {"k": 1}})).unwrap(),
            r#"{"raw":{"k":1}}"#
        );
        assert!(matches!(
            t.render("T", &json!({"v": "not json"})),
            Err(TransformError::InvalidOutput { .. })
        ));
    }

    #[test]
    fn templates_that_never_render_json_fail_when_added() {
        let mut t = Templates::new();
        for bad in [
            r#"{"a" {{a}}}"#,
            r#"{"a": 1{{a}}}"#,
            r#"{"a": {{a}} {{b}}}"#,
            r#"{"a": "{{a}}"#,
        ] {
            let err = t.add("TEMPLATE", bad, OutputFormat::Json).unwrap_err();
            assert!(
                matches!(err, TemplateError::InvalidJson { .. }),
                "{bad}: {err}"
            );
            assert!(
                err.to_string()
                    .starts_with("TEMPLATE: never renders valid JSON"),
                "{err}"
            );
        }
        // text templates are not JSON
        t.add("TEXT", r#"{"a" {{a}}}"#, OutputFormat::Text).unwrap();
    }

    #[test]
    fn paths_into_nested_values_and_arrays() {
        let t = one(
            r#"{"c": {{user.city}}, "first": {{items.0.sku}}, "n": {{items.1}}}"#,
            OutputFormat::Json,
        );
        assert!(t.is_prevalidated("T"));
        let data = json!({"user": {"city": "Oslo"}, "items": [{"sku": "a"}, 7]});
        assert_eq!(
            t.render("T", &data).unwrap(),
            r#"{"c":"Oslo","first":"a","n":7}"#
        );
        for missing in [
            json!({"user": {}, "items": []}),
            json!({"user": 1, "items": [{"sku": "a"}]}),
        ] {
            assert!(matches!(
                t.render("T", &missing),
                Err(TransformError::Render { .. })
            ));
        }
    }

    #[test]
    fn escaped_quotes_in_literal_text_keep_the_context() {
        let t = one(r#"{"k\"{{a}}": {{a}}}"#, OutputFormat::Json);
        assert_eq!(
            t.render("T", &json!({"a": "x"})).unwrap(),
            r#"{"k\"x":"x"}"#
        );
    }

    #[test]
    fn blocks_and_helpers() {
        let t = one(
            r#"{"items": [{{#each items}}{{#unless @first}},{{/unless}}{"n": {{this.n}}, "i": "{{@index}}"}{{/each}}], "big": {{gt total 10}}, "who": "{{#if name}}{{name}}{{else}}nobody{{/if}}"}"#,
            OutputFormat::Json,
        );
        let out = t
            .render(
                "T",
                &json!({"items": [{"n": "a"}, {"n": 2}], "total": 11, "name": "q\""}),
            )
            .unwrap();
        assert_eq!(
            serde_json::from_str::<Value>(&out).unwrap(),
            json!({"items": [{"n": "a", "i": "0"}, {"n": 2, "i": "1"}], "big": true, "who": "q\""})
        );
    }

    #[test]
    fn strict_mode_fails_missing_fields() {
        let t = one(SEED, OutputFormat::Json);
        let err = t
            .render("T", &json!({"data": "x", "b": 1, "c": 2}))
            .unwrap_err();
        assert_eq!(
            err,
            TransformError::Render {
                template: "T".into(),
                message: "the record has no field `[reading date]` (strict mode)".into()
            }
        );
    }

    #[test]
    fn unknown_helpers_and_bad_templates_fail_when_added() {
        let mut t = Templates::new();
        let err = t
            .add("TEMPLATE", "{{upper name}}", OutputFormat::Json)
            .unwrap_err();
        assert!(
            matches!(&err, TemplateError::UnknownHelper { helper, .. } if helper == "upper"),
            "{err}"
        );
        assert!(err.to_string().contains("format_date"), "{err}");
        let err = t
            .add("TEMPLATE", "{{#shout}}x{{/shout}}", OutputFormat::Json)
            .unwrap_err();
        assert!(matches!(err, TemplateError::UnknownHelper { .. }), "{err}");
        let err = t
            .add("TEMPLATE", "{{#if (shout a)}}x{{/if}}", OutputFormat::Json)
            .unwrap_err();
        assert!(matches!(err, TemplateError::UnknownHelper { .. }), "{err}");
        let err = t
            .add("TEMPLATE", "{ \"a\": {{a}", OutputFormat::Json)
            .unwrap_err();
        assert!(matches!(err, TemplateError::Syntax { .. }), "{err}");
        assert!(
            err.to_string()
                .starts_with("TEMPLATE: malformed template: "),
            "{err}"
        );
        let err = t
            .add("TEMPLATE", "{{#if a}}x{{/each}}", OutputFormat::Json)
            .unwrap_err();
        assert!(matches!(err, TemplateError::Syntax { .. }), "{err}");
        let err = t
            .add("TEMPLATE", "{{> header}}", OutputFormat::Json)
            .unwrap_err();
        assert!(
            matches!(
                err,
                TemplateError::Unsupported {
                    feature: "partials",
                    ..
                }
            ),
            "{err}"
        );
        let err = t
            .add("TEMPLATE", r#"{{format_date ts "%Q"}}"#, OutputFormat::Text)
            .unwrap_err();
        assert!(matches!(err, TemplateError::DateFormat { .. }), "{err}");
        let err = t
            .add(
                "TEMPLATE",
                r#"{"a": "{{#if x}}"{{/if}}"}"#,
                OutputFormat::Json,
            )
            .unwrap_err();
        assert!(matches!(err, TemplateError::JsonContext { .. }), "{err}");
        let err = t
            .add("TEMPLATE", "{{'a]b'}}", OutputFormat::Json)
            .unwrap_err();
        assert!(matches!(err, TemplateError::QuotedKey { .. }), "{err}");
        assert!(!t.contains("TEMPLATE"));
    }

    #[test]
    fn quoted_keys_are_lookups() {
        for source in [
            r#"{{'reading date'}}"#,
            r#"{{"reading date"}}"#,
            r#"{{~ 'reading date' ~}}"#,
            r#"{{{'reading date'}}}"#,
            r#"{{[reading date]}}"#,
        ] {
            let t = one(source, OutputFormat::Text);
            assert_eq!(
                t.render("T", &json!({"reading date": "1/4/22"})).unwrap(),
                "1/4/22",
                "{source}"
            );
        }
        // literals as helper arguments stay strings; escaped mustaches stay text
        let t = one(r#"{{eq 'a b' "a b"}} \{{'x'}}"#, OutputFormat::Text);
        assert_eq!(t.render("T", &json!({})).unwrap(), "true {{'x'}}");
    }

    #[test]
    fn text_format_writes_values_as_text() {
        let t = one("{{s}}|{{n}}|{{o}}|{{z}}|{{{s}}}", OutputFormat::Text);
        assert_eq!(
            t.render(
                "T",
                &json!({"s": "<a&b>", "n": 1, "o": {"k": 1}, "z": null})
            )
            .unwrap(),
            r#"<a&b>|1|{"k":1}||<a&b>"#
        );
    }

    #[test]
    fn format_date_inputs() {
        let t = one(r#"{{format_date ts "%Y-%m-%d/%H"}}"#, OutputFormat::Text);
        for (ts, expected) in [
            (json!("2026-11-22T04:05:06Z"), "2026-11-22/04"),
            (json!("2026-11-22T04:05:06+02:00"), "2026-11-22/02"),
            (json!("2026-11-22 04:05:06"), "2026-11-22/04"),
            (json!("2026-11-22"), "2026-11-22/00"),
            (json!(1_795_320_306), "2026-11-22/04"),
            (json!(1_795_320_306_000_u64), "2026-11-22/04"),
            (json!("1795320306"), "2026-11-22/04"),
        ] {
            assert_eq!(
                t.render("T", &json!({ "ts": ts })).unwrap(),
                expected,
                "{ts}"
            );
        }
        let err = t.render("T", &json!({"ts": "yesterday"})).unwrap_err();
        assert!(err.to_string().contains("cannot read"), "{err}");
        let err = t.render("T", &json!({"ts": true})).unwrap_err();
        assert!(err.to_string().contains("boolean"), "{err}");

        let t = one(
            r#"{{format_date 'reading date' "%Y-%m" input="%m/%d/%y"}}"#,
            OutputFormat::Text,
        );
        // a quoted literal as an argument is a string, not a lookup
        assert!(t.render("T", &json!({"reading date": "1/4/22"})).is_err());
        let t = one(
            r#"{{format_date [reading date] "%Y-%m" input="%m/%d/%y"}}"#,
            OutputFormat::Text,
        );
        assert_eq!(
            t.render("T", &json!({"reading date": "1/4/22"})).unwrap(),
            "2022-01"
        );
    }
}
