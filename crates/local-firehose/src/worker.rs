//! One delivery stream's worker: reads the source shards, runs the transform, buffers per
//! prefix, writes objects (data, error output, backup) and checkpoints.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_kinesis::types::ShardIteratorType;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde_json::json;
use tokio::sync::watch;

use crate::buffer::{Buffer, Hints};
use crate::config::{DeliveryConfig, LambdaProcessor};
use crate::error::{Error, Result};
use crate::prefix::{PrefixError, PrefixValues};
use crate::processor::{Outcome, SourceRecord};
use crate::{
    Compression, FirehoseDelivery, FirehoseStats, StoredObject, convert, prefix, processor,
};
use kstream_local_lambda::checkpoint::CheckpointStore;
use kstream_local_lambda::runtime::{FunctionHost, InvokeResult};

/// A record ready for S3 (after the transform), with what an error record names.
#[derive(Debug)]
struct Delivered {
    data: Vec<u8>,
    arrival_ms: i64,
    sequence_number: String,
    subsequence_number: u64,
}

impl Delivered {
    fn of(data: Vec<u8>, record: &SourceRecord) -> Self {
        Self {
            data,
            arrival_ms: record.arrival_ms,
            sequence_number: record.sequence_number.clone(),
            subsequence_number: record.subsequence_number,
        }
    }
}

/// Records waiting for one object.
#[derive(Debug)]
struct Pending<T> {
    buffer: Buffer<T>,
    oldest: DateTime<Utc>,
    lambda_keys: BTreeMap<String, String>,
    query_keys: BTreeMap<String, String>,
}

#[derive(Debug)]
struct ShardState {
    id: String,
    iterator: Option<String>,
    last_read: Option<String>,
    closed: bool,
}

/// Where objects go: S3 (the emulator or AWS), or memory ([`FirehoseDelivery::deliver_records`]).
pub(crate) enum Store {
    S3(aws_sdk_s3::Client),
    Memory(Arc<Mutex<Vec<StoredObject>>>),
}

pub(crate) struct Worker {
    cfg: DeliveryConfig,
    kinesis: aws_sdk_kinesis::Client,
    store: Store,
    host: FunctionHost,
    stats: Arc<FirehoseStats>,
    checkpoints: Option<CheckpointStore>,
    poll_interval: Duration,
    s3_hints: Hints,
    processor: Option<(LambdaProcessor, Buffer<SourceRecord>)>,
    data: BTreeMap<String, Pending<Delivered>>,
    errors: BTreeMap<String, Pending<String>>,
    backup_hints: Option<Hints>,
    backup: BTreeMap<String, Pending<Delivered>>,
    shards: Vec<ShardState>,
    /// Turns `true` when the delivery is asked to stop (set by [`Worker::run`]).
    shutdown: Option<watch::Receiver<bool>>,
}

/// The longest pause between two tries of an AWS call the delivery cannot do without (reading the
/// source, writing an object): Firehose retries S3 "every 5 seconds" while the destination is
/// unreachable (Firehose developer guide, "Handle data delivery failure", Amazon S3).
const MAX_RETRY_PAUSE: Duration = Duration::from_secs(5);

/// Tries of an object write before a stopping delivery gives up (the records stay
/// un-checkpointed and are read again on the next start).
const WRITE_TRIES_WHEN_STOPPING: u32 = 5;

/// The pause before try `attempt + 1`: 200 ms more per try, at most [`MAX_RETRY_PAUSE`].
fn retry_pause(attempt: u32) -> Duration {
    Duration::from_millis(200 * u64::from(attempt)).min(MAX_RETRY_PAUSE)
}

fn millis_to_time(ms: i64) -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp_millis(ms).unwrap_or_else(Utc::now)
}

impl Worker {
    pub(crate) fn new(d: &FirehoseDelivery, cfg: DeliveryConfig) -> Result<Self> {
        Self::with_store(d, cfg, Store::S3(d.inner.s3.clone()))
    }

