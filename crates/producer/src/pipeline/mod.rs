//! The producer's background task: aggregation per predicted shard, per-shard rate limiting,
//! collection into PutRecords requests, dispatch, per-entry retries and expiry.
//!
//! One task owns all the state; `put` sends it [`Command`]s over a channel, requests run in
//! their own tasks and report back over another channel. Every user record travels as a
//! [`Pending`] that holds its result sender and its backpressure permit, so a record leaves the
//! pipeline only by completing (success or failure) — never by being dropped.
//!
//! Stages, in order:
//! 1. **Aggregation** ([`ShardBuffer`]): one `kstream_kpl::Aggregator` per predicted shard;
//!    emitted when full or when its oldest record has waited `record_max_buffered_time`; the
//!    aggregates emitted together are finished together (their MD5s in SIMD lanes).
//! 2. **Limiter** ([`ShardQueue`]): a FIFO of Kinesis records per shard behind two token buckets.
//!    A shard with a request in flight waits for it, so the records of one shard (and of one
//!    partition key) reach Kinesis in order unless a retry intervenes.
//! 3. **Collection**: Kinesis records join the next PutRecords request, which is sent when full
//!    (`collection_max_count`, `collection_max_size`) or when its oldest record is due.
//! 4. **Completion**: per entry, success completes the user records; an error schedules a retry
//!    of that entry only (backoff with jitter), until the records' time to live runs out.
//!
//! # Layout
//!
//! - `mod.rs`: the task's state ([`Pipeline`]), its loop and wake-ups, the shard map refresh.
//! - `records.rs`: a user record on its way ([`Pending`]) and a Kinesis record (`KRecord`).
//! - `aggregation.rs`: stage 1, routing to the predicted shard and aggregation.
//! - `collection.rs`: stages 2 and 3, the limiter queues and PutRecords requests.
//! - `completion.rs`: stage 4, results, retries and expiry.

mod aggregation;
mod collection;
mod completion;
mod records;
#[cfg(test)]
mod testing;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use kstream_kpl::{AggregatorConfig, ShardId, ShardMap};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use tracing::{debug, warn};

use self::aggregation::{Ready, ShardBuffer};
use self::collection::ShardQueue;
use self::completion::{Completion, Retry};
use self::records::KRecord;
pub(crate) use self::records::Pending;
use crate::config::ProducerConfig;
use crate::error::Error;
use crate::kinesis::Kinesis;
use crate::metrics::Metrics;
use crate::shards::{self, Shards};

/// The least time between two shard map refreshes asked for by wrong-shard results.
const MIN_REFRESH_GAP: Duration = Duration::from_secs(1);

/// A message to the background task.
#[derive(Debug)]
pub(crate) enum Command {
    /// A new user record.
    Put(Pending),
    /// Send everything buffered now; the sender (if any) is answered once it is handed to the
    /// limiter (not when it completes).
    Flush(Option<oneshot::Sender<()>>),
}

/// The state of the background task.
pub(crate) struct Pipeline {
    config: ProducerConfig,
    client: Arc<dyn Kinesis>,
    metrics: Arc<Metrics>,
    /// Effective record size limit (data plus partition key).
    max_record_size: usize,
    /// Aggregate user records (config and stream allow it).
    aggregate: bool,
    /// Predict shards (the stream routes by key).
    predict: bool,
    shard_map: Option<ShardMap>,
    /// Hash key range of every listed shard, closed ones included.
    all_ranges: HashMap<String, (u128, u128)>,
    generation: u64,
    aggregator_config: AggregatorConfig,
    buffers: HashMap<Option<ShardId>, ShardBuffer>,
    /// Aggregates emitted, waiting to be finished together (see `aggregation.rs`).
    ready: Vec<Ready>,
    queues: HashMap<Option<ShardId>, ShardQueue>,
    retries: BTreeMap<(Instant, u64), Retry>,
    retry_seq: u64,
    batch: Vec<KRecord>,
    batch_bytes: usize,
    batch_deadline: Option<Instant>,
    /// When the first record of the pending request joined it.
    batch_opened: Option<Instant>,
    /// The last drain stopped at a shard's limiter: records are trickling in as tokens come.
    limited: bool,
    /// Shards with a request in flight.
    busy: HashSet<ShardId>,
    in_flight: usize,
    completions_tx: mpsc::UnboundedSender<Completion>,
    completions_rx: mpsc::UnboundedReceiver<Completion>,
    refresh_tx: mpsc::UnboundedSender<Result<Shards, Error>>,
    refresh_rx: mpsc::UnboundedReceiver<Result<Shards, Error>>,
    refreshing: bool,
    last_refresh: Instant,
    refresh_wanted: bool,
    flush_waiters: Vec<oneshot::Sender<()>>,
}

