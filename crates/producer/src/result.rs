//! The result of one user record: [`PutHandle`] resolves to a [`PutOutcome`] or a
//! [`RecordFailure`]; both carry the record's [`Attempt`]s.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::sync::oneshot;

use crate::attempt::Attempt;
use crate::error::RecordFailure;

/// A user record Kinesis accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PutOutcome {
    /// The sequence number of the Kinesis record holding the user record (shared by every user
    /// record of an aggregate).
    pub sequence_number: String,
    /// The shard the Kinesis record went to.
    pub shard_id: String,
    /// Whether the user record went inside a KPL aggregate (with others) rather than raw.
    pub aggregated: bool,
    /// Every attempt, oldest first; the last one succeeded.
    pub attempts: Vec<Attempt>,
}

/// The pending result of one user record, returned by [`Producer::put`](crate::Producer::put).
/// Await it for the outcome; dropping it does not cancel the record.
#[derive(Debug)]
pub struct PutHandle {
    pub(crate) rx: oneshot::Receiver<Result<PutOutcome, RecordFailure>>,
}

impl Future for PutHandle {
    type Output = Result<PutOutcome, RecordFailure>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.rx)
            .poll(cx)
            .map(|r| r.unwrap_or(Err(RecordFailure::Shutdown)))
    }
}
