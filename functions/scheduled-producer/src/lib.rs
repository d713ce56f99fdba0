//! kstream pattern 2's producer as a scheduled Lambda: an EventBridge Scheduler schedule invokes
//! it, and each run puts a number of stock-ticker records into a Kinesis stream, KPL-aggregated.
//!
//! It is seed 004's `put_record` Lambda (invoked every five minutes by a schedule) done with the
//! same producer and the same records as `kstream produce`: [`kstream_producer`] (per-shard
//! aggregation in the KPL format, collection into `PutRecords`, per-shard rate limits, retries
//! of failed entries until the record's TTL) and [`kstream_ticker`] (`{"event_time", "ticker",
//! "price"}`, partition key the ticker).
//!
//! # A run
//! 1. The schedule's Input is the event: a JSON object whose fields override the environment,
//!    `{"records": 100, "rate": 50, "event_time_format": "rfc3339"}`; every field is optional,
//!    and an absent Input (`null`, `{}`) runs with the environment's values. Other fields are
//!    ignored (logged). Anything else fails the invocation before a record is put.
//! 2. The run is planned against the invocation's deadline (the Lambda context's): each
//!    record's TTL is `RECORD_TTL_MS` but at most half the remaining time less a margin, and
//!    records are produced until the deadline less that TTL and the margin, so every record is
//!    put or has expired before the function times out. A run that cannot fit at its `RATE`
//!    fails at once, putting nothing.
//! 3. The records go through a producer started for the run (the stream's shard map is read
//!    then), at `RATE` records per second over the run (0: as fast as the producer accepts);
//!    the producer is shut down at the end, which flushes it.
//! 4. The response is the run's [`RunReport`] (what was put, failed, not produced). When any
//!    record was not put, the invocation returns [`InvokeError::NotPut`] with those counts.
//!
//! # Failures, retries and dead letters
//! EventBridge Scheduler invokes a Lambda target asynchronously (`Invoke` with
//! `InvocationType=Event`). Its `RetryPolicy` (`MaximumRetryAttempts`,
//! `MaximumEventAgeInSeconds`) and `DeadLetterConfig` cover the *delivery* of the event: the
//! `Invoke` call being throttled or refused (function missing, no permission). Once Lambda has
//! accepted the event, a run that returns an error is retried by Lambda's asynchronous
//! invocation (by default twice, configured by the function's event invoke config), and after
//! the last attempt goes to the function's on-failure destination or dead-letter queue. So the
//! error this function returns makes the failed run visible (Lambda `Errors` metric, the
//! asynchronous retries, the function's destination), and a retry produces a new run of
//! records: the records are generated, not replayed, so a retry never duplicates what was put.
//! `kstream local` (`kstream-local-scheduler`) follows the same split.
//!
//! # Configuration (environment, set by Terraform)
//! - `STREAM_NAME` or `STREAM_ARN` (one required; the name is taken from the ARN, and both
//!   must agree when both are set);
//! - `RECORDS_PER_RUN` (default 100, 1 to 1,000,000);
//! - `RATE` (default 0 = no limit of its own; records per second over the run, up to 100,000);
//! - `EVENT_TIME_FORMAT` (`sql`, the default: `yyyy-MM-dd HH:mm:ss.SSS` in UTC as the
//!   reference's Flink table reads it; or `rfc3339`);
//! - `RECORD_TTL_MS` (default 10,000; 1,000 to 300,000): a record's time to live, retries
//!   included;
//! - `RECORD_MAX_BUFFERED_TIME_MS` (default 100; 1 to 60,000): the KPL's
//!   `RecordMaxBufferedTime`;
//! - `POWERTOOLS_METRICS_NAMESPACE` / `KSTREAM_METRICS_NAMESPACE`, `POWERTOOLS_SERVICE_NAME`:
//!   the EMF telemetry, as in every kstream function.
//!
//! # Metrics (one EMF document per invoke, dimension `FunctionName`)
//! `RecordsRequested`, `RecordsProduced`, `RecordsPut`, `RecordsFailed` (failed after the
//! producer's retries), `RecordsUnresolved` (neither put nor failed at the deadline),
//! `KinesisRecordsPut` (aggregates and raw records sent), `Retries`, `RunTime` (ms).
//!
//! # Layout
//! - [`input`]: the schedule's Input.
//! - [`plan`]: the run against the deadline.
//! - [`error`]: why the configuration, the Input or a run failed.

