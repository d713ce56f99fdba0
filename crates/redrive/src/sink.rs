//! Where a range's records go: the [`Sink`] trait and what handling a range did.

use std::future::Future;

use kstream_local_lambda::mapping::event::StreamRecord;

use crate::error::Result;
use crate::message::BatchInfo;

/// How a range was handled.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Handled {
    /// User records (deaggregated) or, for invocations, Kinesis records handled.
    pub records: u64,
    /// Of them, the ones already written by an earlier run (not written again).
    pub already: u64,
}

/// What a redrive pass does with each range it reads back: [`crate::S3Sink`],
/// [`crate::ReputSink`], [`crate::InvokeSink`], or the caller's own (`kstream redrive
/// --to-file`).
pub trait Sink {
    /// Handles the records of one range, in shard order.
    ///
    /// # Errors
    /// When the range could not be handled in full: its message is then left in the queue for
    /// another run, so handling a range again must be harmless (an object written again, a
    /// file that skips what it holds) or at least-once (records put or invoked again).
    fn handle(
        &mut self,
        info: &BatchInfo,
        records: &[StreamRecord],
    ) -> impl Future<Output = Result<Handled>> + Send;
}
