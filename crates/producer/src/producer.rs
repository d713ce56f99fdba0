//! [`Producer`]: the handle callers put records through.

use std::sync::Arc;

use kstream_kpl::UserRecord;
use tokio::sync::{Semaphore, mpsc, oneshot};
use tokio::task::JoinHandle;
use tracing::{debug, info};

use crate::config::{DEFAULT_MAX_RECORD_SIZE, ProducerConfig, RecordDistribution};
use crate::error::Error;
use crate::kinesis::Kinesis;
use crate::metrics::{Metrics, MetricsSnapshot};
use crate::pipeline::{Command, Pending, Pipeline};
use crate::result::PutHandle;
use crate::shards;

/// A KPL-compatible producer for one stream. See the [crate docs](crate) for an example.
///
/// `put` is `&self`: share the producer between tasks with an `Arc`. Dropping the producer
/// without [`shutdown`](Producer::shutdown) still sends what is buffered, in the background,
/// as long as the runtime lives.
#[derive(Debug)]
pub struct Producer {
    commands: mpsc::UnboundedSender<Command>,
    permits: Arc<Semaphore>,
    metrics: Arc<Metrics>,
    config: ProducerConfig,
    max_record_size: usize,
    aggregating: bool,
    shard_count: Option<usize>,
    task: JoinHandle<()>,
}

impl Producer {
    /// Reads the stream (DescribeStreamSummary, ListShards) and starts the background task.
    ///
    /// `client` is an `aws_sdk_kinesis::Client` (feature `sdk`), a
    /// `kstream_pipeline::aws::AwsClient` (feature `signed`) or any other [`Kinesis`]. It is
    /// used as given (endpoint, region, credentials), except that PutRecords calls make one
    /// attempt: the producer retries failed entries itself.
    ///
    /// # Errors
    /// [`Error::DescribeStream`] if the stream cannot be described or its shards listed.
    pub async fn new(client: impl Kinesis, config: ProducerConfig) -> Result<Self, Error> {
        let client: Arc<dyn Kinesis> = Arc::new(client);
        let info = shards::describe(client.as_ref(), &config.stream_name).await?;
        let auto = match config.record_distribution {
            RecordDistribution::Detect => info.auto_distribution,
            RecordDistribution::UserPartitionKey => false,
            RecordDistribution::Auto => true,
        };
        let max_record_size = config
            .max_record_size
            .or(info.max_record_size)
            .unwrap_or(DEFAULT_MAX_RECORD_SIZE);
        let shard_map = if auto {
            None
        } else {
            Some(shards::list(client.as_ref(), &config.stream_name).await?)
        };
        let shard_count = shard_map.as_ref().map(|s| s.open.len());
        let aggregating = config.aggregation_enabled && !auto;
        info!(
            stream = %config.stream_name,
            shards = ?shard_count,
            auto_distribution = auto,
            aggregating,
            max_record_size,
            "producer started"
        );
        let metrics = Arc::new(Metrics::default());
        let pipeline = Pipeline::new(
            config.clone(),
            client,
            metrics.clone(),
            max_record_size,
            aggregating,
            shard_map,
        )?;
        debug_assert_eq!(pipeline.max_record_size(), max_record_size);
        let (commands, rx) = mpsc::unbounded_channel();
        let task = tokio::spawn(pipeline.run(rx));
        Ok(Self {
            commands,
            permits: Arc::new(Semaphore::new(config.max_outstanding_records)),
            metrics,
            config,
            max_record_size,
            aggregating,
            shard_count,
            task,
        })
    }