pub mod error;
pub mod input;
pub mod plan;

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::StreamExt as _;
use kstream_pipeline::Telemetry;
use kstream_pipeline::aws::AwsClient;
use kstream_pipeline::config::{Env, FunctionConfig};
use kstream_pipeline::emf::{Metrics, Unit};
use kstream_producer::{Producer, ProducerConfig, UserRecord};
use kstream_ticker::{EventTimeFormat, Ticker};
use lambda_runtime::LambdaEvent;
use serde::Serialize;
use serde_json::Value;
use tokio::time::Instant;

pub use error::{ConfigError, InputError, InvokeError};
pub use input::RunInput;
pub use plan::Plan;

/// The function's name (metrics dimension outside Lambda, cold-start log).
pub const FUNCTION_NAME: &str = "scheduled-producer";

/// What the handler needs from the environment.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The stream's name.
    pub stream: String,
    /// Records per run, unless the Input says otherwise.
    pub records_per_run: u64,
    /// Records per second over the run (0: no limit of its own).
    pub rate: u32,
    /// How `event_time` is written.
    pub event_time_format: EventTimeFormat,
    /// A record's time to live, retries included (cut to fit the deadline).
    pub record_ttl: Duration,
    /// The KPL's `RecordMaxBufferedTime`.
    pub max_buffered_time: Duration,
}

impl Config {
    /// A configuration for `stream` with the defaults.
    pub fn new(stream: impl Into<String>) -> Self {
        Self {
            stream: stream.into(),
            records_per_run: 100,
            rate: 0,
            event_time_format: EventTimeFormat::Sql,
            record_ttl: Duration::from_secs(10),
            max_buffered_time: Duration::from_millis(100),
        }
    }
}

/// The most records one run may ask for.
pub const MAX_RECORDS: u64 = 1_000_000;
/// The highest rate, records per second.
pub const MAX_RATE: u64 = 100_000;

fn number(
    env: &Env<'_>,
    var: &'static str,
    default: u64,
    min: u64,
    max: u64,
) -> Result<u64, ConfigError> {
    match env.get(var) {
        None => Ok(default),
        Some(text) => text
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|n| (min..=max).contains(n))
            .ok_or(ConfigError::Number {
                var,
                value: text,
                min,
                max,
            }),
    }
}

fn valid_stream_name(name: &str) -> bool {
    (1..=128).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// The stream name in a Kinesis stream ARN.
///
/// # Errors
/// [`ConfigError::StreamArn`] when `arn` is not one.
pub fn stream_name_of_arn(arn: &str) -> Result<String, ConfigError> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    match parts.as_slice() {
        ["arn", partition, "kinesis", region, account, resource]
            if partition.starts_with("aws")
                && !region.is_empty()
                && account.len() == 12
                && account.bytes().all(|b| b.is_ascii_digit()) =>
        {
            resource
                .strip_prefix("stream/")
                .filter(|name| !name.is_empty() && !name.contains('/'))
                .map(str::to_owned)
                .ok_or_else(|| ConfigError::StreamArn(arn.to_owned()))
        }
        _ => Err(ConfigError::StreamArn(arn.to_owned())),
    }
}

impl FunctionConfig for Config {
    const NAME: &'static str = FUNCTION_NAME;
    type Error = ConfigError;

