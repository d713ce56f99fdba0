//! Producer configuration: [`ProducerConfig`] and its builder.
//!
//! The names mirror the KPL's configuration keys (`AggregationEnabled` → `aggregation_enabled`,
//! `RecordMaxBufferedTime` → `record_max_buffered_time`, …) and so do the defaults, except where
//! a note says otherwise:
//!
//! | KPL key | builder method | default |
//! |---|---|---|
//! | `AggregationEnabled` | [`aggregation_enabled`](ProducerConfigBuilder::aggregation_enabled) | `true` |
//! | `AggregationMaxCount` | [`aggregation_max_count`](ProducerConfigBuilder::aggregation_max_count) | 4294967295 |
//! | `AggregationMaxSize` | [`aggregation_max_size`](ProducerConfigBuilder::aggregation_max_size) | 51200 |
//! | `CollectionMaxCount` | [`collection_max_count`](ProducerConfigBuilder::collection_max_count) | 500 |
//! | `CollectionMaxSize` | [`collection_max_size`](ProducerConfigBuilder::collection_max_size) | 5242880 |
//! | `RecordMaxBufferedTime` | [`record_max_buffered_time`](ProducerConfigBuilder::record_max_buffered_time) | 100 ms |
//! | `RecordTtl` | [`record_ttl`](ProducerConfigBuilder::record_ttl) | 30 s |
//! | `RateLimit` | [`rate_limit`](ProducerConfigBuilder::rate_limit) | 150 |
//! | `FailIfThrottled` | [`fail_if_throttled`](ProducerConfigBuilder::fail_if_throttled) | `false` |
//! | `MaxUserRecordSize` | [`max_record_size`](ProducerConfigBuilder::max_record_size) | the stream's, else 1 MiB |
//! | `MaxConnections` | [`max_connections`](ProducerConfigBuilder::max_connections) | 24 |
//! | `RequestTimeout` | [`request_timeout`](ProducerConfigBuilder::request_timeout) | 6 s |
//! | `MetricsLevel` | [`metrics_level`](ProducerConfigBuilder::metrics_level) | [`MetricsLevel::None`] (the KPL's: `detailed`) |
//! | `MetricsGranularity` | [`metrics_granularity`](ProducerConfigBuilder::metrics_granularity) | [`MetricsGranularity::Shard`] (as the KPL) |
//! | `MetricsNamespace` | [`metrics_namespace`](ProducerConfigBuilder::metrics_namespace) | `KinesisProducerLibrary` |
//! | `MetricsUploadDelay` | [`metrics_upload_delay`](ProducerConfigBuilder::metrics_upload_delay) | 60 s |

use std::time::Duration;

use crate::error::ConfigError;

/// Kinesis' per-shard write limit in records per second (before [`ProducerConfig::rate_limit`]).
pub const SHARD_RECORDS_PER_SECOND: u64 = 1_000;
/// Kinesis' per-shard write limit in bytes per second (before [`ProducerConfig::rate_limit`]).
pub const SHARD_BYTES_PER_SECOND: u64 = 1024 * 1024;
/// The most entries Kinesis accepts in one PutRecords request.
pub const MAX_PUT_RECORDS_ENTRIES: usize = 500;
/// The largest PutRecords request Kinesis accepts today (10 MiB, data plus partition keys).
pub const MAX_PUT_RECORDS_BYTES: usize = 10 * 1024 * 1024;
/// The default record size limit of a stream (1 MiB, data plus partition key).
pub const DEFAULT_MAX_RECORD_SIZE: usize = 1024 * 1024;
/// The largest record size limit a stream can be configured with (`MaxRecordSizeInKiB` 10240).
pub const MAX_RECORD_SIZE_LIMIT: usize = 10 * 1024 * 1024;

