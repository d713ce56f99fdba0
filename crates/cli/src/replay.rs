//! `kstream replay`: replays JSON lines (plain, gzip or LZ4 frames) in event-time order, scaled
//! by a speedup, as `amazon-kinesis-replay` does for pattern 4's taxi trips.
//!
//! Each line's `--timestamp-attribute` (default `dropoff_datetime`) is an ISO-8601 instant
//! (`2018-01-01T00:20:51.000Z`; without an offset it is taken as UTC; epoch seconds or
//! milliseconds also work). A line is sent at `start + (t - t_first) / speedup`; with the
//! default speedup of 6480, an hour of trips takes about half a second. Like the Java tool, the
//! input must already be sorted by the attribute: an earlier timestamp is sent at once and
//! counted as out of order. Backpressure: reading waits while `--max-outstanding` records are in
//! flight, so a slow stream slows the replay instead of buffering without bound.
//!
//! Each line is sent verbatim with a `\n` appended (as the Java tool does; `--no-newline` turns
//! that off); the partition key is the MD5 of the line unless a template or field is given.
//! Lines that are not JSON or lack a valid timestamp are reported with their line number and
//! skipped; the command then exits non-zero.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDateTime, Utc};
use kstream_producer::UserRecord;
use serde_json::Value;

use crate::aws::ConnectArgs;
use crate::feed::LineFeed;
use crate::input;
use crate::producing::{self, ProducerArgs, Tracker};
use crate::put::{KeyArgs, KeyMaker};

/// Arguments of `kstream replay`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The stream to put records into.
    #[arg(long, short)]
    stream: String,
    /// JSON lines sorted by event time (plain, gzip or LZ4 frame format); `-` reads stdin.
    file: PathBuf,
    /// How much faster than real time to replay (event-time seconds per wall-clock second).
    #[arg(long, default_value_t = 6480.0)]
    speedup: f64,
    /// The field holding each event's time.
    #[arg(long, default_value = "dropoff_datetime")]
    timestamp_attribute: String,
    /// Send lines without appending a newline.
    #[arg(long)]
    no_newline: bool,
    #[command(flatten)]
    keys: KeyArgs,
    #[command(flatten)]
    pub(crate) producer: ProducerArgs,
    #[command(flatten)]
    connect: ConnectArgs,
}

/// Parses an event time: RFC 3339, ISO-8601 without offset (UTC), or epoch seconds/millis.
pub(crate) fn event_time(value: &Value) -> Option<DateTime<Utc>> {
    match value {
        Value::String(text) => {
            if let Ok(t) = DateTime::parse_from_rfc3339(text) {
                return Some(t.with_timezone(&Utc));
            }
            ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"]
                .iter()
                .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
                .map(|naive| naive.and_utc())
        }
        Value::Number(n) => {
            let v = n.as_f64()?;
            let millis = if v.abs() >= 1e11 { v } else { v * 1000.0 };
            DateTime::from_timestamp_millis(millis as i64)
        }
        _ => None,
    }
}

/// When (after the start) an event `offset` after the first one is sent.
pub(crate) fn schedule(offset: chrono::TimeDelta, speedup: f64) -> Duration {
    let micros = offset.num_microseconds().unwrap_or(i64::MAX).max(0) as f64;
    Duration::from_secs_f64(micros / 1e6 / speedup)
}

