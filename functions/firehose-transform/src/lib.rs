//! kstream pattern 3 Firehose processor: each record through a [`Transform`] (decode →
//! flatten → filter → Handlebars template → validate → newline → partition keys).
//!
//! The response answers every `recordId` exactly once, in order, with `result` exactly
//! `Ok`, `Dropped` or `ProcessingFailed`:
//! - `Ok`: `data` is the transformed record; `metadata.partitionKeys` holds the dynamic
//!   partition keys (`!{partitionKeyFromLambda:<name>}` in the S3 prefix);
//! - `Dropped`: the filter rejected the record; `data` is empty;
//! - `ProcessingFailed`: the record could not be transformed. Firehose writes the
//!   *original* record to the error output (`processing-failed/`); the response `data`
//!   carries the reason as one JSON line, `{"errorCode":"<kind>","errorMessage":"<why>"}`
//!   (the local data plane writes it into its error records), and the reason is logged at
//!   `warn` with the record id.
//!
//! The invocation never fails because of a record. The Lambda response limit (6 MB) is
//! kept by answering the records that would not fit with `ProcessingFailed`
//! (`errorCode` `ResponseLimit`) instead of failing the whole invocation; the size is
//! computed exactly as the response serializes, with room reserved for every later
//! record's failure answer.
//!
//! Configuration is read once per cold start ([`Transform::from_env`]): `TEMPLATE` or
//! `TEMPLATE_FILE`, `OUTPUT_FORMAT`, `FLATTEN`, `FLATTEN_SEPARATOR`, `FILTER`,
//! `PARTITION_KEYS`, `NEWLINE_DELIMITER`; a malformed template or an unknown helper stops
//! the cold start with a message naming the variable. Metrics as `kds-consumer`:
//! namespace `POWERTOOLS_METRICS_NAMESPACE`, else `KSTREAM_METRICS_NAMESPACE`, else
//! `kstream`; dimension `FunctionName`.
//!
//! | EMF metric | unit | meaning |
//! |---|---|---|
//! | `RecordsIn` | Count | records in the invocation |
//! | `RecordsOk` / `RecordsDropped` / `RecordsFailed` | Count | results |
//! | `ResponseLimitFailures` | Count | records failed to keep the 6 MB response limit |
//! | `BytesIn` | Bytes | decoded input bytes |
//! | `BytesOut` | Bytes | output bytes of `Ok` records |
//!
//! # Example
//! ```
//! use firehose_transform::{Transformer, event::FirehoseEvent, handler};
//! use kstream_pipeline::{emf::MemorySink, transform::Transform};
//! use lambda_runtime::{Context, LambdaEvent};
//! use std::sync::Arc;
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let transform = Transform::builder().template(r#"{"t": {{ticker}}}"#).build().unwrap();
//! let transformer = Transformer::builder(transform).metrics_sink(Arc::new(MemorySink::default())).build();
//! let event: FirehoseEvent = serde_json::from_value(serde_json::json!({"records": [
//!     {"recordId": "1", "approximateArrivalTimestamp": 1732246800000_u64, "data": "eyJ0aWNrZXIiOiJBTVpOIn0="},
//!     {"recordId": "2", "approximateArrivalTimestamp": 1732246800000_u64, "data": "e30="},
//! ]})).unwrap();
//! let response = handler(LambdaEvent::new(event, Context::default()), &transformer).await.unwrap();
//! assert_eq!(response.records[0].result.as_deref(), Some("Ok"));
//! assert_eq!(&response.records[0].data[..], b"{\"t\":\"AMZN\"}\n");
//! assert_eq!(response.records[1].result.as_deref(), Some("ProcessingFailed"));
//! # });
//! ```

pub mod event;

use std::collections::HashMap;
use std::convert::Infallible;
use std::fmt;
use std::sync::Arc;

use aws_lambda_events::encodings::Base64Data;
use aws_lambda_events::firehose::{KinesisFirehoseResponse, KinesisFirehoseResponseRecord};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use kstream_pipeline::emf::{EmfSink, Metrics, MetricsConfig, Stdout};
use kstream_pipeline::transform::{Transform, Transformed};
use kstream_pipeline::{ConfigError, TransformError};
use lambda_runtime::LambdaEvent;

use event::{FirehoseEvent, FirehoseRecord};

/// The `FunctionName` dimension outside Lambda.
pub const FUNCTION_NAME: &str = "firehose-transform";

/// Default response size limit in bytes: Lambda's synchronous response limit is 6 MB;
/// 6,000,000 stays under it whether "MB" is read as 10^6 or 2^20.
pub const DEFAULT_RESPONSE_LIMIT: usize = 6_000_000;

/// Longest error message written into a failed record's `data`.
const MAX_ERROR_MESSAGE: usize = 1000;

/// A record's result, as Firehose spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordResult {
    /// Transformed.
    Ok,
    /// Filtered out.
    Dropped,
    /// Not transformed; Firehose writes the original to the error output.
    ProcessingFailed,
}

