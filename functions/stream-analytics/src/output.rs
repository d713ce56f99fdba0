//! What the function writes to S3, and under which keys.
//!
//! **Filtered rows** (the reference's query: every record with `price > threshold`), as the
//! reference's Flink filesystem sink lays them out: `<rows prefix>ticker=<ticker>/dt=<yyyy-MM-dd>/hr=<HH>/`,
//! one JSON object per line with the non-partition columns of `sink_table_s3` in order,
//! `{"event_time":"2026-11-22 05:00:00.123","price":72.5}` (Flink writes `TIMESTAMP` in its
//! SQL form and drops trailing zeros of the fraction; the partition columns live in the path
//! only). `dt` and `hr` come from the record's event time, as `DATE_FORMAT(event_time, …)` does.
//!
//! **Window aggregates**: `<aggregates prefix>dt=<yyyy-MM-dd>/hr=<HH>/` of the window start, one
//! line per ticker.
//!
//! **Idempotence.** Every key is a function of (stream, shard, window start, segment, part):
//! the segment is the sequence number of the segment's first record and the part a counter kept
//! in the window state. Lambda retries an invoke with the state the failed attempt started from,
//! so a retried invoke writes the same keys again and overwrites; nothing is written twice under
//! two names.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::{DateTime, Timelike, Utc};
use serde::Serialize;

use crate::ticker::Ticker;
use crate::window::{TickerStats, WindowState};

/// Where one window segment's objects go.
#[derive(Debug, Clone)]
pub struct WindowKey<'a> {
    /// The stream's name.
    pub stream: &'a str,
    /// The shard's id.
    pub shard: &'a str,
    /// The window's start.
    pub start: DateTime<Utc>,
    /// The segment's first sequence number.
    pub segment: &'a str,
}

impl WindowKey<'_> {
    fn stem(&self) -> String {
        format!(
            "{}-{}-{}-{}",
            self.stream,
            self.shard,
            self.start.format("%Y%m%dT%H%M%SZ"),
            self.segment
        )
    }
}

/// One object to write.
#[derive(Debug, Clone, PartialEq)]
pub struct Object {
    /// The S3 key.
    pub key: String,
    /// JSON lines.
    pub body: Vec<u8>,
}

/// Flink's SQL text of a timestamp: `yyyy-MM-dd HH:mm:ss` and the fraction without trailing
/// zeros (`appendFraction(NANO_OF_SECOND, 0, 9, true)` in Flink's `TimeFormats`).
pub fn flink_timestamp(time: DateTime<Utc>) -> String {
    let mut text = time.format("%Y-%m-%d %H:%M:%S").to_string();
    let nanos = time.nanosecond() % 1_000_000_000;
    if nanos > 0 {
        let fraction = format!("{nanos:09}");
        let _ = write!(text, ".{}", fraction.trim_end_matches('0'));
    }
    text
}

#[derive(Serialize)]
struct Row {
    event_time: String,
    price: f64,
}

/// The rows of one invoke, one object per (ticker, dt, hr), part `part` of the segment.
pub fn filtered_rows(prefix: &str, key: &WindowKey<'_>, part: u32, rows: &[Ticker]) -> Vec<Object> {
    let mut groups: BTreeMap<(String, String, String), Vec<u8>> = BTreeMap::new();
    for row in rows {
        let group = (
            row.ticker.clone(),
            row.event_time.format("%Y-%m-%d").to_string(),
            row.event_time.format("%H").to_string(),
        );
        let body = groups.entry(group).or_default();
        let line = Row {
            event_time: flink_timestamp(row.event_time),
            price: row.price,
        };
        serde_json::to_writer(&mut *body, &line).expect("a row always serializes");
        body.push(b'\n');
    }
    let stem = key.stem();
    groups
        .into_iter()
        .map(|((ticker, dt, hr), body)| Object {
            key: format!("{prefix}ticker={ticker}/dt={dt}/hr={hr}/{stem}-{part:05}.json"),
            body,
        })
        .collect()
}

