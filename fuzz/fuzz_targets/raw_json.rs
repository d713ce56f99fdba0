//! The raw JSON scanner (crates/transform/src/raw.rs) against serde_json: it accepts exactly
//! what `decode_json` (serde_json) accepts, rejects what it rejects (the wording may differ, see below), and every top-level
//! member (and each member one level down) it locates is the JSON text of the value serde_json
//! decodes there.
#![no_main]

use kstream_pipeline::decode::decode_json;
use kstream_transform::raw::RawRecord;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fn same(raw: &RawRecord<'_>, path: &[String], expected: &Value) {
    let text = raw
        .get(path)
        .unwrap_or_else(|| panic!("raw scanner lost {path:?}"));
    assert_eq!(text.trim(), text, "located value has surrounding space");
    let got: Value = serde_json::from_str(text)
        .unwrap_or_else(|e| panic!("located text {text:?} at {path:?} is not JSON: {e}"));
    assert_eq!(&got, expected, "value at {path:?}");
}

fn children(value: &Value) -> Vec<(String, &Value)> {
    match value {
        Value::Object(map) => map.iter().map(|(k, v)| (k.clone(), v)).collect(),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, v)| (i.to_string(), v))
            .collect(),
        _ => Vec::new(),
    }
}

fuzz_target!(|data: &[u8]| {
    let raw = RawRecord::parse(data);
    let value = decode_json(data);
    match (&raw, &value) {
        (Ok(raw), Ok(value)) => {
            for (k, v) in children(value) {
                let path = vec![k];
                same(raw, &path, v);
                for (k2, v2) in children(v).into_iter().take(16) {
                    same(raw, &[path[0].clone(), k2], v2);
                }
            }
            if !matches!(value, Value::Object(_) | Value::Array(_)) {
                assert_eq!(raw.get(&["0".to_owned()]), None);
            }
        }
        // Both refused. The wording may differ: serde_json itself words some errors differently
        // through `RawValue` than through `Value` (a control character one column apart; a bad
        // `\u` escape after a string reported as the missing `,`), and the scanner hands what it
        // refuses to serde_json's `RawValue`.
        (Err(a), Err(b)) => {
            let _ = (a.to_string(), b.to_string());
        }
        (a, b) => panic!("raw scanner and serde_json disagree: {a:?} vs {b:?}"),
    }
});
