//! The Kinesis event Lambda sends, with each record's `data` kept as the base64 text: the
//! record type every Kinesis consumer function shares (kds-consumer, and the windowed event of
//! the analytics function).
//!
//! # Why not `aws_lambda_events::kinesis::KinesisEvent`
//! That type decodes `data` (`Base64Data`) while the event is deserialized. One
//! record with malformed base64 then makes the *whole event* fail to deserialize:
//! `lambda_runtime` reports the invocation as failed before the handler runs, Lambda
//! retries the whole batch (or bisects it), and the good records around the bad one
//! are held back until the bad one ages out. Keeping `data` as text and decoding it per
//! record turns malformed base64 into one batch item failure naming that record's
//! sequence number, like any other bad record. (`functions/kds-consumer/tests/handler.rs`
//! checks both behaviours.)
//!
//! The JSON shape is exactly AWS's (and that of `aws_lambda_events`): every fixture in
//! `functions/kds-consumer/tests/fixtures/` also deserializes as `aws_lambda_events::kinesis::KinesisEvent`
//! unless it carries malformed base64 on purpose. Unknown fields are ignored, and
//! every field is optional (defaulted), so a change in the event shape cannot fail an
//! invocation.

use serde::{Deserialize, Serialize};

/// A batch of Kinesis records delivered by an event source mapping.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct KinesisEvent {
    /// The records, in shard order.
    #[serde(rename = "Records", default)]
    pub records: Vec<KinesisEventRecord>,
}

/// One record of a [`KinesisEvent`], with its event source metadata.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KinesisEventRecord {
    /// The Kinesis record.
    #[serde(default)]
    pub kinesis: KinesisRecord,
    /// `aws:kinesis`.
    #[serde(default)]
    pub event_source: Option<String>,
    /// `1.0`.
    #[serde(default)]
    pub event_version: Option<String>,
    /// `shardId-000000000000:<sequence number>`.
    #[serde(rename = "eventID", default)]
    pub event_id: Option<String>,
    /// `aws:kinesis:record`.
    #[serde(default)]
    pub event_name: Option<String>,
    /// The function's execution role ARN.
    #[serde(default)]
    pub invoke_identity_arn: Option<String>,
    /// The stream's region.
    #[serde(default)]
    pub aws_region: Option<String>,
    /// The stream's ARN.
    #[serde(rename = "eventSourceARN", default)]
    pub event_source_arn: Option<String>,
}

impl KinesisEventRecord {
    /// The shard id, taken from `eventID` (`shardId-000000000000:<sequence number>`).
    pub fn shard_id(&self) -> Option<&str> {
        self.event_id.as_deref()?.split_once(':').map(|(s, _)| s)
    }
}

/// The Kinesis part of a record.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KinesisRecord {
    /// `1.0`.
    #[serde(default)]
    pub kinesis_schema_version: Option<String>,
    /// The partition key the producer gave (`a` for KPL aggregates).
    #[serde(default)]
    pub partition_key: String,
    /// The record's sequence number: the identifier reported in `batchItemFailures`.
    #[serde(default)]
    pub sequence_number: String,
    /// The record's data, base64-encoded, as Lambda sends it (decoded per record).
    #[serde(default)]
    pub data: String,
    /// When Kinesis accepted the record, in seconds since the epoch (`1545084650.987`).
    #[serde(default)]
    pub approximate_arrival_timestamp: Option<f64>,
    /// `NONE` or `KMS` when present.
    #[serde(default)]
    pub encryption_type: Option<String>,
}
