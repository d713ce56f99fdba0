//! Per-shard rate limiting: two token buckets (records and bytes), as the KPL's `Limiter`.

use std::time::Duration;

use kstream_throttle::TokenBucket;
use tokio::time::Instant;

use crate::config::{SHARD_BYTES_PER_SECOND, SHARD_RECORDS_PER_SECOND};

/// The limits of one shard: records per second and bytes per second, scaled by the rate limit.
#[derive(Debug, Clone)]
pub(crate) struct ShardLimiter {
    records: TokenBucket,
    bytes: TokenBucket,
}

impl ShardLimiter {
    /// Kinesis' shard limits × `rate_limit` / 100, with one second of burst.
    pub(crate) fn new(rate_limit: u32, now: Instant) -> Self {
        let scale = f64::from(rate_limit) / 100.0;
        let records = SHARD_RECORDS_PER_SECOND as f64 * scale;
        let bytes = SHARD_BYTES_PER_SECOND as f64 * scale;
        Self {
            records: TokenBucket::new(records, records, now.into_std()),
            bytes: TokenBucket::new(bytes, bytes, now.into_std()),
        }
    }

    /// How long until one record of `size` bytes may be sent (zero: now).
    pub(crate) fn wait_for(&mut self, size: usize, now: Instant) -> Duration {
        let now = now.into_std();
        self.records
            .wait_for(1.0, now)
            .max(self.bytes.wait_for(size as f64, now))
    }

    /// Takes the tokens of one record of `size` bytes if they are available.
    pub(crate) fn try_take(&mut self, size: usize, now: Instant) -> bool {
        if self.wait_for(size, now).is_zero() {
            let now = now.into_std();
            self.records.take(1.0, now);
            self.bytes.take(size as f64, now);
            true
        } else {
            false
        }
    }

    #[cfg(test)]
    pub(crate) fn records_available(&mut self, now: Instant) -> f64 {
        self.records.available(now.into_std())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limit_scales_the_shard_limits() {
        let now = Instant::now();
        let mut limiter = ShardLimiter::new(150, now);
        let mut sent = 0;
        while limiter.try_take(10, now) {
            sent += 1;
        }
        assert_eq!(sent, 1500, "one second of burst at 150 %");
        assert!(!limiter.wait_for(10, now).is_zero());
        let later = now + Duration::from_millis(100);
        assert!((limiter.records_available(later) - 150.0).abs() < 1e-6);
    }

    #[test]
    fn bytes_limit_applies() {
        let now = Instant::now();
        let mut limiter = ShardLimiter::new(100, now);
        assert!(limiter.try_take(1024 * 1024, now));
        assert!(!limiter.try_take(1, now));
        let wait = limiter.wait_for(512 * 1024, now);
        assert_eq!(wait, Duration::from_millis(500));
    }
}
