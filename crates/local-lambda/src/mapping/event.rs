//! Lambda-shaped Kinesis events, the filter view of a record, and the on-failure message.

use std::cmp::Ordering;

use base64::Engine as _;
use bytes::Bytes;
use serde_json::{Value, json};

/// A Kinesis sequence number, ordered numerically (they are decimal strings of up to 128 bits
/// and more on AWS, small integers on the emulator).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SequenceNumber(pub String);

impl SequenceNumber {
    fn digits(&self) -> &str {
        let t = self.0.trim_start_matches('0');
        if t.is_empty() { "0" } else { t }
    }
}

impl Ord for SequenceNumber {
    fn cmp(&self, other: &Self) -> Ordering {
        let (a, b) = (self.digits(), other.digits());
        a.len().cmp(&b.len()).then_with(|| a.cmp(b))
    }
}

impl PartialOrd for SequenceNumber {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// One record read from a shard.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamRecord {
    /// The shard it came from.
    pub shard_id: String,
    /// Its sequence number.
    pub sequence_number: String,
    /// Its partition key.
    pub partition_key: String,
    /// The payload.
    pub data: Bytes,
    /// Approximate arrival time, Unix epoch seconds with milliseconds.
    pub arrival: f64,
}

/// What the events of one mapping share.
#[derive(Debug, Clone)]
pub struct EventContext {
    /// The stream ARN (`eventSourceARN`).
    pub stream_arn: String,
    /// The region (`awsRegion`).
    pub region: String,
    /// The function's execution role (`invokeIdentityArn`).
    pub role_arn: String,
}

fn base64(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(data)
}

/// One record of a Kinesis event, with its data already base64-encoded.
fn record_json(r: &StreamRecord, ctx: &EventContext, data: String) -> Value {
    json!({
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": r.partition_key,
            "sequenceNumber": r.sequence_number,
            "data": data,
            "approximateArrivalTimestamp": r.arrival,
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": format!("{}:{}", r.shard_id, r.sequence_number),
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": ctx.role_arn,
        "awsRegion": ctx.region,
        "eventSourceARN": ctx.stream_arn,
    })
}

/// The event Lambda sends for a batch of Kinesis records.
pub fn kinesis_event(records: &[StreamRecord], ctx: &EventContext) -> Value {
    let records: Vec<Value> = records
        .iter()
        .map(|r| record_json(r, ctx, base64(&r.data)))
        .collect();
    json!({ "Records": records })
}

/// The bytes `{"Records":[]}` takes in a serialized event, around the records.
pub const EVENT_ENVELOPE_BYTES: usize = r#"{"Records":[]}"#.len();

/// The bytes one record takes in the serialized [`kinesis_event`] (without the comma between
/// records), computed without encoding its data: the event of `n` records is
/// [`EVENT_ENVELOPE_BYTES`] + `n - 1` + the sum of these.
pub fn record_event_bytes(r: &StreamRecord, ctx: &EventContext) -> usize {
    let without_data = record_json(r, ctx, String::new()).to_string().len();
    without_data + r.data.len().div_ceil(3) * 4
}

/// The record as event filtering sees it (see [`super::filter`]).
pub fn filter_view(record: &StreamRecord) -> Value {
    let data = serde_json::from_slice::<Value>(&record.data)
        .unwrap_or_else(|_| Value::String(base64(&record.data)));
    json!({
        "kinesisSchemaVersion": "1.0",
        "partitionKey": record.partition_key,
        "sequenceNumber": record.sequence_number,
        "approximateArrivalTimestamp": record.arrival,
        "data": data,
    })
}

/// Why a batch was given up (`requestContext.condition`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Condition {
    /// `MaximumRetryAttempts` was reached.
    RetryAttemptsExhausted,
    /// Records were older than `MaximumRecordAgeInSeconds`.
    RecordAgeExceeded,
}

impl Condition {
    /// The name AWS uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Condition::RetryAttemptsExhausted => "RetryAttemptsExhausted",
            Condition::RecordAgeExceeded => "RecordAgeExceeded",
        }
    }
}

