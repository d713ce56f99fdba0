//! The event Firehose sends to a transformation Lambda, read leniently.
//!
//! # Why not `aws_lambda_events::firehose::KinesisFirehoseEvent`
//! If the event fails to deserialize, the invocation fails, Firehose retries it and then
//! sends *every* record of the batch to the `processing-failed` output. That type
//! requires `kinesisRecordMetadata.subsequenceNumber` to be an integer and
//! `approximateArrivalTimestamp` to be a number, and decodes `data` while parsing. Public
//! descriptions of the event disagree on those fields (`@types/aws-lambda` declares
//! `subsequenceNumber: string`, Powertools a number, AWS examples show `""`), so this type
//! keeps metadata as it comes (any JSON value), decodes each record's `data` on its own
//! ([`RecordData`]: bad base64 fails that record alone, with the reason), and defaults
//! every field. Fixtures in `tests/fixtures/` are checked against both types.

use std::fmt;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
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
    /// The record's bytes (base64 in the event, decoded as the event is read).
    #[serde(default)]
    pub data: RecordData,
    /// Source-stream metadata (KDS-sourced delivery streams only), kept as JSON text and
    /// read on demand ([`FirehoseRecord::metadata`]): only failed records need it.
    #[serde(rename = "kinesisRecordMetadata", default)]
    pub kinesis_record_metadata: Option<Box<RawValue>>,
}

/// A record's `data`, decoded from base64 while the event is read.
///
/// The event is the largest thing a transform reads (a 3 MB batch arrives as about 4 MB
/// of base64), so `data` is taken as raw bytes straight from the event text (serde_json's
/// `deserialize_bytes`: no UTF-8 pass, no copy of the text) and decoded at once. Text that
/// is not standard padded base64 fails only its record: it is kept, with the reason, as
/// [`RecordData::Invalid`]. A `data` that is not a JSON string at all fails the event, as
/// before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordData {
    /// The decoded bytes.
    Decoded(Vec<u8>),
    /// `data` is not valid base64.
    Invalid {
        /// The text as sent (bytes that are not UTF-8 replaced).
        text: String,
        /// Why it is not base64.
        error: String,
    },
}

impl Default for RecordData {
    /// No bytes (what an absent `data` decodes to).
    fn default() -> Self {
        Self::Decoded(Vec::new())
    }
}

impl RecordData {
    /// Decodes base64 `text` (standard alphabet, padded), never failing: bad text gives
    /// [`RecordData::Invalid`].
    pub fn from_base64(text: &[u8]) -> Self {
        match base64_simd::STANDARD.decode_to_vec(text) {
            Ok(bytes) => Self::Decoded(bytes),
            Err(e) => Self::Invalid {
                text: String::from_utf8_lossy(text).into_owned(),
                error: e.to_string(),
            },
        }
    }

    /// The decoded bytes, or why `data` is not base64.
    ///
    /// # Errors
    /// The base64 decoder's message for [`RecordData::Invalid`].
    pub fn decoded(&self) -> Result<&[u8], &str> {
        match self {
            Self::Decoded(bytes) => Ok(bytes),
            Self::Invalid { error, .. } => Err(error),
        }
    }
}

impl Serialize for RecordData {
    /// As Firehose sends it: the bytes in base64, or invalid text as it came.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Decoded(bytes) => {
                serializer.serialize_str(&base64_simd::STANDARD.encode_to_string(bytes))
            }
            Self::Invalid { text, .. } => serializer.serialize_str(text),
        }
    }
}

impl<'de> Deserialize<'de> for RecordData {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DataVisitor;
        impl Visitor<'_> for DataVisitor {
            type Value = RecordData;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("base64 text")
            }
            fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<RecordData, E> {
                Ok(RecordData::from_base64(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RecordData, E> {
                Ok(RecordData::from_base64(v.as_bytes()))
            }
        }
        // serde_json hands a JSON string's bytes over without validating them as UTF-8
        // (base64 decoding checks every byte anyway), borrowed when it has no escapes.
        deserializer.deserialize_bytes(DataVisitor)
    }
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
