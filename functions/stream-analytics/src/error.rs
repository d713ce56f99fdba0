//! Why a record, the state or an invocation failed.

/// Why one record is reported in `batchItemFailures`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    /// The record's `data` is not valid base64.
    #[error("record data is not valid base64: {0}")]
    Base64(#[from] base64::DecodeError),
    /// The data starts with the KPL magic but is not a valid aggregate.
    #[error("{0} (the record starts with the KPL magic, so it is not read as plain data)")]
    Aggregate(String),
    /// The data is not UTF-8.
    #[error("record is not UTF-8 (invalid byte at offset {0})")]
    Utf8(usize),
    /// The data is not JSON, or not a JSON object of the ticker shape.
    #[error("record is not a ticker JSON object: {0}")]
    Json(#[source] serde_json::Error),
    /// A required field is absent or `null`.
    #[error("record lacks the field `{0}`")]
    MissingField(&'static str),
    /// `event_time` is neither RFC 3339 nor `yyyy-MM-dd HH:mm:ss[.SSS]`.
    #[error("record's event_time {0:?} is neither RFC 3339 nor yyyy-MM-dd HH:mm:ss[.SSS]")]
    BadEventTime(String),
    /// `ticker` is empty, too long, or has characters outside `[A-Za-z0-9._-]`.
    #[error("record's ticker {0:?} is not 1 to 16 characters of A-Z, a-z, 0-9, '.', '-', '_'")]
    BadTicker(String),
    /// `price` is not a finite JSON number.
    #[error("record's price is not a finite JSON number")]
    BadPrice,
    /// The window already aggregates the most tickers it may.
    #[error("the window already holds {0} tickers, the most its state may hold")]
    TooManyTickers(usize),
}

impl RecordError {
    /// A stable name for the failure, logged as `error_kind`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Base64(_) => "Base64",
            Self::Aggregate(_) => "CorruptAggregate",
            Self::Utf8(_) => "Utf8",
            Self::Json(_) => "Json",
            Self::MissingField(_) => "MissingField",
            Self::BadEventTime(_) => "BadEventTime",
            Self::BadTicker(_) => "BadTicker",
            Self::BadPrice => "BadPrice",
            Self::TooManyTickers(_) => "TooManyTickers",
        }
    }
}

/// The window state Lambda passed back cannot be read: the invocation fails (Lambda retries it
/// and, once the retries are spent, sends the batch's range to the on-failure destination).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    /// This function's state entry is not a string.
    #[error("the window state's `kstream` entry is not a string")]
    NotAString,
    /// This function's state entry is not the JSON it writes.
    #[error("the window state's `kstream` entry is not this function's state: {0}")]
    Json(#[source] serde_json::Error),
}

pub use kstream_pipeline::StoreError;

/// Why an invocation fails as a whole (Lambda retries it; nothing it wrote is duplicated).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InvokeError {
    /// The state Lambda passed back is not this function's.
    #[error(transparent)]
    State(#[from] StateError),
    /// An object could not be written.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The event has no `window` (the mapping has no `TumblingWindowInSeconds`).
    #[error("the event has no window: set TumblingWindowInSeconds on the event source mapping")]
    NoWindow,
    /// Neither the event nor its records name the shard or the stream.
    #[error("the event names no {0} (shardId / eventSourceARN)")]
    NoSource(&'static str),
}

/// A variable of the function's configuration is unusable.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A required variable is unset.
    #[error("{0} is not set (Terraform sets it)")]
    Missing(&'static str),
    /// `PRICE_THRESHOLD` is not a finite number.
    #[error("PRICE_THRESHOLD={0:?}: a finite number")]
    Threshold(String),
    /// A prefix is not a usable S3 key prefix.
    #[error(
        "{var}={value:?}: empty, or up to 256 characters ending in '/' with no '//' and no leading '/'"
    )]
    Prefix {
        /// The variable.
        var: &'static str,
        /// Its value.
        value: String,
    },
}
