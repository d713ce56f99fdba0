//! Lambda entry point: wiring only (logging, configuration once per cold start, the runtime loop).

use kds_consumer::{Consumer, handler};
use kstream_pipeline::config::configure;
use lambda_runtime::{Error, run, service_fn, tracing};

#[tokio::main]
async fn main() -> Result<(), Error> {
    // JSON when AWS_LAMBDA_LOG_FORMAT=JSON; level from AWS_LAMBDA_LOG_LEVEL, then RUST_LOG, then INFO.
    tracing::init_default_subscriber();
    let consumer: Consumer = configure()?;
    run(service_fn(|event| handler(event, &consumer))).await
}
