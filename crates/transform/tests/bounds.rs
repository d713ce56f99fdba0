//! Issue 13: records that cross a per-record budget ([`kstream_transform::budget`]) fail
//! alone, with a reason, and the next record transforms; the fast (raw JSON) path and the
//! `Value` path agree on every input, depth limit included; partition-key values from
//! records are checked before they reach a prefix.

use kstream_transform::{OutputFormat, Transform, TransformError};
use serde_json::{Value, json};

fn over_budget(err: &TransformError) -> bool {
    matches!(err, TransformError::OverBudget { .. }) && err.kind() == "OverBudget"
}

/// Issue 13: FLATTEN over a long key and a long array failed the process; now the
/// record fails alone and the next one transforms.
#[test]
fn flatten_blowup_fails_the_record_alone() {
    let t = Transform::builder().flatten(true).build().unwrap();
    let key = "k".repeat(10_000);
    let zeros = vec!["0"; 10_000].join(",");
    let record = format!("{{\"{key}\":[{zeros}]}}");
    let err = t.apply(record.as_bytes()).unwrap_err();
    assert!(over_budget(&err), "{err:?}");
    assert_eq!(
        err.to_string(),
        "flattening exceeds the per-record limit of 4500000 output bytes"
    );
    assert_eq!(
        t.apply(br#"{"a":{"b":[1]}}"#).unwrap().unwrap().data,
        b"{\"a.b.0\":1}\n"
    );
}

/// `{{#each}}` nested over the record's own array: output grows with n², and stops at
/// the output budget; with empty bodies, the iteration budget stops it.
#[test]
fn each_amplification_fails_the_record_alone() {
    // 400 items of 1,000 bytes: 160 MB of output asked for, 4,500 bodies rendered
    let long = format!("\"{}\"", "x".repeat(1_000));
    let items = format!("[{}]", vec![long.as_str(); 400].join(","));
    let record = format!(r#"{{"items":{items},"n":1}}"#);
    let t = Transform::builder()
        .template("{{#each items}}{{#each ../items}}{{this}}{{/each}}{{/each}}")
        .output(OutputFormat::Text)
        .build()
        .unwrap();
    let err = t.apply(record.as_bytes()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the transformed record exceeds the per-record limit of 4500000 bytes"
    );
    // 1,001 short items, empty bodies: 1,003,002 iterations asked for, nothing written
    let record = format!(r#"{{"items":[{}],"n":1}}"#, vec!["0"; 1_001].join(","));
    let t = Transform::builder()
        .template(r#"{"n": {{n}}{{#each items}}{{#each ../items}}{{/each}}{{/each}}}"#)
        .build()
        .unwrap();
    let err = t.apply(record.as_bytes()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "block iterations exceeds the per-record limit of 1000000 iterations"
    );
    // within the budgets: the same templates work, the count restarts per record
    let small = r#"{"items":["a","b"],"n":1}"#;
    for _ in 0..3 {
        assert_eq!(
            t.apply(small.as_bytes()).unwrap().unwrap().data,
            b"{\"n\":1}\n"
        );
    }
    // a fast-path template repeating a large field is bounded too
    let big = format!(r#"{{"s":"{}"}}"#, "x".repeat(1_000_000));
    let t = Transform::builder()
        .template(r#"[{{s}},{{s}},{{s}},{{s}},{{s}}]"#)
        .build()
        .unwrap();
    assert!(t.is_direct());
    assert!(over_budget(&t.apply(big.as_bytes()).unwrap_err()));
    let t = Transform::builder()
        .template(r#"[{{s}},{{s}},{{s}},{{s}}]"#)
        .build()
        .unwrap();
    assert!(t.apply(big.as_bytes()).is_ok());
}

fn nested(depth: usize) -> String {
    format!(
        r#"{{"a":1,"d":{}1{}}}"#,
        "[".repeat(depth),
        "]".repeat(depth)
    )
}

/// The fast path read JSON nested 200,000 deep that the `Value` path rejects at 128.
#[test]
fn both_paths_reject_the_same_depth() {
    let direct = Transform::builder().template("{{a}}").build().unwrap();
    let value = Transform::builder()
        .template("{{a}}")
        .filter("{{#if 1}}1{{/if}}")
        .build()
        .unwrap();
    assert!(direct.is_direct() && !value.is_direct());
    // the object is one level: arrays 126 deep make 127, the most serde_json takes
    for depth in [1, 125, 126] {
        assert!(direct.apply(nested(depth).as_bytes()).is_ok(), "{depth}");
        assert!(value.apply(nested(depth).as_bytes()).is_ok(), "{depth}");
    }
    for depth in [127, 128, 200_000] {
        let a = direct.apply(nested(depth).as_bytes()).unwrap_err();
        let b = value.apply(nested(depth).as_bytes()).unwrap_err();
        assert_eq!(a, b, "{depth}");
        assert!(a.to_string().contains("recursion limit exceeded"), "{a}");
    }
}

#[test]
fn partition_key_values_are_checked() {
    let t = Transform::builder()
        .template("{{a}}")
        .partition_key("k", "{{k}}")
        .build()
        .unwrap();
    for ok in [
        "AMZN",
        "2026-11-22",
        "a b",
        "é😀",
        "x=1",
        "a.b",
        &"k".repeat(512),
    ] {
        let record = json!({"a": 1, "k": ok}).to_string();
        let out = t.apply(record.as_bytes()).unwrap().unwrap();
        assert_eq!(out.partition_keys, [("k".to_owned(), ok.to_owned())]);
    }
    for (bad, why) in [
        ("../../etc", "contains '/'"),
        ("a/b", "contains '/'"),
        ("..", "relative path segment"),
        ("tab\there", "contains '\\t'"),
        ("nul\u{0}", "contains '\\0'"),
        ("a#b", "contains '#'"),
        ("{x}", "contains '{'"),
        ("100%", "contains '%'"),
        (&"k".repeat(513), "513 bytes long, more than 512"),
    ] {
        let record = json!({"a": 1, "k": bad}).to_string();
        let err = t.apply(record.as_bytes()).unwrap_err();
        assert_eq!(err.kind(), "InvalidPartitionKey", "{bad}");
        assert!(
            err.to_string()
                .starts_with("partition key k cannot be used in an S3 prefix: ")
        );
        assert!(err.to_string().contains(why), "{bad}: {err}");
    }
}

/// JSON values of every kind: nested, strings needing escapes, unicode, numbers.
fn json_value() -> impl proptest::strategy::Strategy<Value = Value> {
    use proptest::prelude::*;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        ".{0,12}".prop_map(Value::String),
        proptest::sample::select(vec![
            "",
            "\"",
            "\\",
            "\n\t\r",
            "\u{1}\u{1f}",
            "é😀",
            "</>",
            "\u{2028}"
        ])
        .prop_map(|s| Value::String(s.to_owned())),
    ];
    leaf.prop_recursive(6, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::btree_map(".{0,6}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(200))]

    /// The fast (raw JSON) path and the `Value` path give the same output, or both
    /// fail with the same kind, on any record: values of every kind in every template
    /// context, the record compact or pretty, nested up to past the depth limit.
    #[test]
    fn fast_and_value_paths_agree(
        a in json_value(),
        b in json_value(),
        pretty in proptest::prelude::any::<bool>(),
        depth in proptest::prelude::prop_oneof![0..4usize, 124..130usize],
    ) {
        let mut d = b;
        for _ in 0..depth {
            d = Value::Array(vec![d]);
        }
        let record = json!({"a": a, "b": {"c": d}});
        let text = if pretty {
            serde_json::to_string_pretty(&record).unwrap()
        } else {
            serde_json::to_string(&record).unwrap()
        };
        // past the depth limit serde_json cannot write it pretty either way; compact text
        let text = if depth >= 124 { text.replace('\n', "") } else { text };
        for template in [
            r#"{"v": {{a}}, "s": "<{{a}}>", "c": {{b.c}}, "t": {{{a}}}}"#,
            r#"{"v": {{b}}, "in": "{{b.c}}"}"#,
        ] {
            let direct = Transform::builder().template(template).partition_key("k", "x{{a}}").build().unwrap();
            let value = Transform::builder()
                .template(template)
                .partition_key("k", "x{{a}}")
                .filter("{{#if 1}}1{{/if}}")
                .build()
                .unwrap();
            proptest::prop_assert!(direct.is_direct() && !value.is_direct());
            match (direct.apply(text.as_bytes()), value.apply(text.as_bytes())) {
                (Ok(Some(x)), Ok(Some(y))) => {
                    let vx: Value = serde_json::from_slice(&x.data).unwrap();
                    let vy: Value = serde_json::from_slice(&y.data).unwrap();
                    proptest::prop_assert_eq!(vx, vy);
                    proptest::prop_assert_eq!(x.partition_keys, y.partition_keys);
                }
                (Err(x), Err(y)) => proptest::prop_assert_eq!(x.kind(), y.kind(), "{} / {}", x, y),
                (x, y) => proptest::prop_assert!(false, "{:?} vs {:?}", x, y),
            }
        }
    }
}
