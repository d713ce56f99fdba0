//! `kstream replay`: replays JSON lines (plain, gzip or LZ4 frames) in event-time order, scaled
//! by a speedup, as `amazon-kinesis-replay` does for pattern 4's taxi trips.
//!
//! The input is a file, stdin (`-`) or every object under an S3 prefix (`s3://bucket/prefix/`,
//! in listing order, each decompressed by its detected format: [`crate::s3_input`]).
//!
//! Each line's `--timestamp-attribute` (default `dropoff_datetime`) is an ISO-8601 instant
//! (`2018-01-01T00:20:51.000Z`; without an offset it is taken as UTC; epoch seconds or
//! milliseconds also work). A line is sent at `start + (t - t_first) / speedup`; with the
//! default speedup of 6480, an hour of trips takes about half a second. Like the Java tool, the
//! input must already be sorted by the attribute: an earlier timestamp is sent at once and
//! counted as out of order. Backpressure: reading waits while `--max-outstanding` records are in
//! flight, so a slow stream slows the replay instead of buffering without bound.
//!
//! `--seek TIME` starts at the first event whose timestamp is at or after TIME (as the
//! reference's `-seek`): the lines before it are read, parsed and skipped (counted in the
//! closing summary), and the schedule starts from that event. Lines after it are all sent, even
//! an earlier one (counted as out of order).
//!
//! `--watermarks` adds the reference 0.1.0's watermark events ([`crate::watermark`]).
//!
//! Each line is sent verbatim with a `\n` appended (as the Java tool does: the line ending is
//! stripped on reading, so every payload ends in exactly one `\n`; `--no-newline` turns that off);
//! the partition key is the MD5 of the line unless a template or field is given.
//! Lines that are not JSON or lack a valid timestamp are reported with their line number (and
//! object) and skipped; the command then exits non-zero.

use std::ffi::{OsStr, OsString};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDateTime, Utc};
use clap::builder::TypedValueParser;
use kstream_producer::UserRecord;
use serde_json::Value;

use crate::aws::{ConnectArgs, parse_duration};
use crate::feed::LineFeed;
use crate::input;
use crate::producing::{self, ProducerArgs, Tracker};
use crate::put::{KeyArgs, KeyMaker};
use crate::s3_input::{self, S3Prefix};
use crate::watermark::{self, InFlight};

/// Where the lines come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Source {
    /// A file, or stdin for `-`.
    File(PathBuf),
    /// Every object under an S3 prefix.
    S3(S3Prefix),
}

/// Parses the input argument: `s3://bucket/prefix` or a path.
fn parse_source(text: &OsStr) -> Result<Source, String> {
    // (A path need not be UTF-8.)
    match text.to_str() {
        Some(url) if url.starts_with("s3://") => S3Prefix::parse(url).map(Source::S3),
        _ => Ok(Source::File(PathBuf::from(text))),
    }
}

/// Parses `--seek`: an RFC 3339 instant.
fn parse_instant(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| {
            format!("{text:?} is not an RFC 3339 instant such as 2018-01-01T03:00:00Z: {e}")
        })
}

