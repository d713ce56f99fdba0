//! One attempt to put a user record: what the record's result ([`PutOutcome`](crate::PutOutcome)
//! or [`RecordFailure`](crate::RecordFailure)) lists, oldest first.

use std::time::Duration;

/// One attempt to put a user record (inside a Kinesis record, inside a PutRecords request).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// Time from the record's arrival (first attempt) or the previous attempt's end to this
    /// attempt's request.
    pub delay: Duration,
    /// Duration of the PutRecords request.
    pub duration: Duration,
    /// The error code (`None` on success), e.g. `ProvisionedThroughputExceededException`, or
    /// `Timeout`, `ServiceError`, `Http500` for failures of the whole request.
    pub error_code: Option<String>,
    /// The error message (`None` on success).
    pub error_message: Option<String>,
}

impl Attempt {
    /// Whether this attempt succeeded.
    pub fn is_success(&self) -> bool {
        self.error_code.is_none()
    }
}
