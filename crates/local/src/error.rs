//! The error type of the local data plane.

use std::path::PathBuf;

/// Everything that can go wrong in `kstream local` outside a function's own code.
///
/// A function that fails (returns an error, crashes, times out) is not an [`Error`]: that is
/// an [`InvokeOutcome`](crate::runtime::InvokeOutcome) with a
/// [`FunctionError`](crate::runtime::FunctionError), exactly as Lambda reports it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No function of that name (or ARN) is registered with the host.
    #[error(
        "function {0:?} is not known to the local runtime host; is it deployed, and was its binary found?"
    )]
    UnknownFunction(String),
    /// The function's bootstrap binary does not exist.
    #[error(
        "the bootstrap for function {function:?} is missing at {path}: build it for this machine (`cargo build --release -p <package>`) or pass `--binary {function}=<path>`"
    )]
    MissingBinary {
        /// Function name.
        function: String,
        /// Where the binary was expected.
        path: PathBuf,
    },
    /// The function process could not be started.
    #[error("could not start the bootstrap of function {function:?} ({path}): {source}")]
    Spawn {
        /// Function name.
        function: String,
        /// The binary.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// A file in the state directory could not be read or written.
    #[error("{what} at {path}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// A state file holds something that is not what `kstream local` writes there.
    #[error("{path} is not a valid {what} file: {source}")]
    Corrupt {
        /// The kind of file.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The parse error.
        #[source]
        source: serde_json::Error,
    },
    /// A call to the emulator (or AWS) failed.
    #[error("{operation} failed: {message}")]
    Aws {
        /// The API operation, e.g. `Kinesis.GetRecords`.
        operation: &'static str,
        /// The service's error, with its code.
        message: String,
    },
    /// The deployed configuration holds a value the data plane cannot honour.
    #[error("invalid deployed configuration: {0}")]
    Config(String),
    /// A filter pattern of an event source mapping is not valid.
    #[error("invalid filter pattern {pattern:?}: {reason}")]
    FilterPattern {
        /// The pattern as deployed.
        pattern: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The Runtime API listener could not be bound.
    #[error("could not bind the Lambda Runtime API listener on {addr}")]
    Bind {
        /// The address.
        addr: String,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// The REST API executor could not load or serve the deployed APIs.
    #[error(transparent)]
    Apigw(#[from] crate::apigw::ApigwError),
    /// The host is shutting down and takes no new invocations.
    #[error("the local runtime host is shutting down")]
    ShuttingDown,
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