/// How many CloudWatch metrics the producer publishes (KPL `MetricsLevel`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum MetricsLevel {
    /// Publish nothing (metrics are still counted and available from `Producer::metrics`).
    #[default]
    None,
    /// The KPL's `summary` metrics ([`SUMMARY_METRIC_NAMES`](crate::SUMMARY_METRIC_NAMES)):
    /// `UserRecordsPut`, `KinesisRecordsPut`, `ErrorsByCode`, `AllErrors`, `UserRecordExpired`
    /// and `BufferingTime`, at the configured [`MetricsGranularity`].
    Summary,
    /// Every metric ([`METRIC_NAMES`](crate::METRIC_NAMES)): [`Summary`](Self::Summary) plus
    /// `UserRecordsReceived`, `UserRecordsPending`, `UserRecordsDataPut`,
    /// `KinesisRecordsDataPut`, `UserRecordsPerKinesisRecord`, `RetriesPerRecord`,
    /// `RequestTime`, `KinesisRecordsPerPutRecordsRequest` and `UserRecordsPerPutRecordsRequest`,
    /// as the KPL's table in `aws/metrics/metrics_constants.cc`.
    Detailed,
}

/// At which granularities the published metrics are broken down (KPL `MetricsGranularity`).
///
/// Each level adds series to the coarser ones, as in the KPL: with [`Shard`](Self::Shard), a
/// stream of two shards gives, for each per-shard metric, one series per shard (dimensions
/// `StreamName`, `ShardId`), one for the stream (`StreamName`) and one overall (no dimension).
/// `ErrorsByCode` keeps its `ErrorCode` dimension at every level. Which metrics are also
/// reported per shard: [`SHARD_METRIC_NAMES`](crate::SHARD_METRIC_NAMES).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
#[non_exhaustive]
pub enum MetricsGranularity {
    /// Only the aggregate over all streams and shards: no `StreamName` dimension.
    Global,
    /// As [`Global`](Self::Global), plus every metric per stream (dimension `StreamName`).
    Stream,
    /// As [`Stream`](Self::Stream), plus the per-shard metrics per shard (dimensions
    /// `StreamName`, `ShardId`). The KPL's default.
    #[default]
    Shard,
}

/// How the stream places records on shards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum RecordDistribution {
    /// Ask the stream (`DescribeStreamSummary` → `RecordDistributionStrategy`); an absent value
    /// means `USER_PARTITION_KEY`.
    #[default]
    Detect,
    /// Records go to the shard owning the hash of their partition key (or explicit hash key):
    /// per-shard aggregation and rate limiting apply.
    UserPartitionKey,
    /// The stream places records itself and ignores partition and explicit hash keys (on-demand
    /// streams with the `AUTO` strategy): aggregation is off and no shard is predicted.
    Auto,
}

/// Configuration of a [`Producer`](crate::Producer). Build one with [`ProducerConfig::builder`].
#[derive(Debug, Clone)]
pub struct ProducerConfig {
    pub(crate) stream_name: String,
    pub(crate) aggregation_enabled: bool,
    pub(crate) aggregation_max_count: usize,
    pub(crate) aggregation_max_size: usize,
    pub(crate) collection_max_count: usize,
    pub(crate) collection_max_size: usize,
    pub(crate) record_max_buffered_time: Duration,
    pub(crate) record_ttl: Duration,
    pub(crate) rate_limit: u32,
    pub(crate) fail_if_throttled: bool,
    pub(crate) max_record_size: Option<usize>,
    pub(crate) max_outstanding_records: usize,
    pub(crate) max_connections: usize,
    pub(crate) request_timeout: Duration,
    pub(crate) retry_base_delay: Duration,
    pub(crate) retry_max_delay: Duration,
    pub(crate) shard_map_refresh_interval: Option<Duration>,
    pub(crate) record_distribution: RecordDistribution,
    pub(crate) metrics_level: MetricsLevel,
    pub(crate) metrics_granularity: MetricsGranularity,
    pub(crate) metrics_namespace: String,
    pub(crate) metrics_upload_delay: Duration,
}

impl ProducerConfig {
    /// A builder with every default; only the stream name is required.
    pub fn builder() -> ProducerConfigBuilder {
        ProducerConfigBuilder::default()
    }

