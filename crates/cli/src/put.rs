//! `kstream put`: JSON lines from a file or stdin into a stream, one record per line.
//!
//! Partition keys, in order of precedence:
//! 1. `--partition-key-template`: a Handlebars template rendered over the record by
//!    `kstream-transform`, the engine of the Firehose processor (text output: strings as they
//!    are, other values as JSON text, `null` as nothing; strict: a missing field is an error
//!    for that line; no HTML escaping; the built-in helpers and `format_date`; a malformed
//!    template or an unknown helper is rejected before anything is sent), e.g. `'{{ticker}}'`
//!    or `'{{region}}-{{customer.id}}'`;
//! 2. `--partition-key-field`: the value of one top-level field (strings as they are, other
//!    values as JSON text);
//! 3. otherwise the hex MD5 of the line, so identical lines share a shard and distinct lines
//!    spread evenly.
//!
//! Keys longer than 256 characters are cut to their first 256 characters (never inside a
//! UTF-8 sequence), as the Conduit connector does. A line that is not JSON, renders an empty
//! key, or is larger than the stream's record size limit is reported with its line number and
//! not sent; the other lines still are, and the command exits non-zero. The data sent is the
//! line as read, without its line ending (`--newline` keeps a `\n`).

use std::path::PathBuf;
use std::time::Instant;

use kstream_producer::UserRecord;
use kstream_transform::{OutputFormat, Templates};
use md5::{Digest, Md5};
use serde_json::Value;

use crate::aws::ConnectArgs;
use crate::feed::LineFeed;
use crate::input;
use crate::producing::{self, ProducerArgs, Tracker};

/// The longest partition key Kinesis accepts, in characters.
const MAX_KEY_CHARS: usize = 256;

/// Arguments of `kstream put`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The stream to put records into.
    #[arg(long, short)]
    stream: String,
    /// JSON lines to send (plain, gzip or LZ4); `-` or nothing reads stdin.
    file: Option<PathBuf>,
    #[command(flatten)]
    keys: KeyArgs,
    /// Append a newline to each record's data.
    #[arg(long)]
    newline: bool,
    #[command(flatten)]
    pub(crate) producer: ProducerArgs,
    #[command(flatten)]
    connect: ConnectArgs,
}

/// How partition keys are made from JSON records (shared with `replay`).
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct KeyArgs {
    /// Handlebars template over the record giving its partition key, e.g. '{{ticker}}' (strict:
    /// a missing field fails the line; helpers as in the Firehose transform, e.g. format_date).
    #[arg(long, value_name = "TEMPLATE", conflicts_with = "partition_key_field")]
    pub(crate) partition_key_template: Option<String>,
    /// Top-level field whose value is the partition key (default: the MD5 of the line).
    #[arg(long, value_name = "FIELD")]
    pub(crate) partition_key_field: Option<String>,
}

/// Makes partition keys for JSON records.
pub(crate) struct KeyMaker {
    kind: KeyKind,
}

enum KeyKind {
    Template(Box<Templates>),
    Field(String),
    Hash,
}

/// The template's name in its error messages.
const TEMPLATE: &str = "--partition-key-template";

impl KeyMaker {
    /// Compiles the template, if any.
    pub(crate) fn new(args: &KeyArgs) -> miette::Result<Self> {
        let kind = if let Some(template) = &args.partition_key_template {
            let mut templates = Templates::new();
            templates
                .add(TEMPLATE, template, OutputFormat::Text)
                .map_err(|e| {
                    miette::miette!(
                        help = "templates look like '{{ticker}}' or '{{region}}-{{customer.id}}'",
                        "invalid template {template:?}: {e}"
                    )
                })?;
            KeyKind::Template(Box::new(templates))
        } else if let Some(field) = &args.partition_key_field {
            KeyKind::Field(field.clone())
        } else {
            KeyKind::Hash
        };
        Ok(Self { kind })
    }

    /// The partition key of a record (`line` is its raw text, `record` its JSON), cut to 256
    /// characters.
    pub(crate) fn key(&self, line: &[u8], record: &Value) -> Result<String, String> {
        let key = match &self.kind {
            KeyKind::Template(templates) => templates
                .render(TEMPLATE, record)
                .map_err(|e| e.to_string())?,
            KeyKind::Field(field) => match record.get(field) {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Null) | None => {
                    return Err(format!("no field {field:?} for the partition key"));
                }
                Some(other) => other.to_string(),
            },
            KeyKind::Hash => hex(&Md5::digest(line)),
        };
        let key = trim_key(&key);
        if key.is_empty() {
            return Err("the partition key is empty".to_owned());
        }
        Ok(key.to_owned())
    }
}

