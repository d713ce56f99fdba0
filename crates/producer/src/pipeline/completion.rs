//! Stage 4, completion: per entry of a PutRecords answer, success completes the user records;
//! an error schedules a retry of that entry only (backoff with jitter) until the records' time
//! to live runs out, or fails them at once when retrying cannot help.

use std::collections::HashMap;
use std::time::Duration;

use kstream_kpl::ShardId;
use rand::Rng;
use tokio::time::Instant;
use tracing::{debug, warn};

use super::Pipeline;
use super::records::{KRecord, Pending};
use crate::attempt::Attempt;
use crate::error::RecordFailure;
use crate::kinesis::PutRecordsResult;
use crate::metrics::Metrics;
use crate::result::PutOutcome;

/// Error codes retrying cannot fix.
const NON_RETRYABLE: &[&str] = &[
    "AccessDeniedException",
    "ResourceNotFoundException",
    "ValidationException",
    "InvalidArgumentException",
    "KMSAccessDeniedException",
    "KMSDisabledException",
    "KMSInvalidStateException",
    "KMSNotFoundException",
    "KMSOptInRequired",
    "UnrecognizedClientException",
    "InvalidSignatureException",
];
/// The throttling error code.
const THROTTLED: &str = "ProvisionedThroughputExceededException";
/// Error code of a record accepted on a shard other than the predicted one.
pub(crate) const WRONG_SHARD: &str = "WrongShard";

/// A retry waiting for its backoff.
#[derive(Debug)]
pub(super) struct Retry {
    record: KRecord,
    not_before: Instant,
    /// Break the record up and route its user records again (shard map changed, wrong shard).
    reroute: bool,
}

/// What a request task reports.
#[derive(Debug)]
pub(super) struct Completion {
    pub(super) batch: Vec<KRecord>,
    pub(super) started: Instant,
    pub(super) ended: Instant,
    /// One result per entry, or the code and message of the request's failure.
    pub(super) result: Result<Vec<PutRecordsResult>, (String, String)>,
}

