//! The record transform behind the Firehose processor: decode → flatten → filter →
//! template → validate → delimit, plus dynamic partition keys.
//!
//! For each record (the bytes Firehose hands over):
//! 1. decode UTF-8 JSON (any JSON value; failures are [`TransformError::Decode`]);
//! 2. flatten it when [`TransformBuilder::flatten`] is on ([`crate::flatten`]);
//! 3. evaluate the filter, if any: a text template whose output, trimmed, is empty,
//!    `false`, `0` or `null` drops the record (`Dropped`). `{{#if}}` and comparisons such
//!    as `{{eq ticker "AMZN"}}` make filters;
//! 4. render the template ([`crate::template`]); without one, the (flattened) record is
//!    written as compact JSON;
//! 5. for JSON output: validate the result ([`TransformError::InvalidOutput`] with the
//!    position) and compact it to one line (whitespace outside strings removed; key order
//!    and values untouched), so newline-delimited output keeps one record per line;
//! 6. append `\n` when newline delimiting is on (default) and the output does not end
//!    with one;
//! 7. render each partition key template (text); an empty key fails the record.
//!
//! Everything that can be checked without data is checked in [`TransformBuilder::build`].
//!
//! # Example: the seed's template
//! ```
//! use kstream_transform::transform::{Transform, Transformed};
//!
//! let transform = Transform::builder()
//!     .template(r#"{ "reading date":  "{{'reading date'}}", "a": {{data}}, "b": {{b}}, "c": {{c}} }"#)
//!     .newline_delimited(false)
//!     .partition_key("month", r#"{{format_date [reading date] "%Y-%m" input="%m/%d/%y"}}"#)
//!     .build()
//!     .unwrap();
//! let out = transform
//!     .apply(br#"{"reading date":"1/4/22","data":"some string","b":10,"c":100}"#)
//!     .unwrap()
//!     .expect("not filtered");
//! assert_eq!(out.data, br#"{"reading date":"1/4/22","a":"some string","b":10,"c":100}"#);
//! assert_eq!(out.partition_keys, [("month".to_owned(), "2022-01".to_owned())]);
//! ```

use handlebars::Context;
use kstream_pipeline::EnvError;
use kstream_pipeline::config::Env;
use kstream_pipeline::decode::decode_json;
use serde_json::Value;

use crate::budget::MAX_PARTITION_KEY_BYTES;
use crate::error::{ConfigError, TemplateError, TransformError};
use crate::flatten::{DEFAULT_SEPARATOR, flatten};
use crate::raw::RawRecord;
use crate::template::{OutputFormat, Templates};

const TEMPLATE: &str = "TEMPLATE";
const FILTER: &str = "FILTER";

/// A transformed record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transformed {
    /// The output bytes (delimiter included).
    pub data: Vec<u8>,
    /// Dynamic partition keys (name, value), in configuration order.
    pub partition_keys: Vec<(String, String)>,
}

/// A compiled transform; build it once per cold start with [`Transform::builder`] or
/// [`Transform::from_env`].
#[derive(Debug)]
pub struct Transform {
    templates: Templates,
    has_template: bool,
    has_filter: bool,
    output: OutputFormat,
    flatten: Option<String>,
    newline: bool,
    partition_keys: Vec<(String, String)>,
    /// Every template has a direct plan and nothing needs a decoded `Value`: records are
    /// read as JSON text ([`crate::raw`]).
    direct: bool,
}

/// Builder for [`Transform`].
#[derive(Debug, Clone)]
pub struct TransformBuilder {
    template: Option<String>,
    output: OutputFormat,
    flatten: bool,
    separator: String,
    filter: Option<String>,
    newline: bool,
    partition_keys: Vec<(String, String)>,
}

impl Default for TransformBuilder {
    fn default() -> Self {
        Self {
            template: None,
            output: OutputFormat::Json,
            flatten: false,
            separator: DEFAULT_SEPARATOR.to_owned(),
            filter: None,
            newline: true,
            partition_keys: Vec::new(),
        }
    }
}

impl TransformBuilder {
    /// The output template. By default, none: the (flattened) record is written as
    /// compact JSON.
    pub fn template(mut self, source: impl Into<String>) -> Self {
        self.template = Some(source.into());
        self
    }

