//! Redrive: recovers the records of the batches a Kinesis event source mapping gave up.
//!
//! When a mapping gives a batch up (retries exhausted, records too old), Lambda sends its
//! on-failure destination a message that holds only the batch's place in the stream
//! ([`BatchInfo`]: stream, shard, first and last sequence numbers, batch size). A redrive
//! [`Pass`] reads those messages from the SQS queue, reads each range back from the stream
//! while the stream still retains it ([`range`]), and hands the records to a [`Sink`]:
//! - [`S3Sink`]: the user records (KPL aggregates deaggregated) as one JSON-lines object per
//!   range, its key derived from the range, so a second pass writes no duplicate;
//! - [`ReputSink`]: the user records put into the stream again (retrying failed entries);
//! - [`InvokeSink`]: the function invoked with Kinesis events built from the range's records as
//!   Lambda builds them (aggregates as they are in the stream, batches of the message's batch
//!   size and at most 6 MB), through Lambda's API ([`LambdaInvoker`]) or any [`Invoke`].
//!
//! A message is deleted only once its range is handled in full, so a pass run twice is
//! idempotent for what it handled. A range the stream no longer holds (trimmed by retention)
//! is reported and its message left in the queue unless asked otherwise. The [`Summary`]
//! counts what was handled and what is left.
//!
//! Two front ends run passes: `kstream redrive` (the CLI, which adds a file sink, progress and
//! a local invoker) and the `redrive` Lambda function (run by the redrive workflow's state
//! machine, on demand or on a schedule).
//!
//! # Layout
//! - [`message`]: the on-failure message.
//! - [`range`]: reading a range back from its shard.
//! - [`records`]: a range's user records and their JSON lines.
//! - [`sink`]: the [`Sink`] trait; [`s3`], [`reput`], [`invoke`]: the sinks.
//! - [`pass`]: one pass over a queue; [`summary`]: what it did.
//! - [`aws`]: the AWS calls, behind traits (the SDK's clients with feature `sdk`, kstream-pipeline's
//!   signing client with feature `signed`).
//! - [`error`]: why a pass or a range failed.

pub mod aws;
pub mod error;
pub mod invoke;
pub mod message;
pub mod pass;
pub mod range;
pub mod records;
pub mod reput;
pub mod s3;
pub mod sink;
pub mod summary;

pub use aws::{CallError, Functions, Objects, Queue, Stream};
pub use error::{Error, Result};
pub use invoke::{INVOKE_PAYLOAD_MAX_BYTES, Invoke, InvokeSink, LambdaInvoker};
pub use message::{BatchInfo, OnFailureMessage};
pub use pass::{LogObserver, Observer, Pass};
pub use range::RangeRead;
pub use reput::ReputSink;
pub use s3::{S3Prefix, S3Sink, s3_key};
pub use sink::{Handled, Sink};
pub use summary::Summary;
