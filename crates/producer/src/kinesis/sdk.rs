//! [`Kinesis`] on `aws_sdk_kinesis::Client` (feature `sdk`): the client of the CLI and redrive,
//! with the SDK's endpoint resolution, credential chain and profiles. The client is used as
//! given, except that `PutRecords` runs with the SDK's retries off (the producer retries the
//! failed entries itself; an SDK retry would resend the whole request).

use aws_sdk_kinesis::config::http::HttpResponse;
use aws_sdk_kinesis::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::{PutRecordsRequestEntry, RecordDistributionStrategy};
use aws_smithy_types::retry::RetryConfig;
use futures::future::BoxFuture;

use super::{
    Kinesis, KinesisError, PutRecordsEntry, PutRecordsResult, Shard, ShardList, ShardPage,
    StreamSummary,
};

impl Kinesis for aws_sdk_kinesis::Client {
    fn describe_stream_summary<'a>(
        &'a self,
        stream: &'a str,
    ) -> BoxFuture<'a, Result<StreamSummary, KinesisError>> {
        Box::pin(async move {
            let out = self
                .describe_stream_summary()
                .stream_name(stream)
                .send()
                .await
                .map_err(|e| error(&e))?;
            let summary = out.stream_description_summary();
            Ok(StreamSummary {
                max_record_size_in_kib: summary
                    .and_then(|s| s.max_record_size_in_kib())
                    .map(i64::from),
                auto_distribution: summary
                    .and_then(|s| s.record_distribution_strategy())
                    .is_some_and(|s| *s == RecordDistributionStrategy::Auto),
            })
        })
    }

    fn list_shards<'a>(
        &'a self,
        page: ShardPage<'a>,
    ) -> BoxFuture<'a, Result<ShardList, KinesisError>> {
        Box::pin(async move {
            let request = match page {
                ShardPage::First(stream) => self.list_shards().stream_name(stream),
                ShardPage::After(token) => self.list_shards().next_token(token),
            };
            let out = request.send().await.map_err(|e| error(&e))?;
            let shards = out
                .shards()
                .iter()
                .map(|shard| Shard {
                    shard_id: shard.shard_id().to_owned(),
                    hash_key_range: shard.hash_key_range().map(|r| {
                        (
                            r.starting_hash_key().to_owned(),
                            r.ending_hash_key().to_owned(),
                        )
                    }),
                    open: shard
                        .sequence_number_range()
                        .is_none_or(|r| r.ending_sequence_number().is_none()),
                })
                .collect();
            Ok(ShardList {
                shards,
                next_token: out.next_token().map(str::to_owned),
            })
        })
    }

    fn put_records<'a>(
        &'a self,
        stream: &'a str,
        entries: Vec<PutRecordsEntry>,
    ) -> BoxFuture<'a, Result<Vec<PutRecordsResult>, KinesisError>> {
        Box::pin(async move {
            let entries = entries
                .into_iter()
                .map(|entry| {
                    PutRecordsRequestEntry::builder()
                        .data(Blob::new(entry.data.to_vec()))
                        .partition_key(entry.partition_key)
                        .set_explicit_hash_key(entry.explicit_hash_key)
                        .build()
                        .expect("data and partition key are set")
                })
                .collect();
            let out = self
                .put_records()
                .stream_name(stream)
                .set_records(Some(entries))
                .customize()
                // The producer retries per entry; SDK retries would resend whole requests.
                .config_override(
                    aws_sdk_kinesis::config::Builder::default()
                        .retry_config(RetryConfig::disabled()),
                )
                .send()
                .await
                .map_err(|e| error(&e))?;
            Ok(out
                .records()
                .iter()
                .map(|r| PutRecordsResult {
                    sequence_number: r.sequence_number().map(str::to_owned),
                    shard_id: r.shard_id().map(str::to_owned),
                    error_code: r.error_code().map(str::to_owned),
                    error_message: r.error_message().map(str::to_owned),
                })
                .collect())
        })
    }
}

/// The code, message and status of an SDK error.
fn error<E>(err: &SdkError<E, HttpResponse>) -> KinesisError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let message = sdk_error_message(err);
    let (code, status) = match err {
        SdkError::ServiceError(service) => {
            let status = service.raw().status().as_u16();
            let code = service
                .err()
                .code()
                .map(str::to_owned)
                .unwrap_or_else(|| format!("Http{status}"));
            (code, Some(status))
        }
        SdkError::TimeoutError(_) => ("Timeout".to_owned(), None),
        SdkError::DispatchFailure(_) => ("DispatchFailure".to_owned(), None),
        SdkError::ResponseError(_) => ("ResponseError".to_owned(), None),
        _ => ("RequestFailed".to_owned(), None),
    };
    KinesisError {
        code,
        message,
        status,
    }
}

/// A short description of an SDK error: `Code: message` for service errors, else the error
/// with its causes.
pub fn sdk_error_message<E, R>(err: &SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match err {
        SdkError::ServiceError(service) => {
            let e = service.err();
            match (e.code(), e.message()) {
                (Some(code), Some(message)) => format!("{code}: {message}"),
                (Some(code), None) => code.to_owned(),
                _ => DisplayErrorContext(err).to_string(),
            }
        }
        _ => DisplayErrorContext(err).to_string(),
    }
}

/// A Kinesis client from the environment (`aws_config::defaults(BehaviorVersion::latest())`,
/// which honours `AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_KINESIS`, `AWS_REGION`, profiles and the
/// credential chain), with optional endpoint and region overrides. Its HTTP client is the SDK's
/// default one: the binary turns on aws-config's `default-https-client` (the CLI does; the
/// Lambda functions build their configuration with kstream-pipeline's `sdk` instead).
pub async fn client_from_env(
    endpoint_url: Option<&str>,
    region: Option<&str>,
) -> aws_sdk_kinesis::Client {
    let sdk = sdk_config(endpoint_url, region).await;
    aws_sdk_kinesis::Client::new(&sdk)
}

/// The shared SDK configuration behind [`client_from_env`].
pub async fn sdk_config(endpoint_url: Option<&str>, region: Option<&str>) -> aws_config::SdkConfig {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    if let Some(url) = endpoint_url {
        loader = loader.endpoint_url(url);
    }
    if let Some(region) = region {
        loader = loader.region(aws_config::Region::new(region.to_owned()));
    }
    loader.load().await
}