impl Pipeline {
    /// Handles a request's result.
    pub(super) fn complete(&mut self, completion: Completion) {
        let Completion {
            batch,
            started,
            ended,
            result,
        } = completion;
        self.in_flight -= 1;
        for record in &batch {
            if let Some(shard) = &record.shard {
                self.busy.remove(shard);
            }
        }
        let duration = ended.saturating_duration_since(started);
        Metrics::add(&self.metrics.request_time_us, duration.as_micros() as u64);
        Metrics::add(&self.metrics.put_records_completed, 1);
        // One jitter per response, so the entries that failed together are retried together.
        let jitter: f64 = rand::rng().random_range(0.5..=1.0);
        let output = match result {
            Ok(output) if output.len() == batch.len() => output,
            Ok(output) => {
                let message = format!(
                    "PutRecords answered {} entries for {} sent",
                    output.len(),
                    batch.len()
                );
                warn!("{message}");
                // One error per request, with no shard (see the metrics module docs).
                self.metrics.record(None, |m| m.error("ResponseMismatch"));
                for record in batch {
                    self.failed(record, started, ended, jitter, "ResponseMismatch", &message);
                }
                return;
            }
            Err((code, message)) => {
                debug!(code, message, entries = batch.len(), "PutRecords failed");
                // A failure of the whole request is one error, with no shard, however many
                // entries it held (as the KPL's `Retrier::emit_metrics`).
                self.metrics.record(None, |m| m.error(&code));
                for record in batch {
                    self.failed(record, started, ended, jitter, &code, &message);
                }
                return;
            }
        };
        for (record, entry) in batch.into_iter().zip(&output) {
            if let Some(code) = entry.error_code.as_deref() {
                let message = entry.error_message.as_deref().unwrap_or_default();
                self.entry_error(&record, code);
                self.failed(record, started, ended, jitter, code, message);
                continue;
            }
            let shard_id = entry.shard_id.as_deref().unwrap_or_default();
            let sequence_number = entry.sequence_number.as_deref().unwrap_or_default();
            // An aggregate on an unexpected shard: consumers such as the KCL drop its sub-records
            // outside that shard's range, so the records are put again with a fresh shard map.
            // A raw record lands where its own key sends it, so it is fine wherever it is.
            let wrong_shard = record.aggregated()
                && record
                    .shard
                    .as_ref()
                    .is_some_and(|predicted| predicted.as_str() != shard_id)
                && !self.owns_all(shard_id, &record);
            if wrong_shard {
                warn!(
                    predicted = ?record.shard,
                    actual = shard_id,
                    "aggregate went to an unexpected shard; refreshing the shard map and retrying"
                );
                self.refresh_wanted = true;
                let message = format!(
                    "aggregate predicted for {} went to {shard_id}",
                    record.shard.as_ref().map_or("?", |s| s.as_str())
                );
                self.entry_error(&record, WRONG_SHARD);
                self.failed(record, started, ended, jitter, WRONG_SHARD, &message);
                continue;
            }
            if record
                .shard
                .as_ref()
                .is_some_and(|p| p.as_str() != shard_id)
            {
                self.refresh_wanted = true;
            }
            // Per shard Kinesis reported: the Kinesis record and its user records, once.
            let data_put: u64 = record
                .members
                .iter()
                .map(|m| m.record.data.len() as u64)
                .sum();
            // The failed attempts before this one: the retries of each member.
            let retries: u64 = record.members.iter().map(|m| m.attempts.len() as u64).sum();
            let (members, size) = (record.members.len() as u64, record.size() as u64);
            self.metrics.record(Some(shard_id), |m| {
                m.kinesis_records_put += 1;
                m.kinesis_records_data_put += size;
                m.user_records_put += members;
                m.user_records_data_put += data_put;
                m.retries += retries;
            });
            let aggregated = record.aggregated();
            for mut member in record.members {
                member.attempts.push(Attempt {
                    delay: started.saturating_duration_since(member.wait_start),
                    duration: ended.saturating_duration_since(started),
                    error_code: None,
                    error_message: None,
                });
                let outcome = PutOutcome {
                    sequence_number: sequence_number.to_owned(),
                    shard_id: shard_id.to_owned(),
                    aggregated,
                    attempts: std::mem::take(&mut member.attempts),
                };
                let _ = member.tx.send(Ok(outcome));
            }
        }
    }

    /// Whether `shard` (by its listed hash key range, closed shards included) owns the hash key
    /// of every user record in `record`: then no consumer drops any of them, whatever the
    /// prediction was. An unknown shard owns nothing.
    fn owns_all(&self, shard: &str, record: &KRecord) -> bool {
        let Some(&(start, end)) = self.all_ranges.get(shard) else {
            return false;
        };
        record.members.iter().all(|m| {
            m.record
                .hash_key()
                .is_ok_and(|h| (start..=end).contains(&h))
        })
    }

    /// Counts an error Kinesis reported for one entry (`ErrorsByCode`), overall and on the
    /// predicted shard (as the KPL's retrier).
    fn entry_error(&self, record: &KRecord, code: &str) {
        self.metrics
            .record(record.shard.as_ref().map(ShardId::as_str), |m| {
                m.error(code)
            });
    }

    /// Records a failed attempt of one Kinesis record and decides: fail now, or retry later.
    /// The caller has counted the error.
    fn failed(
        &mut self,
        mut record: KRecord,
        started: Instant,
        ended: Instant,
        jitter: f64,
        code: &str,
        message: &str,
    ) {
        for member in &mut record.members {
            member.attempts.push(Attempt {
                delay: started.saturating_duration_since(member.wait_start),
                duration: ended.saturating_duration_since(started),
                error_code: Some(code.to_owned()),
                error_message: Some(message.to_owned()),
            });
            member.wait_start = ended;
        }
        let fatal =
            NON_RETRYABLE.contains(&code) || (code == THROTTLED && self.config.fail_if_throttled);
        if fatal {
            for member in record.members {
                let attempts = member.attempts.clone();
                self.fail(
                    member,
                    record.shard.as_ref(),
                    RecordFailure::Rejected {
                        code: code.to_owned(),
                        message: message.to_owned(),
                        attempts,
                    },
                );
            }
            return;
        }
        let attempt = record.members.first().map_or(1, |m| m.attempts.len());
        let backoff = self.backoff(attempt, jitter);
        let now = Instant::now();
        let not_before = now + backoff;
        let reroute = code == WRONG_SHARD || record.generation != self.generation;
        let due = not_before.min(record.expires());
        self.schedule_retry(
            Retry {
                record,
                not_before,
                reroute,
            },
            due,
        );
    }