/// Runs `kstream replay`.
pub(crate) async fn run(args: Args) -> miette::Result<()> {
    if !(args.speedup.is_finite() && args.speedup > 0.0) {
        return Err(miette::miette!(
            "--speedup must be a positive number, got {}",
            args.speedup
        ));
    }
    let keys = KeyMaker::new(&args.keys)?;
    let lines = input::lines(Some(args.file.clone()))?;
    let session = args.producer.start(&args.connect, &args.stream).await?;
    let bar = producing::progress(None, "events");
    let tracker = Tracker::new(bar.clone());
    let mut feed = LineFeed::new(lines, producing::interrupt(), bar.clone());
    let started = Instant::now();
    let mut first: Option<(DateTime<Utc>, tokio::time::Instant)> = None;
    let mut out_of_order = 0u64;
    let mut last_time: Option<DateTime<Utc>> = None;
    while let Some(line) = feed.next().await {
        let parsed: Result<(Value, DateTime<Utc>), String> = serde_json::from_slice(&line.bytes)
            .map_err(|e| format!("not JSON: {e}"))
            .and_then(|record: Value| {
                let time = record
                    .get(&args.timestamp_attribute)
                    .and_then(event_time)
                    .ok_or_else(|| {
                        format!(
                            "no valid ISO-8601 timestamp in {:?}",
                            args.timestamp_attribute
                        )
                    })?;
                Ok((record, time))
            });
        let (record, time) = match parsed {
            Ok(p) => p,
            Err(e) => {
                feed.reject(line.number, format_args!("skipped: {e}"));
                continue;
            }
        };
        let key = match keys.key(&line.bytes, &record) {
            Ok(key) => key,
            Err(e) => {
                feed.reject(line.number, format_args!("skipped: {e}"));
                continue;
            }
        };
        let (t0, start) = *first.get_or_insert((time, tokio::time::Instant::now()));
        if last_time.is_some_and(|last| time < last) {
            out_of_order += 1;
        } else {
            last_time = Some(time);
        }
        let due = start + schedule(time - t0, args.speedup);
        if due > tokio::time::Instant::now() && !feed.sleep_until(due).await {
            break;
        }
        let mut data = line.bytes;
        if !args.no_newline {
            data.push(b'\n');
        }
        let record = UserRecord::new(key, data);
        if !feed
            .send(&session.producer, &tracker, line.number, record)
            .await?
        {
            break;
        }
        if feed.sent % 500 == 1 {
            let behind = tokio::time::Instant::now().saturating_duration_since(due);
            bar.set_message(format!(
                "event time {}, {:.1} s behind schedule",
                time.format("%Y-%m-%dT%H:%M:%SZ"),
                behind.as_secs_f64()
            ));
        }
    }
    let (_, failed) = producing::finish(session, tracker, bar, started).await;
    if out_of_order > 0 {
        eprintln!(
            "{out_of_order} event(s) were earlier than the one before (input not sorted) and were sent at once"
        );
    }
    let (sent, skipped) = (feed.sent, feed.rejected);
    feed.into_result()?;
    if failed + skipped > 0 {
        return Err(miette::miette!(
            "{} line(s) not put: {skipped} skipped, {failed} failed ({sent} sent)",
            failed + skipped
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn event_times_parse() {
        let expected = DateTime::parse_from_rfc3339("2018-01-01T00:20:51Z")
            .unwrap()
            .with_timezone(&Utc);
        for value in [
            json!("2018-01-01T00:20:51Z"),
            json!("2018-01-01T00:20:51.000Z"),
            json!("2018-01-01T01:20:51+01:00"),
            json!("2018-01-01T00:20:51"),
            json!("2018-01-01 00:20:51"),
            json!(1_514_766_051),
            json!(1_514_766_051_000_i64),
        ] {
            assert_eq!(event_time(&value), Some(expected), "{value}");
        }
        assert_eq!(event_time(&json!("yesterday")), None);
        assert_eq!(event_time(&json!(null)), None);
    }

    #[test]
    fn the_schedule_scales_by_the_speedup() {
        let hour = chrono::TimeDelta::hours(1);
        let d = schedule(hour, 6480.0);
        assert!((d.as_secs_f64() - 3600.0 / 6480.0).abs() < 1e-9);
        assert_eq!(
            schedule(chrono::TimeDelta::seconds(-5), 10.0),
            Duration::ZERO
        );
        assert_eq!(
            schedule(chrono::TimeDelta::seconds(10), 1.0),
            Duration::from_secs(10)
        );
    }
}
