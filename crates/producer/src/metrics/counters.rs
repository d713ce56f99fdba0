//! The counters: shared by the producer's tasks ([`Metrics`]), copied into a
//! [`MetricsSnapshot`] with the per-record ones ([`RecordMetrics`]) overall and per shard.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Counters shared by the producer's tasks.
#[derive(Debug, Default)]
pub(crate) struct Metrics {
    pub(crate) user_records_received: AtomicU64,
    pub(crate) put_records_requests: AtomicU64,
    pub(crate) put_records_entries: AtomicU64,
    pub(crate) put_records_user_records: AtomicU64,
    pub(crate) put_records_completed: AtomicU64,
    pub(crate) request_time_us: AtomicU64,
    pub(crate) shard_map_refreshes: AtomicU64,
    /// The per-record counters, overall and per shard, under one lock so a snapshot's shards
    /// always add up to its totals.
    records: Mutex<Records>,
}

/// The per-record counters: overall, and per shard.
#[derive(Debug, Clone, Default)]
struct Records {
    totals: RecordMetrics,
    shards: BTreeMap<String, RecordMetrics>,
}

impl Metrics {
    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    /// Counts per-record metrics: applies `update` to the totals and, when the count has a
    /// shard, to that shard's counters.
    pub(crate) fn record(&self, shard: Option<&str>, update: impl Fn(&mut RecordMetrics)) {
        let mut records = self
            .records
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        update(&mut records.totals);
        if let Some(shard) = shard {
            match records.shards.get_mut(shard) {
                Some(counters) => update(counters),
                None => update(records.shards.entry(shard.to_owned()).or_default()),
            }
        }
    }

    pub(crate) fn snapshot(&self, outstanding: u64) -> MetricsSnapshot {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let Records { totals, shards } = self
            .records
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone();
        MetricsSnapshot {
            user_records_received: get(&self.user_records_received),
            user_records_pending: outstanding,
            totals,
            put_records_requests: get(&self.put_records_requests),
            put_records_entries: get(&self.put_records_entries),
            put_records_user_records: get(&self.put_records_user_records),
            put_records_completed: get(&self.put_records_completed),
            request_time_total: Duration::from_micros(get(&self.request_time_us)),
            shard_map_refreshes: get(&self.shard_map_refreshes),
            shards,
        }
    }
}

/// The per-record counters and the metrics derived from them (the metrics the KPL also
/// reports per shard, see [`SHARD_METRIC_NAMES`](super::SHARD_METRIC_NAMES)), totals since the start: overall in
/// [`MetricsSnapshot::totals`], per shard in [`MetricsSnapshot::shards`].
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct RecordMetrics {
    /// `UserRecordsPut`: user records Kinesis accepted.
    pub user_records_put: u64,
    /// `UserRecordsDataPut`: bytes of data of those user records.
    pub user_records_data_put: u64,
    /// User records that failed (expired or rejected).
    pub user_records_failed: u64,
    /// `UserRecordExpired`: user records whose time to live ran out (included in
    /// `user_records_failed`).
    pub user_record_expired: u64,
    /// `KinesisRecordsPut`: Kinesis records (aggregates or raw) accepted.
    pub kinesis_records_put: u64,
    /// `KinesisRecordsDataPut`: bytes of those Kinesis records (data plus partition key).
    pub kinesis_records_data_put: u64,
    /// Retries of the completed user records (`RetriesPerRecord` × completed records).
    pub retries: u64,
    /// Sum over sent user records of the time from `put` to their first request.
    pub buffering_time_total: Duration,
    /// User records counted in `buffering_time_total`.
    pub buffered_records: u64,
    /// `ErrorsByCode`: errors per code.
    pub errors_by_code: BTreeMap<String, u64>,
}

impl RecordMetrics {
    /// `UserRecordsPerKinesisRecord`.
    pub fn user_records_per_kinesis_record(&self) -> f64 {
        ratio(self.user_records_put, self.kinesis_records_put)
    }
    /// `RetriesPerRecord`, over completed user records.
    pub fn retries_per_record(&self) -> f64 {
        ratio(self.retries, self.completed())
    }
    /// `AllErrors`.
    pub fn all_errors(&self) -> u64 {
        self.errors_by_code.values().sum()
    }
    /// `BufferingTime`: mean time from `put` to the first request.
    pub fn buffering_time(&self) -> Duration {
        mean(self.buffering_time_total, self.buffered_records)
    }

    /// Completed user records (put or failed): what `RetriesPerRecord` divides by.
    pub(crate) fn completed(&self) -> u64 {
        self.user_records_put + self.user_records_failed
    }

    /// Counts one error of `code` (`ErrorsByCode`).
    pub(crate) fn error(&mut self, code: &str) {
        *self.errors_by_code.entry(code.to_owned()).or_default() += 1;
    }

