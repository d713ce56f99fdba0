//! What happens to one batch: invoke, then retry, bisect, checkpoint or give up, as Lambda does.
//!
//! The rules (Lambda developer guide: Kinesis error handling, partial batch responses):
//! - A batch that succeeds is done. With `ReportBatchItemFailures`, a response naming failed
//!   sequence numbers makes the records before the lowest one done; the rest is retried from
//!   there. An empty or missing list is success; an empty, null or unknown `itemIdentifier` fails
//!   the whole batch.
//! - A function error (including a crash or a timeout) fails the whole batch.
//! - With `BisectBatchOnFunctionError`, a failed batch of more than one record is split in two
//!   halves (a partial failure splits what remains after the returned sequence number), each
//!   retried on its own, first half first; splitting does not consume the retry quota.
//! - `MaximumRetryAttempts` (-1: unbounded) counts retries of the same records; when a batch
//!   fails once more than that, it is given up: an on-failure record goes to the destination
//!   and the records count as done. Only once the record is delivered: while the destination
//!   refuses it (SQS down, queue missing), the batch stays undone, so it is not checkpointed
//!   and its metadata is not lost; the send is retried with backoff (or the batch read again
//!   on the next start). Records older than `MaximumRecordAgeInSeconds` are given up
//!   before an invocation, with condition `RecordAgeExceeded` (the attempt that finds them
//!   expired counts in `approximateInvokeCount`, as AWS records it).
//!
//! Work is done strictly in order, so what is done is always a prefix of the batch: when the
//! data plane stops between attempts, everything after that prefix is read again next time.

use std::future::Future;
use std::ops::Range;
use std::time::Duration;

use serde::Deserialize;

use super::event::{Condition, SequenceNumber, StreamRecord};
use crate::runtime::InvokeResult;

/// How a mapping treats failures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailurePolicy {
    /// `FunctionResponseTypes` holds `ReportBatchItemFailures`.
    pub report_batch_item_failures: bool,
    /// `BisectBatchOnFunctionError`.
    pub bisect: bool,
    /// `MaximumRetryAttempts`; `None` retries until the records expire.
    pub max_retry_attempts: Option<u32>,
    /// `MaximumRecordAgeInSeconds`; `None` keeps records until they leave the stream.
    pub max_record_age: Option<Duration>,
}

/// The result of one invocation of a (part of a) batch, classified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    /// Every record succeeded.
    Success,
    /// Records before this index (within the invoked records) succeeded, the rest failed.
    Partial(usize),
    /// The whole batch failed; `function_error` when the function errored (not a bad response).
    Failed {
        /// The function raised an error (crash, timeout, error response).
        function_error: bool,
    },
    /// The function could not be invoked at all (host error); retried without counting.
    NotInvoked,
}

/// One invocation as the batch logic sees it.
#[derive(Debug, Clone)]
pub struct AttemptResult {
    /// The request id.
    pub request_id: String,
    /// The classified result.
    pub attempt: Attempt,
}

/// A range of the batch given up, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct GiveUp {
    /// The records given up (indices into the batch).
    pub range: Range<usize>,
    /// The condition.
    pub condition: Condition,
    /// Invocations of exactly these records that failed.
    pub invoke_count: u32,
    /// The last request id, if it was invoked.
    pub request_id: Option<String>,
    /// Whether the last invocation was a function error.
    pub function_error: bool,
}

/// What the batch logic needs from the outside world.
pub trait BatchDriver {
    /// Invokes the function with these records.
    fn invoke(&mut self, records: &[StreamRecord]) -> impl Future<Output = AttemptResult> + Send;
    /// Sends the on-failure record for given-up records: whether it was delivered (or
    /// there is nowhere to deliver it); `false` keeps the records undone.
    fn give_up(
        &mut self,
        records: &[StreamRecord],
        give_up: &GiveUp,
    ) -> impl Future<Output = bool> + Send;
    /// Whether to stop before the next attempt (shutdown).
    fn stopping(&self) -> bool;
    /// Now, in Unix epoch seconds.
    fn now(&self) -> f64;
    /// Pause before a retry.
    fn backoff(&mut self, retry: u32) -> impl Future<Output = ()> + Send;
}

