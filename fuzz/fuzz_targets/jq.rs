//! The Firehose JQ evaluation (crates/local-firehose jq: jaq with Firehose's rules) on
//! arbitrary queries and records: compile, then extract the partition keys. Never a panic; a
//! query is compiled or refused with a configuration error naming it; extraction gives keys (the
//! same again for the same record) or the message for the error output.
//!
//! Input: the query, a newline, the record.
//!
//! Bounded here as the component documents it (src/jq.rs, "Bounds"): it bounds record size,
//! outputs and time, but NOT the stack of a query that recurses without end (`def f: f; f`
//! aborts the process, as it aborts jaq itself) nor the memory of one evaluation
//! (`[range(1e10)]`). Queries are kept to 256 bytes, and those that can recurse or loop without
//! end (`def`, `recurse`, `repeat`, `while`, `until`, `..`, `range`, `limit`, `*` repetition)
//! are skipped, so the fuzzer explores the rest instead of rediscovering the documented limits.
#![no_main]

use kstream_local_firehose::jq::Query;
use libfuzzer_sys::fuzz_target;

const UNBOUNDED: &[&str] = &[
    "def", "recurse", "repeat", "while", "until", "..", "range", "limit", "*", "input", "getpath",
    "walk", "env",
];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (query, record) = text.split_once('\n').unwrap_or((
        text,
        r#"{"customer_id":"c1","type":{"device":"phone"},"n":1.50}"#,
    ));
    if query.len() > 256 || UNBOUNDED.iter().any(|w| query.contains(w)) {
        return;
    }
    match Query::parse(query) {
        Ok(q) => {
            assert_eq!(q.text(), query);
            match q.extract(record.as_bytes()) {
                // Deterministic: the same record gives the same keys again.
                Ok(keys) => assert_eq!(q.extract(record.as_bytes()), Ok(keys)),
                Err(message) => assert!(!message.is_empty()),
            }
        }
        Err(e) => {
            let message = e.to_string();
            assert!(message.contains("MetadataExtractionQuery"), "{message}");
        }
    }
});
