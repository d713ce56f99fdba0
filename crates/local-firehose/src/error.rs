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

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
