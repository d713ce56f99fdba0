//! Stage 1, aggregation: a new or re-routed user record goes to its predicted shard's
//! `kstream_kpl::Aggregator`, emitted when full or when its oldest record has waited
//! `record_max_buffered_time`; a record too big to share an aggregate goes alone.
//!
//! Emitted aggregates wait, without their MD5 trailer, in the pipeline's `ready` list until
//! [`Pipeline::finish_ready`] finishes them all at once with `kstream_kpl::finish_all` (their
//! MD5s side by side in SIMD lanes, from three aggregates on) and hands them to the limiter
//! queues, in the order they were emitted. That happens once the aggregates emitted together are
//! all there: after a batch of commands has been routed (the next `step`), after the due
//! aggregates of every shard are flushed (`step`), and on `flush_now`.

use std::collections::VecDeque;

use kstream_kpl::{Aggregator, ShardId, UnfinishedRecord};
use tokio::time::Instant;

use super::Pipeline;
use super::records::{KRecord, Pending};
use crate::error::RecordFailure;

/// An aggregate emitted and not yet finished (see the module docs), with what its Kinesis
/// record needs.
#[derive(Debug)]
pub(super) struct Ready {
    shard: Option<ShardId>,
    record: UnfinishedRecord,
    members: Vec<Pending>,
    generation: u64,
}

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
            // What was emitted before goes first, so the order holds.
            self.finish_ready();
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
        match buffer.aggregator.add_unfinished(&pending.record) {
            Ok(emitted) => {
                let emitted = emitted.map(|record| Ready {
                    members: buffer.members.drain(..record.user_records()).collect(),
                    shard: shard.clone(),
                    record,
                    generation,
                });
                buffer.members.push_back(pending);
                buffer.deadline = buffer.members.iter().map(|m| m.send_by).min();
                self.ready.extend(emitted);
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

    /// Emits the pending aggregate of one shard to the `ready` list (see
    /// [`finish_ready`](Self::finish_ready)).
    pub(super) fn flush_buffer(&mut self, shard: &Option<ShardId>) {
        let generation = self.generation;
        let Some(buffer) = self.buffers.get_mut(shard) else {
            return;
        };
        buffer.deadline = None;
        let Some(record) = buffer.aggregator.flush_unfinished() else {
            return;
        };
        let members: Vec<Pending> = buffer.members.drain(..record.user_records()).collect();
        self.ready.push(Ready {
            shard: shard.clone(),
            record,
            members,
            generation,
        });
    }

    /// Finishes every emitted aggregate at once (their MD5s in lanes) and hands them to their
    /// limiter queues, in the order they were emitted.
    pub(super) fn finish_ready(&mut self) {
        if self.ready.is_empty() {
            return;
        }
        let ready = std::mem::take(&mut self.ready);
        let (records, rest): (Vec<UnfinishedRecord>, Vec<_>) = ready
            .into_iter()
            .map(|r| (r.record, (r.shard, r.members, r.generation)))
            .unzip();
        for (agg, (shard, members, generation)) in
            kstream_kpl::finish_all(records).into_iter().zip(rest)
        {
            let record = KRecord::from_aggregate(agg, members, shard.clone(), generation);
            self.enqueue(shard, record, None);
        }
    }
}

#[cfg(test)]
mod tests {
    //! The stages with paused time, without a network (see `testing.rs`).

    use std::time::Duration;

    use tokio::time::Instant;

    use kstream_kpl::{Deaggregated, ShardMap, deaggregate};

    use super::super::testing::{pending, pipeline, two_shards};
    use crate::config::ProducerConfig;

    #[tokio::test(start_paused = true)]
    async fn aggregates_emitted_together_are_finished_together_in_order() {
        // Small aggregates, so that routing fills several per shard; eight shards.
        let config = ProducerConfig::builder()
            .stream_name("s")
            .aggregation_max_size(300)
            .build()
            .unwrap();
        let step = u128::MAX / 8;
        let map = ShardMap::from_decimal((0..8u128).map(|i| {
            let end = if i == 7 {
                u128::MAX
            } else {
                (i + 1) * step - 1
            };
            (
                format!("shardId-{i:012}"),
                (i * step).to_string(),
                end.to_string(),
            )
        }))
        .unwrap();
        let (mut p, _metrics) = pipeline(&config, map.clone());
        let start = Instant::now();
        let mut sent: std::collections::HashMap<String, Vec<String>> = Default::default();
        for i in 0..400 {
            let key = format!("key-{}", i % 37);
            let data = format!("record {i}");
            let shard = map.shard_for(kstream_kpl::hash_key(&key)).unwrap();
            sent.entry(shard.as_str().to_owned())
                .or_default()
                .push(data.clone());
            p.route(pending(&config, &key, &data), start);
        }
        assert!(
            p.ready.len() > 8,
            "routing filled aggregates: {}",
            p.ready.len()
        );
        // flush_now finishes them, and every shard's last one, together.
        p.flush_now(start);
        assert!(p.ready.is_empty());
        let mut got: std::collections::HashMap<String, Vec<String>> = Default::default();
        for (shard, queue) in &p.queues {
            let shard = shard.as_ref().unwrap().as_str().to_owned();
            for record in &queue.queue {
                let Deaggregated::Aggregated(subs) = deaggregate(&record.data) else {
                    panic!("{shard}: not a valid aggregate (MD5 checked)");
                };
                assert_eq!(subs.len(), record.members.len());
                got.entry(shard.clone()).or_default().extend(
                    subs.iter()
                        .map(|s| String::from_utf8(s.data.to_vec()).unwrap()),
                );
            }
        }
        assert_eq!(got, sent, "every shard's records, in order");
    }

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
