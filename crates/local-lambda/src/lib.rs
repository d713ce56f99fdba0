//! kstream local's core: the Lambda side of the AWS data plane on one machine.
//!
//! The emulator (moto) stores streams, queues and functions but moves no data between them.
//! This crate runs the functions and the Kinesis → Lambda event source mappings as AWS would,
//! reading what Terraform deployed from the emulator's own APIs. The other services of the local
//! data plane (`kstream-local-apigw`, `kstream-local-firehose`) invoke functions through its
//! [`runtime::FunctionHost`], and `kstream-local` composes them all into `kstream local up`.
//!
//! # Layout
//! - [`runtime`]: the Lambda Runtime API host that runs function binaries (`bootstrap` built for
//!   this machine) as child processes, with Lambda's environment, timeouts and restarts.
//! - [`mapping`]: Kinesis → Lambda event source mappings with AWS's failure semantics
//!   (batch size, batching window, parallelization factor, filter criteria,
//!   `ReportBatchItemFailures`, bisect on error, retries, maximum record age, on-failure SQS),
//!   and their counters ([`mapping::MappingStats`]).
//! - [`deployed`]: reads functions and mappings from the emulator.
//! - [`checkpoint`]: per-mapping shard checkpoints in the state directory.
//! - [`sigv4`]: SigV4 signing of the data plane's own AWS JSON calls.
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
pub mod deployed;
pub mod mapping;
pub mod runtime;
pub mod sigv4;

mod error;

pub use error::{Error, Result};
