//! kstream pattern 4 consumer: taxi trips from a Kinesis event source mapping, a sample of them
//! enriched with a fare from the fare API (API Gateway REST, `AWS_IAM` + API key), to S3.
//!
//! For each batch (one shard, in order), the [`handler`]:
//! 1. reads every record: base64, KPL deaggregation (`kstream_kpl`, as kds-consumer), then each
//!    user record as a trip event ([`trip`]: at most 1 MiB, JSON nesting at most 64). Watermarks
//!    and other `type`s are skipped; a record that cannot be read goes to the error output with
//!    the reason and is not retried;
//! 2. samples trips with `ride_request_id % SAMPLE_EVERY == 0` (deterministic: a retry samples
//!    the same trips) and asks the fare API for each, at most `MAX_IN_FLIGHT` at a time
//!    ([`fare`]: SigV4 for `execute-api`, `x-api-key` signed, `CALL_TIMEOUT_MS` per attempt;
//!    429, 5xx, timeouts and connection errors retried with full-jitter backoff within
//!    `MAX_ATTEMPTS`, the retry budget and the invocation's remaining time; a 403 reads the key
//!    again once; other 4xx are not retried);
//! 3. finds the first record (in batch order) with a trip whose fare could not be had: it is
//!    the one `batchItemFailures` names, and only the records before it are written (Lambda
//!    checkpoints up to it and retries from it, so no row is ever written twice);
//! 4. writes the rows per pickup `dt=`/`hr=` partition and the unreadable records
//!    ([`output`] for the keys). A failed write fails the invocation: Lambda retries the batch,
//!    which writes the same keys.
//!
//! # Failed-record archive (optional)
//! With `FAILED_RECORD_ARCHIVE_BUCKET` set, the record named in `batchItemFailures` is also
//! written to that bucket, `<prefix><shard-id>/<sequence>[-<sub-sequence>].json`
//! (`kstream_pipeline::archive`; the sub-sequence number of the trip whose call failed, for a
//! KPL aggregate): its base64 `data`, the call's error and its kind, the shard, the arrival
//! time and the function. A retry writes the same key. A failed archive write is logged and
//! counted (`ArchiveFailures`), never fails the invocation; the record is still reported.
//!
//! # Configuration (environment, read once per cold start; a bad value fails the cold start)
//! `FARE_API_URL` (required, https), `API_KEY_PARAMETER` (SSM SecureString) or
//! `API_KEY_SECRET_ID` (Secrets Manager; exactly one), `SAMPLE_EVERY` (1..=1000000, 20),
//! `MAX_IN_FLIGHT` (1..=256, 20), `MAX_CALLS_PER_SECOND` (0..=10000, 0: no pacing; each
//! process starts at most that many attempts a second, waiting its turn, so that the shards'
//! consumers stay under the usage plan), `CALL_TIMEOUT_MS` (100..=28000, 3000), `MAX_ATTEMPTS`
//! (1..=10, 4), `RETRY_BUDGET_PERCENT` (0..=100, 20), `OUTPUT_BUCKET` (required),
//! `OUTPUT_PREFIX` (`enriched/`), `ERROR_PREFIX` (`errors/`), `WRITE_UNSAMPLED` (`false`),
//! `FAILED_RECORD_ARCHIVE_BUCKET` and `FAILED_RECORD_ARCHIVE_PREFIX` (`failed-records/`; the
//! archive, off when the bucket is unset),
//! `AWS_ENDPOINT_URL_EXECUTE_API` (local only, see [`fare`]), `AWS_REGION` (signing region when
//! the host does not name one), and the EMF variables of every kstream function
//! (`POWERTOOLS_METRICS_NAMESPACE`, `POWERTOOLS_SERVICE_NAME`).
//!
//! # Metrics (one EMF document per invocation, dimension `FunctionName`)
//! `Records`, `Trips`, `Sampled`, `Calls` (attempts), `CallLatency` (Milliseconds, one value per
//! attempt), `Retries`, `Throttles` (429s), `CallFailures` (trips whose calls finally failed),
//! `Skipped` (watermark/control), `ParseFailures`, `RowsWritten`, `BatchItemFailures`, and with
//! the archive on `ArchivedRecords` and `ArchiveFailures`.
//!
//! # Layout
//! - [`config`]: the environment; [`trip`]: reading a record; [`fare`]: the API client;
//!   [`retry`]: backoff and budget; [`key`]: the API key; [`output`]: keys and lines;
//!   `kstream_pipeline::store`: S3, or memory in unit tests; [`error`]: why something failed.

