//! Why a redrive pass, or the handling of one range, failed.

/// A redrive error. Messages are complete sentences for a person reading a summary line.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An AWS call failed (not because a range is gone: that is [`crate::RangeRead::Lost`]).
    #[error("{context}: {message}")]
    Aws {
        /// What was being done (`cannot receive from <queue>`, `GetRecords on <range> failed`).
        context: String,
        /// The service's `Code: message`, or the error with its causes.
        message: String,
    },
    /// Records could not be put into their stream after every attempt.
    #[error(
        "{count} record(s) of {range} could not be put after {attempts} attempts (last error: {last_error})"
    )]
    NotPut {
        /// The range.
        range: String,
        /// Records not put.
        count: usize,
        /// Attempts made.
        attempts: u32,
        /// The last error Kinesis gave.
        last_error: String,
    },
    /// The function failed on a batch of the range, or its answer was not a valid one.
    #[error("the function failed on {count} record(s) of {range}: {why}")]
    FunctionFailed {
        /// The range.
        range: String,
        /// Records in the failed batch.
        count: usize,
        /// The function's error, or its answer.
        why: String,
    },
    /// The function reported batch item failures.
    #[error("the function reported batchItemFailures from {sequence} in {range}")]
    BatchItemFailures {
        /// The range.
        range: String,
        /// The first sequence number it reported.
        sequence: String,
    },
    /// The function could not be invoked at all.
    #[error("cannot invoke {function}: {message}")]
    Invoke {
        /// The function.
        function: String,
        /// Why.
        message: String,
    },
    /// The sink refused the records (a file that cannot be written, ...).
    #[error("{0}")]
    Sink(String),
    /// An option of the pass is out of its range.
    #[error("{0}")]
    Invalid(String),
}

impl Error {
    /// An [`Error::Aws`] from a failed call, with what was being done.
    pub fn aws(context: impl Into<String>, err: &crate::aws::CallError) -> Self {
        Self::Aws {
            context: context.into(),
            message: err.message.clone(),
        }
    }
}

/// A redrive result.
pub type Result<T, E = Error> = std::result::Result<T, E>;
