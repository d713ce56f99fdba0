//! kstream local: the AWS data plane on one machine (work in progress).
//!
//! # Layout
//! - [`runtime`]: the Lambda Runtime API host that runs function binaries.
//! - [`mapping`]: Kinesis → Lambda event source mappings.
//! - [`apigw`]: the API Gateway REST executor.
//! - [`firehose`]: Firehose delivery from a Kinesis source to S3.

pub mod apigw;
pub mod firehose;
pub mod mapping;
pub mod runtime;