    /// The stream records are put into.
    pub fn stream_name(&self) -> &str {
        &self.stream_name
    }
    /// Whether user records are aggregated (KPL format) per predicted shard.
    pub fn aggregation_enabled(&self) -> bool {
        self.aggregation_enabled
    }
    /// The most user records in one aggregated record.
    pub fn aggregation_max_count(&self) -> usize {
        self.aggregation_max_count
    }
    /// The largest aggregated record, in bytes.
    pub fn aggregation_max_size(&self) -> usize {
        self.aggregation_max_size
    }
    /// The most entries in one PutRecords request.
    pub fn collection_max_count(&self) -> usize {
        self.collection_max_count
    }
    /// The largest PutRecords request, in bytes of data plus partition keys.
    pub fn collection_max_size(&self) -> usize {
        self.collection_max_size
    }
    /// How long a user record may wait for aggregation and collection before it is sent.
    pub fn record_max_buffered_time(&self) -> Duration {
        self.record_max_buffered_time
    }
    /// How long a user record is retried before it fails as expired.
    pub fn record_ttl(&self) -> Duration {
        self.record_ttl
    }
    /// The per-shard rate limit as a percentage of Kinesis' shard limits.
    pub fn rate_limit(&self) -> u32 {
        self.rate_limit
    }
    /// Whether a throttled record fails at once instead of being retried.
    pub fn fail_if_throttled(&self) -> bool {
        self.fail_if_throttled
    }
    /// The configured record size limit (`None`: read from the stream, else 1 MiB).
    pub fn max_record_size(&self) -> Option<usize> {
        self.max_record_size
    }
    /// The most user records accepted and not yet completed.
    pub fn max_outstanding_records(&self) -> usize {
        self.max_outstanding_records
    }
    /// The most PutRecords requests in flight at once.
    pub fn max_connections(&self) -> usize {
        self.max_connections
    }
    /// How long one PutRecords request may take before it is abandoned and its records retried.
    pub fn request_timeout(&self) -> Duration {
        self.request_timeout
    }
    /// The metrics published to CloudWatch.
    pub fn metrics_level(&self) -> MetricsLevel {
        self.metrics_level
    }
    /// The granularities the published metrics are broken down to.
    pub fn metrics_granularity(&self) -> MetricsGranularity {
        self.metrics_granularity
    }
    /// The CloudWatch namespace of the published metrics.
    pub fn metrics_namespace(&self) -> &str {
        &self.metrics_namespace
    }
    /// How often metrics are published to CloudWatch.
    pub fn metrics_upload_delay(&self) -> Duration {
        self.metrics_upload_delay
    }
    /// How the stream places records on shards.
    pub fn record_distribution(&self) -> RecordDistribution {
        self.record_distribution
    }
}

/// Builder of [`ProducerConfig`]. Every setter documents its default.
#[derive(Debug, Clone)]
pub struct ProducerConfigBuilder {
    stream_name: Option<String>,
    config: ProducerConfig,
}

impl Default for ProducerConfigBuilder {
    fn default() -> Self {
        Self {
            stream_name: None,
            config: ProducerConfig {
                stream_name: String::new(),
                aggregation_enabled: true,
                aggregation_max_count: u32::MAX as usize,
                aggregation_max_size: 51_200,
                collection_max_count: MAX_PUT_RECORDS_ENTRIES,
                collection_max_size: 5 * 1024 * 1024,
                record_max_buffered_time: Duration::from_millis(100),
                record_ttl: Duration::from_secs(30),
                rate_limit: 150,
                fail_if_throttled: false,
                max_record_size: None,
                max_outstanding_records: 100_000,
                max_connections: 24,
                request_timeout: Duration::from_secs(6),
                retry_base_delay: Duration::from_millis(100),
                retry_max_delay: Duration::from_secs(2),
                shard_map_refresh_interval: Some(Duration::from_secs(60)),
                record_distribution: RecordDistribution::Detect,
                metrics_level: MetricsLevel::None,
                metrics_granularity: MetricsGranularity::Shard,
                metrics_namespace: "KinesisProducerLibrary".to_owned(),
                metrics_upload_delay: Duration::from_secs(60),
            },
        }
    }
}

