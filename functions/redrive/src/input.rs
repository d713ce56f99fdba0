//! The event: which queue, what to do with the records, and the pass's limits.

use std::time::Duration;

use kstream_redrive::S3Prefix;
use serde::Deserialize;
use serde_json::Value;

use crate::error::InvokeError;

/// The largest `max_messages`: SQS's in-flight limit of a standard queue (SQS developer guide,
/// "Amazon SQS message quotas": "approximately 120,000 in-flight messages"); a pass keeps every
/// message it leaves in the queue in flight until its end.
pub const MAX_MESSAGES_LIMIT: u64 = 120_000;

/// What to do with a range's records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Put the user records into their stream again.
    Reput,
    /// Invoke `function_name` with them, as the mapping would.
    Invoke,
    /// Write them as JSON lines under `s3_uri`.
    S3,
}

/// The event as it arrives (the state machine's task payload).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    queue_url: String,
    mode: Mode,
    #[serde(default)]
    function_name: Option<String>,
    #[serde(default)]
    s3_uri: Option<String>,
    #[serde(default)]
    max_messages: Option<u64>,
    #[serde(default)]
    delete_unrecoverable: Option<bool>,
    #[serde(default)]
    visibility_timeout_seconds: Option<u64>,
}

/// Where the records go, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Re-put into the range's stream.
    Reput,
    /// Invoke this function (a name or an ARN).
    Invoke(String),
    /// Write under this prefix.
    S3(S3Prefix),
}

/// A checked event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    /// The on-failure queue's URL.
    pub queue_url: String,
    /// Where the records go.
    pub target: Target,
    /// Stop after this many messages.
    pub max_messages: Option<u64>,
    /// Delete the messages whose range the stream no longer holds.
    pub delete_unrecoverable: bool,
    /// How long a message being handled stays hidden (default 5 minutes).
    pub visibility_timeout: Duration,
}

impl Input {
    /// Checks an event: `{"queue_url", "mode": "reput"|"invoke"|"s3", "function_name"?
    /// (invoke), "s3_uri"? (s3), "max_messages"?, "delete_unrecoverable"?,
    /// "visibility_timeout_seconds"?}`.
    ///
    /// # Errors
    /// [`InvokeError::Input`] naming the field: an unknown field, a missing one, one that the
    /// mode does not take, a value out of its range.
    pub fn parse(event: Value) -> Result<Self, InvokeError> {
        let raw: Raw = serde_json::from_value(event).map_err(|e| {
            InvokeError::Input(format!(
                "{e}; expected {{\"queue_url\": URL, \"mode\": \"reput\"|\"invoke\"|\"s3\", \"function_name\"?, \"s3_uri\"?, \"max_messages\"?, \"delete_unrecoverable\"?, \"visibility_timeout_seconds\"?}}"
            ))
        })?;
        let invalid = |text: String| Err(InvokeError::Input(text));
        if !(raw.queue_url.starts_with("https://") || raw.queue_url.starts_with("http://")) {
            return invalid(format!(
                "queue_url {:?} is not a queue URL (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME)",
                raw.queue_url
            ));
        }
        let target = match (raw.mode, raw.function_name, raw.s3_uri) {
            (Mode::Reput, None, None) => Target::Reput,
            (Mode::Invoke, Some(f), None) if !f.trim().is_empty() => Target::Invoke(f),
            (Mode::S3, None, Some(uri)) => {
                let prefix = S3Prefix::parse(&uri)
                    .map_err(|e| InvokeError::Input(format!("s3_uri: {e}")))?;
                Target::S3(prefix)
            }
            (Mode::Invoke, _, None) => {
                return invalid("mode \"invoke\" needs function_name".into());
            }
            (Mode::S3, None, None) => {
                return invalid("mode \"s3\" needs s3_uri (s3://BUCKET/PREFIX/)".into());
            }
            (mode, _, _) => {
                return invalid(format!(
                    "mode {mode:?} takes {}: function_name goes with \"invoke\", s3_uri with \"s3\"",
                    match mode {
                        Mode::Reput => "neither function_name nor s3_uri",
                        Mode::Invoke => "function_name, not s3_uri",
                        Mode::S3 => "s3_uri, not function_name",
                    }
                ));
            }
        };
        if let Some(n) = raw.max_messages
            && !(1..=MAX_MESSAGES_LIMIT).contains(&n)
        {
            return invalid(format!("max_messages {n}: from 1 to {MAX_MESSAGES_LIMIT}"));
        }
        let visibility = raw.visibility_timeout_seconds.unwrap_or(300);
        if !kstream_redrive::pass::VISIBILITY_TIMEOUT_SECONDS.contains(&visibility) {
            return invalid(format!(
                "visibility_timeout_seconds {visibility}: from 1 to 43200 (SQS's range)"
            ));
        }
        Ok(Self {
            queue_url: raw.queue_url,
            target,
            max_messages: raw.max_messages,
            delete_unrecoverable: raw.delete_unrecoverable.unwrap_or(false),
            visibility_timeout: Duration::from_secs(visibility),
        })
    }
}
