//! Which failed AWS calls are tried again, and after how long: the AWS SDKs' standard retry
//! mode (the Rust SDK's default). At most three attempts; between them a random wait up to
//! 1 s × 2^(attempt − 1), capped at 20 s ("full jitter"); tried again are failures to connect
//! or to get an answer in time, HTTP 500, 502, 503, 504 and 429, and the throttling and
//! transient error codes the SDKs list. The SDK's retry quota (a token bucket shared by a
//! client's calls) is left out: a function makes a few calls per batch, and Lambda bounds the
//! invocation's time.

use std::hash::{BuildHasher as _, Hasher as _};
use std::time::Duration;

/// Attempts per call, the first included.
pub const MAX_ATTEMPTS: u32 = 3;

/// The wait before the second attempt is up to this long; it doubles per attempt.
const BASE: Duration = Duration::from_secs(1);

/// No wait is longer.
const MAX_BACKOFF: Duration = Duration::from_secs(20);

/// Error codes the SDKs retry as throttling.
const THROTTLING: [&str; 14] = [
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "LimitExceededException",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
];

/// Error codes the SDKs retry as transient.
const TRANSIENT: [&str; 4] = [
    "RequestTimeout",
    "RequestTimeoutException",
    "InternalError",
    "InternalFailure",
];

/// Whether an error answer with `status` and `code` is worth another attempt.
pub(super) fn retryable(status: u16, code: &str) -> bool {
    matches!(status, 429 | 500 | 502 | 503 | 504)
        || THROTTLING.contains(&code)
        || TRANSIENT.contains(&code)
}

/// The wait after failed attempt `attempt` (1-based): uniformly random in
/// `[0, min(BASE × 2^(attempt − 1), MAX_BACKOFF)]`.
pub(super) fn backoff(attempt: u32) -> Duration {
    let ceiling = BASE
        .saturating_mul(1 << attempt.saturating_sub(1).min(16))
        .min(MAX_BACKOFF);
    ceiling.mul_f64(unit_random())
}

/// A random number in `[0, 1)`: std's per-process random hash keys, hashed with the time
/// (jitter only needs to differ between functions and attempts, not to be unpredictable).
fn unit_random() -> f64 {
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos(),
    );
    // 53 random bits: every value is exact in an f64.
    (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_errors_throttling_and_transient_codes_are_retried() {
        assert!(retryable(503, "ServiceUnavailable"));
        assert!(retryable(500, "InternalError"));
        assert!(retryable(400, "ThrottlingException"));
        assert!(retryable(503, "SlowDown"));
        assert!(retryable(400, "RequestTimeout"));
        assert!(!retryable(403, "AccessDenied"));
        assert!(!retryable(404, "NoSuchBucket"));
        assert!(!retryable(400, "ParameterNotFound"));
    }

    #[test]
    fn waits_are_random_within_a_doubling_ceiling() {
        for attempt in 1..=8 {
            let ceiling = Duration::from_secs(1 << (attempt - 1)).min(MAX_BACKOFF);
            let waits: Vec<_> = (0..50).map(|_| backoff(attempt)).collect();
            assert!(waits.iter().all(|w| *w <= ceiling), "{attempt}: {waits:?}");
            let distinct: std::collections::BTreeSet<_> = waits.iter().collect();
            assert!(distinct.len() > 40, "{attempt}: jitter: {waits:?}");
        }
    }
}
