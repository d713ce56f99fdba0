//! KPL-named metrics, counted in process and optionally published to CloudWatch.
//!
//! | Metric | Meaning |
//! |---|---|
//! | `UserRecordsReceived` | user records accepted by `put` |
//! | `UserRecordsPending` | user records accepted and not yet completed |
//! | `UserRecordsPut` | user records Kinesis accepted |
//! | `UserRecordsDataPut` | bytes of those user records' data |
//! | `KinesisRecordsPut` | Kinesis records (aggregates or raw) accepted |
//! | `KinesisRecordsDataPut` | bytes of those Kinesis records (data plus partition key) |
//! | `UserRecordsPerKinesisRecord` | `UserRecordsPut / KinesisRecordsPut` |
//! | `RetriesPerRecord` | retries per completed user record |
//! | `ErrorsByCode` | errors per error code (per Kinesis record entry, or per request) |
//! | `AllErrors` | sum of `ErrorsByCode` |
//! | `UserRecordExpired` | user records whose time to live ran out |
//! | `BufferingTime` | mean time from `put` to the first PutRecords request, in ms |
//! | `RequestTime` | mean PutRecords request duration, in ms |
//! | `KinesisRecordsPerPutRecordsRequest` | mean entries per request |

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Counters shared by the producer's tasks.
#[derive(Debug, Default)]
pub(crate) struct Metrics {
    pub(crate) user_records_received: AtomicU64,
    pub(crate) user_records_put: AtomicU64,
    pub(crate) user_records_data_put: AtomicU64,
    pub(crate) user_records_failed: AtomicU64,
    pub(crate) user_records_expired: AtomicU64,
    pub(crate) kinesis_records_put: AtomicU64,
    pub(crate) kinesis_records_data_put: AtomicU64,
    pub(crate) retries: AtomicU64,
    pub(crate) put_records_requests: AtomicU64,
    pub(crate) put_records_entries: AtomicU64,
    pub(crate) request_time_us: AtomicU64,
    pub(crate) buffering_time_us: AtomicU64,
    pub(crate) buffered_records: AtomicU64,
    pub(crate) shard_map_refreshes: AtomicU64,
    pub(crate) errors_by_code: Mutex<BTreeMap<String, u64>>,
}

impl Metrics {
    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn error(&self, code: &str, n: u64) {
        let mut errors = self
            .errors_by_code
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *errors.entry(code.to_owned()).or_default() += n;
    }

    pub(crate) fn snapshot(&self, outstanding: u64) -> MetricsSnapshot {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let errors_by_code = self
            .errors_by_code
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone();
        MetricsSnapshot {
            user_records_received: get(&self.user_records_received),
            user_records_pending: outstanding,
            user_records_put: get(&self.user_records_put),
            user_records_data_put: get(&self.user_records_data_put),
            user_records_failed: get(&self.user_records_failed),
            user_record_expired: get(&self.user_records_expired),
            kinesis_records_put: get(&self.kinesis_records_put),
            kinesis_records_data_put: get(&self.kinesis_records_data_put),
            retries: get(&self.retries),
            put_records_requests: get(&self.put_records_requests),
            put_records_entries: get(&self.put_records_entries),
            request_time_total: Duration::from_micros(get(&self.request_time_us)),
            buffering_time_total: Duration::from_micros(get(&self.buffering_time_us)),
            buffered_records: get(&self.buffered_records),
            shard_map_refreshes: get(&self.shard_map_refreshes),
            errors_by_code,
        }
    }
}

/// A copy of the producer's counters at one moment. Counters are totals since the start.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct MetricsSnapshot {
    /// `UserRecordsReceived`: user records accepted by `put`.
    pub user_records_received: u64,
    /// `UserRecordsPending`: user records accepted and not yet completed.
    pub user_records_pending: u64,
    /// `UserRecordsPut`: user records Kinesis accepted.
    pub user_records_put: u64,
    /// `UserRecordsDataPut`: bytes of data of those user records.
    pub user_records_data_put: u64,
    /// User records that failed (expired or rejected).
    pub user_records_failed: u64,
    /// `UserRecordExpired`: user records whose time to live ran out (included in
    /// `user_records_failed`).
    pub user_record_expired: u64,
    /// `KinesisRecordsPut`: Kinesis records (aggregates or raw) accepted.
    pub kinesis_records_put: u64,
    /// `KinesisRecordsDataPut`: bytes of those Kinesis records (data plus partition key).
    pub kinesis_records_data_put: u64,
    /// Retries over every completed user record (`RetriesPerRecord` × completed records).
    pub retries: u64,
    /// PutRecords requests sent.
    pub put_records_requests: u64,
    /// Entries sent in those requests, retries included.
    pub put_records_entries: u64,
    /// Sum of the PutRecords request durations.
    pub request_time_total: Duration,
    /// Sum over sent user records of the time from `put` to their first request.
    pub buffering_time_total: Duration,
    /// User records counted in `buffering_time_total`.
    pub buffered_records: u64,
    /// Shard map refreshes after the first.
    pub shard_map_refreshes: u64,
    /// `ErrorsByCode`: errors per code.
    pub errors_by_code: BTreeMap<String, u64>,
}