    fn schedule_retry(&mut self, retry: Retry, due: Instant) {
        self.retry_seq += 1;
        self.retries.insert((due, self.retry_seq), retry);
    }

    /// Exponential backoff from `retry_base_delay` to `retry_max_delay`, scaled by `jitter`
    /// (0.5..=1, drawn once per response).
    fn backoff(&self, attempt: usize, jitter: f64) -> Duration {
        let exp = u32::try_from(attempt.saturating_sub(1))
            .unwrap_or(u32::MAX)
            .min(16);
        let full = self
            .config
            .retry_base_delay
            .saturating_mul(1 << exp)
            .min(self.config.retry_max_delay);
        full.mul_f64(jitter)
    }

    /// A retry whose time has come: expire what ran out of time, send the rest again.
    pub(super) fn resume_retry(
        &mut self,
        retry: Retry,
        now: Instant,
        front: &mut HashMap<Option<ShardId>, usize>,
    ) {
        let Retry {
            mut record,
            not_before,
            reroute,
        } = retry;
        let (expired, alive): (Vec<Pending>, Vec<Pending>) =
            record.members.drain(..).partition(|m| m.deadline <= now);
        let whole = expired.is_empty();
        for member in expired {
            self.expire(member, record.shard.as_ref());
        }
        if alive.is_empty() {
            return;
        }
        if now < not_before {
            // Woken early by a member's expiry; the others wait out the backoff.
            record.members = alive;
            let due = not_before.min(record.expires());
            if whole {
                self.schedule_retry(
                    Retry {
                        record,
                        not_before,
                        reroute,
                    },
                    due,
                );
            } else {
                self.schedule_retry(
                    Retry {
                        record,
                        not_before,
                        reroute: true,
                    },
                    due,
                );
            }
            return;
        }
        if whole && !reroute && record.generation == self.generation {
            record.members = alive;
            record.send_by = now;
            let shard = record.shard.clone();
            self.enqueue(shard, record, Some(front));
        } else {
            // Aggregate again: the shard map changed, or members left.
            for mut member in alive {
                member.send_by = now + self.config.record_max_buffered_time / 2;
                self.route(member, now);
            }
        }
    }

    /// Fails the expired members of a queued record and re-routes the others.
    pub(super) fn expire_some(&mut self, mut record: KRecord, now: Instant) {
        let (expired, alive): (Vec<Pending>, Vec<Pending>) =
            record.members.drain(..).partition(|m| m.deadline <= now);
        for member in expired {
            self.expire(member, record.shard.as_ref());
        }
        for member in alive {
            self.route(member, now);
        }
    }

    /// Fails a user record whose time to live ran out; `shard` is its predicted shard.
    fn expire(&mut self, member: Pending, shard: Option<&ShardId>) {
        self.metrics
            .record(shard.map(ShardId::as_str), |m| m.user_record_expired += 1);
        let attempts = member.attempts.clone();
        self.fail(
            member,
            shard,
            RecordFailure::Expired {
                ttl: self.config.record_ttl,
                attempts,
            },
        );
    }

    /// Completes a user record with `failure`; `shard` is its predicted shard, if any.
    pub(super) fn fail(
        &mut self,
        member: Pending,
        shard: Option<&ShardId>,
        failure: RecordFailure,
    ) {
        let retries = member.attempts.len().saturating_sub(1) as u64;
        self.metrics.record(shard.map(ShardId::as_str), |m| {
            m.user_records_failed += 1;
            m.retries += retries;
        });
        debug!(partition_key = %member.record.partition_key, %failure, "user record failed");
        let _ = member.tx.send(Err(failure));
    }
}

#[cfg(test)]
mod tests {
    //! The stages with paused time, without a network (see `testing.rs`).

    use std::sync::Arc;
    use std::time::Duration;

