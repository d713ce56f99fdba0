//! Lambda entry point: wiring only (logging, the fault mode read once per cold start, the
//! runtime loop).

use fare_api::{Faults, handler};
use lambda_http::{Error, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    // JSON when AWS_LAMBDA_LOG_FORMAT=JSON; level from AWS_LAMBDA_LOG_LEVEL, then RUST_LOG, then INFO.
    kstream_pipeline::logging::init();
    // A bad FARE_FAULTS fails the cold start, with the reason in the log.
    let faults = Faults::from_env().inspect_err(|error| tracing::error!(%error, "cannot start"))?;
    if faults.is_on() {
        tracing::warn!(?faults, "FARE_FAULTS is set: fault mode on (tests only)");
    }
    run(service_fn(|request| handler(request, &faults))).await
}