impl ProducerConfigBuilder {
    /// The stream to put records into. Required.
    pub fn stream_name(mut self, name: impl Into<String>) -> Self {
        self.stream_name = Some(name.into());
        self
    }

    /// Aggregate user records into KPL-format records, one aggregate per predicted shard
    /// (KPL `AggregationEnabled`). By default, `true`. Aggregation is off anyway on streams whose
    /// records are placed automatically (see [`record_distribution`](Self::record_distribution)).
    pub fn aggregation_enabled(mut self, enabled: bool) -> Self {
        self.config.aggregation_enabled = enabled;
        self
    }

    /// The most user records in one aggregated record (KPL `AggregationMaxCount`, 1..).
    /// By default, 4294967295 (no limit but the size).
    pub fn aggregation_max_count(mut self, count: usize) -> Self {
        self.config.aggregation_max_count = count;
        self
    }

    /// The largest aggregated record in bytes, framing included (KPL `AggregationMaxSize`,
    /// 64..=10485760). By default, 51200. Larger user records are sent alone.
    pub fn aggregation_max_size(mut self, bytes: usize) -> Self {
        self.config.aggregation_max_size = bytes;
        self
    }

    /// The most entries in one PutRecords request (KPL `CollectionMaxCount`, 1..=500).
    /// By default, 500.
    pub fn collection_max_count(mut self, count: usize) -> Self {
        self.config.collection_max_count = count;
        self
    }

    /// The largest PutRecords request in bytes of data plus partition keys (KPL
    /// `CollectionMaxSize`, 52224..=10485760). By default, 5242880 (5 MiB), which every Kinesis
    /// endpoint accepts; 10 MiB is today's service limit.
    pub fn collection_max_size(mut self, bytes: usize) -> Self {
        self.config.collection_max_size = bytes;
        self
    }

    /// How long a user record may wait in the aggregator and collector before it is sent (KPL
    /// `RecordMaxBufferedTime`). By default, 100 ms. Records of one partition key can be
    /// reordered by retries; otherwise they keep their order.
    pub fn record_max_buffered_time(mut self, time: Duration) -> Self {
        self.config.record_max_buffered_time = time;
        self
    }

    /// How long a user record may take, retries included, before it fails as expired
    /// (KPL `RecordTtl`, at least 100 ms). By default, 30 s. Expired records are reported
    /// through their result, never dropped silently.
    pub fn record_ttl(mut self, ttl: Duration) -> Self {
        self.config.record_ttl = ttl;
        self
    }

    /// The per-shard rate limit as a percentage of Kinesis' shard limits of 1000 records/s and
    /// 1 MiB/s (KPL `RateLimit`, 1..). By default, 150: a little over the limit, so the shard
    /// stays busy while throttling stays bounded.
    pub fn rate_limit(mut self, percent: u32) -> Self {
        self.config.rate_limit = percent;
        self
    }

    /// Fail a record at once when Kinesis throttles it, instead of retrying until its time to
    /// live runs out (KPL `FailIfThrottled`). By default, `false`.
    pub fn fail_if_throttled(mut self, fail: bool) -> Self {
        self.config.fail_if_throttled = fail;
        self
    }

    /// The record size limit in bytes of data plus partition key (KPL `MaxUserRecordSize`,
    /// 64..=10485760). By default, the stream's `MaxRecordSizeInKiB` when `DescribeStreamSummary`
    /// reports it, else 1 MiB. Larger records are rejected by `put` with an error naming them.
    pub fn max_record_size(mut self, bytes: usize) -> Self {
        self.config.max_record_size = Some(bytes);
        self
    }