pub mod config;
pub mod error;
pub mod fare;
pub mod key;
pub mod output;
pub mod retry;
pub mod trip;

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_lambda_events::streams::KinesisEventResponse;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use futures::StreamExt as _;
use kstream_kpl::Deaggregated;
use kstream_pipeline::Telemetry;
use kstream_pipeline::archive::{ArchiveOutcome, FailedRecord, FailedRecordArchive};
use kstream_pipeline::emf::{Metrics, Unit};
use kstream_pipeline::kinesis::{KinesisEvent, KinesisEventRecord};
use lambda_runtime::LambdaEvent;

pub use config::{Config, KeyLocation};
pub use error::{CallError, ConfigError, InvokeError, KeyError, ParseError, StoreError};
pub use fare::{CallPolicy, Endpoint, FareClient, FareHttp, Invocation};
pub use key::{ApiKey, KeySource, SecretKey, SsmKey};
pub use kstream_pipeline::store::{MemoryStore, ObjectStore, S3Store};

use output::{ErrorLine, Row};
use retry::RetryBudget;
use trip::{Event, Trip};

/// The function's name (metrics dimension outside Lambda, cold-start log).
pub const FUNCTION_NAME: &str = "enrichment-consumer";

/// The shard name used when a record has no `eventID` to take it from.
const UNKNOWN_SHARD: &str = "unknown-shard";

/// The function's state for its lifetime: configuration, fare client, object store, telemetry.
pub struct Enricher {
    config: Config,
    fare: FareClient,
    store: Box<dyn ObjectStore>,
    telemetry: Telemetry,
    archive: Option<FailedRecordArchive>,
}

impl std::fmt::Debug for Enricher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Enricher")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// What one user record is, once read.
enum Item {
    Trip { trip: Box<Trip>, sampled: bool },
    Skipped,
    Unreadable(ErrorLine),
}

/// One Kinesis record, read.
struct Read<'e> {
    record: &'e KinesisEventRecord,
    items: Vec<Item>,
    /// The record is a KPL aggregate: its items are its sub-records, in order.
    aggregated: bool,
}

/// Counters of one invocation.
#[derive(Debug, Default, Clone, PartialEq)]
#[non_exhaustive]
pub struct Report {
    /// Kinesis records in the batch.
    pub records: usize,
    /// Trips read.
    pub trips: usize,
    /// Trips sampled.
    pub sampled: usize,
    /// Call attempts made.
    pub calls: usize,
    /// Latency of each attempt, in milliseconds.
    pub call_latencies_ms: Vec<f64>,
    /// Retries made.
    pub retries: usize,
    /// 429 answers seen.
    pub throttles: usize,
    /// Trips whose calls finally failed.
    pub call_failures: usize,
    /// Watermark and control events skipped.
    pub skipped: usize,
    /// Records that could not be read (written to the error output).
    pub parse_failures: usize,
    /// Rows written.
    pub rows_written: usize,
    /// The record named in `batchItemFailures`, and why.
    pub failed: Option<(String, CallError)>,
    /// What the failed-record archive did; `None` when it is off.
    pub archive: Option<ArchiveOutcome>,
}

impl Report {
    /// The partial-batch response: the first failed record, or none.
    pub fn response(&self) -> KinesisEventResponse {
        let mut response = KinesisEventResponse::default();
        if let Some((sequence_number, _)) = &self.failed {
            response.add_failure(sequence_number.clone());
        }
        response
    }

