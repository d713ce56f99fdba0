//! How the executor runs Lambda functions: the [`LambdaInvoker`] boundary, implemented for the
//! local Runtime API host ([`FunctionHost`]).

use bytes::Bytes;
use futures::future::BoxFuture;

use kstream_local_lambda::runtime::{FunctionHost, InvokeResult};

/// Runs a function synchronously (`RequestResponse`).
///
/// `function` is what the integration names: a function ARN (possibly qualified) or a name.
/// `Ok` carries the function's response or its error ([`InvokeResult::Error`], as Lambda's
/// `X-Amz-Function-Error`); `Err` means the function could not be run at all (unknown function,
/// host shutting down) and becomes a 500 for the client.
pub trait LambdaInvoker: Send + Sync + 'static {
    /// Invokes `function` with `payload`.
    fn invoke<'a>(
        &'a self,
        function: &'a str,
        payload: Bytes,
    ) -> BoxFuture<'a, Result<InvokeResult, String>>;
}

impl LambdaInvoker for FunctionHost {
    fn invoke<'a>(
        &'a self,
        function: &'a str,
        payload: Bytes,
    ) -> BoxFuture<'a, Result<InvokeResult, String>> {
        Box::pin(async move {
            FunctionHost::invoke(self, function, payload)
                .await
                .map(|outcome| outcome.result)
                .map_err(|e| e.to_string())
        })
    }
}

/// An invoker for deployments without Lambda integrations: every call fails with a clear
/// message (the client gets 500).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoLambda;

impl LambdaInvoker for NoLambda {
    fn invoke<'a>(
        &'a self,
        function: &'a str,
        _payload: Bytes,
    ) -> BoxFuture<'a, Result<InvokeResult, String>> {
        Box::pin(async move { Err(format!("no Lambda host is configured to run {function}")) })
    }
}

/// The function ARN inside a Lambda integration URI
/// (`arn:aws:apigateway:<region>:lambda:path/2015-03-31/functions/<function-arn>/invocations`);
/// other URIs are returned unchanged.
pub fn function_of_uri(uri: &str) -> &str {
    uri.split_once(":lambda:path/2015-03-31/functions/")
        .and_then(|(_, rest)| rest.strip_suffix("/invocations"))
        .unwrap_or(uri)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_arn_from_integration_uri() {
        assert_eq!(
            function_of_uri(
                "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:fare/invocations"
            ),
            "arn:aws:lambda:us-east-1:123456789012:function:fare"
        );
        assert_eq!(function_of_uri("fare"), "fare");
    }
}
