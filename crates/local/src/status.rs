//! Counters of the running data plane, and the status file `kstream local status` reads.
//!
//! `kstream local up` rewrites `<state dir>/status.json` every second (atomically) with a
//! [`StatusReport`]: its pid, when it started and last wrote, the REST API address, and per
//! mapping the counters below, and the Firehose delivery's counters when delivery streams are
//! delivered ([`FirehoseStatus`]; absent otherwise), and per schedule its fire and invocation
//! counts ([`ScheduleStatus`]; absent when none is fired). `status` reads it and checks whether the pid
//! is still alive.

use std::path::Path;

pub use kstream_local_firehose::FirehoseStatus;
use kstream_local_lambda::Error as LambdaError;
pub use kstream_local_lambda::mapping::{MappingStats, MappingStatus};
pub use kstream_local_scheduler::ScheduleStatus;
use serde::{Deserialize, Serialize};

use crate::error::Result;

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
    /// Address of Lambda's Invoke API for the functions run here (`AWS_ENDPOINT_URL_LAMBDA`);
    /// absent in files written before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lambda: Option<String>,
    /// Functions registered, by name.
    pub functions: Vec<String>,
    /// The mappings.
    pub mappings: Vec<MappingStatus>,
    /// The Firehose delivery, when there are delivery streams to deliver (absent otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub firehose: Option<FirehoseStatus>,
    /// The schedules (absent when none is fired).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub schedules: Vec<ScheduleStatus>,
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
        kstream_local_lambda::checkpoint::write_atomic(
            &state_dir.join("status.json"),
            self,
            "writing the status file",
        )?;
        Ok(())
    }

    /// Reads `<state dir>/status.json`.
    pub fn read(state_dir: &Path) -> Result<Self> {
        let path = state_dir.join("status.json");
        let bytes = std::fs::read(&path).map_err(|source| LambdaError::Io {
            what: "reading the status file (is `kstream local up` running with this --state-dir?)",
            path: path.clone(),
            source,
        })?;
        let report = serde_json::from_slice(&bytes).map_err(|source| LambdaError::Corrupt {
            what: "status",
            path,
            source,
        })?;
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering;

    use kstream_local_firehose::FirehoseStats;

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
        stats.records_read.fetch_add(7, Ordering::Relaxed);
        stats.records_delivered.fetch_add(5, Ordering::Relaxed);
        stats.records_failed.fetch_add(2, Ordering::Relaxed);
        stats.objects_written.fetch_add(2, Ordering::Relaxed);
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

    #[test]
    fn the_schedules_section_is_absent_without_schedules_and_round_trips_with_them() {
        let report = StatusReport {
            state: "running".to_owned(),
            ..StatusReport::default()
        };
        let json = serde_json::to_value(&report).unwrap();
        assert!(json.get("schedules").is_none(), "{json}");
        let expression = "rate(1 minute)";
        let schedule: ScheduleStatus = serde_json::from_value(serde_json::json!({
            "schedule": "default/p2-produce",
            "expression": expression,
            "state": "ENABLED",
            "target": "arn:aws:lambda:us-east-1:123456789012:function:p2-producer",
            "fires": 3,
            "invocations": 3,
            "functionErrors": 0,
            "eventsFailed": 0,
            "deliveryFailures": 0,
            "deadLettered": 0,
            "lastFire": "2026-12-04T18:00:00.000Z"
        }))
        .unwrap();
        let report = StatusReport {
            schedules: vec![schedule],
            ..report
        };
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["schedules"][0]["fires"], 3);
        assert_eq!(json["schedules"][0]["expression"], expression);
        assert_eq!(
            serde_json::from_value::<StatusReport>(json).unwrap(),
            report
        );
    }
}
