//! Lambda entry point: wiring only (logging, configuration once per cold start, the Kinesis
//! client, the runtime loop).

use kstream_pipeline::Telemetry;
use kstream_pipeline::aws::AwsClient;
use kstream_pipeline::config::configure;
use lambda_runtime::{Error, run, service_fn};
use scheduled_producer::{Config, FUNCTION_NAME, ScheduledProducer, handler};

#[tokio::main]
async fn main() -> Result<(), Error> {
    // JSON when AWS_LAMBDA_LOG_FORMAT=JSON; level from AWS_LAMBDA_LOG_LEVEL, then RUST_LOG, then INFO.
    kstream_pipeline::logging::init();
    let config: Config = configure()?;
    // Credentials, region and endpoint from the environment Lambda sets (no SDK).
    let kinesis = AwsClient::from_env()?;
    let producer = ScheduledProducer::new(config, kinesis, Telemetry::from_env(FUNCTION_NAME));
    run(service_fn(|event| handler(event, &producer))).await
}
