//! kstream pipeline: the record pieces kstream's Lambda functions share.
//!
//! Functions stay thin: they adapt their Lambda event to these pieces and back.
//! Nothing here depends on Lambda event types or the AWS SDK, so the pieces are
//! cheap to reuse in the CLI and the local data plane.
//!
//! # Layout
//! - [`decode`]: bytes → UTF-8 → JSON object, with a specific [`DecodeError`] per step.
//! - [`outcome`]: [`BatchOutcome`], the failed records of a batch, each once, in
//!   batch order (turned into `batchItemFailures` by the function).
//! - [`emf`]: CloudWatch embedded metric format documents, one per invocation.
//! - [`error`]: the crate's error types.
//!
//! The record transform (templates, flattening, filters, partition keys) is its own crate,
//! `kstream-transform`, used by the Firehose processor and `kstream put`.
//!
//! # Example
//! ```
//! use kstream_pipeline::{BatchOutcome, decode::decode_object};
//! use kstream_pipeline::emf::{MemorySink, Metrics, MetricsConfig};
//!
//! let config = MetricsConfig::builder().dimension("FunctionName", "demo").build();
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

pub mod decode;
pub mod emf;
pub mod error;
pub mod outcome;

pub use error::{DecodeError, EmfError};
pub use outcome::BatchOutcome;
