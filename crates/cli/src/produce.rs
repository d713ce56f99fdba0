//! `kstream produce`: the stock-ticker records of pattern 2, at a steady rate.
//!
//! The records come from [`kstream_ticker`] (the `scheduled-producer` function writes the same):
//! `{"event_time":"2026-11-22T05:00:00.123Z","ticker":"AAPL","price":42.17}`, `event_time` in
//! RFC 3339 by default or, with `--event-time-format sql`, the reference producer's
//! `yyyy-MM-dd HH:mm:ss.SSS`. The partition key is the ticker (`--partition-key random` spreads
//! records over every shard instead).

use std::time::{Duration, Instant};

use kstream_producer::UserRecord;
use kstream_ticker::{EventTimeFormat, Ticker};
use rand::Rng;

use crate::aws::{ConnectArgs, parse_duration};
use crate::producing::{self, ProducerArgs, Tracker};

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
            KeyChoice::Ticker => record.ticker().to_owned(),
            KeyChoice::Random => rng.random::<u128>().to_string(),
        };
        let data = record.to_json();
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
