//! kstream pipeline: the record pieces kstream's Lambda functions share.
//!
//! Functions stay thin: they adapt their Lambda event to these pieces and back.
//! Nothing here depends on Lambda event types or on the AWS SDK (the functions' AWS calls are
//! signed here, feature `aws`), so the pieces are cheap to reuse in the CLI and the local data
//! plane.
//!
//! # Layout
//! - [`decode`]: bytes → UTF-8 → JSON object, with a specific [`DecodeError`] per step.
//! - [`outcome`]: [`BatchOutcome`], the failed records of a batch, each once, in
//!   batch order (turned into `batchItemFailures` by the function).
//! - [`kinesis`]: the Kinesis event every consumer function reads (record `data` kept as
//!   base64 text, decoded per record, so one bad record fails alone).
//! - [`emf`]: CloudWatch embedded metric format documents, one per invocation.
//! - [`telemetry`]: [`Telemetry`], a function's EMF configuration and sink, and the
//!   document of each invocation (started with the request id, flushed at its end).
//! - [`config`]: [`FunctionConfig`], a function's configuration read from an [`Env`]
//!   once per cold start, and [`config::configure`] for `main.rs`.
//! - `store` (feature `s3`): `ObjectStore`, whole objects to S3 (`S3Store`) or memory
//!   (`MemoryStore`), for the functions that write to S3.
//! - `aws` (feature `aws`): `AwsClient`, the AWS calls of the functions that make only a few
//!   (S3 PutObject, SSM GetParameter, Secrets Manager GetSecretValue; scheduled-producer's
//!   Kinesis calls through kstream-producer's `signed` feature; redrive's SQS, Kinesis, S3 and
//!   Lambda calls through kstream-redrive's), SigV4-signed without the AWS SDK.
//! - `archive` (feature `s3`): `FailedRecordArchive`, the consumers' optional archive of the
//!   records they report as batch item failures, one S3 object per record.
//! - `https` (feature `https`): the HTTPS connector every client of a function shares, and
//!   `Roots`, the system's root certificates read once for all of them.
//! - `logging` (feature `logging`): the functions' log subscriber (Lambda's logging controls).
//! - [`error`]: the crate's error types.
//!
//! # Function skeleton
//! Every function is `main.rs` (wiring: `config::configure()` then the runtime loop),
//! `lib.rs` (the state built once per cold start, which implements [`FunctionConfig`]
//! and holds a [`Telemetry`], and the handler: `telemetry.start(request_id)`, the
//! batch, `telemetry.finish(&metrics)`), and `error.rs`. The crate's README has the
//! details; `kds-consumer` and `firehose-transform` are the references.
//!
//! The record transform (templates, flattening, filters, partition keys) is its own crate,
//! `kstream-transform`, used by the Firehose processor and `kstream put`.
//!
//! # Example
//! ```
//! use kstream_pipeline::{BatchOutcome, decode::decode_object};
//! use kstream_pipeline::emf::{MemorySink, Metrics, MetricsConfig};
//!
//! let config = MetricsConfig::builder().function_name("demo").build();
//! let mut metrics = Metrics::new(&config);
//! let mut outcome = BatchOutcome::new();
//! for (sequence_number, data) in [("1", &br#"{"ok":true}"#[..]), ("2", b"not json")] {
//!     metrics.count("Records", 1);
//!     if decode_object(data).is_err() {
//!         outcome.fail(sequence_number);
//!     }
//! }
//! metrics.count("FailedRecords", outcome.failed_count());
//! assert_eq!(outcome.failed_ids(), ["2"]);
//!
//! let sink = MemorySink::default();
//! metrics.write_to(&sink, 0).unwrap();
//! assert_eq!(sink.documents()[0]["FailedRecords"], 1);
//! ```

#[cfg(feature = "s3")]
pub mod archive;
#[cfg(feature = "aws")]
pub mod aws;
pub mod config;
pub mod decode;
pub mod emf;
pub mod error;
#[cfg(feature = "https")]
pub mod https;
pub mod kinesis;
#[cfg(feature = "logging")]
pub mod logging;
pub mod outcome;
#[cfg(feature = "https")]
mod roots;
#[cfg(feature = "s3")]
pub mod store;
pub mod telemetry;

pub use config::{Env, FunctionConfig};
pub use error::{ArchiveError, AwsError, DecodeError, EmfError, EnvError, StoreError};
pub use outcome::BatchOutcome;
pub use telemetry::Telemetry;
