//! Kinesis → Lambda event source mappings, run as AWS runs them.
//!
//! For each enabled mapping on a Kinesis stream, [`MappingRunner`] polls every shard
//! (`ListShards`, `GetShardIterator` from the checkpoint or the starting position, `GetRecords`),
//! filters the records ([`filter`]), groups them into batches (batch size, batching window, at most
//! 6 MB), invokes the function through the [`FunctionHost`] with a
//! Lambda-shaped event ([`event`]), applies the failure rules ([`batch`]) and checkpoints.
//!
//! - **Starting position.** `TRIM_HORIZON`, `AT_TIMESTAMP`, and `LATEST`, which on AWS means
//!   "records that arrive after the mapping starts": here the mapping's `LastModified` time, read
//!   with an `AT_TIMESTAMP` iterator, so records put after `terraform apply` but before
//!   `kstream local up` are not skipped. With a checkpoint, a shard resumes after it.
//! - **Parallelization factor** `N`: records of a shard go to `N` lanes by a hash of their
//!   partition key; each lane runs one batch at a time, so order is kept per partition key and up
//!   to `N` batches of a shard run at once. The shard's checkpoint only moves past records that
//!   are done in every lane.
//! - **On-failure destination.** An SQS queue ARN gets the on-failure record through
//!   `GetQueueUrl` + `SendMessage`. Other destination types are logged and the records dropped,
//!   as without a destination.
//! - **Tumbling windows** (`TumblingWindowInSeconds`): windows by arrival time per shard, the
//!   state carried between invokes, the synchronous final invoke, the 1 MB state limit, and, as
//!   on AWS, a checkpoint after every invoke that counts, persisted with the open window and its
//!   state ([`crate::checkpoint`]), so a restart mid-window resumes after the last done batch with
//!   that state instead of reading the window again; the rules and the choices made where AWS's
//!   documentation is silent are in [`window`]. A windowed
//!   mapping runs with a parallelization factor of 1: AWS users report that a tumbling window
//!   requires it (terraform-aws-modules/terraform-aws-lambda#619) and one state per shard cannot
//!   be shared by lanes, so a larger factor is treated as 1, with a warning.
//! - **Enhanced fan-out.** A mapping whose `EventSourceArn` is a stream consumer
//!   (`arn:aws:kinesis:REGION:ACCOUNT:stream/NAME/consumer/CONSUMER:CREATED`) reads the consumer's
//!   stream: the runner checks with `DescribeStreamConsumer` that the consumer is registered on
//!   it, then polls it with `GetRecords` like any mapping (the emulator has no `SubscribeToShard`
//!   push; records, order and batching are the same, only the latency differs). The events'
//!   `eventSourceARN` is the *stream* ARN: AWS's documentation shows no event of a consumer
//!   mapping, so this is the documented shape of a stream's records, not a verified one.
//! - Not modelled: resharding (shards are listed at start).

pub mod batch;
pub mod event;
pub mod filter;
#[cfg(feature = "sdk")]
mod shard;
mod stats;
pub mod window;

#[cfg(feature = "sdk")]
use std::sync::Arc;
use std::time::Duration;

#[cfg(feature = "sdk")]
use tokio::sync::watch;

#[cfg(feature = "sdk")]
use crate::checkpoint::CheckpointStore;
#[cfg(feature = "sdk")]
use crate::error::{Error, Result};
#[cfg(feature = "sdk")]
use crate::runtime::FunctionHost;
pub use batch::FailurePolicy;
pub use filter::FilterCriteria;
pub use stats::{MappingStats, MappingStatus, SharedStats};

/// Where a mapping starts reading a shard that has no checkpoint.
#[derive(Debug, Clone, PartialEq)]
pub enum StartingPosition {
    /// The oldest record in the shard.
    TrimHorizon,
    /// Records that arrive after this time (epoch seconds): the mapping's `LastModified`, or now.
    Latest(Option<f64>),
    /// Records that arrived at or after this time (epoch seconds).
    AtTimestamp(f64),
}

/// One event source mapping, as deployed.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct MappingSpec {
    /// The mapping UUID.
    pub uuid: String,
    /// The function name.
    pub function_name: String,
    /// The function ARN (in on-failure records).
    pub function_arn: String,
    /// The stream ARN (the consumer's stream for an enhanced fan-out mapping).
    pub stream_arn: String,
    /// The stream consumer ARN, when the mapping's `EventSourceArn` is one (enhanced fan-out).
    pub consumer_arn: Option<String>,
    /// The stream name.
    pub stream_name: String,
    /// The region.
    pub region: String,
    /// `BatchSize` (default 100).
    pub batch_size: usize,
    /// `MaximumBatchingWindowInSeconds` (default 0).
    pub batching_window: Duration,
    /// `ParallelizationFactor` (default 1).
    pub parallelization_factor: usize,
    /// `StartingPosition`.
    pub starting_position: StartingPosition,
    /// `FilterCriteria`.
    pub filters: FilterCriteria,
    /// Failure handling.
    pub policy: FailurePolicy,
    /// `DestinationConfig.OnFailure.Destination`.
    pub on_failure: Option<String>,
    /// Whether the mapping is enabled (`State` `Enabled`/`Creating`/`Updating`).
    pub enabled: bool,
    /// `TumblingWindowInSeconds` (1 to 900); `None` (or 0 on AWS) for no windows.
    pub tumbling_window: Option<u32>,
}

