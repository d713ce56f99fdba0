//! Firehose delivery on one machine: Kinesis source → transform Lambda → S3.
//!
//! The emulator stores delivery streams but moves no data. [`FirehoseDelivery`] reads every
//! delivery stream with a Kinesis source and an extended S3 destination
//! (`ListDeliveryStreams`/`DescribeDeliveryStream`, in [`deployed`], which reads the emulator as
//! every service crate does: see `kstream_local_lambda`'s crate docs, "How a service crate reads
//! what Terraform deployed") and does what Firehose does:
//!
//! 1. reads every shard of the source stream from where the delivery stream was created
//!    (Firehose starts at `LATEST` when it is created; `AT_TIMESTAMP` of the creation time gives
//!    the same records even when `kstream local up` starts later), or after its checkpoint;
//! 2. deaggregates KPL records (`kstream-kpl`), as Firehose does for Kinesis sources;
//! 3. buffers records by the processor's hints (`BufferSizeInMBs`, `BufferIntervalInSeconds`;
//!    defaults 1 MB / 60 s) and invokes the transform through the local Lambda Runtime API host
//!    ([`FunctionHost`]) with a `KinesisFirehoseEvent`; a failed invocation is retried
//!    `NumberOfRetries` times (default 3); records answered `Ok` go on, `Dropped` are counted,
//!    `ProcessingFailed` (and missing or invalid answers) go to the error output;
//! 4. computes dynamic partition keys (`metadata.partitionKeys` from the transform, the
//!    `MetadataExtraction` JQ query, evaluated with jaq under Firehose's rules and bounds: see
//!    [`jq`]), appends the newline delimiter;
//! 5. buffers by the destination's hints (`SizeInMBs`, `IntervalInSeconds`) per prefix and
//!    writes objects named `<prefix><stream>-<version>-<yyyy-MM-dd-HH-mm-ss>-<uuid><extension>`
//!    with `Content-Type: application/octet-stream`, compressed as configured ([`Compression`],
//!    details and sources in [`compress`]):
//!
//!    | `CompressionFormat` | extension | `Content-Encoding` | body |
//!    |---|---|---|---|
//!    | `UNCOMPRESSED` | none | none | the records |
//!    | `GZIP` | `.gz` | `gzip` | one gzip member |
//!    | `ZIP` | `.zip` | `zip` | one deflated entry named by a random UUID |
//!    | `Snappy` | `.snappy` | `snappy-java` | snappy-java's stream format (magic `0x82 "SNAPPY" 0`, version 1, compatible 1, then big-endian length + raw Snappy block per 32 KiB), not Google's framing format |
//!    | `HADOOP_SNAPPY` | `.snappy` | `hadoop-snappy` | Hadoop's blocks: big-endian uncompressed length, big-endian compressed length, raw Snappy block, per 32 KiB |
//!
//!    (The object-name page of the Firehose guide tables `.hsnappy` for Hadoop Snappy; objects
//!    the service delivered carried `.snappy`, which is what is written here.)
//! 6. with record format conversion (`DataFormatConversionConfiguration` enabled, `ParquetSerDe`
//!    output), reads the columns of the Glue table the configuration names from the emulator
//!    when the delivery starts, converts each record (after the transform) with the OpenX (or
//!    Hive) JSON SerDe rules and writes one Parquet file per object (`.parquet`, compressed inside
//!    with `SNAPPY`, `GZIP` or `UNCOMPRESSED`); see [`convert`] for the type mapping. Records that
//!    cannot be converted go to the error output as `format-conversion-failed`. A table with a
//!    column type kstream local does not convert (`array`, `map`, `struct`, `binary`), ORC output
//!    and an S3 compression other than `UNCOMPRESSED` with conversion are refused when the
//!    delivery starts, with the reason;
//! 7. writes failed records under the error prefix (`!{firehose:error-output-type}` =
//!    `processing-failed`, `partitioning-failed` or `format-conversion-failed`) as JSON lines in
//!    Firehose's error-record formats: `attemptsMade`, `arrivalTimestamp`, `errorCode`,
//!    `errorMessage`, `attemptEndingTimestamp`, `rawData` (base64 of the record), `lambdaArn`;
//!    for conversion failures `ErrorCode`, `ErrorMessage`, `sequenceNumber`, `subSequenceNumber`
//!    and `dataCatalogTable` instead, as the format conversion guide documents;
//! 8. checkpoints each shard (in the state directory) when everything read so far is written,
//!    so a restart re-reads at most what was not yet in S3 (at-least-once, like Firehose).
//!
//! With `S3BackupMode` `Enabled`, every source record is also written, untransformed, under the
//! backup prefix with the backup's hints and compression.
//!
//! `FileExtension` replaces the extension of data objects (the table above, or `.parquet`), e.g.
//! `.json.gz` on a `GZIP` stream; the compression is unchanged. `CustomTimeZone` (UTC by
//! default) is the zone of the `!{timestamp:…}` values of the data and error prefixes, of the
//! default `yyyy/MM/dd/HH/` prefixes and of the time in object names, as the object-name guide
//! says of "time prefix and suffix" (see [`prefix`]); an unknown zone keeps the delivery stream
//! from starting, with the stream and the zone named. Error output objects keep the
//! compression's extension (they hold JSON error records, not the converted format), and
//! backup objects keep theirs and UTC (the backup's `S3DestinationConfiguration` has neither
//! setting): the guide does not say, this is kstream local's reading.
//!
//! Objects are buffered as Firehose does: one buffer per delivery stream (and per error output
//! type, and for the backup), its prefix evaluated with the arrival of the oldest record in the
//! object; with dynamic partitioning one buffer per evaluated prefix (partition).
//!
//! Local differences: intervals can be capped with
//! [`FirehoseDeliveryBuilder::max_buffer_interval`] for quick local runs (by default the
//! deployed hints are honoured). Snappy blocks and deflate streams are valid encodings of the
//! same bytes but not byte-identical to the service's (different encoders); Parquet files hold
//! one row group, with Hive's layout (timestamps as `INT96`); the Glue table is read once, when
//! the delivery starts, over `http://` from the emulator (`AWS_ENDPOINT_URL`).
//!
//! # Example
//!
//! ```no_run
//! # async fn example() -> kstream_local_firehose::Result<()> {
//! use kstream_local_firehose::FirehoseDelivery;
//! use kstream_local_lambda::runtime::{FunctionHost, FunctionSpec};
//!
//! let sdk = aws_config::load_from_env().await; // AWS_ENDPOINT_URL points at the emulator
//! let host = FunctionHost::builder().build();
//! host.register(FunctionSpec::new("kstream-p3-transform", "target/release/firehose-transform"));
//! let delivery = FirehoseDelivery::builder(&sdk, host).state_dir(".kstream/local").build();
//! delivery.run(async { let _ = tokio::signal::ctrl_c().await; }).await?;
//! # Ok(())
//! # }
//! ```

