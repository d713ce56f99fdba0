//! Why a record failed. Each failure is a `ProcessingFailed` answer; none fails the
//! invocation. (A configuration that cannot work stops the cold start with
//! [`ConfigError`], from `kstream-transform`.)

pub use kstream_transform::ConfigError;
use kstream_transform::TransformError;

/// Why a record failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    /// `data` is not base64 (Firehose always sends base64; kept for safety).
    #[error("record data is not valid base64: {0}")]
    Base64(String),
    /// The transform failed.
    #[error(transparent)]
    Transform(TransformError),
}

impl RecordError {
    /// A stable name (logged as `error_kind`, written as `errorCode`).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Base64(_) => "InvalidBase64",
            Self::Transform(e) => e.kind(),
        }
    }
}
