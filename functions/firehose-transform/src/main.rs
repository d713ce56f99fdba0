//! Lambda entry point: wiring only (logging, the transform compiled once, the runtime loop).

use firehose_transform::{Transformer, handler};
use kstream_pipeline::config::configure;
use lambda_runtime::{Error, run, service_fn};

/// mimalloc (its v2 line) keeps the memory a batch freed for the next one. With the system
/// allocator the megabyte-sized buffers of a 3 MB batch (a 5 MB event, a 4.6 MB response
/// written and then copied by the runtime) come back as fresh pages on every invocation,
/// to fault in and zero: 8.5-10 ms of CPU per batch instead of 3 (bench/firehose-transform).
/// mimalloc v3 hands idle memory back after a second, so batches further apart than that
/// pay it again (with 1.2 s between batches: v3 about as slow as the system allocator, v2
/// still 2-5x faster by wall time).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<(), Error> {
    // JSON when AWS_LAMBDA_LOG_FORMAT=JSON; level from AWS_LAMBDA_LOG_LEVEL, then RUST_LOG, then INFO.
    kstream_pipeline::logging::init();
    let transformer: Transformer = configure()?;
    run(service_fn(|event| handler(event, &transformer))).await
}