#[derive(Debug, Clone, Default, Deserialize)]
struct BatchResponse {
    #[serde(rename = "batchItemFailures", default)]
    batch_item_failures: Option<Vec<ItemFailure>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
struct ItemFailure {
    #[serde(rename = "itemIdentifier", default)]
    item_identifier: Option<serde_json::Value>,
}

/// Classifies a function's result for the records it was given.
pub fn classify(
    result: &InvokeResult,
    records: &[StreamRecord],
    report_item_failures: bool,
) -> Attempt {
    let body = match result {
        InvokeResult::Error(_) => {
            return Attempt::Failed {
                function_error: true,
            };
        }
        InvokeResult::Ok(body) => body,
    };
    if !report_item_failures {
        return Attempt::Success;
    }
    let trimmed = body.as_ref();
    if trimmed.iter().all(u8::is_ascii_whitespace) || trimmed == b"null" {
        return Attempt::Success;
    }
    let Ok(response) = serde_json::from_slice::<BatchResponse>(trimmed) else {
        // Not a StreamsEventResponse (e.g. a bare string): as Lambda, that is no failure list.
        return Attempt::Success;
    };
    let failures = match response.batch_item_failures {
        None => return Attempt::Success,
        Some(f) if f.is_empty() => return Attempt::Success,
        Some(f) => f,
    };
    let mut lowest: Option<usize> = None;
    for failure in failures {
        let Some(serde_json::Value::String(id)) = failure.item_identifier else {
            return Attempt::Failed {
                function_error: false,
            };
        };
        let Some(index) = records.iter().position(|r| r.sequence_number == id) else {
            return Attempt::Failed {
                function_error: false,
            };
        };
        lowest = Some(lowest.map_or(index, |l: usize| l.min(index)));
    }
    match lowest {
        Some(0) => Attempt::Partial(0),
        Some(i) => Attempt::Partial(i),
        None => Attempt::Success,
    }
}

/// What became of a batch.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BatchReport {
    /// How many records, from the start, are done (processed or given up).
    pub done: usize,
    /// Invocations made.
    pub invocations: u32,
    /// Ranges given up.
    pub given_up: Vec<GiveUp>,
}

#[derive(Debug, Clone)]
struct Segment {
    range: Range<usize>,
    failures: u32,
    last_request: Option<String>,
    last_function_error: bool,
}

/// Processes `records` (one batch, in shard order) under `policy`.
pub async fn process<D: BatchDriver>(
    records: &[StreamRecord],
    policy: &FailurePolicy,
    driver: &mut D,
) -> BatchReport {
    let mut report = BatchReport::default();
    // A stack: the segment to run next is on top.
    let mut work = vec![Segment {
        range: 0..records.len(),
        failures: 0,
        last_request: None,
        last_function_error: false,
    }];
    while let Some(mut seg) = work.pop() {
        if seg.range.is_empty() {
            continue;
        }
        if driver.stopping() {
            break;
        }
        // Records past the maximum age are given up before any invocation.
        if let Some(max_age) = policy.max_record_age {
            let oldest_kept = driver.now() - max_age.as_secs_f64();
            let expired = records[seg.range.clone()]
                .iter()
                .take_while(|r| r.arrival < oldest_kept)
                .count();
            if expired > 0 {
                let range = seg.range.start..seg.range.start + expired;
                // The attempt that finds the records expired counts: AWS records an
                // `approximateInvokeCount` of 1 for records that expired before their first
                // invocation (conformance/kinesis-lambda/on-failure-*.json).
                let give_up = GiveUp {
                    range: range.clone(),
                    condition: Condition::RecordAgeExceeded,
                    invoke_count: seg.failures + 1,
                    request_id: seg.last_request.clone(),
                    function_error: seg.last_function_error,
                };
                if !deliver(driver, &records[range.clone()], &give_up).await {
                    break; // stopping: the expired records are not done
                }
                report.given_up.push(give_up);
                report.done = range.end;
                seg.range.start = range.end;
                if seg.range.is_empty() {
                    continue;
                }
            }
        }
        let result = driver.invoke(&records[seg.range.clone()]).await;
        let (failed_from, function_error) = match result.attempt {
            Attempt::Success => {
                report.invocations += 1;
                report.done = seg.range.end;
                continue;
            }
            Attempt::NotInvoked => {
                // A host problem (binary missing, ...): wait longer than for a function error.
                driver.backoff(5).await;
                work.push(seg);
                continue;
            }
            Attempt::Partial(i) => (seg.range.start + i, false),
            Attempt::Failed { function_error } => (seg.range.start, function_error),
        };
        report.invocations += 1;
        report.done = failed_from;
        let remaining = failed_from..seg.range.end;
        let failures = if failed_from == seg.range.start {
            seg.failures + 1
        } else {
            1
        };
        let request = Some(result.request_id);
        if policy.bisect && remaining.len() > 1 {
            let mid = remaining.start + remaining.len() / 2;
            for range in [mid..remaining.end, remaining.start..mid] {
                work.push(Segment {
                    range,
                    failures: 0,
                    last_request: request.clone(),
                    last_function_error: function_error,
                });
            }
            continue;
        }
        let exhausted = policy.max_retry_attempts.is_some_and(|max| failures > max);
        if exhausted {
            let give_up = GiveUp {
                range: remaining.clone(),
                condition: Condition::RetryAttemptsExhausted,
                invoke_count: failures,
                request_id: request,
                function_error,
            };
            if !deliver(driver, &records[remaining.clone()], &give_up).await {
                break; // stopping: the given-up records are not done
            }
            report.given_up.push(give_up);
            report.done = remaining.end;
            continue;
        }
        driver.backoff(failures).await;
        work.push(Segment {
            range: remaining,
            failures,
            last_request: request,
            last_function_error: function_error,
        });
    }
    report
}

