//! The tumbling-window event and response, as this crate's own types.
//!
//! Why not `aws_lambda_events`' `KinesisTimeWindowEvent` / `KinesisTimeWindowEventResponse`
//! (crate 1.2.1): its `state` is `HashMap<String, String>` and rejects the numeric state of
//! AWS's own documented example (`{"1": 282, "2": 715}`), `window` and the two flags are
//! required (a missing field fails the whole invocation, aws-lambda-rust-runtime#1064), each
//! record's `data` is decoded while the event is read (one bad record fails the invocation),
//! and the response type has no `batchItemFailures`. Here every field is optional, `state`
//! takes any JSON values, records keep `data` as text (the Kinesis record type shared with the
//! other consumers), and the response carries both `state` and `batchItemFailures`.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use kstream_pipeline::kinesis::KinesisEventRecord;

/// What Lambda sends a function whose event source mapping has `TumblingWindowInSeconds`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WindowEvent {
    /// The records, in shard order (absent or empty on some invokes).
    #[serde(rename = "Records", default)]
    pub records: Vec<KinesisEventRecord>,
    /// The window's bounds.
    #[serde(default)]
    pub window: Option<Window>,
    /// The state the previous invoke of this window returned (numbers or strings).
    #[serde(default, deserialize_with = "nullable_map")]
    pub state: BTreeMap<String, serde_json::Value>,
    /// The shard the window belongs to.
    #[serde(default)]
    pub shard_id: Option<String>,
    /// The stream's ARN.
    #[serde(rename = "eventSourceARN", default)]
    pub event_source_arn: Option<String>,
    /// The window has ended: the state is final, write the results.
    #[serde(default)]
    pub is_final_invoke_for_window: bool,
    /// Lambda ended the window early (the state passed 1 MB): the next invoke continues the
    /// same window with a fresh state.
    #[serde(default)]
    pub is_window_terminated_early: bool,
}

fn nullable_map<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<BTreeMap<String, serde_json::Value>, D::Error> {
    Ok(Option::deserialize(deserializer)?.unwrap_or_default())
}

/// A window's bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    /// Inclusive start.
    pub start: DateTime<Utc>,
    /// Exclusive end.
    pub end: DateTime<Utc>,
}

/// The answer: the state for the next invoke, and the records that failed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WindowResponse {
    /// Always present: a response without `state` is a failed invocation to Lambda.
    pub state: BTreeMap<String, String>,
    /// The failed records, by sequence number; Lambda retries from the lowest.
    pub batch_item_failures: Vec<BatchItemFailure>,
}

/// One failed record.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchItemFailure {
    /// The record's sequence number.
    pub item_identifier: String,
}