impl RecordResult {
    /// `Ok`, `Dropped` or `ProcessingFailed`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "Ok",
            Self::Dropped => "Dropped",
            Self::ProcessingFailed => "ProcessingFailed",
        }
    }
}

/// Why a record failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    /// `data` is not base64 (Firehose always sends base64; kept for safety).
    #[error("record data is not valid base64: {0}")]
    Base64(base64::DecodeError),
    /// The transform failed.
    #[error(transparent)]
    Transform(TransformError),
}

impl RecordError {
    /// A stable name (logged as `error_kind`, written as `errorCode`).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Base64(_) => "InvalidBase64",
            Self::Transform(e) => e.kind(),
        }
    }
}

/// Everything the handler needs, built once per cold start.
pub struct Transformer {
    transform: Transform,
    metrics: MetricsConfig,
    sink: Arc<dyn EmfSink>,
    response_limit: usize,
}

impl fmt::Debug for Transformer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transformer")
            .field("transform", &self.transform)
            .field("metrics", &self.metrics)
            .field("response_limit", &self.response_limit)
            .finish_non_exhaustive()
    }
}

/// Builder for [`Transformer`].
pub struct TransformerBuilder {
    transform: Transform,
    metrics: Option<MetricsConfig>,
    sink: Option<Arc<dyn EmfSink>>,
    response_limit: usize,
}

impl TransformerBuilder {
    /// Metrics namespace and dimensions. By default, `MetricsConfig::from_env("firehose-transform")`.
    pub fn metrics_config(mut self, config: MetricsConfig) -> Self {
        self.metrics = Some(config);
        self
    }

    /// Where EMF documents go. By default, stdout.
    pub fn metrics_sink(mut self, sink: Arc<dyn EmfSink>) -> Self {
        self.sink = Some(sink);
        self
    }

    /// The response size limit in bytes. By default, [`DEFAULT_RESPONSE_LIMIT`].
    pub fn response_limit(mut self, bytes: usize) -> Self {
        self.response_limit = bytes;
        self
    }

    /// Builds the transformer.
    pub fn build(self) -> Transformer {
        Transformer {
            transform: self.transform,
            metrics: self
                .metrics
                .unwrap_or_else(|| MetricsConfig::from_env(FUNCTION_NAME)),
            sink: self.sink.unwrap_or_else(|| Arc::new(Stdout)),
            response_limit: self.response_limit,
        }
    }
}

/// Counters of one invocation.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Counters {
    /// Records in the invocation.
    pub records_in: usize,
    /// `Ok` results.
    pub ok: usize,
    /// `Dropped` results.
    pub dropped: usize,
    /// `ProcessingFailed` results (response-limit failures included).
    pub failed: usize,
    /// Records failed to keep the response limit.
    pub response_limit_failures: usize,
    /// Decoded input bytes.
    pub bytes_in: usize,
    /// Output bytes of `Ok` records.
    pub bytes_out: usize,
}

/// What happened to a batch.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct BatchReport {
    /// The response, one record per input record, in order.
    pub response: KinesisFirehoseResponse,
    /// The failures: (record id, why), in order.
    pub failures: Vec<(Option<String>, RecordError)>,
    /// The counters.
    pub counters: Counters,
}

impl Transformer {
    /// A builder around a compiled transform.
    pub fn builder(transform: Transform) -> TransformerBuilder {
        TransformerBuilder {
            transform,
            metrics: None,
            sink: None,
            response_limit: DEFAULT_RESPONSE_LIMIT,
        }
    }