    /// Adds to `self` what `now` counts beyond `previous` (an earlier copy of the same
    /// counters): the counts of one interval, summed over the series it is called for.
    #[cfg_attr(not(feature = "cloudwatch"), allow(dead_code))]
    pub(crate) fn add_since(&mut self, now: &Self, previous: &Self) {
        let delta = |f: fn(&Self) -> u64| f(now).saturating_sub(f(previous));
        self.user_records_put += delta(|m| m.user_records_put);
        self.user_records_data_put += delta(|m| m.user_records_data_put);
        self.user_records_failed += delta(|m| m.user_records_failed);
        self.user_record_expired += delta(|m| m.user_record_expired);
        self.kinesis_records_put += delta(|m| m.kinesis_records_put);
        self.kinesis_records_data_put += delta(|m| m.kinesis_records_data_put);
        self.retries += delta(|m| m.retries);
        self.buffering_time_total += now
            .buffering_time_total
            .saturating_sub(previous.buffering_time_total);
        self.buffered_records += delta(|m| m.buffered_records);
        for (code, count) in &now.errors_by_code {
            let before = previous.errors_by_code.get(code).copied().unwrap_or(0);
            if *count > before {
                *self.errors_by_code.entry(code.clone()).or_default() += count - before;
            }
        }
    }
}

/// A copy of the producer's counters at one moment. Counters are totals since the start.
///
/// The per-record metrics are in [`totals`](Self::totals) (overall) and
/// [`shards`](Self::shards) (per shard); the ones that stop at the stream (records received and
/// pending, the per-request metrics) are fields and methods of the snapshot.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct MetricsSnapshot {
    /// `UserRecordsReceived`: user records accepted by `put`.
    pub user_records_received: u64,
    /// `UserRecordsPending`: user records accepted and not yet completed.
    pub user_records_pending: u64,
    /// The per-record counters over every shard and none (`UserRecordsPut`,
    /// `KinesisRecordsPut`, `ErrorsByCode`, …, see [`RecordMetrics`]): whole-request errors and
    /// the records of streams that place records themselves count here but on no shard.
    pub totals: RecordMetrics,
    /// PutRecords requests sent.
    pub put_records_requests: u64,
    /// Entries sent in those requests, retries included.
    pub put_records_entries: u64,
    /// User records in those entries, retries included.
    pub put_records_user_records: u64,
    /// PutRecords requests that ended (answered, failed or timed out): the ones in
    /// `request_time_total`.
    pub put_records_completed: u64,
    /// Sum of the durations of the PutRecords requests that ended.
    pub request_time_total: Duration,
    /// Shard map refreshes after the first.
    pub shard_map_refreshes: u64,
    /// The per-shard counters, by shard id (every shard that counted something): for a Kinesis
    /// record Kinesis accepted and its user records, the shard Kinesis reported; for buffering
    /// time, errors of an entry and user records that failed, the predicted shard.
    pub shards: BTreeMap<String, RecordMetrics>,
}

impl MetricsSnapshot {
    /// `RequestTime`: mean PutRecords duration.
    pub fn request_time(&self) -> Duration {
        mean(self.request_time_total, self.put_records_completed)
    }
    /// `KinesisRecordsPerPutRecordsRequest`.
    pub fn kinesis_records_per_request(&self) -> f64 {
        ratio(self.put_records_entries, self.put_records_requests)
    }
    /// `UserRecordsPerPutRecordsRequest`.
    pub fn user_records_per_request(&self) -> f64 {
        ratio(self.put_records_user_records, self.put_records_requests)
    }

    /// Adds to `self` what `now` counts beyond `previous` (an earlier snapshot of the same
    /// producer), `user_records_pending` as it is now: the counts of one interval, summed over
    /// the streams it is called for. The shards are left out (their ids are per stream).
    #[cfg_attr(not(feature = "cloudwatch"), allow(dead_code))]
    pub(crate) fn add_since(&mut self, now: &Self, previous: &Self) {
        let delta = |f: fn(&Self) -> u64| f(now).saturating_sub(f(previous));
        self.user_records_received += delta(|s| s.user_records_received);
        self.user_records_pending += now.user_records_pending;
        self.totals.add_since(&now.totals, &previous.totals);
        self.put_records_requests += delta(|s| s.put_records_requests);
        self.put_records_entries += delta(|s| s.put_records_entries);
        self.put_records_user_records += delta(|s| s.put_records_user_records);
        self.put_records_completed += delta(|s| s.put_records_completed);
        self.request_time_total += now
            .request_time_total
            .saturating_sub(previous.request_time_total);
        self.shard_map_refreshes += delta(|s| s.shard_map_refreshes);
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

fn mean(total: Duration, n: u64) -> Duration {
    if n == 0 {
        Duration::ZERO
    } else {
        total / u32::try_from(n).unwrap_or(u32::MAX)
    }
}
