//! Lambda entry point: wiring only (logging, the AWS clients once per cold start, the runtime
//! loop).

use lambda_runtime::{Error, run, service_fn};
use redrive::{Clients, handler};

#[tokio::main]
async fn main() -> Result<(), Error> {
    // JSON when AWS_LAMBDA_LOG_FORMAT=JSON; level from AWS_LAMBDA_LOG_LEVEL, then RUST_LOG, then INFO.
    kstream_pipeline::logging::init();
    let clients = Clients::new(kstream_pipeline::aws::AwsClient::from_env()?);
    run(service_fn(|event| handler(event, &clients))).await
}