/// Gives `records` up, retrying the on-failure record with backoff until it is delivered:
/// `false` when the driver stops first (the records then stay undone, and are read again).
async fn deliver<D: BatchDriver>(
    driver: &mut D,
    records: &[StreamRecord],
    give_up: &GiveUp,
) -> bool {
    let mut retry = 0u32;
    loop {
        if driver.give_up(records, give_up).await {
            return true;
        }
        if driver.stopping() {
            return false;
        }
        retry += 1;
        driver.backoff(retry.min(6)).await;
    }
}

/// The sequence number of a record, ordered.
pub fn seq(record: &StreamRecord) -> SequenceNumber {
    SequenceNumber(record.sequence_number.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn records(n: usize) -> Vec<StreamRecord> {
        (0..n)
            .map(|i| StreamRecord {
                shard_id: "shardId-000000000000".into(),
                sequence_number: (i + 1).to_string(),
                partition_key: "pk".into(),
                data: Bytes::new(),
                arrival: 1000.0 + i as f64,
            })
            .collect()
    }

    /// A function that fails records whose sequence number is poisoned, either by naming them
    /// (partial response) or by erroring.
    struct Fake {
        poison: Vec<String>,
        report: bool,
        invocations: Vec<Vec<String>>,
        given_up: Vec<(Vec<String>, GiveUp)>,
        now: f64,
        stop_after: Option<usize>,
        /// On-failure sends refused before one is delivered (`usize::MAX`: all).
        refuse_sends: usize,
        refused: usize,
    }

    impl Fake {
        fn new(poison: &[usize], report: bool) -> Self {
            Self {
                poison: poison.iter().map(|p| (p + 1).to_string()).collect(),
                report,
                invocations: Vec::new(),
                given_up: Vec::new(),
                now: 2000.0,
                stop_after: None,
                refuse_sends: 0,
                refused: 0,
            }
        }
    }

    impl BatchDriver for Fake {
        async fn invoke(&mut self, records: &[StreamRecord]) -> AttemptResult {
            let seqs: Vec<String> = records.iter().map(|r| r.sequence_number.clone()).collect();
            self.invocations.push(seqs.clone());
            let failed: Vec<&String> = seqs.iter().filter(|s| self.poison.contains(s)).collect();
            let result = if failed.is_empty() {
                InvokeResult::Ok(Bytes::from_static(b"{\"batchItemFailures\":[]}"))
            } else if self.report {
                let items: Vec<_> = failed
                    .iter()
                    .map(|s| serde_json::json!({"itemIdentifier": s}))
                    .collect();
                InvokeResult::Ok(
                    serde_json::json!({"batchItemFailures": items})
                        .to_string()
                        .into(),
                )
            } else {
                InvokeResult::Error(crate::runtime::FunctionError::new("Poison", "poison"))
            };
            AttemptResult {
                request_id: format!("req-{}", self.invocations.len()),
                attempt: classify(&result, records, self.report),
            }
        }
        async fn give_up(&mut self, records: &[StreamRecord], give_up: &GiveUp) -> bool {
            if self.refuse_sends > 0 {
                self.refuse_sends -= 1;
                self.refused += 1;
                return false;
            }
            self.given_up.push((
                records.iter().map(|r| r.sequence_number.clone()).collect(),
                give_up.clone(),
            ));
            true
        }
        fn stopping(&self) -> bool {
            self.stop_after.is_some_and(|n| self.invocations.len() >= n)
        }
        fn now(&self) -> f64 {
            self.now
        }
        async fn backoff(&mut self, _retry: u32) {}
    }

    fn policy(report: bool, bisect: bool, retries: Option<u32>) -> FailurePolicy {
        FailurePolicy {
            report_batch_item_failures: report,
            bisect,
            max_retry_attempts: retries,
            max_record_age: None,
        }
    }

    #[tokio::test]
    async fn success_is_one_invocation() {
        let mut fake = Fake::new(&[], false);
        let report = process(&records(10), &policy(false, false, Some(2)), &mut fake).await;
        assert_eq!(report.done, 10);
        assert_eq!(report.invocations, 1);
        assert!(report.given_up.is_empty());
    }

    #[tokio::test]
    async fn a_failing_batch_is_retried_then_given_up_whole() {
        let mut fake = Fake::new(&[3], false);
        let report = process(&records(5), &policy(false, false, Some(2)), &mut fake).await;
        assert_eq!(fake.invocations.len(), 3, "first attempt + 2 retries");
        assert_eq!(report.done, 5);
        let (seqs, give_up) = &fake.given_up[0];
        assert_eq!(seqs, &["1", "2", "3", "4", "5"]);
        assert_eq!(give_up.condition, Condition::RetryAttemptsExhausted);
        assert_eq!(give_up.invoke_count, 3);
        assert!(give_up.function_error);
        assert_eq!(give_up.request_id.as_deref(), Some("req-3"));
    }

    #[tokio::test]
    async fn report_batch_item_failures_retries_from_the_lowest_failed_record() {
        let mut fake = Fake::new(&[6, 3], true);
        let report = process(&records(8), &policy(true, false, Some(1)), &mut fake).await;
        assert_eq!(fake.invocations[0].len(), 8);
        assert_eq!(
            fake.invocations[1],
            ["4", "5", "6", "7", "8"],
            "from the lowest failed (seq 4)"
        );
        assert_eq!(fake.invocations.len(), 2);
        let (seqs, give_up) = &fake.given_up[0];
        assert_eq!(seqs.first().map(String::as_str), Some("4"));
        assert_eq!(give_up.invoke_count, 2);
        assert!(
            !give_up.function_error,
            "a partial response is not a function error"
        );
        assert_eq!(report.done, 8);
    }

    #[tokio::test]
    async fn bisect_isolates_one_poison_record_in_a_hundred() {
        let mut fake = Fake::new(&[41], false);
        let report = process(&records(100), &policy(false, true, Some(2)), &mut fake).await;
        assert_eq!(fake.given_up.len(), 1);
        let (seqs, give_up) = &fake.given_up[0];
        assert_eq!(seqs, &["42"]);
        assert_eq!(
            give_up.invoke_count, 3,
            "the record alone: first attempt + 2 retries"
        );
        assert_eq!(report.done, 100);
        // Every other record was in a successful invocation.
        let ok: std::collections::BTreeSet<&String> = fake
            .invocations
            .iter()
            .filter(|inv| !inv.contains(&"42".to_owned()))
            .flatten()
            .collect();
        assert_eq!(ok.len(), 99);
    }

    #[tokio::test]
    async fn bisect_with_partial_responses_splits_after_the_returned_record() {
        let mut fake = Fake::new(&[10], true);
        let report = process(&records(16), &policy(true, true, Some(0)), &mut fake).await;
        assert_eq!(
            fake.invocations[1],
            ["11", "12", "13"],
            "first half of what failed"
        );
        assert_eq!(fake.given_up.len(), 1);
        assert_eq!(fake.given_up[0].0, ["11"]);
        assert_eq!(report.done, 16);
    }

    #[tokio::test]
    async fn unknown_item_identifiers_fail_the_whole_batch() {
        let recs = records(3);
        let bad = InvokeResult::Ok(Bytes::from_static(
            br#"{"batchItemFailures":[{"itemIdentifier":"999"}]}"#,
        ));
        assert_eq!(
            classify(&bad, &recs, true),
            Attempt::Failed {
                function_error: false
            }
        );
        let null = InvokeResult::Ok(Bytes::from_static(
            br#"{"batchItemFailures":[{"itemIdentifier":null}]}"#,
        ));
        assert_eq!(
            classify(&null, &recs, true),
            Attempt::Failed {
                function_error: false
            }
        );
        let empty = InvokeResult::Ok(Bytes::from_static(
            br#"{"batchItemFailures":[{"itemIdentifier":""}]}"#,
        ));
        assert_eq!(
            classify(&empty, &recs, true),
            Attempt::Failed {
                function_error: false
            }
        );
        for ok in [&b"{}"[..], b"null", b"", b"{\"batchItemFailures\":null}"] {
            assert_eq!(
                classify(&InvokeResult::Ok(Bytes::copy_from_slice(ok)), &recs, true),
                Attempt::Success
            );
        }
        // Without ReportBatchItemFailures a response is never a failure.
        assert_eq!(classify(&bad, &recs, false), Attempt::Success);
    }

    #[tokio::test]
    async fn records_past_the_maximum_age_are_given_up_unread() {
        let mut fake = Fake::new(&[], false);
        fake.now = 1000.0 + 60.0 + 2.5; // records 0..=2 are older than 60 s
        let mut p = policy(false, false, Some(1));
        p.max_record_age = Some(Duration::from_secs(60));
        let report = process(&records(5), &p, &mut fake).await;
        assert_eq!(fake.given_up[0].0, ["1", "2", "3"]);
        assert_eq!(fake.given_up[0].1.condition, Condition::RecordAgeExceeded);
        assert_eq!(
            fake.given_up[0].1.invoke_count, 1,
            "never invoked: one attempt"
        );
        assert_eq!(fake.invocations, vec![vec!["4".to_owned(), "5".to_owned()]]);
        assert_eq!(report.done, 5);
    }

    #[tokio::test]
    async fn stopping_leaves_the_unfinished_part_undone() {
        let mut fake = Fake::new(&[2], true);
        fake.stop_after = Some(1);
        let report = process(&records(5), &policy(true, false, None), &mut fake).await;
        assert_eq!(report.done, 2, "records before the failed one are done");
        assert!(fake.given_up.is_empty());
    }

    /// A failed on-failure send keeps the batch undone (not checkpointed) and is retried
    /// until delivered; the records after it wait, in order.
    #[tokio::test]
    async fn a_refused_on_failure_send_keeps_the_batch_undone_until_delivered() {
        let mut fake = Fake::new(&[2], false);
        fake.refuse_sends = 3;
        let report = process(&records(5), &policy(false, false, Some(0)), &mut fake).await;
        assert_eq!(fake.refused, 3);
        assert_eq!(fake.given_up.len(), 1, "delivered once, after the refusals");
        assert_eq!(report.done, 5);

        // The destination never takes it, and the data plane stops: nothing is done, so
        // nothing is checkpointed and the batch is read again on the next start.
        let mut fake = Fake::new(&[0], false);
        fake.refuse_sends = usize::MAX;
        fake.stop_after = Some(1);
        let report = process(&records(5), &policy(false, false, Some(0)), &mut fake).await;
        assert!(fake.refused >= 1);
        assert!(fake.given_up.is_empty());
        assert_eq!(report.done, 0);
        assert!(report.given_up.is_empty());

        // Records given up for age: the same.
        let mut fake = Fake::new(&[], false);
        fake.refuse_sends = usize::MAX;
        fake.stop_after = Some(0);
        fake.now = 1e12;
        let mut policy = policy(false, false, None);
        policy.max_record_age = Some(Duration::from_secs(60));
        let report = process(&records(5), &policy, &mut fake).await;
        assert_eq!(report.done, 0);
    }

    #[tokio::test]
    async fn unbounded_retries_keep_going_until_success() {
        struct Flaky(u32);
        impl BatchDriver for Flaky {
            async fn invoke(&mut self, _r: &[StreamRecord]) -> AttemptResult {
                self.0 += 1;
                let attempt = if self.0 < 20 {
                    Attempt::Failed {
                        function_error: true,
                    }
                } else {
                    Attempt::Success
                };
                AttemptResult {
                    request_id: String::new(),
                    attempt,
                }
            }
            async fn give_up(&mut self, _r: &[StreamRecord], _g: &GiveUp) -> bool {
                panic!("never given up");
            }
            fn stopping(&self) -> bool {
                false
            }
            fn now(&self) -> f64 {
                0.0
            }
            async fn backoff(&mut self, _retry: u32) {}
        }
        let mut flaky = Flaky(0);
        let report = process(&records(3), &policy(false, false, None), &mut flaky).await;
        assert_eq!(report.invocations, 20);
        assert_eq!(report.done, 3);
    }
}