/// Arguments of `kstream replay`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The stream to put records into.
    #[arg(long, short)]
    stream: String,
    /// JSON lines sorted by event time (plain, gzip or LZ4 frame format): a file, `-` for stdin,
    /// or `s3://bucket/prefix/` for every object under the prefix, in listing order.
    #[arg(
        value_name = "INPUT",
        value_parser = clap::builder::OsStringValueParser::new().try_map(|s: OsString| parse_source(&s))
    )]
    input: Source,
    /// How much faster than real time to replay (event-time seconds per wall-clock second).
    #[arg(long, default_value_t = 6480.0)]
    speedup: f64,
    /// The field holding each event's time.
    #[arg(long, default_value = "dropoff_datetime")]
    timestamp_attribute: String,
    /// Start at the first event whose time is at or after TIME (RFC 3339, e.g.
    /// 2018-01-01T03:00:00Z); the lines before it are skipped and counted.
    #[arg(long, value_name = "TIME", value_parser = parse_instant)]
    seek: Option<DateTime<Utc>>,
    /// Send watermark events (`{"watermark":"…","type":"watermark"}`) to every open shard as the
    /// reference replay 0.1.0 does (off by default: the reference solution runs it with
    /// -noWatermark).
    #[arg(long)]
    watermarks: bool,
    /// With --watermarks: the longest time between two watermark rounds.
    #[arg(long, default_value = "1s", value_parser = parse_duration, value_name = "DURATION", requires = "watermarks")]
    watermark_interval: Duration,
    /// With --watermarks: also send a round after this many events (0: by time only).
    #[arg(
        long,
        default_value_t = 20_000,
        value_name = "COUNT",
        requires = "watermarks"
    )]
    watermark_every_events: u64,
    /// The region of the S3 bucket, for s3:// input (default: --region, else AWS_REGION).
    #[arg(long, value_name = "REGION")]
    bucket_region: Option<String>,
    /// Send lines without appending a newline (by default each payload is its line plus `\n`,
    /// as the reference replay sends them).
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

/// `--seek`: whether an event at `time` is still before the start (to skip). Once an event at or
/// after the seek time is found, nothing more is skipped.
#[derive(Debug)]
pub(crate) struct Seek {
    until: Option<DateTime<Utc>>,
    /// Events skipped.
    pub(crate) skipped: u64,
}

impl Seek {
    /// Seeking to `until` (`None`: from the first event).
    pub(crate) fn new(until: Option<DateTime<Utc>>) -> Self {
        Self { until, skipped: 0 }
    }

    /// Whether the event at `time` is skipped.
    pub(crate) fn skips(&mut self, time: DateTime<Utc>) -> bool {
        match self.until {
            Some(until) if time < until => {
                self.skipped += 1;
                true
            }
            _ => {
                self.until = None;
                false
            }
        }
    }
}

/// The payload of a line: its bytes with `\n` appended unless `no_newline` (the reader strips
/// line endings, so the payload ends in exactly one).
pub(crate) fn payload(mut line: Vec<u8>, no_newline: bool) -> Vec<u8> {
    if !no_newline && line.last() != Some(&b'\n') {
        line.push(b'\n');
    }
    line
}

