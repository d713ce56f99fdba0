//! What `produce`, `put` and `replay` share: producer flags (CloudWatch metrics included),
//! result tracking, Ctrl-C, progress and the closing summary.

use std::io::IsTerminal as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use indicatif::{HumanDuration, ProgressBar, ProgressDrawTarget, ProgressStyle};
use kstream_producer::{MetricsSnapshot, Producer, ProducerConfig, PutHandle, PutOutcome};
use miette::IntoDiagnostic;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::aws::{ConnectArgs, parse_duration};
use crate::metrics::{MetricsArgs, Publishing};

/// Producer settings (KPL names; defaults as the KPL unless noted).
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct ProducerArgs {
    /// Send every record raw instead of aggregating records per shard (KPL format).
    #[arg(long)]
    pub(crate) no_aggregate: bool,
    /// Per-shard rate limit, in percent of the shard limits (1000 records/s, 1 MiB/s).
    #[arg(long, default_value_t = 150, value_name = "PERCENT")]
    pub(crate) rate_limit: u32,
    /// Longest a record waits for aggregation and collection (KPL RecordMaxBufferedTime).
    #[arg(long, default_value = "100ms", value_parser = parse_duration, value_name = "DURATION")]
    pub(crate) max_buffered_time: Duration,
    /// Time to live of a record, retries included; expired records are reported as failures.
    #[arg(long, default_value = "30s", value_parser = parse_duration, value_name = "DURATION")]
    pub(crate) record_ttl: Duration,
    /// Most records in flight; reading waits while this many are outstanding.
    #[arg(long, default_value_t = 10_000, value_name = "COUNT")]
    pub(crate) max_outstanding: usize,
    /// Largest PutRecords request in bytes (5 MiB works everywhere; Kinesis accepts 10 MiB).
    #[arg(long, default_value_t = 5 * 1024 * 1024, value_name = "BYTES")]
    pub(crate) collection_max_size: usize,
    /// Record size limit in bytes, data plus partition key (default: the stream's, else 1 MiB).
    #[arg(long, value_name = "BYTES")]
    pub(crate) max_record_size: Option<usize>,
    /// Fail throttled records at once instead of retrying them until their TTL.
    #[arg(long)]
    pub(crate) fail_if_throttled: bool,
    #[command(flatten)]
    pub(crate) metrics: MetricsArgs,
}

/// A started producer and, with `--metrics-level`, its CloudWatch publisher.
#[derive(Debug)]
pub(crate) struct Session {
    pub(crate) producer: Producer,
    publishing: Option<Publishing>,
}

impl ProducerArgs {
    /// The producer configuration for `stream`.
    pub(crate) fn config(&self, stream: &str) -> miette::Result<ProducerConfig> {
        let mut builder = ProducerConfig::builder()
            .stream_name(stream)
            .aggregation_enabled(!self.no_aggregate)
            .rate_limit(self.rate_limit)
            .record_max_buffered_time(self.max_buffered_time)
            .record_ttl(self.record_ttl)
            .max_outstanding_records(self.max_outstanding)
            .collection_max_size(self.collection_max_size)
            .fail_if_throttled(self.fail_if_throttled)
            .metrics_level(self.metrics.metrics_level.into())
            .metrics_granularity(self.metrics.metrics_granularity.into())
            .metrics_namespace(self.metrics.metrics_namespace.clone())
            .metrics_upload_delay(self.metrics.metrics_upload_delay);
        if let Some(size) = self.max_record_size {
            builder = builder.max_record_size(size);
        }
        builder.build().into_diagnostic()
    }

    /// Starts a producer (with the stream name in any error) and, with `--metrics-level`, its
    /// CloudWatch publisher, both from one SDK configuration.
    pub(crate) async fn start(
        &self,
        connect: &ConnectArgs,
        stream: &str,
    ) -> miette::Result<Session> {
        let sdk = connect.sdk_config().await?;
        let client = aws_sdk_kinesis::Client::new(&sdk);
        let producer = Producer::new(client, self.config(stream)?)
            .await
            .map_err(|e| {
                miette::miette!(help = "check --stream, --endpoint-url and --region", "{e}")
            })?;
        let publishing = Publishing::start(&self.metrics, &sdk, &producer);
        Ok(Session {
            producer,
            publishing,
        })
    }
}