    /// What the template produces. By default, [`OutputFormat::Json`] (validated,
    /// compacted, values encoded for their JSON context).
    pub fn output(mut self, format: OutputFormat) -> Self {
        self.output = format;
        self
    }

    /// Flatten records before templating. By default, off.
    pub fn flatten(mut self, on: bool) -> Self {
        self.flatten = on;
        self
    }

    /// Separator of flattened keys. By default, `.`.
    pub fn flatten_separator(mut self, separator: impl Into<String>) -> Self {
        self.separator = separator.into();
        self
    }

    /// A filter template (see the module docs). By default, none: every record is kept.
    pub fn filter(mut self, source: impl Into<String>) -> Self {
        self.filter = Some(source.into());
        self
    }

    /// Append `\n` to each output record. By default, on. Turn it off when the
    /// delivery stream's `AppendDelimiterToRecord` processor adds the delimiter.
    pub fn newline_delimited(mut self, on: bool) -> Self {
        self.newline = on;
        self
    }

    /// Adds a dynamic partition key rendered by a text template (e.g. `{{ticker}}`),
    /// returned in `metadata.partitionKeys`. By default, there are none.
    /// A repeated name replaces the earlier template.
    pub fn partition_key(mut self, name: impl Into<String>, source: impl Into<String>) -> Self {
        let (name, source) = (name.into(), source.into());
        match self.partition_keys.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = source,
            None => self.partition_keys.push((name, source)),
        }
        self
    }

    /// Compiles and checks every template.
    ///
    /// # Errors
    /// [`TemplateError`] naming the template at fault.
    pub fn build(self) -> Result<Transform, TemplateError> {
        let mut templates = Templates::new();
        if let Some(source) = &self.template {
            templates.add(TEMPLATE, source, self.output)?;
        }
        if let Some(source) = &self.filter {
            templates.add(FILTER, source, OutputFormat::Text)?;
        }
        let mut partition_keys = Vec::with_capacity(self.partition_keys.len());
        for (name, source) in &self.partition_keys {
            let template_name = format!("PARTITION_KEYS.{name}");
            templates.add(&template_name, source, OutputFormat::Text)?;
            partition_keys.push((name.clone(), template_name));
        }
        let direct = self.template.is_some()
            && !self.flatten
            && templates.has_plan(TEMPLATE)
            && (self.filter.is_none() || templates.has_plan(FILTER))
            && partition_keys.iter().all(|(_, t)| templates.has_plan(t));
        Ok(Transform {
            direct,
            templates,
            has_template: self.template.is_some(),
            has_filter: self.filter.is_some(),
            output: self.output,
            flatten: self.flatten.then_some(self.separator),
            newline: self.newline,
            partition_keys,
        })
    }
}

impl Transform {
    /// A builder; see [`TransformBuilder`] for the defaults.
    pub fn builder() -> TransformBuilder {
        TransformBuilder::default()
    }

