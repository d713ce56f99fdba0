//! Stages 2 and 3: the limiter queue of each shard (a FIFO of Kinesis records behind two token
//! buckets; a shard with a request in flight waits for it, so the records of one shard reach
//! Kinesis in order unless a retry intervenes), and collection into the next PutRecords
//! request, sent when full (`collection_max_count`, `collection_max_size`) or when its oldest
//! record is due.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use kstream_kpl::ShardId;
use tokio::time::Instant;
use tracing::trace;

use super::Pipeline;
use super::completion::Completion;
use super::records::KRecord;
use crate::kinesis::{KinesisError, PutRecordsEntry};
use crate::limiter::ShardLimiter;
use crate::metrics::Metrics;

/// The limiter stage of one shard.
#[derive(Debug)]
pub(super) struct ShardQueue {
    pub(super) limiter: Option<ShardLimiter>,
    pub(super) queue: VecDeque<KRecord>,
}

impl Pipeline {
    /// When the pending request is due: when its oldest record is due, except that while a
    /// limiter holds records back (they arrive one token at a time) the request gathers them for
    /// up to `record_max_buffered_time` rather than going out with one or two entries.
    pub(super) fn batch_due(&self) -> Option<Instant> {
        let deadline = self.batch_deadline?;
        match (self.limited, self.batch_opened) {
            (true, Some(opened)) => {
                Some(deadline.max(opened + self.config.record_max_buffered_time))
            }
            _ => Some(deadline),
        }
    }

    /// Makes everything buffered due now (flush on demand and on shutdown).
    pub(super) fn flush_now(&mut self, now: Instant) {
        let shards: Vec<Option<ShardId>> = self.buffers.keys().cloned().collect();
        for shard in shards {
            self.flush_buffer(&shard);
        }
        self.finish_ready();
        for queue in self.queues.values_mut() {
            for record in &mut queue.queue {
                record.send_by = record.send_by.min(now);
            }
        }
        if !self.batch.is_empty() {
            self.batch_deadline = Some(now);
        }
    }

    /// Appends a record to its shard's queue, or inserts it after the records already put back
    /// at the front in this step.
    pub(super) fn enqueue(
        &mut self,
        shard: Option<ShardId>,
        record: KRecord,
        front: Option<&mut HashMap<Option<ShardId>, usize>>,
    ) {
        let rate_limit = self.config.rate_limit;
        let queue = self
            .queues
            .entry(shard.clone())
            .or_insert_with(|| ShardQueue {
                limiter: shard
                    .as_ref()
                    .map(|_| ShardLimiter::new(rate_limit, Instant::now())),
                queue: VecDeque::new(),
            });
        match front {
            Some(front) => {
                let position = front.entry(shard).or_default();
                queue
                    .queue
                    .insert((*position).min(queue.queue.len()), record);
                *position += 1;
            }
            None => queue.queue.push_back(record),
        }
    }

    /// Moves Kinesis records from the limiter queues into requests while tokens, request room and
    /// connections allow.
    pub(super) fn drain(&mut self, now: Instant) {
        self.limited = false;
        let shards: Vec<Option<ShardId>> = self
            .queues
            .iter()
            .filter(|(_, q)| !q.queue.is_empty())
            .map(|(k, _)| k.clone())
            .collect();
        for shard in shards {
            if shard.as_ref().is_some_and(|s| self.busy.contains(s)) {
                continue;
            }
            while let Some(queue) = self.queues.get_mut(&shard) {
                let Some(front) = queue.queue.front() else {
                    break;
                };
                if front.expires() <= now {
                    let record = queue.queue.pop_front().expect("front exists");
                    self.expire_some(record, now);
                    continue;
                }
                let size = front.size();
                let full = self.batch.len() >= self.config.collection_max_count
                    || self.batch_bytes + size > self.config.collection_max_size;
                if full && !self.batch.is_empty() {
                    if self.in_flight >= self.config.max_connections {
                        return;
                    }
                    self.dispatch(now);
                    // The shard just went into flight: the rest of its queue waits for it.
                    if shard.as_ref().is_some_and(|s| self.busy.contains(s)) {
                        break;
                    }
                    continue;
                }
                let queue = self.queues.get_mut(&shard).expect("queue exists");
                if let Some(limiter) = &mut queue.limiter
                    && !limiter.try_take(size, now)
                {
                    self.limited = true;
                    break;
                }
                let record = queue.queue.pop_front().expect("front exists");
                if self.batch.is_empty() {
                    self.batch_opened = Some(now);
                }
                self.batch_bytes += size;
                self.batch_deadline = Some(
                    self.batch_deadline
                        .map_or(record.send_by, |d| d.min(record.send_by)),
                );
                self.batch.push(record);
            }
        }
        let full = self.batch.len() >= self.config.collection_max_count;
        if full && self.in_flight < self.config.max_connections {
            self.dispatch(now);
        }
    }