/// Runs `kstream replay`.
pub(crate) async fn run(args: Args) -> miette::Result<()> {
    if !(args.speedup.is_finite() && args.speedup > 0.0) {
        return Err(miette::miette!(
            "--speedup must be a positive number, got {}",
            args.speedup
        ));
    }
    if args.watermark_interval.is_zero() {
        return Err(miette::miette!(
            "--watermark-interval must be longer than 0"
        ));
    }
    let keys = KeyMaker::new(&args.keys)?;
    let lines = match &args.input {
        Source::File(path) => input::lines(Some(path.clone()))?,
        Source::S3(location) => {
            let sdk = args.connect.sdk_config().await?;
            let client = s3_input::client(&sdk, args.bucket_region.as_deref());
            s3_input::lines(client, location.clone()).await?
        }
    };
    let session = args.producer.start(&args.connect, &args.stream).await?;
    let interrupted = producing::interrupt();
    let watermarks = if args.watermarks {
        let tracking = Arc::new(InFlight::new(args.watermark_every_events));
        let sender = watermark::Sender::new(
            args.connect.kinesis().await?,
            &args.stream,
            !args.no_newline,
            tracking.clone(),
        );
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let task = tokio::spawn(sender.run(args.watermark_interval, stopped));
        Some((tracking, stop, task))
    } else {
        None
    };
    let bar = producing::progress(None, "events");
    let tracker = Tracker::new(bar.clone());
    let mut feed = LineFeed::new(lines, interrupted, bar.clone());
    let started = Instant::now();
    let mut first: Option<(DateTime<Utc>, tokio::time::Instant)> = None;
    let mut out_of_order = 0u64;
    let mut last_time: Option<DateTime<Utc>> = None;
    let mut seek = Seek::new(args.seek);
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
                feed.reject(line.label(), format_args!("skipped: {e}"));
                continue;
            }
        };
        if seek.skips(time) {
            continue;
        }
        let key = match keys.key(&line.bytes, &record) {
            Ok(key) => key,
            Err(e) => {
                feed.reject(line.label(), format_args!("skipped: {e}"));
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
        let label = line.label();
        let record = UserRecord::new(key, payload(line.bytes, args.no_newline));
        let observer = watermarks.as_ref().map(|(tracking, _, _)| {
            tracking.put(time);
            let tracking = tracking.clone();
            Box::new(
                move |outcome: Option<&kstream_producer::PutOutcome>| match outcome {
                    Some(outcome) => tracking.acknowledged(time, &outcome.shard_id),
                    None => tracking.dropped(time),
                },
            ) as producing::Observer
        });
        match feed
            .send_observed(&session.producer, &tracker, label, record, observer)
            .await?
        {
            None => break,
            Some(true) => {}
            Some(false) => {
                if let Some((tracking, _, _)) = &watermarks {
                    tracking.dropped(time);
                }
            }
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
    let mut watermark_failures = 0;
    if let Some((_, stop, task)) = watermarks {
        let _ = stop.send(true);
        let mut sender = task
            .await
            .map_err(|e| miette::miette!("the watermark sender stopped: {e}"))?;
        // Every event is acknowledged now: the final values cover them all.
        sender.round().await;
        let counts = sender.counts();
        eprintln!(
            "{} watermark record(s) sent, {} skipped (throttled), {} failed",
            counts.sent, counts.throttled, counts.failed
        );
        watermark_failures = counts.failed;
    }
    if let Some(until) = args.seek {
        eprintln!(
            "{} event(s) before --seek {} skipped",
            seek.skipped,
            until.format("%Y-%m-%dT%H:%M:%S%.3fZ")
        );
    }
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
    if watermark_failures > 0 {
        return Err(miette::miette!(
            "{watermark_failures} watermark record(s) failed ({sent} events sent)"
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

    #[test]
    fn seek_skips_until_the_first_event_at_or_after_the_time() {
        let at = |text: &str| parse_instant(text).unwrap();
        let mut seek = Seek::new(Some(at("2018-01-01T03:00:00Z")));
        assert!(seek.skips(at("2018-01-01T02:59:59Z")));
        assert!(seek.skips(at("2018-01-01T02:59:59.999Z")));
        assert!(!seek.skips(at("2018-01-01T03:00:00Z")), "at the time: sent");
        // Found: an earlier event after it is sent (out of order), not skipped.
        assert!(!seek.skips(at("2018-01-01T02:00:00Z")));
        assert_eq!(seek.skipped, 2);
        let mut none = Seek::new(None);
        assert!(!none.skips(at("1970-01-01T00:00:00Z")));
        assert_eq!(none.skipped, 0);
        let err = parse_instant("2018-01-01 03:00").unwrap_err();
        assert!(err.contains("RFC 3339"), "{err}");
    }

    #[test]
    fn payloads_end_in_exactly_one_newline() {
        assert_eq!(payload(b"{\"a\":1}".to_vec(), false), b"{\"a\":1}\n");
        assert_eq!(payload(b"{\"a\":1}\n".to_vec(), false), b"{\"a\":1}\n");
        assert_eq!(payload(b"{\"a\":1}".to_vec(), true), b"{\"a\":1}");
    }

    #[test]
    fn inputs_are_files_or_s3_prefixes() {
        assert_eq!(
            parse_source(OsStr::new("data/trips.json.gz")),
            Ok(Source::File(PathBuf::from("data/trips.json.gz")))
        );
        assert_eq!(
            parse_source(OsStr::new("-")),
            Ok(Source::File(PathBuf::from("-")))
        );
        assert_eq!(
            parse_source(OsStr::new("s3://trips/dropoff_year=2018/")),
            Ok(Source::S3(S3Prefix {
                bucket: "trips".into(),
                prefix: "dropoff_year=2018/".into()
            }))
        );
        assert!(parse_source(OsStr::new("s3://NoSuchBucketName/")).is_err());
    }
}
