//! Object keys and lines.
//!
//! - Rows: `{OUTPUT_PREFIX}dt=YYYY-MM-DD/hr=HH/{shard}-{first}-{last}.jsonl`, `dt`/`hr` from
//!   the trip's pickup instant (UTC), `first`/`last` the sequence numbers of the first and last
//!   Kinesis record whose rows are written (the same for every object of the invocation): a
//!   retried batch writes the same keys, so it overwrites rather than duplicates.
//! - Records that cannot be read: `{ERROR_PREFIX}dt=YYYY-MM-DD/{shard}-{first}-{last}.jsonl`,
//!   `dt` the invocation's date, `first`/`last` the batch's.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::trip::{Trip, format_instant};

/// One enriched (or, with `WRITE_UNSAMPLED`, unsampled) trip: one line of a rows object.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row<'a> {
    /// The trip's id.
    pub trip_id: i64,
    /// The id the fare was asked for.
    pub ride_request_id: i64,
    /// `2018-01-01T00:03:12Z`.
    pub pickup_datetime: String,
    /// `2018-01-01T00:14:40Z`, or null.
    pub dropoff_datetime: Option<String>,
    /// Pickup zone.
    pub pickup_location_id: Option<i64>,
    /// Dropoff zone.
    pub dropoff_location_id: Option<i64>,
    /// Passengers.
    pub passenger_count: Option<i64>,
    /// Miles.
    pub trip_distance: Option<f64>,
    /// What the passenger paid.
    pub total_amount: Option<f64>,
    /// The fare API's prediction (null when not sampled).
    pub expected_fare: Option<f64>,
    /// Whether the trip was sampled.
    pub sampled: bool,
    /// The Kinesis shard.
    pub shard_id: &'a str,
    /// The Kinesis record's sequence number.
    pub sequence_number: &'a str,
}

impl<'a> Row<'a> {
    /// The row of `trip`, read from the record `sequence_number` of `shard_id`.
    pub fn new(
        trip: &Trip,
        expected_fare: Option<f64>,
        sampled: bool,
        shard_id: &'a str,
        sequence_number: &'a str,
    ) -> Self {
        Self {
            trip_id: trip.trip_id,
            ride_request_id: trip.ride_request_id,
            pickup_datetime: format_instant(&trip.pickup_datetime),
            dropoff_datetime: trip.dropoff_datetime.as_ref().map(format_instant),
            pickup_location_id: trip.pickup_location_id,
            dropoff_location_id: trip.dropoff_location_id,
            passenger_count: trip.passenger_count,
            trip_distance: trip.trip_distance,
            total_amount: trip.total_amount,
            expected_fare,
            sampled,
            shard_id,
            sequence_number,
        }
    }
}

/// A record that cannot be read: one line of the error output.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ErrorLine {
    /// The Kinesis shard.
    pub shard_id: String,
    /// The Kinesis record's sequence number.
    pub sequence_number: String,
    /// The partition key (the user record's, inside a KPL aggregate).
    pub partition_key: String,
    /// When Kinesis accepted the record (seconds since the epoch).
    pub approximate_arrival_timestamp: Option<f64>,
    /// Why it cannot be read.
    pub reason: String,
    /// The data (the user record's, inside a KPL aggregate), base64.
    pub data_base64: String,
}

/// The rows object key of the partition of `pickup`.
pub fn rows_key(
    prefix: &str,
    pickup: &DateTime<Utc>,
    shard: &str,
    first: &str,
    last: &str,
) -> String {
    format!(
        "{prefix}dt={}/hr={}/{shard}-{first}-{last}.jsonl",
        pickup.format("%Y-%m-%d"),
        pickup.format("%H")
    )
}

/// The error object key of an invocation on `day`.
pub fn errors_key(
    prefix: &str,
    day: &DateTime<Utc>,
    shard: &str,
    first: &str,
    last: &str,
) -> String {
    format!(
        "{prefix}dt={}/{shard}-{first}-{last}.jsonl",
        day.format("%Y-%m-%d")
    )
}

/// Lines of JSON, each ended by `\n`.
pub fn jsonl<T: Serialize>(lines: &[T]) -> Vec<u8> {
    let mut body = Vec::new();
    for line in lines {
        // Serializing these structs cannot fail (string keys, finite or null numbers).
        if serde_json::to_writer(&mut body, line).is_ok() {
            body.push(b'\n');
        }
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_follow_the_contract() {
        let pickup = DateTime::parse_from_rfc3339("2018-01-01T07:03:12Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            rows_key("enriched/", &pickup, "shardId-000000000001", "10", "20"),
            "enriched/dt=2018-01-01/hr=07/shardId-000000000001-10-20.jsonl"
        );
        assert_eq!(
            errors_key("errors/", &pickup, "shardId-000000000001", "10", "20"),
            "errors/dt=2018-01-01/shardId-000000000001-10-20.jsonl"
        );
    }
}
