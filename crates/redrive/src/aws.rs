//! The AWS calls a redrive pass makes, behind traits with the crate's own request and answer
//! types: SQS ([`Queue`]: receive, delete, make visible again), Kinesis ([`Stream`]: read a
//! range back, put records again), S3 ([`Objects`]: write a range's object) and Lambda
//! ([`Functions`]: a function's role, synchronous invocation).
//!
//! Why traits: the CLI (`kstream redrive`) has the SDK's clients (profiles, SSO, the whole
//! credential chain), implemented in `sdk.rs` (feature `sdk`); the redrive Lambda makes no other
//! AWS call and the SDK was most of its zip, so it signs these operations itself with
//! `kstream_pipeline::aws::AwsClient`, implemented in `signed.rs` (feature `signed`). Errors
//! keep AWS's error code, which reading a range goes by (trimmed, expired, throttled).
//!
//! Retries: each call is tried as its client is configured (three attempts by default, the
//! SDK's standard mode and AwsClient's alike); the pass's own retries (throttled GetRecords,
//! failed PutRecords entries) come on top, as before.

#[cfg(feature = "sdk")]
mod sdk;
#[cfg(feature = "signed")]
mod signed;

#[cfg(feature = "signed")]
pub use signed::INVOKE_ATTEMPT_TIMEOUT;

use std::future::Future;

use bytes::Bytes;

/// A failed AWS call: AWS's error code when it answered, and a description for people
/// (`Code: message`, or the error with its causes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallError {
    /// The service's error code (`TrimmedDataAccessException`…); `None` when no service
    /// answered (connection, timeout).
    pub code: Option<String>,
    /// `Code: message`, or why no answer came.
    pub message: String,
}

impl CallError {
    /// The error code, `""` when there is none.
    pub fn code(&self) -> &str {
        self.code.as_deref().unwrap_or_default()
    }
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// A call's result.
pub type CallResult<T> = std::result::Result<T, CallError>;

/// A message received from the queue (the fields the pass reads).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueMessage {
    /// `MessageId`.
    pub id: Option<String>,
    /// `ReceiptHandle`.
    pub receipt: Option<String>,
    /// `Body`.
    pub body: Option<String>,
}

/// What a `ReceiveMessage` asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Receive {
    /// `MaxNumberOfMessages`.
    pub max_messages: i32,
    /// `VisibilityTimeout`, seconds.
    pub visibility_timeout: i32,
    /// `WaitTimeSeconds`.
    pub wait_seconds: i32,
}

/// The SQS operations of a pass.
pub trait Queue: Send + Sync {
    /// `ReceiveMessage` from `queue` (its URL).
    fn receive(
        &self,
        queue: &str,
        receive: Receive,
    ) -> impl Future<Output = CallResult<Vec<QueueMessage>>> + Send;
    /// `DeleteMessage`.
    fn delete(&self, queue: &str, receipt: &str) -> impl Future<Output = CallResult<()>> + Send;
    /// `ChangeMessageVisibility` to `seconds`.
    fn change_visibility(
        &self,
        queue: &str,
        receipt: &str,
        seconds: i32,
    ) -> impl Future<Output = CallResult<()>> + Send;
}

/// Where a shard iterator starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IteratorStart<'a> {
    /// `AT_SEQUENCE_NUMBER`.
    At(&'a str),
    /// `AFTER_SEQUENCE_NUMBER`.
    After(&'a str),
}

/// A record as `GetRecords` gives it (the fields read).
#[derive(Debug, Clone, PartialEq)]
pub struct ReadRecord {
    /// `SequenceNumber`.
    pub sequence_number: String,
    /// `PartitionKey`.
    pub partition_key: String,
    /// `Data`, decoded.
    pub data: Bytes,
    /// `ApproximateArrivalTimestamp`, milliseconds since the epoch.
    pub arrival_millis: Option<i64>,
}

/// One `GetRecords` answer.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RecordsPage {
    /// The records, in shard order.
    pub records: Vec<ReadRecord>,
    /// `NextShardIterator` (`None`: the shard is closed and read to its end).
    pub next_shard_iterator: Option<String>,
    /// `MillisBehindLatest`.
    pub millis_behind_latest: Option<i64>,
}

/// An entry of `PutRecords`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PutEntry {
    /// `Data`.
    pub data: Bytes,
    /// `PartitionKey`.
    pub partition_key: String,
    /// `ExplicitHashKey`.
    pub explicit_hash_key: Option<String>,
}

/// A `PutRecords` answer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PutAnswer {
    /// `FailedRecordCount` (0 when absent).
    pub failed: i32,
    /// Per entry, in order: `None` when put, else its `ErrorCode` and `ErrorMessage`.
    pub results: Vec<Option<(String, String)>>,
}

/// The Kinesis operations of a pass.
pub trait Stream: Send + Sync {
    /// `GetShardIterator` of `shard` of `stream` (by name); `None` when none is returned.
    fn shard_iterator(
        &self,
        stream: &str,
        shard: &str,
        start: IteratorStart<'_>,
    ) -> impl Future<Output = CallResult<Option<String>>> + Send;
    /// `GetRecords` of at most `limit` records.
    fn get_records(
        &self,
        iterator: &str,
        limit: i32,
    ) -> impl Future<Output = CallResult<RecordsPage>> + Send;
    /// `PutRecords` of `entries` into `stream` (by name).
    fn put_records(
        &self,
        stream: &str,
        entries: &[PutEntry],
    ) -> impl Future<Output = CallResult<PutAnswer>> + Send;
}

/// The S3 operation of a pass.
pub trait Objects: Send + Sync {
    /// `PutObject` of `body` at `key` in `bucket`.
    fn put_object(
        &self,
        bucket: &str,
        key: &str,
        content_type: &str,
        body: Bytes,
    ) -> impl Future<Output = CallResult<()>> + Send;
}

/// A synchronous invocation's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invoked {
    /// `X-Amz-Function-Error` (`Unhandled`…) when the function failed.
    pub function_error: Option<String>,
    /// The function's answer (or error document).
    pub payload: Bytes,
}

/// The Lambda operations of a pass.
pub trait Functions: Send + Sync {
    /// The region the client calls.
    fn region(&self) -> String;
    /// The execution role of `function` (`GetFunctionConfiguration`'s `Role`).
    fn role(&self, function: &str) -> impl Future<Output = CallResult<Option<String>>> + Send;
    /// `Invoke` of `function` with `payload`, `RequestResponse`.
    fn invoke(
        &self,
        function: &str,
        payload: Vec<u8>,
    ) -> impl Future<Output = CallResult<Invoked>> + Send;
}
