//! The pass's AWS calls on kstream-pipeline's SigV4-signing [`AwsClient`] (feature `signed`:
//! the redrive Lambda), without the AWS SDK. SQS speaks awsJson1_0, Kinesis awsJson1_1 (the
//! JSON the SDK sends: `Data` base64, `ApproximateArrivalTimestamp` epoch seconds), S3 is
//! AwsClient's PutObject, Lambda restJson1 (`GetFunctionConfiguration`, `Invoke`).

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use kstream_pipeline::aws::{
    AwsClient, AwsError, JsonProtocol, KINESIS, LAMBDA, SQS, Service, encode_segment,
};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    CallError, CallResult, Functions, Invoked, IteratorStart, Objects, PutAnswer, PutEntry, Queue,
    QueueMessage, ReadRecord, Receive, RecordsPage, Stream,
};

/// The attempt timeout of a Lambda client for [`Functions::invoke`]: a synchronous invocation
/// lasts as long as the function (at most Lambda's 15-minute timeout), so an attempt is given
/// that and a minute more rather than AwsClient's default.
pub const INVOKE_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(16 * 60);

/// A [`CallError`] from an AwsClient error: its code, and `Code: message` with the call's
/// details.
fn call_error(err: &AwsError) -> CallError {
    CallError {
        code: err.code().map(str::to_owned),
        message: err.to_string(),
    }
}

/// An answer that is not the operation's JSON.
fn bad_answer(operation: &str, e: &serde_json::Error) -> CallError {
    CallError {
        code: None,
        message: format!("{operation}: the answer is not the operation's JSON: {e}"),
    }
}

/// Calls `target` of `service` with `input` and reads the answer as `T`.
async fn call<T: for<'de> Deserialize<'de>>(
    client: &AwsClient,
    service: Service,
    protocol: JsonProtocol,
    operation: &'static str,
    target: &str,
    input: &Value,
) -> CallResult<T> {
    let body = client
        .call_json(service, protocol, operation, target, input)
        .await
        .map_err(|e| call_error(&e))?;
    // An empty answer (SQS DeleteMessage) reads as `{}`.
    let body: &[u8] = if body.is_empty() { b"{}" } else { &body };
    serde_json::from_slice(body).map_err(|e| bad_answer(operation, &e))
}

/// An answer whose content is not read.
#[derive(Deserialize)]
struct Ignored {}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ReceiveOutput {
    #[serde(default)]
    messages: Vec<Message>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Message {
    message_id: Option<String>,
    receipt_handle: Option<String>,
    body: Option<String>,
}

impl Queue for AwsClient {
    async fn receive(&self, queue: &str, receive: Receive) -> CallResult<Vec<QueueMessage>> {
        let input = json!({
            "QueueUrl": queue,
            "MaxNumberOfMessages": receive.max_messages,
            "VisibilityTimeout": receive.visibility_timeout,
            "WaitTimeSeconds": receive.wait_seconds,
        });
        let out: ReceiveOutput = call(
            self,
            SQS,
            JsonProtocol::V1_0,
            "SQS ReceiveMessage",
            "AmazonSQS.ReceiveMessage",
            &input,
        )
        .await?;
        Ok(out
            .messages
            .into_iter()
            .map(|m| QueueMessage {
                id: m.message_id,
                receipt: m.receipt_handle,
                body: m.body,
            })
            .collect())
    }

    async fn delete(&self, queue: &str, receipt: &str) -> CallResult<()> {
        let input = json!({"QueueUrl": queue, "ReceiptHandle": receipt});
        call::<Ignored>(
            self,
            SQS,
            JsonProtocol::V1_0,
            "SQS DeleteMessage",
            "AmazonSQS.DeleteMessage",
            &input,
        )
        .await
        .map(drop)
    }

