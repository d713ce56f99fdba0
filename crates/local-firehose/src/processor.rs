//! The transform Lambda's side of Firehose: the `KinesisFirehoseEvent` it is invoked with, and
//! how its answer is judged.
//!
//! Every record of the batch must be answered exactly once with `result` `Ok`, `Dropped` or
//! `ProcessingFailed` and base64 `data`; a record that is not (missing, an unknown result,
//! data that is not base64) is processing-failed, as on AWS. A response that is not the
//! expected JSON fails the invocation (it is retried, then every record is processing-failed).

use std::collections::{BTreeMap, HashMap};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use serde::Deserialize;
use serde_json::{Value, json};

/// A record on its way through the delivery stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceRecord {
    /// Firehose's record id (unique within the delivery stream).
    pub record_id: String,
    /// The user record's data (deaggregated).
    pub data: Bytes,
    /// Approximate arrival time in the stream, epoch milliseconds.
    pub arrival_ms: i64,
    /// Shard the record came from.
    pub shard_id: String,
    /// Partition key (of the user record).
    pub partition_key: String,
    /// Sequence number of the Kinesis record.
    pub sequence_number: String,
    /// Index within a KPL aggregate (0 for plain records).
    pub subsequence_number: u64,
}

impl SourceRecord {
    /// A record id unique within the delivery stream: shard, sequence number and subsequence
    /// number (sequence numbers are only unique per shard on some emulators).
    pub fn make_id(shard_id: &str, sequence_number: &str, subsequence_number: u64) -> String {
        format!("{shard_id}-{sequence_number}-{subsequence_number:012}")
    }
}

/// The invocation payload (`KinesisFirehoseEvent` with a Kinesis source).
pub fn event(
    invocation_id: &str,
    delivery_stream_arn: &str,
    source_stream_arn: &str,
    region: &str,
    records: &[SourceRecord],
) -> Value {
    json!({
        "invocationId": invocation_id,
        "deliveryStreamArn": delivery_stream_arn,
        "sourceKinesisStreamArn": source_stream_arn,
        "region": region,
        "records": records.iter().map(|r| json!({
            "recordId": r.record_id,
            "approximateArrivalTimestamp": r.arrival_ms,
            "data": BASE64.encode(&r.data),
            "kinesisRecordMetadata": {
                "shardId": r.shard_id,
                "partitionKey": r.partition_key,
                "approximateArrivalTimestamp": r.arrival_ms,
                "sequenceNumber": r.sequence_number,
                "subsequenceNumber": r.subsequence_number,
            },
        })).collect::<Vec<_>>(),
    })
}

/// What became of one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Transformed: the new data and the dynamic partition keys from `metadata.partitionKeys`.
    Ok {
        /// Transformed data.
        data: Vec<u8>,
        /// Partition keys from the transform.
        partition_keys: BTreeMap<String, String>,
    },
    /// Dropped by the transform.
    Dropped,
    /// Failed: the error output's `errorCode` and `errorMessage`.
    Failed {
        /// e.g. `Lambda.ProcessingFailedStatus`.
        code: String,
        /// Why.
        message: String,
    },
}

