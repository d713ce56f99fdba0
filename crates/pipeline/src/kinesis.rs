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
//!
//! # Borrowed
//! [`KinesisEventRef`] reads the same JSON without copying: every string the consumer uses
//! borrows from the event's text (a [`Cow`], owned only for a string with JSON escapes, which
//! Kinesis' own fields never have), and the fields no consumer reads are skipped. Built from the
//! invocation's body (`lambda_runtime` hands it as a `RawValue`), it saves the owned event's
//! allocations: a dozen strings per record (bench/kds-consumer). [`KinesisEventRecord::as_ref`]
//! views an owned record the same way, so one processing path serves both.

use std::borrow::Cow;

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

/// A [`KinesisEvent`] borrowed from its JSON text (see the module docs, "Borrowed").
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct KinesisEventRef<'a> {
    /// The records, in shard order.
    #[serde(rename = "Records", default, borrow)]
    pub records: Vec<KinesisEventRecordRef<'a>>,
}

/// A [`KinesisEventRecord`] borrowed from its JSON text: the fields consumers read.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct KinesisEventRecordRef<'a> {
    /// The Kinesis record.
    #[serde(default, borrow)]
    pub kinesis: KinesisRecordRef<'a>,
    /// `shardId-000000000000:<sequence number>`.
    #[serde(rename = "eventID", default, borrow)]
    pub event_id: Option<Cow<'a, str>>,
    /// The stream's ARN.
    #[serde(rename = "eventSourceARN", default, borrow)]
    pub event_source_arn: Option<Cow<'a, str>>,
}

/// The Kinesis part of a [`KinesisEventRecordRef`].
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KinesisRecordRef<'a> {
    /// The partition key the producer gave (`a` for KPL aggregates).
    #[serde(default, borrow)]
    pub partition_key: Cow<'a, str>,
    /// The record's sequence number: the identifier reported in `batchItemFailures`.
    #[serde(default, borrow)]
    pub sequence_number: Cow<'a, str>,
    /// The record's data, base64-encoded, as Lambda sends it.
    #[serde(default, borrow)]
    pub data: Cow<'a, str>,
    /// When Kinesis accepted the record, in seconds since the epoch.
    #[serde(default)]
    pub approximate_arrival_timestamp: Option<f64>,
}

impl KinesisEventRecordRef<'_> {
    /// The shard id, taken from `eventID` (`shardId-000000000000:<sequence number>`).
    pub fn shard_id(&self) -> Option<&str> {
        self.event_id.as_deref()?.split_once(':').map(|(s, _)| s)
    }

    /// An owned record with this view's fields (the others default): what the failed-record
    /// archive needs of a failed record.
    pub fn to_record(&self) -> KinesisEventRecord {
        KinesisEventRecord {
            kinesis: KinesisRecord {
                partition_key: self.kinesis.partition_key.clone().into_owned(),
                sequence_number: self.kinesis.sequence_number.clone().into_owned(),
                data: self.kinesis.data.clone().into_owned(),
                approximate_arrival_timestamp: self.kinesis.approximate_arrival_timestamp,
                ..KinesisRecord::default()
            },
            event_id: self.event_id.as_deref().map(str::to_owned),
            event_source_arn: self.event_source_arn.as_deref().map(str::to_owned),
            ..KinesisEventRecord::default()
        }
    }
}

impl KinesisEventRecord {
    /// This record seen as a [`KinesisEventRecordRef`], borrowing every field.
    pub fn as_ref(&self) -> KinesisEventRecordRef<'_> {
        KinesisEventRecordRef {
            kinesis: KinesisRecordRef {
                partition_key: Cow::Borrowed(&self.kinesis.partition_key),
                sequence_number: Cow::Borrowed(&self.kinesis.sequence_number),
                data: Cow::Borrowed(&self.kinesis.data),
                approximate_arrival_timestamp: self.kinesis.approximate_arrival_timestamp,
            },
            event_id: self.event_id.as_deref().map(Cow::Borrowed),
            event_source_arn: self.event_source_arn.as_deref().map(Cow::Borrowed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EVENT: &str = r#"{"Records":[{"kinesis":{"kinesisSchemaVersion":"1.0",
        "partitionKey":"k\u00e9","sequenceNumber":"4965","data":"eyJhIjoxfQ==",
        "approximateArrivalTimestamp":1545084650.987},"eventSource":"aws:kinesis",
        "eventVersion":"1.0","eventID":"shardId-000000000006:4965","eventName":"aws:kinesis:record",
        "invokeIdentityArn":"arn:aws:iam::123456789012:role/r","awsRegion":"us-east-2",
        "eventSourceARN":"arn:aws:kinesis:us-east-2:123456789012:stream/s"}]}"#;

    #[test]
    fn the_borrowed_event_reads_what_the_owned_one_does() {
        let owned: KinesisEvent = serde_json::from_str(EVENT).unwrap();
        let borrowed: KinesisEventRef<'_> = serde_json::from_str(EVENT).unwrap();
        assert_eq!(borrowed.records.len(), 1);
        assert_eq!(borrowed.records[0], owned.records[0].as_ref());
        assert_eq!(borrowed.records[0].shard_id(), Some("shardId-000000000006"));
        // Escaped text is decoded (owned); the rest borrows from the event.
        assert_eq!(borrowed.records[0].kinesis.partition_key, "k\u{e9}");
        assert!(matches!(
            borrowed.records[0].kinesis.partition_key,
            Cow::Owned(_)
        ));
        assert!(matches!(borrowed.records[0].kinesis.data, Cow::Borrowed(_)));
        let record = borrowed.records[0].to_record();
        assert_eq!(record.kinesis.sequence_number, "4965");
        assert_eq!(record.kinesis.data, "eyJhIjoxfQ==");
        assert_eq!(record.event_source_arn, owned.records[0].event_source_arn);
        assert_eq!(record.shard_id(), Some("shardId-000000000006"));
    }
}