    /// A worker writing objects to `store`.
    pub(crate) fn with_store(
        d: &FirehoseDelivery,
        cfg: DeliveryConfig,
        store: Store,
    ) -> Result<Self> {
        let checkpoints = match &d.inner.state_dir {
            Some(dir) => Some(CheckpointStore::open(
                dir,
                &format!("firehose-{}", cfg.name),
                &cfg.source_stream_arn,
            )?),
            None => None,
        };
        let cap = d.inner.max_buffer_interval;
        let processor = cfg.processor.clone().map(|p| {
            let hints = p.hints.cap_interval(cap);
            (p, Buffer::new(hints))
        });
        Ok(Self {
            s3_hints: cfg.hints.cap_interval(cap),
            kinesis: d.inner.kinesis.clone(),
            store,
            host: d.inner.host.clone(),
            stats: Arc::clone(&d.stats),
            checkpoints,
            poll_interval: d.inner.poll_interval,
            processor,
            data: BTreeMap::new(),
            errors: BTreeMap::new(),
            backup_hints: cfg.backup.as_ref().map(|b| b.hints.cap_interval(cap)),
            backup: BTreeMap::new(),
            shards: Vec::new(),
            shutdown: None,
            cfg,
        })
    }

    /// Whether the delivery has been asked to stop.
    fn stopping(&self) -> bool {
        self.shutdown.as_ref().is_some_and(|s| *s.borrow())
    }

    /// Waits `pause`, or less when the delivery is asked to stop meanwhile (a delivery already
    /// stopping waits it all: its last tries keep their pauses).
    async fn pause(&self, pause: Duration) {
        match self.shutdown.clone() {
            Some(mut shutdown) if !self.stopping() => {
                tokio::select! {
                    () = tokio::time::sleep(pause) => {}
                    _ = shutdown.wait_for(|s| *s) => {}
                }
            }
            _ => tokio::time::sleep(pause).await,
        }
    }

    /// Reads the source, transforms, writes, until `shutdown` turns `true`; then flushes and
    /// checkpoints. The source and the bucket being unreachable for a while (the emulator
    /// restarting, a network outage) is retried as Firehose does, without stopping the delivery.
    ///
    /// # Errors
    /// A configuration the delivery cannot run (a prefix, a conversion), a checkpoint that cannot
    /// be saved, or an object still unwritten after [`WRITE_TRIES_WHEN_STOPPING`] tries while
    /// stopping (its records are not checkpointed: the next start reads them again).
    pub(crate) async fn run(mut self, mut shutdown: watch::Receiver<bool>) -> Result<()> {
        self.shutdown = Some(shutdown.clone());
        let mut attempt = 0;
        while let Err(e) = self.open_shards().await {
            if self.stopping() {
                return Err(e);
            }
            attempt += 1;
            tracing::warn!(delivery_stream = %self.cfg.name, attempt, error = %e, "cannot open the source shards; retrying");
            self.pause(retry_pause(attempt)).await;
        }
        loop {
            let stopping = *shutdown.borrow();
            let read = if stopping {
                0
            } else {
                self.poll_shards().await?
            };
            self.flush(stopping).await?;
            self.checkpoint_if_idle()?;
            if stopping {
                tracing::info!(delivery_stream = %self.cfg.name, "firehose delivery flushed and stopped");
                return Ok(());
            }
            if read == 0 {
                tokio::select! {
                    _ = tokio::time::sleep(self.poll_interval) => {}
                    _ = shutdown.changed() => {}
                }
            }
        }
    }

    /// Delivers `records` as if read from the source stream, then flushes every buffer: the
    /// transform, partitioning, error output and object writes of [`run`](Self::run), without
    /// Kinesis.
    pub(crate) async fn deliver(mut self, records: Vec<SourceRecord>) -> Result<()> {
        for record in records {
            FirehoseStats::add(&self.stats.records_read, 1);
            self.accept(record).await?;
        }
        self.flush(true).await
    }