    /// Accepts a user record, waiting while `max_outstanding_records` are outstanding
    /// (backpressure). Returns a handle resolving to the record's outcome.
    ///
    /// # Errors
    /// [`Error::RecordTooLarge`] if data plus partition key exceed the record size limit,
    /// [`Error::InvalidRecord`] for a bad partition key or explicit hash key (checked here, so
    /// a bad record never enters the pipeline), [`Error::Shutdown`] if the producer stopped.
    pub async fn put(&self, record: UserRecord) -> Result<PutHandle, Error> {
        self.check(&record)?;
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| Error::Shutdown)?;
        self.send(record, permit)
    }

    /// As [`put`](Self::put), but fails with `Ok(None)` instead of waiting when the producer
    /// is full.
    ///
    /// # Errors
    /// As [`put`](Self::put).
    pub fn try_put(&self, record: UserRecord) -> Result<Option<PutHandle>, Error> {
        self.check(&record)?;
        match self.permits.clone().try_acquire_owned() {
            Ok(permit) => self.send(record, permit).map(Some),
            Err(tokio::sync::TryAcquireError::NoPermits) => Ok(None),
            Err(tokio::sync::TryAcquireError::Closed) => Err(Error::Shutdown),
        }
    }

    fn check(&self, record: &UserRecord) -> Result<(), Error> {
        record.validate()?;
        let size = record.data.len() + record.partition_key.len();
        if size > self.max_record_size {
            return Err(Error::RecordTooLarge {
                partition_key: record.partition_key.clone(),
                size,
                limit: self.max_record_size,
            });
        }
        Ok(())
    }

    fn send(
        &self,
        record: UserRecord,
        permit: tokio::sync::OwnedSemaphorePermit,
    ) -> Result<PutHandle, Error> {
        let (tx, rx) = oneshot::channel();
        let pending = Pending::new(record, tx, permit, &self.config);
        self.commands
            .send(Command::Put(pending))
            .map_err(|_| Error::Shutdown)?;
        Metrics::add(&self.metrics.user_records_received, 1);
        Ok(PutHandle { rx })
    }

    /// Makes everything buffered due now (aggregators and the pending request), without
    /// waiting for it to complete. Rate limits still apply.
    pub fn flush(&self) {
        let _ = self.commands.send(Command::Flush(None));
    }

    /// Flushes, then waits until no record is outstanding (every record accepted so far has
    /// completed, successfully or not).
    ///
    /// # Errors
    /// [`Error::Shutdown`] if the producer stopped.
    pub async fn flush_all(&self) -> Result<(), Error> {
        let (tx, rx) = oneshot::channel();
        self.commands
            .send(Command::Flush(Some(tx)))
            .map_err(|_| Error::Shutdown)?;
        rx.await.map_err(|_| Error::Shutdown)?;
        let all = u32::try_from(self.config.max_outstanding_records).unwrap_or(u32::MAX);
        let permits = self
            .permits
            .acquire_many(all)
            .await
            .map_err(|_| Error::Shutdown)?;
        drop(permits);
        Ok(())
    }

    /// Flushes, waits for every outstanding record to complete and stops the background task.
    /// Returns the final metrics.
    pub async fn shutdown(self) -> MetricsSnapshot {
        let Self {
            commands,
            metrics,
            task,
            permits,
            config,
            ..
        } = self;
        drop(commands);
        if let Err(e) = task.await {
            tracing::error!(error = %e, "producer task failed");
        }
        debug!("producer shut down");
        metrics.snapshot(outstanding(&permits, &config))
    }

    /// The counters so far.
    pub fn metrics(&self) -> MetricsSnapshot {
        self.metrics
            .snapshot(outstanding(&self.permits, &self.config))
    }

    /// User records accepted and not yet completed.
    pub fn outstanding(&self) -> u64 {
        outstanding(&self.permits, &self.config)
    }

    /// The record size limit in effect (data plus partition key).
    pub fn max_record_size(&self) -> usize {
        self.max_record_size
    }

    /// Whether records are being aggregated (configured, and the stream routes by key).
    pub fn aggregating(&self) -> bool {
        self.aggregating
    }

    /// The number of open shards at start (`None` when the stream distributes automatically).
    pub fn shard_count(&self) -> Option<usize> {
        self.shard_count
    }

    /// The configuration in use.
    pub fn config(&self) -> &ProducerConfig {
        &self.config
    }

    /// Publishes the metrics to CloudWatch (PutMetricData, namespace `metrics_namespace`)
    /// every `metrics_upload_delay`, at the configured `metrics_level` and
    /// `metrics_granularity` (overall, per stream with `StreamName`, per shard with `ShardId`),
    /// until the producer is dropped or the returned publisher is
    /// [finished](crate::MetricsPublisher::finish) (which uploads the last interval). Does
    /// nothing, and returns `None`, at `MetricsLevel::None`.
    ///
    /// ```no_run
    /// # async fn run(producer: kstream_producer::Producer, sdk: aws_config::SdkConfig) {
    /// let publisher = producer.start_metrics_publisher(aws_sdk_cloudwatch::Client::new(&sdk));
    /// // ... put records ...
    /// let last = producer.shutdown().await;
    /// if let Some(publisher) = publisher {
    ///     if let Err(e) = publisher.finish(last).await {
    ///         eprintln!("{e}");
    ///     }
    /// }
    /// # }
    /// ```
    #[cfg(feature = "cloudwatch")]
    pub fn start_metrics_publisher(
        &self,
        client: aws_sdk_cloudwatch::Client,
    ) -> Option<crate::MetricsPublisher> {
        if self.config.metrics_level == crate::config::MetricsLevel::None {
            return None;
        }
        let permits = self.permits.clone();
        let config = self.config.clone();
        Some(crate::metrics::publisher::start(
            client,
            self.metrics_settings(self.config.metrics_level),
            self.config.metrics_upload_delay,
            Arc::downgrade(&self.metrics),
            Arc::new(move || outstanding(&permits, &config)),
        ))
    }

    /// Publishes the metrics once, now (the deltas since `previous`), and returns the snapshot
    /// published. Used at shutdown so the last interval is not lost.
    ///
    /// # Errors
    /// The PutMetricData error, as text.
    #[cfg(feature = "cloudwatch")]
    pub async fn publish_metrics(
        &self,
        client: &aws_sdk_cloudwatch::Client,
        previous: &MetricsSnapshot,
    ) -> Result<MetricsSnapshot, String> {
        let now = self.metrics();
        let level = if self.config.metrics_level == crate::config::MetricsLevel::None {
            crate::config::MetricsLevel::Summary
        } else {
            self.config.metrics_level
        };
        crate::metrics::publisher::publish(client, &self.metrics_settings(level), &now, previous)
            .await?;
        Ok(now)
    }

    #[cfg(feature = "cloudwatch")]
    fn metrics_settings(
        &self,
        level: crate::config::MetricsLevel,
    ) -> crate::metrics::publisher::Settings {
        crate::metrics::publisher::Settings {
            namespace: self.config.metrics_namespace.clone(),
            stream: self.config.stream_name.clone(),
            level,
            granularity: self.config.metrics_granularity,
        }
    }
}

fn outstanding(permits: &Semaphore, config: &ProducerConfig) -> u64 {
    config
        .max_outstanding_records
        .saturating_sub(permits.available_permits()) as u64
}
