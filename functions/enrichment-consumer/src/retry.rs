//! When to retry a fare call: full-jitter exponential backoff and the invocation's retry budget.
//!
//! The budget is this crate's own small struct rather than tower's `retry::budget::TpsBudget`:
//! TpsBudget's floor is retries *per second* over a sliding time window that would span
//! invocations (and a frozen Lambda's clock jumps between them), while the contract wants a
//! floor of retries *per invocation* plus a share of that invocation's first calls. One budget
//! is made per invocation and shared by its concurrent calls.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rand::Rng as _;

/// The first backoff's ceiling.
pub const BACKOFF_BASE: Duration = Duration::from_millis(100);

/// The largest backoff ceiling.
pub const BACKOFF_CAP: Duration = Duration::from_secs(2);

/// Retries always allowed per invocation, whatever the share.
pub const BUDGET_FLOOR: u64 = 10;

/// Full jitter ("Exponential Backoff And Jitter", AWS Architecture Blog): a uniformly random
/// wait in `0..=min(cap, base * 2^retry)`, `retry` counting from 0 for the first retry.
pub fn full_jitter(retry: u32) -> Duration {
    let ceiling = backoff_ceiling(retry);
    let millis = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
    Duration::from_millis(rand::rng().random_range(0..=millis))
}

/// The upper bound of [`full_jitter`] for retry number `retry`.
pub fn backoff_ceiling(retry: u32) -> Duration {
    BACKOFF_BASE
        .checked_mul(1u32.checked_shl(retry).unwrap_or(u32::MAX))
        .map_or(BACKOFF_CAP, |d| d.min(BACKOFF_CAP))
}

/// Retries allowed in one invocation: [`BUDGET_FLOOR`] plus `percent`% of its first calls.
#[derive(Debug)]
pub struct RetryBudget {
    percent: u64,
    first_calls: AtomicU64,
    retries: AtomicU64,
}

impl RetryBudget {
    /// A budget allowing `percent`% of first calls as retries, plus the floor.
    pub fn new(percent: u8) -> Self {
        Self {
            percent: u64::from(percent.min(100)),
            first_calls: AtomicU64::new(0),
            retries: AtomicU64::new(0),
        }
    }

    /// Records a first call (each one earns `percent`% of a retry).
    pub fn deposit(&self) {
        self.first_calls.fetch_add(1, Ordering::SeqCst);
    }

    /// Takes one retry from the budget; false when it is spent.
    pub fn withdraw(&self) -> bool {
        let allowed = BUDGET_FLOOR + self.first_calls.load(Ordering::SeqCst) * self.percent / 100;
        self.retries
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |taken| {
                (taken < allowed).then_some(taken + 1)
            })
            .is_ok()
    }

    /// Retries taken so far.
    pub fn retries(&self) -> u64 {
        self.retries.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_the_cap() {
        assert_eq!(backoff_ceiling(0), Duration::from_millis(100));
        assert_eq!(backoff_ceiling(3), Duration::from_millis(800));
        assert_eq!(backoff_ceiling(5), BACKOFF_CAP);
        assert_eq!(backoff_ceiling(40), BACKOFF_CAP);
        for retry in 0..8 {
            assert!(full_jitter(retry) <= backoff_ceiling(retry));
        }
    }

    #[test]
    fn budget_is_the_floor_plus_a_share_of_first_calls() {
        let budget = RetryBudget::new(20);
        for _ in 0..50 {
            budget.deposit();
        }
        // 10 + 20% of 50 = 20
        assert_eq!((0..30).filter(|_| budget.withdraw()).count(), 20);
        assert_eq!(budget.retries(), 20);
        let none = RetryBudget::new(0);
        none.deposit();
        assert_eq!((0..30).filter(|_| none.withdraw()).count(), 10);
    }
}
