//! The redrive workflow's function: one redrive pass over a Kinesis event source mapping's
//! on-failure queue, as `kstream redrive` runs it ([`kstream_redrive`]).
//!
//! The workflow's state machine (infra/modules/redrive-workflow) invokes it on demand or on a
//! schedule, and notifies by SNS when the pass leaves messages in the queue or fails.
//!
//! # The event
//! `{"queue_url": URL, "mode": "reput" | "invoke" | "s3", "function_name": FN (invoke),
//! "s3_uri": "s3://BUCKET/PREFIX/" (s3), "max_messages": N?, "delete_unrecoverable": BOOL?,
//! "visibility_timeout_seconds": N? (default 300)}` ([`input::Input`]). Unknown fields and
//! fields the mode does not take are refused (`InvalidInput`), so a misspelt option is not
//! silently ignored.
//!
//! # The pass
//! Each message's range is read back from the stream and, by mode, put into the stream again,
//! passed to the function as a Kinesis event, or written to S3 at
//! `<prefix><stream>/<shard>/<start>-<end>.jsonl`. A message is deleted once its range is
//! handled in full; ranges the stream no longer holds are reported and kept unless
//! `delete_unrecoverable`. The pass takes no new message once the invocation's remaining time
//! falls under [`RANGE_TIME_MARGIN`] (or half the time it had, if less): the messages not taken
//! stay in the queue for the next pass (`more: true`), and one being handled when the function
//! times out reappears after its visibility timeout (re-put and invoke are then at least once;
//! S3 writes the same object again).
//!
//! # The response
//! [`Output`]: `{"messages", "handled", "records", "already", "unrecoverable",
//! "unrecoverable_deleted", "failed", "foreign", "left", "more"}`. A pass that leaves messages
//! (`left > 0`) is not an error: the state machine decides on `left`. An error is a pass that
//! could not run: `InvalidInput` (the event) or `RedriveFailed` (the queue unreadable, a handled
//! message not deleted, the function to invoke unknown).
//!
//! # Layout
//! - [`input`]: the event; [`error`]: why an invocation fails.

pub mod error;
pub mod input;

use std::time::{Duration, SystemTime};

use kstream_pipeline::aws::AwsClient;
use kstream_redrive::{
    InvokeSink, LambdaInvoker, LogObserver, Pass, ReputSink, S3Sink, Sink, Summary,
};
use lambda_runtime::LambdaEvent;
use serde::Serialize;
use serde_json::Value;

pub use error::InvokeError;
pub use input::{Input, Target};

/// The time kept back from the invocation's deadline for the range being handled when the
/// pass stops taking messages: a minute (a range of up to 10,000 records read back, put or
/// written; an invoked consumer with a longer timeout needs a longer visibility timeout, not a
/// longer margin, since a range cut short is handled again by the next pass).
pub const RANGE_TIME_MARGIN: Duration = Duration::from_secs(60);

/// The AWS clients, made once per cold start: kstream-pipeline's signing client (no AWS SDK),
/// one for SQS, Kinesis and S3 and one for Lambda, whose attempts last as long as the invoked
/// function may run.
#[derive(Debug, Clone)]
pub struct Clients {
    aws: AwsClient,
    lambda: AwsClient,
}

impl Clients {
    /// The clients of `aws` (configured from the environment: credentials, region,
    /// `AWS_ENDPOINT_URL*`; S3 is addressed by path on a configured endpoint, an emulator).
    pub fn new(aws: AwsClient) -> Self {
        let lambda = aws
            .clone()
            .with_attempt_timeout(kstream_redrive::aws::INVOKE_ATTEMPT_TIMEOUT);
        Self { aws, lambda }
    }
}

/// The response: what the pass did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Output {
    /// Messages read.
    pub messages: u64,
    /// Ranges handled in full (their messages deleted).
    pub handled: u64,
    /// Records of the handled ranges.
    pub records: u64,
    /// Of them, records an earlier pass already wrote (none for these modes; kept for the
    /// summary's shape).
    pub already: u64,
    /// Ranges the stream no longer holds.
    pub unrecoverable: u64,
    /// Of them, those whose message was deleted.
    pub unrecoverable_deleted: u64,
    /// Ranges not handled this time (left in the queue).
    pub failed: u64,
    /// Messages that are not on-failure messages (left in the queue).
    pub foreign: u64,
    /// Messages this pass read and left in the queue.
    pub left: u64,
    /// The pass stopped before the queue was empty (`max_messages` or the deadline).
    pub more: bool,
}

impl From<&Summary> for Output {
    fn from(s: &Summary) -> Self {
        Self {
            messages: s.messages,
            handled: s.handled,
            records: s.records,
            already: s.already,
            unrecoverable: s.unrecoverable,
            unrecoverable_deleted: s.unrecoverable_deleted,
            failed: s.failed,
            foreign: s.foreign,
            left: s.left(),
            more: s.more,
        }
    }
}

/// Runs one pass for the event.
///
/// # Errors
/// [`InvokeError::Input`] for an event this function does not run; [`InvokeError::Pass`] when
/// the pass could not run.
pub async fn handler(event: LambdaEvent<Value>, clients: &Clients) -> Result<Output, InvokeError> {
    let (event, context) = event.into_parts();
    let input = Input::parse(event)?;
    let remaining = context
        .deadline()
        .duration_since(SystemTime::now())
        .unwrap_or_default();
    let stop_at = tokio::time::Instant::now() + remaining.saturating_sub(margin(remaining));
    let pass = Pass::new(&input.queue_url)
        .visibility_timeout(input.visibility_timeout)?
        .max_messages(input.max_messages)
        .delete_unrecoverable(input.delete_unrecoverable)
        .deadline(Some(stop_at));
    let summary = match &input.target {
        Target::Reput => run(&pass, clients, ReputSink::new(clients.aws.clone())).await,
        Target::S3(prefix) => {
            run(
                &pass,
                clients,
                S3Sink::new(clients.aws.clone(), prefix.clone()),
            )
            .await
        }
        Target::Invoke(function) => {
            let invoker = LambdaInvoker::connect(clients.lambda.clone(), function.clone()).await?;
            run(&pass, clients, InvokeSink::new(invoker)).await
        }
    };
    match &summary {
        Ok(s) => tracing::info!(queue = %input.queue_url, "{s}"),
        Err(e) => tracing::error!(queue = %input.queue_url, error = %e, "redrive pass failed"),
    }
    Ok(Output::from(&summary?))
}

/// The time kept back from `remaining`: [`RANGE_TIME_MARGIN`], or half of `remaining` when
/// that is less (a short timeout still takes messages).
pub fn margin(remaining: Duration) -> Duration {
    RANGE_TIME_MARGIN.min(remaining / 2)
}

async fn run<S: Sink>(
    pass: &Pass,
    clients: &Clients,
    mut sink: S,
) -> Result<Summary, kstream_redrive::Error> {
    pass.run(&clients.aws, &clients.aws, &mut sink, &mut LogObserver)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_margin_leaves_half_a_short_invocation() {
        assert_eq!(margin(Duration::from_secs(900)), RANGE_TIME_MARGIN);
        assert_eq!(margin(Duration::from_secs(30)), Duration::from_secs(15));
        assert_eq!(margin(Duration::ZERO), Duration::ZERO);
    }
}