pub mod buffer;
pub mod compress;
pub mod config;
pub mod convert;
pub mod deployed;
mod error;
mod glue;
pub mod jq;
pub mod prefix;
pub mod processor;
mod stats;
mod stored;
mod worker;

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

pub use config::{Backup, Compression, Conversion, DeliveryConfig, LambdaProcessor};
pub use error::{ConvertError, DecimalError, Error, GlueError, Result, ValueError};
use kstream_local_lambda::runtime::FunctionHost;
pub use stats::{FirehoseStats, FirehoseStatus};
pub use stored::StoredObject;
use worker::{Store, Worker};

/// Builds a [`FirehoseDelivery`].
#[derive(Debug)]
pub struct FirehoseDeliveryBuilder {
    sdk: aws_config::SdkConfig,
    kinesis: aws_sdk_kinesis::Client,
    s3: aws_sdk_s3::Client,
    host: FunctionHost,
    state_dir: Option<PathBuf>,
    poll_interval: Duration,
    max_buffer_interval: Option<Duration>,
    only: Vec<String>,
    name_prefix: Option<String>,
}

impl FirehoseDeliveryBuilder {
    /// Directory for shard checkpoints (`checkpoints/firehose-<delivery stream>.json`). By
    /// default none: every run starts from the delivery stream's creation time.
    pub fn state_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.state_dir = Some(dir.into());
        self
    }

    /// Pause between polls of the source shards when nothing was read. By default 1 s
    /// (Firehose polls each shard about once a second).
    pub fn poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = interval;
        self
    }

    /// Caps both buffer intervals (processor and S3) for quick local runs. By default none: the
    /// deployed hints are honoured (up to 900 s).
    pub fn max_buffer_interval(mut self, max: Duration) -> Self {
        self.max_buffer_interval = Some(max);
        self
    }

    /// Deliver only these delivery streams (by name). By default all that can be delivered.
    pub fn only(mut self, names: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.only = names.into_iter().map(Into::into).collect();
        self
    }

    /// Deliver only delivery streams whose name starts with `prefix` (one deployment's, in a
    /// shared emulator). By default all.
    pub fn name_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.name_prefix = Some(prefix.into());
        self
    }

    /// The delivery.
    pub fn build(self) -> FirehoseDelivery {
        FirehoseDelivery {
            inner: Arc::new(self),
            stats: Arc::new(FirehoseStats::default()),
        }
    }
}

/// Firehose delivery for every deployed Kinesis-sourced delivery stream; see the module docs.
#[derive(Debug, Clone)]
pub struct FirehoseDelivery {
    inner: Arc<FirehoseDeliveryBuilder>,
    stats: Arc<FirehoseStats>,
}

