//! Benchmark driver for bench/firehose-transform/run.sh: runs the real handler on a
//! Firehose event file as the Lambda runtime does (the event deserialized through
//! `serde_path_to_error`, like `lambda_runtime`; the response serialized with
//! `serde_json::to_vec`), and prints one JSON line with wall time and CPU time per
//! invocation. The process is single-threaded, so the thread's CPU time
//! (`/proc/thread-self/schedstat`) is the process's. Peak memory is measured from outside
//! (`/usr/bin/time -v`). It uses the Lambda binary's global allocator (mimalloc, see
//! `src/main.rs`).
//!
//! ```sh
//! cargo run --release -p firehose-transform --example transform_bench -- EVENT.json TEMPLATE.hbs 50 5
//! ```

use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use firehose_transform::event::FirehoseEvent;
use firehose_transform::{Transformer, handler};
use kstream_pipeline::Telemetry;
use kstream_pipeline::emf::{EmfSink, MetricsConfig};
use kstream_transform::Transform;
use lambda_runtime::{Context, LambdaEvent};

/// The Lambda binary's allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Discards metrics documents (they are one line per invocation; not what is measured).
struct NullSink;

impl EmfSink for NullSink {
    fn write_document(&self, _line: &[u8]) -> std::io::Result<()> {
        Ok(())
    }
}

/// CPU time of this thread in nanoseconds (first field of `/proc/thread-self/schedstat`).
fn thread_cpu_ns() -> Result<u64, Box<dyn std::error::Error>> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat")?;
    let first = text.split_whitespace().next().ok_or("empty schedstat")?;
    Ok(first.parse()?)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, event_path, template_path, iterations, warmup] = args.as_slice() else {
        return Err("usage: transform_bench EVENT.json TEMPLATE.hbs ITERATIONS WARMUP".into());
    };
    let iterations: usize = iterations.parse()?;
    let warmup: usize = warmup.parse()?;
    let event_bytes = std::fs::read(event_path)?;
    let template = std::fs::read_to_string(template_path)?;

    let transform = Transform::builder().template(template.trim_end()).build()?;
    let transformer = Transformer::builder(transform)
        .telemetry(Telemetry::new(MetricsConfig::builder().build()).with_sink(Arc::new(NullSink)))
        .build();

    let mut times = Vec::with_capacity(iterations);
    let mut cpu_total: u64 = 0;
    let mut records = 0;
    let mut ok = 0;
    let mut response_bytes = 0;
    for i in 0..warmup + iterations {
        let cpu_start = thread_cpu_ns()?;
        let start = Instant::now();
        let event: FirehoseEvent = serde_path_to_error::deserialize(
            &mut serde_json::Deserializer::from_slice(&event_bytes),
        )?;
        records = event.records.len();
        let response = handler(LambdaEvent::new(event, Context::default()), &transformer).await?;
        let body = serde_json::to_vec(&response)?;
        let elapsed = start.elapsed();
        let cpu = thread_cpu_ns()? - cpu_start;
        if i + 1 == warmup + iterations {
            // outside the timed part, once: count the answers through the typed response
            ok = response
                .parse()
                .records
                .iter()
                .filter(|r| r.result.as_deref() == Some("Ok"))
                .count();
        }
        drop(response);
        response_bytes = black_box(body).len();
        if i >= warmup {
            times.push(elapsed.as_secs_f64());
            cpu_total += cpu;
        }
    }
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    let total: f64 = times.iter().sum();
    let line = serde_json::json!({
        "impl": "rust",
        "records": records,
        "ok": ok,
        "event_bytes": event_bytes.len(),
        "response_bytes": response_bytes,
        "iterations": iterations,
        "median_ms": median * 1000.0,
        "mean_ms": total / iterations as f64 * 1000.0,
        "records_per_s": records as f64 / median,
        "cpu_ms": cpu_total as f64 / iterations as f64 / 1e6,
    });
    // The benchmark's output is its result line on stdout.
    use std::io::Write as _;
    writeln!(std::io::stdout(), "{line}")?;
    Ok(())
}
