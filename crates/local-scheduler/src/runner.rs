//! Firing the schedules: one task per enabled schedule, one per event in flight.
//!
//! At each fire time (plus a random delay within the window for `FlexibleTimeWindow`
//! `FLEXIBLE`), the schedule's event is delivered to its Lambda target through the
//! [`FunctionHost`], as Scheduler's asynchronous `Invoke` would:
//!
//! - **Delivery.** The host refusing to run the function (its process cannot start) is a
//!   delivery failure: it is retried with exponential backoff (1 s doubling to 60 s) within the
//!   `RetryPolicy` (`MaximumRetryAttempts` retries, `MaximumEventAgeInSeconds` from the fire
//!   time); a function the host does not know is not retried (AWS: `ResourceNotFoundException`
//!   is not retryable). An event not delivered goes to the `DeadLetterConfig` queue, the Input as
//!   the body with the attributes `ERROR_CODE`, `ERROR_MESSAGE`, `EXHAUSTED_RETRY_CONDITION`,
//!   `RETRY_ATTEMPTS`, `SCHEDULE_ARN` and `TARGET_ARN`, or is dropped (logged) without one.
//! - **The function's own failure** (an error, a crash, a timeout) happens after Lambda accepted
//!   the event, so Scheduler's policy does not see it: Lambda's asynchronous invocation retries
//!   it twice, 1 and 2 minutes later, and then counts it in `eventsFailed` (the function's
//!   on-failure destination is not emulated; the failure is logged).
//! - Events do not wait for each other: a slow function does not delay the next fire.
//! - Times missed while `kstream local` was not running are not caught up.
//!
//! **Speed-up** ([`SchedulerOptions::speedup`]): the scheduler's clock runs that many times
//! faster than real time from its start, so `rate(1 minute)` fires every second with 60; the
//! retry delays shrink by the same factor. For tests and demos; 1 (real time) by default.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use kstream_local_lambda::Error as HostError;
use kstream_local_lambda::runtime::FunctionHost;
use rand::Rng as _;
use tokio::sync::watch;

use crate::error::{Error, Result};
use crate::schedule::ScheduleSpec;
use crate::stats::ScheduleStats;

/// Lambda's asynchronous retries of a failed function (its default `MaximumRetryAttempts`).
pub const LAMBDA_ASYNC_RETRIES: u32 = 2;

/// Settings of a [`Scheduler`].
#[derive(Debug, Clone, PartialEq)]
pub struct SchedulerOptions {
    /// How many times faster than real time the scheduler's clock runs (at least 1).
    pub speedup: f64,
}

impl Default for SchedulerOptions {
    fn default() -> Self {
        Self { speedup: 1.0 }
    }
}

/// The scheduler's clock: real time from its start, `speedup` times faster.
#[derive(Debug, Clone, Copy)]
struct Clock {
    real_start: Instant,
    start: DateTime<Utc>,
    speedup: f64,
}

impl Clock {
    fn new(speedup: f64) -> Self {
        Self {
            real_start: Instant::now(),
            start: Utc::now(),
            speedup: speedup.max(1.0),
        }
    }

    fn now(&self) -> DateTime<Utc> {
        let elapsed = self.real_start.elapsed().mul_f64(self.speedup);
        self.start + chrono::Duration::from_std(elapsed).unwrap_or_default()
    }

    /// Real time until the clock shows `at`.
    fn until(&self, at: DateTime<Utc>) -> Duration {
        (at - self.now())
            .to_std()
            .unwrap_or_default()
            .div_f64(self.speedup)
    }

    /// Real time for `span` on the clock.
    fn real(&self, span: Duration) -> Duration {
        span.div_f64(self.speedup)
    }
}

/// Fires the schedules of a deployment.
#[derive(Debug)]
pub struct Scheduler {
    schedules: Vec<(Arc<ScheduleSpec>, Arc<ScheduleStats>)>,
    host: FunctionHost,
    sqs: aws_sdk_sqs::Client,
    options: SchedulerOptions,
}

/// Sleeps `span` unless `stop` turns true first; returns whether it slept the whole span.
async fn sleep_or_stop(span: Duration, stop: &mut watch::Receiver<bool>) -> bool {
    tokio::select! {
        () = tokio::time::sleep(span) => true,
        _ = stop.wait_for(|s| *s) => false,
    }
}

