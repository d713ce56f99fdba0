//! The fault mode (tests only): `FARE_FAULTS` makes some answers fail, throttle or wait, so the
//! enrichment consumer's retries, budget and partial failures can be exercised for real.
//!
//! Off unless `FARE_FAULTS` is set and not empty. Comma-separated `key=value` entries:
//!
//! | Key | Value | Effect per request |
//! |---|---|---|
//! | `error_rate` | 0..=1 | with this probability: 503 `{"message":"injected fault"}` |
//! | `throttle_rate` | 0..=1 | else with this probability: 429 `{"message":"injected throttle"}` |
//! | `slow_rate` | 0..=1 (with `slow_ms`) | else with this probability: wait `slow_ms`, then answer normally |
//! | `slow_ms` | 1..=900000 (with `slow_rate`) | the delay |
//! | `until` | RFC 3339 instant | after it, no fault at all (takes the endpoint "down" for a while) |
//!
//! The value is read once, at cold start; a bad one fails the start with a [`FaultsError`]
//! that names the entry. A rate of 1 always applies and 0 never does.

use std::time::Duration;

use chrono::{DateTime, Utc};
use rand::Rng;

use crate::error::FaultsError;

/// The environment variable holding the fault configuration.
pub const FARE_FAULTS: &str = "FARE_FAULTS";

/// The longest `slow_ms` (Lambda's longest timeout).
const MAX_SLOW_MS: u64 = 900_000;

/// A parsed fault configuration. [`Faults::default`] is off.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Faults {
    error_rate: f64,
    throttle_rate: f64,
    slow_rate: f64,
    slow: Duration,
    until: Option<DateTime<Utc>>,
}

/// What to do with one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Answer normally.
    None,
    /// Answer 503 `{"message":"injected fault"}`.
    Error,
    /// Answer 429 `{"message":"injected throttle"}`.
    Throttle,
    /// Wait this long, then answer normally.
    Slow(Duration),
}

impl Faults {
    /// Reads [`FARE_FAULTS`]: unset or empty is off.
    pub fn from_env() -> Result<Self, FaultsError> {
        match std::env::var(FARE_FAULTS) {
            Ok(v) => v.parse(),
            Err(std::env::VarError::NotPresent) => Ok(Self::default()),
            Err(std::env::VarError::NotUnicode(_)) => Err(FaultsError::NotUnicode),
        }
    }

    /// Whether any fault can happen at all.
    pub fn is_on(&self) -> bool {
        self.error_rate > 0.0 || self.throttle_rate > 0.0 || self.slow_rate > 0.0
    }

    /// The fault for a request arriving at `now`, drawing from `rng`.
    pub fn decide(&self, now: DateTime<Utc>, rng: &mut impl Rng) -> Fault {
        if !self.is_on() || self.until.is_some_and(|until| now > until) {
            return Fault::None;
        }
        // `random::<f64>()` is in [0, 1): a rate of 1 always hits, 0 never does.
        if rng.random::<f64>() < self.error_rate {
            Fault::Error
        } else if rng.random::<f64>() < self.throttle_rate {
            Fault::Throttle
        } else if rng.random::<f64>() < self.slow_rate {
            Fault::Slow(self.slow)
        } else {
            Fault::None
        }
    }
}

impl std::str::FromStr for Faults {
    type Err = FaultsError;

    fn from_str(s: &str) -> Result<Self, FaultsError> {
        let mut faults = Self::default();
        let mut seen: Vec<&str> = Vec::new();
        let mut slow_ms = None;
        for entry in s.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let Some((key, value)) = entry.split_once('=') else {
                return Err(FaultsError::NotKeyValue {
                    entry: entry.to_owned(),
                });
            };
            let (key, value) = (key.trim(), value.trim());
            if seen.contains(&key) {
                return Err(FaultsError::DuplicateKey {
                    key: key.to_owned(),
                });
            }
            match key {
                "error_rate" => faults.error_rate = rate("error_rate", value)?,
                "throttle_rate" => faults.throttle_rate = rate("throttle_rate", value)?,
                "slow_rate" => faults.slow_rate = rate("slow_rate", value)?,
                "slow_ms" => {
                    let ms = value
                        .parse::<u64>()
                        .ok()
                        .filter(|ms| (1..=MAX_SLOW_MS).contains(ms))
                        .ok_or_else(|| FaultsError::BadSlowMs {
                            value: value.to_owned(),
                        })?;
                    slow_ms = Some(ms);
                }
                "until" => {
                    let until =
                        DateTime::parse_from_rfc3339(value).map_err(|e| FaultsError::BadUntil {
                            value: value.to_owned(),
                            reason: e.to_string(),
                        })?;
                    faults.until = Some(until.with_timezone(&Utc));
                }
                _ => {
                    return Err(FaultsError::UnknownKey {
                        key: key.to_owned(),
                    });
                }
            }
            seen.push(key);
        }
        match (seen.contains(&"slow_rate"), slow_ms) {
            (true, None) => {
                return Err(FaultsError::SlowIncomplete {
                    given: "slow_rate",
                    missing: "slow_ms",
                });
            }
            (false, Some(_)) => {
                return Err(FaultsError::SlowIncomplete {
                    given: "slow_ms",
                    missing: "slow_rate",
                });
            }
            (_, ms) => faults.slow = Duration::from_millis(ms.unwrap_or(0)),
        }
        Ok(faults)
    }
}

