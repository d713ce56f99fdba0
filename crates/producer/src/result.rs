//! The result of one user record: [`PutHandle`] resolves to a [`PutOutcome`] or a
//! [`RecordFailure`].

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::sync::oneshot;

use crate::error::RecordFailure;

/// One attempt to put a user record (inside a Kinesis record, inside a PutRecords request).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// Time from the record's arrival (first attempt) or the previous attempt's end to this
    /// attempt's request.
    pub delay: Duration,
    /// Duration of the PutRecords request.
    pub duration: Duration,
    /// The error code (`None` on success), e.g. `ProvisionedThroughputExceededException`, or
    /// `Timeout`, `ServiceError`, `Http500` for failures of the whole request.
    pub error_code: Option<String>,
    /// The error message (`None` on success).
    pub error_message: Option<String>,
}

impl Attempt {
    /// Whether this attempt succeeded.
    pub fn is_success(&self) -> bool {
        self.error_code.is_none()
    }
}

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
