//! A KPL-compatible Amazon Kinesis producer, on `aws-sdk-kinesis` (feature `sdk`) or on
//! kstream-pipeline's SigV4-signing `AwsClient` (feature `signed`, no AWS SDK: the Lambda
//! function's choice); see [`kinesis`].
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
//! use kstream_producer::{Kinesis, Producer, ProducerConfig, UserRecord};
//!
//! // `client`: with `sdk`, `aws_sdk_kinesis::Client::new(&sdk_config)` (or
//! // `kstream_producer::client_from_env(None, None).await`); with `signed`,
//! // `kstream_pipeline::aws::AwsClient::from_env()?`.
//! # async fn run(client: impl Kinesis) -> Result<(), Box<dyn std::error::Error>> {
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
//! - `shards.rs`: what DescribeStreamSummary and ListShards say about the stream.
//! - `kinesis/`: the Kinesis calls ([`Kinesis`]), on the SDK (`sdk.rs`) and on the signing
//!   client (`signed.rs`).
//! - `result.rs`: [`PutHandle`], [`PutOutcome`].
//! - `attempt.rs`: [`Attempt`], one try of a record (in its outcome or its failure).
//! - `metrics/`: [`MetricsSnapshot`] (`counters.rs`), the CloudWatch upload's data
//!   (`series.rs`) and the CloudWatch publisher (`publisher.rs`).
//! - `error.rs`: [`Error`], [`ConfigError`], [`RecordFailure`], [`KinesisError`].

mod attempt;
mod config;
mod error;
pub mod kinesis;
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
pub use error::{ConfigError, Error, KinesisError, RecordFailure};
pub use kinesis::Kinesis;
#[cfg(feature = "sdk")]
pub use kinesis::{client_from_env, sdk_config, sdk_error_message};
pub use kstream_kpl::UserRecord;
#[cfg(feature = "cloudwatch")]
pub use metrics::MetricsPublisher;
pub use metrics::{
    METRIC_NAMES, MetricsSnapshot, RecordMetrics, SHARD_METRIC_NAMES, SUMMARY_METRIC_NAMES,
};
pub use producer::Producer;
pub use result::{PutHandle, PutOutcome};
