//! Mapping templates: the Velocity Template Language (VTL) subset API Gateway REST APIs use.
//!
//! No maintained Rust crate implements Velocity, so this is a small hand-written lexer-less
//! parser (`parse`) and an evaluator (`eval`) over `serde_json::Value`.
//!
//! # Supported
//! - References: `$a`, `${a}`, quiet `$!a` / `$!{a}`, properties `$a.b.c`, indexes `$a[0]`,
//!   `$a['k']`, method calls `$a.b('x', 1)`. An unresolved or null reference renders as
//!   nothing (API Gateway's rule; stock Velocity prints its source text), quiet or not, and
//!   compares equal to `$null` and to `""`.
//! - Directives: `#set`, `#if`/`#elseif`/`#else`/`#end`, `#foreach` (with `$foreach.index`,
//!   `.count`, `.hasNext`, `.first`, `.last` and `$velocityCount`), `#break`, `#stop`, the
//!   braced forms `#{else}`, comments `##` and `#* *#`, unparsed `#[[ ]]#`, and the escapes
//!   `\$` and `\#`.
//! - Expressions: string (`'…'` literal, `"…"` interpolated), integer and decimal literals,
//!   `true`/`false`/`null`, lists `[a, b]`, ranges `[1..n]`, maps `{'k': v}`; `!`/`not`,
//!   `&&`/`and`, `||`/`or`, `==`/`!=`/`<`/`<=`/`>`/`>=` (and `eq`, `ne`, `lt`, …), `+ - * / %`.
//!   Equality compares numbers numerically and other mixed types by their rendered forms;
//!   truthiness is Velocity 1.7's (only null and `false` are false), and so is `#set` with a
//!   null value: the target keeps its previous value.
//! - `$input`: `.body` (`{}` when the payload is empty, as API Gateway gives it),
//!   `.path(jsonpath)` (the value, for further navigation; null when the path does not
//!   resolve), `.json(jsonpath)` (the JSON text; empty when the path does not resolve),
//!   `.params()`, `.params(name)` (path, then query string, then headers, case-insensitively;
//!   empty string when absent). JSONPath is RFC 9535 shaped as Jayway's ([`crate::jsonpath`]).
//! - `$util`: `escapeJavaScript`, `base64Encode`, `base64Decode`, `urlEncode`, `urlDecode`,
//!   `parseJson` (each gives null when given null).
//! - `$context.*` and `$stageVariables.*` from the request.
//! - Methods of strings (`length`, `isEmpty`, `trim`, `toLowerCase`, `toUpperCase`, `contains`,
//!   `startsWith`, `endsWith`, `equals`, `equalsIgnoreCase`, `indexOf`, `lastIndexOf`, `charAt`,
//!   `substring`, `replace`, `replaceAll`, `replaceFirst`, `matches`, `split`, `concat`,
//!   `toString`), lists (`size`, `isEmpty`, `get`, `contains`, `indexOf`, `add`, `addAll`,
//!   `remove`, `clear`), maps (`size`, `isEmpty`, `get`, `containsKey`, `keySet`, `values`,
//!   `entrySet`, `put`, `putAll`, `remove`, `clear`) and numbers (`intValue`, `doubleValue`).
//!   Values render (and `toString()`) as API Gateway renders them: a list as compact JSON at
//!   any depth (`[{"foo":"bar"}]`), a map Java-style (`{foo=bar}`) with the lists inside it as
//!   JSON (`{foo=[{"nested":"bar"}]}`). This holds for lists built in the template too
//!   (`[1, 2]` renders `[1,2]`).
//!
//! Whitespace follows Velocity 2's "lines" mode: a directive alone on its line takes the line's
//! indentation and line break with it.
//!
//! # Not supported
//! `#macro`, `#define`, `#parse`, `#include`, `#evaluate` (rejected when the template is parsed);
//! Java reflection (`$s.class`); `#foreach` over more than 100 000 items per render.

mod ast;
mod eval;
mod parse;
pub(crate) mod util;

use std::collections::BTreeMap;

use serde_json::Value;

use super::error::Result;

/// A parsed mapping template.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    nodes: Vec<ast::Node>,
}

/// The request parameters a template sees through `$input.params()`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RequestParams {
    /// Path parameters.
    pub path: BTreeMap<String, String>,
    /// Query string parameters (the last value of each).
    pub querystring: BTreeMap<String, String>,
    /// Headers (the last value of each).
    pub header: BTreeMap<String, String>,
}

/// What a template is rendered against.
#[derive(Debug, Clone, Copy)]
pub struct TemplateInput<'a> {
    /// The payload: the method request body for request templates, the integration response
    /// body for response templates.
    pub body: &'a str,
    /// Request parameters.
    pub params: &'a RequestParams,
    /// `$context`.
    pub context: &'a Value,
    /// `$stageVariables`.
    pub stage_variables: &'a BTreeMap<String, String>,
}

impl Template {
    /// Parses a template. Errors carry the line and column.
    pub fn parse(source: &str) -> Result<Self> {
        Ok(Self {
            nodes: parse::parse_template(source)?,
        })
    }

    /// Renders the template.
    pub fn render(&self, input: &TemplateInput<'_>) -> Result<String> {
        Ok(self.render_with_context(input)?.0)
    }

    /// Renders the template and also returns `$context` as the template left it, so that
    /// `#set($context.responseOverride.status = 429)` and
    /// `#set($context.requestOverride.header.X = '…')` can be applied by the caller (the
    /// maps must exist in the input context for `#set` to write into them).
    pub fn render_with_context(&self, input: &TemplateInput<'_>) -> Result<(String, Value)> {
        let mut ev = eval::Evaluator::new(input);
        let out = ev.render(&self.nodes)?;
        Ok((out, ev.into_context()))
    }
}

#[cfg(test)]
mod tests;