#[derive(Serialize)]
struct AggregateLine<'a> {
    window_start: String,
    window_end: String,
    stream: &'a str,
    shard_id: &'a str,
    ticker: &'a str,
    count: u64,
    min_price: f64,
    max_price: f64,
    avg_price: f64,
    sum_price: f64,
    first_event_time: String,
    last_event_time: String,
    terminated_early: bool,
}

/// The window segment's aggregates: one object, a line per ticker (none when it saw no record).
pub fn aggregates(
    prefix: &str,
    key: &WindowKey<'_>,
    end: DateTime<Utc>,
    state: &WindowState,
    terminated_early: bool,
) -> Option<Object> {
    if state.tickers.is_empty() {
        return None;
    }
    let mut body = Vec::new();
    for (ticker, stats) in &state.tickers {
        let TickerStats {
            count,
            min,
            max,
            sum,
            first,
            last,
        } = stats;
        let line = AggregateLine {
            window_start: flink_timestamp(key.start),
            window_end: flink_timestamp(end),
            stream: key.stream,
            shard_id: key.shard,
            ticker,
            count: *count,
            min_price: *min,
            max_price: *max,
            avg_price: stats.avg(),
            sum_price: *sum,
            first_event_time: flink_timestamp(*first),
            last_event_time: flink_timestamp(*last),
            terminated_early,
        };
        serde_json::to_writer(&mut body, &line).expect("an aggregate always serializes");
        body.push(b'\n');
    }
    Some(Object {
        key: format!(
            "{prefix}dt={}/hr={}/{}.json",
            key.start.format("%Y-%m-%d"),
            key.start.format("%H"),
            key.stem()
        ),
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn flink_drops_trailing_zeros_of_the_fraction() {
        assert_eq!(
            flink_timestamp(at("2026-11-22T05:00:00.123Z")),
            "2026-11-22 05:00:00.123"
        );
        assert_eq!(
            flink_timestamp(at("2026-11-22T05:00:00.120Z")),
            "2026-11-22 05:00:00.12"
        );
        assert_eq!(
            flink_timestamp(at("2026-11-22T05:00:00Z")),
            "2026-11-22 05:00:00"
        );
    }

    #[test]
    fn rows_land_under_the_sink_layout_with_deterministic_keys() {
        let key = WindowKey {
            stream: "s",
            shard: "shardId-000000000001",
            start: at("2026-11-22T05:59:00Z"),
            segment: "495",
        };
        let rows = [
            Ticker {
                event_time: at("2026-11-22T05:59:59.5Z"),
                ticker: "AAPL".into(),
                price: 60.0,
            },
            Ticker {
                event_time: at("2026-11-22T06:00:00.25Z"),
                ticker: "AAPL".into(),
                price: 70.25,
            },
            Ticker {
                event_time: at("2026-11-22T05:59:01Z"),
                ticker: "AAPL".into(),
                price: 51.0,
            },
        ];
        let objects = filtered_rows("rows/", &key, 3, &rows);
        assert_eq!(objects.len(), 2);
        assert_eq!(
            objects[0].key,
            "rows/ticker=AAPL/dt=2026-11-22/hr=05/s-shardId-000000000001-20261122T055900Z-495-00003.json"
        );
        assert_eq!(
            String::from_utf8(objects[0].body.clone()).unwrap(),
            "{\"event_time\":\"2026-11-22 05:59:59.5\",\"price\":60.0}\n{\"event_time\":\"2026-11-22 05:59:01\",\"price\":51.0}\n"
        );
        assert_eq!(
            objects[1].key,
            "rows/ticker=AAPL/dt=2026-11-22/hr=06/s-shardId-000000000001-20261122T055900Z-495-00003.json"
        );
        assert_eq!(
            filtered_rows("rows/", &key, 3, &rows),
            objects,
            "same input, same keys and bodies"
        );
    }
}
