//! The pass's AWS calls on the SDK's clients (feature `sdk`: the CLI's `kstream redrive`).

use aws_sdk_kinesis::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::{PutRecordsRequestEntry, ShardIteratorType};
use bytes::Bytes;

use super::{
    CallError, CallResult, Functions, Invoked, IteratorStart, Objects, PutAnswer, PutEntry,
    QueueMessage, ReadRecord, Receive, RecordsPage, Stream,
};
use crate::aws::Queue;

/// A [`CallError`] from an SDK error: its code, and `Code: message` (or the error with its
/// causes).
fn call_error<E, R>(err: &SdkError<E, R>) -> CallError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    CallError {
        code: err.code().map(str::to_owned),
        message: kstream_producer::sdk_error_message(err),
    }
}

impl Queue for aws_sdk_sqs::Client {
    async fn receive(&self, queue: &str, receive: Receive) -> CallResult<Vec<QueueMessage>> {
        let out = self
            .receive_message()
            .queue_url(queue)
            .max_number_of_messages(receive.max_messages)
            .visibility_timeout(receive.visibility_timeout)
            .wait_time_seconds(receive.wait_seconds)
            .send()
            .await
            .map_err(|e| call_error(&e))?;
        Ok(out
            .messages()
            .iter()
            .map(|m| QueueMessage {
                id: m.message_id().map(str::to_owned),
                receipt: m.receipt_handle().map(str::to_owned),
                body: m.body().map(str::to_owned),
            })
            .collect())
    }

    async fn delete(&self, queue: &str, receipt: &str) -> CallResult<()> {
        self.delete_message()
            .queue_url(queue)
            .receipt_handle(receipt)
            .send()
            .await
            .map(drop)
            .map_err(|e| call_error(&e))
    }

    async fn change_visibility(&self, queue: &str, receipt: &str, seconds: i32) -> CallResult<()> {
        self.change_message_visibility()
            .queue_url(queue)
            .receipt_handle(receipt)
            .visibility_timeout(seconds)
            .send()
            .await
            .map(drop)
            .map_err(|e| call_error(&e))
    }
}

impl Stream for aws_sdk_kinesis::Client {
    async fn shard_iterator(
        &self,
        stream: &str,
        shard: &str,
        start: IteratorStart<'_>,
    ) -> CallResult<Option<String>> {
        let (kind, sequence) = match start {
            IteratorStart::At(s) => (ShardIteratorType::AtSequenceNumber, s),
            IteratorStart::After(s) => (ShardIteratorType::AfterSequenceNumber, s),
        };
        let out = self
            .get_shard_iterator()
            .stream_name(stream)
            .shard_id(shard)
            .shard_iterator_type(kind)
            .starting_sequence_number(sequence)
            .send()
            .await
            .map_err(|e| call_error(&e))?;
        Ok(out.shard_iterator().map(str::to_owned))
    }

    async fn get_records(&self, iterator: &str, limit: i32) -> CallResult<RecordsPage> {
        let out = self
            .get_records()
            .shard_iterator(iterator)
            .limit(limit)
            .send()
            .await
            .map_err(|e| call_error(&e))?;
        Ok(RecordsPage {
            records: out
                .records()
                .iter()
                .map(|r| ReadRecord {
                    sequence_number: r.sequence_number().to_owned(),
                    partition_key: r.partition_key().unwrap_or_default().to_owned(),
                    data: Bytes::copy_from_slice(r.data().as_ref()),
                    arrival_millis: r
                        .approximate_arrival_timestamp()
                        .and_then(|t| t.to_millis().ok()),
                })
                .collect(),
            next_shard_iterator: out.next_shard_iterator().map(str::to_owned),
            millis_behind_latest: out.millis_behind_latest(),
        })
    }

    async fn put_records(&self, stream: &str, entries: &[PutEntry]) -> CallResult<PutAnswer> {
        let entries = entries
            .iter()
            .map(|e| {
                PutRecordsRequestEntry::builder()
                    .data(Blob::new(e.data.to_vec()))
                    .partition_key(&e.partition_key)
                    .set_explicit_hash_key(e.explicit_hash_key.clone())
                    .build()
                    .map_err(|e| CallError {
                        code: None,
                        message: format!("a record cannot be put: {e}"),
                    })
            })
            .collect::<CallResult<Vec<_>>>()?;
        let out = self
            .put_records()
            .stream_name(stream)
            .set_records(Some(entries))
            .send()
            .await
            .map_err(|e| call_error(&e))?;
        Ok(PutAnswer {
            failed: out.failed_record_count().unwrap_or(0),
            results: out
                .records()
                .iter()
                .map(|r| {
                    r.error_code().map(|code| {
                        (
                            code.to_owned(),
                            r.error_message().unwrap_or_default().to_owned(),
                        )
                    })
                })
                .collect(),
        })
    }
}

impl Objects for aws_sdk_s3::Client {
    async fn put_object(
        &self,
        bucket: &str,
        key: &str,
        content_type: &str,
        body: Bytes,
    ) -> CallResult<()> {
        aws_sdk_s3::Client::put_object(self)
            .bucket(bucket)
            .key(key)
            .content_type(content_type)
            .body(body.into())
            .send()
            .await
            .map(drop)
            .map_err(|e| call_error(&e))
    }
}

impl Functions for aws_sdk_lambda::Client {
    fn region(&self) -> String {
        self.config()
            .region()
            .map(ToString::to_string)
            .unwrap_or_default()
    }

    async fn role(&self, function: &str) -> CallResult<Option<String>> {
        let out = self
            .get_function_configuration()
            .function_name(function)
            .send()
            .await
            .map_err(|e| call_error(&e))?;
        Ok(out.role().map(str::to_owned))
    }

    async fn invoke(&self, function: &str, payload: Vec<u8>) -> CallResult<Invoked> {
        let out = aws_sdk_lambda::Client::invoke(self)
            .function_name(function)
            .payload(aws_sdk_lambda::primitives::Blob::new(payload))
            .send()
            .await
            .map_err(|e| call_error(&e))?;
        Ok(Invoked {
            function_error: out.function_error().map(str::to_owned),
            payload: out
                .payload()
                .map(|b| Bytes::copy_from_slice(b.as_ref()))
                .unwrap_or_default(),
        })
    }
}