    /// Adds the counters to the invocation's EMF document.
    pub fn add_metrics(&self, metrics: &mut Metrics<'_>) {
        metrics.count("Records", self.records);
        metrics.count("Trips", self.trips);
        metrics.count("Sampled", self.sampled);
        metrics.count("Calls", self.calls);
        for latency in &self.call_latencies_ms {
            metrics.sample("CallLatency", Unit::Milliseconds, *latency);
        }
        metrics.count("Retries", self.retries);
        metrics.count("Throttles", self.throttles);
        metrics.count("CallFailures", self.call_failures);
        metrics.count("Skipped", self.skipped);
        metrics.count("ParseFailures", self.parse_failures);
        metrics.count("RowsWritten", self.rows_written);
        metrics.count("BatchItemFailures", usize::from(self.failed.is_some()));
        if let Some(archive) = &self.archive {
            metrics.count("ArchivedRecords", archive.archived);
            metrics.count("ArchiveFailures", archive.failed);
        }
    }
}

/// The Lambda handler: [`Enricher::process`] with the invocation's deadline and metrics.
///
/// # Errors
/// An [`InvokeError`] (a failed S3 write): the invocation fails and Lambda retries the batch.
pub async fn handler(
    event: LambdaEvent<KinesisEvent>,
    enricher: &Enricher,
) -> Result<KinesisEventResponse, lambda_runtime::Error> {
    let (event, context) = event.into_parts();
    let mut metrics = enricher.telemetry.start(&context.request_id);
    let result = enricher.process(&event, deadline(context.deadline)).await;
    match &result {
        Ok(report) => {
            report.add_metrics(&mut metrics);
            tracing::info!(
                records = report.records,
                trips = report.trips,
                sampled = report.sampled,
                calls = report.calls,
                rows = report.rows_written,
                failed = report.failed.as_ref().map(|(s, _)| s.as_str()),
                "batch processed"
            );
        }
        Err(error) => {
            metrics.count("Records", event.records.len());
            tracing::error!(error = %error, "invocation failed; Lambda retries the batch");
        }
    }
    enricher.telemetry.finish(&metrics);
    Ok(result?.response())
}

/// The runtime's deadline (milliseconds since the epoch; 0 = unknown) as an [`Instant`].
fn deadline(deadline_ms: u64) -> Option<Instant> {
    if deadline_ms == 0 {
        return None;
    }
    let at = UNIX_EPOCH + Duration::from_millis(deadline_ms);
    let left = at.duration_since(SystemTime::now()).unwrap_or_default();
    Some(Instant::now() + left)
}

/// Reads one Kinesis record into its user records' items; `true` for a KPL aggregate.
fn read_record(record: &KinesisEventRecord, sample_every: u64) -> (Vec<Item>, bool) {
    let kinesis = &record.kinesis;
    let shard = record.shard_id().unwrap_or(UNKNOWN_SHARD);
    let unreadable = |partition_key: &str, data: &[u8], reason: String| {
        Item::Unreadable(ErrorLine {
            shard_id: shard.to_owned(),
            sequence_number: kinesis.sequence_number.clone(),
            partition_key: partition_key.to_owned(),
            approximate_arrival_timestamp: kinesis.approximate_arrival_timestamp,
            reason,
            data_base64: BASE64.encode(data),
        })
    };
    let data = match BASE64.decode(&kinesis.data) {
        Ok(data) => data,
        Err(e) => {
            // Not base64: the error line keeps the text as it came.
            let line = Item::Unreadable(ErrorLine {
                shard_id: shard.to_owned(),
                sequence_number: kinesis.sequence_number.clone(),
                partition_key: kinesis.partition_key.clone(),
                approximate_arrival_timestamp: kinesis.approximate_arrival_timestamp,
                reason: ParseError::Base64(e.to_string()).to_string(),
                data_base64: kinesis.data.clone(),
            });
            return (vec![line], false);
        }
    };
    let item = |partition_key: &str, bytes: &[u8], at: Option<u64>| match trip::parse(bytes) {
        Ok(Event::Trip(trip)) => {
            let sampled = trip.sampled(sample_every);
            Item::Trip { trip, sampled }
        }
        Ok(Event::Watermark | Event::Control) => Item::Skipped,
        Err(error) => {
            let reason = match at {
                Some(n) => format!("sub-record {n} of the KPL aggregate: {error}"),
                None => error.to_string(),
            };
            unreadable(partition_key, bytes, reason)
        }
    };
    match kstream_kpl::deaggregate(&data) {
        Deaggregated::Aggregated(subs) => (
            subs.iter()
                .map(|sub| item(&sub.partition_key, &sub.data, Some(sub.sub_sequence_number)))
                .collect(),
            true,
        ),
        Deaggregated::NotAggregated { reason } if reason.is_corrupt() => (
            vec![unreadable(
                &kinesis.partition_key,
                &data,
                ParseError::Aggregate(reason.to_string()).to_string(),
            )],
            false,
        ),
        Deaggregated::NotAggregated { .. } => {
            (vec![item(&kinesis.partition_key, &data, None)], false)
        }
    }
}