impl MappingSpec {
    /// A mapping with Lambda's defaults, from `source_arn` (a stream, or a stream consumer) to
    /// `function_name`.
    pub fn new(
        uuid: impl Into<String>,
        function_name: impl Into<String>,
        source_arn: impl Into<String>,
    ) -> Self {
        let source_arn = source_arn.into();
        let (stream_arn, consumer_arn) = match stream_of_consumer(&source_arn) {
            Some(stream) => (stream.to_owned(), Some(source_arn)),
            None => (source_arn, None),
        };
        let function_name = function_name.into();
        let region = stream_arn
            .split(':')
            .nth(3)
            .unwrap_or("us-east-1")
            .to_owned();
        let account = stream_arn
            .split(':')
            .nth(4)
            .unwrap_or("123456789012")
            .to_owned();
        Self {
            uuid: uuid.into(),
            function_arn: format!("arn:aws:lambda:{region}:{account}:function:{function_name}"),
            function_name,
            stream_name: stream_name_of(&stream_arn).to_owned(),
            stream_arn,
            consumer_arn,
            region,
            batch_size: 100,
            batching_window: Duration::ZERO,
            parallelization_factor: 1,
            starting_position: StartingPosition::Latest(None),
            filters: FilterCriteria::default(),
            policy: FailurePolicy {
                report_batch_item_failures: false,
                bisect: false,
                max_retry_attempts: None,
                max_record_age: None,
            },
            on_failure: None,
            enabled: true,
            tumbling_window: None,
        }
    }

    /// The mapping's `EventSourceArn`: the consumer for enhanced fan-out, else the stream.
    pub fn source_arn(&self) -> &str {
        self.consumer_arn.as_deref().unwrap_or(&self.stream_arn)
    }

    /// The lanes a shard runs: the parallelization factor, or 1 with a tumbling window.
    pub fn lanes(&self) -> usize {
        if self.tumbling_window.is_some() {
            1
        } else {
            self.parallelization_factor.max(1)
        }
    }
}

/// The stream name in a Kinesis stream ARN (or a stream consumer ARN).
pub fn stream_name_of(arn: &str) -> &str {
    let name = arn.split_once(":stream/").map_or(arn, |(_, name)| name);
    name.split_once("/consumer/")
        .map_or(name, |(stream, _)| stream)
}

/// The stream ARN of a stream consumer ARN
/// (`arn:aws:kinesis:REGION:ACCOUNT:stream/NAME/consumer/CONSUMER:CREATED`); `None` for
/// anything else.
pub fn stream_of_consumer(arn: &str) -> Option<&str> {
    let (stream, consumer) = arn.split_once("/consumer/")?;
    (stream.contains(":stream/") && !consumer.is_empty()).then_some(stream)
}

/// Settings shared by the runners.
#[derive(Debug, Clone)]
pub struct RunnerOptions {
    /// Pause between `GetRecords` calls on an idle shard. By default 250 ms (AWS polls once a second).
    pub poll_interval: Duration,
    /// Records per `GetRecords` call. By default 1000.
    pub get_records_limit: i32,
}

impl Default for RunnerOptions {
    fn default() -> Self {
        Self {
            poll_interval: Duration::from_millis(250),
            get_records_limit: 1000,
        }
    }
}

/// Runs one mapping until shutdown.
#[cfg(feature = "sdk")]
#[derive(Debug, Clone)]
pub struct MappingRunner {
    pub(crate) spec: Arc<MappingSpec>,
    pub(crate) host: FunctionHost,
    pub(crate) kinesis: aws_sdk_kinesis::Client,
    pub(crate) sqs: aws_sdk_sqs::Client,
    pub(crate) checkpoints: CheckpointStore,
    pub(crate) stats: Arc<MappingStats>,
    pub(crate) options: RunnerOptions,
    pub(crate) role_arn: String,
}

#[cfg(feature = "sdk")]
impl MappingRunner {
    /// A runner for `spec`, invoking through `host`, checkpointing in `checkpoints`.
    pub fn new(
        spec: MappingSpec,
        host: FunctionHost,
        sdk: &aws_config::SdkConfig,
        checkpoints: CheckpointStore,
        stats: Arc<MappingStats>,
        options: RunnerOptions,
    ) -> Self {
        let role_arn = host
            .function(&spec.function_name)
            .and_then(|f| f.role)
            .unwrap_or_default();
        Self {
            spec: Arc::new(spec),
            host,
            kinesis: aws_sdk_kinesis::Client::new(sdk),
            sqs: aws_sdk_sqs::Client::new(sdk),
            checkpoints,
            stats,
            options,
            role_arn,
        }
    }

