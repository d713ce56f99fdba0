//! Reading a failed batch's range back from its shard.
//!
//! The range is `[startSequenceNumber, endSequenceNumber]` of one shard. It is read with
//! `GetShardIterator AT_SEQUENCE_NUMBER start` and `GetRecords` until a record past `end`. The
//! range is lost (trimmed by the stream's retention, or its stream deleted) when:
//! - the first record read is not the start: Kinesis starts the iterator at the oldest record
//!   it still holds, which is after the range's start once that is trimmed;
//! - `GetShardIterator` or `GetRecords` says so (`TrimmedDataAccessException`, an
//!   `InvalidArgumentException` for a sequence number the shard does not hold,
//!   `ResourceNotFoundException` for a deleted stream or shard);
//! - the shard holds fewer records of the range than the message's `batchSize`, or nothing up
//!   to its end.

use std::time::Duration;

use aws_sdk_kinesis::Client;
use aws_sdk_kinesis::error::ProvideErrorMetadata;
use aws_sdk_kinesis::types::ShardIteratorType;
use bytes::Bytes;
use kstream_local::lambda::mapping::event::{SequenceNumber, StreamRecord};
use kstream_local::lambda::mapping::stream_name_of;
use serde::Deserialize;

use crate::aws::sdk_error;

/// Records per `GetRecords` call: the most Kinesis returns.
const GET_RECORDS_LIMIT: i32 = 10_000;

/// Throttled `GetRecords` calls retried (a second apart) before the range is given up for this
/// run (Kinesis allows 5 calls a second per shard, shared with the stream's consumers).
const THROTTLED_RETRIES: u32 = 30;

/// The `KinesisBatchInfo` of an on-failure message (Lambda developer guide, "Retain discarded
/// batch records for a Kinesis Data Streams event source").
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct BatchInfo {
    pub(crate) shard_id: String,
    pub(crate) start_sequence_number: String,
    pub(crate) end_sequence_number: String,
    pub(crate) stream_arn: String,
    #[serde(default)]
    pub(crate) batch_size: Option<u64>,
}

impl BatchInfo {
    /// The stream's name (from its ARN).
    pub(crate) fn stream_name(&self) -> &str {
        stream_name_of(&self.stream_arn)
    }
}

impl std::fmt::Display for BatchInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {} {}..{}",
            self.stream_name(),
            self.shard_id,
            self.start_sequence_number,
            self.end_sequence_number
        )
    }
}

/// An on-failure message: only its batch info matters here.
#[derive(Debug, Deserialize)]
pub(crate) struct OnFailureMessage {
    #[serde(rename = "KinesisBatchInfo")]
    pub(crate) info: BatchInfo,
}

/// What reading a range found.
#[derive(Debug)]
pub(crate) enum RangeRead {
    /// Every record of the range, in shard order.
    Retained(Vec<StreamRecord>),
    /// The range is (partly) gone; why.
    Lost(String),
}

