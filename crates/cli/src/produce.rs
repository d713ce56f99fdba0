//! `kstream produce`: the stock-ticker records of pattern 2, at a steady rate.
//!
//! Each record is `{"event_time":"2026-11-22T05:00:00.123Z","ticker":"AAPL","price":42.17}`:
//! `event_time` is the send time in UTC with milliseconds, RFC 3339 by default (Flink's
//! `TIMESTAMP(3)` in ISO-8601 mode) or, with `--event-time-format sql`, the reference producer's
//! `yyyy-MM-dd HH:mm:ss.SSS` (`2026-11-22 05:00:00.123`: `java.sql.Timestamp`'s text, which the
//! reference's Flink table `stock_table` reads with the JSON format's default SQL timestamp
//! standard); `ticker` is one of AAPL, AMZN, MSFT, INTC, TBV; `price` is uniform in [0, 100) with
//! two decimals. The partition key is the ticker (`--partition-key random` spreads records over
//! every shard instead).

use std::time::{Duration, Instant};

use chrono::{DateTime, SecondsFormat, Utc};
use kstream_producer::UserRecord;
use rand::Rng;
use serde::Serialize;

use crate::aws::{ConnectArgs, parse_duration};
use crate::producing::{self, ProducerArgs, Tracker};

/// The tickers of the reference producer.
pub(crate) const TICKERS: [&str; 5] = ["AAPL", "AMZN", "MSFT", "INTC", "TBV"];

/// Arguments of `kstream produce`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The stream to put records into.
    #[arg(long, short)]
    stream: String,
    /// Records per second (0: as fast as the producer takes them).
    #[arg(long, default_value_t = 100)]
    rate: u32,
    /// Stop after this long (e.g. 5s, 2m). Without --duration or --count, runs until Ctrl-C.
    #[arg(long, value_parser = parse_duration, conflicts_with = "count")]
    duration: Option<Duration>,
    /// Stop after this many records.
    #[arg(long)]
    count: Option<u64>,
    /// Partition key of each record: the ticker, or a random key per record.
    #[arg(long, value_enum, default_value_t = KeyChoice::Ticker)]
    partition_key: KeyChoice,
    /// How `event_time` is written: RFC 3339 (`2026-11-22T05:00:00.123Z`) or the reference
    /// producer's SQL timestamp (`2026-11-22 05:00:00.123`, UTC).
    #[arg(long, value_enum, default_value_t = EventTimeFormat::Rfc3339)]
    event_time_format: EventTimeFormat,
    #[command(flatten)]
    pub(crate) producer: ProducerArgs,
    #[command(flatten)]
    connect: ConnectArgs,
}

/// How `produce` picks partition keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum KeyChoice {
    /// The record's ticker (records of one ticker stay in order on one shard).
    Ticker,
    /// A random 128-bit number per record.
    Random,
}

/// How `produce` writes `event_time` (always UTC, always milliseconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum EventTimeFormat {
    /// RFC 3339: `2026-11-22T05:00:00.123Z`.
    Rfc3339,
    /// `yyyy-MM-dd HH:mm:ss.SSS`, as the reference's Java KPL demo writes a `java.sql.Timestamp`
    /// and Flink SQL's JSON format reads `TIMESTAMP(3)` by default: `2026-11-22 05:00:00.123`.
    Sql,
}

impl EventTimeFormat {
    /// `time` in this format.
    pub(crate) fn format(self, time: DateTime<Utc>) -> String {
        match self {
            Self::Rfc3339 => time.to_rfc3339_opts(SecondsFormat::Millis, true),
            Self::Sql => time.format("%Y-%m-%d %H:%M:%S%.3f").to_string(),
        }
    }
}

/// One stock-ticker record.
#[derive(Debug, Serialize)]
pub(crate) struct Ticker {
    event_time: String,
    ticker: &'static str,
    price: f64,
}

impl Ticker {
    /// A record stamped now, `event_time` written in `format`.
    pub(crate) fn random(rng: &mut impl Rng, format: EventTimeFormat) -> Self {
        let ticker = TICKERS[rng.random_range(0..TICKERS.len())];
        let price = (rng.random_range(0.0..100.0f64) * 100.0).floor() / 100.0;
        Self {
            event_time: format.format(Utc::now()),
            ticker,
            price,
        }
    }
}

