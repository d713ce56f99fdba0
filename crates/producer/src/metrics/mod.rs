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
//!
//! # Layout
//!
//! - `counters.rs`: the counters ([`MetricsSnapshot`], [`RecordMetrics`]).
//! - `series.rs`: the data of one CloudWatch upload, per level and granularity (`cloudwatch`
//!   feature).
//! - `publisher.rs`: the CloudWatch publisher task (`cloudwatch` feature).

mod counters;
#[cfg(feature = "cloudwatch")]
pub(crate) mod publisher;
#[cfg(feature = "cloudwatch")]
mod series;

pub(crate) use counters::Metrics;
pub use counters::{MetricsSnapshot, RecordMetrics};
#[cfg(feature = "cloudwatch")]
pub use publisher::MetricsPublisher;

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
