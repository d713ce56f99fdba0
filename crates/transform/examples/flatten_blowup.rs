//! The issue 13 flatten case: a record of N KB, a long key over a long array of zeros
//! (a third of the bytes in the key, two thirds in `0,` elements), through a `FLATTEN=true`
//! transform. Run under `/usr/bin/time -v` to see the peak memory:
//! `cargo run --release -p kstream-transform --example flatten_blowup -- 30`.

use kstream_transform::Transform;

fn main() {
    let kb: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(30);
    let record = blowup_record(kb * 1000);
    let transform = Transform::builder()
        .flatten(true)
        .build()
        .expect("valid transform");
    let started = std::time::Instant::now();
    let result = transform.apply(&record);
    let elapsed = started.elapsed();
    match result {
        Ok(Some(out)) => eprintln!(
            "record {} bytes -> output {} bytes in {elapsed:?}",
            record.len(),
            out.data.len()
        ),
        Ok(None) => eprintln!("record {} bytes filtered", record.len()),
        Err(e) => eprintln!(
            "record {} bytes -> failed alone in {elapsed:?}: {} ({e})",
            record.len(),
            e.kind()
        ),
    }
}

/// `{"kkk…": [0,0,…]}` of about `size` bytes.
fn blowup_record(size: usize) -> Vec<u8> {
    let key = "k".repeat(size / 3);
    let zeros = vec!["0"; size / 3].join(",");
    format!("{{\"{key}\":[{zeros}]}}").into_bytes()
}