    async fn open_shards(&mut self) -> Result<()> {
        let stream = self.source_stream_name().to_owned();
        let mut next: Option<String> = None;
        let mut ids = Vec::new();
        loop {
            let req = match &next {
                Some(token) => self.kinesis.list_shards().next_token(token),
                None => self.kinesis.list_shards().stream_name(&stream),
            };
            let out = req
                .send()
                .await
                .map_err(|e| Error::aws("Kinesis.ListShards", e))?;
            ids.extend(out.shards().iter().map(|s| s.shard_id().to_owned()));
            next = out.next_token().map(str::to_owned);
            if next.is_none() {
                break;
            }
        }
        let mut shards = Vec::with_capacity(ids.len());
        for id in ids {
            let checkpoint = self.checkpoints.as_ref().and_then(|c| c.get(&id));
            let iterator = self.shard_iterator(&id, checkpoint.as_deref()).await?;
            shards.push(ShardState {
                iterator,
                last_read: checkpoint,
                closed: false,
                id,
            });
        }
        self.shards = shards;
        Ok(())
    }

    /// The source stream's name (moto's shard iterators only carry the stream name when the
    /// iterator was asked for by name; AWS accepts both).
    fn source_stream_name(&self) -> &str {
        self.cfg
            .source_stream_arn
            .rsplit_once(":stream/")
            .map_or(self.cfg.source_stream_arn.as_str(), |(_, n)| n)
    }

    /// An iterator of shard `id` after `after` (the checkpoint or the last record read), else
    /// from where the delivery stream started.
    async fn shard_iterator(&self, id: &str, after: Option<&str>) -> Result<Option<String>> {
        let mut req = self
            .kinesis
            .get_shard_iterator()
            .stream_name(self.source_stream_name())
            .shard_id(id);
        req = match (after, self.cfg.created) {
            (Some(seq), _) => req
                .shard_iterator_type(ShardIteratorType::AfterSequenceNumber)
                .starting_sequence_number(seq),
            (None, Some(created)) => req
                .shard_iterator_type(ShardIteratorType::AtTimestamp)
                .timestamp(aws_smithy_types::DateTime::from_millis(
                    created.timestamp_millis(),
                )),
            (None, None) => req.shard_iterator_type(ShardIteratorType::TrimHorizon),
        };
        let out = req
            .send()
            .await
            .map_err(|e| Error::aws("Kinesis.GetShardIterator", e))?;
        Ok(out.shard_iterator().map(str::to_owned))
    }

    /// One GetRecords per open shard; returns the number of user records read. A shard that
    /// cannot be read now (the stream unreachable, the iterator expired) is read again on the
    /// next call, from its last record read, as Firehose keeps polling its source.
    async fn poll_shards(&mut self) -> Result<usize> {
        let mut total = 0;
        for i in 0..self.shards.len() {
            let iterator = match self.shards[i].iterator.clone() {
                Some(iterator) => iterator,
                None if self.shards[i].closed => continue,
                None => {
                    let (id, after) = (self.shards[i].id.clone(), self.shards[i].last_read.clone());
                    match self.shard_iterator(&id, after.as_deref()).await {
                        Ok(Some(iterator)) => iterator,
                        Ok(None) => {
                            self.shards[i].closed = true;
                            continue;
                        }
                        Err(e) => {
                            tracing::warn!(delivery_stream = %self.cfg.name, shard = %id, error = %e, "cannot read the source shard; retrying");
                            continue;
                        }
                    }
                }
            };
            let out = match self
                .kinesis
                .get_records()
                .shard_iterator(&iterator)
                .limit(10_000)
                .send()
                .await
            {
                Ok(out) => out,
                Err(e) => {
                    let expired = e
                        .as_service_error()
                        .is_some_and(|s| s.is_expired_iterator_exception());
                    let e = Error::aws("Kinesis.GetRecords", e);
                    tracing::warn!(delivery_stream = %self.cfg.name, shard = %self.shards[i].id, error = %e, "GetRecords failed; retrying");
                    // An expired iterator is replaced (after the last record read) on the next
                    // call; any other one is tried again as it is.
                    self.shards[i].iterator = if expired { None } else { Some(iterator) };
                    continue;
                }
            };
            self.shards[i].iterator = out.next_shard_iterator().map(str::to_owned);
            self.shards[i].closed = self.shards[i].iterator.is_none();
            let shard_id = self.shards[i].id.clone();
            for r in out.records() {
                let arrival_ms = r
                    .approximate_arrival_timestamp()
                    .and_then(|t| t.to_millis().ok())
                    .unwrap_or_else(|| Utc::now().timestamp_millis());
                let seq = r.sequence_number().to_owned();
                for sub in kstream_kpl::deaggregate_record(
                    r.partition_key().unwrap_or_default(),
                    &seq,
                    Bytes::copy_from_slice(r.data().as_ref()),
                ) {
                    let record = SourceRecord {
                        record_id: SourceRecord::make_id(&shard_id, &seq, sub.sub_sequence_number),
                        data: sub.data,
                        arrival_ms,
                        shard_id: shard_id.clone(),
                        partition_key: sub.partition_key,
                        sequence_number: seq.clone(),
                        subsequence_number: sub.sub_sequence_number,
                    };
                    total += 1;
                    FirehoseStats::add(&self.stats.records_read, 1);
                    self.accept(record).await?;
                }
                self.shards[i].last_read = Some(seq);
            }
        }
        Ok(total)
    }

