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
//!    emitted when full or when its oldest record has waited `record_max_buffered_time`.
//! 2. **Limiter** ([`ShardQueue`]): a FIFO of Kinesis records per shard behind two token buckets.
//!    A shard with a request in flight waits for it, so the records of one shard (and of one
//!    partition key) reach Kinesis in order unless a retry intervenes.
//! 3. **Collection**: Kinesis records join the next PutRecords request, which is sent when full
//!    (`collection_max_count`, `collection_max_size`) or when its oldest record is due.
//! 4. **Completion**: per entry, success completes the user records; an error schedules a retry
//!    of that entry only (backoff with jitter), until the records' time to live runs out.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_kinesis::Client;
use aws_sdk_kinesis::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_kinesis::operation::put_records::{PutRecordsError, PutRecordsOutput};
use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::PutRecordsRequestEntry;
use aws_smithy_types::retry::RetryConfig;
use bytes::Bytes;
use kstream_kpl::{AggregatedRecord, Aggregator, AggregatorConfig, ShardId, ShardMap, UserRecord};
use rand::Rng;
use tokio::sync::{OwnedSemaphorePermit, mpsc, oneshot};
use tokio::time::Instant;
use tracing::{debug, trace, warn};

use crate::attempt::Attempt;
use crate::config::ProducerConfig;
use crate::error::{Error, RecordFailure};
use crate::limiter::ShardLimiter;
use crate::metrics::Metrics;
use crate::result::PutOutcome;
use crate::shards::{self, Shards};

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

/// One user record on its way, with everything needed to complete it.
#[derive(Debug)]
pub(crate) struct Pending {
    pub(crate) record: UserRecord,
    pub(crate) tx: oneshot::Sender<Result<PutOutcome, RecordFailure>>,
    pub(crate) _permit: OwnedSemaphorePermit,
    pub(crate) arrival: Instant,
    /// Arrival + time to live.
    pub(crate) deadline: Instant,
    /// When the record should be sent at the latest (arrival + buffered time, reset on retry).
    pub(crate) send_by: Instant,
    /// Start of the wait before the next attempt.
    pub(crate) wait_start: Instant,
    pub(crate) attempts: Vec<Attempt>,
}

impl Pending {
    pub(crate) fn new(
        record: UserRecord,
        tx: oneshot::Sender<Result<PutOutcome, RecordFailure>>,
        permit: OwnedSemaphorePermit,
        config: &ProducerConfig,
    ) -> Self {
        let now = Instant::now();
        Self {
            record,
            tx,
            _permit: permit,
            arrival: now,
            deadline: now + config.record_ttl,
            send_by: now + config.record_max_buffered_time,
            wait_start: now,
            attempts: Vec::new(),
        }
    }
}

/// A Kinesis record (an aggregate or a raw user record) and the user records it carries.
#[derive(Debug)]
struct KRecord {
    partition_key: String,
    explicit_hash_key: Option<String>,
    data: Bytes,
    members: Vec<Pending>,
    /// The predicted shard (`None` when no shard map applies).
    shard: Option<ShardId>,
    /// The shard map generation the prediction came from.
    generation: u64,
    send_by: Instant,
}

impl KRecord {
    fn from_aggregate(
        agg: AggregatedRecord,
        members: Vec<Pending>,
        shard: Option<ShardId>,
        generation: u64,
    ) -> Self {
        let send_by = members
            .iter()
            .map(|m| m.send_by)
            .min()
            .unwrap_or_else(Instant::now);
        Self {
            partition_key: agg.partition_key,
            explicit_hash_key: agg.explicit_hash_key,
            data: agg.data,
            members,
            shard,
            generation,
            send_by,
        }
    }

    fn raw(member: Pending, shard: Option<ShardId>, generation: u64) -> Self {
        Self {
            partition_key: member.record.partition_key.clone(),
            explicit_hash_key: member.record.explicit_hash_key.clone(),
            data: member.record.data.clone(),
            send_by: member.send_by,
            members: vec![member],
            shard,
            generation,
        }
    }

    /// Bytes Kinesis counts: data plus partition key.
    fn size(&self) -> usize {
        self.data.len() + self.partition_key.len()
    }

    fn expires(&self) -> Instant {
        self.members
            .iter()
            .map(|m| m.deadline)
            .min()
            .unwrap_or_else(Instant::now)
    }

