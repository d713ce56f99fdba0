//! A KPL-compatible Amazon Kinesis producer, on `aws-sdk-kinesis`.
//!
//! It does what the Kinesis Producer Library does, in process, without a daemon:
//!
//! - **Aggregation per predicted shard** in the KPL format (via [`kstream_kpl`]), from the hash
//!   key ranges of `ListShards`; the map is refreshed periodically and whenever an aggregate
//!   lands on another shard than predicted (resharding), and such aggregates are put again.
//!   A container holding one user record is sent raw. Aggregation is off when disabled or when
//!   the stream places records itself (`RecordDistributionStrategy` `AUTO`, read from
//!   `DescribeStreamSummary`; overridable with [`RecordDistribution`]).
//! - **Collection** into PutRecords requests (at most `collection_max_count` entries and
//!   `collection_max_size` bytes); the stream's record size limit (`MaxRecordSizeInKiB`, else
//!   1 MiB) is checked by [`Producer::put`] with an error naming the record.
//! - **Per-shard rate limiting**: token buckets of 1000 records/s and 1 MiB/s scaled by
//!   `rate_limit` (150 % by default, as the KPL).
//! - **Retries of failed entries only**, with exponential backoff and jitter, until the record's
//!   time to live (`record_ttl`, 30 s) runs out; an expired record is reported through its
//!   result ([`RecordFailure::Expired`]), never dropped silently.
//! - **Backpressure**: at most `max_outstanding_records` records in flight; `put` waits.
//! - **A result per user record** ([`PutHandle`] → [`PutOutcome`] with sequence number, shard
//!   and attempts, or [`RecordFailure`]), and **KPL-named metrics** ([`MetricsSnapshot`]: the
//!   per-record ones in [`RecordMetrics`], overall and per shard; the names in [`METRIC_NAMES`]), published to CloudWatch with the
//!   `cloudwatch` feature ([`Producer::start_metrics_publisher`], `MetricsPublisher`) at the
//!   KPL's `MetricsLevel` ([`MetricsLevel`]: `summary` publishes the KPL's six summary metrics,
//!   [`SUMMARY_METRIC_NAMES`], `detailed` all) and `MetricsGranularity`
//!   ([`MetricsGranularity`]: overall, per stream, per shard; by default per shard, as the KPL).
//!
//! Records of one shard are never in two requests at once, so records of one partition key
//! reach Kinesis in the order they were put unless a retry intervenes (the KPL gives no such
//! guarantee).
//!
//! # Example
//!
//! ```no_run
//! use aws_config::BehaviorVersion;
//! use kstream_producer::{Producer, ProducerConfig, UserRecord};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! // Honours AWS_ENDPOINT_URL, AWS_REGION and the usual credential chain.
//! let sdk = aws_config::defaults(BehaviorVersion::latest()).load().await;
//! let client = aws_sdk_kinesis::Client::new(&sdk);
//!
//! let config = ProducerConfig::builder()
//!     .stream_name("ticker-events")
//!     .record_max_buffered_time(std::time::Duration::from_millis(50))
//!     .build()?;
//! let producer = Producer::new(client, config).await?;
//!
//! let handle = producer
//!     .put(UserRecord::new("AAPL", r#"{"ticker":"AAPL","price":12.5}"#))
//!     .await?;
//! producer.flush();
//! match handle.await {
//!     Ok(outcome) => println!("{} on {}", outcome.sequence_number, outcome.shard_id),
//!     Err(failure) => eprintln!("not put: {failure}"),
//! }
//! let metrics = producer.shutdown().await;
//! println!("{} user records in {} Kinesis records",
//!     metrics.totals.user_records_put, metrics.totals.kinesis_records_put);
//! # Ok(())
//! # }
//! ```
//!
//! # Layout
//!
//! - `config.rs`: [`ProducerConfig`] and its builder, with the KPL's names and defaults.
//! - `producer.rs`: [`Producer`], the handle (`put`, `flush`, `flush_all`, `shutdown`).
//! - `pipeline/`: the background task: its loop (`mod.rs`), the records on their way
//!   (`records.rs`), aggregation, the limiter queues and collection, completion (retries,
//!   expiry).
//! - `limiter.rs`: the per-shard limits, two `kstream_throttle` token buckets.
//! - `shards.rs`: DescribeStreamSummary and ListShards.
//! - `result.rs`: [`PutHandle`], [`PutOutcome`].
//! - `attempt.rs`: [`Attempt`], one try of a record (in its outcome or its failure).
//! - `metrics/`: [`MetricsSnapshot`] (`counters.rs`), the CloudWatch upload's data
//!   (`series.rs`) and the CloudWatch publisher (`publisher.rs`).
//! - `error.rs`: [`Error`], [`ConfigError`], [`RecordFailure`].

mod attempt;
mod config;
mod error;
mod limiter;
mod metrics;
mod pipeline;
mod producer;
mod result;
mod shards;

pub use attempt::Attempt;
pub use config::{
    DEFAULT_MAX_RECORD_SIZE, MAX_PUT_RECORDS_BYTES, MAX_PUT_RECORDS_ENTRIES, MAX_RECORD_SIZE_LIMIT,
    MetricsGranularity, MetricsLevel, ProducerConfig, ProducerConfigBuilder, RecordDistribution,
    SHARD_BYTES_PER_SECOND, SHARD_RECORDS_PER_SECOND,
};
pub use error::{ConfigError, Error, RecordFailure};
pub use kstream_kpl::UserRecord;
#[cfg(feature = "cloudwatch")]
pub use metrics::MetricsPublisher;
pub use metrics::{
    METRIC_NAMES, MetricsSnapshot, RecordMetrics, SHARD_METRIC_NAMES, SUMMARY_METRIC_NAMES,
};
pub use producer::Producer;
pub use result::{PutHandle, PutOutcome};

/// A short description of an SDK error: `Code: message` for service errors, else the error
/// with its causes.
pub fn sdk_error_message<E, R>(err: &aws_sdk_kinesis::error::SdkError<E, R>) -> String
where
    E: aws_sdk_kinesis::error::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    use aws_sdk_kinesis::error::{DisplayErrorContext, SdkError};
    match err {
        SdkError::ServiceError(service) => {
            let e = service.err();
            match (e.code(), e.message()) {
                (Some(code), Some(message)) => format!("{code}: {message}"),
                (Some(code), None) => code.to_owned(),
                _ => DisplayErrorContext(err).to_string(),
            }
        }
        _ => DisplayErrorContext(err).to_string(),
    }
}

/// A Kinesis client from the environment (`aws_config::defaults(BehaviorVersion::latest())`,
/// which honours `AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_KINESIS`, `AWS_REGION`, profiles and the
/// credential chain), with optional endpoint and region overrides. Its HTTP client is the SDK's
/// default one: the binary turns on aws-config's `default-https-client` (the CLI does; the
/// Lambda functions build their configuration with kstream-pipeline's `sdk` instead).
pub async fn client_from_env(
    endpoint_url: Option<&str>,
    region: Option<&str>,
) -> aws_sdk_kinesis::Client {
    let sdk = sdk_config(endpoint_url, region).await;
    aws_sdk_kinesis::Client::new(&sdk)
}

/// The shared SDK configuration behind [`client_from_env`].
pub async fn sdk_config(endpoint_url: Option<&str>, region: Option<&str>) -> aws_config::SdkConfig {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    if let Some(url) = endpoint_url {
        loader = loader.endpoint_url(url);
    }
    if let Some(region) = region {
        loader = loader.region(aws_config::Region::new(region.to_owned()));
    }
    loader.load().await
}