impl FirehoseDelivery {
    /// A builder with SDK clients from `sdk` (S3 in path style, as the emulator needs) and the
    /// host that runs the transform functions.
    pub fn builder(sdk: &aws_config::SdkConfig, host: FunctionHost) -> FirehoseDeliveryBuilder {
        let s3 = aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(sdk)
                .force_path_style(true)
                .build(),
        );
        FirehoseDeliveryBuilder {
            sdk: sdk.clone(),
            kinesis: aws_sdk_kinesis::Client::new(sdk),
            s3,
            host,
            state_dir: None,
            poll_interval: Duration::from_secs(1),
            max_buffer_interval: None,
            only: Vec::new(),
            name_prefix: None,
        }
    }

    /// The counters, shared with the running delivery.
    pub fn stats(&self) -> Arc<FirehoseStats> {
        Arc::clone(&self.stats)
    }

    /// Reads the deployed delivery streams this delivery serves (by [`only`] and [`name_prefix`],
    /// through [`deployed::load_matching`]). Those kstream local cannot deliver come back as
    /// `(name, error)` in the second list, with the reason.
    ///
    /// [`only`]: FirehoseDeliveryBuilder::only
    /// [`name_prefix`]: FirehoseDeliveryBuilder::name_prefix
    ///
    /// # Errors
    /// [`Error::Aws`] when the Firehose API cannot be read.
    pub async fn discover(&self) -> Result<(Vec<DeliveryConfig>, Vec<(String, Error)>)> {
        let inner = &self.inner;
        let found = deployed::load_matching(&inner.sdk, |name| {
            (inner.only.is_empty() || inner.only.iter().any(|o| o == name))
                && inner
                    .name_prefix
                    .as_deref()
                    .is_none_or(|p| name.starts_with(p))
        })
        .await?;
        Ok((found.streams, found.skipped))
    }

    /// Delivers every deployed delivery stream until `shutdown` completes, then flushes every
    /// buffer (invoking the transform and writing objects), checkpoints and returns.
    ///
    /// # Errors
    /// [`Error::Aws`] when the delivery streams cannot be read; a delivery stream that fails
    /// later is logged and stops alone.
    pub async fn run(&self, shutdown: impl Future<Output = ()> + Send) -> Result<()> {
        let (configs, skipped) = self.discover().await?;
        for (name, e) in &skipped {
            tracing::warn!(delivery_stream = %name, error = %e, "not delivered by kstream local");
        }
        let (tx, rx) = watch::channel(false);
        let mut tasks = Vec::new();
        for config in configs {
            tracing::info!(delivery_stream = %config.name, source = %config.source_stream_arn, bucket = %config.bucket, "firehose delivery started");
            let name = config.name.clone();
            let worker = Worker::new(self, config)?;
            let rx = rx.clone();
            tasks.push(tokio::spawn(async move {
                let result = worker.run(rx).await;
                if let Err(e) = &result {
                    tracing::error!(delivery_stream = %name, error = %e, "firehose delivery stopped");
                }
                result
            }));
        }
        shutdown.await;
        let _ = tx.send(true);
        for t in tasks {
            match t.await {
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "firehose delivery task panicked"),
            }
        }
        Ok(())
    }

    /// Delivers `records` through one delivery stream as the running delivery does (deployed
    /// configuration, transform through the function host, partition keys, prefixes, error
    /// output, delimiter, buffers, compression) and returns the objects it writes, in order,
    /// instead of reading Kinesis and writing S3. Every buffer is flushed at the end. The
    /// records' `arrival_ms` give the `!{timestamp:…}` values, as Kinesis's approximate arrival
    /// timestamps do.
    ///
    /// # Errors
    /// As [`run_one`](Self::run_one), without the Kinesis and S3 errors.
    pub async fn deliver_records(
        &self,
        config: DeliveryConfig,
        records: Vec<processor::SourceRecord>,
    ) -> Result<Vec<StoredObject>> {
        let objects = Arc::new(std::sync::Mutex::new(Vec::new()));
        let worker = Worker::with_store(self, config, Store::Memory(Arc::clone(&objects)))?;
        worker.deliver(records).await?;
        let objects = objects
            .lock()
            .map_err(|_| Error::Config("the in-memory object store failed".to_owned()))?;
        Ok(objects.clone())
    }

    /// Delivers one delivery stream (already read with [`discover`](Self::discover)) until
    /// `shutdown` completes, then flushes and returns.
    ///
    /// # Errors
    /// [`Error::Aws`] from Kinesis or S3 that retries did not overcome; [`Error::Lambda`] (an I/O error) for the
    /// checkpoint file.
    pub async fn run_one(
        &self,
        config: DeliveryConfig,
        shutdown: impl Future<Output = ()> + Send,
    ) -> Result<()> {
        let (tx, rx) = watch::channel(false);
        let worker = Worker::new(self, config)?;
        let task = tokio::spawn(worker.run(rx));
        shutdown.await;
        let _ = tx.send(true);
        task.await
            .map_err(|e| Error::Config(format!("firehose delivery task failed: {e}")))?
    }
}
