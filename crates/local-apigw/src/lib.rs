//! The API Gateway REST executor: serves the REST APIs deployed on the emulator locally, as
//! API Gateway would run them.
//!
//! # Overview
//! 1. [`load()`](deployed::load) reads the deployed configuration through the control plane
//!    (`aws-sdk-apigateway`, honouring `AWS_ENDPOINT_URL`): REST APIs, resources, methods,
//!    integrations and integration responses, models, request validators, authorizers, stages
//!    (with method throttling settings), API keys (with values) and usage plans (with keys). It
//!    reads as every service crate does: see `kstream_local_lambda`'s crate docs, "How a service
//!    crate reads what Terraform deployed" ([`kstream_local_lambda`]).
//! 2. An [`Executor`] compiles it (routes, JSON Schema draft-04 models, VTL mapping templates,
//!    selection patterns) and runs requests through API Gateway's pipeline: route → authorizer
//!    → API key and usage plan → throttling → request validation → integration → integration
//!    response.
//! 3. [`router()`](server::router) / [`serve()`](server::serve) put it behind axum.
//!
//! # Address scheme
//! Both forms reach the same executor (one listener serves every API):
//! - `http://127.0.0.1:<port>/restapis/<api-id>/<stage>/_user_request_/<path>` (LocalStack's
//!   form; works with any HTTP client and no DNS set-up);
//! - `http://<api-id>.execute-api.localhost:<port>/<stage>/<path>`, chosen by the `Host` header
//!   (any host `<api-id>.execute-api.*` works; `*.localhost` resolves to loopback on most
//!   systems, or pass `-H 'Host: …'` / `curl --resolve`).
//!
//! # Integrations
//! - `AWS` service integrations with `action/<Action>` URIs on JSON-protocol services (Kinesis,
//!   Firehose, DynamoDB, SQS, Step Functions, EventBridge, CloudWatch Logs): `POST /` to the
//!   endpoint with `X-Amz-Target`, SigV4-signed (see [`backend`]).
//! - `AWS` Lambda custom integrations (`…:lambda:path/2015-03-31/functions/<arn>/invocations`)
//!   and `AWS_PROXY` Lambda proxy integrations, through a [`LambdaInvoker`] (implemented for the
//!   local Runtime API host, [`kstream_local_lambda::runtime::FunctionHost`]).
//!   The proxy event and the reading of the function's answer follow what AWS recorded
//!   (`conformance/apigw/execution-lambda-proxy-*.json`): path parameters as sent (not
//!   percent-decoded), no `Content-Length` in the event, a `statusCode` that may be a numeric
//!   string and defaults to 200, any key beyond the five of the format is malformed (502),
//!   `headers` merged into `multiValueHeaders`, and a base64 body decoded only for a client
//!   whose `Accept` names one of the API's binary media types. Its integration method must be
//!   `POST` (else 500).
//! - `MOCK`.
//! - `HTTP` (mapped) and `HTTP_PROXY` integrations to `http://` backends: `{name}` placeholders
//!   in the URI from `integration.request.path.*` mappings or the method's path parameters,
//!   `integration.request.querystring.*` and `…header.*` mappings; proxies pass headers, query
//!   string and body through and return the backend's answer as it is.
//! - `https://` backends and `path/` service URIs are not emulated: such methods answer 500 and
//!   the log says why.
//!
//! Authorizers: `AWS_IAM`, `COGNITO_USER_POOLS` (see the local limits below) and Lambda
//! (`CUSTOM`, `TOKEN` and `REQUEST`) authorizers, run through the [`LambdaInvoker`] with API
//! Gateway's event; their policy is evaluated against the method ARN and their `context` is
//! `$context.authorizer.*` (results are not cached).
//!
//! Integration responses are chosen as API Gateway does: the selection pattern (a regular
//! expression matched against the *whole* string) is matched against the integration's HTTP
//! status code for AWS service integrations, and against the Lambda `errorMessage` for Lambda
//! custom integrations (successful Lambda calls take the default); the response without a
//! pattern is the default. Response templates see the integration response as `$input`, may
//! `#set($context.responseOverride.status = …)` and `…responseOverride.header.X`, and response
//! parameters map `'static'`, `integration.response.header.X` and
//! `integration.response.body[.jsonpath]` to `method.response.header.Y`.
//!
//! Mapping templates are Velocity (VTL): see [`vtl`] for what is supported. No maintained Rust
//! crate implements Velocity, so the engine is written here.
//!
//! # Status codes and messages
//! Gateway-generated responses carry `{"message": …}`, `x-amzn-ErrorType` and, like every
//! response, `x-amzn-RequestId` (the `$context.requestId` UUID).
//!
//! | Situation | Status | `message` |
//! |---|---|---|
//! | No resource matches the path, or the resource has no such method (nor `ANY`) | 403 | `Missing Authentication Token` |
//! | Unknown stage | 403 | `Forbidden` |
//! | Unknown API id (no DNS name in AWS; locally) | 404 | `Not Found` |
//! | `AWS_IAM` method without `Authorization` | 403 | `Missing Authentication Token` |
//! | `AWS_IAM` with a non-SigV4 header or no date header | 403 | `Authorization header requires 'Credential' parameter. … Authorization=…` |
//! | `AWS_IAM`, verified: another access key / a wrong signature / a date over 5 min off | 403 | `The security token included in the request is invalid.` / `The request signature we calculated does not match the signature you provided. …` / `Signature expired: …` |
//! | Cognito method without a token, or a malformed or foreign token | 401 | `Unauthorized` |
//! | Cognito token past its `exp` | 401 | `The incoming token has expired` |
//! | Lambda authorizer: identity source missing, or the function fails with `Unauthorized` | 401 | `Unauthorized` |
//! | Lambda authorizer: policy denies explicitly / allows nothing matching | 403 | `User is not authorized to access this resource with an explicit deny` / `User is not authorized to access this resource` |
//! | Lambda authorizer fails or answers a malformed policy | 500 | `null` (`AuthorizerConfigurationException`) |
//! | `apiKeyRequired` and the key is missing, unknown, disabled, or in no usage plan for the stage | 403 | `Forbidden` |
//! | Stage method throttle, usage plan throttle or method throttle exceeded | 429 | `Too Many Requests` |
//! | Usage plan quota exceeded | 429 | `Limit Exceeded` |
//! | Required request parameters missing (validator) | 400 | `Missing required request parameters: [a, b]` |
//! | Body not JSON, or not valid against the model (validator) | 400 | `Invalid request body` |
//! | No mapping template for the content type and passthrough `NEVER` (or `WHEN_NO_TEMPLATES` with templates) | 415 | `Unsupported Media Type` |
//! | Body over 10 MB | 413 | `Request Too Long` |
//! | Lambda proxy: the function failed, or its response is malformed | 502 | `Internal server error` |
//! | Integration timed out (`timeoutInMillis`, default 29 s) | 504 | `Endpoint request timed out` |
//! | Configuration errors: a template that does not parse or fails, no matching and no default integration response, unsupported integration, backend unreachable | 500 | `Internal server error` |
//!
//! API Gateway REST APIs never answer 405 for a wrong method: they answer 403 as above, and so
//! does this executor.
//!
//! # Local limits
//! - `AWS_IAM`: the SigV4 header's shape is checked; the signature itself is verified when the
//!   executor is given credentials ([`ExecutorBuilder::iam_credentials`]; `kstream local` gives
//!   it its own, which its functions sign with): requests signed with other credentials are
//!   refused (see [`signature`]). IAM policies are not evaluated.
//! - `COGNITO_USER_POOLS`: the JWT's shape, expiry and issuer (one of the authorizer's user
//!   pools) are checked, the signature is not verified (no JWKS offline).
//! - Throttles are token buckets per stage method, per API key and per key and method; the
//!   account-level limit is not applied. Caching, WAF, resource policies, custom domains,
//!   access logging, gateway responses (custom error bodies) and `contentHandling` conversions
//!   are not emulated; binary media types only affect Lambda proxy events (`isBase64Encoded`).
//!
//! # Example
//! ```no_run
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use kstream_local_apigw::{self as apigw, AwsBackend, Executor};
//! use kstream_local_lambda::runtime::FunctionHost;
//!
//! let sdk = aws_config::load_from_env().await;
//! let deployment = apigw::load(&sdk).await?;
//! let host = FunctionHost::builder().build();
//! let executor = Executor::builder(deployment)
//!     .backend(AwsBackend::from_sdk_config(&sdk).await?)
//!     .invoker(Arc::new(host))
//!     .build();
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:4567").await?;
//! apigw::serve(executor, listener, async { let _ = tokio::signal::ctrl_c().await; }).await?;
//! # Ok(())
//! # }
//! ```

mod auth;
mod authorizer;
pub mod backend;
pub mod deployed;
pub mod error;
pub mod executor;
pub mod invoke;
pub mod jsonpath;
pub mod model;
mod proxy;
pub mod routing;
pub mod server;
pub mod signature;
mod validate;
pub mod vtl;

#[doc(hidden)]
pub use auth::fuzz_check_cognito;
pub use backend::AwsBackend;
pub use deployed::load;
pub use error::ApigwError;
pub use executor::{
    Executor, ExecutorBuilder, ExecutorRequest, ExecutorResponse, ExecutorStats, RouteInfo,
};
pub use invoke::{LambdaInvoker, NoLambda};
pub use model::Deployment;
pub use server::{router, serve};
pub use signature::IamCredentials;

#[cfg(test)]
mod tests;