/// A watch that turns `true` on the first Ctrl-C (input stops, buffered records are flushed);
/// a second Ctrl-C exits at once.
pub(crate) fn interrupt() -> watch::Receiver<bool> {
    let (tx, rx) = watch::channel(false);
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            tracing::warn!("interrupted: flushing buffered records (Ctrl-C again to abort)");
            let _ = tx.send(true);
            if tokio::signal::ctrl_c().await.is_ok() {
                std::process::exit(130);
            }
        }
    });
    rx
}

/// Counts of completed records.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    pub(crate) ok: AtomicU64,
    pub(crate) failed: AtomicU64,
}

/// Called with a record's outcome once it is known: `Some` when Kinesis took it, `None` when it
/// failed.
pub(crate) type Observer = Box<dyn FnOnce(Option<&PutOutcome>) + Send>;

/// Awaits every record's result in the background, reporting failures with their label (e.g.
/// `line 12`) on stderr.
pub(crate) struct Tracker {
    tx: mpsc::UnboundedSender<(String, PutHandle, Option<Observer>)>,
    task: JoinHandle<()>,
    pub(crate) tally: Arc<Tally>,
}

impl Tracker {
    pub(crate) fn new(bar: ProgressBar) -> Self {
        let (tx, mut rx) = mpsc::unbounded_channel::<(String, PutHandle, Option<Observer>)>();
        let tally = Arc::new(Tally::default());
        let counts = tally.clone();
        let task = tokio::spawn(async move {
            let mut pending = FuturesUnordered::new();
            let mut open = true;
            loop {
                tokio::select! {
                    next = rx.recv(), if open => match next {
                        Some((label, handle, observer)) => pending.push(async move {
                            let result = handle.await;
                            if let Some(observe) = observer {
                                observe(result.as_ref().ok());
                            }
                            (label, result)
                        }),
                        None => open = false,
                    },
                    Some((label, result)) = pending.next(), if !pending.is_empty() => {
                        match result {
                            Ok(_) => {
                                counts.ok.fetch_add(1, Ordering::Relaxed);
                            }
                            Err(failure) => {
                                counts.failed.fetch_add(1, Ordering::Relaxed);
                                bar.suspend(|| eprintln!("{label}: not put: {failure}"));
                            }
                        }
                        bar.inc(1);
                    }
                    else => break,
                }
            }
        });
        Self { tx, task, tally }
    }

    /// Tracks one record.
    pub(crate) fn track(&self, label: String, handle: PutHandle) {
        self.track_observed(label, handle, None);
    }

    /// Tracks one record, calling `observer` with its outcome.
    pub(crate) fn track_observed(
        &self,
        label: String,
        handle: PutHandle,
        observer: Option<Observer>,
    ) {
        let _ = self.tx.send((label, handle, observer));
    }

    /// Waits for every tracked record.
    pub(crate) async fn finish(self) -> Arc<Tally> {
        drop(self.tx);
        let _ = self.task.await;
        self.tally
    }
}

/// How often the plain progress line is printed when stderr is not a terminal (a CI log, a file).
const PLAIN_PROGRESS_EVERY: Duration = Duration::from_secs(10);