#[derive(Debug, Deserialize)]
struct Response {
    records: Vec<ResponseRecord>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ResponseRecord {
    record_id: Option<String>,
    result: Option<String>,
    data: Option<String>,
    metadata: Option<Metadata>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Metadata {
    partition_keys: Option<BTreeMap<String, Value>>,
}

/// Judges a response: one outcome per input record, in input order.
///
/// # Errors
/// The message for the error output when the response is not a Firehose response at all
/// (the invocation is then retried).
pub fn judge(records: &[SourceRecord], body: &[u8]) -> Result<Vec<Outcome>, String> {
    let response: Response = serde_json::from_slice(body)
        .map_err(|e| format!("the transform's response is not a Firehose response: {e}"))?;
    let mut answers: HashMap<String, Vec<ResponseRecord>> = HashMap::new();
    for r in response.records {
        if let Some(id) = r.record_id.clone() {
            answers.entry(id).or_default().push(r);
        }
    }
    let fail = |code: &str, message: String| Outcome::Failed {
        code: code.to_owned(),
        message,
    };
    Ok(records
        .iter()
        .map(|rec| {
            let Some(mut list) = answers.remove(&rec.record_id) else {
                return fail(
                    "Lambda.MissingRecordId",
                    format!(
                        "record {} is missing from the transform's response",
                        rec.record_id
                    ),
                );
            };
            if list.len() > 1 {
                return fail(
                    "Lambda.DuplicatedRecordId",
                    format!("record {} is answered {} times", rec.record_id, list.len()),
                );
            }
            let answer = list.remove(0);
            match answer.result.as_deref() {
                Some("Ok") => {
                    let data = match BASE64.decode(answer.data.as_deref().unwrap_or("")) {
                        Ok(d) => d,
                        Err(e) => {
                            return fail(
                                "Lambda.InvalidData",
                                format!("data of record {} is not base64: {e}", rec.record_id),
                            );
                        }
                    };
                    let mut partition_keys = BTreeMap::new();
                    for (k, v) in answer
                        .metadata
                        .and_then(|m| m.partition_keys)
                        .unwrap_or_default()
                    {
                        let text = match v {
                            Value::String(s) => s,
                            Value::Null => continue,
                            other => other.to_string(),
                        };
                        partition_keys.insert(k, text);
                    }
                    Outcome::Ok {
                        data,
                        partition_keys,
                    }
                }
                Some("Dropped") => Outcome::Dropped,
                Some("ProcessingFailed") => {
                    // The transform may say why in `data` (functions/firehose-transform writes
                    // {"errorCode":..,"errorMessage":..}); keep it in the error record.
                    let reason = answer
                        .data
                        .as_deref()
                        .and_then(|d| BASE64.decode(d).ok())
                        .filter(|d| !d.is_empty())
                        .map(|d| String::from_utf8_lossy(&d).trim().to_owned());
                    fail(
                        "Lambda.ProcessingFailedStatus",
                        match reason {
                            Some(r) => format!("ProcessingFailed status returned from Lambda: {r}"),
                            None => "ProcessingFailed status returned from Lambda".to_owned(),
                        },
                    )
                }
                other => fail(
                    "Lambda.InvalidResult",
                    format!(
                        "record {} has result {:?}; it must be Ok, Dropped or ProcessingFailed",
                        rec.record_id,
                        other.unwrap_or("")
                    ),
                ),
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(id: &str, data: &str) -> SourceRecord {
        SourceRecord {
            record_id: id.to_owned(),
            data: Bytes::from(data.to_owned()),
            arrival_ms: 1_772_874_304_123,
            shard_id: "shardId-000000000000".to_owned(),
            partition_key: "pk".to_owned(),
            sequence_number: "4960".to_owned(),
            subsequence_number: 2,
        }
    }

    #[test]
    fn event_has_the_firehose_shape() {
        let e = event(
            "inv-1",
            "arn:d",
            "arn:s",
            "us-east-1",
            &[rec("r1", "hello")],
        );
        assert_eq!(e["invocationId"], "inv-1");
        assert_eq!(e["deliveryStreamArn"], "arn:d");
        assert_eq!(e["sourceKinesisStreamArn"], "arn:s");
        assert_eq!(e["region"], "us-east-1");
        let r = &e["records"][0];
        assert_eq!(r["recordId"], "r1");
        assert_eq!(r["approximateArrivalTimestamp"], 1_772_874_304_123_i64);
        assert_eq!(r["data"], "aGVsbG8=");
        assert_eq!(
            r["kinesisRecordMetadata"]["shardId"],
            "shardId-000000000000"
        );
        assert_eq!(r["kinesisRecordMetadata"]["partitionKey"], "pk");
        assert_eq!(r["kinesisRecordMetadata"]["sequenceNumber"], "4960");
        assert_eq!(r["kinesisRecordMetadata"]["subsequenceNumber"], 2);
        assert_eq!(
            r["kinesisRecordMetadata"]["approximateArrivalTimestamp"],
            1_772_874_304_123_i64
        );
        assert_eq!(
            SourceRecord::make_id("shardId-000000000001", "4960", 2),
            "shardId-000000000001-4960-000000000002"
        );
        assert_ne!(
            SourceRecord::make_id("shardId-000000000000", "1", 0),
            SourceRecord::make_id("shardId-000000000001", "1", 0)
        );
    }

    #[test]
    fn ok_dropped_and_failed() {
        let records = [rec("a", "1"), rec("b", "2"), rec("c", "3")];
        let body = json!({"records": [
            {"recordId": "c", "result": "ProcessingFailed", "data": BASE64.encode(r#"{"errorCode":"Decode","errorMessage":"not JSON"}"#)},
            {"recordId": "a", "result": "Ok", "data": BASE64.encode("A\n"), "metadata": {"partitionKeys": {"ticker": "AMZN", "n": 3}}},
            {"recordId": "b", "result": "Dropped", "data": ""},
        ]});
        let out = judge(&records, body.to_string().as_bytes()).unwrap();
        assert_eq!(
            out[0],
            Outcome::Ok {
                data: b"A\n".to_vec(),
                partition_keys: BTreeMap::from([
                    ("n".to_owned(), "3".to_owned()),
                    ("ticker".to_owned(), "AMZN".to_owned())
                ]),
            }
        );
        assert_eq!(out[1], Outcome::Dropped);
        match &out[2] {
            Outcome::Failed { code, message } => {
                assert_eq!(code, "Lambda.ProcessingFailedStatus");
                assert!(message.contains("not JSON"), "{message}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn missing_duplicate_invalid_answers_fail_only_their_records() {
        let records = [
            rec("a", "1"),
            rec("b", "2"),
            rec("c", "3"),
            rec("d", "4"),
            rec("e", "5"),
        ];
        let body = json!({"records": [
            {"recordId": "b", "result": "Ok", "data": "AA=="},
            {"recordId": "b", "result": "Ok", "data": "AA=="},
            {"recordId": "c", "result": "Maybe", "data": ""},
            {"recordId": "d", "result": "Ok", "data": "%%%"},
            {"recordId": "e", "result": "Ok", "data": "ZQ=="},
            {"recordId": "zzz", "result": "Ok", "data": ""},
        ]});
        let out = judge(&records, body.to_string().as_bytes()).unwrap();
        let code = |o: &Outcome| match o {
            Outcome::Failed { code, .. } => code.clone(),
            Outcome::Ok { .. } => "Ok".to_owned(),
            Outcome::Dropped => "Dropped".to_owned(),
        };
        assert_eq!(
            out.iter().map(code).collect::<Vec<_>>(),
            [
                "Lambda.MissingRecordId",
                "Lambda.DuplicatedRecordId",
                "Lambda.InvalidResult",
                "Lambda.InvalidData",
                "Ok"
            ]
        );
    }

    #[test]
    fn a_response_that_is_not_firehose_shaped_fails_the_invocation() {
        assert!(judge(&[rec("a", "1")], b"null").is_err());
        assert!(judge(&[rec("a", "1")], br#"{"batchItemFailures":[]}"#).is_err());
        assert!(judge(&[rec("a", "1")], b"{").is_err());
    }
}