    /// The mapping this runner runs.
    pub fn spec(&self) -> &Arc<MappingSpec> {
        &self.spec
    }

    /// The mapping's counters, shared with the running mapping.
    pub fn stats(&self) -> &Arc<MappingStats> {
        &self.stats
    }

    /// The shards of the stream.
    pub async fn shards(&self) -> Result<Vec<String>> {
        let mut shards = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let request = match &token {
                Some(t) => self.kinesis.list_shards().next_token(t),
                None => self
                    .kinesis
                    .list_shards()
                    .stream_name(&self.spec.stream_name),
            };
            let out = request
                .send()
                .await
                .map_err(|e| Error::aws("Kinesis.ListShards", e))?;
            shards.extend(out.shards().iter().map(|s| s.shard_id().to_owned()));
            token = out.next_token().map(str::to_owned);
            if token.is_none() {
                break;
            }
        }
        Ok(shards)
    }

    /// For an enhanced fan-out mapping, checks that its consumer is registered on the stream
    /// it names (`DescribeStreamConsumer`).
    ///
    /// # Errors
    /// [`Error::Aws`] when the consumer cannot be described (not registered), [`Error::Config`]
    /// when it belongs to another stream.
    pub async fn check_consumer(&self) -> Result<()> {
        let Some(consumer) = &self.spec.consumer_arn else {
            return Ok(());
        };
        let out = self
            .kinesis
            .describe_stream_consumer()
            .consumer_arn(consumer)
            .send()
            .await
            .map_err(|e| Error::aws("Kinesis.DescribeStreamConsumer", e))?;
        let stream = out
            .consumer_description()
            .map(|d| d.stream_arn())
            .unwrap_or_default();
        if stream != self.spec.stream_arn {
            return Err(Error::Config(format!(
                "mapping {}: the stream consumer {consumer} belongs to {stream:?}, not to {}",
                self.spec.uuid, self.spec.stream_arn
            )));
        }
        Ok(())
    }

    /// Polls every shard until `shutdown` turns true; in-flight invocations finish and
    /// checkpoints are saved before it returns.
    pub async fn run(self, shutdown: watch::Receiver<bool>) -> Result<()> {
        self.check_consumer().await?;
        let shards = self.shards().await?;
        self.stats
            .shards
            .store(shards.len() as u64, std::sync::atomic::Ordering::Relaxed);
        tracing::info!(
            mapping = %self.spec.uuid,
            function = %self.spec.function_name,
            stream = %self.spec.stream_name,
            shards = shards.len(),
            consumer = ?self.spec.consumer_arn,
            tumbling_window = ?self.spec.tumbling_window,
            "mapping started"
        );
        let mut tasks = tokio::task::JoinSet::new();
        for shard in shards {
            let runner = self.clone();
            let shutdown = shutdown.clone();
            tasks.spawn(async move { shard::run_shard(runner, shard, shutdown).await });
        }
        let mut first_error = None;
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    tracing::error!(mapping = %self.spec.uuid, error = %e, "shard poller failed");
                    first_error.get_or_insert(e);
                }
                Err(e) => {
                    tracing::error!(mapping = %self.spec.uuid, error = %e, "shard poller panicked");
                }
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_consumer_arn_resolves_to_its_stream() {
        let consumer =
            "arn:aws:kinesis:eu-west-1:111122223333:stream/orders/consumer/efo:1700000000";
        assert_eq!(
            stream_of_consumer(consumer),
            Some("arn:aws:kinesis:eu-west-1:111122223333:stream/orders")
        );
        assert_eq!(stream_name_of(consumer), "orders");
        let spec = MappingSpec::new("u", "f", consumer);
        assert_eq!(
            spec.stream_arn,
            "arn:aws:kinesis:eu-west-1:111122223333:stream/orders"
        );
        assert_eq!(spec.stream_name, "orders");
        assert_eq!(spec.consumer_arn.as_deref(), Some(consumer));
        assert_eq!(spec.source_arn(), consumer);
        assert_eq!(spec.region, "eu-west-1");
        let stream = MappingSpec::new("u", "f", "arn:aws:kinesis:us-east-1:1:stream/s");
        assert_eq!(stream.consumer_arn, None);
        assert_eq!(stream.source_arn(), "arn:aws:kinesis:us-east-1:1:stream/s");
        assert_eq!(
            stream_of_consumer("arn:aws:kinesis:us-east-1:1:stream/s"),
            None
        );
    }

    #[test]
    fn a_windowed_mapping_runs_one_lane() {
        let mut spec = MappingSpec::new("u", "f", "arn:aws:kinesis:us-east-1:1:stream/s");
        spec.parallelization_factor = 4;
        assert_eq!(spec.lanes(), 4);
        spec.tumbling_window = Some(60);
        assert_eq!(spec.lanes(), 1);
    }
}