    /// The most user records accepted and not yet completed; `put` waits while this many are
    /// outstanding (backpressure). By default, 100000.
    pub fn max_outstanding_records(mut self, count: usize) -> Self {
        self.config.max_outstanding_records = count;
        self
    }

    /// The most PutRecords requests in flight at once (KPL `MaxConnections`, 1..=256).
    /// By default, 24.
    pub fn max_connections(mut self, count: usize) -> Self {
        self.config.max_connections = count;
        self
    }

    /// How long one PutRecords request may take before it is abandoned and its records retried
    /// (KPL `RequestTimeout`). By default, 6 s. A timed-out request may still have succeeded,
    /// so retries after a timeout can duplicate records (as with the KPL).
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.config.request_timeout = timeout;
        self
    }

    /// The first retry delay; each further attempt doubles it up to
    /// [`retry_max_delay`](Self::retry_max_delay), with full jitter in its upper half.
    /// By default, 100 ms.
    pub fn retry_base_delay(mut self, delay: Duration) -> Self {
        self.config.retry_base_delay = delay;
        self
    }

    /// The longest retry delay. By default, 2 s.
    pub fn retry_max_delay(mut self, delay: Duration) -> Self {
        self.config.retry_max_delay = delay;
        self
    }

    /// How often the shard map is refreshed from ListShards even when no record went to an
    /// unexpected shard (`None`: only on such results). By default, 60 s.
    pub fn shard_map_refresh_interval(mut self, interval: Option<Duration>) -> Self {
        self.config.shard_map_refresh_interval = interval;
        self
    }

    /// How the stream places records on shards. By default, [`RecordDistribution::Detect`].
    pub fn record_distribution(mut self, distribution: RecordDistribution) -> Self {
        self.config.record_distribution = distribution;
        self
    }

    /// The metrics published to CloudWatch (KPL `MetricsLevel`): [`MetricsLevel::None`],
    /// [`MetricsLevel::Summary`] (the KPL's six summary metrics,
    /// [`SUMMARY_METRIC_NAMES`](crate::SUMMARY_METRIC_NAMES)) or [`MetricsLevel::Detailed`]
    /// (every metric, [`METRIC_NAMES`](crate::METRIC_NAMES)). By default, [`MetricsLevel::None`]
    /// (the KPL's default is `detailed`; publishing needs the `cloudwatch` cargo feature and
    /// `Producer::start_metrics_publisher`).
    pub fn metrics_level(mut self, level: MetricsLevel) -> Self {
        self.config.metrics_level = level;
        self
    }

    /// At which granularities the published metrics are broken down (KPL `MetricsGranularity`):
    /// [`Global`](MetricsGranularity::Global) (no `StreamName` dimension),
    /// [`Stream`](MetricsGranularity::Stream) (plus `StreamName`) or
    /// [`Shard`](MetricsGranularity::Shard) (plus `StreamName` and `ShardId` for the metrics the
    /// KPL reports per shard). By default, [`MetricsGranularity::Shard`], as the KPL.
    pub fn metrics_granularity(mut self, granularity: MetricsGranularity) -> Self {
        self.config.metrics_granularity = granularity;
        self
    }

    /// The CloudWatch namespace (KPL `MetricsNamespace`). By default, `KinesisProducerLibrary`.
    pub fn metrics_namespace(mut self, namespace: impl Into<String>) -> Self {
        self.config.metrics_namespace = namespace.into();
        self
    }

    /// How often metrics are published (KPL `MetricsUploadDelay`, 1 s..=60 s).
    /// By default, 60 s.
    pub fn metrics_upload_delay(mut self, delay: Duration) -> Self {
        self.config.metrics_upload_delay = delay;
        self
    }

    /// Checks every value against its range and returns the configuration.
    pub fn build(self) -> Result<ProducerConfig, ConfigError> {
        let mut config = self.config;
        config.stream_name = match self.stream_name {
            Some(name) if !name.is_empty() => name,
            _ => return Err(ConfigError::MissingStreamName),
        };
        check(
            "aggregation_max_count",
            config.aggregation_max_count,
            1,
            usize::MAX,
        )?;
        check(
            "aggregation_max_size",
            config.aggregation_max_size,
            64,
            MAX_RECORD_SIZE_LIMIT,
        )?;
        check(
            "collection_max_count",
            config.collection_max_count,
            1,
            MAX_PUT_RECORDS_ENTRIES,
        )?;
        check(
            "collection_max_size",
            config.collection_max_size,
            52_224,
            MAX_PUT_RECORDS_BYTES,
        )?;
        check("rate_limit", config.rate_limit as usize, 1, 10_000)?;
        check(
            "max_outstanding_records",
            config.max_outstanding_records,
            1,
            1 << 28,
        )?;
        check("max_connections", config.max_connections, 1, 256)?;
        if let Some(size) = config.max_record_size {
            check("max_record_size", size, 64, MAX_RECORD_SIZE_LIMIT)?;
        }
        if config.record_ttl < Duration::from_millis(100) {
            return Err(ConfigError::OutOfRange {
                name: "record_ttl",
                value: format!("{:?}", config.record_ttl),
                range: "at least 100 ms".into(),
            });
        }
        if config.request_timeout.is_zero() {
            return Err(ConfigError::OutOfRange {
                name: "request_timeout",
                value: "0".into(),
                range: "more than 0".into(),
            });
        }
        if config.retry_max_delay < config.retry_base_delay {
            return Err(ConfigError::OutOfRange {
                name: "retry_max_delay",
                value: format!("{:?}", config.retry_max_delay),
                range: "at least retry_base_delay".into(),
            });
        }
        if !(Duration::from_secs(1)..=Duration::from_secs(60))
            .contains(&config.metrics_upload_delay)
        {
            return Err(ConfigError::OutOfRange {
                name: "metrics_upload_delay",
                value: format!("{:?}", config.metrics_upload_delay),
                range: "1 s..=60 s".into(),
            });
        }
        if config.metrics_namespace.is_empty() {
            return Err(ConfigError::OutOfRange {
                name: "metrics_namespace",
                value: String::new(),
                range: "a non-empty name".into(),
            });
        }
        Ok(config)
    }
}

