//! kstream pattern 2 analytics: a Kinesis event source mapping with `TumblingWindowInSeconds`,
//! per shard and window.
//!
//! Each invoke of a window, the [`handler`]:
//! 1. reads the window state the previous invoke returned ([`window::WindowState`], one JSON
//!    string under the key `kstream`; numeric or foreign entries, as in AWS's example, are
//!    ignored);
//! 2. takes the records in shard order: base64, KPL deaggregation (`kstream_kpl`; a corrupt
//!    aggregate fails its record), one [`ticker::Ticker`] per user record. At the first record
//!    that fails, it stops: that record is the one `batchItemFailures` names, and the records
//!    after it are not aggregated (Lambda retries from the failed record, so they come again);
//! 3. adds the records before it to the per-ticker aggregate (count, min, max, sum and mean
//!    price, first and last event time) and writes those with `price > PRICE_THRESHOLD` to S3
//!    under the reference's Flink sink layout `ticker=…/dt=…/hr=…/` (see [`output`]);
//! 4. on the final invoke of the window (or when Lambda ended it early because the state
//!    passed 1 MB), writes the aggregates, one JSON line per ticker;
//! 5. answers with the state and the failed record.
//!
//! Object keys are functions of (stream, shard, window start, segment, part), so a retried
//! invoke overwrites what its failed attempt wrote (see [`output`] for why no duplicate can
//! appear). A failed write, or a state that is not this function's, fails the invocation.
//!
//! # Configuration (environment, set by Terraform)
//! - `OUTPUT_BUCKET` (required): the bucket;
//! - `ROWS_PREFIX` (default `filtered/`), `AGGREGATES_PREFIX` (default `aggregates/`);
//! - `PRICE_THRESHOLD` (default `50`): rows with a price strictly above it are written;
//! - `POWERTOOLS_METRICS_NAMESPACE` / `KSTREAM_METRICS_NAMESPACE`, `POWERTOOLS_SERVICE_NAME`:
//!   the EMF telemetry, as in every kstream function.
//!
//! # Metrics (one EMF document per invoke, dimension `FunctionName`)
//! `Records`, `UserRecords` (aggregated), `FailedRecords`, `FilteredRows`, `ObjectsWritten`,
//! `StateBytes` (size of the returned state: the window-state alarm watches it against the
//! 1 MB limit), `WindowsClosed`, `WindowsTerminatedEarly`, `FailedFinalInvokes` (a final invoke
//! that failed or named a failed record: its window stays open and the shard waits).
//!
//! # Layout
//! - [`event`]: the window event and response (why not `aws_lambda_events`' is there).
//! - [`ticker`]: one record's shape and bounds.
//! - [`window`]: the state carried between invokes.
//! - [`output`]: object keys and bodies.
//! - `kstream_pipeline::store`: S3, or memory in tests.
//! - [`error`]: why a record, the state or an invocation failed.

pub mod error;
pub mod event;
pub mod output;
pub mod ticker;
pub mod window;

use base64::Engine as _;
use kstream_kpl::Deaggregated;
use kstream_pipeline::Telemetry;
use kstream_pipeline::config::{Env, FunctionConfig};
use kstream_pipeline::emf::Metrics;
use kstream_pipeline::kinesis::KinesisEventRecord;
use lambda_runtime::LambdaEvent;

pub use error::{ConfigError, InvokeError, RecordError, StateError, StoreError};
pub use event::{BatchItemFailure, Window, WindowEvent, WindowResponse};
pub use kstream_pipeline::store::{MemoryStore, ObjectStore, S3Store};

use output::WindowKey;
use ticker::Ticker;
use window::WindowState;

/// The function's name (metrics dimension outside Lambda, cold-start log).
pub const FUNCTION_NAME: &str = "stream-analytics";

/// What the handler needs from the environment.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The output bucket.
    pub bucket: String,
    /// Prefix of the filtered rows.
    pub rows_prefix: String,
    /// Prefix of the window aggregates.
    pub aggregates_prefix: String,
    /// Rows with a price strictly above this are written.
    pub price_threshold: f64,
}