/// Runs `kstream produce`.
pub(crate) async fn run(args: Args) -> miette::Result<()> {
    let session = args.producer.start(&args.connect, &args.stream).await?;
    let producer = &session.producer;
    let bar = producing::progress(args.count, "records");
    bar.set_message(format!("→ {}", args.stream));
    let tracker = Tracker::new(bar.clone());
    let interrupted = producing::interrupt();
    let started = Instant::now();
    let deadline = args.duration.map(|d| tokio::time::Instant::now() + d);
    let mut ticker = (args.rate > 0).then(|| {
        let mut interval =
            tokio::time::interval(Duration::from_secs_f64(1.0 / f64::from(args.rate)));
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
        interval
    });
    let mut rng = rand::rng();
    let mut sent: u64 = 0;
    loop {
        if *interrupted.borrow() || args.count.is_some_and(|n| sent >= n) {
            break;
        }
        if let Some(interval) = &mut ticker {
            let mut stop = interrupted.clone();
            tokio::select! {
                _ = interval.tick() => {}
                _ = stop.changed() => break,
                () = sleep_until_opt(deadline) => break,
            }
        } else if deadline.is_some_and(|d| tokio::time::Instant::now() >= d) {
            break;
        }
        let record = Ticker::random(&mut rng, args.event_time_format);
        let key = match args.partition_key {
            KeyChoice::Ticker => record.ticker.to_owned(),
            KeyChoice::Random => rng.random::<u128>().to_string(),
        };
        let data = serde_json::to_vec(&record).map_err(|e| miette::miette!("{e}"))?;
        let mut stop = interrupted.clone();
        let handle = tokio::select! {
            put = producer.put(UserRecord::new(key, data)) => put.map_err(|e| miette::miette!("{e}"))?,
            _ = stop.changed() => break,
        };
        sent += 1;
        tracker.track(format!("record {sent}"), handle);
    }
    let (_, failed) = producing::finish(session, tracker, bar, started).await;
    if failed > 0 {
        return Err(miette::miette!("{failed} of {sent} records were not put"));
    }
    Ok(())
}

async fn sleep_until_opt(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticker_records_have_the_pattern_2_shape() {
        let mut rng = rand::rng();
        for _ in 0..100 {
            let record = Ticker::random(&mut rng, EventTimeFormat::Rfc3339);
            let json: serde_json::Value = serde_json::to_value(&record).unwrap();
            let time = json["event_time"].as_str().unwrap();
            let parsed = chrono::DateTime::parse_from_rfc3339(time).unwrap();
            assert_eq!(
                parsed.timestamp_subsec_nanos() % 1_000_000,
                0,
                "millisecond precision"
            );
            assert_eq!(time.len(), "2026-11-22T05:00:00.123Z".len());
            assert!(TICKERS.contains(&json["ticker"].as_str().unwrap()));
            let price = json["price"].as_f64().unwrap();
            assert!((0.0..100.0).contains(&price));
        }
    }

    #[test]
    fn sql_event_time_is_the_reference_producers_timestamp_text() {
        let time = chrono::DateTime::parse_from_rfc3339("2026-11-22T05:00:00.007Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(EventTimeFormat::Sql.format(time), "2026-11-22 05:00:00.007");
        assert_eq!(
            EventTimeFormat::Rfc3339.format(time),
            "2026-11-22T05:00:00.007Z"
        );
        let mut rng = rand::rng();
        let record = Ticker::random(&mut rng, EventTimeFormat::Sql);
        let json = serde_json::to_value(&record).unwrap();
        let text = json["event_time"].as_str().unwrap();
        let parsed = chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.3f").unwrap();
        assert_eq!(text.len(), "2026-11-22 05:00:00.123".len());
        assert!(
            (Utc::now().naive_utc() - parsed).num_seconds().abs() < 5,
            "stamped now, in UTC"
        );
    }
}
