//! Errors of the API Gateway executor.

/// An error while loading the deployed APIs or serving them.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApigwError {
    /// A call to the API Gateway control plane (the emulator) failed.
    #[error("{operation} failed: {message}")]
    Aws {
        /// The API operation, e.g. `APIGateway.GetRestApis`.
        operation: &'static str,
        /// The service's error, with its code.
        message: String,
    },
    /// The SDK configuration cannot serve `AWS` integrations locally.
    #[error("reading API Gateway configuration ({operation}) failed: {message}")]
    Load {
        /// What was being read, such as `endpoint`.
        operation: &'static str,
        /// What is wrong.
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

impl ApigwError {
    /// An [`ApigwError::Aws`] from any SDK error, keeping the service's code and message.
    pub(crate) fn aws<E>(operation: &'static str, err: E) -> Self
    where
        E: std::error::Error + 'static,
    {
        // DisplayErrorContext walks the source chain, which holds the service message.
        let message = aws_sdk_apigateway::error::DisplayErrorContext(&err).to_string();
        ApigwError::Aws { operation, message }
    }
}

/// Convenience alias.
pub type Result<T, E = ApigwError> = std::result::Result<T, E>;
