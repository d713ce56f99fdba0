//! Errors of the transform crate: settings found wrong when the transform is built
//! ([`TemplateError`], [`ConfigError`]) and records it fails ([`TransformError`]).

use kstream_pipeline::{DecodeError, EnvError};

/// A template or transform setting that cannot work, found when the transform is built
/// (once per cold start), before any record is touched.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TemplateError {
    /// The template does not parse.
    #[error("{template}: malformed template: {message}")]
    Syntax {
        /// Which template (`TEMPLATE`, `FILTER`, `partition key ticker`).
        template: String,
        /// The parser's message, with the position.
        message: String,
    },
    /// The template calls a helper that does not exist.
    #[error("{template}: unknown helper `{helper}`; available helpers: {available}")]
    UnknownHelper {
        /// Which template.
        template: String,
        /// The helper's name.
        helper: String,
        /// The helpers that exist, comma-separated.
        available: String,
    },
    /// The template uses a Handlebars feature the transform does not support.
    #[error("{template}: {feature} are not supported in transform templates")]
    Unsupported {
        /// Which template.
        template: String,
        /// The feature (`partials`, `decorators`).
        feature: &'static str,
    },
    /// In a JSON template, a block opens or closes a JSON string, so the encoding of the
    /// expressions after it would depend on the data.
    #[error(
        "{template}: the block `{block}` {problem}; a block must start and end in the same \
         JSON context (both inside or both outside a string literal)"
    )]
    JsonContext {
        /// Which template.
        template: String,
        /// The block helper's name.
        block: String,
        /// What is wrong.
        problem: String,
    },
    /// A quoted key (`{{'a b'}}`) that cannot be expressed as a Handlebars path.
    #[error(
        "{template}: the quoted key {key:?} contains `]`, use `{{{{lookup this \"...\"}}}}` instead"
    )]
    QuotedKey {
        /// Which template.
        template: String,
        /// The key.
        key: String,
    },
    /// A JSON template that cannot render valid JSON whatever the record holds.
    #[error(
        "{template}: never renders valid JSON: {message} (checked with every bare value \
         as null and every in-string value as empty)"
    )]
    InvalidJson {
        /// Which template.
        template: String,
        /// serde_json's message on the template's skeleton.
        message: String,
    },
    /// A `format_date` format string with an invalid specifier.
    #[error("{template}: format_date format {format:?} is not a valid strftime format")]
    DateFormat {
        /// Which template.
        template: String,
        /// The format.
        format: String,
    },
}

/// A transform setting read from the environment that is invalid.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A template is invalid.
    #[error(transparent)]
    Template(#[from] TemplateError),
    /// A variable has a value that cannot be used.
    #[error(transparent)]
    Env(#[from] EnvError),
    /// Both `TEMPLATE` and `TEMPLATE_FILE` are set.
    #[error("set TEMPLATE or TEMPLATE_FILE, not both")]
    TwoTemplateSources,
    /// The template file cannot be read.
    #[error("cannot read TEMPLATE_FILE {path}")]
    TemplateFile {
        /// The path.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// `PARTITION_KEYS` is not a JSON object of strings.
    #[error(
        "PARTITION_KEYS must be a JSON object of key name to template, \
         e.g. {{\"ticker\":\"{{{{ticker}}}}\"}}: {message}"
    )]
    PartitionKeys {
        /// What is wrong.
        message: String,
    },
}

/// Why the transform failed one record (a `ProcessingFailed` result).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TransformError {
    /// The record is not UTF-8 JSON.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// Flattening would produce the same key twice.
    #[error("flattening produces the key {key:?} twice")]
    DuplicateKey {
        /// The key.
        key: String,
    },
    /// A template failed on this record (a missing field in strict mode, a helper error).
    #[error("{template}: {message}")]
    Render {
        /// Which template.
        template: String,
        /// Handlebars' message.
        message: String,
    },
    /// The output is meant to be JSON and is not.
    #[error("the rendered output is not valid JSON: {message} (line {line}, column {column})")]
    InvalidOutput {
        /// serde_json's description.
        message: String,
        /// 1-based line in the rendered output.
        line: usize,
        /// 1-based column in the rendered output.
        column: usize,
    },
    /// A partition key rendered empty (Firehose would fail the record anyway).
    #[error("partition key {name} is empty for this record")]
    EmptyPartitionKey {
        /// The key's name.
        name: String,
    },
    /// The record crossed a per-record budget ([`crate::budget`]): it fails alone.
    #[error("{what} exceeds the per-record limit of {limit} {unit}")]
    OverBudget {
        /// What crossed the budget (`flattening`, `the transformed record`, ...).
        what: &'static str,
        /// The limit.
        limit: usize,
        /// What the limit counts (`bytes`, `keys`, `iterations`).
        unit: &'static str,
    },
    /// A partition key value from the record that S3 or Firehose cannot take in a prefix.
    #[error("partition key {name} cannot be used in an S3 prefix: {reason}")]
    InvalidPartitionKey {
        /// The key's name.
        name: String,
        /// What is wrong with the value.
        reason: String,
    },
    /// The record did not fit in the function's 6 MB response.
    #[error(
        "the response would exceed the Lambda response limit of {limit} bytes; \
         lower the processor's BufferSizeInMBs"
    )]
    ResponseLimit {
        /// The limit in bytes.
        limit: usize,
    },
}

impl TransformError {
    /// A stable name for the failure (logged as `error_kind`, written as `errorCode`).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Decode(DecodeError::Json { .. }) => "InvalidJson",
            Self::Decode(DecodeError::Utf8 { .. }) => "InvalidUtf8",
            Self::Decode(DecodeError::Empty) => "EmptyRecord",
            Self::Decode(_) => "DecodeError",
            Self::DuplicateKey { .. } => "DuplicateKey",
            Self::Render { .. } => "RenderError",
            Self::InvalidOutput { .. } => "InvalidOutput",
            Self::EmptyPartitionKey { .. } => "EmptyPartitionKey",
            Self::OverBudget { .. } => "OverBudget",
            Self::InvalidPartitionKey { .. } => "InvalidPartitionKey",
            Self::ResponseLimit { .. } => "ResponseLimit",
        }
    }
}