/// What the on-failure message says about the invocations of a given-up batch.
#[derive(Debug, Clone, PartialEq)]
pub struct FailureContext {
    /// The condition.
    pub condition: Condition,
    /// Invocations of this batch (`approximateInvokeCount`).
    pub invoke_count: u32,
    /// Request id of the last invocation (a new id when it was never invoked).
    pub request_id: String,
    /// Whether the last invocation ended in a function error (`functionError: "Unhandled"`).
    pub function_error: bool,
}

fn iso_millis(epoch_seconds: f64) -> String {
    // Whole milliseconds: the arrival timestamps carry no more.
    #[allow(clippy::cast_possible_truncation)]
    let millis = (epoch_seconds * 1000.0).round() as i64;
    chrono::DateTime::from_timestamp_millis(millis)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

/// The invocation record Lambda sends to an on-failure destination for a Kinesis batch
/// (Lambda developer guide, "Retain discarded batch records for a Kinesis Data Streams event
/// source"): `requestContext`, `responseContext`, `version`, `timestamp`, `KinesisBatchInfo`.
///
/// As AWS records it (conformance/kinesis-lambda): after `RetryAttemptsExhausted` the
/// `responseContext` always carries `functionError`, `"Unhandled"` for a function error and
/// `null` when the function answered but its response failed the batch (a bad or partial
/// `batchItemFailures`); a `RecordAgeExceeded` record has no `responseContext` at all.
pub fn on_failure_message(
    records: &[StreamRecord],
    function_arn: &str,
    stream_arn: &str,
    failure: &FailureContext,
    now_epoch_seconds: f64,
) -> Value {
    let (first, last) = match (records.first(), records.last()) {
        (Some(f), Some(l)) => (f, l),
        _ => return Value::Null,
    };
    let mut message = json!({
        "requestContext": {
            "requestId": failure.request_id,
            "functionArn": function_arn,
            "condition": failure.condition.as_str(),
            "approximateInvokeCount": failure.invoke_count,
        },
        "version": "1.0",
        "timestamp": iso_millis(now_epoch_seconds),
        "KinesisBatchInfo": {
            "shardId": first.shard_id,
            "startSequenceNumber": first.sequence_number,
            "endSequenceNumber": last.sequence_number,
            "approximateArrivalOfFirstRecord": iso_millis(first.arrival),
            "approximateArrivalOfLastRecord": iso_millis(last.arrival),
            "batchSize": records.len(),
            "streamArn": stream_arn,
        }
    });
    if failure.condition == Condition::RetryAttemptsExhausted {
        message["responseContext"] = json!({
            "statusCode": 200,
            "executedVersion": "$LATEST",
            "functionError": failure.function_error.then_some("Unhandled"),
        });
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(seq: &str, data: &str) -> StreamRecord {
        StreamRecord {
            shard_id: "shardId-000000000006".into(),
            sequence_number: seq.into(),
            partition_key: "1".into(),
            data: Bytes::from(data.to_owned()),
            arrival: 1_545_084_650.987,
        }
    }

    fn ctx() -> EventContext {
        EventContext {
            stream_arn: "arn:aws:kinesis:us-east-2:123456789012:stream/lambda-stream".into(),
            region: "us-east-2".into(),
            role_arn: "arn:aws:iam::123456789012:role/lambda-role".into(),
        }
    }

    #[test]
    fn sequence_numbers_order_numerically() {
        let s = |v: &str| SequenceNumber(v.to_owned());
        assert!(s("9") < s("10"));
        assert!(
            s("49590338271490256608559692538361571095921575989136588898")
                > s("4959033827149025660855969253836157109592157598913658889")
        );
        assert_eq!(s("007").cmp(&s("7")), Ordering::Equal);
    }

    #[test]
    fn the_event_has_lambdas_shape_and_round_trips_through_aws_lambda_events() {
        let seq = "49590338271490256608559692538361571095921575989136588898";
        let event = kinesis_event(&[rec(seq, "Hello, this is a test.")], &ctx());
        // The example event of the Lambda developer guide, field for field.
        let expected = json!({"Records":[{
            "kinesis": {
                "kinesisSchemaVersion": "1.0",
                "partitionKey": "1",
                "sequenceNumber": seq,
                "data": "SGVsbG8sIHRoaXMgaXMgYSB0ZXN0Lg==",
                "approximateArrivalTimestamp": 1545084650.987
            },
            "eventSource": "aws:kinesis",
            "eventVersion": "1.0",
            "eventID": format!("shardId-000000000006:{seq}"),
            "eventName": "aws:kinesis:record",
            "invokeIdentityArn": "arn:aws:iam::123456789012:role/lambda-role",
            "awsRegion": "us-east-2",
            "eventSourceARN": "arn:aws:kinesis:us-east-2:123456789012:stream/lambda-stream"
        }]});
        assert_eq!(event, expected);
    }

    #[test]
    fn the_record_sizes_add_up_to_the_event_size() {
        for n in [1usize, 2, 3, 4, 1000] {
            let a = rec(
                "49590338271490256608559692538361571095921575989136588898",
                &"x".repeat(n),
            );
            let b = rec("7", &"\u{e9}".repeat(n));
            let event = kinesis_event(&[a.clone(), b.clone()], &ctx()).to_string();
            let sum = record_event_bytes(&a, &ctx()) + record_event_bytes(&b, &ctx());
            assert_eq!(event.len(), EVENT_ENVELOPE_BYTES + 1 + sum, "{n}");
        }
    }

    #[test]
    fn the_filter_view_parses_json_data() {
        let v = filter_view(&rec("1", r#"{"a":1}"#));
        assert_eq!(v["data"], json!({"a": 1}));
        let v = filter_view(&rec("1", "plain"));
        assert_eq!(v["data"], json!("cGxhaW4="));
    }

    #[test]
    fn the_on_failure_message_matches_the_documented_record() {
        let mut a = rec(
            "49601189658422359378836298521827638475320189012309704722",
            "x",
        );
        a.shard_id = "shardId-000000000001".into();
        a.arrival = 1_573_691_884.835;
        let mut b = a.clone();
        b.sequence_number = "49601189658422359378836298522902373528957594348623495186".into();
        b.arrival = 1_573_691_885.58;
        let failure = FailureContext {
            condition: Condition::RetryAttemptsExhausted,
            invoke_count: 1,
            request_id: "c9b8fa9f-5a7f-xmpl-af9c-0c604cde93a5".into(),
            function_error: true,
        };
        let message = on_failure_message(
            &[a, b],
            "arn:aws:lambda:us-east-2:123456789012:function:myfunction",
            "arn:aws:kinesis:us-east-2:123456789012:stream/mystream",
            &failure,
            1_573_691_886.021,
        );
        let expected = json!({
            "requestContext": {
                "requestId": "c9b8fa9f-5a7f-xmpl-af9c-0c604cde93a5",
                "functionArn": "arn:aws:lambda:us-east-2:123456789012:function:myfunction",
                "condition": "RetryAttemptsExhausted",
                "approximateInvokeCount": 1
            },
            "responseContext": {
                "statusCode": 200,
                "executedVersion": "$LATEST",
                "functionError": "Unhandled"
            },
            "version": "1.0",
            "timestamp": "2019-11-14T00:38:06.021Z",
            "KinesisBatchInfo": {
                "shardId": "shardId-000000000001",
                "startSequenceNumber": "49601189658422359378836298521827638475320189012309704722",
                "endSequenceNumber": "49601189658422359378836298522902373528957594348623495186",
                "approximateArrivalOfFirstRecord": "2019-11-14T00:38:04.835Z",
                "approximateArrivalOfLastRecord": "2019-11-14T00:38:05.580Z",
                "batchSize": 2,
                "streamArn": "arn:aws:kinesis:us-east-2:123456789012:stream/mystream"
            }
        });
        assert_eq!(message, expected);
    }

    #[test]
    fn a_bad_response_has_a_null_function_error_and_an_expired_batch_no_response_context() {
        let records = [rec("1", "x")];
        let mut failure = FailureContext {
            condition: Condition::RetryAttemptsExhausted,
            invoke_count: 3,
            request_id: "r".into(),
            function_error: false,
        };
        let message = on_failure_message(&records, "f", "s", &failure, 0.0);
        assert_eq!(message["responseContext"]["functionError"], Value::Null);
        assert!(
            message["responseContext"]
                .as_object()
                .unwrap()
                .contains_key("functionError")
        );
        failure.condition = Condition::RecordAgeExceeded;
        let message = on_failure_message(&records, "f", "s", &failure, 0.0);
        assert!(message.get("responseContext").is_none(), "{message}");
        assert_eq!(message["requestContext"]["condition"], "RecordAgeExceeded");
    }
}
