//! Schedule expressions as EventBridge Scheduler documents them, and their fire times.
//!
//! - `rate(N unit)`: `unit` is `minute`, `hour` or `day` when `N` is 1 and `minutes`, `hours`,
//!   `days` otherwise (as AWS requires); it fires every `N` units from the schedule's start (its
//!   `StartDate`, else its creation).
//! - `cron(minutes hours day-of-month month day-of-week year)`: AWS's six fields, evaluated in
//!   the schedule's time zone by the `croner` crate (Quartz mode: `1`–`7` = `SUN`–`SAT`, `L`,
//!   `W`, `#`, `?`, names of days and months). Like AWS, one of day-of-month and day-of-week must
//!   be `?`; seconds are always 0. croner reads the year as a seventh field, so the expression is
//!   handed to it as `0 <the six fields>`.
//! - `at(yyyy-mm-ddThh:mm:ss)`: once, at that local time of the schedule's time zone.

use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, TimeZone as _, Utc};
use chrono_tz::Tz;
use croner::Cron;
use croner::parser::{CronParser, Seconds, Year};

use crate::error::ExpressionError;

/// A parsed schedule expression.
#[derive(Debug, Clone)]
pub enum Expression {
    /// `rate(...)`: every period from the anchor.
    Rate(Duration),
    /// `cron(...)`.
    Cron(Box<Cron>),
    /// `at(...)`: once, at this local time.
    At(NaiveDateTime),
}

impl PartialEq for Expression {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Rate(a), Self::Rate(b)) => a == b,
            (Self::Cron(a), Self::Cron(b)) => a.as_str() == b.as_str(),
            (Self::At(a), Self::At(b)) => a == b,
            _ => false,
        }
    }
}

fn inner<'a>(text: &'a str, kind: &str) -> Option<&'a str> {
    text.strip_prefix(kind)
        .and_then(|rest| rest.strip_prefix('('))
        .and_then(|rest| rest.strip_suffix(')'))
        .map(str::trim)
}

fn bad(expression: &str, reason: impl Into<String>) -> ExpressionError {
    ExpressionError {
        expression: expression.to_owned(),
        reason: reason.into(),
    }
}

fn rate(text: &str, body: &str) -> Result<Expression, ExpressionError> {
    let (value, unit) = body
        .split_once(char::is_whitespace)
        .ok_or_else(|| bad(text, "rate(value unit), e.g. rate(5 minutes)"))?;
    let value: u64 = value.parse().ok().filter(|v| *v > 0).ok_or_else(|| {
        bad(
            text,
            format!("the rate's value {value:?} is not a positive integer"),
        )
    })?;
    let unit = unit.trim();
    let seconds = match unit {
        "minute" | "minutes" => 60,
        "hour" | "hours" => 3_600,
        "day" | "days" => 86_400,
        _ => {
            return Err(bad(
                text,
                format!("the rate's unit {unit:?} is not minute(s), hour(s) or day(s)"),
            ));
        }
    };
    let plural = unit.ends_with('s');
    if plural == (value == 1) {
        return Err(bad(
            text,
            format!(
                "a rate of {value} takes the {} unit (AWS refuses `{value} {unit}`)",
                if value == 1 { "singular" } else { "plural" }
            ),
        ));
    }
    Ok(Expression::Rate(Duration::from_secs(value * seconds)))
}

fn cron(text: &str, body: &str) -> Result<Expression, ExpressionError> {
    let fields: Vec<&str> = body.split_whitespace().collect();
    if fields.len() != 6 {
        return Err(bad(
            text,
            format!(
                "cron(...) takes six fields (minutes hours day-of-month month day-of-week year); got {}",
                fields.len()
            ),
        ));
    }
    if (fields[2] == "?") == (fields[4] == "?") {
        return Err(bad(
            text,
            "one of day-of-month and day-of-week must be `?` (and only one)",
        ));
    }
    let parser = CronParser::builder()
        .seconds(Seconds::Required)
        .year(Year::Required)
        .alternative_weekdays(true)
        .build();
    let parsed = parser
        .parse(&format!("0 {}", fields.join(" ")))
        .map_err(|e| bad(text, e.to_string()))?;
    Ok(Expression::Cron(Box::new(parsed)))
}

fn at(text: &str, body: &str) -> Result<Expression, ExpressionError> {
    NaiveDateTime::parse_from_str(body, "%Y-%m-%dT%H:%M:%S")
        .map(Expression::At)
        .map_err(|e| bad(text, format!("at(yyyy-mm-ddThh:mm:ss): {e}")))
}

impl FromStr for Expression {
    type Err = ExpressionError;