impl Pipeline {
    pub(crate) fn new(
        config: ProducerConfig,
        client: Arc<dyn Kinesis>,
        metrics: Arc<Metrics>,
        max_record_size: usize,
        aggregate: bool,
        shards: Option<Shards>,
    ) -> Result<Self, Error> {
        let (shard_map, all_ranges) = match shards {
            Some(Shards { open, all }) => (Some(open), all),
            None => (None, HashMap::new()),
        };
        // An aggregate must fit the record limit with its partition key ("a").
        let agg_max = config
            .aggregation_max_size
            .min(max_record_size.saturating_sub(1))
            .max(kstream_kpl::MIN_MAX_SIZE);
        let aggregator_config = AggregatorConfig::builder()
            .max_size(agg_max)
            .max_count(config.aggregation_max_count as u64)
            .build()
            .map_err(|e| {
                Error::Config(crate::error::ConfigError::OutOfRange {
                    name: "aggregation",
                    value: e.to_string(),
                    range: "see kstream_kpl::AggregatorConfig".into(),
                })
            })?;
        let (completions_tx, completions_rx) = mpsc::unbounded_channel();
        let (refresh_tx, refresh_rx) = mpsc::unbounded_channel();
        let predict = shard_map.is_some();
        let aggregate = aggregate && predict && config.aggregation_enabled;
        Ok(Self {
            config,
            client,
            metrics,
            max_record_size,
            aggregate,
            predict,
            shard_map,
            all_ranges,
            generation: 0,
            aggregator_config,
            buffers: HashMap::new(),
            ready: Vec::new(),
            queues: HashMap::new(),
            retries: BTreeMap::new(),
            retry_seq: 0,
            batch: Vec::new(),
            batch_bytes: 0,
            batch_deadline: None,
            batch_opened: None,
            limited: false,
            busy: HashSet::new(),
            in_flight: 0,
            completions_tx,
            completions_rx,
            refresh_tx,
            refresh_rx,
            refreshing: false,
            last_refresh: Instant::now(),
            refresh_wanted: false,
            flush_waiters: Vec::new(),
        })
    }

    /// The effective record size limit.
    pub(crate) fn max_record_size(&self) -> usize {
        self.max_record_size
    }

    /// Runs until the command channel closes and every record has completed.
    pub(crate) async fn run(mut self, mut commands: mpsc::UnboundedReceiver<Command>) {
        let mut closed = false;
        let mut received = Vec::with_capacity(1024);
        loop {
            let now = Instant::now();
            if closed {
                self.flush_now(now);
            }
            self.step(now);
            if closed && self.is_idle() {
                debug!("producer drained, background task ends");
                return;
            }
            let wake = self.next_wakeup(now);
            tokio::select! {
                n = commands.recv_many(&mut received, 1024), if !closed => {
                    if n == 0 {
                        closed = true;
                    }
                    let now = Instant::now();
                    for command in received.drain(..) {
                        match command {
                            Command::Put(pending) => self.route(pending, now),
                            Command::Flush(waiter) => {
                                self.flush_now(now);
                                self.flush_waiters.extend(waiter);
                            }
                        }
                    }
                }
                Some(completion) = self.completions_rx.recv() => {
                    self.complete(completion);
                }
                Some(refresh) = self.refresh_rx.recv() => {
                    self.install_shard_map(refresh);
                }
                () = sleep_until_opt(wake) => {}
            }
        }
    }

    fn is_idle(&self) -> bool {
        self.in_flight == 0
            && self.batch.is_empty()
            && self.ready.is_empty()
            && self.retries.is_empty()
            && self.buffers.values().all(|b| b.members.is_empty())
            && self.queues.values().all(|q| q.queue.is_empty())
    }

