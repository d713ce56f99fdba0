//! What `put` and `replay` share: one user record per input line, with Ctrl-C, read errors and
//! per-line reports handled the same way.

use std::fmt::Display;

use indicatif::ProgressBar;
use kstream_producer::{Error as ProducerError, Producer, UserRecord};
use tokio::sync::watch;

use crate::input::{Line, LineReceiver};
use crate::producing::{Observer, Tracker};

/// Lines in, records out, with counts of what was sent and what was not.
pub(crate) struct LineFeed {
    lines: LineReceiver,
    interrupted: watch::Receiver<bool>,
    bar: ProgressBar,
    read_error: Option<miette::Report>,
    /// Lines put into the producer (their results are tracked separately).
    pub(crate) sent: u64,
    /// Lines reported and not sent.
    pub(crate) rejected: u64,
}

impl LineFeed {
    pub(crate) fn new(
        lines: LineReceiver,
        interrupted: watch::Receiver<bool>,
        bar: ProgressBar,
    ) -> Self {
        Self {
            lines,
            interrupted,
            bar,
            read_error: None,
            sent: 0,
            rejected: 0,
        }
    }

    /// The next line that is not blank; `None` at the end of the input, on Ctrl-C, or after a
    /// read error (kept for [`into_result`](Self::into_result)).
    pub(crate) async fn next(&mut self) -> Option<Line> {
        loop {
            let mut stop = self.interrupted.clone();
            let line = tokio::select! {
                line = self.lines.recv() => line?,
                _ = stop.changed() => return None,
            };
            match line {
                Ok(line) if line.bytes.iter().all(u8::is_ascii_whitespace) => continue,
                Ok(line) => return Some(line),
                Err(e) => {
                    self.read_error = Some(e);
                    return None;
                }
            }
        }
    }

    /// Reports a line that is not sent (`line N: <why>` on stderr, `label` naming the line) and
    /// counts it.
    pub(crate) fn reject(&mut self, label: impl Display, why: impl Display) {
        self.rejected += 1;
        self.bar.suspend(|| eprintln!("{label}: {why}"));
    }

    /// Waits until `due`; `false` if Ctrl-C came first.
    pub(crate) async fn sleep_until(&self, due: tokio::time::Instant) -> bool {
        let mut stop = self.interrupted.clone();
        tokio::select! {
            () = tokio::time::sleep_until(due) => true,
            _ = stop.changed() => false,
        }
    }

    /// Puts the record of the line named `label` (waiting while the producer is full) and tracks
    /// its result. A record the producer refuses (too large, bad key) is reported and counted.
    /// Returns `Ok(false)` on Ctrl-C.
    ///
    /// # Errors
    /// The producer stopped.
    pub(crate) async fn send(
        &mut self,
        producer: &Producer,
        tracker: &Tracker,
        label: String,
        record: UserRecord,
    ) -> miette::Result<bool> {
        Ok(self
            .send_observed(producer, tracker, label, record, None)
            .await?
            .is_some())
    }

    /// [`send`](Self::send), calling `observer` with the record's result once it is known.
    /// Returns `Ok(None)` on Ctrl-C, else whether the producer took the record (`Some(false)`:
    /// refused, reported and counted, and `observer` is dropped uncalled).
    ///
    /// # Errors
    /// The producer stopped.
    pub(crate) async fn send_observed(
        &mut self,
        producer: &Producer,
        tracker: &Tracker,
        label: String,
        record: UserRecord,
        observer: Option<Observer>,
    ) -> miette::Result<Option<bool>> {
        let mut stop = self.interrupted.clone();
        let put = tokio::select! {
            put = producer.put(record) => put,
            _ = stop.changed() => return Ok(None),
        };
        match put {
            Ok(handle) => {
                self.sent += 1;
                tracker.track_observed(label, handle, observer);
                Ok(Some(true))
            }
            Err(e @ (ProducerError::RecordTooLarge { .. } | ProducerError::InvalidRecord(_))) => {
                self.reject(label, format_args!("rejected: {e}"));
                Ok(Some(false))
            }
            Err(e) => Err(miette::miette!("{e}")),
        }
    }

    /// The read error that ended the input, if any.
    pub(crate) fn into_result(self) -> miette::Result<()> {
        self.read_error.map_or(Ok(()), Err)
    }
}
