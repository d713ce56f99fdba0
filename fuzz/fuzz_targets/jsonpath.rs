//! JSONPath (crates/local-apigw jsonpath: Jayway's syntax on serde_json_path) on arbitrary
//! paths and documents: never a panic; a path that parses evaluates to a value or nothing when
//! definite, always to a list when not; `$` gives the document itself.
//!
//! Input: the path, a newline, the document (JSON; when it is not, a fixed document is used).
#![no_main]

use kstream_local_apigw::jsonpath::JsonPath;
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (path, doc) = text.split_once('\n').unwrap_or((text, ""));
    if path.len() > 512 {
        return;
    }
    let doc: Value = serde_json::from_str(doc).unwrap_or_else(
        |_| json!({"records": [{"data": "a", "n": 1}, {"data": "b", "n": 3}], "c": "x"}),
    );
    if let Ok(p) = JsonPath::parse(path) {
        match (p.is_definite(), p.eval(&doc)) {
            (false, Some(Value::Array(_))) | (true, _) => {}
            (false, other) => panic!("indefinite path {path:?} gave {other:?}"),
        }
    }
    let root = JsonPath::parse("$").expect("root").eval(&doc);
    assert_eq!(root.as_ref(), Some(&doc));
});