    /// The transform configured by environment variables:
    ///
    /// | variable | default | meaning |
    /// |---|---|---|
    /// | `TEMPLATE` | — | the Handlebars template, inline |
    /// | `TEMPLATE_FILE` | — | or a file holding it (not both) |
    /// | `OUTPUT_FORMAT` | `json` | `json` or `text` |
    /// | `FLATTEN` | `false` | flatten nested JSON before templating |
    /// | `FLATTEN_SEPARATOR` | `.` | separator of flattened keys |
    /// | `FILTER` | — | filter template; falsy output drops the record |
    /// | `PARTITION_KEYS` | — | JSON object: partition key name → template |
    /// | `NEWLINE_DELIMITER` | `true` | append `\n` to each record |
    ///
    /// Booleans accept `true/false`, `1/0`, `yes/no`, `on/off`.
    ///
    /// # Errors
    /// [`ConfigError`] naming the variable at fault.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_env_with(&Env::process())
    }

    /// As [`from_env`](Self::from_env), reading variables through `lookup`.
    ///
    /// # Errors
    /// As [`from_env`](Self::from_env).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        Self::from_env_with(&Env::from_lookup(lookup))
    }

    /// As [`from_env`](Self::from_env), reading variables from `env` (a function's
    /// [`FunctionConfig`](kstream_pipeline::FunctionConfig) passes its own).
    ///
    /// # Errors
    /// As [`from_env`](Self::from_env).
    pub fn from_env_with(env: &Env<'_>) -> Result<Self, ConfigError> {
        let get = |k: &str| env.get(k);
        let mut builder = Self::builder();
        match (get("TEMPLATE"), get("TEMPLATE_FILE")) {
            (Some(_), Some(_)) => return Err(ConfigError::TwoTemplateSources),
            (Some(t), None) => builder = builder.template(t),
            (None, Some(path)) => {
                let source = std::fs::read_to_string(&path)
                    .map_err(|source| ConfigError::TemplateFile { path, source })?;
                builder = builder.template(source);
            }
            (None, None) => {}
        }
        if let Some(v) = get("OUTPUT_FORMAT") {
            builder = builder.output(match v.to_ascii_lowercase().as_str() {
                "json" => OutputFormat::Json,
                "text" => OutputFormat::Text,
                _ => {
                    return Err(EnvError::Invalid {
                        var: "OUTPUT_FORMAT",
                        value: v,
                        expected: "json or text",
                    }
                    .into());
                }
            });
        }
        if let Some(on) = env.bool("FLATTEN")? {
            builder = builder.flatten(on);
        }
        if let Some(v) = env.get_raw("FLATTEN_SEPARATOR") {
            if v.is_empty() {
                return Err(EnvError::Invalid {
                    var: "FLATTEN_SEPARATOR",
                    value: v,
                    expected: "a non-empty separator",
                }
                .into());
            }
            builder = builder.flatten_separator(v);
        }
        if let Some(v) = get("FILTER") {
            builder = builder.filter(v);
        }
        if let Some(on) = env.bool("NEWLINE_DELIMITER")? {
            builder = builder.newline_delimited(on);
        }
        if let Some(v) = get("PARTITION_KEYS") {
            let keys: serde_json::Map<String, Value> =
                serde_json::from_str(&v).map_err(|e| ConfigError::PartitionKeys {
                    message: e.to_string(),
                })?;
            for (name, source) in keys {
                let Value::String(source) = source else {
                    return Err(ConfigError::PartitionKeys {
                        message: format!("the template of {name} is not a string"),
                    });
                };
                builder = builder.partition_key(name, source);
            }
        }
        Ok(builder.build()?)
    }

    /// Whether records are read as JSON text, without building a `Value` (every template
    /// is text and field substitutions, no flattening).
    pub fn is_direct(&self) -> bool {
        self.direct
    }

    /// The output format.
    pub fn output_format(&self) -> OutputFormat {
        self.output
    }

    /// Transforms one record: `Ok(None)` when the filter drops it.
    ///
    /// # Errors
    /// [`TransformError`]: the record fails (`ProcessingFailed`).
    pub fn apply(&self, input: &[u8]) -> Result<Option<Transformed>, TransformError> {
        let mut data = Vec::with_capacity(input.len() + 16);
        Ok(self
            .apply_to(input, &mut data)?
            .map(|partition_keys| Transformed {
                data,
                partition_keys,
            }))
    }

    /// [`apply`](Self::apply) writing the output into `out`, so that one buffer serves a
    /// whole batch: `Ok(Some(partition_keys))` with the output in `out`, `Ok(None)` when
    /// the filter drops the record. `out` is cleared first; after `Ok(None)` or an error
    /// its content means nothing.
    ///
    /// # Errors
    /// As [`apply`](Self::apply).
    pub fn apply_to(
        &self,
        input: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<Option<Vec<(String, String)>>, TransformError> {
        out.clear();
        if self.direct {
            return self.apply_direct(input, out);
        }
        let mut value = decode_json(input)?;
        if let Some(separator) = &self.flatten {
            value = flatten(value, separator)?;
        }
        let needs_context = self.has_template || self.has_filter || !self.partition_keys.is_empty();
        if !needs_context {
            serde_json::to_writer(&mut *out, &value).map_err(|e| TransformError::Render {
                template: TEMPLATE.to_owned(),
                message: e.to_string(),
            })?;
            self.delimit(out);
            return Ok(Some(Vec::new()));
        }
        let context = Context::from(value);

        if self.has_filter {
            let mut verdict = Vec::new();
            self.templates.render_to(FILTER, &context, &mut verdict)?;
            if !truthy(&verdict) {
                return Ok(None);
            }
        }

        if self.has_template {
            // JSON templates come out validated and compact.
            self.templates.render_to(TEMPLATE, &context, out)?;
        } else {
            serde_json::to_writer(&mut *out, context.data()).map_err(|e| {
                TransformError::Render {
                    template: TEMPLATE.to_owned(),
                    message: e.to_string(),
                }
            })?;
        }
        self.delimit(out);

        let mut partition_keys = Vec::with_capacity(self.partition_keys.len());
        for (name, template) in &self.partition_keys {
            let mut key = Vec::new();
            self.templates.render_to(template, &context, &mut key)?;
            partition_keys.push((name.clone(), partition_key(name, template, key)?));
        }
        Ok(Some(partition_keys))
    }

    /// [`apply_to`](Self::apply_to) for templates of text and field substitutions only:
    /// the record is read as JSON text, no `Value` is built.
    fn apply_direct(
        &self,
        input: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<Option<Vec<(String, String)>>, TransformError> {
        let record = RawRecord::parse(input)?;
        if self.has_filter {
            let mut verdict = Vec::new();
            self.templates.render_raw(FILTER, &record, &mut verdict)?;
            if !truthy(&verdict) {
                return Ok(None);
            }
        }
        self.templates.render_raw(TEMPLATE, &record, out)?;
        self.delimit(out);
        let mut partition_keys = Vec::with_capacity(self.partition_keys.len());
        for (name, template) in &self.partition_keys {
            let mut key = Vec::new();
            self.templates.render_raw(template, &record, &mut key)?;
            partition_keys.push((name.clone(), partition_key(name, template, key)?));
        }
        Ok(Some(partition_keys))
    }

    fn delimit(&self, data: &mut Vec<u8>) {
        if self.newline && data.last() != Some(&b'\n') {
            data.push(b'\n');
        }
    }
}

/// A rendered partition key: non-empty UTF-8 that S3 and Firehose take as one segment of
/// a prefix ([`check_partition_key`]).
fn partition_key(name: &str, template: &str, key: Vec<u8>) -> Result<String, TransformError> {
    if key.is_empty() {
        return Err(TransformError::EmptyPartitionKey {
            name: name.to_owned(),
        });
    }
    let key = String::from_utf8(key).map_err(|e| TransformError::Render {
        template: template.to_owned(),
        message: e.to_string(),
    })?;
    check_partition_key(&key).map_err(|reason| TransformError::InvalidPartitionKey {
        name: name.to_owned(),
        reason,
    })?;
    Ok(key)
}

/// The characters S3's object-key naming guide lists as ones to avoid, which Firehose
/// would copy into the key as they are.
const AVOIDED: &[char] = &[
    '\\', '{', '^', '}', '%', '`', ']', '"', '>', '[', '~', '<', '#', '|',
];

/// Whether a partition-key value from a record can be one segment of an S3 prefix: at
/// most [`MAX_PARTITION_KEY_BYTES`], no `/` (a record could add prefix levels, or climb
/// them with `..`), not `.` or `..`, no control characters (S3: non-printable characters
/// may not survive in keys) and none of the characters S3 says to avoid. The value is
/// checked before it reaches a prefix, so a record cannot write outside its partition.
///
/// # Errors
/// Why the value cannot be used.
pub fn check_partition_key(value: &str) -> Result<(), String> {
    if value.len() > MAX_PARTITION_KEY_BYTES {
        return Err(format!(
            "the value is {} bytes long, more than {MAX_PARTITION_KEY_BYTES} (S3 keys hold 1,024)",
            value.len()
        ));
    }
    if value == "." || value == ".." {
        return Err(format!("the value {value:?} is a relative path segment"));
    }
    if let Some(c) = value
        .chars()
        .find(|c| *c == '/' || c.is_control() || AVOIDED.contains(c))
    {
        return Err(format!(
            "the value {:?} contains {c:?}, which S3 keys cannot hold safely (`/`, control \
             characters and {} are refused)",
            truncated(value),
            AVOIDED.iter().collect::<String>()
        ));
    }
    Ok(())
}

/// The first 64 characters of `value`, for messages.
fn truncated(value: &str) -> String {
    match value.char_indices().nth(64) {
        Some((i, _)) => format!("{}…", &value[..i]),
        None => value.to_owned(),
    }
}

/// A filter's verdict: falsy when the trimmed output is empty, `false`, `0` or `null`.
fn truthy(output: &[u8]) -> bool {
    !matches!(output.trim_ascii(), b"" | b"false" | b"0" | b"null")
}

#[cfg(test)]
mod tests {
    use proptest::prelude::{Just, Strategy, prop_oneof};
    use serde_json::json;

    use super::*;

    const SEED_TEMPLATE: &str =
        r#"{ "reading date":  "{{'reading date'}}", "a": {{data}}, "b": {{b}}, "c": {{c}} }"#;
    const SEED_INPUT: &str = r#"{"reading date":"1/4/22","data":"some string","b":10,"c":100}"#;
    const SEED_OUTPUT: &str = r#"{"reading date":"1/4/22","a":"some string","b":10,"c":100}"#;

    #[test]
    fn seed_example_verbatim() {
        let t = Transform::builder()
            .template(SEED_TEMPLATE)
            .build()
            .unwrap();
        let out = t.apply(SEED_INPUT.as_bytes()).unwrap().unwrap();
        assert_eq!(
            String::from_utf8(out.data).unwrap(),
            format!("{SEED_OUTPUT}\n")
        );
    }

    #[test]
    fn no_template_writes_the_record() {
        let t = Transform::builder()
            .newline_delimited(false)
            .build()
            .unwrap();
        let out = t.apply(b" {\"b\": [1, 2], \"a\": 1} ").unwrap().unwrap();
        assert_eq!(out.data, br#"{"a":1,"b":[1,2]}"#);
    }

    #[test]
    fn flatten_then_template() {
        let t = Transform::builder()
            .flatten(true)
            .template(r#"{"city": {{'user.address.city'}}, "first": {{[items.0.sku]}}}"#)
            .build()
            .unwrap();
        let out = t
            .apply(br#"{"user":{"address":{"city":"Oslo"}},"items":[{"sku":"a"}]}"#)
            .unwrap()
            .unwrap();
        assert_eq!(out.data, b"{\"city\":\"Oslo\",\"first\":\"a\"}\n");

        let t = Transform::builder()
            .flatten(true)
            .flatten_separator("_")
            .build()
            .unwrap();
        let out = t.apply(br#"{"a":{"b":1}}"#).unwrap().unwrap();
        assert_eq!(out.data, b"{\"a_b\":1}\n");
        assert_eq!(
            t.apply(br#"{"a_b":0,"a":{"b":1}}"#),
            Err(TransformError::DuplicateKey { key: "a_b".into() })
        );
    }

    #[test]
    fn filter_drops_falsy_records() {
        let t = Transform::builder()
            .filter(r#"{{eq ticker "AMZN"}}"#)
            .build()
            .unwrap();
        assert!(t.apply(br#"{"ticker":"AMZN"}"#).unwrap().is_some());
        assert!(t.apply(br#"{"ticker":"MSFT"}"#).unwrap().is_none());
        let t = Transform::builder()
            .filter("{{#if keep}}{{keep}}{{/if}}")
            .build()
            .unwrap();
        for (input, kept) in [
            (&br#"{"keep":"yes"}"#[..], true),
            (br#"{"keep":1}"#, true),
            (br#"{"keep":0}"#, false),
            (br#"{"keep":" false "}"#, false),
            (br#"{"keep":null}"#, false),
            (br#"{}"#, false),
        ] {
            assert_eq!(t.apply(input).unwrap().is_some(), kept, "{input:?}");
        }
    }

    #[test]
    fn invalid_json_output_fails_with_position() {
        let t = Transform::builder()
            .template(r#"{"a": {{{raw}}}}"#)
            .build()
            .unwrap();
        let err = t.apply(br#"{"raw":"not json"}"#).unwrap_err();
        assert!(
            matches!(
                &err,
                TransformError::InvalidOutput {
                    line: 1,
                    column: 7,
                    ..
                }
            ),
            "{err:?}"
        );
        assert_eq!(err.kind(), "InvalidOutput");
        // text output is not validated
        let t = Transform::builder()
            .template("{{a}} and {{b}}")
            .output(OutputFormat::Text)
            .build()
            .unwrap();
        let out = t.apply(br#"{"a":"x","b":2}"#).unwrap().unwrap();
        assert_eq!(out.data, b"x and 2\n");
    }

    #[test]
    fn compaction_keeps_strings_and_order() {
        use crate::template::compact_json;
        assert_eq!(
            compact_json(b"{ \"z\" : \"a b\\\" \\\\\" ,\n \"a\": [ 1 , 2 ] }").unwrap(),
            b"{\"z\":\"a b\\\" \\\\\",\"a\":[1,2]}"
        );
    }

    #[test]
    fn partition_keys() {
        let t = Transform::builder()
            .partition_key("ticker", "{{ticker}}")
            .partition_key("dt", r#"{{format_date event_time "%Y-%m-%d"}}"#)
            .build()
            .unwrap();
        let out = t
            .apply(br#"{"ticker":"AMZN","event_time":"2026-11-22T04:00:00Z"}"#)
            .unwrap()
            .unwrap();
        assert_eq!(
            out.partition_keys,
            [
                ("ticker".to_owned(), "AMZN".to_owned()),
                ("dt".to_owned(), "2026-11-22".to_owned())
            ]
        );
        assert_eq!(
            t.apply(br#"{"ticker":"","event_time":"2026-11-22T04:00:00Z"}"#),
            Err(TransformError::EmptyPartitionKey {
                name: "ticker".into()
            })
        );
        assert!(matches!(
            t.apply(br#"{"event_time":"2026-11-22T04:00:00Z"}"#),
            Err(TransformError::Render { .. })
        ));
    }

    #[test]
    fn per_record_errors() {
        let t = Transform::builder()
            .template(SEED_TEMPLATE)
            .build()
            .unwrap();
        assert!(matches!(t.apply(b"{nope"), Err(TransformError::Decode(_))));
        let err = t.apply(br#"{"data":"x","b":1,"c":2}"#).unwrap_err();
        assert_eq!(err.kind(), "RenderError");
        assert_eq!(
            err.to_string(),
            "TEMPLATE: the record has no field `[reading date]` (strict mode)"
        );
    }

    fn env(pairs: &[(&'static str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(&'static str, String)> =
            pairs.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
        move |k| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone())
    }

    #[test]
    fn from_env_reads_every_setting() {
        let t = Transform::from_lookup(env(&[
            ("TEMPLATE", r#"{"t": {{ticker}}}"#),
            ("FILTER", "{{gt price 10}}"),
            ("PARTITION_KEYS", r#"{"ticker":"{{ticker}}"}"#),
            ("NEWLINE_DELIMITER", "false"),
        ]))
        .unwrap();
        let out = t.apply(br#"{"ticker":"A","price":11}"#).unwrap().unwrap();
        assert_eq!(out.data, br#"{"t":"A"}"#);
        assert_eq!(out.partition_keys, [("ticker".into(), "A".into())]);
        assert!(t.apply(br#"{"ticker":"A","price":1}"#).unwrap().is_none());

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.hbs");
        std::fs::write(&path, SEED_TEMPLATE).unwrap();
        let t = Transform::from_lookup(env(&[
            ("TEMPLATE_FILE", path.to_str().unwrap()),
            ("OUTPUT_FORMAT", "JSON"),
            ("FLATTEN", "no"),
        ]))
        .unwrap();
        let out = t.apply(SEED_INPUT.as_bytes()).unwrap().unwrap();
        assert_eq!(out.data, format!("{SEED_OUTPUT}\n").as_bytes());
    }

    #[test]
    fn from_env_errors_name_the_variable() {
        let cases: [(&[(&'static str, &str)], &str); 7] = [
            (
                &[("TEMPLATE", "x"), ("TEMPLATE_FILE", "y")],
                "set TEMPLATE or TEMPLATE_FILE, not both",
            ),
            (
                &[("TEMPLATE_FILE", "/nonexistent/t.hbs")],
                "cannot read TEMPLATE_FILE /nonexistent/t.hbs",
            ),
            (
                &[("OUTPUT_FORMAT", "xml")],
                "OUTPUT_FORMAT=\"xml\": json or text",
            ),
            (&[("FLATTEN", "maybe")], "FLATTEN=\"maybe\": true or false"),
            (
                &[("PARTITION_KEYS", "[1]")],
                "PARTITION_KEYS must be a JSON object",
            ),
            (
                &[("TEMPLATE", "{{upper x}}")],
                "TEMPLATE: unknown helper `upper`",
            ),
            (
                &[("PARTITION_KEYS", r#"{"k":"{{#each}}"}"#)],
                "PARTITION_KEYS.k: malformed template",
            ),
        ];
        for (vars, expected) in cases {
            let err = Transform::from_lookup(env(vars)).unwrap_err().to_string();
            assert!(
                err.starts_with(expected),
                "{err:?} should start with {expected:?}"
            );
        }
    }

    #[test]
    fn unicode_and_escapes_survive() {
        let t = Transform::builder()
            .template(r#"{"name": {{name}}, "quoted": "<{{name}}>"}"#)
            .newline_delimited(false)
            .build()
            .unwrap();
        let out = t
            .apply("{\"name\":\"Zoë \\\"Z\\\"\\n\"}".as_bytes())
            .unwrap()
            .unwrap();
        let v: Value = serde_json::from_slice(&out.data).unwrap();
        assert_eq!(v, json!({"name": "Zoë \"Z\"\n", "quoted": "<Zoë \"Z\"\n>"}));
    }

    /// The direct path (records as JSON text) and the `Value` path (forced here by a
    /// filter block the plan cannot take) give the same JSON and the same errors.
    #[test]
    fn direct_and_value_paths_agree() {
        let templates = [
            SEED_TEMPLATE,
            r#"{"s": "<{{data}}>", "n": {{b}}, "o": {{o}}, "in": "{{o}}", "t": {{{data}}}}"#,
        ];
        let records: [&[u8]; 9] = [
            SEED_INPUT.as_bytes(),
            br#"{"reading date":"x","data":"q\"\\\n\u00e9\/","b":1e2,"c":-0.5,"o":{ "k" : [ 1 , "a b" ] }}"#,
            br#"{"reading date":"x","data":"plain","b":true,"c":null,"o":null}"#,
            br#"{"reading date":"x","data":"d","b":1,"c":2,"o":[ ]}"#,
            br#"{"data":"no date","b":1,"c":2,"o":1}"#,
            b"{\"reading date\": \"x\", \"data\": \"\xff\"}",
            br#"{"reading date": "x""#,
            // found by the transform fuzz target: a partition key from a number spelled `1e2`
            br#"{"reading date":"x","data":1e2,"c":-5.5,"o":{ "k" : [ 0 , "a b" ] }}"#,
            br#"{"reading date":"x","data":-0,"b":1.50,"c":0,"o":{"z":1E+2,"a":[2],"z":3}}"#,
        ];
        for template in templates {
            let direct = Transform::builder()
                .template(template)
                .partition_key("k", "{{data}}")
                .build()
                .unwrap();
            let interpreted = Transform::builder()
                .template(template)
                .partition_key("k", "{{data}}")
                .filter("{{#if 1}}1{{/if}}")
                .build()
                .unwrap();
            assert!(direct.is_direct() && !interpreted.is_direct());
            for record in records {
                let a = direct.apply(record);
                let b = interpreted.apply(record);
                match (&a, &b) {
                    (Ok(Some(a)), Ok(Some(b))) => {
                        let va: Value = serde_json::from_slice(&a.data).unwrap_or(Value::Null);
                        let vb: Value = serde_json::from_slice(&b.data).unwrap_or(Value::Null);
                        assert_eq!(va, vb, "{template} / {}", String::from_utf8_lossy(record));
                        assert_eq!(a.partition_keys, b.partition_keys);
                        assert!(
                            a.data.ends_with(b"\n") && !a.data[..a.data.len() - 1].contains(&b'\n')
                        );
                    }
                    (Err(a), Err(b)) => assert_eq!(a.kind(), b.kind(), "{a} / {b}"),
                    _ => panic!("{template}: {a:?} vs {b:?}"),
                }
            }
        }
    }

    /// A number as a record may spell it: sign, integer digits, fraction, exponent (out of
    /// `f64`'s range too: both paths then refuse the record).
    fn spelled_number() -> impl Strategy<Value = String> {
        (
            "-?",
            "0|[1-9][0-9]{0,20}",
            "(\\.[0-9]{1,4})?",
            "([eE][+-]?[0-9]{1,3})?",
        )
            .prop_map(|(sign, int, frac, exp)| format!("{sign}{int}{frac}{exp}"))
    }

    /// A JSON value as a record may write it: spelled numbers, objects with keys in any order
    /// (duplicates too), whitespace.
    fn record_value() -> impl Strategy<Value = String> {
        let leaf = prop_oneof![
            4 => spelled_number(),
            1 => Just("true".to_owned()),
            1 => Just("null".to_owned()),
            1 => "\"[a-z \u{e9}]{0,4}\"",
        ];
        leaf.prop_recursive(2, 12, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4)
                    .prop_map(|items| format!("[ {} ]", items.join(" , "))),
                proptest::collection::vec(("[a-d]", inner), 0..4).prop_map(|members| {
                    let members: Vec<String> = members
                        .iter()
                        .map(|(k, v)| format!("\"{k}\" : {v}"))
                        .collect();
                    format!("{{{}}}", members.join(","))
                }),
            ]
        })
    }

    /// Direct and interpreted transforms (a JSON template, one with values inside strings, a
    /// text one), each with two partition keys, built once.
    fn path_pairs() -> &'static [(Transform, Transform, OutputFormat)] {
        static PAIRS: std::sync::OnceLock<Vec<(Transform, Transform, OutputFormat)>> =
            std::sync::OnceLock::new();
        PAIRS.get_or_init(|| {
            let in_strings =
                r#"{"s": "<{{data}}>", "n": {{b}}, "o": {{o}}, "in": "{{o}}", "t": {{{b}}}}"#;
            [
                (SEED_TEMPLATE, OutputFormat::Json),
                (in_strings, OutputFormat::Json),
                ("{{data}}|{{b}}|{{o}}|{{{o}}}", OutputFormat::Text),
            ]
            .into_iter()
            .map(|(template, output)| {
                let build = |filter: bool| {
                    let mut t = Transform::builder()
                        .template(template)
                        .output(output)
                        .partition_key("k", "{{data}}")
                        .partition_key("b", "{{b}}");
                    if filter {
                        t = t.filter("{{#if 1}}1{{/if}}");
                    }
                    t.build().unwrap()
                };
                let (direct, interpreted) = (build(false), build(true));
                assert!(direct.is_direct() && !interpreted.is_direct());
                (direct, interpreted, output)
            })
            .collect()
        })
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]

        /// The direct and the `Value` paths give the same JSON, the same text and the same
        /// partition keys byte for byte, whatever the record's spelling: a value written as
        /// text (in a string, a partition key, text output) is written as the decoded value.
        #[test]
        fn both_paths_give_the_same_text_for_any_spelling(
            data in record_value(),
            b in record_value(),
            o in record_value(),
        ) {
            let record = format!(r#"{{"reading date":"x","data":{data},"b":{b},"c":1,"o":{o}}}"#);
            for (direct, interpreted, output) in path_pairs() {
                let output = *output;
                match (direct.apply(record.as_bytes()), interpreted.apply(record.as_bytes())) {
                    (Ok(Some(a)), Ok(Some(b))) => {
                        proptest::prop_assert_eq!(&a.partition_keys, &b.partition_keys);
                        if output == OutputFormat::Json {
                            let va: Value = serde_json::from_slice(&a.data).unwrap();
                            let vb: Value = serde_json::from_slice(&b.data).unwrap();
                            proptest::prop_assert_eq!(va, vb, "{}", record);
                        } else {
                            proptest::prop_assert_eq!(
                                String::from_utf8_lossy(&a.data),
                                String::from_utf8_lossy(&b.data),
                                "{}", record
                            );
                        }
                    }
                    (Err(a), Err(b)) => {
                        proptest::prop_assert_eq!(a.kind(), b.kind(), "{} / {}", a, b);
                    }
                    (a, b) => proptest::prop_assert!(false, "{record}: {a:?} vs {b:?}"),
                }
            }
        }
    }
}
