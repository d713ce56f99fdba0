//! Counters of one event source mapping, and their snapshot in the status file.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

/// Counters of one event source mapping (all monotonic).
#[derive(Debug, Default)]
pub struct MappingStats {
    /// Shards being polled (set when the mapping starts).
    pub shards: AtomicU64,
    /// Records read from the stream.
    pub records_polled: AtomicU64,
    /// Records dropped by the filter criteria.
    pub records_filtered: AtomicU64,
    /// Records done (processed or given up) and checkpointed.
    pub records_done: AtomicU64,
    /// Function invocations.
    pub invocations: AtomicU64,
    /// Invocations that failed (function error, crash, timeout, or reported item failures).
    pub failed_invocations: AtomicU64,
    /// Records given up (sent to the on-failure destination, or dropped without one).
    pub records_given_up: AtomicU64,
    /// On-failure messages sent to the destination.
    pub failure_messages: AtomicU64,
    /// Tumbling windows closed (their final invoke succeeded).
    pub windows_closed: AtomicU64,
    /// Tumbling windows terminated early (the state passed 1 MB).
    pub windows_terminated_early: AtomicU64,
    /// Age of the last record of the latest invocation's batch when it was sent, in
    /// milliseconds (Lambda's `IteratorAge` metric for a mapping). Not monotonic: the latest value.
    pub iterator_age_ms: AtomicU64,
}

/// A snapshot of [`MappingStats`] with the mapping's identity.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct MappingStatus {
    /// Mapping UUID.
    pub uuid: String,
    /// Function name.
    pub function: String,
    /// Stream ARN.
    pub stream_arn: String,
    /// Shards polled.
    pub shards: u64,
    /// See [`MappingStats::records_polled`].
    pub records_polled: u64,
    /// See [`MappingStats::records_filtered`].
    pub records_filtered: u64,
    /// See [`MappingStats::records_done`].
    pub records_done: u64,
    /// See [`MappingStats::invocations`].
    pub invocations: u64,
    /// See [`MappingStats::failed_invocations`].
    pub failed_invocations: u64,
    /// See [`MappingStats::records_given_up`].
    pub records_given_up: u64,
    /// See [`MappingStats::failure_messages`].
    pub failure_messages: u64,
    /// See [`MappingStats::windows_closed`].
    #[serde(default)]
    pub windows_closed: u64,
    /// See [`MappingStats::windows_terminated_early`].
    #[serde(default)]
    pub windows_terminated_early: u64,
    /// See [`MappingStats::iterator_age_ms`].
    #[serde(default)]
    pub iterator_age_ms: u64,
}

impl MappingStatus {
    /// How far the mapping is behind its stream, in milliseconds: the iterator age of its latest
    /// invocation while records it read are still being handled, 0 once it has caught up.
    pub fn lag_ms(&self) -> u64 {
        let pending = self
            .records_polled
            .saturating_sub(self.records_filtered)
            .saturating_sub(self.records_done);
        if pending == 0 {
            0
        } else {
            self.iterator_age_ms
        }
    }
}

impl MappingStats {
    /// A snapshot.
    pub fn snapshot(&self, uuid: &str, function: &str, stream_arn: &str) -> MappingStatus {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        MappingStatus {
            uuid: uuid.to_owned(),
            function: function.to_owned(),
            stream_arn: stream_arn.to_owned(),
            shards: get(&self.shards),
            records_polled: get(&self.records_polled),
            records_filtered: get(&self.records_filtered),
            records_done: get(&self.records_done),
            invocations: get(&self.invocations),
            failed_invocations: get(&self.failed_invocations),
            records_given_up: get(&self.records_given_up),
            failure_messages: get(&self.failure_messages),
            windows_closed: get(&self.windows_closed),
            windows_terminated_early: get(&self.windows_terminated_early),
            iterator_age_ms: get(&self.iterator_age_ms),
        }
    }

    #[cfg_attr(not(feature = "sdk"), allow(dead_code))] // the runner's (shard.rs)
    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    /// Records the iterator age of a batch about to be sent: now minus the arrival time (Unix
    /// epoch seconds) of its last record.
    #[cfg_attr(not(feature = "sdk"), allow(dead_code))]
    pub(crate) fn set_iterator_age(&self, last_arrival: f64, now_unix_secs: f64) {
        let age_ms = ((now_unix_secs - last_arrival) * 1000.0).max(0.0) as u64;
        self.iterator_age_ms.store(age_ms, Ordering::Relaxed);
    }
}

/// Shared counters of every mapping, by UUID.
pub type SharedStats = Arc<MappingStats>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lag_is_the_iterator_age_while_records_are_pending() {
        let stats = MappingStats::default();
        stats.set_iterator_age(100.0, 102.5);
        MappingStats::add(&stats.records_polled, 10);
        MappingStats::add(&stats.records_filtered, 2);
        MappingStats::add(&stats.records_done, 5);
        let status = stats.snapshot("u", "f", "arn");
        assert_eq!(status.iterator_age_ms, 2500);
        assert_eq!(status.lag_ms(), 2500, "3 records still pending");
        MappingStats::add(&stats.records_done, 3);
        assert_eq!(stats.snapshot("u", "f", "arn").lag_ms(), 0, "caught up");
        stats.set_iterator_age(103.0, 102.0);
        assert_eq!(
            stats.snapshot("u", "f", "arn").iterator_age_ms,
            0,
            "clock skew is no age"
        );
    }
}
