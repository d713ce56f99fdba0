//! Why the configuration, a run's input or a run failed.

/// A variable of the function's configuration is unusable.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// Neither `STREAM_NAME` nor `STREAM_ARN` is set.
    #[error("STREAM_NAME or STREAM_ARN must be set (Terraform sets one)")]
    NoStream,
    /// `STREAM_ARN` is not a Kinesis stream ARN.
    #[error(
        "STREAM_ARN={0:?}: not a Kinesis stream ARN (arn:aws:kinesis:REGION:ACCOUNT:stream/NAME)"
    )]
    StreamArn(String),
    /// The stream name is not a valid Kinesis stream name.
    #[error("stream name {0:?}: 1 to 128 characters of A-Z, a-z, 0-9, '_', '.', '-'")]
    StreamName(String),
    /// `STREAM_NAME` and `STREAM_ARN` name different streams.
    #[error("STREAM_NAME={name:?} and STREAM_ARN={arn:?} name different streams; set one")]
    StreamMismatch {
        /// `STREAM_NAME`.
        name: String,
        /// `STREAM_ARN`.
        arn: String,
    },
    /// A number is not an integer in its bounds.
    #[error("{var}={value:?}: an integer from {min} to {max}")]
    Number {
        /// The variable.
        var: &'static str,
        /// Its value.
        value: String,
        /// The smallest accepted.
        min: u64,
        /// The largest accepted.
        max: u64,
    },
    /// `EVENT_TIME_FORMAT` is neither `sql` nor `rfc3339`.
    #[error("EVENT_TIME_FORMAT: {0}")]
    EventTimeFormat(#[from] kstream_ticker::UnknownFormat),
}

/// The schedule's Input (the event) is not a run this function accepts.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InputError {
    /// The event is JSON but not an object (nor null).
    #[error(
        "the schedule's Input must be a JSON object such as {{\"records\": 100}}, or absent; got {0}"
    )]
    NotAnObject(&'static str),
    /// A field has the wrong type.
    #[error("the schedule's Input: {0}")]
    Field(#[source] serde_json::Error),
    /// A number is out of bounds.
    #[error("the schedule's Input field `{field}` = {value}: from {min} to {max}")]
    Bounds {
        /// The field.
        field: &'static str,
        /// Its value.
        value: u64,
        /// The smallest accepted.
        min: u64,
        /// The largest accepted.
        max: u64,
    },
    /// `event_time_format` is neither `sql` nor `rfc3339`.
    #[error("the schedule's Input field `event_time_format`: {0}")]
    EventTimeFormat(#[from] kstream_ticker::UnknownFormat),
}

/// Why a run fails as a whole. The invocation returns the error; see the crate docs for what
/// Lambda and Scheduler then do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InvokeError {
    /// The Input is not a run this function accepts (nothing was put).
    #[error(transparent)]
    Input(#[from] InputError),
    /// The run cannot fit in the invocation's remaining time (nothing was put).
    #[error(
        "{records} records at {rate} records/s take {needed_ms} ms, but the invocation leaves {available_ms} ms for producing (its remaining time less the record TTL and a margin): lower RECORDS_PER_RUN, raise RATE or the function's timeout"
    )]
    TooLong {
        /// Records asked for.
        records: u64,
        /// The rate.
        rate: u32,
        /// Time the run needs.
        needed_ms: u64,
        /// Time there is.
        available_ms: u64,
    },
    /// The producer could not start (stream not found, no access, bad configuration).
    #[error("could not start the producer for stream {stream}: {source}")]
    Start {
        /// The stream.
        stream: String,
        /// The producer's error.
        #[source]
        source: kstream_producer::Error,
    },
    /// A record could not be handed to the producer.
    #[error("could not put a record into stream {stream}: {source}")]
    Put {
        /// The stream.
        stream: String,
        /// The producer's error.
        #[source]
        source: kstream_producer::Error,
    },
    /// Some records were not put: failed after the producer's retries, unresolved at the
    /// deadline, or never produced because the deadline came first.
    #[error(
        "{} of {} records were not put into stream {}: {} failed after retries{}, {} unresolved at the deadline, {} not produced before the deadline",
        .0.requested - .0.put, .0.requested, .0.stream, .0.failed, errors(&.0.errors_by_code), .0.unresolved, .0.requested - .0.produced
    )]
    NotPut(Box<crate::RunReport>),
}

fn errors(by_code: &std::collections::BTreeMap<String, u64>) -> String {
    if by_code.is_empty() {
        return String::new();
    }
    let parts: Vec<String> = by_code.iter().map(|(c, n)| format!("{c} {n}")).collect();
    format!(" ({})", parts.join(", "))
}