    /// A source record enters: to the processor buffer, or straight on without a transform.
    async fn accept(&mut self, record: SourceRecord) -> Result<()> {
        let now = Instant::now();
        let size = record.data.len();
        if let (true, Some(hints)) = (self.cfg.backup.is_some(), self.backup_hints) {
            let time = millis_to_time(record.arrival_ms);
            // One buffer: the object's prefix is evaluated with its oldest record's arrival.
            let pending = self.backup.entry(String::new()).or_insert_with(|| Pending {
                buffer: Buffer::new(hints),
                oldest: time,
                lambda_keys: BTreeMap::new(),
                query_keys: BTreeMap::new(),
            });
            pending.oldest = pending.oldest.min(time);
            pending
                .buffer
                .push(Delivered::of(record.data.to_vec(), &record), size, now);
        }
        let overflow = matches!(&self.processor, Some((_, b)) if b.would_overflow(size));
        if overflow {
            self.invoke_processor().await?;
        }
        match &mut self.processor {
            Some((_, buffer)) => buffer.push(record, size, now),
            None => {
                let time = millis_to_time(record.arrival_ms);
                self.route(record.data.to_vec(), BTreeMap::new(), time, &record);
            }
        }
        Ok(())
    }

    /// Invokes the transform with everything in the processor buffer.
    async fn invoke_processor(&mut self) -> Result<()> {
        let Some((processor, buffer)) = &mut self.processor else {
            return Ok(());
        };
        let records = buffer.take();
        if records.is_empty() {
            return Ok(());
        }
        let processor = processor.clone();
        let attempts = processor.retries + 1;
        let mut last_error = (String::new(), String::new());
        let mut outcomes = None;
        for attempt in 1..=attempts {
            let payload = processor::event(
                &uuid::Uuid::new_v4().to_string(),
                &self.cfg.arn,
                &self.cfg.source_stream_arn,
                &self.cfg.region,
                &records,
            );
            FirehoseStats::add(&self.stats.invocations, 1);
            let result = self
                .host
                .invoke(&processor.function_arn, payload.to_string())
                .await;
            let failure = match result {
                Ok(outcome) => match outcome.result {
                    InvokeResult::Ok(body) => match processor::judge(&records, &body) {
                        Ok(o) => {
                            outcomes = Some((o, attempt));
                            break;
                        }
                        Err(msg) => ("Lambda.JsonProcessingException".to_owned(), msg),
                    },
                    InvokeResult::Error(e) => (
                        "Lambda.FunctionError".to_owned(),
                        format!("{}: {}", e.error_type, e.error_message),
                    ),
                },
                Err(e) => ("Lambda.FunctionError".to_owned(), e.to_string()),
            };
            FirehoseStats::add(&self.stats.invocation_errors, 1);
            tracing::warn!(delivery_stream = %self.cfg.name, function = %processor.function_arn, attempt, attempts, code = %failure.0, error = %failure.1, "transform invocation failed");
            last_error = failure;
            if attempt < attempts {
                tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt))).await;
            }
        }
        let lambda_arn = Some(processor.function_arn.as_str());
        match outcomes {
            Some((outcomes, attempt)) => {
                for (record, outcome) in records.iter().zip(outcomes) {
                    match outcome {
                        Outcome::Ok {
                            data,
                            partition_keys,
                        } => {
                            let time = millis_to_time(record.arrival_ms);
                            self.route(data, partition_keys, time, record);
                        }
                        Outcome::Dropped => FirehoseStats::add(&self.stats.records_dropped, 1),
                        Outcome::Failed { code, message } => {
                            tracing::debug!(record_id = %record.record_id, %code, %message, "record processing failed");
                            self.fail(
                                record,
                                "processing-failed",
                                &code,
                                &message,
                                attempt,
                                lambda_arn,
                            );
                        }
                    }
                }
            }
            None => {
                for record in &records {
                    self.fail(
                        record,
                        "processing-failed",
                        &last_error.0,
                        &last_error.1,
                        attempts,
                        lambda_arn,
                    );
                }
            }
        }
        Ok(())
    }

    /// A transformed record: partition keys, delimiter, into its object's buffer.
    fn route(
        &mut self,
        mut data: Vec<u8>,
        lambda_keys: BTreeMap<String, String>,
        time: DateTime<Utc>,
        record: &SourceRecord,
    ) {
        let query_keys = match &self.cfg.query {
            Some(q) => match q.extract(&data) {
                Ok(k) => k,
                Err(message) => {
                    self.fail(
                        record,
                        "partitioning-failed",
                        "DynamicPartitioning.MetadataExtractionFailed",
                        &message,
                        1,
                        None,
                    );
                    return;
                }
            },
            None => BTreeMap::new(),
        };
        let values = PrefixValues {
            error_output_type: None,
            lambda_keys: Some(&lambda_keys),
            query_keys: Some(&query_keys),
        };
        let key = match self.cfg.prefix.group_key(time, &values) {
            Ok(k) => k,
            Err(PrefixError::MissingKey(k)) => {
                self.fail(
                    record,
                    "partitioning-failed",
                    "DynamicPartitioning.MissingPartitionKey",
                    &format!(
                        "partition key {k:?} of the prefix {:?} has no value for this record",
                        self.cfg.prefix_text
                    ),
                    1,
                    None,
                );
                return;
            }
        };
        // Without dynamic partitioning there is one buffer, and an object's prefix is evaluated
        // with the arrival of its oldest record ("When evaluating timestamps, Firehose uses the
        // approximate arrival timestamp of the oldest record that's contained in the Amazon S3
        // object being written", custom prefixes guide): records of 10:59 and 11:00 share an
        // object under hour 10. With dynamic partitioning each evaluated prefix is a partition
        // with its own buffer (dynamic partitioning guide, "Data buffering").
        let key = if self.cfg.dynamic_partitioning {
            key
        } else {
            String::new()
        };
        // With format conversion the records become Parquet rows: no delimiter.
        if self.cfg.append_newline && self.cfg.converter.is_none() {
            data.push(b'\n');
        }
        let size = data.len();
        let hints = self.s3_hints;
        let pending = self.data.entry(key).or_insert_with(|| Pending {
            buffer: Buffer::new(hints),
            oldest: time,
            lambda_keys,
            query_keys,
        });
        pending.oldest = pending.oldest.min(time);
        pending
            .buffer
            .push(Delivered::of(data, record), size, Instant::now());
    }

    /// A failed record, as Firehose writes it to the error output.
    fn fail(
        &mut self,
        record: &SourceRecord,
        kind: &str,
        code: &str,
        message: &str,
        attempts: u32,
        lambda_arn: Option<&str>,
    ) {
        let mut line = json!({
            "attemptsMade": attempts,
            "arrivalTimestamp": record.arrival_ms,
            "errorCode": code,
            "errorMessage": message,
            "attemptEndingTimestamp": Utc::now().timestamp_millis(),
            "rawData": BASE64.encode(&record.data),
        });
        if let Some(arn) = lambda_arn {
            line["lambdaArn"] = json!(arn);
        }
        self.fail_line(kind, millis_to_time(record.arrival_ms), &line);
    }

    /// One error-output document into the error buffer of its type and prefix.
    fn fail_line(&mut self, kind: &str, time: DateTime<Utc>, line: &serde_json::Value) {
        let mut text = line.to_string();
        text.push('\n');
        // One buffer per error output type: the error prefix may only use the timestamp and
        // firehose namespaces, and its timestamps are the oldest record's, as for data objects.
        let size = text.len();
        let hints = self.s3_hints;
        let pending = self
            .errors
            .entry(kind.to_owned())
            .or_insert_with(|| Pending {
                buffer: Buffer::new(hints),
                oldest: time,
                lambda_keys: BTreeMap::from([(String::new(), kind.to_owned())]),
                query_keys: BTreeMap::new(),
            });
        pending.oldest = pending.oldest.min(time);
        pending.buffer.push(text, size, Instant::now());
    }

    /// Invokes the transform and writes objects whose buffers are due (all of them when
    /// `force`).
    async fn flush(&mut self, force: bool) -> Result<()> {
        let now = Instant::now();
        let processor_due =
            matches!(&self.processor, Some((_, b)) if !b.is_empty() && (force || b.is_due(now)));
        if processor_due {
            self.invoke_processor().await?;
        }
        let due: Vec<String> = self
            .data
            .iter()
            .filter(|(_, p)| force || p.buffer.is_due(now))
            .map(|(k, _)| k.clone())
            .collect();
        for key in due {
            if let Some(mut pending) = self.data.remove(&key) {
                let items = pending.buffer.take();
                let (count, body, compression, extension) = match self.cfg.converter.clone() {
                    None => {
                        let count = items.len() as u64;
                        let body: Vec<u8> = items.into_iter().flat_map(|d| d.data).collect();
                        let c = self.cfg.compression;
                        let ext = self.cfg.file_extension.as_deref().unwrap_or(c.extension());
                        (count, body, c, ext)
                    }
                    Some(converter) => {
                        let mut rows = Vec::new();
                        let mut count = 0;
                        for d in items {
                            match converter.rows(&d.data) {
                                Ok(r) => {
                                    rows.extend(r);
                                    count += 1;
                                }
                                Err(message) => {
                                    tracing::debug!(delivery_stream = %self.cfg.name, %message, "record format conversion failed");
                                    let line = converter.error_record(
                                        &d.data,
                                        &message.to_string(),
                                        d.arrival_ms,
                                        &d.sequence_number,
                                        d.subsequence_number,
                                        self.cfg.arn.split(':').nth(1).unwrap_or("aws"),
                                    );
                                    self.fail_line(
                                        convert::ERROR_OUTPUT_TYPE,
                                        millis_to_time(d.arrival_ms),
                                        &line,
                                    );
                                }
                            }
                        }
                        if rows.is_empty() {
                            continue;
                        }
                        let body = converter.write(&rows).map_err(|e| {
                            Error::Config(format!("delivery stream {}: {e}", self.cfg.name))
                        })?;
                        let ext = self.cfg.file_extension.as_deref().unwrap_or(".parquet");
                        (count, body, Compression::None, ext)
                    }
                };
                let values = PrefixValues {
                    error_output_type: None,
                    lambda_keys: Some(&pending.lambda_keys),
                    query_keys: Some(&pending.query_keys),
                };
                let prefix = self
                    .cfg
                    .prefix
                    .evaluate(pending.oldest, &values)
                    .map_err(|e| Error::Config(e.to_string()))?;
                self.put(
                    &self.cfg.bucket,
                    compression,
                    extension,
                    &prefix,
                    pending.oldest,
                    self.cfg.time_zone,
                    body,
                )
                .await?;
                FirehoseStats::add(&self.stats.records_delivered, count);
            }
        }
        let due: Vec<String> = self
            .errors
            .iter()
            .filter(|(_, p)| force || p.buffer.is_due(now))
            .map(|(k, _)| k.clone())
            .collect();
        for key in due {
            if let Some(mut pending) = self.errors.remove(&key) {
                let items = pending.buffer.take();
                let count = items.len() as u64;
                let body: Vec<u8> = items.concat().into_bytes();
                let kind = pending.lambda_keys.get("").cloned().unwrap_or_default();
                let values = PrefixValues {
                    error_output_type: Some(&kind),
                    ..Default::default()
                };
                let prefix = self
                    .cfg
                    .error_prefix
                    .evaluate(pending.oldest, &values)
                    .unwrap_or_else(|_| format!("{kind}/"));
                self.put(
                    &self.cfg.bucket,
                    self.cfg.compression,
                    self.cfg.compression.extension(),
                    &prefix,
                    pending.oldest,
                    self.cfg.time_zone,
                    body,
                )
                .await?;
                FirehoseStats::add(&self.stats.records_failed, count);
            }
        }
        let due: Vec<String> = self
            .backup
            .iter()
            .filter(|(_, p)| force || p.buffer.is_due(now))
            .map(|(k, _)| k.clone())
            .collect();
        if let Some(backup) = self.cfg.backup.clone() {
            for key in due {
                if let Some(mut pending) = self.backup.remove(&key) {
                    let items = pending.buffer.take();
                    let count = items.len() as u64;
                    let body: Vec<u8> = items.into_iter().flat_map(|d| d.data).collect();
                    let prefix = backup
                        .prefix
                        .evaluate(pending.oldest, &PrefixValues::default())
                        .unwrap_or_default();
                    self.put(
                        &backup.bucket,
                        backup.compression,
                        backup.compression.extension(),
                        &prefix,
                        pending.oldest,
                        backup.prefix.time_zone(),
                        body,
                    )
                    .await?;
                    FirehoseStats::add(&self.stats.records_backed_up, count);
                }
            }
        }
        Ok(())
    }

    /// Compresses and writes one object, retrying S3 errors with backoff. The name shows
    /// `oldest` in `zone`.
    #[allow(clippy::too_many_arguments)]
    async fn put(
        &self,
        bucket: &str,
        compression: Compression,
        extension: &str,
        prefix: &str,
        oldest: DateTime<Utc>,
        zone: chrono_tz::Tz,
        body: Vec<u8>,
    ) -> Result<()> {
        let key = prefix::object_key(
            prefix,
            &self.cfg.name,
            &self.cfg.version,
            oldest,
            zone,
            extension,
        );
        let body = compression
            .compress(body)
            .map_err(|e| Error::Config(format!("delivery stream {}: {e}", self.cfg.name)))?;
        let s3 = match &self.store {
            Store::S3(client) => client,
            Store::Memory(objects) => {
                objects
                    .lock()
                    .map_err(|_| Error::Config("the in-memory object store failed".to_owned()))?
                    .push(StoredObject {
                        bucket: bucket.to_owned(),
                        key,
                        content_encoding: compression.content_encoding().map(str::to_owned),
                        body,
                    });
                FirehoseStats::add(&self.stats.objects_written, 1);
                return Ok(());
            }
        };
        let mut attempt = 0;
        loop {
            attempt += 1;
            let res = s3
                .put_object()
                .bucket(bucket)
                .key(&key)
                .content_type("application/octet-stream")
                .set_content_encoding(compression.content_encoding().map(str::to_owned))
                .body(body.clone().into())
                .send()
                .await;
            match res {
                Ok(_) => {
                    tracing::debug!(delivery_stream = %self.cfg.name, %bucket, %key, bytes = body.len(), "object written");
                    FirehoseStats::add(&self.stats.objects_written, 1);
                    return Ok(());
                }
                // As Firehose: the object is tried again (every 5 s at most) until it is written;
                // a stopping delivery gives up after a few tries, un-checkpointed.
                Err(e) if !(self.stopping() && attempt >= WRITE_TRIES_WHEN_STOPPING) => {
                    tracing::warn!(delivery_stream = %self.cfg.name, %key, attempt, error = %aws_smithy_types::error::display::DisplayErrorContext(&e), "S3 put failed; retrying");
                    self.pause(retry_pause(attempt)).await;
                }
                Err(e) => return Err(Error::aws("S3.PutObject", e)),
            }
        }
    }

    /// Checkpoints every shard when nothing read is still buffered.
    fn checkpoint_if_idle(&self) -> Result<()> {
        let idle = self.data.is_empty()
            && self.errors.is_empty()
            && self.backup.is_empty()
            && self.processor.as_ref().is_none_or(|(_, b)| b.is_empty());
        if let (true, Some(store)) = (idle, &self.checkpoints) {
            for s in &self.shards {
                if let Some(seq) = &s.last_read
                    && store.get(&s.id).as_deref() != Some(seq.as_str())
                {
                    store.set(&s.id, seq)?;
                }
            }
        }
        Ok(())
    }
}