    fn from_str(text: &str) -> Result<Self, ExpressionError> {
        let trimmed = text.trim();
        if let Some(body) = inner(trimmed, "rate") {
            rate(text, body)
        } else if let Some(body) = inner(trimmed, "cron") {
            cron(text, body)
        } else if let Some(body) = inner(trimmed, "at") {
            at(text, body)
        } else {
            Err(bad(text, "not rate(...), cron(...) or at(...)"))
        }
    }
}

/// When a schedule fires: its expression in its time zone, between its start and end.
#[derive(Debug, Clone, PartialEq)]
pub struct FireTimes {
    /// The expression.
    pub expression: Expression,
    /// `ScheduleExpressionTimezone` (UTC when absent).
    pub timezone: Tz,
    /// `StartDate`, when set (recurring schedules fire at or after it).
    pub start: Option<DateTime<Utc>>,
    /// `EndDate`, when set (recurring schedules fire at or before it).
    pub end: Option<DateTime<Utc>>,
    /// What `rate(...)` counts its periods from: `StartDate`, else the schedule's creation.
    pub anchor: DateTime<Utc>,
}

impl FireTimes {
    /// The first fire time strictly after `after`, or `None` when the schedule will not fire
    /// again.
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let next = match &self.expression {
            // One-time schedules ignore StartDate and EndDate (AWS: they apply to recurring
            // schedules).
            Expression::At(local) => {
                let time = self
                    .timezone
                    .from_local_datetime(local)
                    .earliest()?
                    .with_timezone(&Utc);
                return (time > after).then_some(time);
            }
            Expression::Rate(period) => {
                let period = chrono::Duration::from_std(*period).ok()?;
                let from =
                    after.max(self.start.unwrap_or(after) - chrono::Duration::nanoseconds(1));
                if from < self.anchor {
                    self.anchor
                } else {
                    let elapsed = (from - self.anchor).num_milliseconds();
                    let step = period.num_milliseconds();
                    let periods = elapsed / step + 1;
                    self.anchor + chrono::Duration::milliseconds(periods * step)
                }
            }
            Expression::Cron(cron) => {
                let (from, inclusive) = match self.start {
                    Some(start) if start > after => (start, true),
                    _ => (after, false),
                };
                cron.find_next_occurrence(&from.with_timezone(&self.timezone), inclusive)
                    .ok()?
                    .with_timezone(&Utc)
            }
        };
        match self.end {
            Some(end) if next > end => None,
            _ => Some(next),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn times(expression: &str) -> FireTimes {
        FireTimes {
            expression: expression.parse().unwrap(),
            timezone: Tz::UTC,
            start: None,
            end: None,
            anchor: utc("2026-12-04T10:00:30Z"),
        }
    }

    fn series(times: &FireTimes, from: &str, n: usize) -> Vec<String> {
        let mut out = Vec::new();
        let mut at = utc(from);
        for _ in 0..n {
            match times.next_after(at) {
                Some(next) => {
                    out.push(next.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
                    at = next;
                }
                None => break,
            }
        }
        out
    }

    #[test]
    fn rates_take_awss_units() {
        for (text, secs) in [
            ("rate(1 minute)", 60),
            ("rate(5 minutes)", 300),
            ("rate(1 hour)", 3_600),
            ("rate(2 hours)", 7_200),
            ("rate(1 day)", 86_400),
            ("rate(30 days)", 2_592_000),
            (" rate( 10 minutes ) ", 600),
        ] {
            assert_eq!(
                text.parse::<Expression>().unwrap(),
                Expression::Rate(Duration::from_secs(secs)),
                "{text}"
            );
        }
        for (text, reason) in [
            ("rate(1 minutes)", "singular"),
            ("rate(5 minute)", "plural"),
            ("rate(0 minutes)", "not a positive integer"),
            ("rate(-1 minutes)", "not a positive integer"),
            ("rate(5 seconds)", "not minute(s), hour(s) or day(s)"),
            ("rate(5)", "rate(value unit)"),
            ("every 5 minutes", "not rate(...), cron(...) or at(...)"),
        ] {
            let err = text.parse::<Expression>().unwrap_err();
            assert!(err.to_string().contains(reason), "{text}: {err}");
            assert!(err.to_string().contains(text), "{text}: {err}");
        }
    }

    #[test]
    fn a_rate_fires_every_period_from_its_anchor() {
        let t = times("rate(5 minutes)");
        assert_eq!(
            series(&t, "2026-12-04T10:07:00Z", 3),
            [
                "2026-12-04T10:10:30Z",
                "2026-12-04T10:15:30Z",
                "2026-12-04T10:20:30Z"
            ]
        );
        // Before the anchor: the anchor itself is the first.
        assert_eq!(
            series(&t, "2026-12-04T09:00:00Z", 1),
            ["2026-12-04T10:00:30Z"]
        );
        // Exactly on a fire time: the next one.
        assert_eq!(
            series(&t, "2026-12-04T10:05:30Z", 1),
            ["2026-12-04T10:10:30Z"]
        );
    }

    #[test]
    fn cron_reads_awss_six_fields() {
        // Every 15 minutes on weekdays (MON-FRI; 2-6 in AWS's numbering).
        let t = times("cron(0/15 * ? * MON-FRI *)");
        assert_eq!(
            series(&t, "2026-12-04T23:40:00Z", 3),
            [
                "2026-12-04T23:45:00Z",
                "2026-12-07T00:00:00Z",
                "2026-12-07T00:15:00Z"
            ],
            "2026-12-04 is a Friday; the weekend is skipped"
        );
        let numbered = times("cron(0/15 * ? * 2-6 *)");
        assert_eq!(
            series(&numbered, "2026-12-04T23:40:00Z", 3),
            series(&t, "2026-12-04T23:40:00Z", 3),
            "1-7 = SUN-SAT, as AWS"
        );
        // 10:15 on the last day of every month.
        assert_eq!(
            series(&times("cron(15 10 L * ? *)"), "2026-12-04T00:00:00Z", 3),
            [
                "2026-12-31T10:15:00Z",
                "2027-01-31T10:15:00Z",
                "2027-02-28T10:15:00Z"
            ]
        );
        // 08:00 on the first Monday of the month (2#1), only in 2027.
        assert_eq!(
            series(&times("cron(0 8 ? * 2#1 2027)"), "2026-12-04T00:00:00Z", 2),
            ["2027-01-04T08:00:00Z", "2027-02-01T08:00:00Z"]
        );
        // A year that has passed: never again.
        assert_eq!(
            series(&times("cron(0 8 * * ? 2020)"), "2026-12-04T00:00:00Z", 1),
            Vec::<String>::new()
        );
    }

    #[test]
    fn cron_refuses_what_aws_refuses() {
        for (text, reason) in [
            ("cron(0 8 * * *)", "six fields"),
            ("cron(0 0 8 * * ? *)", "six fields"),
            ("cron(0 8 * * MON *)", "must be `?`"),
            ("cron(0 8 ? * ? *)", "must be `?`"),
            ("cron(61 8 * * ? *)", "cron(61 8 * * ? *)"),
        ] {
            let err = text.parse::<Expression>().unwrap_err();
            assert!(err.to_string().contains(reason), "{text}: {err}");
        }
    }

    #[test]
    fn cron_runs_in_the_schedules_time_zone() {
        let mut t = times("cron(0 9 * * ? *)");
        t.timezone = "Europe/Paris".parse().unwrap();
        // 09:00 in Paris is 08:00 UTC in winter.
        assert_eq!(
            series(&t, "2026-12-04T12:00:00Z", 1),
            ["2026-12-05T08:00:00Z"]
        );
    }

    #[test]
    fn start_and_end_bound_recurring_schedules() {
        let mut t = times("cron(0 * * * ? *)");
        t.start = Some(utc("2026-12-04T12:30:00Z"));
        t.end = Some(utc("2026-12-04T14:00:00Z"));
        assert_eq!(
            series(&t, "2026-12-04T10:00:00Z", 5),
            ["2026-12-04T13:00:00Z", "2026-12-04T14:00:00Z"]
        );
        let mut r = times("rate(1 hour)");
        r.start = Some(utc("2026-12-04T12:00:00Z"));
        r.anchor = utc("2026-12-04T12:00:00Z");
        r.end = Some(utc("2026-12-04T13:30:00Z"));
        assert_eq!(
            series(&r, "2026-12-04T10:00:00Z", 5),
            ["2026-12-04T12:00:00Z", "2026-12-04T13:00:00Z"]
        );
    }

    #[test]
    fn at_fires_once_in_its_time_zone() {
        let mut t = times("at(2026-12-24T18:00:00)");
        assert_eq!(
            series(&t, "2026-12-04T00:00:00Z", 3),
            ["2026-12-24T18:00:00Z"]
        );
        t.timezone = "America/New_York".parse().unwrap();
        assert_eq!(
            series(&t, "2026-12-04T00:00:00Z", 3),
            ["2026-12-24T23:00:00Z"]
        );
        assert_eq!(
            series(&t, "2026-12-25T00:00:00Z", 1),
            Vec::<String>::new(),
            "past"
        );
        let err = "at(2026-12-24 18:00)".parse::<Expression>().unwrap_err();
        assert!(err.to_string().contains("yyyy-mm-ddThh:mm:ss"), "{err}");
    }
}