impl Scheduler {
    /// A scheduler of `schedules`, invoking through `host`, sending dead letters with `sdk`.
    pub fn new(
        schedules: Vec<ScheduleSpec>,
        host: FunctionHost,
        sdk: &aws_config::SdkConfig,
        options: SchedulerOptions,
    ) -> Self {
        Self {
            schedules: schedules
                .into_iter()
                .map(|s| (Arc::new(s), Arc::new(ScheduleStats::default())))
                .collect(),
            host,
            sqs: aws_sdk_sqs::Client::new(sdk),
            options,
        }
    }

    /// The schedules with their counters (disabled ones included, never fired).
    pub fn schedules(&self) -> &[(Arc<ScheduleSpec>, Arc<ScheduleStats>)] {
        &self.schedules
    }

    /// Fires every enabled schedule until `stop` turns true; then lets the invocations in
    /// flight finish (retries not yet started are abandoned).
    pub async fn run(self, stop: watch::Receiver<bool>) {
        let clock = Clock::new(self.options.speedup);
        let mut tasks = tokio::task::JoinSet::new();
        for (spec, stats) in &self.schedules {
            if !spec.enabled {
                tracing::info!(schedule = %spec.name, "schedule disabled; not fired");
                continue;
            }
            let firing = Firing {
                spec: spec.clone(),
                stats: stats.clone(),
                host: self.host.clone(),
                sqs: self.sqs.clone(),
                clock,
            };
            tasks.spawn(firing.run(stop.clone()));
        }
        while tasks.join_next().await.is_some() {}
    }
}

/// One schedule's firing loop and its events.
#[derive(Clone)]
struct Firing {
    spec: Arc<ScheduleSpec>,
    stats: Arc<ScheduleStats>,
    host: FunctionHost,
    sqs: aws_sdk_sqs::Client,
    clock: Clock,
}

impl Firing {
    async fn run(self, mut stop: watch::Receiver<bool>) {
        let mut events = tokio::task::JoinSet::new();
        let mut after = self.clock.now();
        while let Some(scheduled) = self.spec.times.next_after(after) {
            after = scheduled;
            let fire_at = match self.spec.flexible_window {
                None => scheduled,
                Some(window) => {
                    let ms = rand::rng().random_range(0..=window.as_millis().max(1));
                    scheduled + chrono::Duration::milliseconds(i64::try_from(ms).unwrap_or(0))
                }
            };
            tracing::debug!(schedule = %self.spec.name, at = %fire_at, "next fire");
            if !sleep_or_stop(self.clock.until(fire_at), &mut stop).await {
                break;
            }
            self.stats
                .fires
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            self.stats.last_fire_ms.store(
                Utc::now().timestamp_millis(),
                std::sync::atomic::Ordering::Relaxed,
            );
            tracing::info!(schedule = %self.spec.name, target = %self.spec.target_arn, scheduled = %scheduled, "schedule fired");
            let event = self.clone();
            let stop = stop.clone();
            events.spawn(async move { event.deliver(scheduled, stop).await });
            // Reap finished events so the set does not grow.
            while events.try_join_next().is_some() {}
        }
        if self.spec.times.next_after(after).is_none() {
            tracing::info!(schedule = %self.spec.name, "schedule has no further fire time");
        }
        while events.join_next().await.is_some() {}
    }

