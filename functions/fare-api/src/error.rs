//! Why the function cannot start: a bad `FARE_FAULTS`. Request-time problems are answers
//! (400), never errors.

/// A `FARE_FAULTS` value that cannot be used; the cold start fails with it.
#[derive(Debug, thiserror::Error, PartialEq)]
#[non_exhaustive]
pub enum FaultsError {
    /// The variable is set but is not UTF-8.
    #[error("FARE_FAULTS is not valid UTF-8")]
    NotUnicode,
    /// An entry is not `key=value`.
    #[error(
        "FARE_FAULTS entry `{entry}` is not `key=value` (keys: error_rate, throttle_rate, slow_rate, slow_ms, until)"
    )]
    NotKeyValue {
        /// The entry as written.
        entry: String,
    },
    /// A key that the fault mode does not know.
    #[error(
        "FARE_FAULTS key `{key}` is unknown (keys: error_rate, throttle_rate, slow_rate, slow_ms, until)"
    )]
    UnknownKey {
        /// The key as written.
        key: String,
    },
    /// A key given twice.
    #[error("FARE_FAULTS key `{key}` is given more than once")]
    DuplicateKey {
        /// The key.
        key: String,
    },
    /// A rate that is not a number in `0..=1`.
    #[error("FARE_FAULTS {key}=`{value}` is not a rate: expected a number from 0 to 1")]
    BadRate {
        /// `error_rate`, `throttle_rate` or `slow_rate`.
        key: &'static str,
        /// The value as written.
        value: String,
    },
    /// `slow_ms` is not a whole number of milliseconds in `1..=900000`.
    #[error(
        "FARE_FAULTS slow_ms=`{value}` is not a delay: expected whole milliseconds from 1 to 900000"
    )]
    BadSlowMs {
        /// The value as written.
        value: String,
    },
    /// `slow_rate` and `slow_ms` go together.
    #[error("FARE_FAULTS {given} needs {missing}: a slow answer has both a rate and a delay")]
    SlowIncomplete {
        /// The one given.
        given: &'static str,
        /// The one missing.
        missing: &'static str,
    },
    /// `until` is not an RFC 3339 instant.
    #[error(
        "FARE_FAULTS until=`{value}` is not an RFC 3339 instant (e.g. 2026-01-01T12:00:00Z): {reason}"
    )]
    BadUntil {
        /// The value as written.
        value: String,
        /// The parser's reason.
        reason: String,
    },
}
