//! Lambda entry point: wiring only (logging, the transform compiled once, the runtime loop).

use firehose_transform::{Transformer, handler};
use lambda_runtime::{Error, run, service_fn, tracing};

/// mimalloc (its v2 line) keeps the memory a batch freed for the next one. With the system
/// allocator a 3 MB batch (a 5 MB event, a 4.6 MB response written and then copied by the
/// runtime) maps and zeroes fresh pages on every invocation, about a third of its CPU time;
/// mimalloc v3 hands memory back after a second idle, so batches further apart than that
/// pay it again (bench/firehose-transform; with 1.2 s between batches: 3.4 ms of CPU per
/// batch with v2, 9-10 with v3, 11 with the system allocator).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<(), Error> {
    // JSON when AWS_LAMBDA_LOG_FORMAT=JSON; level from AWS_LAMBDA_LOG_LEVEL, then RUST_LOG, then INFO.
    tracing::init_default_subscriber();
    let transformer = Transformer::from_env().inspect_err(|error| {
        tracing::error!(error = %error, "invalid transform configuration; fix the environment");
    })?;
    tracing::info!(config = ?transformer, "firehose-transform configured");
    run(service_fn(|event| handler(event, &transformer))).await
}