fn check(name: &'static str, value: usize, min: usize, max: usize) -> Result<(), ConfigError> {
    if (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(ConfigError::OutOfRange {
            name,
            value: value.to_string(),
            range: if max == usize::MAX {
                format!("{min}..")
            } else {
                format!("{min}..={max}")
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_mirror_the_kpl() {
        let config = ProducerConfig::builder().stream_name("s").build().unwrap();
        assert!(config.aggregation_enabled());
        assert_eq!(config.aggregation_max_size(), 51_200);
        assert_eq!(config.collection_max_count(), 500);
        assert_eq!(config.collection_max_size(), 5 * 1024 * 1024);
        assert_eq!(
            config.record_max_buffered_time(),
            Duration::from_millis(100)
        );
        assert_eq!(config.record_ttl(), Duration::from_secs(30));
        assert_eq!(config.rate_limit(), 150);
        assert!(!config.fail_if_throttled());
        assert_eq!(config.request_timeout(), Duration::from_secs(6));
        assert_eq!(config.metrics_namespace(), "KinesisProducerLibrary");
        assert_eq!(config.metrics_granularity(), MetricsGranularity::Shard);
    }

    #[test]
    fn stream_name_is_required() {
        assert!(matches!(
            ProducerConfig::builder().build(),
            Err(ConfigError::MissingStreamName)
        ));
    }

    #[test]
    fn ranges_are_checked() {
        let err = ProducerConfig::builder()
            .stream_name("s")
            .collection_max_count(501)
            .build()
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "collection_max_count = 501 is out of range (1..=500)"
        );
        assert!(
            ProducerConfig::builder()
                .stream_name("s")
                .record_ttl(Duration::from_millis(10))
                .build()
                .is_err()
        );
    }
}
