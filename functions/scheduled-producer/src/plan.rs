//! A run planned against the invocation's deadline.
//!
//! With `remaining` time before the deadline, [`MARGIN`] is kept for the producer's shutdown,
//! the response and the metrics. Of the rest (`usable`), each record's TTL is the configured
//! one but at most half; records are produced during `usable - TTL`, so the last one is put or
//! has expired by `usable`, before the function times out.

use std::time::Duration;

use kstream_ticker::EventTimeFormat;

use crate::error::InvokeError;
use crate::{Config, RunInput};

/// Time kept before the deadline for the shutdown, the response and the metrics.
pub const MARGIN: Duration = Duration::from_millis(500);

/// The shortest usable time (remaining less [`MARGIN`]) a run accepts.
pub const MIN_USABLE: Duration = Duration::from_millis(1_000);

/// One run: what to produce, and when to stop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Records to produce.
    pub records: u64,
    /// Records per second (0: no limit of its own).
    pub rate: u32,
    /// How `event_time` is written.
    pub event_time_format: EventTimeFormat,
    /// Each record's time to live.
    pub record_ttl: Duration,
    /// Records are produced for at most this long from the start.
    pub produce_for: Duration,
    /// Every record is put or has failed by this long from the start.
    pub resolve_by: Duration,
}

impl Plan {
    /// The run of `config` with `input`'s overrides, given `remaining` time.
    ///
    /// # Errors
    /// [`InvokeError::TooLong`] when the records at the rate cannot be produced in time.
    pub fn new(
        config: &Config,
        input: &RunInput,
        remaining: Duration,
    ) -> Result<Self, InvokeError> {
        let records = input.records.unwrap_or(config.records_per_run);
        let rate = input.rate.unwrap_or(config.rate);
        let usable = remaining.saturating_sub(MARGIN);
        let record_ttl = config.record_ttl.min(usable / 2);
        let produce_for = usable - record_ttl;
        // The first record goes at once, then one every 1/rate s.
        let needed = if rate == 0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64((records - 1) as f64 / f64::from(rate))
        };
        if usable < MIN_USABLE || needed > produce_for {
            return Err(InvokeError::TooLong {
                records,
                rate,
                needed_ms: u64::try_from(needed.as_millis()).unwrap_or(u64::MAX),
                available_ms: u64::try_from(produce_for.as_millis()).unwrap_or(u64::MAX),
            });
        }
        Ok(Self {
            records,
            rate,
            event_time_format: input.event_time_format.unwrap_or(config.event_time_format),
            record_ttl,
            produce_for,
            resolve_by: usable,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Config {
        Config::new("s")
    }

    #[test]
    fn a_long_invocation_keeps_the_configured_ttl() {
        let plan = Plan::new(&config(), &RunInput::default(), Duration::from_secs(60)).unwrap();
        assert_eq!(plan.records, 100);
        assert_eq!(plan.record_ttl, Duration::from_secs(10));
        assert_eq!(plan.resolve_by, Duration::from_millis(59_500));
        assert_eq!(plan.produce_for, Duration::from_millis(49_500));
        assert_eq!(plan.event_time_format, EventTimeFormat::Sql);
    }

    #[test]
    fn a_short_invocation_cuts_the_ttl_to_half_the_usable_time() {
        let plan = Plan::new(&config(), &RunInput::default(), Duration::from_secs(3)).unwrap();
        assert_eq!(plan.record_ttl, Duration::from_millis(1_250));
        assert_eq!(plan.produce_for, Duration::from_millis(1_250));
        assert!(plan.produce_for + plan.record_ttl + MARGIN <= Duration::from_secs(3));
    }

    #[test]
    fn input_overrides_the_environment() {
        let input = RunInput {
            records: Some(5),
            rate: Some(10),
            event_time_format: Some(EventTimeFormat::Rfc3339),
        };
        let plan = Plan::new(&config(), &input, Duration::from_secs(60)).unwrap();
        assert_eq!(
            (plan.records, plan.rate, plan.event_time_format),
            (5, 10, EventTimeFormat::Rfc3339)
        );
    }

    #[test]
    fn a_run_that_cannot_fit_fails_before_producing() {
        let input = RunInput {
            records: Some(1_000),
            rate: Some(10),
            event_time_format: None,
        };
        // 1,000 records at 10/s take 99.9 s; a 60 s invocation leaves 49.5 s.
        let err = Plan::new(&config(), &input, Duration::from_secs(60)).unwrap_err();
        assert!(
            matches!(
                err,
                InvokeError::TooLong {
                    needed_ms: 99_900,
                    available_ms: 49_500,
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("lower RECORDS_PER_RUN"), "{err}");
        // No time at all (an expired deadline).
        assert!(Plan::new(&config(), &RunInput::default(), Duration::ZERO).is_err());
    }
}
