//! One token bucket for kstream: `capacity` tokens refilled continuously at `rate` tokens per
//! second.
//!
//! Two users, two ways to ask:
//!
//! - The producer's per-shard limits (`kstream-producer`, records and bytes per second) ask
//!   [`TokenBucket::wait_for`] how long until a request can go and then
//!   [`take`](TokenBucket::take) its tokens. A request larger than the capacity is served once
//!   the bucket is full and leaves the balance negative (a record bigger than one second of
//!   bytes still goes, and pays for it).
//! - The local API Gateway's throttles (stage methods, usage plans: rate per second, burst as
//!   capacity) ask [`TokenBucket::try_take`], which takes the tokens only if they are there: a
//!   bucket of burst 0 admits nothing.
//!
//! Time is passed in (`now`), never read, so callers decide the clock: the producer passes
//! `tokio::time::Instant::into_std()` (paused time in its tests), the API executor
//! `std::time::Instant::now()`.
//!
//! Why not the `governor` crate: its GCRA counts whole cells in integer nanoseconds, a quota's
//! burst is a `NonZeroU32` (no burst 0, which API Gateway allows and which must admit nothing),
//! `check_n` refuses a request larger than the burst outright (the producer must serve it when
//! the bucket is full) and it reads its own clock; it gives neither behaviour exactly.
//!
//! # Example
//!
//! ```
//! use std::time::{Duration, Instant};
//!
//! use kstream_throttle::TokenBucket;
//!
//! let t0 = Instant::now();
//! let mut bucket = TokenBucket::new(2.0, 3.0, t0);
//! assert!(bucket.try_take(3.0, t0));
//! assert!(!bucket.try_take(1.0, t0));
//! assert_eq!(bucket.wait_for(1.0, t0), Duration::from_millis(500));
//! ```

use std::time::{Duration, Instant};

/// A token bucket refilled continuously at `rate` tokens per second up to `capacity`.
#[derive(Debug, Clone)]
pub struct TokenBucket {
    rate: f64,
    capacity: f64,
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    /// A full bucket of `capacity` tokens refilled at `rate` per second, as of `now`. A
    /// negative (or NaN) rate or capacity counts as zero.
    pub fn new(rate: f64, capacity: f64, now: Instant) -> Self {
        let capacity = capacity.max(0.0);
        Self {
            rate: rate.max(0.0),
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

    /// Tokens available at `now` (negative after [`take`](Self::take) overdrew the bucket).
    pub fn available(&mut self, now: Instant) -> f64 {
        self.refill(now);
        self.tokens
    }

    /// How long until `n` tokens are available (zero if they are). A request larger than the
    /// capacity is served once the bucket is full.
    ///
    /// The rate must be positive when the bucket lacks tokens (the wait would be endless).
    pub fn wait_for(&mut self, n: f64, now: Instant) -> Duration {
        self.refill(now);
        let n = n.min(self.capacity);
        if self.tokens >= n {
            Duration::ZERO
        } else {
            Duration::from_secs_f64((n - self.tokens) / self.rate)
        }
    }

    /// Takes `n` tokens (the balance may go negative for a request larger than the capacity).
    /// Pair it with [`wait_for`](Self::wait_for).
    pub fn take(&mut self, n: f64, now: Instant) {
        self.refill(now);
        self.tokens -= n;
    }

    /// Takes `n` tokens if there are `n`, and says whether it did. Never overdraws: a request
    /// larger than the capacity is never served.
    pub fn try_take(&mut self, n: f64, now: Instant) -> bool {
        self.refill(now);
        if self.tokens >= n {
            self.tokens -= n;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// The local API Gateway's throttle: a burst, then the rate, capped at the burst.
    #[test]
    fn token_bucket_allows_burst_then_rate() {
        let t0 = Instant::now();
        let mut b = TokenBucket::new(2.0, 3.0, t0);
        assert!(b.try_take(1.0, t0) && b.try_take(1.0, t0) && b.try_take(1.0, t0));
        assert!(!b.try_take(1.0, t0), "burst exhausted");
        assert!(
            !b.try_take(1.0, t0 + Duration::from_millis(400)),
            "0.8 tokens"
        );
        assert!(
            b.try_take(1.0, t0 + Duration::from_millis(500)),
            "refilled to 1"
        );
        assert!(b.try_take(1.0, t0 + Duration::from_secs(10)));
        assert!(b.try_take(1.0, t0 + Duration::from_secs(10)));
        assert!(b.try_take(1.0, t0 + Duration::from_secs(10)));
        assert!(
            !b.try_take(1.0, t0 + Duration::from_secs(10)),
            "capped at the burst"
        );
        let mut zero = TokenBucket::new(100.0, 0.0, t0);
        assert!(
            !zero.try_take(1.0, t0 + Duration::from_secs(1)),
            "burst 0 admits nothing"
        );
    }

    #[test]
    fn negative_settings_count_as_zero() {
        let t0 = Instant::now();
        let mut b = TokenBucket::new(-5.0, -1.0, t0);
        assert_eq!(b.available(t0 + Duration::from_secs(10)), 0.0);
        assert!(!b.try_take(1.0, t0 + Duration::from_secs(10)));
    }

    /// The producer's use: a request larger than the capacity waits for a full bucket, then
    /// overdraws it.
    #[test]
    fn an_oversized_request_waits_for_a_full_bucket_and_overdraws_it() {
        let t0 = Instant::now();
        let mut b = TokenBucket::new(10.0, 10.0, t0);
        b.take(5.0, t0);
        assert_eq!(b.wait_for(25.0, t0), Duration::from_millis(500));
        let full = t0 + Duration::from_millis(500);
        assert!(b.wait_for(25.0, full).is_zero());
        assert!(!b.try_take(25.0, full), "try_take never overdraws");
        b.take(25.0, full);
        assert!((b.available(full) + 15.0).abs() < 1e-9);
        let wait = b.wait_for(1.0, full).as_secs_f64();
        assert!((wait - 1.6).abs() < 1e-9, "{wait}");
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

        /// The same bound for `try_take`, whatever the capacity.
        #[test]
        fn try_take_never_exceeds_rate(
            rate in 0.0f64..10_000.0,
            capacity in 0.0f64..1_000.0,
            steps in proptest::collection::vec((0u64..50, 0.5f64..50.0), 1..200),
        ) {
            let start = Instant::now();
            let mut bucket = TokenBucket::new(rate, capacity, start);
            let mut now = start;
            let mut taken = 0.0;
            for (advance_ms, n) in steps {
                now += Duration::from_millis(advance_ms);
                if bucket.try_take(n, now) {
                    taken += n;
                }
                let elapsed = now.duration_since(start).as_secs_f64();
                prop_assert!(taken <= capacity + elapsed * rate + 1e-6);
                prop_assert!(bucket.available(now) >= 0.0);
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