    /// The earliest moment something becomes due.
    fn next_wakeup(&mut self, now: Instant) -> Option<Instant> {
        let mut wake: Option<Instant> = None;
        let mut at = |t: Instant| wake = Some(wake.map_or(t, |w| w.min(t)));
        for buffer in self.buffers.values() {
            if let Some(d) = buffer.deadline {
                at(d);
            }
        }
        if let Some(d) = self.batch_due()
            && self.in_flight < self.config.max_connections
        {
            at(d);
        }
        // With every connection busy only a completion (or an expiry) can move a queue, so do
        // not wake for tokens.
        let connections_free = self.in_flight < self.config.max_connections;
        for (shard, queue) in &mut self.queues {
            if let Some(front) = queue.queue.front() {
                if shard.as_ref().is_some_and(|s| self.busy.contains(s)) {
                    continue;
                }
                at(front.expires());
                if connections_free && let Some(limiter) = &mut queue.limiter {
                    at(now + limiter.wait_for(front.size(), now));
                }
            }
        }
        if let Some(((t, _), _)) = self.retries.first_key_value() {
            at(*t);
        }
        if self.predict && !self.refreshing {
            if self.refresh_wanted {
                at(self.last_refresh + MIN_REFRESH_GAP);
            } else if let Some(interval) = self.config.shard_map_refresh_interval {
                at(self.last_refresh + interval);
            }
        }
        wake
    }

    /// Moves everything that is due one stage forward.
    fn step(&mut self, now: Instant) {
        self.maybe_refresh(now);
        // Retries whose backoff is over go back to the front of their queues, in order.
        let mut front = HashMap::new();
        while let Some(entry) = self.retries.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let retry = entry.remove();
            self.resume_retry(retry, now, &mut front);
        }
        // Aggregates whose oldest record is due.
        let due: Vec<Option<ShardId>> = self
            .buffers
            .iter()
            .filter(|(_, b)| b.deadline.is_some_and(|d| d <= now))
            .map(|(k, _)| k.clone())
            .collect();
        for shard in due {
            self.flush_buffer(&shard);
        }
        // Those, and the aggregates emitted since the last step, finished together.
        self.finish_ready();
        self.drain(now);
        if self.batch_due().is_some_and(|d| d <= now) && !self.batch.is_empty() {
            self.dispatch(now);
            self.drain(now);
        }
        // Aggregates emitted while draining (expired members' companions, routed again).
        self.finish_ready();
        if !self.flush_waiters.is_empty() {
            for waiter in self.flush_waiters.drain(..) {
                let _ = waiter.send(());
            }
        }
    }

    fn maybe_refresh(&mut self, now: Instant) {
        if !self.predict || self.refreshing {
            return;
        }
        let due = if self.refresh_wanted {
            now >= self.last_refresh + MIN_REFRESH_GAP
        } else {
            self.config
                .shard_map_refresh_interval
                .is_some_and(|i| now >= self.last_refresh + i)
        };
        if !due {
            return;
        }
        self.refreshing = true;
        self.refresh_wanted = false;
        self.last_refresh = now;
        let client = self.client.clone();
        let stream = self.config.stream_name.clone();
        let tx = self.refresh_tx.clone();
        tokio::spawn(async move {
            let _ = tx.send(shards::list(client.as_ref(), &stream).await);
        });
    }

    fn install_shard_map(&mut self, refresh: Result<Shards, Error>) {
        self.refreshing = false;
        let map = match refresh {
            Ok(Shards { open, all }) => {
                self.all_ranges = all;
                open
            }
            Err(e) => {
                warn!(error = %e, "shard map refresh failed; keeping the previous map");
                return;
            }
        };
        if self.shard_map.as_ref() == Some(&map) {
            return;
        }
        Metrics::add(&self.metrics.shard_map_refreshes, 1);
        debug!(shards = map.len(), "shard map changed");
        self.generation += 1;
        let gone = |shard: &Option<ShardId>| {
            shard
                .as_ref()
                .is_some_and(|s| !map.ranges().iter().any(|r| &r.shard_id == s))
        };
        let stale_buffers: Vec<Option<ShardId>> =
            self.buffers.keys().filter(|k| gone(k)).cloned().collect();
        let stale_queues: Vec<Option<ShardId>> =
            self.queues.keys().filter(|k| gone(k)).cloned().collect();
        self.shard_map = Some(map);
        let now = Instant::now();
        for shard in stale_buffers {
            if let Some(buffer) = self.buffers.remove(&shard) {
                for member in buffer.members {
                    self.route(member, now);
                }
            }
        }
        for shard in stale_queues {
            if let Some(queue) = self.queues.remove(&shard) {
                for record in queue.queue {
                    for member in record.members {
                        self.route(member, now);
                    }
                }
            }
        }
    }
}

async fn sleep_until_opt(wake: Option<Instant>) {
    match wake {
        Some(t) => tokio::time::sleep_until(t).await,
        None => std::future::pending().await,
    }
}
