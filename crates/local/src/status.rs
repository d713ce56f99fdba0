//! Counters of the running data plane, and the status file `kstream local status` reads.
//!
//! `kstream local up` rewrites `<state dir>/status.json` every second (atomically) with a
//! [`StatusReport`]: its pid, when it started and last wrote, the REST API address, and per
//! mapping the counters below, and the Firehose delivery's counters when delivery streams are
//! delivered ([`FirehoseStatus`]; absent otherwise). `status` reads it and checks whether the pid
//! is still alive.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::firehose::FirehoseStats;

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
        }
    }

    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }
}

/// What `status.json` holds.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct StatusReport {
    /// Pid of the `kstream local up` process.
    pub pid: u32,
    /// When it started (RFC 3339).
    pub started_at: String,
    /// When it last wrote this file (RFC 3339).
    pub updated_at: String,
    /// `running` or `stopped`.
    pub state: String,
    /// Address of the REST API executor, when it serves.
    pub api: Option<String>,
    /// Functions registered, by name.
    pub functions: Vec<String>,
    /// The mappings.
    pub mappings: Vec<MappingStatus>,
    /// The Firehose delivery, when there are delivery streams to deliver (absent otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub firehose: Option<FirehoseStatus>,
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

impl StatusReport {
    /// Totals over the mappings: (polled, invocations, failed invocations, failure messages).
    pub fn totals(&self) -> (u64, u64, u64, u64) {
        self.mappings.iter().fold((0, 0, 0, 0), |t, m| {
            (
                t.0 + m.records_polled,
                t.1 + m.invocations,
                t.2 + m.failed_invocations,
                t.3 + m.failure_messages,
            )
        })
    }

    /// Writes `<state dir>/status.json`.
    pub fn write(&self, state_dir: &Path) -> Result<()> {
        crate::checkpoint::write_atomic(
            &state_dir.join("status.json"),
            self,
            "writing the status file",
        )
    }

    /// Reads `<state dir>/status.json`.
    pub fn read(state_dir: &Path) -> Result<Self> {
        let path = state_dir.join("status.json");
        let bytes = std::fs::read(&path).map_err(|source| Error::Io {
            what: "reading the status file (is `kstream local up` running with this --state-dir?)",
            path: path.clone(),
            source,
        })?;
        serde_json::from_slice(&bytes).map_err(|source| Error::Corrupt {
            what: "status",
            path,
            source,
        })
    }
}

/// Shared counters of every mapping, by UUID.
pub type SharedStats = Arc<MappingStats>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_firehose_section_is_absent_without_delivery_streams_and_round_trips_with_them() {
        let report = StatusReport {
            state: "running".to_owned(),
            ..StatusReport::default()
        };
        let json = serde_json::to_value(&report).unwrap();
        assert!(json.get("firehose").is_none(), "{json}");
        let back: StatusReport = serde_json::from_value(json).unwrap();
        assert_eq!(back, report);

        let stats = FirehoseStats::default();
        MappingStats::add(&stats.records_read, 7);
        MappingStats::add(&stats.records_delivered, 5);
        MappingStats::add(&stats.records_failed, 2);
        MappingStats::add(&stats.objects_written, 2);
        let firehose = FirehoseStatus::snapshot(&["p3-delivery".to_owned()], &stats);
        assert_eq!(
            (
                firehose.records_read,
                firehose.records_delivered,
                firehose.records_failed,
                firehose.objects_written
            ),
            (7, 5, 2, 2)
        );
        let report = StatusReport {
            firehose: Some(firehose),
            ..report
        };
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["firehose"]["recordsDelivered"], 5);
        assert_eq!(json["firehose"]["deliveryStreams"][0], "p3-delivery");
        assert_eq!(
            serde_json::from_value::<StatusReport>(json).unwrap(),
            report
        );
    }
}
