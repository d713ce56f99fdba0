//! Issue 13's hostile records through a transform, one per run, to measure the peak memory
//! of each under `/usr/bin/time -v`:
//!
//! ```sh
//! cargo build --release -p kstream-transform --example bad_record
//! /usr/bin/time -v target/release/examples/bad_record flatten 30   # 30 KB: long key × long array, FLATTEN=true
//! /usr/bin/time -v target/release/examples/bad_record each         # nested {{#each}} over the record's array
//! /usr/bin/time -v target/release/examples/bad_record iterate      # nested {{#each}} with empty bodies
//! /usr/bin/time -v target/release/examples/bad_record deep         # JSON nested 200,000 deep, fast path
//! ```

use kstream_transform::{OutputFormat, Transform};

fn main() {
    let mut args = std::env::args().skip(1);
    let case = args.next().unwrap_or_else(|| "flatten".to_owned());
    let kb: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(30);
    let builder = Transform::builder();
    let (transform, record) = match case.as_str() {
        "flatten" => (builder.flatten(true), flatten_record(kb * 1000)),
        "each" => (
            builder
                .template("{{#each items}}{{#each ../items}}{{this}}{{/each}}{{/each}}")
                .output(OutputFormat::Text),
            items_record(),
        ),
        "iterate" => (
            builder.template(r#"{"n": 1{{#each items}}{{#each ../items}}{{/each}}{{/each}}}"#),
            items_record(),
        ),
        "deep" => (
            builder.template("{{a}}"),
            format!(
                r#"{{"a":1,"d":{}0{}}}"#,
                "[".repeat(200_000),
                "]".repeat(200_000)
            )
            .into_bytes(),
        ),
        other => panic!("unknown case {other}: flatten, each, iterate or deep"),
    };
    let transform = transform.build().expect("valid transform");
    let started = std::time::Instant::now();
    let result = transform.apply(&record);
    let elapsed = started.elapsed();
    match result {
        Ok(Some(out)) => eprintln!(
            "{case}: record {} bytes -> output {} bytes in {elapsed:?}",
            record.len(),
            out.data.len()
        ),
        Ok(None) => eprintln!("{case}: record {} bytes filtered", record.len()),
        Err(e) => eprintln!(
            "{case}: record {} bytes -> failed alone in {elapsed:?}: {} ({e})",
            record.len(),
            e.kind()
        ),
    }
}

/// `{"kkk…": [0,0,…]}` of about `size` bytes: a third of them in the key, two thirds in
/// `0,` elements.
fn flatten_record(size: usize) -> Vec<u8> {
    let key = "k".repeat(size / 3);
    let zeros = vec!["0"; size / 3].join(",");
    format!("{{\"{key}\":[{zeros}]}}").into_bytes()
}

/// `{"items": ["xxxxxxxxxx", … 3,000 times]}` (36 KB).
fn items_record() -> Vec<u8> {
    format!(
        r#"{{"items":[{}]}}"#,
        vec!["\"xxxxxxxxxx\""; 3_000].join(",")
    )
    .into_bytes()
}
