//! Lambda entry point: wiring only (logging, configuration once per cold start, the S3 client,
//! the runtime loop).

use kstream_pipeline::Telemetry;
use kstream_pipeline::config::configure;
use lambda_runtime::{Error, run, service_fn};
use stream_analytics::{Analytics, Config, FUNCTION_NAME, S3Store, handler};

#[tokio::main]
async fn main() -> Result<(), Error> {
    // JSON when AWS_LAMBDA_LOG_FORMAT=JSON; level from AWS_LAMBDA_LOG_LEVEL, then RUST_LOG, then INFO.
    kstream_pipeline::logging::init();
    let config: Config = configure()?;
    let s3 = aws_sdk_s3::Client::new(&kstream_pipeline::sdk::load().await);
    let store = S3Store::new(s3, config.bucket.clone());
    let analytics = Analytics::new(config, store, Telemetry::from_env(FUNCTION_NAME));
    run(service_fn(|event| handler(event, &analytics))).await
}
