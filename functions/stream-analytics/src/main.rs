//! Lambda entry point: wiring only (logging, configuration once per cold start, the S3 client
//! (signed requests, no AWS SDK),
//! the runtime loop).

use kstream_pipeline::Telemetry;
use kstream_pipeline::aws::AwsClient;
use kstream_pipeline::config::configure;
use lambda_runtime::{Error, run, service_fn};
use stream_analytics::{Analytics, Config, FUNCTION_NAME, S3Store, handler};

#[tokio::main]
async fn main() -> Result<(), Error> {
    // JSON when AWS_LAMBDA_LOG_FORMAT=JSON; level from AWS_LAMBDA_LOG_LEVEL, then RUST_LOG, then INFO.
    kstream_pipeline::logging::init();
    let config: Config = configure()?;
    let store = S3Store::new(AwsClient::from_env()?, config.bucket.clone());
    let analytics = Analytics::new(config, store, Telemetry::from_env(FUNCTION_NAME));
    run(service_fn(|event| handler(event, &analytics))).await
}
