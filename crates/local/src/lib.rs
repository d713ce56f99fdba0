//! kstream local: the AWS data plane on one machine.
//!
//! The emulator (moto) stores streams, queues and functions but moves no data between them.
//! This crate does what AWS would, reading what Terraform deployed from the emulator's own APIs:
//!
//! # Layout
//! - [`runtime`]: the Lambda Runtime API host that runs function binaries (`bootstrap` built for
//!   this machine) as child processes, with Lambda's environment, timeouts and restarts.
//! - [`mapping`]: Kinesis → Lambda event source mappings with AWS's failure semantics
//!   (batch size, batching window, parallelization factor, filter criteria,
//!   `ReportBatchItemFailures`, bisect on error, retries, maximum record age, on-failure SQS).
//! - [`deployed`]: reads functions and mappings from the emulator.
//! - [`dataplane`]: everything together: `kstream local up`.
//! - [`checkpoint`]: per-mapping shard checkpoints in the state directory.
//! - [`status`]: counters, and the status file `kstream local status` reads.
//! - [`apigw`]: the API Gateway REST executor.
//! - [`firehose`]: Firehose delivery from a Kinesis source to S3.
//!
//! # Example
//!
//! ```no_run
//! # async fn example() -> kstream_local::Result<()> {
//! use kstream_local::runtime::{FunctionHost, FunctionSpec};
//!
//! let host = FunctionHost::builder().max_concurrency(4).build();
//! host.register(FunctionSpec::new("demo-kds-consumer", "target/release/kds-consumer"));
//! let outcome = host.invoke("demo-kds-consumer", r#"{"Records":[]}"#).await?;
//! assert!(outcome.error().is_none());
//! # Ok(())
//! # }
//! ```

pub mod apigw;
pub mod checkpoint;
pub mod dataplane;
pub mod deployed;
pub mod firehose;
pub mod mapping;
pub mod runtime;
mod sigv4;
pub mod status;

mod error;

pub use error::{Error, Result};
