//! [`Kinesis`] on `kstream_pipeline::aws::AwsClient` (feature `signed`): the three operations
//! in Kinesis' JSON protocol (`awsJson1_1`, `X-Amz-Target: Kinesis_20131202.<Operation>`),
//! SigV4-signed with the credentials Lambda gives the function, without the AWS SDK (see
//! kstream-pipeline's `aws` module for what is kept of the SDK's behaviour).
//!
//! The requests are the ones the SDK sends for the producer: the stream by `StreamName`, to the
//! regional endpoint `kinesis.<region>.amazonaws.com` (or `AWS_ENDPOINT_URL_KINESIS`,
//! `AWS_ENDPOINT_URL`). (The SDK sends a request naming a `StreamARN` to an account-specific
//! host; the producer never names one.) Retries as the SDK client had them: `PutRecords` one
//! attempt (the producer retries entries), `DescribeStreamSummary` and `ListShards` the
//! client's attempts (three by default, the SDK's standard mode).

use base64::display::Base64Display;
use base64::engine::general_purpose::STANDARD;
use futures::future::BoxFuture;
use kstream_pipeline::aws::{AwsClient, AwsError, JsonProtocol, KINESIS};
use serde::{Deserialize, Serialize, Serializer};

use super::{
    Kinesis, KinesisError, PutRecordsEntry, PutRecordsResult, Shard, ShardList, ShardPage,
    StreamSummary,
};

impl Kinesis for AwsClient {
    fn describe_stream_summary<'a>(
        &'a self,
        stream: &'a str,
    ) -> BoxFuture<'a, Result<StreamSummary, KinesisError>> {
        Box::pin(async move {
            let input = StreamInput {
                stream_name: Some(stream),
                next_token: None,
            };
            let output: DescribeStreamSummaryOutput = call(
                self,
                "Kinesis DescribeStreamSummary",
                "DescribeStreamSummary",
                &input,
            )
            .await?;
            let summary = output.stream_description_summary;
            Ok(StreamSummary {
                max_record_size_in_kib: summary.max_record_size_in_kib,
                auto_distribution: summary.record_distribution_strategy.as_deref() == Some("AUTO"),
            })
        })
    }

    fn list_shards<'a>(
        &'a self,
        page: ShardPage<'a>,
    ) -> BoxFuture<'a, Result<ShardList, KinesisError>> {
        Box::pin(async move {
            let input = match page {
                ShardPage::First(stream) => StreamInput {
                    stream_name: Some(stream),
                    next_token: None,
                },
                ShardPage::After(token) => StreamInput {
                    stream_name: None,
                    next_token: Some(token),
                },
            };
            let output: ListShardsOutput =
                call(self, "Kinesis ListShards", "ListShards", &input).await?;
            Ok(output.into())
        })
    }

    fn put_records<'a>(
        &'a self,
        stream: &'a str,
        entries: Vec<PutRecordsEntry>,
    ) -> BoxFuture<'a, Result<Vec<PutRecordsResult>, KinesisError>> {
        Box::pin(async move {
            let input = PutRecordsInput {
                records: entries.iter().map(EntryJson::from).collect(),
                stream_name: stream,
            };
            // One attempt: the producer retries the failed entries itself.
            let once = self.clone().with_max_attempts(1);
            let output: PutRecordsOutput =
                call(&once, "Kinesis PutRecords", "PutRecords", &input).await?;
            Ok(output.records)
        })
    }
}

/// Calls `operation` with `input` and reads its answer.
async fn call<T: for<'de> Deserialize<'de>>(
    client: &AwsClient,
    name: &'static str,
    operation: &str,
    input: &impl Serialize,
) -> Result<T, KinesisError> {
    let target = format!("Kinesis_20131202.{operation}");
    let body = client
        .call_json(KINESIS, JsonProtocol::V1_1, name, &target, input)
        .await
        .map_err(|e| error(&e))?;
    serde_json::from_slice(&body).map_err(|e| KinesisError {
        code: "ResponseError".to_owned(),
        message: format!("{name}: the answer is not the operation's JSON: {e}"),
        status: None,
    })
}

/// The code, message and status of an [`AwsError`].
fn error(err: &AwsError) -> KinesisError {
    match err {
        AwsError::Service {
            status,
            code,
            message,
            request_id,
            attempts,
            ..
        } => KinesisError {
            code: code.clone(),
            message: format!("{code}: {message} (request id {request_id}, {attempts} attempt(s))"),
            status: Some(*status),
        },
        AwsError::Transport { .. } => KinesisError {
            code: "DispatchFailure".to_owned(),
            message: err.to_string(),
            status: None,
        },
        // Config, Signing (AwsError is non-exhaustive).
        _ => KinesisError {
            code: "RequestFailed".to_owned(),
            message: err.to_string(),
            status: None,
        },
    }
}

/// The input of `DescribeStreamSummary` and `ListShards`: the stream, or a page's token.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct StreamInput<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    stream_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<&'a str>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DescribeStreamSummaryOutput {
    stream_description_summary: SummaryJson,
}

#[derive(Debug, Deserialize)]
struct SummaryJson {
    #[serde(rename = "MaxRecordSizeInKiB")]
    max_record_size_in_kib: Option<i64>,
    #[serde(rename = "RecordDistributionStrategy")]
    record_distribution_strategy: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListShardsOutput {
    #[serde(default)]
    shards: Vec<ShardJson>,
    next_token: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ShardJson {
    shard_id: String,
    hash_key_range: Option<HashKeyRangeJson>,
    sequence_number_range: Option<SequenceNumberRangeJson>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct HashKeyRangeJson {
    starting_hash_key: String,
    ending_hash_key: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SequenceNumberRangeJson {
    ending_sequence_number: Option<String>,
}

impl From<ListShardsOutput> for ShardList {
    fn from(output: ListShardsOutput) -> Self {
        let shards = output
            .shards
            .into_iter()
            .map(|shard| Shard {
                shard_id: shard.shard_id,
                hash_key_range: shard
                    .hash_key_range
                    .map(|r| (r.starting_hash_key, r.ending_hash_key)),
                open: shard
                    .sequence_number_range
                    .is_none_or(|r| r.ending_sequence_number.is_none()),
            })
            .collect();
        Self {
            shards,
            next_token: output.next_token,
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct PutRecordsInput<'a> {
    records: Vec<EntryJson<'a>>,
    stream_name: &'a str,
}

/// One entry of PutRecords: `Data` is a blob, base64 in the JSON protocol.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct EntryJson<'a> {
    #[serde(serialize_with = "base64")]
    data: &'a [u8],
    partition_key: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    explicit_hash_key: Option<&'a str>,
}

impl<'a> From<&'a PutRecordsEntry> for EntryJson<'a> {
    fn from(entry: &'a PutRecordsEntry) -> Self {
        Self {
            data: &entry.data,
            partition_key: &entry.partition_key,
            explicit_hash_key: entry.explicit_hash_key.as_deref(),
        }
    }
}

/// Writes `data` as standard base64 straight into the JSON (no intermediate string).
fn base64<S: Serializer>(data: &&[u8], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(&Base64Display::new(data, &STANDARD))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PutRecordsOutput {
    records: Vec<PutRecordsResult>,
}

#[cfg(test)]
mod tests;
