//! The event Firehose sends to a transformation Lambda, read leniently.
//!
//! # Why not `aws_lambda_events::firehose::KinesisFirehoseEvent`
//! If the event fails to deserialize, the invocation fails, Firehose retries it and then
//! sends *every* record of the batch to the `processing-failed` output. That type
//! requires `kinesisRecordMetadata.subsequenceNumber` to be an integer and
//! `approximateArrivalTimestamp` to be a number, and decodes `data` while parsing. Public
//! descriptions of the event disagree on those fields (`@types/aws-lambda` declares
//! `subsequenceNumber: string`, Powertools a number, AWS examples show `""`), so this type
//! keeps metadata as it comes (any JSON value), keeps `data` as base64 text decoded per
//! record (a bad record fails alone), and defaults every field. Fixtures in `tests/fixtures/`
//! are checked against both types.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

/// A Firehose data-transformation invocation.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FirehoseEvent {
    /// The invocation's id.
    #[serde(default)]
    pub invocation_id: Option<String>,
    /// The delivery stream's ARN.
    #[serde(default)]
    pub delivery_stream_arn: Option<String>,
    /// The source Kinesis stream's ARN (KDS-sourced delivery streams only).
    #[serde(default)]
    pub source_kinesis_stream_arn: Option<String>,
    /// The region.
    #[serde(default)]
    pub region: Option<String>,
    /// The records to transform.
    #[serde(default)]
    pub records: Vec<FirehoseRecord>,
}

/// One record to transform.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FirehoseRecord {
    /// The id the response must answer, once.
    #[serde(default)]
    pub record_id: Option<String>,
    /// When Firehose received the record (epoch milliseconds), as sent.
    #[serde(default)]
    pub approximate_arrival_timestamp: Value,
    /// The record's bytes, base64-encoded.
    #[serde(default)]
    pub data: String,
    /// Source-stream metadata (KDS-sourced delivery streams only), kept as JSON text and
    /// read on demand ([`FirehoseRecord::metadata`]): only failed records need it.
    #[serde(rename = "kinesisRecordMetadata", default)]
    pub kinesis_record_metadata: Option<Box<RawValue>>,
}

/// Where a record came from in the source Kinesis stream.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KinesisRecordMetadata {
    /// `shardId-000000000000`.
    #[serde(default, deserialize_with = "lenient_string")]
    pub shard_id: Option<String>,
    /// The producer's partition key.
    #[serde(default, deserialize_with = "lenient_string")]
    pub partition_key: Option<String>,
    /// The Kinesis sequence number.
    #[serde(default, deserialize_with = "lenient_string")]
    pub sequence_number: Option<String>,
    /// The index inside a KPL aggregate, as sent (a number, or a string, possibly empty).
    #[serde(default)]
    pub subsequence_number: Value,
    /// When Kinesis received the record, as sent.
    #[serde(default)]
    pub approximate_arrival_timestamp: Value,
}

/// A string, or a number/boolean written as text, or nothing for `null`.
fn lenient_string<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Null => None,
        Value::String(s) => Some(s),
        other => Some(other.to_string()),
    })
}

impl FirehoseRecord {
    /// `kinesisRecordMetadata`, read leniently (`None` when absent or not an object).
    pub fn metadata(&self) -> Option<KinesisRecordMetadata> {
        serde_json::from_str(self.kinesis_record_metadata.as_ref()?.get()).ok()
    }
}
