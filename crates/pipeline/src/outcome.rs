//! Batch outcome: which records of a batch failed, for a partial-batch response.
//!
//! Lambda's `ReportBatchItemFailures` response lists the identifier of every failed
//! record (for Kinesis, the record's sequence number). A record can fail more than
//! once in one invocation (a KPL aggregate whose sub-records fail, a retry inside
//! the handler); the response must name it once, in batch order. [`BatchOutcome`]
//! collects failures in the order they are reported and drops repeats.
//!
//! It holds plain strings so this crate needs no Lambda event types; the function
//! turns [`BatchOutcome::into_failed_ids`] into its response type.

use std::collections::HashSet;

/// The failed records of one batch, each identifier once, in the order first reported.
///
/// # Example
/// ```
/// use kstream_pipeline::BatchOutcome;
///
/// let mut outcome = BatchOutcome::new();
/// assert!(outcome.fail("49590338271490256608559692538361571095921575989136588802"));
/// // a second sub-record of the same aggregate fails: reported once
/// assert!(!outcome.fail("49590338271490256608559692538361571095921575989136588802"));
/// outcome.fail("49590338271490256608559692540925702759324208523137515618");
/// assert_eq!(outcome.failed_count(), 2);
/// assert_eq!(outcome.failure_events(), 3);
/// ```
#[derive(Debug, Default, Clone)]
pub struct BatchOutcome {
    order: Vec<String>,
    seen: HashSet<String>,
    events: usize,
}

impl BatchOutcome {
    /// An outcome with no failures.
    pub fn new() -> Self {
        Self::default()
    }

    /// Marks the record `id` as failed. Returns `true` when `id` was not failed before.
    ///
    /// Note for Kinesis: Lambda treats an empty identifier as "the whole batch failed";
    /// an empty `id` is kept as given, so a record without a sequence number fails the batch.
    pub fn fail(&mut self, id: impl Into<String>) -> bool {
        self.events += 1;
        let id = id.into();
        if self.seen.contains(&id) {
            return false;
        }
        self.seen.insert(id.clone());
        self.order.push(id);
        true
    }

    /// Whether the record `id` has failed.
    pub fn is_failed(&self, id: &str) -> bool {
        self.seen.contains(id)
    }

    /// Number of distinct failed records.
    pub fn failed_count(&self) -> usize {
        self.order.len()
    }

    /// Number of calls to [`fail`](Self::fail), repeats included.
    pub fn failure_events(&self) -> usize {
        self.events
    }

    /// Whether no record failed.
    pub fn is_success(&self) -> bool {
        self.order.is_empty()
    }

    /// The failed identifiers, each once, in the order first reported.
    pub fn failed_ids(&self) -> &[String] {
        &self.order
    }

    /// Consumes the outcome, returning the failed identifiers in order.
    pub fn into_failed_ids(self) -> Vec<String> {
        self.order
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_first_report_order_and_dedups() {
        let mut o = BatchOutcome::new();
        assert!(o.is_success());
        o.fail("3");
        o.fail("1");
        o.fail("3");
        o.fail("2");
        o.fail("1");
        assert_eq!(o.failed_ids(), ["3", "1", "2"]);
        assert_eq!(o.failure_events(), 5);
        assert!(o.is_failed("2"));
        assert!(!o.is_failed("4"));
        assert_eq!(o.into_failed_ids(), vec!["3", "1", "2"]);
    }
}
