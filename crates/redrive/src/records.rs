//! A range's user records (KPL aggregates deaggregated) and the JSON line each is written as
//! for inspection (S3 objects here, files in `kstream redrive --to-file`).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, SecondsFormat};
use kstream_kpl::SubRecord;
use kstream_local_lambda::mapping::event::StreamRecord;
use serde_json::{Map, Value, json};

use crate::message::BatchInfo;

/// Every user record of the records, with the Kinesis record it came from: aggregates
/// deaggregated, other records as they are (one user record each).
pub fn user_records(records: &[StreamRecord]) -> impl Iterator<Item = (&StreamRecord, SubRecord)> {
    records.iter().flat_map(|r| {
        kstream_kpl::deaggregate_record(&r.partition_key, &r.sequence_number, r.data.clone())
            .into_iter()
            .map(move |sub| (r, sub))
    })
}

/// A user record's identity: shard, sequence number, sub-sequence number.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RecordKey {
    /// The shard.
    pub shard: String,
    /// The Kinesis record's sequence number.
    pub sequence: String,
    /// The user record's index in its aggregate (0 for a plain record).
    pub sub: u64,
}

impl RecordKey {
    /// The key of a line written by [`line`]; `None` for any other JSON text.
    pub fn of_line(text: &str) -> Option<Self> {
        let v = serde_json::from_str::<Value>(text).ok()?;
        Some(Self {
            shard: v["shardId"].as_str()?.to_owned(),
            sequence: v["sequenceNumber"].as_str()?.to_owned(),
            sub: v["subSequenceNumber"].as_u64()?,
        })
    }
}

/// A user record's key and its JSON line:
/// `{"streamArn", "shardId", "sequenceNumber", "subSequenceNumber", "partitionKey",
/// "explicitHashKey"?, "approximateArrivalTimestamp", "aggregated", "data" (base64),
/// "corrupt"?}`.
pub fn line(info: &BatchInfo, record: &StreamRecord, sub: &SubRecord) -> (RecordKey, String) {
    let mut object = Map::new();
    object.insert("streamArn".into(), json!(info.stream_arn));
    object.insert("shardId".into(), json!(record.shard_id));
    object.insert("sequenceNumber".into(), json!(record.sequence_number));
    object.insert("subSequenceNumber".into(), json!(sub.sub_sequence_number));
    object.insert("partitionKey".into(), json!(sub.partition_key));
    if let Some(ehk) = &sub.explicit_hash_key {
        object.insert("explicitHashKey".into(), json!(ehk));
    }
    #[allow(clippy::cast_possible_truncation)]
    let millis = (record.arrival * 1000.0).round() as i64;
    if let Some(t) = DateTime::from_timestamp_millis(millis) {
        object.insert(
            "approximateArrivalTimestamp".into(),
            json!(t.to_rfc3339_opts(SecondsFormat::Millis, true)),
        );
    }
    object.insert("aggregated".into(), json!(sub.aggregated));
    object.insert("data".into(), json!(STANDARD.encode(&sub.data)));
    if sub.is_corrupt()
        && let Some(reason) = &sub.not_aggregated
    {
        object.insert("corrupt".into(), json!(reason.to_string()));
    }
    let key = RecordKey {
        shard: record.shard_id.clone(),
        sequence: record.sequence_number.clone(),
        sub: sub.sub_sequence_number,
    };
    (key, Value::Object(object).to_string())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use bytes::Bytes;
    use kstream_kpl::{Aggregator, AggregatorConfig, UserRecord};

    pub(crate) fn info() -> BatchInfo {
        BatchInfo {
            shard_id: "shardId-000000000000".into(),
            start_sequence_number: "1".into(),
            end_sequence_number: "2".into(),
            stream_arn: "arn:aws:kinesis:us-east-1:123456789012:stream/s".into(),
            batch_size: Some(2),
        }
    }

    pub(crate) fn record(seq: &str, data: impl Into<Bytes>) -> StreamRecord {
        StreamRecord {
            shard_id: "shardId-000000000000".into(),
            sequence_number: seq.into(),
            partition_key: "pk".into(),
            data: data.into(),
            arrival: 1_700_000_000.5,
        }
    }

    #[test]
    fn aggregates_are_written_one_line_per_user_record() {
        let mut agg = Aggregator::new(AggregatorConfig::default());
        for (k, d) in [("a", "one"), ("b", "two")] {
            let _ = agg.add(UserRecord::new(k, d.as_bytes().to_vec()));
        }
        let aggregate = agg.flush().unwrap();
        let records = [
            record("1", Bytes::from_static(b"plain")),
            record("2", aggregate.data),
        ];
        let lines: Vec<(RecordKey, String)> = user_records(&records)
            .map(|(r, sub)| line(&info(), r, &sub))
            .collect();
        let values: Vec<Value> = lines
            .iter()
            .map(|(_, l)| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(values.len(), 3);
        assert_eq!(values[0]["data"], STANDARD.encode("plain"));
        assert_eq!(values[0]["aggregated"], false);
        assert_eq!(values[1]["partitionKey"], "a");
        assert_eq!(values[2]["subSequenceNumber"], 1);
        assert_eq!(values[2]["data"], STANDARD.encode("two"));
        assert_eq!(values[2]["sequenceNumber"], "2");
        assert_eq!(
            values[0]["approximateArrivalTimestamp"],
            "2023-11-14T22:13:20.500Z"
        );
        for (key, text) in &lines {
            assert_eq!(RecordKey::of_line(text).as_ref(), Some(key));
        }
        assert_eq!(RecordKey::of_line("hello"), None);
        assert_eq!(RecordKey::of_line(r#"{"shardId": "s"}"#), None);
    }
}
