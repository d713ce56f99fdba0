//! The error type of the local Lambda host and event source mappings.

use std::path::PathBuf;

/// Everything that can go wrong in the Lambda host and the mappings outside a function's own code.
///
/// A function that fails (returns an error, crashes, times out) is not an [`Error`]: that is
/// an [`InvokeOutcome`](crate::runtime::InvokeOutcome) with a
/// [`FunctionError`](crate::runtime::FunctionError), exactly as Lambda reports it.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[non_exhaustive]
pub enum Error {
    /// No function of that name (or ARN) is registered with the host.
    #[diagnostic(
        code(kstream_local::unknown_function),
        help("`kstream local status` lists the functions the host runs")
    )]
    #[error(
        "function {0:?} is not known to the local runtime host; is it deployed, and was its binary found?"
    )]
    UnknownFunction(String),
    /// The function's bootstrap binary does not exist.
    #[diagnostic(
        code(kstream_local::missing_binary),
        help("the functions directory is --functions-dir (default target/release)")
    )]
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
    #[diagnostic(
        code(kstream_local::spawn),
        help(
            "the bootstrap must be an executable built for this machine (not the arm64 Lambda build)"
        )
    )]
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
    #[diagnostic(code(kstream_local::io))]
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
    #[diagnostic(
        code(kstream_local::corrupt_state),
        help(
            "remove the file to start afresh (checkpoints: the mapping re-reads from its starting position)"
        )
    )]
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
    #[diagnostic(
        code(kstream_local::aws),
        help("is the emulator running? `scripts/emulator.sh status`; AWS_ENDPOINT_URL names it")
    )]
    #[error("{operation} failed: {message}")]
    Aws {
        /// The API operation, e.g. `Kinesis.GetRecords`.
        operation: &'static str,
        /// The service's error, with its code.
        message: String,
    },
    /// The deployed configuration holds a value the data plane cannot honour.
    #[diagnostic(code(kstream_local::config))]
    #[error("invalid deployed configuration: {0}")]
    Config(String),
    /// A filter pattern of an event source mapping is not valid.
    #[diagnostic(
        code(kstream_local::filter_pattern),
        help(
            "supported: exact values, prefix, suffix, equals-ignore-case, numeric, exists, anything-but"
        )
    )]
    #[error("invalid filter pattern {pattern:?}: {reason}")]
    FilterPattern {
        /// The pattern as deployed.
        pattern: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The Runtime API listener could not be bound.
    #[diagnostic(
        code(kstream_local::bind),
        help("choose another port (--api-port, 0 for a free one)")
    )]
    #[error("could not bind the Lambda Runtime API listener on {addr}")]
    Bind {
        /// The address.
        addr: String,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// The host is shutting down and takes no new invocations.
    #[diagnostic(code(kstream_local::shutting_down))]
    #[error("the local runtime host is shutting down")]
    ShuttingDown,
}

#[cfg(feature = "sdk")]
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
