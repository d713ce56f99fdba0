//! Producer benchmark: sustained user records per second per shard against a local endpoint
//! that enforces Kinesis' shard write limits (1000 records/s and 1 MiB/s per shard, token
//! buckets, entries beyond them throttled).
//!
//! ```text
//! bench_producer run [--mode aggregate|raw] [--seconds 15] [--warmup 3] [--record-size 100]
//!                    [--keys 16] [--shards 1]
//! bench_producer serve [--port 0] [--shards 1]   # the endpoint alone, for the Python peer
//! ```
//!
//! `run` prints one JSON line: user records and user bytes per second per shard, measured over
//! `--seconds` after a `--warmup` that spends the buckets' initial one-second burst.

// A benchmark's results are its output.
#![allow(clippy::print_stdout)]

use std::time::{Duration, Instant};

use kstream_producer::{Producer, ProducerConfig, UserRecord};

#[path = "../tests/support/fake_kinesis.rs"]
mod fake_kinesis;

use fake_kinesis::FakeKinesis;

const STREAM: &str = "bench";

struct Options {
    command: String,
    mode: String,
    seconds: f64,
    warmup: f64,
    record_size: usize,
    keys: usize,
    shards: usize,
    port: u16,
}

fn options() -> Result<Options, String> {
    let mut args = std::env::args().skip(1);
    let mut o = Options {
        command: args.next().unwrap_or_else(|| "run".into()),
        mode: "aggregate".into(),
        seconds: 15.0,
        warmup: 3.0,
        record_size: 100,
        keys: 16,
        shards: 1,
        port: 0,
    };
    while let Some(flag) = args.next() {
        let value = args.next().ok_or(format!("{flag} needs a value"))?;
        let bad = |e: &dyn std::fmt::Display| format!("{flag} {value}: {e}");
        match flag.as_str() {
            "--mode" => o.mode = value,
            "--seconds" => o.seconds = value.parse().map_err(|e| bad(&e))?,
            "--warmup" => o.warmup = value.parse().map_err(|e| bad(&e))?,
            "--record-size" => o.record_size = value.parse().map_err(|e| bad(&e))?,
            "--keys" => o.keys = value.parse().map_err(|e| bad(&e))?,
            "--shards" => o.shards = value.parse().map_err(|e| bad(&e))?,
            "--port" => o.port = value.parse().map_err(|e| bad(&e))?,
            other => return Err(format!("unknown flag {other}")),
        }
    }
    Ok(o)
}

#[tokio::main]
async fn main() -> Result<(), String> {
    let o = options()?;
    let fake = FakeKinesis::builder(STREAM)
        .shards(o.shards)
        .enforce_limits(true)
        .port(o.port)
        .start()
        .await;
    match o.command.as_str() {
        "serve" => {
            // The Python peer reads this line to find the endpoint.
            println!("{}", fake.url());
            tokio::signal::ctrl_c().await.map_err(|e| e.to_string())?;
            Ok(())
        }
        "run" => run(&o, &fake).await,
        other => Err(format!("unknown command {other} (run or serve)")),
    }
}

async fn run(o: &Options, fake: &FakeKinesis) -> Result<(), String> {
    let config = ProducerConfig::builder()
        .stream_name(STREAM)
        .aggregation_enabled(o.mode == "aggregate")
        .build()
        .map_err(|e| e.to_string())?;
    let producer = std::sync::Arc::new(
        Producer::new(fake.client(), config)
            .await
            .map_err(|e| e.to_string())?,
    );
    let keys: Vec<String> = (0..o.keys).map(|i| format!("key-{i}")).collect();
    let payload = vec![b'x'; o.record_size];
    let feeder = {
        let producer = producer.clone();
        let payload = bytes::Bytes::from(payload);
        tokio::spawn(async move {
            let mut i = 0usize;
            loop {
                let key = keys[i % keys.len()].clone();
                if producer
                    .put(UserRecord::new(key, payload.clone()))
                    .await
                    .is_err()
                {
                    return;
                }
                i += 1;
            }
        })
    };
    tokio::time::sleep(Duration::from_secs_f64(o.warmup)).await;
    let before = producer.metrics();
    let throttled_before = fake.throttled();
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs_f64(o.seconds)).await;
    let after = producer.metrics();
    let elapsed = started.elapsed().as_secs_f64();
    feeder.abort();
    let shards = o.shards as f64;
    let records = (after.user_records_put - before.user_records_put) as f64 / elapsed / shards;
    let bytes =
        (after.user_records_data_put - before.user_records_data_put) as f64 / elapsed / shards;
    let kinesis_bytes = (after.kinesis_records_data_put - before.kinesis_records_data_put) as f64
        / elapsed
        / shards;
    let kinesis_records =
        (after.kinesis_records_put - before.kinesis_records_put) as f64 / elapsed / shards;
    let line = serde_json::json!({
        "impl": "rust kstream-producer",
        "mode": o.mode,
        "shards": o.shards,
        "record_size": o.record_size,
        "seconds": elapsed,
        "user_records_per_s_per_shard": records,
        "user_bytes_per_s_per_shard": bytes,
        "fraction_of_1mib": bytes / (1024.0 * 1024.0),
        "kinesis_records_per_s_per_shard": kinesis_records,
        "wire_efficiency": if kinesis_bytes > 0.0 { bytes / kinesis_bytes } else { 0.0 },
        "throttled_entries_per_s": (fake.throttled() - throttled_before) as f64 / elapsed,
        "retries": after.retries - before.retries,
        "failed": after.user_records_failed,
    });
    println!("{line}");
    Ok(())
}
