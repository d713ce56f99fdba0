//! One redrive pass over an on-failure queue.

use std::collections::HashSet;
use std::time::Duration;

use tokio::time::Instant;

use crate::aws::{Queue, Receive, Stream};
use crate::error::{Error, Result};
use crate::message::{BatchInfo, OnFailureMessage};
use crate::range::{self, RangeRead};
use crate::sink::Sink;
use crate::summary::Summary;

/// The visibility timeout SQS accepts, in seconds (SQS API reference, ReceiveMessage:
/// "VisibilityTimeout ... 0 to 43,200 seconds (12 hours)"); 0 would hand a message being
/// handled to another reader at once, so the least is 1.
pub const VISIBILITY_TIMEOUT_SECONDS: std::ops::RangeInclusive<u64> = 1..=43_200;

/// Messages per `ReceiveMessage` call: the most SQS returns (ReceiveMessage:
/// "MaxNumberOfMessages ... Valid values: 1 to 10").
const RECEIVE_MAX_MESSAGES: i32 = 10;

/// What a pass reports while it runs.
pub trait Observer {
    /// A message was read: its range, or `None` for a message that is not an on-failure
    /// message.
    fn message(&mut self, info: Option<&BatchInfo>) {
        let _ = info;
    }
    /// Something a person should read: a range not handled, unrecoverable or foreign.
    fn note(&mut self, text: &str) {
        tracing::warn!("{text}");
    }
}

/// An [`Observer`] that logs each note as a `tracing` warning.
#[derive(Debug, Default, Clone, Copy)]
pub struct LogObserver;

impl Observer for LogObserver {}

/// A redrive pass: reads the on-failure messages of one queue, reads each range back from the
/// stream ([`range::read`]) and hands its records to a [`Sink`].
///
/// A message is deleted only once its range is handled in full. A range the stream no longer
/// holds is reported and its message left in the queue, unless `delete_unrecoverable`.
/// Messages left in the queue are made visible again at the end, so the next pass (or a
/// person) sees them at once.
#[derive(Debug, Clone)]
pub struct Pass {
    queue_url: String,
    visibility_timeout: i32,
    max_messages: Option<u64>,
    delete_unrecoverable: bool,
    deadline: Option<Instant>,
}

impl Pass {
    /// A pass over `queue_url`: a 5-minute visibility timeout, no message limit, no deadline,
    /// unrecoverable messages kept.
    pub fn new(queue_url: impl Into<String>) -> Self {
        Self {
            queue_url: queue_url.into(),
            visibility_timeout: 300,
            max_messages: None,
            delete_unrecoverable: false,
            deadline: None,
        }
    }

    /// How long a message being handled stays hidden from other readers of the queue (longer
    /// than handling one range takes). Default 5 minutes.
    ///
    /// # Errors
    /// [`Error::Invalid`] outside [`VISIBILITY_TIMEOUT_SECONDS`].
    pub fn visibility_timeout(mut self, timeout: Duration) -> Result<Self> {
        let secs = timeout.as_secs();
        self.visibility_timeout = i32::try_from(secs)
            .ok()
            .filter(|_| VISIBILITY_TIMEOUT_SECONDS.contains(&secs))
            .ok_or_else(|| {
                Error::Invalid(format!(
                    "the visibility timeout must be 1s to 12h (SQS's range), not {secs}s"
                ))
            })?;
        Ok(self)
    }

    /// Stop after this many messages (the others received are made visible again). Default:
    /// no limit.
    pub fn max_messages(mut self, max: Option<u64>) -> Self {
        self.max_messages = max;
        self
    }

    /// Delete the messages whose range the stream no longer holds (they are reported either
    /// way). Default false.
    pub fn delete_unrecoverable(mut self, yes: bool) -> Self {
        self.delete_unrecoverable = yes;
        self
    }

    /// Take no new message after this instant (a Lambda's deadline less the time one range
    /// takes). Default: none.
    pub fn deadline(mut self, deadline: Option<Instant>) -> Self {
        self.deadline = deadline;
        self
    }

    /// The queue.
    pub fn queue_url(&self) -> &str {
        &self.queue_url
    }

