//! kstream pattern 1 consumer: a Kinesis event source mapping's batches, record by record.
//!
//! For every Kinesis record of the batch, in order, the [`handler`]:
//! 1. decodes the base64 `data` (malformed base64 fails that record, not the invocation:
//!    see [`event`]);
//! 2. deaggregates KPL aggregates with `kstream_kpl` (a record that starts with the KPL
//!    magic but is corrupt — bad MD5, bad protobuf, truncated — fails; it is not processed
//!    as plain data). Steps 1 and 2 run for the whole batch before step 3:
//!    `kstream_kpl::deaggregate_batch` checks the aggregates' MD5s side by side in SIMD lanes;
//!    user records borrow from the decoded data (no copy, no allocation per user record);
//! 3. decodes each user record (the plain record, or every sub-record of the aggregate) as
//!    UTF-8 JSON, and runs the [`RecordProcessor`] on it ([`ValidatingProcessor`] by default);
//! 4. answers with `batchItemFailures` naming the sequence number of every failed Kinesis
//!    record, once each, in batch order. A failed sub-record fails its outer record; the
//!    remaining sub-records of that aggregate are skipped (they are redelivered with it).
//!
//! Records after a failed one are still processed, so the response names *every* failure
//! (what bisect-on-error needs to isolate bad records quickly); Lambda retries from the
//! lowest failed sequence number, so processing must be idempotent.
//!
//! At the end of every invocation one CloudWatch EMF document is written to stdout with
//! these metrics (namespace from `POWERTOOLS_METRICS_NAMESPACE`, else
//! `KSTREAM_METRICS_NAMESPACE`, else `kstream`; dimension `FunctionName`, and `service` as
//! Powertools; after Powertools' `ColdStart` document on a process's first invocation):
//!
//! | metric | unit | meaning |
//! |---|---|---|
//! | `Records` | Count | Kinesis records in the batch |
//! | `Bytes` | Bytes | decoded bytes of those records |
//! | `AggregatedRecords` | Count | records that were KPL aggregates |
//! | `SubRecords` | Count | user records taken out of aggregates |
//! | `UserRecords` | Count | user records processed successfully (plain + sub-records) |
//! | `FailedRecords` | Count | records named in `batchItemFailures` |
//! | `ArchivedRecords` | Count | failed records written to the archive (only when it is on) |
//! | `ArchiveFailures` | Count | failed records whose archive write failed (only when it is on) |
//!
//! # Configuration (environment, read once per cold start)
//! - `REQUIRED_FIELDS`: comma-separated top-level fields every record must have (default none);
//! - `POWERTOOLS_METRICS_NAMESPACE` / `KSTREAM_METRICS_NAMESPACE`: EMF namespace (default `kstream`);
//! - `POWERTOOLS_SERVICE_NAME`: the EMF `service` dimension, as Powertools;
//! - `FAILED_RECORD_ARCHIVE_BUCKET` / `FAILED_RECORD_ARCHIVE_PREFIX`: the failed-record archive
//!   (below; off when the bucket is unset);
//! - `AWS_LAMBDA_LOG_FORMAT` (`JSON` for JSON logs) and `AWS_LAMBDA_LOG_LEVEL` / `RUST_LOG`.
//!
//! # Failed-record archive (optional)
//! With `FAILED_RECORD_ARCHIVE_BUCKET` set, every record named in `batchItemFailures` is first
//! written to that bucket as one object, `<prefix><shard-id>/<sequence>[-<sub-sequence>].json`
//! (`kstream_pipeline::archive`): the record's base64 `data` (the whole aggregate for a KPL
//! record), the reason and its kind, the shard, the sequence and sub-sequence numbers (the
//! failed sub-record), the arrival time and the function. A retry writes the same key. A failed
//! write is logged at `error` and counted (`ArchiveFailures`); the record is still reported as
//! failed, so Lambda's retries and the on-failure destination are unchanged.
//!
//! # Poison records
//! A record whose JSON has `"poison": true` always fails with
//! [`ProcessError::Poison`]: tests, the local data plane and
//! `make demo` use it to exercise the failure path deterministically.
//!
//! # Logs
//! One span per invocation (from the runtime, with `requestId`) and one per Kinesis record
//! (`sequence_number`, `partition_key`, `shard_id`); failures at `warn` with `error_kind`
//! and the reason; payloads only at `trace`. For a processor that does not log
//! ([`RecordProcessor::LOGS`] `false`, as [`ValidatingProcessor`]) and no debug or trace level
//! enabled, a record's span is made only when the record fails (the same log lines).
//!
//! # Example
//! ```
//! use kds_consumer::{Consumer, FUNCTION_NAME, ValidatingProcessor, event::KinesisEvent, handler};
//! use kstream_pipeline::{Telemetry, emf::MemorySink};
//! use lambda_runtime::{Context, LambdaEvent};
//! use std::sync::Arc;
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let event: KinesisEvent = serde_json::from_value(serde_json::json!({"Records": [
//!     {"kinesis": {"sequenceNumber": "1", "partitionKey": "k", "data": "eyJvayI6dHJ1ZX0="}},
//!     {"kinesis": {"sequenceNumber": "2", "partitionKey": "k", "data": "bm90IGpzb24="}},
//! ]})).unwrap();
//! let sink = Arc::new(MemorySink::default());
//! let consumer = Consumer::builder()
//!     .processor(ValidatingProcessor::default())
//!     .telemetry(Telemetry::from_env(FUNCTION_NAME).with_sink(sink.clone()))
//!     .build();
//! let response = handler(LambdaEvent::new(event, Context::default()), &consumer).await.unwrap();
//! let failed: Vec<_> = response.batch_item_failures.iter()
//!     .map(|f| f.item_identifier.clone().unwrap()).collect();
//! assert_eq!(failed, ["2"]);
//! assert_eq!(sink.invocation_documents()[0]["FailedRecords"], 1);
//! # });
//! ```
//!
//! # Reading the event
//! The Lambda binary does not let `lambda_runtime` deserialize the event: [`body`] hands the
//! handler the invocation's bytes, and [`handle_text`] reads them once as a
//! [`KinesisEventRef`], whose strings borrow from the bytes. A
//! [`ValidatingProcessor`] checks each user record on its text, without building a
//! `serde_json::Value` ([`RecordProcessor::JSON_VALUE`]). Together these took the consumer from
//! about 1.8 to 1.1 µs of CPU per record on batches of 1,000 plain records (bench/kds-consumer).
//! Both reads have a fast path for the common case (`event_text.rs` for the event,
//! `plain_object.rs` for a record): one pass over the bytes that answers only where serde_json
//! answers the same, and leaves the rest to it (the same values, the same errors).
//! [`handler`] takes an owned [`KinesisEvent`] and gives the same answers (tests/handler.rs
//! checks both on every fixture).
//!
//! # Layout
//! - [`event`]: the Kinesis event types, `kstream_pipeline::kinesis` (base64 kept as text; why
//!   is documented there).
//! - [`body`]: the layer that hands the handler the event's bytes.
//! - [`processor`]: [`RecordProcessor`], [`UserRecord`] and the shipped [`ValidatingProcessor`]
//!   (its text check: `top_level.rs`; its fast path for plain objects: `plain_object.rs`).
//! - [`error`]: [`RecordError`], [`ProcessError`] and [`EventError`].

pub mod body;
pub mod error;
pub use kstream_pipeline::kinesis as event;
mod event_text;
mod json_scan;
mod plain_object;
pub mod processor;
mod top_level;

use std::convert::Infallible;

use aws_lambda_events::streams::KinesisEventResponse;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use kstream_kpl::DeaggregatedRef;
use kstream_pipeline::archive::{ArchiveConfig, ArchiveOutcome, FailedRecord, FailedRecordArchive};
use kstream_pipeline::config::{Env, FunctionConfig};
use kstream_pipeline::decode::decode_json_text;
use kstream_pipeline::emf::Metrics;
use kstream_pipeline::{BatchOutcome, EnvError, Telemetry};
use lambda_runtime::{Context, LambdaEvent};
use serde_json::Value;
use tracing::Instrument as _;
use tracing::level_filters::LevelFilter;

use body::EventBody;
pub use error::{EventError, ProcessError, RecordError};
use event::{KinesisEvent, KinesisEventRecord, KinesisEventRecordRef, KinesisEventRef};
pub use processor::{RecordProcessor, TextCheck, UserRecord, ValidatingProcessor};

/// The function name used as the `FunctionName` dimension outside Lambda.
pub const FUNCTION_NAME: &str = "kds-consumer";

/// Everything the handler needs, built once per cold start.
#[derive(Debug)]
pub struct Consumer<P = ValidatingProcessor> {
    processor: P,
    telemetry: Telemetry,
    archive_config: Option<ArchiveConfig>,
    archive: Option<FailedRecordArchive>,
}

impl Consumer<ValidatingProcessor> {
    /// A builder with the documented defaults (see [`ConsumerBuilder`]).
    pub fn builder() -> ConsumerBuilder<ValidatingProcessor> {
        ConsumerBuilder {
            processor: None,
            telemetry: None,
            archive: None,
        }
    }
}

/// The consumer Lambda runs (`main.rs`: `kstream_pipeline::config::configure()`):
/// [`ValidatingProcessor`] with `REQUIRED_FIELDS`, metrics configured from the environment,
/// EMF to stdout.
impl FunctionConfig for Consumer<ValidatingProcessor> {
    const NAME: &'static str = FUNCTION_NAME;
    type Error = EnvError;

    fn from_env_with(env: &Env<'_>) -> Result<Self, EnvError> {
        let mut consumer = Self::builder()
            .processor(ValidatingProcessor::from_env_with(env))
            .telemetry(Telemetry::from_env_with(env, FUNCTION_NAME))
            .build();
        consumer.archive_config = ArchiveConfig::from_env_with(env)?;
        Ok(consumer)
    }
}

impl<P> Consumer<P> {
    /// The processor.
    pub fn processor(&self) -> &P {
        &self.processor
    }

    /// The failed-record archive the environment asks for (`FAILED_RECORD_ARCHIVE_BUCKET`);
    /// `main.rs` builds the S3 client for it and sets it with [`Consumer::set_archive`].
    pub fn archive_config(&self) -> Option<&ArchiveConfig> {
        self.archive_config.as_ref()
    }

    /// Archives every record reported as failed to `archive` from now on.
    pub fn set_archive(&mut self, archive: FailedRecordArchive) {
        self.archive = Some(archive);
    }
}

/// Builder for [`Consumer`].
pub struct ConsumerBuilder<P> {
    processor: Option<P>,
    telemetry: Option<Telemetry>,
    // Boxed: `try_build` returns the builder as its error, which stays small.
    archive: Option<Box<FailedRecordArchive>>,
}

impl<P> ConsumerBuilder<P> {
    /// The per-record processing. By default, [`ValidatingProcessor::default`]
    /// (JSON objects, no required fields, poison records fail).
    pub fn processor<Q: RecordProcessor>(self, processor: Q) -> ConsumerBuilder<Q> {
        ConsumerBuilder {
            processor: Some(processor),
            telemetry: self.telemetry,
            archive: self.archive,
        }
    }

    /// Archives every record reported as failed (see the crate docs). By default, none is.
    pub fn archive(mut self, archive: FailedRecordArchive) -> Self {
        self.archive = Some(Box::new(archive));
        self
    }

    /// Metrics namespace, dimensions and sink. By default,
    /// `Telemetry::from_env("kds-consumer")`: configured from the environment, EMF to
    /// stdout, which is what Lambda needs.
    pub fn telemetry(mut self, telemetry: Telemetry) -> Self {
        self.telemetry = Some(telemetry);
        self
    }
}

impl<P: RecordProcessor + Default> ConsumerBuilder<P> {
    /// Builds the consumer.
    pub fn build(self) -> Consumer<P> {
        Consumer {
            processor: self.processor.unwrap_or_default(),
            telemetry: self
                .telemetry
                .unwrap_or_else(|| Telemetry::from_env(FUNCTION_NAME)),
            archive_config: None,
            archive: self.archive.map(|a| *a),
        }
    }
}

impl<P: RecordProcessor> ConsumerBuilder<P> {
    /// Builds the consumer; for processors without a `Default`, the processor must have
    /// been set.
    ///
    /// # Errors
    /// Returns the builder back when no processor was set.
    pub fn try_build(self) -> Result<Consumer<P>, Self> {
        let Some(processor) = self.processor else {
            return Err(self);
        };
        Ok(Consumer {
            processor,
            telemetry: self
                .telemetry
                .unwrap_or_else(|| Telemetry::from_env(FUNCTION_NAME)),
            archive_config: None,
            archive: self.archive.map(|a| *a),
        })
    }
}

/// Counters of one batch (written as EMF at the end of the invocation).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Counters {
    /// Kinesis records in the batch.
    pub records: usize,
    /// Decoded bytes of those records.
    pub bytes: usize,
    /// Records that were KPL aggregates.
    pub aggregated: usize,
    /// User records taken out of aggregates.
    pub sub_records: usize,
    /// User records processed successfully (plain records and sub-records).
    pub user_records: usize,
}

/// A Kinesis record that failed, and why.
#[derive(Debug)]
#[non_exhaustive]
pub struct RecordFailure {
    /// The record's sequence number.
    pub sequence_number: String,
    /// Why it failed.
    pub error: RecordError,
    /// The record's position in the event's `Records`.
    pub index: usize,
}

/// What happened to a batch: the failures in batch order, and the counters.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct BatchReport {
    /// Failed Kinesis records, each once, in batch order.
    pub failures: Vec<RecordFailure>,
    /// The batch's counters.
    pub counters: Counters,
    /// What the failed-record archive did; `None` when it is off.
    pub archive: Option<ArchiveOutcome>,
}

impl BatchReport {
    /// The partial-batch response: `batchItemFailures` naming every failed record once,
    /// in batch order.
    pub fn response(&self) -> KinesisEventResponse {
        let mut outcome = BatchOutcome::new();
        for failure in &self.failures {
            outcome.fail(failure.sequence_number.as_str());
        }
        let mut response = KinesisEventResponse::default();
        for sequence_number in outcome.into_failed_ids() {
            response.add_failure(sequence_number);
        }
        response
    }

    /// Adds this batch's counters to the invocation's EMF document.
    pub fn add_metrics(&self, metrics: &mut Metrics<'_>) {
        let c = &self.counters;
        metrics.count("Records", c.records);
        metrics.bytes("Bytes", c.bytes);
        metrics.count("AggregatedRecords", c.aggregated);
        metrics.count("SubRecords", c.sub_records);
        metrics.count("UserRecords", c.user_records);
        metrics.count("FailedRecords", self.response().batch_item_failures.len());
        if let Some(archive) = &self.archive {
            metrics.count("ArchivedRecords", archive.archived);
            metrics.count("ArchiveFailures", archive.failed);
        }
    }
}

impl<P: RecordProcessor> Consumer<P> {
    /// Processes every record of `event` in order (the handler without the Lambda
    /// plumbing): one span per record, failures logged at `warn`.
    pub async fn process_batch(&self, event: &KinesisEvent) -> BatchReport {
        let records: Vec<KinesisEventRecordRef<'_>> = event
            .records
            .iter()
            .map(KinesisEventRecord::as_ref)
            .collect();
        self.process_records(&records).await
    }

    /// [`Consumer::process_batch`] on records borrowed from the event's text
    /// ([`KinesisEventRef`], what the Lambda binary reads: [`handle_text`]).
    pub async fn process_records(&self, records: &[KinesisEventRecordRef<'_>]) -> BatchReport {
        let mut report = BatchReport::default();
        // The whole batch is decoded first (at most Lambda's 6 MB payload), so that its KPL
        // aggregates are deaggregated together: `deaggregate_batch` digests their MD5s side by
        // side in SIMD lanes, several times faster than one record after the other.
        let decoded: Vec<Result<Vec<u8>, base64::DecodeError>> = records
            .iter()
            .map(|record| decode_base64(&record.kinesis.data))
            .collect();
        // A record whose base64 is malformed takes part as an empty record (passed through as
        // not aggregated, never looked at: it fails on its base64 error).
        let data: Vec<&[u8]> = decoded
            .iter()
            .map(|data| data.as_deref().unwrap_or_default())
            .collect();
        let deaggregated = kstream_kpl::deaggregate_batch(&data);
        let eager_spans = P::LOGS || LevelFilter::current() >= LevelFilter::DEBUG;
        for (index, ((record, data), deaggregated)) in records
            .iter()
            .zip(&decoded)
            .zip(deaggregated.iter())
            .enumerate()
        {
            let kinesis = &record.kinesis;
            let make_span = || {
                tracing::info_span!(
                    "record",
                    sequence_number = %kinesis.sequence_number,
                    partition_key = %kinesis.partition_key,
                    shard_id = record.shard_id().unwrap_or_default(),
                )
            };
            // The record's span is made up front when an event may be emitted inside it (the
            // processor logs, or debug / trace is on somewhere); else only for a failure's
            // warning, with the same fields: the log lines are the same, without a span made,
            // entered and closed for every record (with JSON logs, 30 % of the CPU time of a
            // batch of 1,000 plain records: bench/kds-consumer).
            let (result, span) = if eager_spans {
                let span = make_span();
                let processing =
                    process_record(record, data, deaggregated, self, &mut report.counters);
                (processing.instrument(span.clone()).await, Some(span))
            } else {
                let processing =
                    process_record(record, data, deaggregated, self, &mut report.counters);
                (processing.await, None)
            };
            if let Err(error) = result {
                span.unwrap_or_else(make_span).in_scope(|| {
                    tracing::warn!(
                        error_kind = error.kind(),
                        error = %error,
                        "record failed; reported in batchItemFailures"
                    );
                });
                report.failures.push(RecordFailure {
                    sequence_number: kinesis.sequence_number.clone().into_owned(),
                    error,
                    index,
                });
            }
        }
        if let Some(archive) = &self.archive {
            report.archive = Some(archive_failures(archive, records, &report.failures).await);
        }
        report
    }
}

/// Writes every failed record to the archive (failures logged and counted, never returned).
async fn archive_failures(
    archive: &FailedRecordArchive,
    records: &[KinesisEventRecordRef<'_>],
    failures: &[RecordFailure],
) -> ArchiveOutcome {
    // Owned copies of the failed records only (the archive's record type).
    let owned: Vec<KinesisEventRecord> = failures
        .iter()
        .map(|f| records[f.index].to_record())
        .collect();
    let failed = failures
        .iter()
        .zip(&owned)
        .map(|(f, record)| {
            FailedRecord::new(
                record,
                f.error.sub_sequence_number(),
                f.error.kind(),
                f.error.to_string(),
            )
        })
        .collect();
    archive.archive_all(failed).await
}

/// Decodes a record's base64 `data` (standard alphabet, padded), with base64-simd (AVX2, SSE4.1
/// or NEON, chosen at run time: about 3 times the `base64` crate). On malformed input the
/// `base64` crate decodes again, for its detailed error (and its verdict is the one kept).
fn decode_base64(text: &str) -> Result<Vec<u8>, base64::DecodeError> {
    base64_simd::STANDARD
        .decode_to_vec(text)
        .or_else(|_| BASE64.decode(text))
}

/// Handles one batch: never fails the invocation; every problem is a batch item failure.
///
/// # Errors
/// None (`Infallible`): see the crate docs for how each failure is reported.
pub async fn handler<P: RecordProcessor>(
    event: LambdaEvent<KinesisEvent>,
    consumer: &Consumer<P>,
) -> Result<KinesisEventResponse, Infallible> {
    let (event, context) = event.into_parts();
    let records: Vec<KinesisEventRecordRef<'_>> = event
        .records
        .iter()
        .map(KinesisEventRecord::as_ref)
        .collect();
    Ok(handle_records(&records, &context, consumer).await)
}

/// The handler the Lambda binary runs (`main.rs`): [`handler`] on the event's bytes, taken
/// from `body` (put there by [`body::EventBodyLayer`], which leaves the runtime a `()` event).
///
/// # Errors
/// [`EventError`] as [`handle_text`], or [`EventError::NoBody`] when no body was put.
pub async fn handler_body<P: RecordProcessor>(
    event: LambdaEvent<()>,
    body: &EventBody,
    consumer: &Consumer<P>,
) -> Result<KinesisEventResponse, EventError> {
    let bytes = body.take().ok_or(EventError::NoBody)?;
    handle_text(&bytes, &event.context, consumer).await
}

/// [`handler`] on the event's JSON bytes, read as a [`KinesisEventRef`] that borrows from them
/// instead of a [`KinesisEvent`] of owned strings: the same batch gets the same response, logs
/// and metrics.
///
/// # Errors
/// [`EventError`] when the bytes are not JSON of a Kinesis event's shape (`Records` not an array
/// of records, a field of the wrong type, a string read that is not UTF-8): the invocation
/// fails, as `lambda_runtime` fails it when the event does not deserialize into [`handler`]'s
/// [`KinesisEvent`].
pub async fn handle_text<P: RecordProcessor>(
    bytes: &[u8],
    context: &Context,
    consumer: &Consumer<P>,
) -> Result<KinesisEventResponse, EventError> {
    // `from_slice`, as `lambda_runtime` reads an event: the strings read are checked as UTF-8,
    // the skipped ones are not (the fuzz target `events` compares the two paths). When the whole
    // body is UTF-8 (always, from Lambda), `from_str` reads it the same way without checking
    // every string again: one SIMD pass over the bytes instead of a `from_utf8` per string read.
    // An event as Lambda writes it is read by `event_text`'s fast path; anything else by serde.
    let event: KinesisEventRef<'_> = match simdutf8::basic::from_utf8(bytes) {
        Ok(text) => event_text::read(text).map_or_else(|| serde_json::from_str(text), Ok),
        Err(_) => serde_json::from_slice(bytes),
    }
    .map_err(EventError::Shape)?;
    Ok(handle_records(&event.records, context, consumer).await)
}

async fn handle_records<P: RecordProcessor>(
    records: &[KinesisEventRecordRef<'_>],
    context: &Context,
    consumer: &Consumer<P>,
) -> KinesisEventResponse {
    let mut metrics = consumer.telemetry.start(&context.request_id);
    let report = consumer.process_records(records).await;
    let response = report.response();
    report.add_metrics(&mut metrics);
    consumer.telemetry.finish(&metrics);
    let c = &report.counters;
    tracing::info!(
        records = c.records,
        user_records = c.user_records,
        aggregated_records = c.aggregated,
        failed_records = response.batch_item_failures.len(),
        archived_records = report.archive.map(|a| a.archived),
        archive_failures = report.archive.map(|a| a.failed),
        "batch processed"
    );
    response
}

async fn process_record<P: RecordProcessor>(
    record: &KinesisEventRecordRef<'_>,
    data: &Result<Vec<u8>, base64::DecodeError>,
    deaggregated: DeaggregatedRef<'_, '_>,
    consumer: &Consumer<P>,
    counters: &mut Counters,
) -> Result<(), RecordError> {
    let kinesis = &record.kinesis;
    counters.records += 1;
    let data = data
        .as_deref()
        .map_err(|e| RecordError::Base64(e.clone()))?;
    counters.bytes += data.len();

    match deaggregated {
        DeaggregatedRef::Aggregated(sub_records) => {
            counters.aggregated += 1;
            counters.sub_records += sub_records.len();
            tracing::debug!(sub_records = sub_records.len(), "KPL aggregate");
            for sub in sub_records {
                let user = UserInput {
                    sub_sequence_number: Some(sub.sub_sequence_number),
                    partition_key: sub.partition_key,
                    explicit_hash_key: sub.explicit_hash_key,
                    data: sub.data,
                };
                process_user_record(record, &user, consumer)
                    .instrument(tracing::debug_span!(
                        "sub_record",
                        sub_sequence_number = sub.sub_sequence_number,
                        partition_key = %sub.partition_key,
                    ))
                    .await?;
                counters.user_records += 1;
            }
            Ok(())
        }
        DeaggregatedRef::NotAggregated { reason } if reason.is_corrupt() => {
            Err(RecordError::CorruptAggregate {
                reason: reason.to_string(),
            })
        }
        DeaggregatedRef::NotAggregated { .. } => {
            let user = UserInput {
                sub_sequence_number: None,
                partition_key: &kinesis.partition_key,
                explicit_hash_key: None,
                data,
            };
            process_user_record(record, &user, consumer).await?;
            counters.user_records += 1;
            Ok(())
        }
    }
}

/// The largest user record data parsed: 1 MiB, Kinesis' default maximum record size (the
/// data blob). Larger data (a stream raised past the default, or a KPL aggregate's
/// sub-record claiming more) fails alone, before a `Value` is built from it (a `Value`
/// costs up to ~16 times its text). Depth is bounded by serde_json's limit of 128.
pub const MAX_RECORD_BYTES: usize = 1024 * 1024;

struct UserInput<'a> {
    sub_sequence_number: Option<u64>,
    partition_key: &'a str,
    explicit_hash_key: Option<&'a str>,
    data: &'a [u8],
}

async fn process_user_record<P: RecordProcessor>(
    record: &KinesisEventRecordRef<'_>,
    input: &UserInput<'_>,
    consumer: &Consumer<P>,
) -> Result<(), RecordError> {
    let sub_sequence_number = input.sub_sequence_number;
    if input.data.len() > MAX_RECORD_BYTES {
        return Err(RecordError::TooLarge {
            sub_sequence_number,
            size: input.data.len(),
            max: MAX_RECORD_BYTES,
        });
    }
    let decode_error = |source| RecordError::Decode {
        sub_sequence_number,
        source,
    };
    let process_error = |source| RecordError::Process {
        sub_sequence_number,
        source,
    };
    let (text, value, verdict) = if P::JSON_VALUE {
        let (text, value) = decode_json_text(input.data).map_err(decode_error)?;
        (text, Some(value), None)
    } else {
        let (text, verdict) = consumer
            .processor
            .check_text(input.data)
            .map_err(decode_error)?;
        (text, None, verdict)
    };
    tracing::trace!(payload = text, "user record");
    if let Some(verdict) = verdict {
        return verdict.map_err(process_error);
    }
    let json = value.as_ref().unwrap_or(&Value::Null);
    let user = UserRecord {
        sequence_number: &record.kinesis.sequence_number,
        sub_sequence_number,
        partition_key: input.partition_key,
        explicit_hash_key: input.explicit_hash_key,
        approximate_arrival_timestamp: record.kinesis.approximate_arrival_timestamp,
        data: input.data,
        text,
        json,
    };
    consumer
        .processor
        .process(&user)
        .await
        .map_err(process_error)
}