    /// Sends the current request.
    pub(super) fn dispatch(&mut self, now: Instant) {
        if self.batch.is_empty() || self.in_flight >= self.config.max_connections {
            return;
        }
        let mut batch = std::mem::take(&mut self.batch);
        self.batch_bytes = 0;
        self.batch_deadline = None;
        self.batch_opened = None;
        self.in_flight += 1;
        let mut entries = Vec::with_capacity(batch.len());
        for record in &mut batch {
            if let Some(shard) = &record.shard {
                self.busy.insert(shard.clone());
            }
            let (mut buffered, mut buffering) = (0u64, Duration::ZERO);
            for member in &record.members {
                if member.attempts.is_empty() {
                    buffered += 1;
                    buffering += now.saturating_duration_since(member.arrival);
                }
            }
            if buffered > 0 {
                // Per predicted shard: the actual one is not known before the answer.
                self.metrics
                    .record(record.shard.as_ref().map(ShardId::as_str), |m| {
                        m.buffering_time_total += buffering;
                        m.buffered_records += buffered;
                    });
            }
            entries.push(PutRecordsEntry {
                data: record.data.clone(),
                partition_key: record.partition_key.clone(),
                explicit_hash_key: record.explicit_hash_key.clone(),
            });
        }
        Metrics::add(&self.metrics.put_records_requests, 1);
        Metrics::add(&self.metrics.put_records_entries, batch.len() as u64);
        let user_records: usize = batch.iter().map(|r| r.members.len()).sum();
        Metrics::add(&self.metrics.put_records_user_records, user_records as u64);
        trace!(entries = entries.len(), "PutRecords");
        let client = self.client.clone();
        let stream = self.config.stream_name.clone();
        let timeout = self.config.request_timeout;
        let tx = self.completions_tx.clone();
        tokio::spawn(async move {
            let started = Instant::now();
            // One attempt (see the `kinesis` module): the producer retries per entry.
            let send = client.put_records(&stream, entries);
            let result = match tokio::time::timeout(timeout, send).await {
                Ok(Ok(output)) => Ok(output),
                Ok(Err(err)) => Err(classify(err)),
                Err(_) => Err((
                    "Timeout".to_owned(),
                    format!("PutRecords did not answer within {timeout:?}"),
                )),
            };
            let _ = tx.send(Completion {
                batch,
                started,
                ended: Instant::now(),
                result,
            });
        });
    }
}

/// Error code and message of a failed request (the message with the HTTP status of an error
/// answer).
fn classify(err: KinesisError) -> (String, String) {
    let message = match err.status {
        Some(status) => format!("HTTP {status}: {}", err.message),
        None => err.message,
    };
    (err.code, message)
}

#[cfg(test)]
mod tests {
    //! The stages with paused time, without a network (see `testing.rs`).

    use std::time::Duration;

    use kstream_kpl::ShardMap;
    use tokio::time::Instant;

    use super::super::testing::{pending, pipeline};
    use crate::config::ProducerConfig;

    #[tokio::test(start_paused = true)]
    async fn the_limiter_holds_records_beyond_the_shard_rate() {
        // 1 % of 1000 records/s: 10 records of burst, then one every 100 ms.
        let config = ProducerConfig::builder()
            .stream_name("s")
            .aggregation_enabled(false)
            .rate_limit(1)
            .build()
            .unwrap();
        let map =
            ShardMap::from_decimal([("shardId-000000000000", "0", u128::MAX.to_string())]).unwrap();
        let (mut p, metrics) = pipeline(&config, map);
        let start = Instant::now();
        for i in 0..25 {
            p.route(pending(&config, "k", &format!("{i}")), start);
        }
        p.step(start);
        assert_eq!(p.batch.len(), 10, "the burst");
        let queued: usize = p.queues.values().map(|q| q.queue.len()).sum();
        assert_eq!(queued, 15);
        tokio::time::advance(Duration::from_millis(50)).await;
        p.step(Instant::now());
        assert_eq!(p.batch.len(), 10, "no token yet");
        tokio::time::advance(Duration::from_millis(50)).await;
        p.step(Instant::now());
        // At 100 ms one more token arrived and the batch was due: 11 entries went out.
        assert_eq!(metrics.snapshot(0).put_records_entries, 11);
        assert_eq!(p.in_flight, 1);
    }
}