    /// The transformer Lambda runs: the transform from the environment, metrics to stdout.
    ///
    /// # Errors
    /// [`ConfigError`] naming the variable at fault.
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self::builder(Transform::from_env()?).build())
    }

    /// Transforms every record of `event` (the handler without the Lambda plumbing).
    pub fn transform_batch(&self, event: &FirehoseEvent) -> BatchReport {
        let records = &event.records;
        // Kept short: room for it is reserved for every record. The full message is logged.
        let limit_doc = error_doc(
            "ResponseLimit",
            &format!("response over {} bytes", self.response_limit),
        );
        // The smallest answer each record can get; room for it is kept for every later record.
        let mut reserve: Vec<usize> = records
            .iter()
            .map(|r| {
                entry_len(
                    r.record_id.as_deref(),
                    RecordResult::ProcessingFailed,
                    limit_doc.len(),
                    &[],
                )
            })
            .collect();
        for i in (0..reserve.len().saturating_sub(1)).rev() {
            reserve[i] += reserve[i + 1];
        }
        let budget = self
            .response_limit
            .saturating_sub(FRAMING + records.len().saturating_sub(1));
        let mut used = 0;

        let mut report = BatchReport::default();
        report.response.records.reserve(records.len());
        for (i, record) in records.iter().enumerate() {
            report.counters.records_in += 1;
            let (result, mut data, keys) = match self.transform_record(record, &mut report) {
                Ok(Some(t)) => (RecordResult::Ok, t.data, t.partition_keys),
                Ok(None) => (RecordResult::Dropped, Vec::new(), Vec::new()),
                Err(error) => {
                    let doc = error_doc(error.kind(), &error.to_string());
                    report.failures.push((record.record_id.clone(), error));
                    (RecordResult::ProcessingFailed, doc, Vec::new())
                }
            };
            let later = reserve.get(i + 1).copied().unwrap_or(0);
            let mut result = result;
            let mut keys = keys;
            let len = entry_len(record.record_id.as_deref(), result, data.len(), &keys);
            if used + len + later > budget {
                let error = RecordError::Transform(TransformError::ResponseLimit {
                    limit: self.response_limit,
                });
                tracing::warn!(
                    record_id = record.record_id.as_deref().unwrap_or_default(),
                    error_kind = error.kind(),
                    error = %error,
                    "record failed: ProcessingFailed"
                );
                if result == RecordResult::ProcessingFailed {
                    report.failures.pop();
                }
                report.failures.push((record.record_id.clone(), error));
                report.counters.response_limit_failures += 1;
                result = RecordResult::ProcessingFailed;
                data = limit_doc.clone();
                keys = Vec::new();
                used += reserve[i] - later;
            } else {
                used += len;
            }
            match result {
                RecordResult::Ok => {
                    report.counters.ok += 1;
                    report.counters.bytes_out += data.len();
                }
                RecordResult::Dropped => report.counters.dropped += 1,
                RecordResult::ProcessingFailed => report.counters.failed += 1,
            }
            report
                .response
                .records
                .push(response_record(record, result, data, keys));
        }
        report
    }

    fn transform_record(
        &self,
        record: &FirehoseRecord,
        report: &mut BatchReport,
    ) -> Result<Option<Transformed>, RecordError> {
        let result = BASE64
            .decode(record.data.as_bytes())
            .map_err(RecordError::Base64)
            .and_then(|input| {
                report.counters.bytes_in += input.len();
                tracing::trace!(
                    record_id = record.record_id.as_deref().unwrap_or_default(),
                    payload = %String::from_utf8_lossy(&input),
                    "record"
                );
                self.transform.apply(&input).map_err(RecordError::Transform)
            });
        match result {
            Ok(outcome) => Ok(outcome),
            Err(error) => {
                tracing::warn!(
                    record_id = record.record_id.as_deref().unwrap_or_default(),
                    shard_id = record.metadata_str("shardId").unwrap_or_default(),
                    sequence_number = record.metadata_str("sequenceNumber").unwrap_or_default(),
                    error_kind = error.kind(),
                    error = %error,
                    "record failed: ProcessingFailed"
                );
                Err(error)
            }
        }
    }

    /// The EMF document of a batch.
    pub fn metrics<'c>(&'c self, counters: &Counters) -> Metrics<'c> {
        let mut m = Metrics::new(&self.metrics);
        m.count("RecordsIn", counters.records_in);
        m.count("RecordsOk", counters.ok);
        m.count("RecordsDropped", counters.dropped);
        m.count("RecordsFailed", counters.failed);
        m.count("ResponseLimitFailures", counters.response_limit_failures);
        m.bytes("BytesIn", counters.bytes_in);
        m.bytes("BytesOut", counters.bytes_out);
        m
    }
}

