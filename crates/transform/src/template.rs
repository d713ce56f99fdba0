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
//! Wherever a number, boolean, object or array becomes text (inside a JSON string,
//! triple-stash, text output, partition keys) it is written as serde_json writes the decoded
//! value, whatever the record's spelling: `1e2` as `100.0`, `1.50` as `1.5`, an object's keys
//! sorted, a duplicate key once (the last). Bare in JSON output a value may keep the record's
//! spelling: it is the same JSON value.
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
//!
//! # Layout
//! This file holds [`Templates`]: adding (checks, rewriting each expression into its
//! encoder) and rendering. Beside it, in `template/`: `encoding.rs` (the encodings of the
//! table above and the JSON context scan), `plan.rs` (the fast path for templates of text
//! and field substitutions), `date.rs` (the `format_date` helper), `quoted.rs` (quoted
//! keys).

mod date;
mod encoding;
mod plan;
mod quoted;

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};

use handlebars::template::{HelperTemplate, Parameter, Subexpression, Template, TemplateElement};
use handlebars::{
    Context, Handlebars, Helper, HelperResult, Output, RenderContext, RenderError,
    RenderErrorReason,
};
use serde_json::Value;

use crate::budget::{self, LimitedWriter, MAX_ITERATIONS, MAX_OUTPUT_BYTES};
use crate::error::{TemplateError, TransformError};
use crate::raw::{self, RawRecord};
use date::{FORMAT_DATE, FormatDate};
use encoding::{Encode, Encoding, JsonState};
use plan::Plan;
use quoted::quote_keys;

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
/// Counts one block iteration ([`budget::MAX_ITERATIONS`]); put first in each `{{#each}}`
/// body when the template is added.
const TICK: &str = "__kstream_tick";

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
    tick: TemplateElement,
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
        registry.register_helper(
            TICK,
            Box::new(
                |_: &Helper<'_>,
                 _: &Handlebars<'_>,
                 _: &Context,
                 _: &mut RenderContext<'_, '_>,
                 _: &mut dyn Output|
                 -> HelperResult {
                    if budget::tick() {
                        Ok(())
                    } else {
                        Err(
                            RenderErrorReason::Other("block iteration budget exceeded".into())
                                .into(),
                        )
                    }
                },
            ),
        );
        // The shape of a wrapped expression, `{{{helper x}}}`, taken from the parser so
        // the (non-exhaustive) AST types never need constructing by hand.
        let donor = Template::compile("{{{__kstream_raw x}}}").expect("valid donor template");
        let wrapper = match donor.elements.into_iter().next() {
            Some(TemplateElement::HtmlExpression(ht)) => ht,
            other => unreachable!("donor template parsed as {other:?}"),
        };
        let tick = Template::compile(&format!("{{{{{TICK}}}}}"))
            .expect("valid donor template")
            .elements
            .remove(0);
        Self {
            registry,
            helpers: HELPERS.iter().copied().collect(),
            wrapper,
            tick,
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
        self.insert_ticks(&mut template.elements);
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
        if out.len() - start > MAX_OUTPUT_BYTES {
            return Err(budget::output_over());
        }
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
        self.render_with(name, ctx.data(), || Cow::Borrowed(ctx), out)
    }

    /// [`render_to`](Self::render_to) from `data`; `context` is called only when the
    /// interpreter renders (templates with a plan read `data` in place).
    fn render_with<'c>(
        &self,
        name: &str,
        data: &Value,
        context: impl FnOnce() -> Cow<'c, Context>,
        out: &mut Vec<u8>,
    ) -> Result<(), TransformError> {
        let start = out.len();
        let plan = self.plans.get(name);
        if let Some(plan) = plan {
            plan.render(name, data, out)?;
            if out.len() - start > MAX_OUTPUT_BYTES {
                return Err(budget::output_over());
            }
        } else {
            // Output and block iterations are bounded while rendering: an amplifying
            // template stops at the budget, before it has taken the memory or the time.
            budget::reset_iterations();
            let mut writer = LimitedWriter::new(out, MAX_OUTPUT_BYTES);
            let rendered =
                self.registry
                    .render_with_context_to_write(name, &context(), &mut writer);
            let exceeded = writer.exceeded;
            if let Err(e) = rendered {
                return Err(if exceeded {
                    budget::output_over()
                } else if budget::iterations_exceeded() {
                    budget::over("block iterations", MAX_ITERATIONS as usize, "iterations")
                } else {
                    render_error(name, &e)
                });
            }
        }
        if self.json.contains(name) && !plan.is_some_and(|p| p.prevalidated) {
            let compact = compact_json(&out[start..])?;
            out.truncate(start);
            out.extend_from_slice(&compact);
        }
        Ok(())
    }

    /// Renders template `name` with `data` (`kstream put`'s partition keys, tests, tools);
    /// templates with a plan read `data` in place, others render from a copy.
    ///
    /// # Errors
    /// As [`render_to`](Self::render_to).
    pub fn render(&self, name: &str, data: &Value) -> Result<String, TransformError> {
        let mut out = Vec::new();
        let context = || Cow::Owned(Context::from(data.clone()));
        self.render_with(name, data, context, &mut out)?;
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
            date::check_formats(tname, ht)?;
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

    /// Puts a [`TICK`] first in each `{{#each}}` body, so that every iteration counts.
    fn insert_ticks(&self, elements: &mut [TemplateElement]) {
        for element in elements.iter_mut() {
            if let TemplateElement::HelperBlock(ht) = element {
                let each = ht.name.as_name() == Some("each");
                for t in [&mut ht.template, &mut ht.inverse].into_iter().flatten() {
                    self.insert_ticks(&mut t.elements);
                }
                if each && let Some(body) = &mut ht.template {
                    body.elements.insert(0, self.tick.clone());
                }
            }
        }
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

    /// Issue 13: `\` followed by a multi-byte character inside a quoted key panicked.
    #[test]
    fn quoted_keys_with_escaped_multibyte_characters() {
        let t = one(r#"{{'caf\é'}}|{{"\😀 x"}}"#, OutputFormat::Text);
        assert_eq!(
            t.render("T", &json!({"café": 1, "😀 x": 2})).unwrap(),
            "1|2"
        );
        for source in [r"{{'\é", r"{{'\\", r"{{'a\", r"{{\'é'}}", r"{{'\😀'"] {
            let mut t = Templates::new();
            let _ = t.add("T", source, OutputFormat::Json);
            let _ = t.add("T", source, OutputFormat::Text);
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(400))]

        /// Adding any template string returns Ok or an error, never panics: arbitrary
        /// unicode, and strings made of the pieces templates are made of.
        #[test]
        fn adding_any_template_never_panics(
            arbitrary in ".*",
            pieces in proptest::collection::vec(
                proptest::sample::select(vec![
                    "{{", "}}", "{{{", "}}}", "{{{{", "{{{{/", "\\", "'", "\"", "~", "&",
                    "#each", "#if", "/each", "/if", "else", "this", "@index", "..", "[", "]",
                    "(", ")", "=", " ", "a", "b.c", "é", "😀", "\\é", "\\😀", "format_date",
                    "\"%Y\"", "input=", ">", "!", "--", "{", "}", ":", ",", "\n",
                ]),
                0..24,
            ),
        ) {
            let built: String = pieces.concat();
            for source in [arbitrary.as_str(), built.as_str()] {
                for format in [OutputFormat::Json, OutputFormat::Text] {
                    let mut t = Templates::new();
                    if t.add("T", source, format).is_ok() {
                        // and what was added renders or fails, never panics
                        let _ = t.render("T", &json!({"a": [1, "x"], "b": {"c": null}}));
                    }
                }
            }
        }
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
}
