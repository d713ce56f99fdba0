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
    #[error("column {column} ({column_type}): {message}")]
    Value {
        /// The column.
        column: String,
        /// Its Glue type.
        column_type: String,
        /// Why the value does not fit.
        message: String,
    },
    /// The Parquet writer failed.
    #[error("Parquet writer: {0}")]
    Parquet(String),
}

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
