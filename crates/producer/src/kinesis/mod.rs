//! The Kinesis calls the producer makes, behind a trait: `DescribeStreamSummary` and
//! `ListShards` when it starts and refreshes its shard map, `PutRecords` for every request.
//!
//! Why a trait: the producer serves two kinds of callers. The CLI and redrive have an
//! `aws_sdk_kinesis::Client` (profiles, SSO, the whole credential chain), implemented in
//! `sdk.rs` (feature `sdk`); the scheduled-producer Lambda makes no other AWS call, and the
//! SDK's generated client, runtime and credential chain were most of its zip, so it signs the
//! three operations itself with `kstream_pipeline::aws::AwsClient`, implemented in `signed.rs`
//! (feature `signed`). The requests and answers here are the producer's own types, holding
//! only the fields it sends and reads; errors keep AWS's error code, which completion's retry
//! and throttling decisions go by.
//!
//! Retries: the producer retries the failed entries of a PutRecords answer itself, per entry,
//! until the record's time to live; an implementation makes one attempt per `put_records` (a
//! client-level retry would send the whole request again, entries already accepted included).
//! `describe_stream_summary` and `list_shards` are tried as the client is configured (the
//! SDK's standard mode: three attempts).

#[cfg(feature = "sdk")]
mod sdk;
#[cfg(feature = "signed")]
mod signed;

use bytes::Bytes;
use futures::future::BoxFuture;

pub use crate::error::KinesisError;
#[cfg(feature = "sdk")]
pub use sdk::{client_from_env, sdk_config, sdk_error_message};

/// The Kinesis operations of the producer. Implemented for `aws_sdk_kinesis::Client` (feature
/// `sdk`) and `kstream_pipeline::aws::AwsClient` (feature `signed`); a test can implement it
/// to answer without a network.
///
/// The methods return boxed futures so the producer can hold any client as
/// `Arc<dyn Kinesis>` and run its requests on spawned tasks.
pub trait Kinesis: Send + Sync + 'static {
    /// `DescribeStreamSummary` of `stream` (by name).
    ///
    /// # Errors
    /// [`KinesisError`] with AWS's code (`ResourceNotFoundException`…).
    fn describe_stream_summary<'a>(
        &'a self,
        stream: &'a str,
    ) -> BoxFuture<'a, Result<StreamSummary, KinesisError>>;

    /// One page of `ListShards`: the first one of `stream`, or the one after a `NextToken`.
    ///
    /// # Errors
    /// [`KinesisError`] with AWS's code.
    fn list_shards<'a>(
        &'a self,
        page: ShardPage<'a>,
    ) -> BoxFuture<'a, Result<ShardList, KinesisError>>;

    /// `PutRecords` of `entries` into `stream` (by name), one attempt: the answer has one
    /// result per entry, in order.
    ///
    /// # Errors
    /// [`KinesisError`] when the request as a whole failed (no per-entry results).
    fn put_records<'a>(
        &'a self,
        stream: &'a str,
        entries: Vec<PutRecordsEntry>,
    ) -> BoxFuture<'a, Result<Vec<PutRecordsResult>, KinesisError>>;
}

/// What the producer reads of `DescribeStreamSummary`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StreamSummary {
    /// `MaxRecordSizeInKiB`, when the service reports it.
    pub max_record_size_in_kib: Option<i64>,
    /// `RecordDistributionStrategy` is `AUTO`: the stream places records itself.
    pub auto_distribution: bool,
}

/// Which page of `ListShards` to read. `ListShards` rejects `StreamName` together with
/// `NextToken`, so a request names one or the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShardPage<'a> {
    /// The first page of the stream (by name).
    First(&'a str),
    /// The page after this `NextToken`.
    After(&'a str),
}

/// One page of `ListShards`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShardList {
    /// The shards of the page.
    pub shards: Vec<Shard>,
    /// `NextToken`: more shards follow.
    pub next_token: Option<String>,
}

/// A shard as `ListShards` lists it (the fields the producer reads).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shard {
    /// `ShardId`.
    pub shard_id: String,
    /// `HashKeyRange`: starting and ending hash keys, decimal.
    pub hash_key_range: Option<(String, String)>,
    /// No `EndingSequenceNumber`: the shard takes records.
    pub open: bool,
}

/// One entry of a `PutRecords` request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PutRecordsEntry {
    /// `Data`: the record's bytes (an aggregate, or one user record).
    pub data: Bytes,
    /// `PartitionKey`.
    pub partition_key: String,
    /// `ExplicitHashKey` (decimal), when the record has one.
    pub explicit_hash_key: Option<String>,
}

/// The result of one entry of a `PutRecords` answer: a sequence number and shard, or an error.
/// (With `signed`, also the entry's JSON in the answer.)
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(
    feature = "signed",
    derive(serde::Deserialize),
    serde(rename_all = "PascalCase")
)]
pub struct PutRecordsResult {
    /// `SequenceNumber`, when the entry was put.
    pub sequence_number: Option<String>,
    /// `ShardId`, when the entry was put.
    pub shard_id: Option<String>,
    /// `ErrorCode` (`ProvisionedThroughputExceededException`, `InternalFailure`…), when it was
    /// not.
    pub error_code: Option<String>,
    /// `ErrorMessage`, when it was not.
    pub error_message: Option<String>,
}