impl Enricher {
    /// The function with `config`, calling through `fare`, writing to `store`, reporting
    /// through `telemetry`.
    pub fn new(
        config: Config,
        fare: FareClient,
        store: impl ObjectStore + 'static,
        telemetry: Telemetry,
    ) -> Self {
        Self {
            config,
            fare,
            store: Box::new(store),
            telemetry,
            archive: None,
        }
    }

    /// Archives the record named in `batchItemFailures` to `archive` (see the crate docs).
    #[must_use]
    pub fn with_archive(mut self, archive: FailedRecordArchive) -> Self {
        self.archive = Some(archive);
        self
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Processes one batch (the handler without the Lambda context); `deadline` is when the
    /// invocation times out (`None`: unknown, no limit on retries but the others). A trip's
    /// first attempt is always made; the function's timeout must leave room for
    /// `CALL_TIMEOUT_MS` plus the S3 writes.
    ///
    /// # Errors
    /// [`InvokeError::Store`] when an object cannot be written.
    pub async fn process(
        &self,
        event: &KinesisEvent,
        deadline: Option<Instant>,
    ) -> Result<Report, InvokeError> {
        let config = &self.config;
        let mut report = Report {
            records: event.records.len(),
            ..Report::default()
        };
        let reads: Vec<Read<'_>> = event
            .records
            .iter()
            .map(|record| {
                let (items, aggregated) = read_record(record, config.sample_every);
                Read {
                    record,
                    items,
                    aggregated,
                }
            })
            .collect();
        let mut calls = Vec::new();
        for (index, read) in reads.iter().enumerate() {
            for (sub, item) in read.items.iter().enumerate() {
                match item {
                    Item::Trip { trip, sampled } => {
                        report.trips += 1;
                        if *sampled {
                            report.sampled += 1;
                            calls.push((index, sub, trip.ride_request_id));
                        }
                    }
                    Item::Skipped => report.skipped += 1,
                    Item::Unreadable(line) => {
                        report.parse_failures += 1;
                        tracing::warn!(
                            sequence_number = %line.sequence_number,
                            reason = %line.reason,
                            "record cannot be read; written to the error output"
                        );
                    }
                }
            }
        }

        // The calls, at most MAX_IN_FLIGHT at a time, started in batch order.
        let invocation = Invocation::new(RetryBudget::new(config.retry_budget_percent), deadline);
        let policy = CallPolicy {
            timeout: config.call_timeout,
            max_attempts: config.max_attempts,
            write_margin: config.write_margin,
        };
        let mut fares: HashMap<(usize, usize), f64> = HashMap::new();
        let mut first_error: Option<(usize, usize, CallError)> = None;
        let invocation = &invocation;
        let mut outcomes = futures::stream::iter(calls)
            .map(|(index, sub, id)| async move {
                let outcome = self.fare.fare(id, index, policy, invocation).await;
                if outcome.result.is_err() && outcome.result != Err(CallError::Cancelled) {
                    invocation.fail(index);
                }
                (index, sub, outcome)
            })
            .buffer_unordered(config.max_in_flight);
        while let Some((index, sub, outcome)) = outcomes.next().await {
            report.calls += outcome.latencies_ms.len();
            report.call_latencies_ms.extend(&outcome.latencies_ms);
            report.retries += outcome.retries as usize;
            report.throttles += outcome.throttles as usize;
            match outcome.result {
                Ok(fare) => {
                    fares.insert((index, sub), fare);
                }
                Err(CallError::Cancelled) => {}
                Err(error) => {
                    report.call_failures += 1;
                    tracing::warn!(
                        sequence_number = %reads[index].record.kinesis.sequence_number,
                        error = %error,
                        "fare call failed"
                    );
                    if first_error
                        .as_ref()
                        .is_none_or(|(first, first_sub, _)| (index, sub) < (*first, *first_sub))
                    {
                        first_error = Some((index, sub, error));
                    }
                }
            }
        }
        drop(outcomes);

        // Only the records before the first failed one are written.
        let written = first_error
            .as_ref()
            .map_or(reads.len(), |(index, _, _)| *index);
        if let (Some(archive), Some((index, sub, error))) = (&self.archive, &first_error) {
            let read = &reads[*index];
            let sub_sequence_number = read.aggregated.then_some(*sub as u64);
            let failed = FailedRecord::new(
                read.record,
                sub_sequence_number,
                error.kind(),
                error.to_string(),
            );
            report.archive = Some(archive.archive_all(vec![failed]).await);
        } else if self.archive.is_some() {
            report.archive = Some(ArchiveOutcome::default());
        }
        report.failed = first_error
            .map(|(index, _, error)| (reads[index].record.kinesis.sequence_number.clone(), error));
        let done = &reads[..written];
        let (Some(first), Some(last)) = (done.first(), done.last()) else {
            return Ok(report);
        };
        let shard = first.record.shard_id().unwrap_or(UNKNOWN_SHARD);
        let (first_seq, last_seq) = (
            first.record.kinesis.sequence_number.as_str(),
            last.record.kinesis.sequence_number.as_str(),
        );
        // One object per pickup hour, keyed by (shard, first, last): a retry overwrites it.
        let mut rows: BTreeMap<String, Vec<Row<'_>>> = BTreeMap::new();
        let mut errors = Vec::new();
        for (index, read) in done.iter().enumerate() {
            let shard = read.record.shard_id().unwrap_or(UNKNOWN_SHARD);
            let sequence_number = read.record.kinesis.sequence_number.as_str();
            for (sub, item) in read.items.iter().enumerate() {
                match item {
                    Item::Trip { trip, sampled } if *sampled || config.write_unsampled => {
                        let fare = fares.get(&(index, sub)).copied();
                        let key = output::rows_key(
                            &config.output_prefix,
                            &trip.pickup_datetime,
                            shard,
                            first_seq,
                            last_seq,
                        );
                        rows.entry(key).or_default().push(Row::new(
                            trip,
                            fare,
                            *sampled,
                            shard,
                            sequence_number,
                        ));
                    }
                    Item::Unreadable(line) => errors.push(line),
                    Item::Trip { .. } | Item::Skipped => {}
                }
            }
        }
        for (key, rows) in &rows {
            self.store.put(key, output::jsonl(rows)).await?;
            report.rows_written += rows.len();
        }
        if !errors.is_empty() {
            let batch_last = event
                .records
                .last()
                .map_or(last_seq, |r| r.kinesis.sequence_number.as_str());
            let key = output::errors_key(
                &config.error_prefix,
                &chrono::Utc::now(),
                shard,
                first_seq,
                batch_last,
            );
            self.store.put(&key, output::jsonl(&errors)).await?;
        }
        Ok(report)
    }
}
