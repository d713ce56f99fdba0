//! The Firehose transform end to end on an arbitrary record, under the memory limit the fuzz
//! scripts pass (`-rss_limit_mb=512`): with flattening off and on, through the direct path
//! (records read as JSON text: templates of text and substitutions) and the interpreted path
//! (a `Value` and Handlebars: a filter block forces it), JSON and text output.
//!
//! Asserted: no panic; the direct and the interpreted transforms give the same JSON, the same
//! text (byte for byte) and the same partition keys, or fail with the same kind of error; JSON
//! output is one valid JSON document ended by one newline; the output stays bounded (linear in
//! the record without flattening: each template copies a field at most a few times).
#![no_main]

use kstream_transform::{OutputFormat, Transform, TransformError, Transformed};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use std::sync::OnceLock;

/// JSON templates, each with a direct plan (text and substitutions), and how many times at
/// most each copies a value of the record.
const TEMPLATES: [(&str, usize); 4] = [
    (
        r#"{ "reading date":  "{{'reading date'}}", "a": {{data}}, "b": {{b}}, "c": {{c}} }"#,
        4,
    ),
    (
        r#"{"s": "<{{data}}>", "n": {{b}}, "o": {{o}}, "in": "{{o}}", "t": {{{data}}}}"#,
        5,
    ),
    (
        r#"{"deep": {{o.k}}, "first": {{o.k.[0]}}, "second": "{{o.k.[1]}}"}"#,
        3,
    ),
    (r#"[{{a}}, "{{a}}", {{b}}]"#, 3),
];
const FILTER_FORCING_VALUE_PATH: &str = "{{#if 1}}1{{/if}}";
/// A text-output template (as partition keys are): the values written as text, compared byte
/// for byte between the paths (a number's spelling, an object's key order are the content).
const TEXT_TEMPLATE: &str = "{{data}}|{{b}}|{{o}}|{{{o}}}";

struct Pair {
    direct: Transform,
    interpreted: Transform,
    copies: usize,
}

fn transforms() -> &'static [Pair] {
    static ALL: OnceLock<Vec<Pair>> = OnceLock::new();
    ALL.get_or_init(|| {
        TEMPLATES
            .iter()
            .map(|&(template, copies)| {
                let direct = Transform::builder()
                    .template(template)
                    .partition_key("k", "{{data}}")
                    .build()
                    .expect("template compiles");
                let interpreted = Transform::builder()
                    .template(template)
                    .partition_key("k", "{{data}}")
                    .filter(FILTER_FORCING_VALUE_PATH)
                    .build()
                    .expect("template compiles");
                assert!(direct.is_direct() && !interpreted.is_direct());
                Pair {
                    direct,
                    interpreted,
                    copies,
                }
            })
            .collect()
    })
}

fn text_pair() -> &'static (Transform, Transform) {
    static PAIR: OnceLock<(Transform, Transform)> = OnceLock::new();
    PAIR.get_or_init(|| {
        let build = |filter: bool| {
            let mut t = Transform::builder()
                .template(TEXT_TEMPLATE)
                .output(OutputFormat::Text)
                .partition_key("k", "{{b}}");
            if filter {
                t = t.filter(FILTER_FORCING_VALUE_PATH);
            }
            t.build().expect("text template compiles")
        };
        let pair = (build(false), build(true));
        assert!(pair.0.is_direct() && !pair.1.is_direct());
        pair
    })
}

/// Transforms through the `Value` path without a direct twin; the first writes the flattened
/// record itself, so its output must be flat.
fn flattening() -> &'static [Transform] {
    static ALL: OnceLock<Vec<Transform>> = OnceLock::new();
    ALL.get_or_init(|| {
        vec![
            Transform::builder().flatten(true).build().expect("flatten"),
            Transform::builder()
                .flatten(true)
                .flatten_separator("__")
                .template(TEMPLATES[0].0)
                .build()
                .expect("flatten + template"),
            Transform::builder()
                .flatten(true)
                .output(OutputFormat::Text)
                .template("{{data}}|{{b}}")
                .build()
                .expect("flatten + text"),
            Transform::builder().build().expect("identity"),
        ]
    })
}

fn json_line(out: &Transformed) -> Value {
    let (last, body) = out.data.split_last().expect("output is never empty");
    assert_eq!(*last, b'\n', "JSON output ends with a newline");
    assert!(!body.contains(&b'\n'), "one JSON document per line");
    serde_json::from_slice(body).unwrap_or_else(|e| {
        panic!(
            "JSON output is not JSON ({e}): {:?}",
            String::from_utf8_lossy(body)
        )
    })
}

fn same_failure(a: &TransformError, b: &TransformError) {
    assert_eq!(a.kind(), b.kind(), "{a} / {b}");
}

fuzz_target!(|record: &[u8]| {
    for pair in transforms() {
        let a = pair.direct.apply(record);
        let b = pair.interpreted.apply(record);
        match (&a, &b) {
            (Ok(Some(a)), Ok(Some(b))) => {
                assert_eq!(
                    json_line(a),
                    json_line(b),
                    "direct and interpreted paths differ"
                );
                assert_eq!(a.partition_keys, b.partition_keys);
                let bound = pair.copies * 2 * record.len() + 256;
                assert!(
                    a.data.len() <= bound,
                    "{} bytes out of {}",
                    a.data.len(),
                    record.len()
                );
            }
            (Err(a), Err(b)) => same_failure(a, b),
            _ => panic!("direct and interpreted paths disagree: {a:?} vs {b:?}"),
        }
    }
    let (direct, interpreted) = text_pair();
    match (direct.apply(record), interpreted.apply(record)) {
        (Ok(Some(a)), Ok(Some(b))) => {
            assert_eq!(
                String::from_utf8_lossy(&a.data),
                String::from_utf8_lossy(&b.data),
                "direct and interpreted text differ"
            );
            assert_eq!(a.partition_keys, b.partition_keys);
        }
        (Err(a), Err(b)) => same_failure(&a, &b),
        (a, b) => panic!("direct and interpreted text paths disagree: {a:?} vs {b:?}"),
    }
    for (i, t) in flattening().iter().enumerate() {
        match t.apply(record) {
            Ok(Some(out)) => {
                if t.output_format() == OutputFormat::Json {
                    let v = json_line(&out);
                    // Flattened: no non-empty object or array is left inside.
                    if let (0, Value::Object(map)) = (i, &v) {
                        let nested = |v: &Value| match v {
                            Value::Object(m) => !m.is_empty(),
                            Value::Array(a) => !a.is_empty(),
                            _ => false,
                        };
                        assert!(!map.values().any(nested), "not flat: {v}");
                    }
                }
                // Flattening repeats each key's path once per leaf: at most quadratic.
                let n = record.len() + 1;
                assert!(
                    out.data.len() <= n * n + 256,
                    "{} bytes out of {n}",
                    out.data.len()
                );
            }
            Ok(None) => panic!("no filter, yet the record was dropped"),
            Err(e) => {
                let _ = e.to_string();
            }
        }
    }
});
