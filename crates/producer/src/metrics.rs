//! KPL-named metrics, counted in process and optionally published to CloudWatch.
//!
//! | Metric | Meaning | Level | Per shard |
//! |---|---|---|---|
//! | `UserRecordsReceived` | user records accepted by `put` | detailed | no |
//! | `UserRecordsPending` | user records accepted and not yet completed | detailed | no |
//! | `UserRecordsPut` | user records Kinesis accepted | summary | yes |
//! | `UserRecordsDataPut` | bytes of those user records' data | detailed | yes |
//! | `KinesisRecordsPut` | Kinesis records (aggregates or raw) accepted | summary | yes |
//! | `KinesisRecordsDataPut` | bytes of those Kinesis records (data plus partition key) | detailed | yes |
//! | `UserRecordsPerKinesisRecord` | `UserRecordsPut / KinesisRecordsPut` | detailed | yes |
//! | `RetriesPerRecord` | retries per completed user record | detailed | yes |
//! | `ErrorsByCode` | errors per error code: one per failed entry (on its predicted shard), one per failed request (no shard) | summary | yes |
//! | `AllErrors` | sum of `ErrorsByCode` | summary | yes |
//! | `UserRecordExpired` | user records whose time to live ran out | summary | yes |
//! | `BufferingTime` | mean time from `put` to the first PutRecords request, in ms | summary | yes |
//! | `RequestTime` | mean PutRecords request duration (answered, failed or timed out), in ms | detailed | no |
//! | `KinesisRecordsPerPutRecordsRequest` | mean entries per PutRecords request | detailed | no |
//! | `UserRecordsPerPutRecordsRequest` | mean user records per PutRecords request | detailed | no |
//!
//! The CloudWatch publisher uploads the metrics of [`METRIC_NAMES`] at the configured
//! [`MetricsGranularity`](crate::MetricsGranularity): overall (no dimension), per stream
//! (`StreamName`) and, for [`SHARD_METRIC_NAMES`], per shard (`StreamName`, `ShardId`).
//! [`MetricsLevel::Summary`](crate::MetricsLevel::Summary) uploads only
//! [`SUMMARY_METRIC_NAMES`], [`MetricsLevel::Detailed`](crate::MetricsLevel::Detailed) all of
//! them: the level column is the KPL's table (`level_map` in `aws/metrics/metrics_constants.cc`).
//!
//! Which metrics carry the shard level follows the KPL's own code
//! (awslabs/amazon-kinesis-producer): `aws/kinesis/core/retrier.cc` puts `UserRecordsPut`,
//! `UserRecordsDataPut`, `UserRecordExpired`, `BufferingTime` and `RetriesPerRecord` per user
//! record, and `KinesisRecordsPut`, `KinesisRecordsDataPut`, `UserRecordsPerKinesisRecord` and
//! the per-entry `ErrorsByCode`/`AllErrors` per Kinesis record, with `set_shard`; whole-request
//! errors, `RequestTime` and the per-request ratios only with `set_stream`.
//! A PutRecords call that fails as a whole (an error answer, a timeout) is one error of its
//! exception name per request, whatever it held (`Retrier::emit_metrics` of the
//! `PutRecordsContext`), not one per entry. An answer with a different number of entries than
//! sent is counted the same way here, once per request as `ResponseMismatch` (the KPL counts no
//! error there: it fails those records at once with "Record Count Mismatch", where this
//! producer retries them, so the count keeps the retries visible).
//! `aws/kinesis/core/pipeline.h` (`UserRecordsReceived`) and `kinesis_producer.cc`
//! (`UserRecordsPending`) stop at the stream too. `aws/metrics/metrics_index.cc` makes every
//! prefix of a metric's dimensions a series of its own (so a per-shard metric also counts in its
//! stream's and the overall series), and `aws/metrics/metrics_constants.cc` (`filter`) uploads
//! a series only if its finest dimension is within `MetricsGranularity` (`global` < `stream` <
//! `shard`). `java/amazon-kinesis-producer-sample/default_config.properties` documents the
//! default, `shard`, and the count: "2 streams with 2 shards (each) will produce 7 CloudWatch
//! metrics, one for each shard, one for each stream, and one overall"; so does the user guide,
//! "Monitor the Kinesis Producer Library with Amazon CloudWatch"
//! (<https://docs.aws.amazon.com/streams/latest/dev/monitoring-with-kpl.html>, "Metric level and
//! granularity"). The KPL also uploads `ErrorsByCode` with no `ErrorCode` (the prefix
//! `MetricName` alone), whose sums are `AllErrors`'; it is left out here.
//!
//! The shard of a count: for a Kinesis record Kinesis accepted, and its user records, the shard
//! Kinesis reported (the one in [`PutOutcome`](crate::PutOutcome)); for buffering time, errors
//! of an entry and user records that failed, the predicted shard. Counts without a shard (no
//! shard map: streams that place records themselves) are in the stream and overall series only.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Every metric the CloudWatch publisher uploads at
/// [`MetricsLevel::Detailed`](crate::MetricsLevel::Detailed), by its KPL name (`ErrorsByCode`
/// only when there were errors; the means, `UserRecordsPerKinesisRecord`, `RetriesPerRecord`,
/// `BufferingTime`, `RequestTime`, `KinesisRecordsPerPutRecordsRequest` and
/// `UserRecordsPerPutRecordsRequest`, only for intervals with something to divide by).
pub const METRIC_NAMES: [&str; 15] = [
    "UserRecordsReceived",
    "UserRecordsPending",
    "UserRecordsPut",
    "UserRecordsDataPut",
    "KinesisRecordsPut",
    "KinesisRecordsDataPut",
    "UserRecordsPerKinesisRecord",
    "RetriesPerRecord",
    "BufferingTime",
    "UserRecordExpired",
    "AllErrors",
    "ErrorsByCode",
    "RequestTime",
    "KinesisRecordsPerPutRecordsRequest",
    "UserRecordsPerPutRecordsRequest",
];

