//! The error type of the local scheduler.

/// A schedule expression kstream local cannot evaluate (AWS would refuse it too).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("schedule expression {expression:?}: {reason}")]
pub struct ExpressionError {
    /// The expression as deployed.
    pub expression: String,
    /// What is wrong with it.
    pub reason: String,
}

/// Everything that can go wrong in the local scheduler outside a function's own code.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[non_exhaustive]
pub enum Error {
    /// An AWS API call failed (the Scheduler API, SQS for dead letters).
    #[diagnostic(code(kstream_local::aws))]
    #[error("{operation} failed: {message}")]
    Aws {
        /// The API operation, e.g. `Scheduler.ListSchedules`.
        operation: &'static str,
        /// The service's error, with its code.
        message: String,
    },
    /// A schedule's expression cannot be evaluated.
    #[diagnostic(code(kstream_local::schedule_expression))]
    #[error(transparent)]
    Expression(#[from] ExpressionError),
    /// A schedule's `ScheduleExpressionTimezone` is not an IANA time zone.
    #[diagnostic(code(kstream_local::schedule_timezone))]
    #[error("ScheduleExpressionTimezone {0:?} is not an IANA time zone name")]
    Timezone(String),
    /// A schedule's target is not a Lambda function (the only target kstream local fires).
    #[diagnostic(code(kstream_local::schedule_target))]
    #[error("the target {0} is not a Lambda function; kstream local fires Lambda targets only")]
    Target(String),
    /// A schedule lacks a field Scheduler always returns.
    #[diagnostic(code(kstream_local::schedule_incomplete))]
    #[error("GetSchedule returned no {0}")]
    Incomplete(&'static str),
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
