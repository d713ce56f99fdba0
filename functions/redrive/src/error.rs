//! Why an invocation failed. The error type is the `errorType` Step Functions sees (and its
//! state machine retries or catches on).

use lambda_runtime::Diagnostic;

/// An invocation's error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InvokeError {
    /// The event is not a pass this function runs (nothing was read or deleted).
    #[error("the event: {0}")]
    Input(String),
    /// The pass failed as a whole: the queue could not be read, a handled range's message
    /// could not be deleted, the function to invoke cannot be read.
    #[error("the redrive pass failed: {0}")]
    Pass(#[from] kstream_redrive::Error),
}

impl InvokeError {
    /// The stable `errorType` of the error: `InvalidInput` (retrying cannot help) or
    /// `RedriveFailed` (retrying may).
    pub fn error_type(&self) -> &'static str {
        match self {
            InvokeError::Input(_) => "InvalidInput",
            InvokeError::Pass(_) => "RedriveFailed",
        }
    }
}

impl From<InvokeError> for Diagnostic {
    fn from(error: InvokeError) -> Self {
        Diagnostic {
            error_type: error.error_type().to_owned(),
            error_message: error.to_string(),
        }
    }
}
