//! Producer benchmark: sustained user records per second per shard against a local endpoint
//! that enforces Kinesis' shard write limits (1000 records/s and 1 MiB/s per shard, token
//! buckets, entries beyond them throttled).
//!
//! ```text
//! bench_producer run [--mode aggregate|raw] [--seconds 15] [--warmup 3] [--record-size 100]
//!                    [--keys 16] [--shards 1] [--endpoint URL]
//! bench_producer serve [--port 0] [--shards 1]   # the endpoint alone, for the Python peer
//! ```
//!
//! `run` prints one JSON line: user records and user bytes per second per shard, measured over
//! `--seconds` after a `--warmup` that spends the buckets' initial one-second burst, and the
//! CPU time the process spent meanwhile. With `--endpoint` the producer talks to an endpoint
//! started by `serve` in another process, so the CPU time is the producer's alone.

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
    endpoint: Option<String>,
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
        endpoint: None,
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
            "--endpoint" => o.endpoint = Some(value),
            other => return Err(format!("unknown flag {other}")),
        }
    }
    Ok(o)
}

#[tokio::main]
async fn main() -> Result<(), String> {
    let o = options()?;
    if o.command == "run"
        && let Some(url) = &o.endpoint
    {
        return run(&o, &client(url), None).await;
    }
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
        "run" => run(&o, &fake.client(), Some(&fake)).await,
        other => Err(format!("unknown command {other} (run or serve)")),
    }
}

/// A client for an endpoint served by another process.
fn client(url: &str) -> aws_sdk_kinesis::Client {
    let config = aws_sdk_kinesis::Config::builder()
        .behavior_version(aws_sdk_kinesis::config::BehaviorVersion::latest())
        .region(aws_sdk_kinesis::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_kinesis::config::Credentials::new(
            "test", "test", None, None, "bench",
        ))
        .endpoint_url(url)
        .build();
    aws_sdk_kinesis::Client::from_conf(config)
}

/// User plus system CPU time of this process, from /proc/self/stat (Linux).
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return f64::NAN;
    };
    // Fields after the command name (which may hold spaces) start at field 3.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(f64::NAN)
    };
    // utime and stime are fields 14 and 15 (1-based), i.e. 11 and 12 here; 100 ticks/s.
    (ticks(11) + ticks(12)) / 100.0
}

async fn run(
    o: &Options,
    client: &aws_sdk_kinesis::Client,
    fake: Option<&FakeKinesis>,
) -> Result<(), String> {
    let config = ProducerConfig::builder()
        .stream_name(STREAM)
        .aggregation_enabled(o.mode == "aggregate")
        .build()
        .map_err(|e| e.to_string())?;
    let producer = std::sync::Arc::new(
        Producer::new(client.clone(), config)
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
    let throttled_before = fake.map(FakeKinesis::throttled);
    let cpu_before = cpu_seconds();
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs_f64(o.seconds)).await;
    let after = producer.metrics();
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu_before;
    feeder.abort();
    let shards = o.shards as f64;
    let records =
        (after.totals.user_records_put - before.totals.user_records_put) as f64 / elapsed / shards;
    let bytes = (after.totals.user_records_data_put - before.totals.user_records_data_put) as f64
        / elapsed
        / shards;
    let kinesis_bytes = (after.totals.kinesis_records_data_put
        - before.totals.kinesis_records_data_put) as f64
        / elapsed
        / shards;
    let kinesis_records = (after.totals.kinesis_records_put - before.totals.kinesis_records_put)
        as f64
        / elapsed
        / shards;
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
        "throttled_entries_per_s": fake
            .zip(throttled_before)
            .map(|(f, before)| (f.throttled() - before) as f64 / elapsed),
        "cpu_seconds": cpu,
        "cpu_ms_per_10k_records": cpu * 1000.0 / (records * shards * elapsed / 10_000.0),
        "retries": after.totals.retries - before.totals.retries,
        "failed": after.totals.user_records_failed,
    });
    println!("{line}");
    Ok(())
}
