//! Why the configuration, a record, a fare call, the API key or an invocation failed.

/// A variable of the function's configuration is unusable: the cold start fails with it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A required variable is unset or empty.
    #[error("{0} is not set (Terraform sets it)")]
    Missing(&'static str),
    /// Neither or both of `API_KEY_PARAMETER` and `API_KEY_SECRET_ID` are set.
    #[error(
        "set exactly one of API_KEY_PARAMETER (SSM SecureString) and API_KEY_SECRET_ID (Secrets Manager)"
    )]
    KeySource,
    /// An integer variable is not an integer in its range.
    #[error("{var}={value:?}: an integer in {min}..={max}")]
    Range {
        /// The variable.
        var: &'static str,
        /// Its value.
        value: String,
        /// The smallest value allowed.
        min: u64,
        /// The largest value allowed.
        max: u64,
    },
    /// A URL variable is not usable.
    #[error("{var}={value:?}: {expected}")]
    Url {
        /// The variable.
        var: &'static str,
        /// Its value.
        value: String,
        /// What was expected.
        expected: &'static str,
    },
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
    /// A boolean variable is not a boolean.
    #[error(transparent)]
    Env(#[from] kstream_pipeline::EnvError),
}

/// Why a record cannot be read: it goes to the error output with this reason and is not
/// retried (retrying cannot fix it).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// The record's `data` is not valid base64.
    #[error("record data is not valid base64: {0}")]
    Base64(String),
    /// The data starts with the KPL magic but is not a valid aggregate.
    #[error("{0} (the record starts with the KPL magic, so it is not read as plain data)")]
    Aggregate(String),
    /// The data is larger than a record may be.
    #[error("record data is {size} bytes, more than the {max} allowed")]
    TooLarge {
        /// The data's size.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// The JSON nests deeper than allowed.
    #[error("record JSON nests deeper than {max} levels")]
    TooDeep {
        /// The limit.
        max: usize,
    },
    /// The data is not UTF-8 JSON, or is not an object.
    #[error(transparent)]
    Decode(#[from] kstream_pipeline::DecodeError),
    /// A trip field is missing or has the wrong type.
    #[error("trip field `{field}` {problem}")]
    Field {
        /// The field.
        field: &'static str,
        /// What is wrong with it.
        problem: &'static str,
    },
    /// A trip datetime is not an ISO-8601 instant.
    #[error("trip field `{field}` is {value:?}, not an ISO-8601 instant (2018-01-01T00:03:12Z)")]
    Datetime {
        /// The field.
        field: &'static str,
        /// Its value.
        value: String,
    },
}

impl ParseError {
    /// A stable name for the failure, logged as `error_kind`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Base64(_) => "Base64",
            Self::Aggregate(_) => "CorruptAggregate",
            Self::TooLarge { .. } => "TooLarge",
            Self::TooDeep { .. } => "TooDeep",
            Self::Decode(_) => "Decode",
            Self::Field { .. } => "BadField",
            Self::Datetime { .. } => "BadDatetime",
        }
    }
}

/// Why a trip's fare could not be had (after the retries allowed): its Kinesis record is
/// reported in `batchItemFailures`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum CallError {
    /// The API answered with a status that is not retried (4xx other than 429; 403 after
    /// the API key was read again).
    #[error("the fare API answered {status}: {body}")]
    Status {
        /// The HTTP status.
        status: u16,
        /// The start of the body.
        body: String,
    },
    /// The last attempt was retryable (429, 5xx, timeout, connection error) but no retry was
    /// left: attempts, retry budget or the invocation's remaining time.
    #[error("gave up after {attempts} attempt(s) ({why}); last: {last}")]
    Exhausted {
        /// Attempts made.
        attempts: u32,
        /// Which limit stopped the retries.
        why: &'static str,
        /// What the last attempt got.
        last: String,
    },
    /// A 200 whose body is not `{"expected_fare": <finite number>, ...}`.
    #[error("the fare API's answer is not a fare: {0}")]
    BadBody(String),
    /// The request could not be signed (credentials unavailable).
    #[error("could not sign the request: {0}")]
    Signing(String),
    /// An earlier record of the batch failed, so this one's answer is not needed.
    #[error("not needed: an earlier record of the batch failed")]
    Cancelled,
}

impl CallError {
    /// A stable name for the failure (the failed-record archive's `error_kind`).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Status { .. } => "FareApiStatus",
            Self::Exhausted { .. } => "FareApiRetriesExhausted",
            Self::BadBody(_) => "FareApiBadBody",
            Self::Signing(_) => "SigningFailed",
            Self::Cancelled => "Cancelled",
        }
    }
}

/// The API key could not be read.
#[derive(Debug, Clone, thiserror::Error)]
#[error("could not read the API key from {source_name}: {reason}")]
pub struct KeyError {
    /// `SSM parameter NAME` or `secret ID`.
    pub source_name: String,
    /// Why.
    pub reason: String,
}

pub use kstream_pipeline::StoreError;

/// Why an invocation fails as a whole (Lambda retries the batch; nothing is duplicated).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InvokeError {
    /// An object could not be written.
    #[error(transparent)]
    Store(#[from] StoreError),
}