impl MetricsSnapshot {
    /// `UserRecordsPerKinesisRecord`.
    pub fn user_records_per_kinesis_record(&self) -> f64 {
        ratio(self.user_records_put, self.kinesis_records_put)
    }
    /// `RetriesPerRecord`, over completed user records.
    pub fn retries_per_record(&self) -> f64 {
        ratio(
            self.retries,
            self.user_records_put + self.user_records_failed,
        )
    }
    /// `AllErrors`.
    pub fn all_errors(&self) -> u64 {
        self.errors_by_code.values().sum()
    }
    /// `BufferingTime`: mean time from `put` to the first request.
    pub fn buffering_time(&self) -> Duration {
        if self.buffered_records == 0 {
            Duration::ZERO
        } else {
            self.buffering_time_total / u32::try_from(self.buffered_records).unwrap_or(u32::MAX)
        }
    }
    /// `RequestTime`: mean PutRecords duration.
    pub fn request_time(&self) -> Duration {
        if self.put_records_requests == 0 {
            Duration::ZERO
        } else {
            self.request_time_total / u32::try_from(self.put_records_requests).unwrap_or(u32::MAX)
        }
    }
    /// `KinesisRecordsPerPutRecordsRequest`.
    pub fn kinesis_records_per_request(&self) -> f64 {
        ratio(self.put_records_entries, self.put_records_requests)
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

#[cfg(feature = "cloudwatch")]
pub(crate) mod cloudwatch {
    //! Publishing to CloudWatch with PutMetricData.

    use std::sync::Arc;
    use std::time::Duration;

    use aws_sdk_cloudwatch::types::{Dimension, MetricDatum, StandardUnit};
    use tokio::sync::oneshot;
    use tokio::task::JoinHandle;

    use super::{Metrics, MetricsSnapshot};
    use crate::config::MetricsLevel;
    use crate::error::Error;

    /// The data of one upload: the deltas since `previous`, dimension `StreamName`.
    pub(crate) fn data(
        stream: &str,
        level: MetricsLevel,
        now: &MetricsSnapshot,
        previous: &MetricsSnapshot,
    ) -> Vec<MetricDatum> {
        let stream_dim = Dimension::builder()
            .name("StreamName")
            .value(stream)
            .build();
        let datum = |name: &str, value: f64, unit: StandardUnit| {
            MetricDatum::builder()
                .metric_name(name)
                .dimensions(stream_dim.clone())
                .value(value)
                .unit(unit)
                .build()
        };
        let delta = |a: u64, b: u64| a.saturating_sub(b) as f64;
        let put = now.user_records_put - previous.user_records_put.min(now.user_records_put);
        let kinesis =
            now.kinesis_records_put - previous.kinesis_records_put.min(now.kinesis_records_put);
        let completed = put
            + now
                .user_records_failed
                .saturating_sub(previous.user_records_failed);
        let retries = delta(now.retries, previous.retries);
        let buffered = now
            .buffered_records
            .saturating_sub(previous.buffered_records);
        let buffering = now
            .buffering_time_total
            .saturating_sub(previous.buffering_time_total);
        let mut data = vec![
            datum(
                "UserRecordsReceived",
                delta(now.user_records_received, previous.user_records_received),
                StandardUnit::Count,
            ),
            datum(
                "UserRecordsPending",
                now.user_records_pending as f64,
                StandardUnit::Count,
            ),
            datum("UserRecordsPut", put as f64, StandardUnit::Count),
            datum(
                "UserRecordsDataPut",
                delta(now.user_records_data_put, previous.user_records_data_put),
                StandardUnit::Bytes,
            ),
            datum("KinesisRecordsPut", kinesis as f64, StandardUnit::Count),
            datum(
                "KinesisRecordsDataPut",
                delta(
                    now.kinesis_records_data_put,
                    previous.kinesis_records_data_put,
                ),
                StandardUnit::Bytes,
            ),
            datum(
                "UserRecordExpired",
                delta(now.user_record_expired, previous.user_record_expired),
                StandardUnit::Count,
            ),
            datum(
                "AllErrors",
                delta(now.all_errors(), previous.all_errors()),
                StandardUnit::Count,
            ),
        ];
        if kinesis > 0 {
            data.push(datum(
                "UserRecordsPerKinesisRecord",
                put as f64 / kinesis as f64,
                StandardUnit::Count,
            ));
        }
        if completed > 0 {
            data.push(datum(
                "RetriesPerRecord",
                retries / completed as f64,
                StandardUnit::Count,
            ));
        }
        if buffered > 0 {
            data.push(datum(
                "BufferingTime",
                buffering.as_secs_f64() * 1000.0 / buffered as f64,
                StandardUnit::Milliseconds,
            ));
        }
        if level == MetricsLevel::Detailed {
            for (code, count) in &now.errors_by_code {
                let before = previous.errors_by_code.get(code).copied().unwrap_or(0);
                if *count > before {
                    data.push(
                        MetricDatum::builder()
                            .metric_name("ErrorsByCode")
                            .dimensions(stream_dim.clone())
                            .dimensions(Dimension::builder().name("ErrorCode").value(code).build())
                            .value((count - before) as f64)
                            .unit(StandardUnit::Count)
                            .build(),
                    );
                }
            }
        }
        data
    }

    /// What [`MetricsPublisher::finish`] sends the loop: the last snapshot and where to answer.
    type Finish = (MetricsSnapshot, oneshot::Sender<Result<(), String>>);

    /// A running CloudWatch publisher, from `Producer::start_metrics_publisher`.
    ///
    /// It uploads every `metrics_upload_delay` until the producer is dropped. Call
    /// [`finish`](Self::finish) with the snapshot returned by `Producer::shutdown` so the last
    /// (possibly only) interval is uploaded too; dropping the handle leaves the periodic uploads
    /// running until the producer is dropped, and [`abort`](Self::abort) stops them at once.
    #[derive(Debug)]
    pub struct MetricsPublisher {
        finish: oneshot::Sender<Finish>,
        task: JoinHandle<()>,
    }

    impl MetricsPublisher {
        /// Uploads what `last` counts beyond the previous upload (PutMetricData), then stops.
        ///
        /// # Errors
        /// [`Error::PublishMetrics`] if the upload fails (the periodic uploads only log).
        pub async fn finish(self, last: MetricsSnapshot) -> Result<(), Error> {
            let (reply, answer) = oneshot::channel();
            let stopped = || Error::PublishMetrics {
                message: "the metrics publisher stopped".to_owned(),
            };
            self.finish.send((last, reply)).map_err(|_| stopped())?;
            let result = answer.await.map_err(|_| stopped())?;
            let _ = self.task.await;
            result.map_err(|message| Error::PublishMetrics { message })
        }

        /// Stops the periodic uploads without a final one.
        pub fn abort(self) {
            self.task.abort();
        }
    }

    /// Starts [`publish_loop`] on the runtime.
    pub(crate) fn start(
        client: aws_sdk_cloudwatch::Client,
        namespace: String,
        stream: String,
        level: MetricsLevel,
        delay: Duration,
        metrics: std::sync::Weak<Metrics>,
        outstanding: Arc<dyn Fn() -> u64 + Send + Sync>,
    ) -> MetricsPublisher {
        let (finish, finished) = oneshot::channel();
        let task = tokio::spawn(publish_loop(
            client,
            namespace,
            stream,
            level,
            delay,
            metrics,
            outstanding,
            finished,
        ));
        MetricsPublisher { finish, task }
    }

    /// Publishes every `delay` until the producer is dropped, or once more and stops when a
    /// final snapshot arrives on `finished`.
    #[allow(clippy::too_many_arguments)]
    async fn publish_loop(
        client: aws_sdk_cloudwatch::Client,
        namespace: String,
        stream: String,
        level: MetricsLevel,
        delay: Duration,
        metrics: std::sync::Weak<Metrics>,
        outstanding: Arc<dyn Fn() -> u64 + Send + Sync>,
        mut finished: oneshot::Receiver<Finish>,
    ) {
        let mut previous = MetricsSnapshot::default();
        let mut interval = tokio::time::interval(delay);
        interval.tick().await;
        // The periodic uploads stop when the producer is dropped; the loop ends then unless
        // the handle may still send the final snapshot (`Producer::shutdown` drops the
        // producer's counters before the caller can call `finish`).
        let (mut producer_alive, mut handle_alive) = (true, true);
        loop {
            tokio::select! {
                _ = interval.tick(), if producer_alive => {
                    let Some(metrics) = metrics.upgrade() else {
                        producer_alive = false;
                        if handle_alive {
                            continue;
                        }
                        return;
                    };
                    let now = metrics.snapshot(outstanding());
                    drop(metrics);
                    if let Err(err) = publish(&client, &namespace, &stream, level, &now, &previous).await {
                        tracing::warn!(error = %err, "could not publish producer metrics to CloudWatch");
                    }
                    previous = now;
                }
                last = &mut finished, if handle_alive => match last {
                    Ok((last, reply)) => {
                        let result = publish(&client, &namespace, &stream, level, &last, &previous).await;
                        let _ = reply.send(result);
                        return;
                    }
                    // The handle was dropped: keep uploading until the producer is dropped.
                    Err(_) if producer_alive => handle_alive = false,
                    Err(_) => return,
                },
            }
        }
    }

    /// `Code: message` for a CloudWatch error, `HTTP <status>: <error>` for an answer that is
    /// not one (an endpoint that does not serve CloudWatch), else the error with its causes.
    fn error_message(
        err: &aws_sdk_cloudwatch::error::SdkError<
            aws_sdk_cloudwatch::operation::put_metric_data::PutMetricDataError,
            aws_sdk_cloudwatch::config::http::HttpResponse,
        >,
    ) -> String {
        use aws_sdk_cloudwatch::error::{ProvideErrorMetadata, SdkError};
        match err {
            SdkError::ServiceError(service) if service.err().code().is_none() => {
                format!(
                    "HTTP {}: {}",
                    service.raw().status().as_u16(),
                    service.err()
                )
            }
            _ => crate::sdk_error_message(err),
        }
    }

    /// One PutMetricData call (in chunks of 1000 data).
    pub(crate) async fn publish(
        client: &aws_sdk_cloudwatch::Client,
        namespace: &str,
        stream: &str,
        level: MetricsLevel,
        now: &MetricsSnapshot,
        previous: &MetricsSnapshot,
    ) -> Result<(), String> {
        let data = data(stream, level, now, previous);
        for chunk in data.chunks(1000) {
            client
                .put_metric_data()
                .namespace(namespace)
                .set_metric_data(Some(chunk.to_vec()))
                .send()
                .await
                .map_err(|e| error_message(&e))?;
        }
        Ok(())
    }
}

#[cfg(all(test, feature = "cloudwatch"))]
mod tests {
    use super::*;
    use crate::config::MetricsLevel;

    #[test]
    fn uploads_carry_deltas_with_kpl_names_and_the_stream_dimension() {
        let previous = MetricsSnapshot {
            user_records_put: 100,
            kinesis_records_put: 10,
            ..MetricsSnapshot::default()
        };
        let mut errors = BTreeMap::new();
        errors.insert("ProvisionedThroughputExceededException".to_owned(), 3);
        let now = MetricsSnapshot {
            user_records_received: 400,
            user_records_put: 400,
            user_records_data_put: 40_000,
            kinesis_records_put: 20,
            retries: 30,
            buffered_records: 300,
            buffering_time_total: Duration::from_millis(30_000),
            errors_by_code: errors,
            ..MetricsSnapshot::default()
        };
        let data = cloudwatch::data("ticks", MetricsLevel::Detailed, &now, &previous);
        let value = |name: &str| {
            data.iter()
                .find(|d| d.metric_name() == Some(name))
                .and_then(|d| d.value())
                .unwrap_or_else(|| panic!("{name} missing"))
        };
        assert_eq!(value("UserRecordsPut"), 300.0);
        assert_eq!(value("KinesisRecordsPut"), 10.0);
        assert_eq!(value("UserRecordsPerKinesisRecord"), 30.0);
        assert_eq!(value("RetriesPerRecord"), 0.1);
        assert_eq!(value("BufferingTime"), 100.0);
        assert_eq!(value("ErrorsByCode"), 3.0);
        for datum in &data {
            assert_eq!(datum.dimensions()[0].name(), Some("StreamName"));
            assert_eq!(datum.dimensions()[0].value(), Some("ticks"));
        }
        let summary = cloudwatch::data("ticks", MetricsLevel::Summary, &now, &previous);
        assert!(
            summary
                .iter()
                .all(|d| d.metric_name() != Some("ErrorsByCode"))
        );
    }
}
