//! Lambda entry point: wiring only (logging, configuration once per cold start, the S3 client
//! of the failed-record archive when it is on (signed requests, no AWS SDK), the runtime loop).

use std::sync::Arc;

use kds_consumer::body::{EventBody, EventBodyLayer};
use kds_consumer::{Consumer, FUNCTION_NAME, handler_body};
use kstream_pipeline::archive::FailedRecordArchive;
use kstream_pipeline::aws::AwsClient;
use kstream_pipeline::config::configure;
use kstream_pipeline::store::S3Store;
use lambda_runtime::{Error, LambdaEvent, Runtime, layers, service_fn};

/// mimalloc (v2) keeps the memory a batch freed for the next one; with the system allocator
/// the event's buffers (up to Lambda's 6 MB) and the per-record allocations come back as fresh
/// pages to fault in, and freed ones are handed back with `madvise` (bench/kds-consumer).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// One thread: the runtime loop takes one invocation at a time, and the work of a batch is
/// sequential (the archive's concurrent S3 writes are async, not parallel). A multi-threaded
/// runtime only adds wake-ups between its threads (futex calls and context switches, in system
/// time, on every request to the Runtime API).
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    // JSON when AWS_LAMBDA_LOG_FORMAT=JSON; level from AWS_LAMBDA_LOG_LEVEL, then RUST_LOG, then INFO.
    kstream_pipeline::logging::init();
    let mut consumer: Consumer = configure()?;
    if let Some(config) = consumer.archive_config().cloned() {
        let store = S3Store::new(AwsClient::from_env()?, config.bucket.clone());
        let name =
            std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|_| FUNCTION_NAME.into());
        consumer.set_archive(FailedRecordArchive::new(Arc::new(store), &config, name));
    }
    // As `lambda_runtime::run` (its tracing layer), with the event's bytes handed to the
    // handler as they came (`kds_consumer::body`): read once, without copying its strings.
    let body = EventBody::default();
    let handler = service_fn(|event: LambdaEvent<()>| handler_body(event, &body, &consumer));
    Runtime::new(handler)
        .layer(layers::TracingLayer::new())
        .layer(EventBodyLayer::new(body.clone()))
        .run()
        .await
}
