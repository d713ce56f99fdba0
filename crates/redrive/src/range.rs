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

use kstream_local_lambda::mapping::event::{SequenceNumber, StreamRecord};

use crate::aws::{IteratorStart, ReadRecord, Stream};
use crate::error::{Error, Result};
use crate::message::BatchInfo;

/// Records per `GetRecords` call: the most Kinesis returns.
const GET_RECORDS_LIMIT: i32 = 10_000;

/// Throttled `GetRecords` calls retried (a second apart) before the range is given up for this
/// run (Kinesis allows 5 calls a second per shard, shared with the stream's consumers).
const THROTTLED_RETRIES: u32 = 30;

/// What reading a range found.
#[derive(Debug)]
pub enum RangeRead {
    /// Every record of the range, in shard order.
    Retained(Vec<StreamRecord>),
    /// The range is (partly) gone; why.
    Lost(String),
}

/// Reads the records of `info`'s range.
///
/// # Errors
/// A Kinesis call failing for another reason than the range being gone.
pub async fn read(client: &impl Stream, info: &BatchInfo) -> Result<RangeRead> {
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
        let page = match client.get_records(&iterator, GET_RECORDS_LIMIT).await {
            Ok(page) => page,
            Err(err) => match err.code() {
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
                        "trimmed by the stream's retention ({err})"
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
                    return Err(Error::aws(format!("GetRecords on {info} failed"), &err));
                }
            },
        };
        for record in &page.records {
            let seq = SequenceNumber(record.sequence_number.clone());
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
        match &page.next_shard_iterator {
            Some(next) => iterator.clone_from(next),
            None => {
                return Ok(RangeRead::Lost(format!(
                    "the shard ends before the range's end {}",
                    end.0
                )));
            }
        }
        if page.records.is_empty() && page.millis_behind_latest.unwrap_or(0) == 0 {
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

fn stream_record(info: &BatchInfo, record: &ReadRecord) -> StreamRecord {
    let arrival = record.arrival_millis.unwrap_or_default();
    StreamRecord {
        shard_id: info.shard_id.clone(),
        sequence_number: record.sequence_number.clone(),
        partition_key: record.partition_key.clone(),
        data: record.data.clone(),
        #[allow(clippy::cast_precision_loss)]
        arrival: arrival as f64 / 1000.0,
    }
}

/// An iterator at `at` (or after `after`); `Ok(Err(why))` when the shard no longer holds it.
async fn shard_iterator(
    client: &impl Stream,
    info: &BatchInfo,
    at: &str,
    after: Option<&str>,
) -> Result<std::result::Result<String, String>> {
    let (start, sequence) = match after {
        Some(after) => (IteratorStart::After(after), after),
        None => (IteratorStart::At(at), at),
    };
    let out = client
        .shard_iterator(info.stream_name(), &info.shard_id, start)
        .await;
    match out {
        Ok(out) => out.map(Ok).ok_or_else(|| Error::Aws {
            context: format!("GetShardIterator on {info}"),
            message: "no iterator returned".into(),
        }),
        Err(err) => {
            let message = &err.message;
            match err.code() {
                "ResourceNotFoundException" => Ok(Err(format!(
                    "its stream or shard no longer exists ({message})"
                ))),
                "TrimmedDataAccessException" | "InvalidArgumentException" => Ok(Err(format!(
                    "the shard no longer holds {sequence}: trimmed by the stream's retention ({message})"
                ))),
                _ => Err(Error::aws(
                    format!("GetShardIterator on {info} failed"),
                    &err,
                )),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;

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
