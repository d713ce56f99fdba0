//! Errors of the API Gateway executor.

/// An error while loading the deployed APIs or serving them.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApigwError {
    /// A call to the API Gateway control plane (the emulator) failed.
    #[error("reading API Gateway configuration ({operation}) failed: {message}")]
    Load {
        /// The control-plane operation, such as `GetRestApis`.
        operation: &'static str,
        /// What the SDK reported.
        message: String,
    },
    /// A mapping template could not be parsed.
    #[error("mapping template error at line {line}, column {column}: {message}")]
    Template {
        /// Line of the template (1-based).
        line: usize,
        /// Column of the template (1-based).
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// A mapping template failed while it was being evaluated.
    #[error("mapping template evaluation failed: {0}")]
    Eval(String),
    /// A JSONPath expression is not in the supported subset.
    #[error("invalid JSONPath expression {path:?}: {message}")]
    JsonPath {
        /// The expression.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// Binding or serving the local HTTP listener failed.
    #[error("serving the API Gateway executor failed: {0}")]
    Serve(#[from] std::io::Error),
}

/// Convenience alias.
pub type Result<T, E = ApigwError> = std::result::Result<T, E>;