/// Handles one Firehose invocation: never fails because of a record.
///
/// # Errors
/// None (`Infallible`).
pub async fn handler(
    event: LambdaEvent<FirehoseEvent>,
    transformer: &Transformer,
) -> Result<KinesisFirehoseResponse, Infallible> {
    let (event, context) = event.into_parts();
    let report = transformer.transform_batch(&event);
    let mut metrics = transformer.metrics(&report.counters);
    if !context.request_id.is_empty() {
        metrics.property("requestId", context.request_id.as_str());
    }
    if let Some(id) = &event.invocation_id {
        metrics.property("invocationId", id.as_str());
    }
    if let Err(error) = metrics.flush(transformer.sink.as_ref()) {
        tracing::warn!(error = %error, "could not write the EMF metrics document");
    }
    let c = &report.counters;
    tracing::info!(
        records = c.records_in,
        ok = c.ok,
        dropped = c.dropped,
        failed = c.failed,
        response_limit_failures = c.response_limit_failures,
        bytes_in = c.bytes_in,
        bytes_out = c.bytes_out,
        "batch transformed"
    );
    Ok(report.response)
}

fn error_doc(kind: &str, message: &str) -> Vec<u8> {
    let message = match message.char_indices().nth(MAX_ERROR_MESSAGE) {
        Some((at, _)) => &message[..at],
        None => message,
    };
    let mut doc = serde_json::to_vec(&serde_json::json!({
        "errorCode": kind,
        "errorMessage": message,
    }))
    .unwrap_or_default();
    doc.push(b'\n');
    doc
}

fn response_record(
    record: &FirehoseRecord,
    result: RecordResult,
    data: Vec<u8>,
    keys: Vec<(String, String)>,
) -> KinesisFirehoseResponseRecord {
    let mut out = KinesisFirehoseResponseRecord::default();
    out.record_id = record.record_id.clone();
    out.result = Some(result.as_str().to_owned());
    let mut encoded = Base64Data::default();
    *encoded = data;
    out.data = encoded;
    out.metadata.partition_keys = keys.into_iter().collect::<HashMap<_, _>>();
    out
}

/// `{"records":[` and `]}`.
const FRAMING: usize = r#"{"records":["#.len() + "]}".len();

/// The exact length of one response record as serde_json writes it.
fn entry_len(
    record_id: Option<&str>,
    result: RecordResult,
    data_len: usize,
    keys: &[(String, String)],
) -> usize {
    let mut n = r#"{"recordId":"#.len()
        + record_id.map_or("null".len(), json_str_len)
        + r#","result":"#.len()
        + json_str_len(result.as_str())
        + r#","data":"#.len()
        + 2
        + data_len.div_ceil(3) * 4
        + r#","metadata":{"partitionKeys":{"#.len()
        + "}}}".len();
    for (i, (k, v)) in keys.iter().enumerate() {
        n += usize::from(i > 0) + json_str_len(k) + 1 + json_str_len(v);
    }
    n
}

/// The length of `s` as a JSON string literal (quotes included), as serde_json escapes.
fn json_str_len(s: &str) -> usize {
    2 + s
        .bytes()
        .map(|b| match b {
            b'"' | b'\\' | b'\n' | b'\r' | b'\t' | 0x08 | 0x0c => 2,
            0..=0x1f => 6,
            _ => 1,
        })
        .sum::<usize>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_len_is_exact() {
        let record = FirehoseRecord {
            record_id: Some("id-\"1\"\n\u{1}é".to_owned()),
            ..FirehoseRecord::default()
        };
        for (result, data, keys) in [
            (
                RecordResult::Ok,
                b"{\"a\":1}\n".to_vec(),
                vec![("k".to_owned(), "v\"\t".to_owned())],
            ),
            (
                RecordResult::Ok,
                vec![0u8; 10],
                vec![
                    ("a".to_owned(), "1".to_owned()),
                    ("b".to_owned(), "2".to_owned()),
                ],
            ),
            (RecordResult::Dropped, Vec::new(), Vec::new()),
            (RecordResult::ProcessingFailed, vec![1, 2], Vec::new()),
        ] {
            let expected = entry_len(record.record_id.as_deref(), result, data.len(), &keys);
            let entry = response_record(&record, result, data, keys);
            assert_eq!(serde_json::to_vec(&entry).unwrap().len(), expected);
        }
        let no_id = FirehoseRecord::default();
        let entry = response_record(&no_id, RecordResult::Ok, vec![7; 4], Vec::new());
        assert_eq!(
            serde_json::to_vec(&entry).unwrap().len(),
            entry_len(None, RecordResult::Ok, 4, &[])
        );
        let mut response = KinesisFirehoseResponse::default();
        assert_eq!(serde_json::to_vec(&response).unwrap().len(), FRAMING);
        response.records = vec![entry.clone(), entry];
        assert_eq!(
            serde_json::to_vec(&response).unwrap().len(),
            FRAMING + 1 + 2 * entry_len(None, RecordResult::Ok, 4, &[])
        );
    }
}
