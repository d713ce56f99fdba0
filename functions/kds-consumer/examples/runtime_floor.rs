//! The floor of the kds-consumer benchmark (bench/kds-consumer, side `floor`): the function's
//! binary with everything but the handler's work. The same allocator, single-threaded runtime,
//! log subscriber, tracing layer and event-body layer as `src/main.rs`; the handler takes the
//! event's bytes and answers `{"batchItemFailures":[]}` without reading them.
//!
//! What it costs per batch is what any handler on `lambda_runtime` pays to receive an event of
//! that size over the Runtime API and answer it, before it reads a record: the part of the
//! consumer's CPU time no change to the handler can remove.

use aws_lambda_events::streams::KinesisEventResponse;
use kds_consumer::body::{EventBody, EventBodyLayer};
use lambda_runtime::{Error, LambdaEvent, Runtime, layers, service_fn};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    kstream_pipeline::logging::init();
    let body = EventBody::default();
    let handler = service_fn(|_: LambdaEvent<()>| {
        let taken = body.take().map_or(0, |bytes| bytes.len());
        async move {
            tracing::trace!(bytes = taken, "event received, not read");
            Ok::<_, Error>(KinesisEventResponse::default())
        }
    });
    Runtime::new(handler)
        .layer(layers::TracingLayer::new())
        .layer(EventBodyLayer::new(body.clone()))
        .run()
        .await
}