impl Config {
    /// A configuration for `bucket` with the defaults.
    pub fn new(bucket: impl Into<String>) -> Self {
        Self {
            bucket: bucket.into(),
            rows_prefix: "filtered/".to_owned(),
            aggregates_prefix: "aggregates/".to_owned(),
            price_threshold: 50.0,
        }
    }
}

fn prefix(env: &Env<'_>, var: &'static str, default: &str) -> Result<String, ConfigError> {
    let value = env.get_raw(var).unwrap_or_else(|| default.to_owned());
    let ok = value.is_empty()
        || (value.len() <= 256
            && value.ends_with('/')
            && !value.starts_with('/')
            && !value.contains("//"));
    if ok {
        Ok(value)
    } else {
        Err(ConfigError::Prefix { var, value })
    }
}

impl FunctionConfig for Config {
    const NAME: &'static str = FUNCTION_NAME;
    type Error = ConfigError;

    fn from_env_with(env: &Env<'_>) -> Result<Self, ConfigError> {
        let bucket = env
            .get("OUTPUT_BUCKET")
            .ok_or(ConfigError::Missing("OUTPUT_BUCKET"))?;
        let price_threshold = match env.get("PRICE_THRESHOLD") {
            None => 50.0,
            Some(text) => text
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|t| t.is_finite())
                .ok_or(ConfigError::Threshold(text))?,
        };
        Ok(Self {
            bucket,
            rows_prefix: prefix(env, "ROWS_PREFIX", "filtered/")?,
            aggregates_prefix: prefix(env, "AGGREGATES_PREFIX", "aggregates/")?,
            price_threshold,
        })
    }
}

/// The function's state for its lifetime: configuration, object store, telemetry.
pub struct Analytics {
    config: Config,
    store: Box<dyn ObjectStore>,
    telemetry: Telemetry,
}

impl std::fmt::Debug for Analytics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Analytics")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// The Lambda handler: [`Analytics::process`] with the invocation's metrics document.
///
/// # Errors
/// An [`InvokeError`] (boxed, for the runtime's error report): the invocation fails as a whole
/// and Lambda retries it.
pub async fn handler(
    event: LambdaEvent<WindowEvent>,
    analytics: &Analytics,
) -> Result<WindowResponse, lambda_runtime::Error> {
    let (event, context) = event.into_parts();
    let mut metrics = analytics.telemetry.start(&context.request_id);
    let result = analytics.process(&event, &mut metrics).await;
    // A final invoke that fails (as a whole, or at a record) leaves its window open and the shard
    // blocked until a retry succeeds: the alarm on failed final invokes watches this count.
    let final_failed = event.is_final_invoke_for_window
        && result
            .as_ref()
            .map_or(true, |response| !response.batch_item_failures.is_empty());
    metrics.count("FailedFinalInvokes", usize::from(final_failed));
    analytics.telemetry.finish(&metrics);
    if let Err(error) = &result {
        tracing::error!(error = %error, "window invocation failed");
    }
    Ok(result?)
}

/// One outer record, read: its user records, or why it fails.
fn read_record(record: &KinesisEventRecord) -> Result<Vec<Ticker>, RecordError> {
    let data = base64::engine::general_purpose::STANDARD.decode(&record.kinesis.data)?;
    match kstream_kpl::deaggregate(&data) {
        Deaggregated::Aggregated(sub_records) => sub_records
            .iter()
            .map(|sub| Ticker::parse(&sub.data))
            .collect(),
        Deaggregated::NotAggregated { reason } if reason.is_corrupt() => {
            Err(RecordError::Aggregate(reason.to_string()))
        }
        Deaggregated::NotAggregated { .. } => Ticker::parse(&data).map(|t| vec![t]),
    }
}