    async fn change_visibility(&self, queue: &str, receipt: &str, seconds: i32) -> CallResult<()> {
        let input = json!({
            "QueueUrl": queue,
            "ReceiptHandle": receipt,
            "VisibilityTimeout": seconds,
        });
        call::<Ignored>(
            self,
            SQS,
            JsonProtocol::V1_0,
            "SQS ChangeMessageVisibility",
            "AmazonSQS.ChangeMessageVisibility",
            &input,
        )
        .await
        .map(drop)
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ShardIteratorOutput {
    shard_iterator: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GetRecordsOutput {
    #[serde(default)]
    records: Vec<Record>,
    next_shard_iterator: Option<String>,
    millis_behind_latest: Option<i64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Record {
    sequence_number: String,
    #[serde(default)]
    partition_key: String,
    data: String,
    /// Epoch seconds, with a fraction.
    approximate_arrival_timestamp: Option<f64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PutRecordsOutput {
    failed_record_count: Option<i32>,
    #[serde(default)]
    records: Vec<PutRecordsResult>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PutRecordsResult {
    error_code: Option<String>,
    error_message: Option<String>,
}

impl Stream for AwsClient {
    async fn shard_iterator(
        &self,
        stream: &str,
        shard: &str,
        start: IteratorStart<'_>,
    ) -> CallResult<Option<String>> {
        let (kind, sequence) = match start {
            IteratorStart::At(s) => ("AT_SEQUENCE_NUMBER", s),
            IteratorStart::After(s) => ("AFTER_SEQUENCE_NUMBER", s),
        };
        let input = json!({
            "StreamName": stream,
            "ShardId": shard,
            "ShardIteratorType": kind,
            "StartingSequenceNumber": sequence,
        });
        let out: ShardIteratorOutput = call(
            self,
            KINESIS,
            JsonProtocol::V1_1,
            "Kinesis GetShardIterator",
            "Kinesis_20131202.GetShardIterator",
            &input,
        )
        .await?;
        Ok(out.shard_iterator)
    }

    async fn get_records(&self, iterator: &str, limit: i32) -> CallResult<RecordsPage> {
        let input = json!({"ShardIterator": iterator, "Limit": limit});
        let out: GetRecordsOutput = call(
            self,
            KINESIS,
            JsonProtocol::V1_1,
            "Kinesis GetRecords",
            "Kinesis_20131202.GetRecords",
            &input,
        )
        .await?;
        let records = out
            .records
            .into_iter()
            .map(|r| {
                let data = STANDARD.decode(&r.data).map_err(|e| CallError {
                    code: None,
                    message: format!(
                        "Kinesis GetRecords: the data of {} is not base64: {e}",
                        r.sequence_number
                    ),
                })?;
                Ok(ReadRecord {
                    sequence_number: r.sequence_number,
                    partition_key: r.partition_key,
                    data: Bytes::from(data),
                    #[allow(clippy::cast_possible_truncation)]
                    arrival_millis: r
                        .approximate_arrival_timestamp
                        .map(|s| (s * 1000.0).round() as i64),
                })
            })
            .collect::<CallResult<Vec<_>>>()?;
        Ok(RecordsPage {
            records,
            next_shard_iterator: out.next_shard_iterator,
            millis_behind_latest: out.millis_behind_latest,
        })
    }

    async fn put_records(&self, stream: &str, entries: &[PutEntry]) -> CallResult<PutAnswer> {
        let records: Vec<Value> = entries
            .iter()
            .map(|e| {
                let mut entry = json!({
                    "Data": STANDARD.encode(&e.data),
                    "PartitionKey": e.partition_key,
                });
                if let Some(hash) = &e.explicit_hash_key {
                    entry["ExplicitHashKey"] = json!(hash);
                }
                entry
            })
            .collect();
        let input = json!({"StreamName": stream, "Records": records});
        let out: PutRecordsOutput = call(
            self,
            KINESIS,
            JsonProtocol::V1_1,
            "Kinesis PutRecords",
            "Kinesis_20131202.PutRecords",
            &input,
        )
        .await?;
        Ok(PutAnswer {
            failed: out.failed_record_count.unwrap_or(0),
            results: out
                .records
                .into_iter()
                .map(|r| {
                    r.error_code
                        .map(|code| (code, r.error_message.unwrap_or_default()))
                })
                .collect(),
        })
    }
}

impl Objects for AwsClient {
    async fn put_object(
        &self,
        bucket: &str,
        key: &str,
        content_type: &str,
        body: Bytes,
    ) -> CallResult<()> {
        AwsClient::put_object(self, bucket, key, content_type, body)
            .await
            .map_err(|e| call_error(&e))
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct FunctionConfiguration {
    role: Option<String>,
}

impl Functions for AwsClient {
    fn region(&self) -> String {
        AwsClient::region(self).to_owned()
    }

    async fn role(&self, function: &str) -> CallResult<Option<String>> {
        let answer = self
            .call_rest(
                LAMBDA,
                "Lambda GetFunctionConfiguration",
                http::Method::GET,
                &format!(
                    "/2015-03-31/functions/{}/configuration",
                    encode_segment(function)
                ),
                Vec::new(),
                Bytes::new(),
            )
            .await
            .map_err(|e| call_error(&e))?;
        let config: FunctionConfiguration = serde_json::from_slice(&answer.body)
            .map_err(|e| bad_answer("Lambda GetFunctionConfiguration", &e))?;
        Ok(config.role)
    }

    async fn invoke(&self, function: &str, payload: Vec<u8>) -> CallResult<Invoked> {
        let answer = self
            .call_rest(
                LAMBDA,
                "Lambda Invoke",
                http::Method::POST,
                &format!(
                    "/2015-03-31/functions/{}/invocations",
                    encode_segment(function)
                ),
                vec![
                    ("content-type", "application/json".to_owned()),
                    ("x-amz-invocation-type", "RequestResponse".to_owned()),
                ],
                Bytes::from(payload),
            )
            .await
            .map_err(|e| call_error(&e))?;
        Ok(Invoked {
            function_error: answer.header("x-amz-function-error").map(str::to_owned),
            payload: answer.body,
        })
    }
}

#[cfg(test)]
mod tests;
