//! Lambda entry point: wiring only (logging, the transform compiled once, the runtime loop).

use firehose_transform::{Transformer, handler};
use lambda_runtime::{Error, run, service_fn, tracing};

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
