//! Counters of the local scheduler, and their snapshot in `kstream local status`.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

use crate::schedule::ScheduleSpec;

/// Counters of one schedule (all monotonic).
#[derive(Debug, Default)]
pub struct ScheduleStats {
    /// Times the schedule fired.
    pub fires: AtomicU64,
    /// Invocations the function host ran (Lambda's asynchronous retries included).
    pub invocations: AtomicU64,
    /// Invocations whose function failed (error, crash, timeout).
    pub function_errors: AtomicU64,
    /// Events whose function still failed after Lambda's asynchronous retries.
    pub events_failed: AtomicU64,
    /// Delivery attempts the host refused (Scheduler's `RetryPolicy` applies to these).
    pub delivery_failures: AtomicU64,
    /// Events sent to the dead-letter queue.
    pub dead_lettered: AtomicU64,
    /// Last fire, milliseconds since the epoch (0: never).
    pub last_fire_ms: AtomicI64,
}

/// A snapshot of [`ScheduleStats`] with the schedule's identity.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ScheduleStatus {
    /// `group/name`.
    pub schedule: String,
    /// The expression.
    pub expression: String,
    /// `ENABLED` or `DISABLED`.
    pub state: String,
    /// The target function's ARN.
    pub target: String,
    /// Times it fired.
    pub fires: u64,
    /// Invocations.
    pub invocations: u64,
    /// Invocations whose function failed.
    pub function_errors: u64,
    /// Events that failed after Lambda's asynchronous retries.
    pub events_failed: u64,
    /// Delivery attempts refused.
    pub delivery_failures: u64,
    /// Events sent to the dead-letter queue.
    pub dead_lettered: u64,
    /// Last fire (RFC 3339), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_fire: Option<String>,
}

impl ScheduleStats {
    /// The counters now, with `spec`'s identity.
    pub fn snapshot(&self, spec: &ScheduleSpec) -> ScheduleStatus {
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let last = self.last_fire_ms.load(Ordering::Relaxed);
        ScheduleStatus {
            schedule: format!("{}/{}", spec.group, spec.name),
            expression: spec.expression_text.clone(),
            state: if spec.enabled { "ENABLED" } else { "DISABLED" }.to_owned(),
            target: spec.target_arn.clone(),
            fires: load(&self.fires),
            invocations: load(&self.invocations),
            function_errors: load(&self.function_errors),
            events_failed: load(&self.events_failed),
            delivery_failures: load(&self.delivery_failures),
            dead_lettered: load(&self.dead_lettered),
            last_fire: (last > 0)
                .then(|| chrono::DateTime::from_timestamp_millis(last))
                .flatten()
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
        }
    }
}
