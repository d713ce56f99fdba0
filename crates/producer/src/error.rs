//! Errors of the producer: configuration, start-up and `put`, and the failure of one user record.

use std::time::Duration;

use crate::attempt::Attempt;

/// A configuration value out of its range.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// `ProducerConfig::builder()` was built without a stream name.
    #[error("the stream name is required: set it with ProducerConfig::builder().stream_name(..)")]
    MissingStreamName,
    /// A value is outside the range documented on its setter.
    #[error("{name} = {value} is out of range ({range})")]
    OutOfRange {
        /// The setter's name.
        name: &'static str,
        /// The value given.
        value: String,
        /// The accepted range.
        range: String,
    },
}

/// An error of the producer itself (as opposed to the failure of one record, [`RecordFailure`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// DescribeStreamSummary or ListShards failed while the producer started or refreshed its
    /// shard map.
    #[error("could not describe stream {stream}: {message}")]
    DescribeStream {
        /// The stream.
        stream: String,
        /// The SDK error, with its causes.
        message: String,
    },
    /// A user record is larger than the stream's record size limit (data plus partition key).
    #[error(
        "record with partition key {partition_key:?} is {size} bytes (data plus partition key), \
         over the stream's record size limit of {limit} bytes"
    )]
    RecordTooLarge {
        /// The record's partition key (at most its first 256 characters).
        partition_key: String,
        /// The record's size in bytes.
        size: usize,
        /// The limit in bytes.
        limit: usize,
    },
    /// A user record's partition key or explicit hash key is invalid.
    #[error("invalid record: {0}")]
    InvalidRecord(#[from] kstream_kpl::Error),
    /// The producer was shut down, or its background task ended.
    #[error("the producer is shut down")]
    Shutdown,
    /// Publishing the metrics to CloudWatch (PutMetricData) failed.
    #[error("could not publish the producer metrics to CloudWatch: {message}")]
    PublishMetrics {
        /// The SDK error, with its causes.
        message: String,
    },
}

/// A Kinesis call that failed as a whole (see [`Kinesis`](crate::kinesis::Kinesis)): AWS's
/// error code, which the producer's retry and throttling decisions go by, and a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct KinesisError {
    /// AWS's error code (`ResourceNotFoundException`, `InternalFailure`…), `Http<status>` for an
    /// error answer without one, or for a call without an answer `DispatchFailure` (no
    /// connection), `Timeout`, `ResponseError` (an answer that could not be read) or
    /// `RequestFailed` (the request could not be built or signed).
    pub code: String,
    /// What failed, for people: `Code: message` for an error answer, else the error with its
    /// causes.
    pub message: String,
    /// The HTTP status of an error answer (`None` without an answer).
    pub status: Option<u16>,
}

/// Why one user record was not put. Returned by the record's [`PutHandle`](crate::PutHandle).
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum RecordFailure {
    /// The record's time to live ran out before Kinesis accepted it; `attempts` holds every
    /// error it got.
    #[error("record expired after {ttl:?} and {} attempt(s); last error: {}", attempts.len(), last_error(attempts))]
    Expired {
        /// The configured time to live.
        ttl: Duration,
        /// Every attempt, oldest first.
        attempts: Vec<Attempt>,
    },
    /// Kinesis rejected the record with an error that retrying cannot fix (for example
    /// `ResourceNotFoundException`, `AccessDeniedException`, `KMSAccessDeniedException`), or
    /// throttled it while `fail_if_throttled` is set.
    #[error("record rejected: {code}: {message}")]
    Rejected {
        /// The error code.
        code: String,
        /// The error message.
        message: String,
        /// Every attempt, oldest first.
        attempts: Vec<Attempt>,
    },
    /// The producer's background task ended before the record completed.
    #[error("the producer stopped before the record completed")]
    Shutdown,
}

impl RecordFailure {
    /// Every attempt made for the record, oldest first.
    pub fn attempts(&self) -> &[Attempt] {
        match self {
            Self::Expired { attempts, .. } | Self::Rejected { attempts, .. } => attempts,
            Self::Shutdown => &[],
        }
    }

    /// The error code of the last attempt, if any (`Expired` for an expiry with no attempt).
    pub fn error_code(&self) -> &str {
        match self {
            Self::Rejected { code, .. } => code,
            Self::Expired { attempts, .. } => attempts
                .last()
                .and_then(|a| a.error_code.as_deref())
                .unwrap_or("Expired"),
            Self::Shutdown => "Shutdown",
        }
    }
}

fn last_error(attempts: &[Attempt]) -> String {
    match attempts.last() {
        Some(Attempt {
            error_code: Some(code),
            error_message,
            ..
        }) => format!("{code}: {}", error_message.as_deref().unwrap_or("")),
        _ => "none (never sent)".to_owned(),
    }
}
