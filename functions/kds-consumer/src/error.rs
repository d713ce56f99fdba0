//! Why a record failed. Each failure becomes a batch item failure; none fails the invocation.

use kstream_pipeline::DecodeError;

/// Why the per-record processing rejected a user record. Returned by
/// [`RecordProcessor::process`](crate::RecordProcessor::process).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProcessError {
    /// The record is valid JSON but not an object.
    #[error("record is a JSON {found}, expected a JSON object")]
    NotAnObject {
        /// The JSON type found (`array`, `string`, ...).
        found: &'static str,
    },
    /// A field named in `REQUIRED_FIELDS` is absent or `null`.
    #[error("record lacks the required field `{field}` (REQUIRED_FIELDS)")]
    MissingField {
        /// The field's name.
        field: String,
    },
    /// The record carries `"poison": true`: the documented test convention for a record
    /// that always fails (see the crate docs).
    #[error("poison record: field `poison` is true, so processing fails by convention")]
    Poison,
    /// Any other failure of user-supplied processing logic.
    #[error("processing failed: {0}")]
    Other(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl ProcessError {
    /// Wraps an error from user-supplied processing logic.
    pub fn other(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self::Other(error.into())
    }

    /// A stable name for the failure, logged as `error_kind`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::NotAnObject { .. } => "NotAnObject",
            Self::MissingField { .. } => "MissingField",
            Self::Poison => "Poison",
            Self::Other(_) => "ProcessingFailed",
        }
    }
}

/// Why a Kinesis record is reported in `batchItemFailures`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    /// The record's `data` is not valid base64.
    #[error("record data is not valid base64: {0}")]
    Base64(#[from] base64::DecodeError),
    /// The data starts with the KPL magic but is not a valid aggregate (bad MD5, bad
    /// protobuf, truncated, key index out of range). Failed rather than processed as
    /// plain data, which it is not.
    #[error(
        "{reason} (the record starts with the KPL magic, so it is not processed as plain data)"
    )]
    CorruptAggregate {
        /// What `kstream_kpl` found wrong.
        reason: String,
    },
    /// A user record's data is not UTF-8 JSON.
    #[error("{}{source}", at(*sub_sequence_number))]
    Decode {
        /// The user record's index in its KPL aggregate, `None` for a plain record.
        sub_sequence_number: Option<u64>,
        /// What was wrong.
        #[source]
        source: DecodeError,
    },
    /// A user record's data is larger than [`MAX_RECORD_BYTES`](crate::MAX_RECORD_BYTES):
    /// failed alone, before it is parsed.
    #[error("{}record data is {size} bytes, more than the {max} a record may hold", at(*sub_sequence_number))]
    TooLarge {
        /// The user record's index in its KPL aggregate, `None` for a plain record.
        sub_sequence_number: Option<u64>,
        /// The data's size.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// The per-record processing rejected a user record.
    #[error("{}{source}", at(*sub_sequence_number))]
    Process {
        /// The user record's index in its KPL aggregate, `None` for a plain record.
        sub_sequence_number: Option<u64>,
        /// What the processor reported.
        #[source]
        source: ProcessError,
    },
}

fn at(sub_sequence_number: Option<u64>) -> String {
    match sub_sequence_number {
        Some(n) => format!("sub-record {n} of the KPL aggregate: "),
        None => String::new(),
    }
}

impl RecordError {
    /// The failed user record's index in its KPL aggregate; `None` for a plain record, or a
    /// failure of the Kinesis record as a whole (base64, a corrupt aggregate).
    pub fn sub_sequence_number(&self) -> Option<u64> {
        match self {
            Self::Decode {
                sub_sequence_number,
                ..
            }
            | Self::TooLarge {
                sub_sequence_number,
                ..
            }
            | Self::Process {
                sub_sequence_number,
                ..
            } => *sub_sequence_number,
            Self::Base64(_) | Self::CorruptAggregate { .. } => None,
        }
    }

    /// A stable name for the failure, logged as `error_kind`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Base64(_) => "InvalidBase64",
            Self::CorruptAggregate { .. } => "CorruptAggregate",
            Self::Decode { source, .. } => match source {
                DecodeError::Empty => "EmptyRecord",
                DecodeError::Utf8 { .. } => "InvalidUtf8",
                DecodeError::Json { .. } => "InvalidJson",
                DecodeError::NotAnObject { .. } => "NotAnObject",
                _ => "DecodeError",
            },
            Self::TooLarge { .. } => "RecordTooLarge",
            Self::Process { source, .. } => source.kind(),
        }
    }
}

/// The invocation's event is not a Kinesis event: [`handle_text`](crate::handle_text) fails
/// the invocation with it, as `lambda_runtime` does for an event that does not deserialize.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EventError {
    /// The event is not JSON, or not a Kinesis event's shape (`Records` not an array of
    /// records, a field of the wrong type, a string that is not UTF-8).
    #[error("the event is not a Kinesis event: {0}")]
    Shape(#[source] serde_json::Error),
    /// The runtime handed the handler no event body (`body::EventBodyLayer` is not installed).
    #[error("no event body: the runtime was built without kds_consumer::body::EventBodyLayer")]
    NoBody,
}

/// The error Lambda records for the failed invocation: `errorType` `EventError`.
impl From<EventError> for lambda_runtime::Diagnostic {
    fn from(error: EventError) -> Self {
        Self {
            error_type: "EventError".into(),
            error_message: error.to_string(),
        }
    }
}