/// The first 256 characters of `key` (a prefix on a character boundary).
pub(crate) fn trim_key(key: &str) -> &str {
    match key.char_indices().nth(MAX_KEY_CHARS) {
        Some((end, _)) => &key[..end],
        None => key,
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Runs `kstream put`.
pub(crate) async fn run(args: Args) -> miette::Result<()> {
    let keys = KeyMaker::new(&args.keys)?;
    let lines = input::lines(args.file.clone())?;
    let session = args.producer.start(&args.connect, &args.stream).await?;
    let bar = producing::progress(None, "records");
    bar.set_message(format!("→ {}", args.stream));
    let tracker = Tracker::new(bar.clone());
    let mut feed = LineFeed::new(lines, producing::interrupt(), bar.clone());
    let started = Instant::now();
    while let Some(line) = feed.next().await {
        let record: Value = match serde_json::from_slice(&line.bytes) {
            Ok(v) => v,
            Err(e) => {
                feed.reject(line.label(), format_args!("not JSON: {e}"));
                continue;
            }
        };
        let key = match keys.key(&line.bytes, &record) {
            Ok(key) => key,
            Err(e) => {
                feed.reject(line.label(), e);
                continue;
            }
        };
        let label = line.label();
        let mut data = line.bytes;
        if args.newline {
            data.push(b'\n');
        }
        let record = UserRecord::new(key, data);
        if !feed
            .send(&session.producer, &tracker, label, record)
            .await?
        {
            break;
        }
    }
    let (_, failed) = producing::finish(session, tracker, bar, started).await;
    let (sent, rejected) = (feed.sent, feed.rejected);
    feed.into_result()?;
    if failed + rejected > 0 {
        return Err(miette::miette!(
            "{} line(s) not put: {rejected} rejected before sending, {failed} failed ({sent} sent)",
            failed + rejected
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn maker(template: Option<&str>, field: Option<&str>) -> KeyMaker {
        KeyMaker::new(&KeyArgs {
            partition_key_template: template.map(str::to_owned),
            partition_key_field: field.map(str::to_owned),
        })
        .unwrap()
    }

    #[test]
    fn templates_render_over_the_record() {
        let keys = maker(Some("{{ticker}}-{{venue.name}}"), None);
        let record = json!({"ticker": "AAPL", "venue": {"name": "<NYSE>"}});
        assert_eq!(
            keys.key(b"", &record).unwrap(),
            "AAPL-<NYSE>",
            "no HTML escaping"
        );
        let err = keys.key(b"", &json!({"ticker": "AAPL"})).unwrap_err();
        assert!(err.contains("venue"), "{err}");
    }

    /// The Handlebars set-up `put` had before it used kstream-transform's engine.
    fn plain_handlebars(template: &str) -> handlebars::Handlebars<'static> {
        let mut hb = handlebars::Handlebars::new();
        hb.set_strict_mode(true);
        hb.register_escape_fn(handlebars::no_escape);
        hb.register_template_string("t", template).unwrap();
        hb
    }

    /// For scalar values, built-in helpers and blocks, keys are what the plain Handlebars
    /// set-up rendered, and a missing field fails in both.
    #[test]
    fn templates_render_as_plain_handlebars_did() {
        let record = json!({
            "ticker": "AAPL", "html": "<a href=\"x\">&amp;'</a>", "unicode": "Zoë \u{1}\n",
            "n": 42, "neg": -1.5, "big": 12345678901234567890_u64, "yes": true, "no": false,
            "none": null, "venue": {"name": "NYSE", "id": 7}, "tags": ["a", 2, true],
            "reading date": "1/4/22",
        });
        let templates = [
            "{{ticker}}",
            "{{{ticker}}}",
            "{{html}}|{{{html}}}",
            "{{unicode}}",
            "{{n}}-{{neg}}-{{big}}-{{yes}}-{{no}}",
            "[{{none}}]",
            "{{venue.name}}/{{venue.id}}/{{tags.1}}/{{tags.[2]}}",
            "{{[reading date]}}",
            "  {{~ticker~}}  ",
            "{{#if yes}}{{ticker}}{{else}}none{{/if}}",
            "{{#unless no}}{{n}}{{/unless}}",
            "{{#each tags}}{{@index}}={{this}};{{/each}}",
            "{{#with venue}}{{name}}-{{id}}{{/with}}",
            "{{eq ticker \"AAPL\"}} {{gt n 10}} {{and yes no}} {{not no}} {{len tags}}",
            "{{lookup venue \"name\"}}",
            "{{#if (eq ticker \"AAPL\")}}a{{/if}}",
            "\\{{ticker}}",
            "{{! a comment }}{{ticker}}",
        ];
        for template in templates {
            let expected = plain_handlebars(template).render("t", &record).unwrap();
            let key = maker(Some(template), None).key(b"", &record).unwrap();
            assert_eq!(key, expected, "{template}");
        }
        for template in [
            "{{missing}}",
            "{{venue.missing}}",
            "{{#with nothing}}x{{/with}}",
        ] {
            assert!(plain_handlebars(template).render("t", &record).is_err());
            let err = maker(Some(template), None).key(b"", &record).unwrap_err();
            assert!(err.starts_with("--partition-key-template: "), "{err}");
        }
    }

    /// Where the engine differs from plain Handlebars, on purpose: objects and arrays are
    /// their JSON text (as with --partition-key-field), a quoted literal alone is a field
    /// lookup, unknown helpers fail before anything is sent, and format_date exists.
    #[test]
    fn engine_additions_over_plain_handlebars() {
        let record = json!({"venue": {"name": "NYSE"}, "tags": ["a", 1], "reading date": "1/4/22",
            "ts": "2026-11-22T04:05:06Z"});
        let key = |template: &str| maker(Some(template), None).key(b"", &record).unwrap();
        assert_eq!(key("{{venue}}|{{tags}}"), r#"{"name":"NYSE"}|["a",1]"#);
        assert_eq!(key("{{'reading date'}}"), "1/4/22");
        assert_eq!(key(r#"{{format_date ts "%Y-%m-%d"}}"#), "2026-11-22");
        for bad in [
            "{{upper venue.name}}",
            r#"{{format_date ts "%Q"}}"#,
            "{{> partial}}",
        ] {
            let err = KeyMaker::new(&KeyArgs {
                partition_key_template: Some(bad.into()),
                partition_key_field: None,
            })
            .err()
            .unwrap();
            assert!(
                err.to_string().contains("--partition-key-template"),
                "{err}"
            );
        }
    }

    #[test]
    fn bad_templates_are_rejected_up_front() {
        let err = KeyMaker::new(&KeyArgs {
            partition_key_template: Some("{{#if}}".into()),
            partition_key_field: None,
        })
        .err()
        .unwrap();
        assert!(
            err.to_string().contains("--partition-key-template"),
            "{err}"
        );
    }

    #[test]
    fn empty_and_long_template_keys() {
        let keys = maker(Some("{{a}}"), None);
        assert_eq!(
            keys.key(b"", &json!({"a": ""})).unwrap_err(),
            "the partition key is empty"
        );
        assert_eq!(
            keys.key(b"", &json!({"a": null})).unwrap_err(),
            "the partition key is empty"
        );
        let key = keys.key(b"", &json!({"a": "é".repeat(300)})).unwrap();
        assert_eq!(key.chars().count(), 256);
    }

    #[test]
    fn fields_and_hashes() {
        let keys = maker(None, Some("id"));
        assert_eq!(keys.key(b"", &json!({"id": "x"})).unwrap(), "x");
        assert_eq!(keys.key(b"", &json!({"id": 42})).unwrap(), "42");
        assert!(keys.key(b"", &json!({"other": 1})).is_err());
        let hashed = maker(None, None);
        let key = hashed.key(b"{\"a\":1}", &json!({"a": 1})).unwrap();
        assert_eq!(key.len(), 32);
        assert_eq!(key, hashed.key(b"{\"a\":1}", &json!({})).unwrap(), "stable");
    }

    #[test]
    fn keys_are_cut_to_256_characters_on_char_boundaries() {
        let long = "é".repeat(300);
        let cut = trim_key(&long);
        assert_eq!(cut.chars().count(), 256);
        assert_eq!(cut.len(), 512);
        assert_eq!(trim_key("short"), "short");
        let keys = maker(None, Some("k"));
        let key = keys.key(b"", &json!({"k": "x".repeat(1000)})).unwrap();
        assert_eq!(key.len(), 256);
        assert!(maker(None, Some("k")).key(b"", &json!({"k": ""})).is_err());
    }
}
