//! One user record read as a trip event, with bounded work.
//!
//! A record is at most [`MAX_RECORD_BYTES`] of UTF-8 JSON nesting at most [`MAX_DEPTH`] levels
//! (checked with one pass over the bytes before parsing), holding an object:
//! - `"type": "trip"`, or no `type` but a `trip_id`: a [`Trip`];
//! - `"type": "watermark"`: [`Event::Watermark`];
//! - any other `type`, or neither `type` nor `trip_id`: [`Event::Control`].
//!
//! Anything else is a [`ParseError`] naming what is wrong. One trailing newline (the replay
//! appends one) is whitespace, as any JSON whitespace around the object.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value};

use crate::error::ParseError;

/// The largest record data read (Kinesis' own limit for a record).
pub const MAX_RECORD_BYTES: usize = 1024 * 1024;

/// The deepest JSON nesting read (a trip is one level deep).
pub const MAX_DEPTH: usize = 64;

/// What one user record is.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A taxi trip.
    Trip(Box<Trip>),
    /// A replay watermark: skipped.
    Watermark,
    /// An event of another `type` (or none, without a `trip_id`): skipped.
    Control,
}

/// A taxi trip, with the fields the rows carry (optional ones `None` when absent or null).
#[derive(Debug, Clone, PartialEq)]
pub struct Trip {
    /// The trip's id.
    pub trip_id: i64,
    /// The id the fare API is asked about: `ride_request_id`, else `trip_id`.
    pub ride_request_id: i64,
    /// Pickup instant (UTC): the row's `dt=`/`hr=` partition.
    pub pickup_datetime: DateTime<Utc>,
    /// Dropoff instant.
    pub dropoff_datetime: Option<DateTime<Utc>>,
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
}

impl Trip {
    /// Whether the trip is sampled: `ride_request_id % every == 0` (the reference's rule;
    /// deterministic, so a retried batch samples the same trips).
    pub fn sampled(&self, every: u64) -> bool {
        let every = i128::from(every.max(1));
        i128::from(self.ride_request_id).rem_euclid(every) == 0
    }
}