    /// Runs the pass.
    ///
    /// # Errors
    /// When the queue cannot be read, or a handled range's message cannot be deleted. A range
    /// that cannot be read or handled is not an error: it is counted in the summary as failed
    /// and its message left in the queue.
    pub async fn run<S: Sink, O: Observer>(
        &self,
        sqs: &impl Queue,
        kinesis: &impl Stream,
        sink: &mut S,
        observer: &mut O,
    ) -> Result<Summary> {
        let queue = &self.queue_url;
        let mut summary = Summary::default();
        let mut seen: HashSet<String> = HashSet::new();
        let mut kept: Vec<String> = Vec::new();
        loop {
            let receive = Receive {
                max_messages: RECEIVE_MAX_MESSAGES,
                visibility_timeout: self.visibility_timeout,
                wait_seconds: 1,
            };
            let messages = sqs
                .receive(queue, receive)
                .await
                .map_err(|e| Error::aws(format!("cannot receive from {queue}"), &e))?;
            let mut new = 0;
            for message in &messages {
                let (Some(id), Some(receipt)) = (&message.id, &message.receipt) else {
                    continue;
                };
                if !seen.insert(id.to_owned()) {
                    continue; // kept earlier in this pass, visible again
                }
                let limit = self.max_messages.is_some_and(|n| summary.messages >= n);
                let late = self.deadline.is_some_and(|d| Instant::now() >= d);
                if limit || late {
                    // Not ours to handle in this pass: visible again at the end.
                    kept.push(receipt.to_owned());
                    summary.more = true;
                    continue;
                }
                new += 1;
                summary.messages += 1;
                let body = message.body.as_deref().unwrap_or_default();
                let info = match OnFailureMessage::parse(body) {
                    Ok(m) => m.info,
                    Err(e) => {
                        summary.foreign += 1;
                        observer.message(None);
                        observer.note(&format!(
                            "message {id}: not a Kinesis on-failure message ({e}); left in the queue"
                        ));
                        kept.push(receipt.to_owned());
                        continue;
                    }
                };
                observer.message(Some(&info));
                let delete = match range::read(kinesis, &info).await {
                    Err(e) => {
                        summary.failed += 1;
                        observer.note(&format!("{info}: not read, left in the queue: {e}"));
                        false
                    }
                    Ok(RangeRead::Lost(why)) => {
                        summary.unrecoverable += 1;
                        let fate = if self.delete_unrecoverable {
                            summary.unrecoverable_deleted += 1;
                            "message deleted (asked to delete unrecoverable ranges)"
                        } else {
                            "left in the queue"
                        };
                        observer.note(&format!("unrecoverable: {info}: {why}; {fate}"));
                        self.delete_unrecoverable
                    }
                    Ok(RangeRead::Retained(records)) => match sink.handle(&info, &records).await {
                        Ok(handled) => {
                            summary.handled += 1;
                            summary.records += handled.records;
                            summary.already += handled.already;
                            true
                        }
                        Err(e) => {
                            summary.failed += 1;
                            observer.note(&format!("{info}: not handled, left in the queue: {e}"));
                            false
                        }
                    },
                };
                if delete {
                    sqs.delete(queue, receipt).await.map_err(|e| {
                        Error::aws(
                            format!("{info} was handled but its message cannot be deleted"),
                            &e,
                        )
                    })?;
                } else {
                    kept.push(receipt.to_owned());
                }
            }
            if new == 0 || summary.more {
                break;
            }
        }
        // What is left is visible again now, not after the visibility timeout.
        for receipt in &kept {
            if let Err(e) = sqs.change_visibility(queue, receipt, 0).await {
                tracing::warn!(
                    "a message left in the queue stays hidden until its visibility timeout: {e}"
                );
            }
        }
        Ok(summary)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_visibility_timeout_is_sqs_range() {
        let pass = || Pass::new("https://q");
        assert!(pass().visibility_timeout(Duration::from_secs(0)).is_err());
        assert!(pass().visibility_timeout(Duration::from_secs(1)).is_ok());
        assert!(
            pass()
                .visibility_timeout(Duration::from_secs(43_200))
                .is_ok()
        );
        let err = pass()
            .visibility_timeout(Duration::from_secs(43_201))
            .unwrap_err();
        assert!(err.to_string().contains("1s to 12h"), "{err}");
    }
}