    use kstream_kpl::ShardId;
    use tokio::time::Instant;

    use super::super::testing::{client, pending, pipeline, two_shards};
    use super::*;
    use crate::config::ProducerConfig;
    use crate::metrics::RecordMetrics;

    /// A PutRecords call that failed as a whole counts one error for the request, with no
    /// shard, however many entries it held (the KPL's `Retrier::emit_metrics`); an error Kinesis
    /// reports for an entry counts once per entry, on its predicted shard.
    #[tokio::test(start_paused = true)]
    async fn a_failed_request_is_one_error_and_a_failed_entry_one_each() {
        let config = ProducerConfig::builder()
            .stream_name("s")
            .aggregation_enabled(false)
            .build()
            .unwrap();
        let (mut p, metrics) = pipeline(&config, two_shards());
        let batch = |n: usize| -> Vec<KRecord> {
            (0..n)
                .map(|i| {
                    let shard = ShardId::new(format!("shardId-00000000000{}", i % 2));
                    KRecord::raw(pending(&config, &format!("k{i}"), "data"), Some(shard), 0)
                })
                .collect()
        };
        let started = Instant::now();
        let mut complete = |batch: Vec<KRecord>, result| {
            p.in_flight += 1;
            p.complete(Completion {
                batch,
                started,
                ended: started + Duration::from_millis(30),
                result,
            });
        };
        let errors = || metrics.snapshot(0).totals.errors_by_code;

        complete(
            batch(5),
            Err(("InternalFailure".to_owned(), "boom".to_owned())),
        );
        assert_eq!(errors(), [("InternalFailure".to_owned(), 1)].into());
        complete(batch(4), Err(("Timeout".to_owned(), "slow".to_owned())));
        assert_eq!(errors()["Timeout"], 1, "{:?}", errors());

        let entry = |error: Option<&str>| match error {
            Some(code) => PutRecordsResult {
                error_code: Some(code.to_owned()),
                error_message: Some("slow down".to_owned()),
                ..PutRecordsResult::default()
            },
            None => PutRecordsResult {
                sequence_number: Some("1".to_owned()),
                shard_id: Some("shardId-000000000000".to_owned()),
                ..PutRecordsResult::default()
            },
        };
        complete(batch(3), Ok(vec![entry(None)]));
        assert_eq!(errors()["ResponseMismatch"], 1, "{:?}", errors());

        let throttled = entry(Some(THROTTLED));
        complete(
            batch(4),
            Ok(vec![throttled.clone(), entry(None), throttled, entry(None)]),
        );
        assert_eq!(errors()[THROTTLED], 2, "{:?}", errors());
        let snapshot = metrics.snapshot(0);
        assert_eq!(snapshot.totals.all_errors(), 5, "{snapshot:?}");
        // Only the entries' errors have a shard: both throttled entries were predicted for
        // shard 0 (the even ones).
        let on_shards: u64 = snapshot
            .shards
            .values()
            .map(RecordMetrics::all_errors)
            .sum();
        assert_eq!(on_shards, 2, "{:?}", snapshot.shards);
        assert_eq!(
            snapshot.shards["shardId-000000000000"].errors_by_code[THROTTLED],
            2
        );
        assert_eq!(snapshot.put_records_completed, 4);
        assert_eq!(snapshot.request_time(), Duration::from_millis(30));
    }

    #[test]
    fn backoff_doubles_up_to_the_maximum() {
        let config = ProducerConfig::builder()
            .stream_name("s")
            .retry_base_delay(Duration::from_millis(100))
            .retry_max_delay(Duration::from_secs(2))
            .build()
            .unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let _guard = rt.enter();
        let p = Pipeline::new(config, client(), Arc::default(), 1024, true, None).unwrap();
        assert_eq!(p.backoff(1, 1.0), Duration::from_millis(100));
        assert_eq!(p.backoff(2, 1.0), Duration::from_millis(200));
        assert_eq!(p.backoff(3, 0.5), Duration::from_millis(200));
        assert_eq!(p.backoff(10, 1.0), Duration::from_secs(2));
        assert_eq!(p.backoff(1000, 1.0), Duration::from_secs(2));
    }
}
