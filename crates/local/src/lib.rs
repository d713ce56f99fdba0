//! kstream local: the AWS data plane on one machine.
//!
//! The emulator (moto) stores streams, queues and functions but moves no data between them.
//! `kstream local up` does what AWS would, reading what Terraform deployed from the emulator's own
//! APIs. One crate per emulated service does the work; this crate composes them.
//!
//! # Layout
//! - [`lambda`] (`kstream-local-lambda`, the core): the Lambda Runtime API host, Kinesis → Lambda
//!   event source mappings, checkpoints, the deployed functions and mappings.
//! - [`apigw`] (`kstream-local-apigw`): the API Gateway REST executor.
//! - [`firehose`] (`kstream-local-firehose`): Firehose delivery from a Kinesis source to S3.
//! - [`scheduler`] (`kstream-local-scheduler`): EventBridge Scheduler schedules fired at their
//!   Lambda targets.
//! - [`dataplane`]: everything together: `kstream local up`.
//! - [`status`]: the status file `kstream local status` reads, from each service's counters.
//!
//! # Example
//!
//! ```no_run
//! # async fn example() -> kstream_local::Result<()> {
//! use kstream_local::lambda::runtime::{FunctionHost, FunctionSpec};
//!
//! let host = FunctionHost::builder().max_concurrency(4).build();
//! host.register(FunctionSpec::new("demo-kds-consumer", "target/release/kds-consumer"));
//! let outcome = host.invoke("demo-kds-consumer", r#"{"Records":[]}"#).await?;
//! assert!(outcome.error().is_none());
//! # Ok(())
//! # }
//! ```

pub mod dataplane;
pub mod status;

mod error;

pub use error::{Error, Result};
pub use kstream_local_apigw as apigw;
pub use kstream_local_firehose as firehose;
pub use kstream_local_lambda as lambda;
pub use kstream_local_scheduler as scheduler;
