//! Per-shard rate limiting: two token buckets (records and bytes), as the KPL's `Limiter`.

use std::time::Duration;

use tokio::time::Instant;

use crate::config::{SHARD_BYTES_PER_SECOND, SHARD_RECORDS_PER_SECOND};

/// A token bucket refilled continuously at `rate` tokens per second up to `capacity`.
#[derive(Debug, Clone)]
pub(crate) struct TokenBucket {
    rate: f64,
    capacity: f64,
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    /// A full bucket.
    pub(crate) fn new(rate: f64, capacity: f64, now: Instant) -> Self {
        Self {
            rate,
            capacity,
            tokens: capacity,
            last: now,
        }
    }

    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.rate).min(self.capacity);
        self.last = now;
    }

    /// Tokens available at `now`.
    #[cfg(test)]
    pub(crate) fn available(&mut self, now: Instant) -> f64 {
        self.refill(now);
        self.tokens
    }

    /// How long until `n` tokens are available (zero if they are). A request larger than the
    /// capacity is served once the bucket is full.
    pub(crate) fn wait_for(&mut self, n: f64, now: Instant) -> Duration {
        self.refill(now);
        let n = n.min(self.capacity);
        if self.tokens >= n {
            Duration::ZERO
        } else {
            Duration::from_secs_f64((n - self.tokens) / self.rate)
        }
    }

    /// Takes `n` tokens (the balance may go negative for a request larger than the capacity).
    pub(crate) fn take(&mut self, n: f64, now: Instant) {
        self.refill(now);
        self.tokens -= n;
    }
}

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
            records: TokenBucket::new(records, records, now),
            bytes: TokenBucket::new(bytes, bytes, now),
        }
    }

    /// How long until one record of `size` bytes may be sent (zero: now).
    pub(crate) fn wait_for(&mut self, size: usize, now: Instant) -> Duration {
        self.records
            .wait_for(1.0, now)
            .max(self.bytes.wait_for(size as f64, now))
    }

    /// Takes the tokens of one record of `size` bytes if they are available.
    pub(crate) fn try_take(&mut self, size: usize, now: Instant) -> bool {
        if self.wait_for(size, now).is_zero() {
            self.records.take(1.0, now);
            self.bytes.take(size as f64, now);
            true
        } else {
            false
        }
    }

    #[cfg(test)]
    pub(crate) fn records_available(&mut self, now: Instant) -> f64 {
        self.records.available(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

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

    proptest! {
        /// Over any schedule of requests, a bucket never hands out more than its capacity plus
        /// what its rate refilled.
        #[test]
        fn bucket_never_exceeds_rate(
            rate in 1.0f64..10_000.0,
            steps in proptest::collection::vec((0u64..50, 1.0f64..500.0), 1..200),
        ) {
            let start = Instant::now();
            let mut bucket = TokenBucket::new(rate, rate, start);
            let mut now = start;
            let mut taken = 0.0;
            for (advance_ms, n) in steps {
                now += Duration::from_millis(advance_ms);
                if bucket.wait_for(n, now).is_zero() && n <= rate {
                    bucket.take(n, now);
                    taken += n;
                }
                let elapsed = now.duration_since(start).as_secs_f64();
                prop_assert!(taken <= rate + elapsed * rate + 1e-6);
            }
        }

        /// `wait_for` is exact: after waiting that long the tokens are there.
        #[test]
        fn wait_for_is_sufficient(rate in 1.0f64..10_000.0, n in 0.0f64..1.0, drain in 0.0f64..1.0) {
            let start = Instant::now();
            let mut bucket = TokenBucket::new(rate, rate, start);
            bucket.take(drain * rate, start);
            let wait = bucket.wait_for(n * rate, start);
            let later = start + wait + Duration::from_nanos(1_000);
            prop_assert!(bucket.wait_for(n * rate, later).is_zero());
        }
    }
}