    fn from_env_with(env: &Env<'_>) -> Result<Self, ConfigError> {
        let from_arn = env
            .get("STREAM_ARN")
            .map(|arn| stream_name_of_arn(&arn).map(|name| (name, arn)))
            .transpose()?;
        let stream = match (env.get("STREAM_NAME"), from_arn) {
            (None, None) => return Err(ConfigError::NoStream),
            (Some(name), None) => name,
            (None, Some((name, _))) => name,
            (Some(name), Some((from_arn, arn))) if name != from_arn => {
                return Err(ConfigError::StreamMismatch { name, arn });
            }
            (Some(name), Some(_)) => name,
        };
        if !valid_stream_name(&stream) {
            return Err(ConfigError::StreamName(stream));
        }
        let event_time_format = match env.get("EVENT_TIME_FORMAT") {
            None => EventTimeFormat::Sql,
            Some(text) => text.parse()?,
        };
        Ok(Self {
            stream,
            records_per_run: number(env, "RECORDS_PER_RUN", 100, 1, MAX_RECORDS)?,
            rate: u32::try_from(number(env, "RATE", 0, 0, MAX_RATE)?).unwrap_or(u32::MAX),
            event_time_format,
            record_ttl: Duration::from_millis(number(
                env,
                "RECORD_TTL_MS",
                10_000,
                1_000,
                300_000,
            )?),
            max_buffered_time: Duration::from_millis(number(
                env,
                "RECORD_MAX_BUFFERED_TIME_MS",
                100,
                1,
                60_000,
            )?),
        })
    }
}

/// What a run did: the handler's response, and the counts of [`InvokeError::NotPut`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunReport {
    /// The stream.
    pub stream: String,
    /// Records asked for.
    pub requested: u64,
    /// Records generated and handed to the producer.
    pub produced: u64,
    /// Records Kinesis accepted.
    pub put: u64,
    /// Records that failed after the producer's retries (expired or rejected).
    pub failed: u64,
    /// Records neither put nor failed when the deadline came.
    pub unresolved: u64,
    /// Kinesis records sent (aggregates, and records sent alone).
    pub kinesis_records: u64,
    /// Retries of Kinesis records.
    pub retries: u64,
    /// Failures by error code.
    pub errors_by_code: BTreeMap<String, u64>,
    /// How long the run took, in milliseconds.
    pub duration_ms: u64,
}

impl RunReport {
    /// Whether every record asked for was put.
    pub fn complete(&self) -> bool {
        self.put == self.requested
    }
}

/// The function's state for its lifetime: configuration, Kinesis client, telemetry.
#[derive(Debug)]
pub struct ScheduledProducer {
    config: Config,
    kinesis: AwsClient,
    telemetry: Telemetry,
}

/// The Lambda handler: [`ScheduledProducer::run`] until the context's deadline, with the
/// invocation's metrics document.
///
/// # Errors
/// An [`InvokeError`] (boxed, for the runtime's error report): see the crate docs.
pub async fn handler(
    event: LambdaEvent<Value>,
    producer: &ScheduledProducer,
) -> Result<RunReport, lambda_runtime::Error> {
    let (event, context) = event.into_parts();
    let mut metrics = producer.telemetry.start(&context.request_id);
    let remaining = remaining_until(context.deadline);
    let result = producer.run(&event, remaining, &mut metrics).await;
    producer.telemetry.finish(&metrics);
    match &result {
        Ok(report) => tracing::info!(report = ?report, "run complete"),
        Err(error) => tracing::error!(error = %error, "run failed"),
    }
    Ok(result?)
}

/// The time left until `deadline_ms` (milliseconds since the epoch, the Lambda context's).
pub fn remaining_until(deadline_ms: u64) -> Duration {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    Duration::from_millis(deadline_ms).saturating_sub(now)
}

