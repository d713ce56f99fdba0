//! One deployed schedule, as the local scheduler fires it.

use std::time::Duration;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::error::{Error, Result};
use crate::expression::{Expression, FireTimes};

/// Scheduler's default `MaximumRetryAttempts`.
pub const DEFAULT_MAX_RETRY_ATTEMPTS: u32 = 185;
/// Scheduler's default `MaximumEventAgeInSeconds` (24 hours).
pub const DEFAULT_MAX_EVENT_AGE: Duration = Duration::from_secs(86_400);

/// A schedule kstream local can fire: a Lambda target, an expression it evaluates.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ScheduleSpec {
    /// The schedule's name.
    pub name: String,
    /// Its group.
    pub group: String,
    /// Its ARN (`<aws.scheduler.schedule-arn>`).
    pub arn: String,
    /// The expression as deployed.
    pub expression_text: String,
    /// When it fires.
    pub times: FireTimes,
    /// `State` is `ENABLED`.
    pub enabled: bool,
    /// `FlexibleTimeWindow`: `None` for `OFF`, the window for `FLEXIBLE`.
    pub flexible_window: Option<Duration>,
    /// The target function's ARN.
    pub target_arn: String,
    /// The target's `Input`, when set.
    pub input: Option<String>,
    /// `RetryPolicy.MaximumRetryAttempts`.
    pub max_retry_attempts: u32,
    /// `RetryPolicy.MaximumEventAgeInSeconds`.
    pub max_event_age: Duration,
    /// `DeadLetterConfig.Arn`: the SQS queue of events that could not be delivered.
    pub dead_letter_arn: Option<String>,
}

fn to_chrono(time: &aws_smithy_types::DateTime) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(time.secs(), time.subsec_nanos())
}

/// Whether `arn` names a Lambda function (optionally a version or alias).
pub fn is_lambda_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.split(':').collect();
    parts.len() >= 7 && parts[0] == "arn" && parts[2] == "lambda" && parts[5] == "function"
}

impl ScheduleSpec {
    /// The spec of a `GetSchedule` answer.
    ///
    /// # Errors
    /// [`Error::Expression`], [`Error::Timezone`], [`Error::Target`] or [`Error::Incomplete`]
    /// for a schedule kstream local cannot fire.
    pub fn from_schedule(
        out: &aws_sdk_scheduler::operation::get_schedule::GetScheduleOutput,
    ) -> Result<Self> {
        let name = out.name().ok_or(Error::Incomplete("Name"))?.to_owned();
        let group = out.group_name().unwrap_or("default").to_owned();
        let expression_text = out
            .schedule_expression()
            .ok_or(Error::Incomplete("ScheduleExpression"))?
            .to_owned();
        let expression: Expression = expression_text.parse()?;
        let timezone = match out.schedule_expression_timezone() {
            None | Some("") => Tz::UTC,
            Some(tz) => tz.parse().map_err(|_| Error::Timezone(tz.to_owned()))?,
        };
        let start = out.start_date().and_then(to_chrono);
        let created = out.creation_date().and_then(to_chrono);
        let target = out.target().ok_or(Error::Incomplete("Target"))?;
        if !is_lambda_arn(target.arn()) {
            return Err(Error::Target(target.arn().to_owned()));
        }
        let flexible_window = out.flexible_time_window().and_then(|w| {
            (w.mode().as_str() == "FLEXIBLE").then(|| {
                let minutes = w.maximum_window_in_minutes().unwrap_or(1).max(1);
                Duration::from_secs(60 * u64::try_from(minutes).unwrap_or(1))
            })
        });
        let retry = target.retry_policy();
        Ok(Self {
            arn: out.arn().unwrap_or_default().to_owned(),
            times: FireTimes {
                expression,
                timezone,
                start,
                end: out.end_date().and_then(to_chrono),
                anchor: start.or(created).unwrap_or_else(Utc::now),
            },
            enabled: out.state().is_none_or(|s| s.as_str() == "ENABLED"),
            flexible_window,
            target_arn: target.arn().to_owned(),
            input: target.input().map(str::to_owned),
            max_retry_attempts: retry
                .and_then(|r| r.maximum_retry_attempts())
                .and_then(|n| u32::try_from(n).ok())
                .unwrap_or(DEFAULT_MAX_RETRY_ATTEMPTS),
            max_event_age: retry
                .and_then(|r| r.maximum_event_age_in_seconds())
                .and_then(|n| u64::try_from(n).ok())
                .map_or(DEFAULT_MAX_EVENT_AGE, Duration::from_secs),
            dead_letter_arn: target
                .dead_letter_config()
                .and_then(|d| d.arn())
                .map(str::to_owned),
            name,
            group,
            expression_text,
        })
    }