/// Progress on stderr: on a terminal, a bar (with the rate, and the ETA when the total is known);
/// otherwise a plain line every [`PLAIN_PROGRESS_EVERY`], so a log shows the run advancing without
/// control characters.
pub(crate) fn progress(total: Option<u64>, what: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        let bar = ProgressBar::with_draw_target(total, ProgressDrawTarget::hidden());
        plain_progress_lines(&bar, what.to_owned(), PLAIN_PROGRESS_EVERY);
        return bar;
    }
    let bar = ProgressBar::with_draw_target(total, ProgressDrawTarget::stderr());
    let template = if total.is_some() {
        format!(
            "{{spinner}} {{elapsed_precise}} [{{bar:30}}] {{pos}}/{{len}} {what} put ({{per_sec}}, ETA {{eta}}) {{msg}}"
        )
    } else {
        format!("{{spinner}} {{elapsed_precise}} {{pos}} {what} put ({{per_sec}}) {{msg}}")
    };
    if let Ok(style) = ProgressStyle::with_template(&template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

/// Prints [`plain_line`] on stderr every `every` until the bar is finished or dropped.
fn plain_progress_lines(bar: &ProgressBar, what: String, every: Duration) {
    let weak = bar.downgrade();
    std::thread::spawn(move || {
        loop {
            std::thread::sleep(every);
            let Some(bar) = weak.upgrade() else { break };
            if bar.is_finished() {
                break;
            }
            eprintln!("{}", plain_line(&bar, &what));
        }
    });
}

/// One plain progress line: `1m 10s: 12345/100000 records put (1763/s, ETA 50s) <message>`.
fn plain_line(bar: &ProgressBar, what: &str) -> String {
    let done = bar.position();
    let rate = bar.per_sec();
    let mut line = format!("{}: {done}", HumanDuration(bar.elapsed()));
    if let Some(total) = bar.length() {
        line.push_str(&format!("/{total}"));
    }
    line.push_str(&format!(" {what} put ({rate:.0}/s"));
    if let Some(total) = bar.length()
        && rate > 0.0
        && total > done
    {
        let eta = Duration::from_secs_f64((total - done) as f64 / rate);
        line.push_str(&format!(", ETA {}", HumanDuration(eta)));
    }
    line.push(')');
    let message = bar.message();
    if !message.is_empty() {
        line.push(' ');
        line.push_str(&message);
    }
    line
}

/// Shuts the producer down (flushing everything), waits for the results, uploads the last
/// metrics (with `--metrics-level`) and prints the closing summary on stderr. Returns the final
/// metrics and the number of failed records.
pub(crate) async fn finish(
    session: Session,
    tracker: Tracker,
    bar: ProgressBar,
    started: Instant,
) -> (MetricsSnapshot, u64) {
    bar.set_message("flushing");
    let Session {
        producer,
        publishing,
    } = session;
    let metrics = producer.shutdown().await;
    let tally = tracker.finish().await;
    let published = match publishing {
        Some(publishing) => {
            bar.set_message("publishing metrics");
            Some(publishing.finish(metrics.clone()).await)
        }
        None => None,
    };
    bar.finish_and_clear();
    let elapsed = started.elapsed();
    let failed = tally.failed.load(Ordering::Relaxed);
    eprintln!("{}", summary(&metrics, elapsed));
    if let Some(published) = published {
        eprintln!("{published}");
    }
    (metrics, failed)
}

/// The closing summary: a sentence for people, then the KPL-named metrics, one `Name: value`
/// per item (`ErrorsByCode` only when there were errors).
pub(crate) fn summary(m: &MetricsSnapshot, elapsed: Duration) -> String {
    let secs = elapsed.as_secs_f64().max(1e-9);
    let totals = &m.totals;
    let mut text = format!(
        "{} user records in {} Kinesis records ({:.1} per record), {} of user data ({} sent) in {:.1} s: \
         {:.0} records/s, {}/s; {} retries, {} failures",
        totals.user_records_put,
        totals.kinesis_records_put,
        totals.user_records_per_kinesis_record(),
        bytes(totals.user_records_data_put),
        bytes(totals.kinesis_records_data_put),
        secs,
        totals.user_records_put as f64 / secs,
        bytes((totals.user_records_data_put as f64 / secs) as u64),
        totals.retries,
        totals.user_records_failed,
    );
    if totals.user_record_expired > 0 {
        text.push_str(&format!(" ({} expired)", totals.user_record_expired));
    }
    text.push_str(&format!(
        "\nKPL metrics: UserRecordsPut: {}, KinesisRecordsPut: {}, UserRecordsPerKinesisRecord: {:.2}, \
         RetriesPerRecord: {:.3}, BufferingTime: {:.1} ms, RequestTime: {:.1} ms, \
         KinesisRecordsPerPutRecordsRequest: {:.1}, UserRecordsPerPutRecordsRequest: {:.1}, \
         UserRecordExpired: {}, AllErrors: {}",
        totals.user_records_put,
        totals.kinesis_records_put,
        totals.user_records_per_kinesis_record(),
        totals.retries_per_record(),
        totals.buffering_time().as_secs_f64() * 1000.0,
        m.request_time().as_secs_f64() * 1000.0,
        m.kinesis_records_per_request(),
        m.user_records_per_request(),
        totals.user_record_expired,
        totals.all_errors(),
    ));
    if !totals.errors_by_code.is_empty() {
        let errors: Vec<String> = totals
            .errors_by_code
            .iter()
            .map(|(code, n)| format!("{code} {n}"))
            .collect();
        text.push_str(&format!(", ErrorsByCode: {}", errors.join(", ")));
    }
    text
}

/// Human-readable byte count.
pub(crate) fn bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plain_progress_line_says_how_far_and_how_long() {
        let bar = ProgressBar::with_draw_target(Some(100), ProgressDrawTarget::hidden());
        bar.set_position(40);
        bar.set_message("2 failed");
        let line = plain_line(&bar, "records");
        assert!(line.contains(": 40/100 records put ("), "{line}");
        assert!(line.ends_with(") 2 failed"), "{line}");
        let open = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
        open.set_position(7);
        let line = plain_line(&open, "events");
        assert!(line.contains(": 7 events put ("), "{line}");
        assert!(!line.contains("ETA"), "no total, no ETA: {line}");
    }

    #[test]
    fn byte_counts_read_well() {
        assert_eq!(bytes(12), "12 B");
        assert_eq!(bytes(2048), "2.0 KiB");
        assert_eq!(bytes(5 * 1024 * 1024), "5.0 MiB");
    }

    #[test]
    fn producer_flags_map_to_the_config() {
        let args = ProducerArgs {
            no_aggregate: true,
            rate_limit: 80,
            max_buffered_time: Duration::from_millis(50),
            record_ttl: Duration::from_secs(10),
            max_outstanding: 7,
            collection_max_size: 1024 * 1024,
            max_record_size: Some(2048),
            fail_if_throttled: true,
            metrics: crate::metrics::MetricsArgs {
                metrics_level: crate::metrics::Level::Summary,
                metrics_granularity: crate::metrics::Granularity::Global,
                metrics_namespace: "ns".into(),
                metrics_upload_delay: Duration::from_secs(10),
                cloudwatch_endpoint_url: None,
            },
        };
        let config = args.config("s").unwrap();
        assert!(!config.aggregation_enabled());
        assert_eq!(config.rate_limit(), 80);
        assert_eq!(config.max_record_size(), Some(2048));
        assert_eq!(config.max_outstanding_records(), 7);
        assert!(config.fail_if_throttled());
        assert_eq!(
            config.metrics_level(),
            kstream_producer::MetricsLevel::Summary
        );
        assert_eq!(
            config.metrics_granularity(),
            kstream_producer::MetricsGranularity::Global
        );
        assert_eq!(config.metrics_namespace(), "ns");
        assert_eq!(config.metrics_upload_delay(), Duration::from_secs(10));
    }

    #[test]
    fn the_summary_carries_the_kpl_metrics() {
        let mut m = MetricsSnapshot::default();
        m.totals.user_records_put = 1000;
        m.totals.kinesis_records_put = 10;
        m.totals.user_records_failed = 0;
        m.totals.retries = 50;
        m.totals.buffered_records = 1000;
        m.totals.buffering_time_total = Duration::from_secs(100);
        m.put_records_requests = 4;
        m.put_records_entries = 10;
        m.put_records_user_records = 1000;
        m.put_records_completed = 4;
        m.request_time_total = Duration::from_millis(50);
        let text = summary(&m, Duration::from_secs(2));
        assert!(text.contains("UserRecordsPut: 1000"), "{text}");
        assert!(text.contains("KinesisRecordsPut: 10"), "{text}");
        assert!(
            text.contains("UserRecordsPerKinesisRecord: 100.00"),
            "{text}"
        );
        assert!(text.contains("RetriesPerRecord: 0.050"), "{text}");
        assert!(text.contains("BufferingTime: 100.0 ms"), "{text}");
        assert!(text.contains("RequestTime: 12.5 ms"), "{text}");
        assert!(
            text.contains("KinesisRecordsPerPutRecordsRequest: 2.5"),
            "{text}"
        );
        assert!(
            text.contains("UserRecordsPerPutRecordsRequest: 250.0"),
            "{text}"
        );
        assert!(
            !text.contains("ErrorsByCode"),
            "only when there were errors: {text}"
        );
        m.totals
            .errors_by_code
            .insert("ProvisionedThroughputExceededException".into(), 3);
        let text = summary(&m, Duration::from_secs(2));
        assert!(
            text.contains("ErrorsByCode: ProvisionedThroughputExceededException 3"),
            "{text}"
        );
        assert!(text.contains("AllErrors: 3"), "{text}");
    }
}