/// Reads the records of `info`'s range.
///
/// # Errors
/// A Kinesis call failing for another reason than the range being gone.
pub(crate) async fn read(client: &Client, info: &BatchInfo) -> miette::Result<RangeRead> {
    let start = SequenceNumber(info.start_sequence_number.clone());
    let end = SequenceNumber(info.end_sequence_number.clone());
    if end < start {
        return Ok(RangeRead::Lost(format!(
            "the range ends ({}) before it starts ({})",
            end.0, start.0
        )));
    }
    let mut iterator = match shard_iterator(client, info, &start.0, None).await? {
        Ok(it) => it,
        Err(lost) => return Ok(RangeRead::Lost(lost)),
    };
    let mut records: Vec<StreamRecord> = Vec::new();
    let mut throttled = 0;
    loop {
        let page = match client
            .get_records()
            .shard_iterator(&iterator)
            .limit(GET_RECORDS_LIMIT)
            .send()
            .await
        {
            Ok(page) => page,
            Err(err) => match err.code().unwrap_or_default() {
                "ExpiredIteratorException" => {
                    let after = records.last().map(|r| r.sequence_number.clone());
                    let from = after.as_deref().unwrap_or(&start.0);
                    iterator = match shard_iterator(client, info, from, after.as_deref()).await? {
                        Ok(it) => it,
                        Err(lost) => return Ok(RangeRead::Lost(lost)),
                    };
                    continue;
                }
                "TrimmedDataAccessException" => {
                    return Ok(RangeRead::Lost(format!(
                        "trimmed by the stream's retention ({})",
                        kstream_producer::sdk_error_message(&err)
                    )));
                }
                "ProvisionedThroughputExceededException" | "KMSThrottlingException"
                    if throttled < THROTTLED_RETRIES =>
                {
                    throttled += 1;
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
                _ => {
                    return Err(sdk_error(err).wrap_err(format!("GetRecords on {info} failed")));
                }
            },
        };
        for record in page.records() {
            let seq = SequenceNumber(record.sequence_number().to_owned());
            if records.is_empty() && seq != start {
                let why = if seq > end {
                    format!(
                        "trimmed by the stream's retention: the oldest record left at or after its start is {}, past its end",
                        seq.0
                    )
                } else {
                    format!(
                        "partly trimmed by the stream's retention: its start {} is gone, the shard resumes at {}",
                        start.0, seq.0
                    )
                };
                return Ok(RangeRead::Lost(why));
            }
            if seq > end {
                return Ok(complete(info, records));
            }
            records.push(stream_record(info, record));
        }
        if records
            .last()
            .is_some_and(|r| SequenceNumber(r.sequence_number.clone()) == end)
        {
            return Ok(complete(info, records));
        }
        match page.next_shard_iterator() {
            Some(next) => iterator = next.to_owned(),
            None => {
                return Ok(RangeRead::Lost(format!(
                    "the shard ends before the range's end {}",
                    end.0
                )));
            }
        }
        if page.records().is_empty() && page.millis_behind_latest().unwrap_or(0) == 0 {
            return Ok(RangeRead::Lost(match records.last() {
                None => format!(
                    "trimmed by the stream's retention: no record at or after {} is left",
                    start.0
                ),
                Some(last) => format!(
                    "the shard holds nothing between {} and the range's end {}",
                    last.sequence_number, end.0
                ),
            }));
        }
    }
}

/// The range read to its end: whole unless the shard holds fewer records than the batch had.
fn complete(info: &BatchInfo, records: Vec<StreamRecord>) -> RangeRead {
    match info.batch_size {
        Some(n) if (records.len() as u64) < n => RangeRead::Lost(format!(
            "only {} of the batch's {n} records are in the shard",
            records.len()
        )),
        _ => RangeRead::Retained(records),
    }
}

fn stream_record(info: &BatchInfo, record: &aws_sdk_kinesis::types::Record) -> StreamRecord {
    let arrival = record
        .approximate_arrival_timestamp()
        .and_then(|t| t.to_millis().ok())
        .unwrap_or_default();
    StreamRecord {
        shard_id: info.shard_id.clone(),
        sequence_number: record.sequence_number().to_owned(),
        partition_key: record.partition_key().unwrap_or_default().to_owned(),
        data: Bytes::copy_from_slice(record.data().as_ref()),
        #[allow(clippy::cast_precision_loss)]
        arrival: arrival as f64 / 1000.0,
    }
}

/// An iterator at `at` (or after `after`); `Ok(Err(why))` when the shard no longer holds it.
async fn shard_iterator(
    client: &Client,
    info: &BatchInfo,
    at: &str,
    after: Option<&str>,
) -> miette::Result<Result<String, String>> {
    let (kind, sequence) = match after {
        Some(after) => (ShardIteratorType::AfterSequenceNumber, after),
        None => (ShardIteratorType::AtSequenceNumber, at),
    };
    let out = client
        .get_shard_iterator()
        .stream_name(info.stream_name())
        .shard_id(&info.shard_id)
        .shard_iterator_type(kind)
        .starting_sequence_number(sequence)
        .send()
        .await;
    match out {
        Ok(out) => out
            .shard_iterator()
            .map(|it| Ok(it.to_owned()))
            .ok_or_else(|| miette::miette!("GetShardIterator on {info} returned no iterator")),
        Err(err) => {
            let message = kstream_producer::sdk_error_message(&err);
            match err.code().unwrap_or_default() {
                "ResourceNotFoundException" => Ok(Err(format!(
                    "its stream or shard no longer exists ({message})"
                ))),
                "TrimmedDataAccessException" | "InvalidArgumentException" => Ok(Err(format!(
                    "the shard no longer holds {sequence}: trimmed by the stream's retention ({message})"
                ))),
                _ => Err(sdk_error(err).wrap_err(format!("GetShardIterator on {info} failed"))),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_batch_info_of_an_on_failure_message_parses() {
        // The documented example (Lambda developer guide).
        let body = r#"{
          "requestContext": {"requestId": "c9b8fa9f-5a7f-xmpl-af9c-0c604cde93a5",
            "functionArn": "arn:aws:lambda:us-east-2:123456789012:function:myfunction",
            "condition": "RetryAttemptsExhausted", "approximateInvokeCount": 1},
          "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
          "version": "1.0", "timestamp": "2019-11-14T00:38:06.021Z",
          "KinesisBatchInfo": {"shardId": "shardId-000000000001",
            "startSequenceNumber": "49601189658422359378836298521827638475320189012309704722",
            "endSequenceNumber": "49601189658422359378836298522902373528957594348623495186",
            "approximateArrivalOfFirstRecord": "2019-11-14T00:38:04.835Z",
            "approximateArrivalOfLastRecord": "2019-11-14T00:38:05.580Z",
            "batchSize": 500,
            "streamArn": "arn:aws:kinesis:us-east-2:123456789012:stream/mystream"}}"#;
        let info = serde_json::from_str::<OnFailureMessage>(body).unwrap().info;
        assert_eq!(info.shard_id, "shardId-000000000001");
        assert_eq!(info.batch_size, Some(500));
        assert_eq!(info.stream_name(), "mystream");
        assert!(
            info.to_string()
                .starts_with("mystream shardId-000000000001 4960")
        );
        assert!(serde_json::from_str::<OnFailureMessage>(r#"{"Records": []}"#).is_err());
    }

    #[test]
    fn a_range_read_short_of_its_batch_size_is_lost() {
        let info = BatchInfo {
            shard_id: "s".into(),
            start_sequence_number: "1".into(),
            end_sequence_number: "3".into(),
            stream_arn: "arn:aws:kinesis:us-east-1:1:stream/x".into(),
            batch_size: Some(3),
        };
        let record = |seq: &str| StreamRecord {
            shard_id: "s".into(),
            sequence_number: seq.into(),
            partition_key: "k".into(),
            data: Bytes::new(),
            arrival: 0.0,
        };
        assert!(matches!(
            complete(&info, vec![record("1"), record("3")]),
            RangeRead::Lost(why) if why.contains("only 2 of the batch's 3")
        ));
        assert!(matches!(
            complete(&info, vec![record("1"), record("2"), record("3")]),
            RangeRead::Retained(r) if r.len() == 3
        ));
    }
}