/// Formats an instant as the trips carry it: `2018-01-01T00:03:12Z`.
pub fn format_instant(instant: &DateTime<Utc>) -> String {
    instant.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// Reads one user record.
///
/// # Errors
/// A [`ParseError`] saying what is wrong: too large, too deep, not UTF-8 JSON, not an object,
/// a trip without an integer `trip_id` or an ISO-8601 `pickup_datetime`, a field of the wrong
/// type.
pub fn parse(data: &[u8]) -> Result<Event, ParseError> {
    if data.len() > MAX_RECORD_BYTES {
        return Err(ParseError::TooLarge {
            size: data.len(),
            max: MAX_RECORD_BYTES,
        });
    }
    if depth_exceeds(data, MAX_DEPTH) {
        return Err(ParseError::TooDeep { max: MAX_DEPTH });
    }
    let object = kstream_pipeline::decode::decode_object(data)?;
    match object.get("type") {
        Some(Value::String(t)) if t == "trip" => trip(&object).map(|t| Event::Trip(Box::new(t))),
        Some(Value::String(t)) if t == "watermark" => Ok(Event::Watermark),
        None | Some(Value::Null) if object.contains_key("trip_id") => {
            trip(&object).map(|t| Event::Trip(Box::new(t)))
        }
        _ => Ok(Event::Control),
    }
}

/// Whether the JSON text nests deeper than `max` arrays/objects (brackets inside strings
/// do not count). One pass, no allocation.
fn depth_exceeds(data: &[u8], max: usize) -> bool {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for &b in data {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > max {
                    return true;
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

fn trip(object: &Map<String, Value>) -> Result<Trip, ParseError> {
    let trip_id = id(object, "trip_id")?.ok_or(ParseError::Field {
        field: "trip_id",
        problem: "is missing",
    })?;
    let ride_request_id = id(object, "ride_request_id")?.unwrap_or(trip_id);
    let pickup_datetime = instant(object, "pickup_datetime")?.ok_or(ParseError::Field {
        field: "pickup_datetime",
        problem: "is missing",
    })?;
    Ok(Trip {
        trip_id,
        ride_request_id,
        pickup_datetime,
        dropoff_datetime: instant(object, "dropoff_datetime")?,
        pickup_location_id: integer(object, "pickup_location_id")?,
        dropoff_location_id: integer(object, "dropoff_location_id")?,
        passenger_count: integer(object, "passenger_count")?,
        trip_distance: float(object, "trip_distance")?,
        total_amount: float(object, "total_amount")?,
    })
}

fn present<'a>(object: &'a Map<String, Value>, field: &str) -> Option<&'a Value> {
    object.get(field).filter(|v| !v.is_null())
}

fn integer(object: &Map<String, Value>, field: &'static str) -> Result<Option<i64>, ParseError> {
    present(object, field)
        .map(|v| {
            v.as_i64().ok_or(ParseError::Field {
                field,
                problem: "is not an integer",
            })
        })
        .transpose()
}

/// An id: a positive integer (the fare API treats 0 as missing).
fn id(object: &Map<String, Value>, field: &'static str) -> Result<Option<i64>, ParseError> {
    match integer(object, field)? {
        Some(id) if id <= 0 => Err(ParseError::Field {
            field,
            problem: "is not a positive integer",
        }),
        other => Ok(other),
    }
}

fn float(object: &Map<String, Value>, field: &'static str) -> Result<Option<f64>, ParseError> {
    present(object, field)
        .map(|v| {
            v.as_f64().ok_or(ParseError::Field {
                field,
                problem: "is not a number",
            })
        })
        .transpose()
}

fn instant(
    object: &Map<String, Value>,
    field: &'static str,
) -> Result<Option<DateTime<Utc>>, ParseError> {
    let Some(value) = present(object, field) else {
        return Ok(None);
    };
    let text = value.as_str().ok_or(ParseError::Field {
        field,
        problem: "is not a string",
    })?;
    DateTime::parse_from_rfc3339(text)
        .map(|t| Some(t.with_timezone(&Utc)))
        .map_err(|_| ParseError::Datetime {
            field,
            value: text.chars().take(64).collect(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRIP: &str = r#"{"type":"trip","trip_id":7,"vendor_id":2,"pickup_datetime":"2018-01-01T00:03:12Z","dropoff_datetime":"2018-01-01T00:14:40Z","passenger_count":1,"trip_distance":2.5,"pickup_location_id":161,"dropoff_location_id":236,"rate_code":1,"store_and_fwd_flag":"N","payment_type":1,"fare_amount":11.0,"extra":0.5,"mta_tax":0.5,"tip_amount":2.0,"tolls_amount":0.0,"total_amount":14.3}"#;

    #[test]
    fn reads_a_trip_with_its_trailing_newline() {
        let Event::Trip(trip) = parse(format!("{TRIP}\n").as_bytes()).unwrap() else {
            panic!("not a trip");
        };
        assert_eq!((trip.trip_id, trip.ride_request_id), (7, 7));
        assert_eq!(
            format_instant(&trip.pickup_datetime),
            "2018-01-01T00:03:12Z"
        );
        assert_eq!(trip.pickup_location_id, Some(161));
        assert_eq!(trip.total_amount, Some(14.3));
    }

    #[test]
    fn ride_request_id_overrides_trip_id_and_type_is_optional() {
        let Event::Trip(trip) = parse(
            br#"{"trip_id":7,"ride_request_id":40,"pickup_datetime":"2018-01-01T00:03:12Z"}"#,
        )
        .unwrap() else {
            panic!("not a trip");
        };
        assert_eq!((trip.trip_id, trip.ride_request_id), (7, 40));
        assert!(trip.sampled(20) && trip.sampled(1) && !trip.sampled(3));
        assert_eq!(trip.dropoff_datetime, None);
    }

    #[test]
    fn watermarks_and_other_types_are_skipped() {
        assert_eq!(
            parse(br#"{"watermark":"2018-01-01T00:10:00.000Z","type":"watermark"}"#),
            Ok(Event::Watermark)
        );
        assert_eq!(parse(br#"{"type":"reset"}"#), Ok(Event::Control));
        assert_eq!(parse(br#"{"hello":1}"#), Ok(Event::Control));
    }

    #[test]
    fn bad_records_say_why() {
        let reason = |data: &[u8]| parse(data).unwrap_err().to_string();
        assert_eq!(
            reason(br#"{"type":"trip","trip_id":"7","pickup_datetime":"2018-01-01T00:03:12Z"}"#),
            "trip field `trip_id` is not an integer"
        );
        assert_eq!(
            reason(br#"{"type":"trip","pickup_datetime":"2018-01-01T00:03:12Z"}"#),
            "trip field `trip_id` is missing"
        );
        assert_eq!(
            reason(br#"{"type":"trip","trip_id":7,"pickup_datetime":"01/01/2018 00:03"}"#),
            "trip field `pickup_datetime` is \"01/01/2018 00:03\", not an ISO-8601 instant (2018-01-01T00:03:12Z)"
        );
        assert!(reason(b"[1]").contains("array"), "{}", reason(b"[1]"));
        assert!(reason(b"{nope").contains("not valid JSON"));
    }

    #[test]
    fn work_is_bounded() {
        let deep = format!("{}{}", "[".repeat(65), "]".repeat(65));
        assert_eq!(parse(deep.as_bytes()), Err(ParseError::TooDeep { max: 64 }));
        let ok = format!("{{\"a\":{}{}}}", "[".repeat(63), "]".repeat(63));
        assert_eq!(parse(ok.as_bytes()), Ok(Event::Control));
        let brackets_in_strings = format!("{{\"a\":\"{}\\\"\"}}", "[".repeat(100));
        assert_eq!(parse(brackets_in_strings.as_bytes()), Ok(Event::Control));
        let big = vec![b' '; MAX_RECORD_BYTES + 1];
        assert!(matches!(parse(&big), Err(ParseError::TooLarge { .. })));
    }

    #[test]
    fn sampling_handles_negative_ids_and_every_one() {
        let trip = |id| Trip {
            trip_id: id,
            ride_request_id: id,
            pickup_datetime: DateTime::UNIX_EPOCH,
            dropoff_datetime: None,
            pickup_location_id: None,
            dropoff_location_id: None,
            passenger_count: None,
            trip_distance: None,
            total_amount: None,
        };
        assert!(trip(-40).sampled(20));
        assert!(!trip(-41).sampled(20));
        assert!(trip(i64::MAX).sampled(1));
    }
}
