//! Stage 1, aggregation: a new or re-routed user record goes to its predicted shard's
//! `kstream_kpl::Aggregator`, emitted when full or when its oldest record has waited
//! `record_max_buffered_time`; a record too big to share an aggregate goes alone.

use std::collections::VecDeque;

use kstream_kpl::{Aggregator, ShardId};
use tokio::time::Instant;

use super::Pipeline;
use super::records::{KRecord, Pending};
use crate::error::RecordFailure;

/// The aggregation stage of one predicted shard.
#[derive(Debug)]
pub(super) struct ShardBuffer {
    pub(super) aggregator: Aggregator,
    pub(super) members: VecDeque<Pending>,
    /// The earliest `send_by` of the members.
    pub(super) deadline: Option<Instant>,
}

impl Pipeline {
    /// Sends a new or re-routed user record to the aggregation stage of its predicted shard.
    pub(super) fn route(&mut self, pending: Pending, _now: Instant) {
        let shard = match (self.predict, &self.shard_map) {
            (true, Some(map)) => match pending.record.hash_key() {
                Ok(hash) => map.shard_for(hash).cloned(),
                Err(e) => {
                    self.fail(
                        pending,
                        None,
                        RecordFailure::Rejected {
                            code: "InvalidRecord".into(),
                            message: e.to_string(),
                            attempts: Vec::new(),
                        },
                    );
                    return;
                }
            },
            _ => None,
        };
        let size = pending.record.data.len() + pending.record.partition_key.len();
        // Too big to share an aggregate with anything: sent alone, after what is buffered for the
        // same shard so the order holds.
        let alone = !self.aggregate
            || shard.is_none()
            || size + kstream_kpl::OVERHEAD + 16 > self.aggregator_config.max_size();
        if alone {
            self.flush_buffer(&shard);
            let record = KRecord::raw(pending, shard.clone(), self.generation);
            self.enqueue(shard, record, None);
            return;
        }
        let generation = self.generation;
        let config = self.aggregator_config;
        let buffer = self
            .buffers
            .entry(shard.clone())
            .or_insert_with(|| ShardBuffer {
                aggregator: Aggregator::new(config),
                members: VecDeque::new(),
                deadline: None,
            });
        match buffer.aggregator.add(pending.record.clone()) {
            Ok(emitted) => {
                let emitted = emitted.map(|agg| {
                    let members: Vec<Pending> = buffer.members.drain(..agg.user_records).collect();
                    KRecord::from_aggregate(agg, members, shard.clone(), generation)
                });
                buffer.members.push_back(pending);
                buffer.deadline = buffer.members.iter().map(|m| m.send_by).min();
                if let Some(record) = emitted {
                    self.enqueue(shard, record, None);
                }
            }
            Err(e) => self.fail(
                pending,
                shard.as_ref(),
                RecordFailure::Rejected {
                    code: "InvalidRecord".into(),
                    message: e.to_string(),
                    attempts: Vec::new(),
                },
            ),
        }
    }

    /// Emits the pending aggregate of one shard to its limiter queue.
    pub(super) fn flush_buffer(&mut self, shard: &Option<ShardId>) {
        let generation = self.generation;
        let Some(buffer) = self.buffers.get_mut(shard) else {
            return;
        };
        buffer.deadline = None;
        let Some(agg) = buffer.aggregator.flush() else {
            return;
        };
        let members: Vec<Pending> = buffer.members.drain(..agg.user_records).collect();
        let record = KRecord::from_aggregate(agg, members, shard.clone(), generation);
        self.enqueue(shard.clone(), record, None);
    }
}

#[cfg(test)]
mod tests {
    //! The stages with paused time, without a network (see `testing.rs`).

    use std::time::Duration;

    use tokio::time::Instant;

    use super::super::testing::{pending, pipeline, two_shards};
    use crate::config::ProducerConfig;

    #[tokio::test(start_paused = true)]
    async fn records_linger_then_go_as_one_aggregate_per_shard() {
        let config = ProducerConfig::builder()
            .stream_name("s")
            .record_max_buffered_time(Duration::from_millis(100))
            .build()
            .unwrap();
        let (mut p, metrics) = pipeline(&config, two_shards());
        let start = Instant::now();
        for i in 0..40 {
            p.route(pending(&config, &format!("key-{i}"), "data"), start);
        }
        p.step(start);
        assert!(p.batch.is_empty(), "nothing due yet");
        assert_eq!(p.in_flight, 0);
        assert_eq!(
            p.next_wakeup(start),
            Some(start + Duration::from_millis(100))
        );
        tokio::time::advance(Duration::from_millis(100)).await;
        p.step(Instant::now());
        assert_eq!(p.in_flight, 1, "one request");
        assert_eq!(p.busy.len(), 2, "holding both shards");
        let snapshot = metrics.snapshot(0);
        assert_eq!(snapshot.put_records_entries, 2, "one aggregate per shard");
        assert_eq!(snapshot.totals.buffered_records, 40);
        assert_eq!(snapshot.totals.buffering_time(), Duration::from_millis(100));
        // Per predicted shard too: both shards, the 40 records between them.
        assert_eq!(snapshot.shards.len(), 2, "{:?}", snapshot.shards);
        let per_shard: u64 = snapshot.shards.values().map(|m| m.buffered_records).sum();
        assert_eq!(per_shard, 40);
        assert!(
            snapshot
                .shards
                .values()
                .all(|m| m.buffering_time() == Duration::from_millis(100))
        );
    }
}
