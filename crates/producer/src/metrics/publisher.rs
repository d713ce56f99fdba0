//! The CloudWatch publisher: a task that uploads the producer's counters with PutMetricData
//! every `metrics_upload_delay`, and once more when it is finished.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::series::{StreamCounts, data};
use super::{Metrics, MetricsSnapshot};
use crate::config::{MetricsGranularity, MetricsLevel};
use crate::error::Error;

/// What to publish, and where.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) namespace: String,
    pub(crate) stream: String,
    pub(crate) level: MetricsLevel,
    pub(crate) granularity: MetricsGranularity,
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
    settings: Settings,
    delay: Duration,
    metrics: std::sync::Weak<Metrics>,
    outstanding: Arc<dyn Fn() -> u64 + Send + Sync>,
) -> MetricsPublisher {
    let (finish, finished) = oneshot::channel();
    let task = tokio::spawn(publish_loop(
        client,
        settings,
        delay,
        metrics,
        outstanding,
        finished,
    ));
    MetricsPublisher { finish, task }
}

/// Publishes every `delay` until the producer is dropped, or once more and stops when a
/// final snapshot arrives on `finished`.
async fn publish_loop(
    client: aws_sdk_cloudwatch::Client,
    settings: Settings,
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
                if let Err(err) = publish(&client, &settings, &now, &previous).await {
                    tracing::warn!(error = %err, "could not publish producer metrics to CloudWatch");
                }
                previous = now;
            }
            last = &mut finished, if handle_alive => match last {
                Ok((last, reply)) => {
                    let result = publish(&client, &settings, &last, &previous).await;
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
    settings: &Settings,
    now: &MetricsSnapshot,
    previous: &MetricsSnapshot,
) -> Result<(), String> {
    let data = data(
        settings.level,
        settings.granularity,
        &[StreamCounts {
            stream: &settings.stream,
            now,
            previous,
        }],
    );
    for chunk in data.chunks(1000) {
        client
            .put_metric_data()
            .namespace(&settings.namespace)
            .set_metric_data(Some(chunk.to_vec()))
            .send()
            .await
            .map_err(|e| error_message(&e))?;
    }
    Ok(())
}
