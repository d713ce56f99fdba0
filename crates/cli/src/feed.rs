//! What `put` and `replay` share: one user record per input line, with Ctrl-C, read errors and
//! per-line reports handled the same way.

use std::fmt::Display;

use indicatif::ProgressBar;
use kstream_producer::{Error as ProducerError, Producer, UserRecord};
use tokio::sync::{mpsc, watch};

use crate::input::Line;
use crate::producing::Tracker;

/// Lines in, records out, with counts of what was sent and what was not.
pub(crate) struct LineFeed {
    lines: mpsc::Receiver<Result<Line, miette::Report>>,
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
        lines: mpsc::Receiver<Result<Line, miette::Report>>,
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

    /// Reports a line that is not sent (`line N: <why>` on stderr) and counts it.
    pub(crate) fn reject(&mut self, number: u64, why: impl Display) {
        self.rejected += 1;
        self.bar.suspend(|| eprintln!("line {number}: {why}"));
    }

    /// Waits until `due`; `false` if Ctrl-C came first.
    pub(crate) async fn sleep_until(&self, due: tokio::time::Instant) -> bool {
        let mut stop = self.interrupted.clone();
        tokio::select! {
            () = tokio::time::sleep_until(due) => true,
            _ = stop.changed() => false,
        }
    }

    /// Puts the record of line `number` (waiting while the producer is full) and tracks its
    /// result. A record the producer refuses (too large, bad key) is reported and counted.
    /// Returns `Ok(false)` on Ctrl-C.
    ///
    /// # Errors
    /// The producer stopped.
    pub(crate) async fn send(
        &mut self,
        producer: &Producer,
        tracker: &Tracker,
        number: u64,
        record: UserRecord,
    ) -> miette::Result<bool> {
        let mut stop = self.interrupted.clone();
        let put = tokio::select! {
            put = producer.put(record) => put,
            _ = stop.changed() => return Ok(false),
        };
        match put {
            Ok(handle) => {
                self.sent += 1;
                tracker.track(format!("line {number}"), handle);
            }
            Err(e @ (ProducerError::RecordTooLarge { .. } | ProducerError::InvalidRecord(_))) => {
                self.reject(number, format_args!("rejected: {e}"));
            }
            Err(e) => return Err(miette::miette!("{e}")),
        }
        Ok(true)
    }

    /// The read error that ended the input, if any.
    pub(crate) fn into_result(self) -> miette::Result<()> {
        self.read_error.map_or(Ok(()), Err)
    }
}