fn rate(key: &'static str, value: &str) -> Result<f64, FaultsError> {
    value
        .parse::<f64>()
        .ok()
        .filter(|r| (0.0..=1.0).contains(r))
        .ok_or_else(|| FaultsError::BadRate {
            key,
            value: value.to_owned(),
        })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use chrono::{TimeZone, Utc};
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::{Fault, Faults};
    use crate::error::FaultsError;

    fn parse(s: &str) -> Result<Faults, FaultsError> {
        s.parse()
    }

    #[test]
    fn empty_is_off() {
        for s in ["", " ", ",", " , "] {
            let f = parse(s).unwrap();
            assert_eq!(f, Faults::default());
            assert!(!f.is_on());
        }
    }

    #[test]
    fn full_configuration() {
        let f = parse(
            "error_rate=0.25, throttle_rate=0.5,slow_rate=1,slow_ms=1500,until=2026-01-01T12:00:00+01:00",
        )
        .unwrap();
        assert_eq!(f.error_rate, 0.25);
        assert_eq!(f.throttle_rate, 0.5);
        assert_eq!(f.slow_rate, 1.0);
        assert_eq!(f.slow, Duration::from_millis(1500));
        assert_eq!(
            f.until,
            Some(Utc.with_ymd_and_hms(2026, 1, 1, 11, 0, 0).unwrap())
        );
    }

    #[test]
    fn bad_values_are_specific_errors() {
        let cases: &[(&str, &str)] = &[
            ("error_rate", "not `key=value`"),
            ("error_rate=1.5", "error_rate=`1.5` is not a rate"),
            ("throttle_rate=-0.1", "throttle_rate=`-0.1` is not a rate"),
            ("slow_rate=NaN,slow_ms=5", "slow_rate=`NaN` is not a rate"),
            ("error_rate=abc", "error_rate=`abc` is not a rate"),
            ("slow_rate=0.5", "slow_rate needs slow_ms"),
            ("slow_ms=100", "slow_ms needs slow_rate"),
            ("slow_rate=0.5,slow_ms=0", "slow_ms=`0` is not a delay"),
            ("slow_rate=0.5,slow_ms=1.5", "slow_ms=`1.5` is not a delay"),
            (
                "slow_rate=0.5,slow_ms=900001",
                "slow_ms=`900001` is not a delay",
            ),
            (
                "until=tomorrow",
                "until=`tomorrow` is not an RFC 3339 instant",
            ),
            (
                "until=2026-01-01",
                "until=`2026-01-01` is not an RFC 3339 instant",
            ),
            (
                "error_rate=0.1,error_rate=0.2",
                "`error_rate` is given more than once",
            ),
            ("errors=0.1", "key `errors` is unknown"),
        ];
        for (input, expected) in cases {
            let err = parse(input).unwrap_err().to_string();
            assert!(err.contains(expected), "{input}: {err}");
            assert!(err.starts_with("FARE_FAULTS"), "{input}: {err}");
        }
    }

    #[test]
    fn rates_one_and_zero_are_deterministic() {
        let now = Utc::now();
        let mut rng = StdRng::seed_from_u64(7);
        let always_error = parse("error_rate=1,throttle_rate=1").unwrap();
        let always_throttle = parse("error_rate=0,throttle_rate=1.0").unwrap();
        let always_slow = parse("slow_rate=1,slow_ms=250").unwrap();
        let never = parse("error_rate=0,throttle_rate=0,slow_rate=0,slow_ms=5").unwrap();
        for _ in 0..1000 {
            assert_eq!(always_error.decide(now, &mut rng), Fault::Error);
            assert_eq!(always_throttle.decide(now, &mut rng), Fault::Throttle);
            assert_eq!(
                always_slow.decide(now, &mut rng),
                Fault::Slow(Duration::from_millis(250))
            );
            assert_eq!(never.decide(now, &mut rng), Fault::None);
            assert_eq!(Faults::default().decide(now, &mut rng), Fault::None);
        }
    }

    #[test]
    fn faults_stop_after_until() {
        let until = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let f = parse("error_rate=1,until=2026-01-01T00:00:00Z").unwrap();
        let mut rng = StdRng::seed_from_u64(1);
        assert_eq!(f.decide(until, &mut rng), Fault::Error);
        assert_eq!(
            f.decide(until + chrono::Duration::milliseconds(1), &mut rng),
            Fault::None
        );
    }

    #[test]
    fn partial_rates_mix() {
        let f = parse("error_rate=0.5").unwrap();
        let mut rng = StdRng::seed_from_u64(42);
        let errors = (0..10_000)
            .filter(|_| f.decide(Utc::now(), &mut rng) == Fault::Error)
            .count();
        assert!((4_000..6_000).contains(&errors), "{errors}");
    }
}