impl ScheduledProducer {
    /// The function with `config`, putting through `kinesis`, reporting through `telemetry`.
    pub fn new(config: Config, kinesis: AwsClient, telemetry: Telemetry) -> Self {
        Self {
            config,
            kinesis,
            telemetry,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    fn producer_config(&self, plan: &Plan) -> Result<ProducerConfig, InvokeError> {
        ProducerConfig::builder()
            .stream_name(&self.config.stream)
            .aggregation_enabled(true)
            .record_ttl(plan.record_ttl)
            .record_max_buffered_time(self.config.max_buffered_time.min(plan.record_ttl / 2))
            .build()
            .map_err(|e| InvokeError::Start {
                stream: self.config.stream.clone(),
                source: kstream_producer::Error::from(e),
            })
    }

    /// One run for the schedule's Input `event`, with `remaining` time before the invocation's
    /// deadline; counts go to `metrics`.
    ///
    /// # Errors
    /// [`InvokeError`]: the Input, a run that cannot fit, the producer, or records not put.
    pub async fn run(
        &self,
        event: &Value,
        remaining: Duration,
        metrics: &mut Metrics<'_>,
    ) -> Result<RunReport, InvokeError> {
        let started = Instant::now();
        let input = RunInput::from_event(event)?;
        let plan = Plan::new(&self.config, &input, remaining)?;
        metrics.count("RecordsRequested", usize_of(plan.records));
        tracing::info!(stream = %self.config.stream, plan = ?plan, "run planned");
        let producer = Producer::new(self.kinesis.clone(), self.producer_config(&plan)?)
            .await
            .map_err(|source| InvokeError::Start {
                stream: self.config.stream.clone(),
                source,
            })?;
        let stop_producing = started + plan.produce_for;
        let deadline = started + plan.resolve_by;
        let mut interval = (plan.rate > 0).then(|| {
            let mut interval =
                tokio::time::interval(Duration::from_secs_f64(1.0 / f64::from(plan.rate)));
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
            interval
        });
        let mut rng = rand::rng();
        let mut pending = Vec::with_capacity(usize_of(plan.records.min(100_000)));
        let mut produced: u64 = 0;
        while produced < plan.records {
            if let Some(interval) = &mut interval {
                tokio::select! {
                    _ = interval.tick() => {}
                    () = tokio::time::sleep_until(stop_producing) => break,
                }
            }
            if Instant::now() >= stop_producing {
                break;
            }
            let record = Ticker::random(&mut rng, plan.event_time_format);
            let put = tokio::time::timeout_at(
                stop_producing,
                producer.put(UserRecord::new(record.ticker(), record.to_json())),
            )
            .await;
            match put {
                Err(_elapsed) => break,
                Ok(Ok(handle)) => pending.push(handle),
                Ok(Err(source)) => {
                    return Err(InvokeError::Put {
                        stream: self.config.stream.clone(),
                        source,
                    });
                }
            }
            produced += 1;
        }
        producer.flush();
        let mut report = RunReport {
            stream: self.config.stream.clone(),
            requested: plan.records,
            produced,
            ..RunReport::default()
        };
        let mut results = pending
            .into_iter()
            .collect::<futures::stream::FuturesUnordered<_>>();
        loop {
            match tokio::time::timeout_at(deadline, results.next()).await {
                Ok(Some(Ok(_outcome))) => report.put += 1,
                Ok(Some(Err(failure))) => {
                    report.failed += 1;
                    *report
                        .errors_by_code
                        .entry(failure.error_code().to_owned())
                        .or_default() += 1;
                }
                Ok(None) => break,
                Err(_elapsed) => break,
            }
        }
        report.unresolved = produced - report.put - report.failed;
        match tokio::time::timeout_at(deadline, producer.shutdown()).await {
            Ok(snapshot) => {
                report.kinesis_records = snapshot.totals.kinesis_records_put;
                report.retries = snapshot.totals.retries;
            }
            Err(_elapsed) => tracing::warn!("the producer did not shut down before the deadline"),
        }
        report.duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        metrics.count("RecordsProduced", usize_of(report.produced));
        metrics.count("RecordsPut", usize_of(report.put));
        metrics.count("RecordsFailed", usize_of(report.failed));
        metrics.count("RecordsUnresolved", usize_of(report.unresolved));
        metrics.count("KinesisRecordsPut", usize_of(report.kinesis_records));
        metrics.count("Retries", usize_of(report.retries));
        metrics.add("RunTime", Unit::Milliseconds, report.duration_ms as f64);
        if report.complete() {
            Ok(report)
        } else {
            Err(InvokeError::NotPut(Box::new(report)))
        }
    }
}

fn usize_of(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        Config::from_env_with(&Env::from_pairs(pairs))
    }

    const ARN: &str = "arn:aws:kinesis:us-east-1:123456789012:stream/p2-ticker";

    #[test]
    fn the_defaults_need_only_the_stream() {
        assert_eq!(
            config(&[("STREAM_NAME", "p2-ticker")]).unwrap(),
            Config::new("p2-ticker")
        );
        assert_eq!(
            config(&[("STREAM_ARN", ARN)]).unwrap(),
            Config::new("p2-ticker")
        );
        assert_eq!(
            config(&[("STREAM_ARN", ARN), ("STREAM_NAME", "p2-ticker")]).unwrap(),
            Config::new("p2-ticker")
        );
    }

    #[test]
    fn every_variable_is_read() {
        let c = config(&[
            ("STREAM_NAME", "s"),
            ("RECORDS_PER_RUN", "250"),
            ("RATE", "50"),
            ("EVENT_TIME_FORMAT", "rfc3339"),
            ("RECORD_TTL_MS", "5000"),
            ("RECORD_MAX_BUFFERED_TIME_MS", "20"),
        ])
        .unwrap();
        assert_eq!(
            (
                c.records_per_run,
                c.rate,
                c.event_time_format,
                c.record_ttl,
                c.max_buffered_time
            ),
            (
                250,
                50,
                EventTimeFormat::Rfc3339,
                Duration::from_secs(5),
                Duration::from_millis(20)
            )
        );
    }

    #[test]
    fn bad_values_name_the_variable() {
        let err = |pairs: &[(&str, &str)]| config(pairs).unwrap_err().to_string();
        assert!(err(&[]).contains("STREAM_NAME or STREAM_ARN"));
        assert!(
            err(&[("STREAM_ARN", "arn:aws:sqs:us-east-1:123456789012:q")]).contains("STREAM_ARN=")
        );
        assert!(err(&[("STREAM_NAME", "a/b")]).contains("\"a/b\""));
        assert!(
            err(&[("STREAM_NAME", "other"), ("STREAM_ARN", ARN)]).contains("different streams")
        );
        assert_eq!(
            err(&[("STREAM_NAME", "s"), ("RECORDS_PER_RUN", "0")]),
            "RECORDS_PER_RUN=\"0\": an integer from 1 to 1000000"
        );
        assert!(err(&[("STREAM_NAME", "s"), ("RATE", "fast")]).starts_with("RATE="));
        assert!(
            err(&[("STREAM_NAME", "s"), ("RECORD_TTL_MS", "10")]).starts_with("RECORD_TTL_MS=")
        );
        assert!(
            err(&[("STREAM_NAME", "s"), ("EVENT_TIME_FORMAT", "iso")])
                .contains("`sql` or `rfc3339`")
        );
    }

    #[test]
    fn stream_arns_give_their_name() {
        assert_eq!(stream_name_of_arn(ARN).unwrap(), "p2-ticker");
        assert_eq!(
            stream_name_of_arn("arn:aws-cn:kinesis:cn-north-1:123456789012:stream/x").unwrap(),
            "x"
        );
        for bad in [
            "p2-ticker",
            "arn:aws:kinesis:us-east-1:123456789012:stream/",
            "arn:aws:kinesis:us-east-1:123456789012:stream/a/consumer/b",
            "arn:aws:kinesis:us-east-1:1234:stream/a",
            "arn:aws:firehose:us-east-1:123456789012:deliverystream/a",
        ] {
            assert!(stream_name_of_arn(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_not_put_error_gives_every_count() {
        let report = RunReport {
            stream: "s".into(),
            requested: 100,
            produced: 90,
            put: 80,
            failed: 6,
            unresolved: 4,
            errors_by_code: [("ProvisionedThroughputExceededException".to_owned(), 6)].into(),
            ..RunReport::default()
        };
        assert!(!report.complete());
        assert_eq!(
            InvokeError::NotPut(Box::new(report)).to_string(),
            "20 of 100 records were not put into stream s: 6 failed after retries \
             (ProvisionedThroughputExceededException 6), 4 unresolved at the deadline, \
             10 not produced before the deadline"
        );
    }
}
