//! kstream local's core: the Lambda side of the AWS data plane on one machine.
//!
//! The emulator (moto) stores streams, queues and functions but moves no data between them.
//! This crate runs the functions and the Kinesis → Lambda event source mappings as AWS would,
//! reading what Terraform deployed from the emulator's own APIs. The other services of the local
//! data plane (`kstream-local-apigw`, `kstream-local-firehose`, `kstream-local-scheduler`)
//! invoke functions through its [`runtime::FunctionHost`], and `kstream-local` composes them all
//! into `kstream local up`.
//!
//! # Layout
//! - [`runtime`]: the Lambda Runtime API host that runs function binaries (`bootstrap` built for
//!   this machine) as child processes, with Lambda's environment, timeouts and restarts.
//! - [`mapping`]: Kinesis → Lambda event source mappings with AWS's failure semantics
//!   (batch size, batching window, parallelization factor, filter criteria,
//!   `ReportBatchItemFailures`, bisect on error, retries, maximum record age, on-failure SQS,
//!   tumbling windows ([`mapping::window`]), stream consumers), and their counters
//!   ([`mapping::MappingStats`]).
//! - [`deployed`]: reads functions and mappings from the emulator (see below).
//! - [`invoke_api`]: Lambda's `Invoke` API for the host's functions (the emulator's other Lambda
//!   operations passed through), which functions that invoke functions reach through
//!   `AWS_ENDPOINT_URL_LAMBDA`.
//! - [`checkpoint`]: per-mapping shard checkpoints in the state directory.
//! - [`sigv4`]: SigV4 signing of the data plane's own AWS JSON calls.
//!
//! # How a service crate reads what Terraform deployed
//!
//! Every service crate of the local data plane (this one, `kstream-local-apigw`,
//! `kstream-local-firehose`, `kstream-local-scheduler`) reads its part of the deployment the same way, and the other crates'
//! docs link here:
//!
//! - a `pub mod deployed` holds it, with one entry point,
//!   `pub async fn load(sdk: &aws_config::SdkConfig) -> Result<…>`, that builds its own clients
//!   from the SDK configuration (`AWS_ENDPOINT_URL` names the emulator) and returns what is
//!   deployed as the crate's own types ([`deployed::load`] here);
//! - listings go through the SDK paginators, `.into_paginator().items().send().try_collect()`,
//!   with the page size of the old hand-written loops where there was one; an operation whose
//!   SDK model has no paginator (Firehose `ListDeliveryStreams`) keeps a loop on its own marker,
//!   in that module only;
//! - an SDK error becomes the crate's own `error.rs` variant for AWS calls, through one
//!   constructor, `Error::aws(operation, err)`: `operation` is `Service.Operation`
//!   (`Lambda.ListFunctions`, `APIGateway.GetRestApis`, `Firehose.DescribeDeliveryStream`) and
//!   the message is the SDK error rendered with `DisplayErrorContext` (which keeps the
//!   service's code and message);
//! - one `tracing::debug!` line per thing found (function, mapping, REST API, API key, usage
//!   plan, delivery stream), with its name as a field; what is found but not run is a `warn!` at
//!   start-up, by the caller;
//! - filtering by the deployment's name prefix is the caller's (`kstream-local`), except where
//!   reading a thing costs further calls (Firehose: `deployed::load_matching`).
//!
//! # Example
//!
//! ```no_run
//! # async fn example() -> kstream_local_lambda::Result<()> {
//! use kstream_local_lambda::runtime::{FunctionHost, FunctionSpec};
//!
//! let host = FunctionHost::builder().max_concurrency(4).build();
//! host.register(FunctionSpec::new("demo-kds-consumer", "target/release/kds-consumer"));
//! let outcome = host.invoke("demo-kds-consumer", r#"{"Records":[]}"#).await?;
//! assert!(outcome.error().is_none());
//! # Ok(())
//! # }
//! ```

pub mod checkpoint;
#[cfg(feature = "sdk")]
pub mod deployed;
pub mod invoke_api;
pub mod mapping;
pub mod runtime;
pub mod sigv4;

mod error;

pub use error::{Error, Result};