    /// The payload of one delivery attempt: the `Input` (`{}` when there is none) with
    /// Scheduler's context attributes replaced (`<aws.scheduler.schedule-arn>`,
    /// `<aws.scheduler.scheduled-time>`, `<aws.scheduler.execution-id>`,
    /// `<aws.scheduler.attempt-number>`).
    pub fn payload(&self, scheduled: DateTime<Utc>, execution_id: &str, attempt: u32) -> String {
        let input = self.input.as_deref().unwrap_or("{}");
        input
            .replace("<aws.scheduler.schedule-arn>", &self.arn)
            .replace(
                "<aws.scheduler.scheduled-time>",
                &scheduled.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            )
            .replace("<aws.scheduler.execution-id>", execution_id)
            .replace("<aws.scheduler.attempt-number>", &attempt.to_string())
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_scheduler::operation::get_schedule::GetScheduleOutput;
    use aws_sdk_scheduler::types::{
        DeadLetterConfig, FlexibleTimeWindow, FlexibleTimeWindowMode, RetryPolicy, ScheduleState,
        Target,
    };

    use super::*;

    const FN: &str = "arn:aws:lambda:us-east-1:123456789012:function:p2-producer";

    fn output(expression: &str, target: &str) -> GetScheduleOutput {
        GetScheduleOutput::builder()
            .name("p2-every-minute")
            .group_name("default")
            .arn("arn:aws:scheduler:us-east-1:123456789012:schedule/default/p2-every-minute")
            .schedule_expression(expression)
            .state(ScheduleState::Enabled)
            .creation_date(aws_smithy_types::DateTime::from_secs(1_796_000_000))
            .flexible_time_window(
                FlexibleTimeWindow::builder()
                    .mode(FlexibleTimeWindowMode::Off)
                    .build()
                    .unwrap(),
            )
            .target(
                Target::builder()
                    .arn(target)
                    .role_arn("arn:aws:iam::123456789012:role/scheduler")
                    .input(r#"{"records": 100, "at": "<aws.scheduler.scheduled-time>", "try": <aws.scheduler.attempt-number>}"#)
                    .retry_policy(
                        RetryPolicy::builder()
                            .maximum_retry_attempts(3)
                            .maximum_event_age_in_seconds(120)
                            .build(),
                    )
                    .dead_letter_config(
                        DeadLetterConfig::builder()
                            .arn("arn:aws:sqs:us-east-1:123456789012:p2-dlq")
                            .build(),
                    )
                    .build()
                    .unwrap(),
            )
            .build()
    }

    #[test]
    fn a_get_schedule_answer_gives_every_setting() {
        let spec = ScheduleSpec::from_schedule(&output("rate(1 minute)", FN)).unwrap();
        assert_eq!(spec.name, "p2-every-minute");
        assert!(spec.enabled);
        assert_eq!(spec.flexible_window, None);
        assert_eq!(spec.target_arn, FN);
        assert_eq!(spec.max_retry_attempts, 3);
        assert_eq!(spec.max_event_age, Duration::from_secs(120));
        assert_eq!(
            spec.dead_letter_arn.as_deref(),
            Some("arn:aws:sqs:us-east-1:123456789012:p2-dlq")
        );
        assert_eq!(
            spec.times.anchor.timestamp(),
            1_796_000_000,
            "rate counts from creation"
        );
        let at = DateTime::from_timestamp(1_796_000_060, 0).unwrap();
        let payload: serde_json::Value = serde_json::from_str(&spec.payload(at, "e-1", 2)).unwrap();
        assert_eq!(
            payload,
            serde_json::json!({"records": 100, "at": "2026-11-30T00:54:20Z", "try": 2})
        );
    }

    #[test]
    fn schedules_that_cannot_fire_here_say_why() {
        let err = ScheduleSpec::from_schedule(&output(
            "rate(1 minute)",
            "arn:aws:sqs:us-east-1:123456789012:q",
        ))
        .unwrap_err();
        assert!(err.to_string().contains("not a Lambda function"), "{err}");
        let err = ScheduleSpec::from_schedule(&output("rate(1 minutes)", FN)).unwrap_err();
        assert!(err.to_string().contains("singular"), "{err}");
        assert!(is_lambda_arn(&format!("{FN}:live")));
        assert!(!is_lambda_arn(
            "arn:aws:lambda:us-east-1:123456789012:layer:x:1"
        ));
    }
}