    /// Delivers one event: Scheduler's retry policy for delivery, Lambda's asynchronous
    /// retries for the function's failures, the dead-letter queue.
    async fn deliver(self, scheduled: DateTime<Utc>, mut stop: watch::Receiver<bool>) {
        use std::sync::atomic::Ordering::Relaxed;
        let execution_id = uuid::Uuid::new_v4().to_string();
        let mut attempt: u32 = 0;
        let mut function_attempts: u32 = 0;
        loop {
            attempt += 1;
            let payload = self.spec.payload(scheduled, &execution_id, attempt);
            match self
                .host
                .invoke(&self.spec.target_arn, payload.clone())
                .await
            {
                Ok(outcome) => {
                    self.stats.invocations.fetch_add(1, Relaxed);
                    let Some(error) = outcome.error() else {
                        return;
                    };
                    self.stats.function_errors.fetch_add(1, Relaxed);
                    function_attempts += 1;
                    tracing::warn!(schedule = %self.spec.name, request_id = %outcome.request_id, error_type = %error.error_type, error = %error.error_message, "the scheduled invocation failed");
                    if function_attempts > LAMBDA_ASYNC_RETRIES {
                        self.stats.events_failed.fetch_add(1, Relaxed);
                        tracing::error!(schedule = %self.spec.name, attempts = function_attempts, "the event failed after Lambda's asynchronous retries");
                        return;
                    }
                    // Lambda's asynchronous retries: 1 minute, then 2 minutes.
                    let delay = Duration::from_secs(60 * u64::from(function_attempts));
                    if !sleep_or_stop(self.clock.real(delay), &mut stop).await {
                        return;
                    }
                    attempt -= 1; // Lambda's retry, not a new delivery attempt.
                }
                Err(HostError::ShuttingDown) => return,
                Err(error) => {
                    self.stats.delivery_failures.fetch_add(1, Relaxed);
                    let retryable = !matches!(error, HostError::UnknownFunction(_));
                    let age = (self.clock.now() - scheduled).to_std().unwrap_or_default();
                    let exhausted = if !retryable {
                        Some("NonRetryableError")
                    } else if attempt > self.spec.max_retry_attempts {
                        Some("MaximumRetryAttempts")
                    } else if age >= self.spec.max_event_age {
                        Some("MaximumEventAgeInSeconds")
                    } else {
                        None
                    };
                    tracing::warn!(schedule = %self.spec.name, attempt, error = %error, "could not deliver the scheduled event");
                    if let Some(condition) = exhausted {
                        self.dead_letter(&payload, &error, condition, attempt - 1)
                            .await;
                        return;
                    }
                    let backoff =
                        Duration::from_secs(1 << (attempt - 1).min(6)).min(Duration::from_secs(60));
                    if !sleep_or_stop(self.clock.real(backoff), &mut stop).await {
                        return;
                    }
                }
            }
        }
    }

    async fn dead_letter(&self, payload: &str, error: &HostError, condition: &str, retries: u32) {
        let Some(arn) = &self.spec.dead_letter_arn else {
            tracing::error!(schedule = %self.spec.name, %condition, "event dropped: not delivered and no dead-letter queue");
            return;
        };
        match self
            .send_dead_letter(arn, payload, error, condition, retries)
            .await
        {
            Ok(()) => {
                self.stats
                    .dead_lettered
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                tracing::warn!(schedule = %self.spec.name, queue = %arn, %condition, "event sent to the dead-letter queue");
            }
            Err(e) => {
                tracing::error!(schedule = %self.spec.name, queue = %arn, error = %e, "event dropped: the dead-letter queue refused it");
            }
        }
    }

    async fn send_dead_letter(
        &self,
        arn: &str,
        payload: &str,
        error: &HostError,
        condition: &str,
        retries: u32,
    ) -> Result<()> {
        // arn:aws:sqs:<region>:<account>:<name>
        let mut parts = arn.split(':');
        let account = parts.nth(4).unwrap_or_default().to_owned();
        let name = parts.next().unwrap_or_default().to_owned();
        let mut request = self.sqs.get_queue_url().queue_name(name);
        if !account.is_empty() {
            request = request.queue_owner_aws_account_id(account);
        }
        let url = request
            .send()
            .await
            .map_err(|e| Error::aws("SQS.GetQueueUrl", e))?
            .queue_url()
            .unwrap_or_default()
            .to_owned();
        let code = match error {
            HostError::UnknownFunction(_) => "ResourceNotFoundException",
            _ => "ServiceException",
        };
        let attribute = |value: String| {
            aws_sdk_sqs::types::MessageAttributeValue::builder()
                .data_type("String")
                .string_value(value)
                .build()
                .map_err(|e| Error::aws("SQS.SendMessage", e))
        };
        self.sqs
            .send_message()
            .queue_url(url)
            .message_body(payload)
            .message_attributes("ERROR_CODE", attribute(code.to_owned())?)
            .message_attributes("ERROR_MESSAGE", attribute(error.to_string())?)
            .message_attributes(
                "EXHAUSTED_RETRY_CONDITION",
                attribute(condition.to_owned())?,
            )
            .message_attributes("RETRY_ATTEMPTS", attribute(retries.to_string())?)
            .message_attributes("SCHEDULE_ARN", attribute(self.spec.arn.clone())?)
            .message_attributes("TARGET_ARN", attribute(self.spec.target_arn.clone())?)
            .send()
            .await
            .map_err(|e| Error::aws("SQS.SendMessage", e))?;
        Ok(())
    }
}