fn source(event: &WindowEvent) -> Result<(&str, &str), InvokeError> {
    let first = event.records.first();
    let shard = event
        .shard_id
        .as_deref()
        .or_else(|| first.and_then(KinesisEventRecord::shard_id))
        .ok_or(InvokeError::NoSource("shard"))?;
    let arn = event
        .event_source_arn
        .as_deref()
        .or_else(|| first.and_then(|r| r.event_source_arn.as_deref()))
        .ok_or(InvokeError::NoSource("stream"))?;
    let stream = arn.rsplit_once('/').map_or(arn, |(_, name)| name);
    Ok((stream, shard))
}

impl Analytics {
    /// The function with `config`, writing to `store`, reporting through `telemetry`.
    pub fn new(config: Config, store: impl ObjectStore + 'static, telemetry: Telemetry) -> Self {
        Self {
            config,
            store: Box::new(store),
            telemetry,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Processes one invoke of a window (the handler without the Lambda context).
    ///
    /// # Errors
    /// [`InvokeError`]: an unreadable state, a window-less event, or a failed write.
    pub async fn process(
        &self,
        event: &WindowEvent,
        metrics: &mut Metrics<'_>,
    ) -> Result<WindowResponse, InvokeError> {
        let mut state = WindowState::from_state(event.state.iter().map(|(k, v)| (k.as_str(), v)))?;
        let window = event.window.ok_or(InvokeError::NoWindow)?;
        metrics.count("Records", event.records.len());
        let mut response = WindowResponse::default();
        let mut rows = Vec::new();
        let mut aggregated = 0;
        for record in &event.records {
            let read =
                read_record(record).and_then(|tickers| state.admit(&tickers).map(|()| tickers));
            match read {
                Ok(tickers) => {
                    if state.segment.is_none() {
                        state.segment = Some(record.kinesis.sequence_number.clone());
                    }
                    for ticker in tickers {
                        state.add(&ticker);
                        aggregated += 1;
                        if ticker.price > self.config.price_threshold {
                            rows.push(ticker);
                        }
                    }
                }
                Err(error) => {
                    tracing::warn!(
                        sequence_number = %record.kinesis.sequence_number,
                        shard_id = record.shard_id().unwrap_or_default(),
                        error_kind = error.kind(),
                        error = %error,
                        "record failed; it and the records after it are retried"
                    );
                    state.malformed += 1;
                    response.batch_item_failures.push(BatchItemFailure {
                        item_identifier: record.kinesis.sequence_number.clone(),
                    });
                    break;
                }
            }
        }
        metrics.count("UserRecords", aggregated);
        metrics.count("FailedRecords", response.batch_item_failures.len());
        metrics.count("FilteredRows", rows.len());
        let mut written = 0;
        if let Some(segment) = state.segment.clone() {
            let (stream, shard) = source(event)?;
            let key = WindowKey {
                stream,
                shard,
                start: window.start,
                segment: &segment,
            };
            if !rows.is_empty() {
                for object in
                    output::filtered_rows(&self.config.rows_prefix, &key, state.parts, &rows)
                {
                    self.store.put(&object.key, object.body).await?;
                    written += 1;
                }
                state.parts += 1;
            }
            let closing = event.is_final_invoke_for_window || event.is_window_terminated_early;
            if closing && response.batch_item_failures.is_empty() {
                if let Some(object) = output::aggregates(
                    &self.config.aggregates_prefix,
                    &key,
                    window.end,
                    &state,
                    event.is_window_terminated_early,
                ) {
                    self.store.put(&object.key, object.body).await?;
                    written += 1;
                }
                tracing::info!(
                    window_start = %window.start,
                    shard_id = shard,
                    tickers = state.tickers.len(),
                    records = state.records,
                    failed_attempts = state.malformed,
                    terminated_early = event.is_window_terminated_early,
                    "window closed"
                );
            }
        }
        if event.is_final_invoke_for_window && response.batch_item_failures.is_empty() {
            metrics.count("WindowsClosed", 1);
        }
        if event.is_window_terminated_early {
            metrics.count("WindowsTerminatedEarly", 1);
        }
        metrics.count("ObjectsWritten", written);
        response.state = state.to_state();
        metrics.bytes("StateBytes", response.state.values().map(String::len).sum());
        Ok(response)
    }
}
