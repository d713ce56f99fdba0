//! Counters of the local Firehose delivery, and their snapshot in the status file.

use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

/// Counters of the local Firehose delivery (all delivery streams), for the status line.
#[derive(Debug, Default)]
pub struct FirehoseStats {
    /// User records read from source streams (after deaggregation).
    pub records_read: AtomicU64,
    /// Records written to S3 under the data prefix.
    pub records_delivered: AtomicU64,
    /// Records the transform dropped.
    pub records_dropped: AtomicU64,
    /// Records written to the error output.
    pub records_failed: AtomicU64,
    /// Transform invocations (attempts).
    pub invocations: AtomicU64,
    /// Failed transform invocations (errors, crashes, timeouts, bad responses).
    pub invocation_errors: AtomicU64,
    /// Objects written (data, error output and backup).
    pub objects_written: AtomicU64,
    /// Source records written to the S3 backup.
    pub records_backed_up: AtomicU64,
}

impl FirehoseStats {
    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    /// `(read, delivered, dropped, failed, objects)` at this moment.
    pub fn snapshot(&self) -> (u64, u64, u64, u64, u64) {
        (
            self.records_read.load(Ordering::Relaxed),
            self.records_delivered.load(Ordering::Relaxed),
            self.records_dropped.load(Ordering::Relaxed),
            self.records_failed.load(Ordering::Relaxed),
            self.objects_written.load(Ordering::Relaxed),
        )
    }
}

/// A snapshot of the [`FirehoseStats`] of the delivery streams being delivered.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct FirehoseStatus {
    /// The delivery streams delivered, by name.
    pub delivery_streams: Vec<String>,
    /// See [`FirehoseStats::records_read`].
    pub records_read: u64,
    /// See [`FirehoseStats::records_delivered`].
    pub records_delivered: u64,
    /// See [`FirehoseStats::records_dropped`].
    pub records_dropped: u64,
    /// See [`FirehoseStats::records_failed`] (written to the error output).
    pub records_failed: u64,
    /// See [`FirehoseStats::invocations`].
    pub invocations: u64,
    /// See [`FirehoseStats::invocation_errors`].
    pub invocation_errors: u64,
    /// See [`FirehoseStats::objects_written`].
    pub objects_written: u64,
    /// See [`FirehoseStats::records_backed_up`].
    pub records_backed_up: u64,
}

impl FirehoseStatus {
    /// A snapshot of `stats` for these delivery streams.
    pub fn snapshot(delivery_streams: &[String], stats: &FirehoseStats) -> Self {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        Self {
            delivery_streams: delivery_streams.to_vec(),
            records_read: get(&stats.records_read),
            records_delivered: get(&stats.records_delivered),
            records_dropped: get(&stats.records_dropped),
            records_failed: get(&stats.records_failed),
            invocations: get(&stats.invocations),
            invocation_errors: get(&stats.invocation_errors),
            objects_written: get(&stats.objects_written),
            records_backed_up: get(&stats.records_backed_up),
        }
    }
}