/// The metrics of [`METRIC_NAMES`] uploaded at
/// [`MetricsLevel::Summary`](crate::MetricsLevel::Summary): the ones the KPL's table
/// (`aws/metrics/metrics_constants.cc`) sets to `Summary`; every other metric is `Detailed`.
pub const SUMMARY_METRIC_NAMES: [&str; 6] = [
    "UserRecordsPut",
    "KinesisRecordsPut",
    "ErrorsByCode",
    "AllErrors",
    "UserRecordExpired",
    "BufferingTime",
];

/// The metrics of [`METRIC_NAMES`] that are also uploaded per shard (dimensions `StreamName`,
/// `ShardId`) at [`MetricsGranularity::Shard`](crate::MetricsGranularity::Shard), as the KPL
/// does; the others (`UserRecordsReceived`, `UserRecordsPending`, `RequestTime`,
/// `KinesisRecordsPerPutRecordsRequest`, `UserRecordsPerPutRecordsRequest`) stop at the stream.
pub const SHARD_METRIC_NAMES: [&str; 10] = [
    "UserRecordsPut",
    "UserRecordsDataPut",
    "KinesisRecordsPut",
    "KinesisRecordsDataPut",
    "UserRecordsPerKinesisRecord",
    "RetriesPerRecord",
    "BufferingTime",
    "UserRecordExpired",
    "AllErrors",
    "ErrorsByCode",
];

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
/// reports per shard, see [`SHARD_METRIC_NAMES`]), totals since the start: overall in
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
    fn completed(&self) -> u64 {
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

#[cfg(feature = "cloudwatch")]
pub(crate) mod cloudwatch {
    //! Publishing to CloudWatch with PutMetricData.

    use std::sync::Arc;
    use std::time::Duration;

    use aws_sdk_cloudwatch::types::{Dimension, MetricDatum, StandardUnit};
    use tokio::sync::oneshot;
    use tokio::task::JoinHandle;

    use super::{Metrics, MetricsSnapshot, RecordMetrics};
    use crate::config::{MetricsGranularity, MetricsLevel};
    use crate::error::Error;

    /// What to publish, and where.
    #[derive(Debug, Clone)]
    pub(crate) struct Settings {
        pub(crate) namespace: String,
        pub(crate) stream: String,
        pub(crate) level: MetricsLevel,
        pub(crate) granularity: MetricsGranularity,
    }

    /// One stream's counters now and at the previous upload.
    #[derive(Debug, Clone, Copy)]
    pub(crate) struct StreamCounts<'a> {
        pub(crate) stream: &'a str,
        pub(crate) now: &'a MetricsSnapshot,
        pub(crate) previous: &'a MetricsSnapshot,
    }

    fn dimension(name: &str, value: &str) -> Dimension {
        Dimension::builder().name(name).value(value).build()
    }

    fn datum(name: &str, dimensions: &[Dimension], value: f64, unit: StandardUnit) -> MetricDatum {
        MetricDatum::builder()
            .metric_name(name)
            .set_dimensions((!dimensions.is_empty()).then(|| dimensions.to_vec()))
            .value(value)
            .unit(unit)
            .build()
    }

    /// The metrics of [`SHARD_METRIC_NAMES`](super::SHARD_METRIC_NAMES) for one series
    /// (overall, one stream or one shard): the counters of the interval `counts`, with
    /// `dimensions`. `ErrorsByCode` puts its `ErrorCode` first, as the KPL.
    fn per_shard_data(
        data: &mut Vec<MetricDatum>,
        dimensions: &[Dimension],
        counts: &RecordMetrics,
    ) {
        let count = |n: u64| n as f64;
        data.extend([
            datum(
                "UserRecordsPut",
                dimensions,
                count(counts.user_records_put),
                StandardUnit::Count,
            ),
            datum(
                "UserRecordsDataPut",
                dimensions,
                count(counts.user_records_data_put),
                StandardUnit::Bytes,
            ),
            datum(
                "KinesisRecordsPut",
                dimensions,
                count(counts.kinesis_records_put),
                StandardUnit::Count,
            ),
            datum(
                "KinesisRecordsDataPut",
                dimensions,
                count(counts.kinesis_records_data_put),
                StandardUnit::Bytes,
            ),
            datum(
                "UserRecordExpired",
                dimensions,
                count(counts.user_record_expired),
                StandardUnit::Count,
            ),
            datum(
                "AllErrors",
                dimensions,
                count(counts.all_errors()),
                StandardUnit::Count,
            ),
        ]);
        if counts.kinesis_records_put > 0 {
            data.push(datum(
                "UserRecordsPerKinesisRecord",
                dimensions,
                counts.user_records_per_kinesis_record(),
                StandardUnit::Count,
            ));
        }
        if counts.completed() > 0 {
            data.push(datum(
                "RetriesPerRecord",
                dimensions,
                counts.retries_per_record(),
                StandardUnit::Count,
            ));
        }
        if counts.buffered_records > 0 {
            data.push(datum(
                "BufferingTime",
                dimensions,
                counts.buffering_time().as_secs_f64() * 1000.0,
                StandardUnit::Milliseconds,
            ));
        }
        for (code, n) in &counts.errors_by_code {
            let mut with_code = Vec::with_capacity(dimensions.len() + 1);
            with_code.push(dimension("ErrorCode", code));
            with_code.extend_from_slice(dimensions);
            data.push(datum(
                "ErrorsByCode",
                &with_code,
                count(*n),
                StandardUnit::Count,
            ));
        }
    }

    /// The metrics that stop at the stream, as in the KPL, for one series (overall or one
    /// stream) of the interval `counts`: `UserRecordsReceived`, `UserRecordsPending` and the
    /// per-request ones, `RequestTime` (ms, over the requests that ended in the interval),
    /// `KinesisRecordsPerPutRecordsRequest` and `UserRecordsPerPutRecordsRequest` (over the
    /// requests sent in the interval).
    fn stream_only_data(
        data: &mut Vec<MetricDatum>,
        dimensions: &[Dimension],
        counts: &MetricsSnapshot,
    ) {
        data.push(datum(
            "UserRecordsReceived",
            dimensions,
            counts.user_records_received as f64,
            StandardUnit::Count,
        ));
        data.push(datum(
            "UserRecordsPending",
            dimensions,
            counts.user_records_pending as f64,
            StandardUnit::Count,
        ));
        if counts.put_records_completed > 0 {
            data.push(datum(
                "RequestTime",
                dimensions,
                counts.request_time().as_secs_f64() * 1000.0,
                StandardUnit::Milliseconds,
            ));
        }
        if counts.put_records_requests > 0 {
            data.push(datum(
                "KinesisRecordsPerPutRecordsRequest",
                dimensions,
                counts.kinesis_records_per_request(),
                StandardUnit::Count,
            ));
            data.push(datum(
                "UserRecordsPerPutRecordsRequest",
                dimensions,
                counts.user_records_per_request(),
                StandardUnit::Count,
            ));
        }
    }

    /// Whether the KPL uploads metric `name` at `level` (its table in
    /// `aws/metrics/metrics_constants.cc`: [`SUMMARY_METRIC_NAMES`](super::SUMMARY_METRIC_NAMES)
    /// from `summary` on, everything else only at `detailed`).
    pub(crate) fn published_at(level: MetricsLevel, name: &str) -> bool {
        match level {
            MetricsLevel::None => false,
            MetricsLevel::Summary => super::SUMMARY_METRIC_NAMES.contains(&name),
            MetricsLevel::Detailed => true,
        }
    }

    /// The data of one upload: for each stream, what `now` counts beyond `previous`, broken down
    /// to `granularity` as the KPL does (see the [module docs](super)): the overall series
    /// (no dimension, summed over the streams), then with [`MetricsGranularity::Stream`] and
    /// finer one series per stream (`StreamName`), then with [`MetricsGranularity::Shard`] one
    /// series per shard that counted something in the interval (`StreamName`, `ShardId`) for
    /// the per-shard metrics. A producer has one stream; the overall series of several are the
    /// sums of theirs. Only the metrics the KPL uploads at `level` are kept ([`published_at`]).
    pub(crate) fn data(
        level: MetricsLevel,
        granularity: MetricsGranularity,
        streams: &[StreamCounts<'_>],
    ) -> Vec<MetricDatum> {
        let mut data = all_data(granularity, streams);
        data.retain(|d| published_at(level, d.metric_name().unwrap_or_default()));
        data
    }

    /// [`data`] at [`MetricsLevel::Detailed`]: every metric.
    fn all_data(granularity: MetricsGranularity, streams: &[StreamCounts<'_>]) -> Vec<MetricDatum> {
        let mut data = Vec::new();
        let mut overall = MetricsSnapshot::default();
        let mut deltas = Vec::with_capacity(streams.len());
        for stream in streams {
            overall.add_since(stream.now, stream.previous);
            let mut delta = MetricsSnapshot::default();
            delta.add_since(stream.now, stream.previous);
            deltas.push(delta);
        }
        stream_only_data(&mut data, &[], &overall);
        per_shard_data(&mut data, &[], &overall.totals);
        if granularity < MetricsGranularity::Stream {
            return data;
        }
        for (stream, delta) in streams.iter().zip(&deltas) {
            let dimensions = [dimension("StreamName", stream.stream)];
            stream_only_data(&mut data, &dimensions, delta);
            per_shard_data(&mut data, &dimensions, &delta.totals);
        }
        if granularity < MetricsGranularity::Shard {
            return data;
        }
        let none = RecordMetrics::default();
        for stream in streams {
            for (shard, now) in &stream.now.shards {
                let mut delta = RecordMetrics::default();
                delta.add_since(now, stream.previous.shards.get(shard).unwrap_or(&none));
                // A shard that counted nothing in the interval has no series.
                if delta == none {
                    continue;
                }
                let dimensions = [
                    dimension("StreamName", stream.stream),
                    dimension("ShardId", shard),
                ];
                per_shard_data(&mut data, &dimensions, &delta);
            }
        }
        data
    }

    /// What [`MetricsPublisher::finish`] sends the loop: the last snapshot and where to answer.
    type Finish = (MetricsSnapshot, oneshot::Sender<Result<(), String>>);

    /// A running CloudWatch publisher, from `Producer::start_metrics_publisher`.
    ///
    /// It uploads every `metrics_upload_delay` until the producer is dropped. Call
    /// [`finish`](Self::finish) with the snapshot returned by `Producer::shutdown` so the last
    /// (possibly only) interval is uploaded too; dropping the handle leaves the periodic uploads
    /// running until the producer is dropped, and [`abort`](Self::abort) stops them at once.
    #[derive(Debug)]
    pub struct MetricsPublisher {
        finish: oneshot::Sender<Finish>,
        task: JoinHandle<()>,
    }

    impl MetricsPublisher {
        /// Uploads what `last` counts beyond the previous upload (PutMetricData), then stops.
        ///
        /// # Errors
        /// [`Error::PublishMetrics`] if the upload fails (the periodic uploads only log).
        pub async fn finish(self, last: MetricsSnapshot) -> Result<(), Error> {
            let (reply, answer) = oneshot::channel();
            let stopped = || Error::PublishMetrics {
                message: "the metrics publisher stopped".to_owned(),
            };
            self.finish.send((last, reply)).map_err(|_| stopped())?;
            let result = answer.await.map_err(|_| stopped())?;
            let _ = self.task.await;
            result.map_err(|message| Error::PublishMetrics { message })
        }

        /// Stops the periodic uploads without a final one.
        pub fn abort(self) {
            self.task.abort();
        }
    }

    /// Starts [`publish_loop`] on the runtime.
    pub(crate) fn start(
        client: aws_sdk_cloudwatch::Client,
        settings: Settings,
        delay: Duration,
        metrics: std::sync::Weak<Metrics>,
        outstanding: Arc<dyn Fn() -> u64 + Send + Sync>,
    ) -> MetricsPublisher {
        let (finish, finished) = oneshot::channel();
        let task = tokio::spawn(publish_loop(
            client,
            settings,
            delay,
            metrics,
            outstanding,
            finished,
        ));
        MetricsPublisher { finish, task }
    }

    /// Publishes every `delay` until the producer is dropped, or once more and stops when a
    /// final snapshot arrives on `finished`.
    async fn publish_loop(
        client: aws_sdk_cloudwatch::Client,
        settings: Settings,
        delay: Duration,
        metrics: std::sync::Weak<Metrics>,
        outstanding: Arc<dyn Fn() -> u64 + Send + Sync>,
        mut finished: oneshot::Receiver<Finish>,
    ) {
        let mut previous = MetricsSnapshot::default();
        let mut interval = tokio::time::interval(delay);
        interval.tick().await;
        // The periodic uploads stop when the producer is dropped; the loop ends then unless
        // the handle may still send the final snapshot (`Producer::shutdown` drops the
        // producer's counters before the caller can call `finish`).
        let (mut producer_alive, mut handle_alive) = (true, true);
        loop {
            tokio::select! {
                _ = interval.tick(), if producer_alive => {
                    let Some(metrics) = metrics.upgrade() else {
                        producer_alive = false;
                        if handle_alive {
                            continue;
                        }
                        return;
                    };
                    let now = metrics.snapshot(outstanding());
                    drop(metrics);
                    if let Err(err) = publish(&client, &settings, &now, &previous).await {
                        tracing::warn!(error = %err, "could not publish producer metrics to CloudWatch");
                    }
                    previous = now;
                }
                last = &mut finished, if handle_alive => match last {
                    Ok((last, reply)) => {
                        let result = publish(&client, &settings, &last, &previous).await;
                        let _ = reply.send(result);
                        return;
                    }
                    // The handle was dropped: keep uploading until the producer is dropped.
                    Err(_) if producer_alive => handle_alive = false,
                    Err(_) => return,
                },
            }
        }
    }

    /// `Code: message` for a CloudWatch error, `HTTP <status>: <error>` for an answer that is
    /// not one (an endpoint that does not serve CloudWatch), else the error with its causes.
    fn error_message(
        err: &aws_sdk_cloudwatch::error::SdkError<
            aws_sdk_cloudwatch::operation::put_metric_data::PutMetricDataError,
            aws_sdk_cloudwatch::config::http::HttpResponse,
        >,
    ) -> String {
        use aws_sdk_cloudwatch::error::{ProvideErrorMetadata, SdkError};
        match err {
            SdkError::ServiceError(service) if service.err().code().is_none() => {
                format!(
                    "HTTP {}: {}",
                    service.raw().status().as_u16(),
                    service.err()
                )
            }
            _ => crate::sdk_error_message(err),
        }
    }

    /// One PutMetricData call (in chunks of 1000 data).
    pub(crate) async fn publish(
        client: &aws_sdk_cloudwatch::Client,
        settings: &Settings,
        now: &MetricsSnapshot,
        previous: &MetricsSnapshot,
    ) -> Result<(), String> {
        let data = data(
            settings.level,
            settings.granularity,
            &[StreamCounts {
                stream: &settings.stream,
                now,
                previous,
            }],
        );
        for chunk in data.chunks(1000) {
            client
                .put_metric_data()
                .namespace(&settings.namespace)
                .set_metric_data(Some(chunk.to_vec()))
                .send()
                .await
                .map_err(|e| error_message(&e))?;
        }
        Ok(())
    }
}

#[cfg(all(test, feature = "cloudwatch"))]
mod tests {
    use std::collections::BTreeSet;

    use aws_sdk_cloudwatch::types::MetricDatum;

    use super::cloudwatch::{StreamCounts, data};
    use super::*;
    use crate::config::{MetricsGranularity, MetricsLevel};

    const THROTTLED: &str = "ProvisionedThroughputExceededException";

    /// A snapshot whose totals are the sums of `shards`: (shard, user records put, Kinesis
    /// records put, throttled entries).
    fn snapshot(shards: &[(&str, u64, u64, u64)]) -> MetricsSnapshot {
        let mut snapshot = MetricsSnapshot {
            user_records_received: 0,
            user_records_pending: 7,
            ..MetricsSnapshot::default()
        };
        for &(shard, put, kinesis, throttled) in shards {
            let mut counts = RecordMetrics {
                user_records_put: put,
                user_records_data_put: put * 10,
                kinesis_records_put: kinesis,
                kinesis_records_data_put: kinesis * 100,
                retries: throttled,
                buffering_time_total: Duration::from_millis(5 * put),
                buffered_records: put,
                ..RecordMetrics::default()
            };
            if throttled > 0 {
                counts
                    .errors_by_code
                    .insert(THROTTLED.to_owned(), throttled);
            }
            // One request per Kinesis record, of 20 ms each.
            snapshot.put_records_requests += kinesis;
            snapshot.put_records_entries += kinesis;
            snapshot.put_records_user_records += put;
            snapshot.put_records_completed += kinesis;
            snapshot.request_time_total += Duration::from_millis(20 * kinesis);
            snapshot.user_records_received += put;
            snapshot
                .totals
                .add_since(&counts, &RecordMetrics::default());
            snapshot.shards.insert(shard.to_owned(), counts);
        }
        snapshot
    }

    /// Each datum of metric `name` as its dimensions (`Name=value`, sorted) and value.
    fn series(data: &[MetricDatum], name: &str) -> Vec<(BTreeSet<String>, f64)> {
        data.iter()
            .filter(|d| d.metric_name() == Some(name))
            .map(|d| {
                let dims = d
                    .dimensions()
                    .iter()
                    .map(|x| format!("{}={}", x.name().unwrap(), x.value().unwrap()))
                    .collect();
                (dims, d.value().unwrap())
            })
            .collect()
    }

    fn dims(list: &[&str]) -> BTreeSet<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    fn two_streams_of_two_shards() -> (MetricsSnapshot, MetricsSnapshot) {
        (
            snapshot(&[("shardId-0", 100, 2, 1), ("shardId-1", 50, 1, 0)]),
            snapshot(&[("shardId-0", 30, 1, 0), ("shardId-1", 20, 1, 2)]),
        )
    }

    fn upload(
        level: MetricsLevel,
        granularity: MetricsGranularity,
        a: &MetricsSnapshot,
        b: &MetricsSnapshot,
    ) -> Vec<MetricDatum> {
        let none = MetricsSnapshot::default();
        data(
            level,
            granularity,
            &[
                StreamCounts {
                    stream: "a",
                    now: a,
                    previous: &none,
                },
                StreamCounts {
                    stream: "b",
                    now: b,
                    previous: &none,
                },
            ],
        )
    }

    #[test]
    fn shard_granularity_gives_one_series_per_shard_per_stream_and_overall() {
        let (a, b) = two_streams_of_two_shards();
        let data = upload(MetricsLevel::Detailed, MetricsGranularity::Shard, &a, &b);
        for name in SHARD_METRIC_NAMES {
            if name == "ErrorsByCode" {
                continue;
            }
            assert_eq!(series(&data, name).len(), 7, "{name}");
        }
        let put = series(&data, "UserRecordsPut");
        let expected = [
            (dims(&[]), 200.0),
            (dims(&["StreamName=a"]), 150.0),
            (dims(&["StreamName=b"]), 50.0),
            (dims(&["StreamName=a", "ShardId=shardId-0"]), 100.0),
            (dims(&["StreamName=a", "ShardId=shardId-1"]), 50.0),
            (dims(&["StreamName=b", "ShardId=shardId-0"]), 30.0),
            (dims(&["StreamName=b", "ShardId=shardId-1"]), 20.0),
        ];
        assert_eq!(put, expected);
        // The stream-only metrics: overall and per stream, never per shard.
        for name in ["UserRecordsReceived", "UserRecordsPending"] {
            let found: Vec<_> = series(&data, name).into_iter().map(|(d, _)| d).collect();
            assert_eq!(
                found,
                [dims(&[]), dims(&["StreamName=a"]), dims(&["StreamName=b"])],
                "{name}"
            );
        }
        assert_eq!(series(&data, "UserRecordsPending")[0].1, 14.0, "summed");
        // ErrorsByCode keeps ErrorCode at every level; only the shards with errors have one.
        let errors = series(&data, "ErrorsByCode");
        let code = format!("ErrorCode={THROTTLED}");
        assert_eq!(
            errors,
            [
                (dims(&[&code]), 3.0),
                (dims(&[&code, "StreamName=a"]), 1.0),
                (dims(&[&code, "StreamName=b"]), 2.0),
                (dims(&[&code, "StreamName=a", "ShardId=shardId-0"]), 1.0),
                (dims(&[&code, "StreamName=b", "ShardId=shardId-1"]), 2.0),
            ]
        );
        let ratio = series(&data, "UserRecordsPerKinesisRecord");
        assert!(ratio.contains(&(dims(&[]), 40.0)), "{ratio:?}");
        assert!(
            ratio.contains(&(dims(&["StreamName=b", "ShardId=shardId-0"]), 30.0)),
            "{ratio:?}"
        );
        let names: BTreeSet<&str> = data.iter().filter_map(|d| d.metric_name()).collect();
        assert_eq!(names, METRIC_NAMES.into_iter().collect(), "every name");
    }

    #[test]
    fn stream_granularity_has_no_shard_series() {
        let (a, b) = two_streams_of_two_shards();
        let data = upload(MetricsLevel::Detailed, MetricsGranularity::Stream, &a, &b);
        for name in METRIC_NAMES {
            let found = series(&data, name);
            if name != "ErrorsByCode" {
                assert_eq!(found.len(), 3, "{name}: {found:?}");
            }
            assert!(
                found
                    .iter()
                    .all(|(d, _)| !d.iter().any(|x| x.starts_with("ShardId="))),
                "{name}: {found:?}"
            );
        }
        assert_eq!(
            series(&data, "KinesisRecordsPut"),
            [
                (dims(&[]), 5.0),
                (dims(&["StreamName=a"]), 3.0),
                (dims(&["StreamName=b"]), 2.0)
            ]
        );
    }

    #[test]
    fn global_granularity_has_no_stream_name() {
        let (a, b) = two_streams_of_two_shards();
        let data = upload(MetricsLevel::Detailed, MetricsGranularity::Global, &a, &b);
        assert_eq!(data.len(), METRIC_NAMES.len(), "one series per metric");
        for datum in &data {
            let expected = usize::from(datum.metric_name() == Some("ErrorsByCode"));
            assert_eq!(datum.dimensions().len(), expected, "{datum:?}");
        }
        assert_eq!(series(&data, "UserRecordsPut"), [(dims(&[]), 200.0)]);
        assert_eq!(series(&data, "BufferingTime"), [(dims(&[]), 5.0)]);
        assert_eq!(series(&data, "RetriesPerRecord"), [(dims(&[]), 0.015)]);
    }

    #[test]
    fn uploads_carry_deltas_and_idle_shards_are_left_out() {
        let previous = snapshot(&[("shardId-0", 100, 10, 0), ("shardId-1", 40, 4, 0)]);
        let now = snapshot(&[("shardId-0", 400, 20, 3), ("shardId-1", 40, 4, 0)]);
        let data = data(
            MetricsLevel::Detailed,
            MetricsGranularity::Shard,
            &[StreamCounts {
                stream: "ticks",
                now: &now,
                previous: &previous,
            }],
        );
        assert_eq!(
            series(&data, "UserRecordsPut"),
            [
                (dims(&[]), 300.0),
                (dims(&["StreamName=ticks"]), 300.0),
                (dims(&["StreamName=ticks", "ShardId=shardId-0"]), 300.0),
            ],
            "shardId-1 counted nothing since the previous upload"
        );
        let shard0 = dims(&["StreamName=ticks", "ShardId=shardId-0"]);
        for (name, value) in [
            ("KinesisRecordsPut", 10.0),
            ("UserRecordsPerKinesisRecord", 30.0),
            ("RetriesPerRecord", 0.01),
            ("BufferingTime", 5.0),
            ("AllErrors", 3.0),
        ] {
            assert!(
                series(&data, name).contains(&(shard0.clone(), value)),
                "{name}: {:?}",
                series(&data, name)
            );
        }
        assert!(data_at(MetricsLevel::None, &now, &previous).is_empty());
    }

    /// The KPL's table (`metrics_constants.cc`): `summary` is exactly `UserRecordsPut`,
    /// `KinesisRecordsPut`, `ErrorsByCode`, `AllErrors`, `UserRecordExpired` and
    /// `BufferingTime`, at every granularity; `detailed` is everything.
    #[test]
    fn summary_level_uploads_only_the_kpls_summary_metrics() {
        let (mut a, b) = two_streams_of_two_shards();
        a.totals.user_record_expired = 1;
        a.totals.user_records_failed = 1;
        a.shards.get_mut("shardId-0").unwrap().user_record_expired = 1;
        a.shards.get_mut("shardId-0").unwrap().user_records_failed = 1;
        let summary: BTreeSet<&str> = SUMMARY_METRIC_NAMES.into_iter().collect();
        assert_eq!(summary.len(), 6);
        assert!(summary.iter().all(|n| METRIC_NAMES.contains(n)));
        for granularity in [
            MetricsGranularity::Global,
            MetricsGranularity::Stream,
            MetricsGranularity::Shard,
        ] {
            let data = upload(MetricsLevel::Summary, granularity, &a, &b);
            let names: BTreeSet<&str> = data.iter().filter_map(|d| d.metric_name()).collect();
            assert_eq!(names, summary, "{granularity:?}");
            let detailed = upload(MetricsLevel::Detailed, granularity, &a, &b);
            let names: BTreeSet<&str> = detailed.iter().filter_map(|d| d.metric_name()).collect();
            assert_eq!(names, METRIC_NAMES.into_iter().collect(), "{granularity:?}");
            // Summary keeps every series of its metrics, ErrorsByCode's included.
            for name in SUMMARY_METRIC_NAMES {
                assert_eq!(
                    series(&data, name),
                    series(&detailed, name),
                    "{name} at {granularity:?}"
                );
            }
        }
        let data = upload(MetricsLevel::Summary, MetricsGranularity::Shard, &a, &b);
        let code = format!("ErrorCode={THROTTLED}");
        assert!(
            series(&data, "ErrorsByCode")
                .contains(&(dims(&[&code, "StreamName=a", "ShardId=shardId-0"]), 1.0)),
            "{data:?}"
        );
        assert!(
            series(&data, "UserRecordExpired")
                .contains(&(dims(&["StreamName=a", "ShardId=shardId-0"]), 1.0)),
            "{data:?}"
        );
    }

    /// `RequestTime` (ms), `KinesisRecordsPerPutRecordsRequest` and
    /// `UserRecordsPerPutRecordsRequest`: per stream and overall at `detailed`, never per shard
    /// (the KPL's retrier puts them with the stream only).
    #[test]
    fn request_metrics_are_uploaded_per_stream_in_milliseconds() {
        let with_requests = |requests, entries, user_records, millis| MetricsSnapshot {
            put_records_requests: requests,
            put_records_entries: entries,
            put_records_user_records: user_records,
            put_records_completed: requests,
            request_time_total: Duration::from_millis(millis),
            ..snapshot(&[("shardId-0", user_records, entries, 0)])
        };
        let a = with_requests(3, 6, 300, 60);
        let b = with_requests(1, 1, 10, 100);
        let data = upload(MetricsLevel::Detailed, MetricsGranularity::Shard, &a, &b);
        for (name, expected) in [
            ("RequestTime", [40.0, 20.0, 100.0]),
            ("KinesisRecordsPerPutRecordsRequest", [1.75, 2.0, 1.0]),
            ("UserRecordsPerPutRecordsRequest", [77.5, 100.0, 10.0]),
        ] {
            assert_eq!(
                series(&data, name),
                [
                    (dims(&[]), expected[0]),
                    (dims(&["StreamName=a"]), expected[1]),
                    (dims(&["StreamName=b"]), expected[2]),
                ],
                "{name}"
            );
            assert!(!SHARD_METRIC_NAMES.contains(&name));
        }
        let units: BTreeSet<_> = data
            .iter()
            .filter(|d| d.metric_name() == Some("RequestTime"))
            .map(|d| d.unit().cloned())
            .collect();
        assert_eq!(
            units,
            [Some(aws_sdk_cloudwatch::types::StandardUnit::Milliseconds)]
                .into_iter()
                .collect()
        );
        // An interval without requests has nothing to divide by: no series.
        let data = data_at(MetricsLevel::Detailed, &a, &a);
        assert!(series(&data, "RequestTime").is_empty(), "{data:?}");
        // Detailed only.
        let summary = upload(MetricsLevel::Summary, MetricsGranularity::Shard, &a, &b);
        assert!(series(&summary, "RequestTime").is_empty());
    }

    fn data_at(
        level: MetricsLevel,
        now: &MetricsSnapshot,
        previous: &MetricsSnapshot,
    ) -> Vec<MetricDatum> {
        data(
            level,
            MetricsGranularity::Shard,
            &[StreamCounts {
                stream: "ticks",
                now,
                previous,
            }],
        )
    }
}