    fn aggregated(&self) -> bool {
        self.members.len() > 1
    }
}

/// The aggregation stage of one predicted shard.
#[derive(Debug)]
struct ShardBuffer {
    aggregator: Aggregator,
    members: VecDeque<Pending>,
    /// The earliest `send_by` of the members.
    deadline: Option<Instant>,
}

/// The limiter stage of one shard.
#[derive(Debug)]
struct ShardQueue {
    limiter: Option<ShardLimiter>,
    queue: VecDeque<KRecord>,
}

/// A retry waiting for its backoff.
#[derive(Debug)]
struct Retry {
    record: KRecord,
    not_before: Instant,
    /// Break the record up and route its user records again (shard map changed, wrong shard).
    reroute: bool,
}

/// What a request task reports.
#[derive(Debug)]
struct Completion {
    batch: Vec<KRecord>,
    started: Instant,
    ended: Instant,
    result: Result<PutRecordsOutput, (String, String)>,
}

/// The state of the background task.
pub(crate) struct Pipeline {
    config: ProducerConfig,
    client: Client,
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
        client: Client,
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
        self.drain(now);
        if self.batch_due().is_some_and(|d| d <= now) && !self.batch.is_empty() {
            self.dispatch(now);
            self.drain(now);
        }
        if !self.flush_waiters.is_empty() {
            for waiter in self.flush_waiters.drain(..) {
                let _ = waiter.send(());
            }
        }
    }

    /// When the pending request is due: when its oldest record is due, except that while a
    /// limiter holds records back (they arrive one token at a time) the request gathers them for
    /// up to `record_max_buffered_time` rather than going out with one or two entries.
    fn batch_due(&self) -> Option<Instant> {
        let deadline = self.batch_deadline?;
        match (self.limited, self.batch_opened) {
            (true, Some(opened)) => {
                Some(deadline.max(opened + self.config.record_max_buffered_time))
            }
            _ => Some(deadline),
        }
    }

    /// Makes everything buffered due now (flush on demand and on shutdown).
    fn flush_now(&mut self, now: Instant) {
        let shards: Vec<Option<ShardId>> = self.buffers.keys().cloned().collect();
        for shard in shards {
            self.flush_buffer(&shard);
        }
        for queue in self.queues.values_mut() {
            for record in &mut queue.queue {
                record.send_by = record.send_by.min(now);
            }
        }
        if !self.batch.is_empty() {
            self.batch_deadline = Some(now);
        }
    }

    /// Sends a new or re-routed user record to the aggregation stage of its predicted shard.
    fn route(&mut self, pending: Pending, _now: Instant) {
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
    fn flush_buffer(&mut self, shard: &Option<ShardId>) {
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

    /// Appends a record to its shard's queue, or inserts it after the records already put back
    /// at the front in this step.
    fn enqueue(
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
    fn drain(&mut self, now: Instant) {
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
    fn dispatch(&mut self, now: Instant) {
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
            let entry = PutRecordsRequestEntry::builder()
                .data(Blob::new(record.data.to_vec()))
                .partition_key(record.partition_key.clone())
                .set_explicit_hash_key(record.explicit_hash_key.clone())
                .build()
                .expect("data and partition key are set");
            entries.push(entry);
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
            let send = client
                .put_records()
                .stream_name(stream)
                .set_records(Some(entries))
                .customize()
                // The producer retries per entry; SDK retries would resend whole requests.
                .config_override(
                    aws_sdk_kinesis::config::Builder::default()
                        .retry_config(RetryConfig::disabled()),
                )
                .send();
            let result = match tokio::time::timeout(timeout, send).await {
                Ok(Ok(output)) => Ok(output),
                Ok(Err(err)) => Err(classify(&err)),
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

    /// Handles a request's result.
    fn complete(&mut self, completion: Completion) {
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
            Ok(output) if output.records().len() == batch.len() => output,
            Ok(output) => {
                let message = format!(
                    "PutRecords answered {} entries for {} sent",
                    output.records().len(),
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
        for (record, entry) in batch.into_iter().zip(output.records()) {
            if let Some(code) = entry.error_code() {
                let message = entry.error_message().unwrap_or_default();
                self.entry_error(&record, code);
                self.failed(record, started, ended, jitter, code, message);
                continue;
            }
            let shard_id = entry.shard_id().unwrap_or_default();
            let sequence_number = entry.sequence_number().unwrap_or_default();
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
    fn resume_retry(
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
    fn expire_some(&mut self, mut record: KRecord, now: Instant) {
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
    fn fail(&mut self, member: Pending, shard: Option<&ShardId>, failure: RecordFailure) {
        let retries = member.attempts.len().saturating_sub(1) as u64;
        self.metrics.record(shard.map(ShardId::as_str), |m| {
            m.user_records_failed += 1;
            m.retries += retries;
        });
        debug!(partition_key = %member.record.partition_key, %failure, "user record failed");
        let _ = member.tx.send(Err(failure));
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
            let _ = tx.send(shards::list(&client, &stream).await);
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

/// Error code and message of a failed request.
fn classify(err: &SdkError<PutRecordsError>) -> (String, String) {
    let message = crate::sdk_error_message(err);
    match err {
        SdkError::ServiceError(service) => {
            let status = service.raw().status().as_u16();
            let code = service
                .err()
                .code()
                .map(str::to_owned)
                .unwrap_or_else(|| format!("Http{status}"));
            (code, format!("HTTP {status}: {message}"))
        }
        SdkError::TimeoutError(_) => ("Timeout".to_owned(), message),
        SdkError::DispatchFailure(_) => ("DispatchFailure".to_owned(), message),
        SdkError::ResponseError(_) => ("ResponseError".to_owned(), message),
        _ => ("RequestFailed".to_owned(), message),
    }
}

async fn sleep_until_opt(wake: Option<Instant>) {
    match wake {
        Some(t) => tokio::time::sleep_until(t).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    //! The stages with paused time, without a network: the client points nowhere and requests
    //! are only dispatched, never awaited.

    use std::sync::Arc;

    use tokio::sync::Semaphore;

    use super::*;
    use crate::metrics::RecordMetrics;

    fn client() -> Client {
        let config = aws_sdk_kinesis::Config::builder()
            .behavior_version(aws_sdk_kinesis::config::BehaviorVersion::latest())
            .region(aws_sdk_kinesis::config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_kinesis::config::Credentials::new(
                "test", "test", None, None, "test",
            ))
            .endpoint_url("http://127.0.0.1:9")
            .build();
        Client::from_conf(config)
    }

    fn two_shards() -> ShardMap {
        let half = u128::MAX / 2;
        ShardMap::from_decimal([
            ("shardId-000000000000", "0".to_owned(), half.to_string()),
            (
                "shardId-000000000001",
                (half + 1).to_string(),
                u128::MAX.to_string(),
            ),
        ])
        .unwrap()
    }

    /// A pipeline of `config` that predicts shards with `map`, and its counters.
    fn pipeline(config: &ProducerConfig, map: ShardMap) -> (Pipeline, Arc<Metrics>) {
        let metrics = Arc::new(Metrics::default());
        let pipeline = Pipeline::new(
            config.clone(),
            client(),
            metrics.clone(),
            1024 * 1024,
            true,
            Some(Shards::from_open(map)),
        )
        .unwrap();
        (pipeline, metrics)
    }

    fn pending(config: &ProducerConfig, key: &str, data: &str) -> Pending {
        let permits = Arc::new(Semaphore::new(1));
        let (tx, _rx) = oneshot::channel();
        Pending::new(
            UserRecord::new(key, data.to_owned()),
            tx,
            permits.try_acquire_owned().unwrap(),
            config,
        )
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

        let entry = |error: Option<&str>| {
            let b = aws_sdk_kinesis::types::PutRecordsResultEntry::builder();
            match error {
                Some(code) => b.error_code(code).error_message("slow down"),
                None => b.sequence_number("1").shard_id("shardId-000000000000"),
            }
            .build()
        };
        let answer = |entries: Vec<_>| {
            PutRecordsOutput::builder()
                .set_records(Some(entries))
                .build()
                .unwrap()
        };
        complete(batch(3), Ok(answer(vec![entry(None)])));
        assert_eq!(errors()["ResponseMismatch"], 1, "{:?}", errors());

        let throttled = entry(Some(THROTTLED));
        complete(
            batch(4),
            Ok(answer(vec![
                throttled.clone(),
                entry(None),
                throttled,
                entry(None),
            ])),
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
