//! The error type of the local Firehose delivery.

/// Everything that can go wrong delivering the deployed delivery streams, outside the
/// transform's own failures (those are records in the error output, as Firehose writes them).
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[non_exhaustive]
pub enum Error {
    /// A call to the emulator (or AWS) failed.
    #[diagnostic(
        code(kstream_local::aws),
        help("is the emulator running? `scripts/emulator.sh status`; AWS_ENDPOINT_URL names it")
    )]
    #[error("{operation} failed: {message}")]
    Aws {
        /// The API operation, e.g. `Firehose.DescribeDeliveryStream`.
        operation: &'static str,
        /// The service's error, with its code.
        message: String,
    },
    /// The deployed configuration holds a value the delivery cannot honour.
    #[diagnostic(code(kstream_local::config))]
    #[error("invalid deployed configuration: {0}")]
    Config(String),
    /// The Lambda host (transform invocations) or the checkpoints failed.
    #[diagnostic(transparent)]
    #[error(transparent)]
    Lambda(#[from] kstream_local_lambda::Error),
}

impl Error {
    /// An [`Error::Aws`] from any SDK error, keeping the service's code and message.
    pub(crate) fn aws<E>(operation: &'static str, err: E) -> Self
    where
        E: std::error::Error + 'static,
    {
        // DisplayErrorContext walks the source chain, which holds the service message.
        let message = aws_smithy_types::error::display::DisplayErrorContext(&err).to_string();
        Error::Aws { operation, message }
    }
}

/// Why a record, or a Glue table, cannot be converted to Parquet (record format conversion,
/// [`convert`](crate::convert)).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConvertError {
    /// A Glue column type kstream local does not convert, or a malformed one.
    #[error("{0}")]
    Type(String),
    /// A column of the table whose type cannot be converted.
    #[error("column {column}: {source}")]
    Column {
        /// The column.
        column: String,
        /// What is wrong with its type.
        #[source]
        source: Box<ConvertError>,
    },
    /// The table's schema cannot be a Parquet schema (no columns, or the writer refuses it).
    #[error("{0}")]
    Schema(String),
    /// The record is not one or more JSON objects.
    #[error("{0}")]
    Record(String),
    /// A value of the record does not fit its column.
    #[error("column {column} ({column_type}): {source}")]
    Value {
        /// The column.
        column: String,
        /// Its Glue type.
        column_type: String,
        /// Why the value does not fit.
        #[source]
        source: ValueError,
    },
    /// The Parquet writer failed.
    #[error("Parquet writer: {0}")]
    Parquet(String),
}

/// Why a JSON value does not fit its column ([`ConvertError::Value`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ValueError {
    /// The value's JSON type (or text) cannot be read as the column's type.
    #[error("cannot convert {json_type} {value} to this type")]
    Mismatch {
        /// The value's JSON type, such as `string`.
        json_type: &'static str,
        /// The value, as JSON.
        value: String,
    },
    /// An integer outside the column type's range.
    #[error("{value} is out of range ({min} to {max})")]
    OutOfRange {
        /// The value.
        value: i64,
        /// The least the type holds.
        min: i64,
        /// The most the type holds.
        max: i64,
    },
    /// A timestamp outside what Parquet's nanoseconds hold.
    #[error("{0} is out of the timestamp range")]
    TimestampRange(String),
    /// A decimal column's value.
    #[error(transparent)]
    Decimal(#[from] DecimalError),
}

/// Why a text is not a value of a `decimal(p,s)` column.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecimalError {
    /// Not a decimal number (or too many digits to hold).
    #[error("{0:?} is not a decimal number")]
    NotANumber(String),
    /// More digits before the point than the column allows.
    #[error(
        "{text} does not fit decimal({precision},{scale}) (at most {} digits before the point)",
        .precision - .scale
    )]
    TooLarge {
        /// The value as read.
        text: String,
        /// The column's precision.
        precision: u8,
        /// The column's scale.
        scale: u8,
    },
}

/// Why the Glue table of a record format conversion cannot be read or used (the delivery stream
/// is then not delivered, with this reason).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GlueError {
    /// No `AWS_ENDPOINT_URL`.
    #[error(
        "the Glue table is read from the emulator: set AWS_ENDPOINT_URL (such as http://127.0.0.1:4566)"
    )]
    NoEndpoint,
    /// An endpoint other than `http://`.
    #[error("the Glue table is read over http:// from the emulator, not from {0}")]
    NotHttp(String),
    /// The endpoint is not a URI.
    #[error("endpoint {url}: {message}")]
    Endpoint {
        /// The endpoint URL.
        url: String,
        /// What is wrong with it.
        message: String,
    },
    /// The endpoint names no host.
    #[error("endpoint {0} has no host")]
    NoHost(String),
    /// The request could not be built or signed.
    #[error("{0}")]
    Request(String),
    /// No answer in time.
    #[error("Glue {action}: no answer from {endpoint} in 30 s")]
    Timeout {
        /// The Glue action, such as `GetTable`.
        action: &'static str,
        /// The endpoint.
        endpoint: String,
    },
    /// The endpoint could not be reached.
    #[error("Glue {action}: {endpoint} unreachable: {message}")]
    Unreachable {
        /// The Glue action.
        action: &'static str,
        /// The endpoint.
        endpoint: String,
        /// The connection error.
        message: String,
    },
    /// The response did not arrive in time.
    #[error("Glue {action}: response timed out")]
    ResponseTimeout {
        /// The Glue action.
        action: &'static str,
    },
    /// The response could not be read.
    #[error("Glue {action}: reading the response: {message}")]
    Read {
        /// The Glue action.
        action: &'static str,
        /// The error.
        message: String,
    },
    /// Glue answered an error.
    #[error("Glue {action} answered {status}: {}{message}", .code.as_deref().map(|k| format!("{k}: ")).unwrap_or_default())]
    Status {
        /// The Glue action.
        action: &'static str,
        /// The HTTP status code.
        status: u16,
        /// The error code (`__type`), when there is one.
        code: Option<String>,
        /// The error message, or the body.
        message: String,
    },
    /// The table document has no columns.
    #[error("the table has no StorageDescriptor.Columns")]
    NoColumns,
    /// A column, or the table's schema, cannot be converted.
    #[error(transparent)]
    Convert(#[from] ConvertError),
    /// An error about the named table.
    #[error("{table}: {source}")]
    Table {
        /// `Glue table <database>.<table>`.
        table: String,
        /// What went wrong.
        #[source]
        source: Box<GlueError>,
    },
}

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
