//! kstream local: the AWS data plane on one machine (work in progress).
//!
//! # Layout
//! - [`runtime`]: the Lambda Runtime API host that runs function binaries.
//! - [`mapping`]: Kinesis → Lambda event source mappings.
//! - [`apigw`]: the API Gateway REST executor.

pub mod apigw;
pub mod mapping;
pub mod runtime;
