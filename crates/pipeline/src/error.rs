//! Errors of the pipeline crate, one enum per concern.

/// Why a record's bytes could not be decoded into a JSON value.
///
/// Each variant carries enough to find the problem in the payload again
/// (byte offsets, line and column), never the payload itself.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The record is empty (zero bytes).
    #[error("record data is empty")]
    Empty,
    /// The bytes are not valid UTF-8.
    #[error("record data is not valid UTF-8: invalid byte sequence at offset {valid_up_to}")]
    Utf8 {
        /// Length of the valid UTF-8 prefix, i.e. the offset of the first bad byte.
        valid_up_to: usize,
    },
    /// The text is not valid JSON.
    #[error("record data is not valid JSON: {message} (line {line}, column {column})")]
    Json {
        /// serde_json's description of the problem.
        message: String,
        /// 1-based line of the problem.
        line: usize,
        /// 1-based column of the problem.
        column: usize,
    },
    /// The JSON is valid but is not an object (`{...}`).
    #[error("record data is a JSON {found}, expected a JSON object")]
    NotAnObject {
        /// The JSON type found instead: `array`, `string`, `number`, `boolean` or `null`.
        found: &'static str,
    },
}

/// Why writing an EMF metrics document failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EmfError {
    /// A metric value is NaN or infinite, which CloudWatch rejects.
    #[error("metric {name} has a non-finite value {value}; CloudWatch accepts only finite numbers")]
    NonFinite {
        /// The metric's name.
        name: String,
        /// The offending value.
        value: f64,
    },
    /// The documents have more than 30 dimensions, the EMF limit.
    #[error("an EMF document holds at most 30 dimensions, {count} were given")]
    TooManyDimensions {
        /// How many dimensions were recorded.
        count: usize,
    },
    /// The writer failed.
    #[error("could not write the EMF document")]
    Io(#[from] std::io::Error),
}

/// A function setting read from the environment that cannot be used (see
/// [`Env`](crate::config::Env)); it stops the cold start with this message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EnvError {
    /// A variable has a value that cannot be used.
    #[error("{var}={value:?}: {expected}")]
    Invalid {
        /// The variable.
        var: &'static str,
        /// Its value.
        value: String,
        /// What was expected.
        expected: &'static str,
    },
}

/// Why an object could not be written (the invocation fails: Lambda retries it, and the retry
/// writes the same keys).
#[derive(Debug, thiserror::Error)]
#[error("could not write s3 object {key}: {reason}")]
pub struct StoreError {
    /// The object's key.
    pub key: String,
    /// Why.
    pub reason: String,
}

/// Why a failed record could not be archived (feature `s3`): logged and counted by the
/// function, never failing the invocation (the record is still reported as failed).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ArchiveError {
    /// The object key cannot be formed from the record's shard id and sequence number.
    #[error("cannot archive under the key {key:?}: {reason}")]
    Key {
        /// The key as it would be.
        key: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The write failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why an AWS call of a function failed (feature `aws`): the operation, and what AWS or the
/// network answered, with the request id to find the call in AWS's logs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AwsError {
    /// The client cannot be set up from the environment (credentials, region, endpoint).
    #[error("AWS client configuration: {0}")]
    Config(String),
    /// The request could not be built or signed.
    #[error("{operation}: cannot sign the request: {reason}")]
    Signing {
        /// The operation, e.g. `S3 PutObject`.
        operation: &'static str,
        /// Why.
        reason: String,
    },
    /// No answer: the connection failed, or no answer came within the attempt's time.
    #[error("{operation}: {reason} (after {attempts} attempt(s))")]
    Transport {
        /// The operation.
        operation: &'static str,
        /// What failed on the last attempt.
        reason: String,
        /// How many attempts were made.
        attempts: u32,
    },
    /// AWS answered with an error.
    #[error(
        "{operation}: {code}: {message} (HTTP {status}, request id {request_id}, after {attempts} attempt(s))"
    )]
    Service {
        /// The operation.
        operation: &'static str,
        /// The HTTP status.
        status: u16,
        /// The error code, e.g. `NoSuchBucket` or `ParameterNotFound`.
        code: String,
        /// AWS's message.
        message: String,
        /// The request id AWS gave (`x-amz-request-id` / `x-amzn-RequestId`), `-` when none.
        request_id: String,
        /// How many attempts were made.
        attempts: u32,
    },
}

impl AwsError {
    /// The service's error code (`None` for errors that are not AWS's answer).
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Service { code, .. } => Some(code),
            _ => None,
        }
    }
}
