//! One shard: the reader, its lanes (parallelization factor) and its checkpoint; with a
//! tumbling window, the reader also cuts the records into windows and closes them ([`super::window`]).

use std::collections::BTreeMap;
use std::hash::{Hash as _, Hasher as _};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use aws_sdk_kinesis::types::ShardIteratorType;
use bytes::Bytes;
use tokio::sync::{mpsc, watch};

use super::MappingRunner;
use super::StartingPosition;
use super::batch::{self, Attempt, AttemptResult, BatchDriver, GiveUp};
use super::event::{self, EventContext, FailureContext, SequenceNumber, StreamRecord};
use super::window::{self, Window, WindowCursor, WindowDriver};
use crate::checkpoint::OpenWindow;
use crate::error::{Error, Result};
use crate::mapping::MappingStats;
use crate::runtime::new_request_id;

/// Lambda's synchronous invocation payload limit (6 MB): a batch's event stays within it.
pub(crate) const MAX_EVENT_BYTES: usize = 6 * 1024 * 1024;

/// What a windowed event may add to its records: the state (at most
/// [`window::MAX_STATE_BYTES`]) and the window fields.
const WINDOW_RESERVE_BYTES: usize = window::MAX_STATE_BYTES + 4096;

/// Which records of a shard are done; the checkpoint is the end of the done prefix.
#[derive(Debug, Default)]
struct Tracker {
    pending: BTreeMap<SequenceNumber, bool>,
}

impl Tracker {
    fn add(&mut self, seq: &str) {
        self.pending.insert(SequenceNumber(seq.to_owned()), false);
    }

    /// Marks records done; returns the new checkpoint when it moved.
    fn complete<'a>(&mut self, seqs: impl IntoIterator<Item = &'a str>) -> Option<String> {
        for seq in seqs {
            if let Some(done) = self.pending.get_mut(&SequenceNumber(seq.to_owned())) {
                *done = true;
            }
        }
        let mut checkpoint = None;
        while let Some(entry) = self.pending.first_entry() {
            if !*entry.get() {
                break;
            }
            checkpoint = Some(entry.remove_entry().0.0);
        }
        checkpoint
    }
}

fn lane_of(partition_key: &str, lanes: usize) -> usize {
    if lanes <= 1 {
        return 0;
    }
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    partition_key.hash(&mut hasher);
    usize::try_from(hasher.finish() % lanes as u64).unwrap_or(0)
}

fn now_epoch() -> f64 {
    let now = chrono::Utc::now();
    now.timestamp() as f64 + f64::from(now.timestamp_subsec_millis()) / 1000.0
}

struct Driver {
    runner: MappingRunner,
    ctx: EventContext,
    shutdown: watch::Receiver<bool>,
    queue_url: Option<String>,
    shard_id: String,
    /// The shard's window, for a windowed mapping.
    window: Option<WindowCursor>,
}

impl Driver {
    async fn queue_url(&mut self, arn: &str) -> Result<String> {
        if let Some(url) = &self.queue_url {
            return Ok(url.clone());
        }
        // arn:aws:sqs:<region>:<account>:<name>
        let mut parts = arn.split(':');
        let account = parts.nth(4).unwrap_or_default().to_owned();
        let name = parts.next().unwrap_or_default().to_owned();
        let mut request = self.runner.sqs.get_queue_url().queue_name(name);
        if !account.is_empty() {
            request = request.queue_owner_aws_account_id(account);
        }
        let out = request
            .send()
            .await
            .map_err(|e| Error::aws("SQS.GetQueueUrl", e))?;
        let url = out
            .queue_url()
            .ok_or_else(|| Error::Config(format!("no queue URL for {arn}")))?
            .to_owned();
        self.queue_url = Some(url.clone());
        Ok(url)
    }

    async fn send_failure(&mut self, arn: &str, body: String) -> Result<()> {
        let url = self.queue_url(arn).await?;
        self.runner
            .sqs
            .send_message()
            .queue_url(url)
            .message_body(body)
            .send()
            .await
            .map_err(|e| Error::aws("SQS.SendMessage", e))?;
        Ok(())
    }
}

impl BatchDriver for Driver {
    async fn invoke(&mut self, records: &[StreamRecord]) -> AttemptResult {
        let spec = &self.runner.spec;
        let payload = match &self.window {
            Some(cursor) => cursor.event(records, &self.ctx),
            None => event::kinesis_event(records, &self.ctx),
        }
        .to_string();
        let stats = &self.runner.stats;
        if let Some(last) = records.last() {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0.0, |d| d.as_secs_f64());
            stats.set_iterator_age(last.arrival, now);
        }
        match self.runner.host.invoke(&spec.function_name, payload).await {
            Ok(outcome) => {
                MappingStats::add(&stats.invocations, 1);
                let report = spec.policy.report_batch_item_failures;
                let attempt = match &mut self.window {
                    Some(cursor) => {
                        let (attempt, accepted) = cursor.accept(&outcome.result, records, report);
                        if accepted.terminated_early {
                            MappingStats::add(&stats.windows_terminated_early, 1);
                        }
                        attempt
                    }
                    None => batch::classify(&outcome.result, records, report),
                };
                if attempt != Attempt::Success {
                    MappingStats::add(&stats.failed_invocations, 1);
                    tracing::info!(
                        mapping = %spec.uuid,
                        shard = %records.first().map_or("", |r| r.shard_id.as_str()),
                        request_id = %outcome.request_id,
                        records = records.len(),
                        result = ?attempt,
                        error = ?outcome.error().map(|e| &e.error_type),
                        "batch failed"
                    );
                }
                AttemptResult {
                    request_id: outcome.request_id,
                    attempt,
                }
            }
            Err(e) => {
                tracing::warn!(mapping = %spec.uuid, error = %e, "could not invoke the function; retrying");
                AttemptResult {
                    request_id: String::new(),
                    attempt: Attempt::NotInvoked,
                }
            }
        }
    }

    async fn give_up(&mut self, records: &[StreamRecord], give_up: &GiveUp) -> bool {
        let spec = self.runner.spec.clone();
        let failure = FailureContext {
            condition: give_up.condition,
            invoke_count: give_up.invoke_count,
            request_id: give_up
                .request_id
                .clone()
                .filter(|r| !r.is_empty())
                .unwrap_or_else(new_request_id),
            function_error: give_up.function_error,
        };
        let message = event::on_failure_message(
            records,
            &spec.function_arn,
            &spec.stream_arn,
            &failure,
            now_epoch(),
        );
        tracing::warn!(
            mapping = %spec.uuid,
            condition = failure.condition.as_str(),
            start = %records.first().map(|r| r.sequence_number.as_str()).unwrap_or_default(),
            end = %records.last().map(|r| r.sequence_number.as_str()).unwrap_or_default(),
            records = records.len(),
            "batch given up"
        );
        let given_up =
            || MappingStats::add(&self.runner.stats.records_given_up, records.len() as u64);
        let Some(destination) = spec.on_failure.clone() else {
            given_up();
            return true;
        };
        if !destination.starts_with("arn:aws:sqs:") {
            tracing::error!(%destination, "only SQS on-failure destinations are supported locally; the failure record is dropped");
            given_up();
            return true;
        }
        for attempt in 1..=5u32 {
            match self.send_failure(&destination, message.to_string()).await {
                Ok(()) => {
                    MappingStats::add(&self.runner.stats.failure_messages, 1);
                    MappingStats::add(&self.runner.stats.records_given_up, records.len() as u64);
                    return true;
                }
                Err(e) => {
                    tracing::warn!(%destination, attempt, error = %e, "could not send the on-failure record");
                    tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt))).await;
                }
            }
        }
        // Not checkpointed: the batch stays undone and the send is tried again (batch.rs).
        tracing::error!(%destination, record = %message, "on-failure record not delivered after 5 attempts; the batch stays un-checkpointed and is retried");
        false
    }

    fn stopping(&self) -> bool {
        *self.shutdown.borrow()
    }

    fn now(&self) -> f64 {
        now_epoch()
    }

    async fn backoff(&mut self, retry: u32) {
        let ms = (50u64 << retry.min(6)).min(2000);
        let mut shutdown = self.shutdown.clone();
        tokio::select! {
            () = tokio::time::sleep(Duration::from_millis(ms)) => {}
            _ = shutdown.wait_for(|s| *s) => {}
        }
    }
}

impl WindowDriver for Driver {
    fn cursor(&mut self) -> &mut WindowCursor {
        let (shard, arn) = (self.shard_id.clone(), self.ctx.stream_arn.clone());
        self.window
            .get_or_insert_with(|| WindowCursor::new(shard, arn))
    }
}

/// What the reader hands a lane.
#[derive(Debug)]
enum Work {
    /// A batch; with a tumbling window, all of it in `window`.
    Batch {
        window: Option<Window>,
        records: Vec<StreamRecord>,
    },
    /// The window is over: the final invoke, with the window's last records.
    Close {
        window: Window,
        records: Vec<StreamRecord>,
    },
}

fn checkpoint<'a>(
    runner: &MappingRunner,
    shard_id: &str,
    tracker: &Mutex<Tracker>,
    done: impl IntoIterator<Item = &'a str>,
) {
    let checkpoint = tracker
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .complete(done);
    if let Some(seq) = checkpoint
        && let Err(e) = runner.checkpoints.set(shard_id, &seq)
    {
        tracing::error!(error = %e, "could not save the checkpoint");
    }
}

/// Checkpoints the done records of a window together with the window (`None` once closed).
fn checkpoint_window<'a>(
    runner: &MappingRunner,
    shard_id: &str,
    tracker: &Mutex<Tracker>,
    done: impl IntoIterator<Item = &'a str>,
    open: Option<OpenWindow>,
) {
    let checkpoint = tracker
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .complete(done);
    if let Err(e) = runner
        .checkpoints
        .set_window(shard_id, checkpoint.as_deref(), open)
    {
        tracing::error!(error = %e, "could not save the checkpoint and the window");
    }
}

/// The window a shard resumes in: the one persisted with its checkpoint, when the mapping still
/// has windows of that length.
fn resumed_window(runner: &MappingRunner, shard_id: &str) -> Option<OpenWindow> {
    let open = runner.checkpoints.window(shard_id)?;
    let length = runner.spec.tumbling_window.map(i64::from);
    if length == Some(open.end - open.start) {
        return Some(open);
    }
    tracing::warn!(mapping = %runner.spec.uuid, shard = %shard_id, start = open.start, end = open.end, tumbling_window = ?runner.spec.tumbling_window, "the persisted window does not match the mapping's tumbling window; it is dropped");
    if let Err(e) = runner.checkpoints.set_window(shard_id, None, None) {
        tracing::error!(error = %e, "could not save the checkpoint");
    }
    None
}

async fn lane(
    runner: MappingRunner,
    shard_id: String,
    mut rx: mpsc::Receiver<Work>,
    tracker: Arc<Mutex<Tracker>>,
    shutdown: watch::Receiver<bool>,
    resume: Option<OpenWindow>,
) {
    let ctx = EventContext {
        stream_arn: runner.spec.stream_arn.clone(),
        region: runner.spec.region.clone(),
        role_arn: runner.role_arn.clone(),
    };
    let window = runner.spec.tumbling_window.map(|_| {
        let mut cursor = WindowCursor::new(shard_id.clone(), ctx.stream_arn.clone());
        if let Some(open) = resume {
            let w = Window {
                start: open.start,
                end: open.end,
            };
            cursor.resume(w, open.state, open.terminated_early);
        }
        cursor
    });
    let mut driver = Driver {
        runner: runner.clone(),
        ctx,
        shutdown,
        queue_url: None,
        shard_id: shard_id.clone(),
        window,
    };
    let policy = &runner.spec.policy;
    // Records done in the open window (since this start), for the log.
    let mut in_window = 0usize;
    while let Some(work) = rx.recv().await {
        match work {
            Work::Batch {
                window: None,
                records,
            } => {
                let report = batch::process(&records, policy, &mut driver).await;
                let done = &records[..report.done];
                MappingStats::add(&runner.stats.records_done, done.len() as u64);
                checkpoint(
                    &runner,
                    &shard_id,
                    &tracker,
                    done.iter().map(|r| r.sequence_number.as_str()),
                );
                if report.done < records.len() {
                    // Stopping: the rest is read again on the next start.
                    break;
                }
            }
            Work::Batch {
                window: Some(w),
                records,
            } => {
                driver.cursor().open(w);
                let report = batch::process(&records, policy, &mut driver).await;
                let done = &records[..report.done];
                MappingStats::add(&runner.stats.records_done, done.len() as u64);
                in_window += done.len();
                // As Lambda: the done records are checkpointed with the window and its state.
                let open = driver.cursor().persisted();
                checkpoint_window(
                    &runner,
                    &shard_id,
                    &tracker,
                    done.iter().map(|r| r.sequence_number.as_str()),
                    open,
                );
                if report.done < records.len() {
                    // Stopping: the next start resumes after the done records, with the state.
                    break;
                }
            }
            Work::Close { window: w, records } => {
                driver.cursor().open(w);
                let report = window::close(&records, policy, &mut driver).await;
                let done = &records[..report.done];
                MappingStats::add(&runner.stats.records_done, done.len() as u64);
                in_window += done.len();
                // Closed: the entry goes. Stopping before: the window stays, with its state.
                let open = driver.cursor().persisted();
                checkpoint_window(
                    &runner,
                    &shard_id,
                    &tracker,
                    done.iter().map(|r| r.sequence_number.as_str()),
                    open,
                );
                if !report.closed {
                    break;
                }
                MappingStats::add(&runner.stats.windows_closed, 1);
                tracing::debug!(mapping = %runner.spec.uuid, shard = %shard_id, start = w.start, end = w.end, records = in_window, "window closed");
                in_window = 0;
            }
        }
    }
}

fn convert(shard_id: &str, record: &aws_sdk_kinesis::types::Record) -> StreamRecord {
    let arrival = record
        .approximate_arrival_timestamp()
        .map(|t| t.secs() as f64 + f64::from(t.subsec_nanos() / 1_000_000) / 1000.0)
        .unwrap_or_else(now_epoch);
    StreamRecord {
        shard_id: shard_id.to_owned(),
        sequence_number: record.sequence_number().to_owned(),
        partition_key: record.partition_key().unwrap_or_default().to_owned(),
        data: Bytes::copy_from_slice(record.data().as_ref()),
        arrival,
    }
}

async fn iterator(
    runner: &MappingRunner,
    shard_id: &str,
    after: Option<&str>,
) -> Result<Option<String>> {
    let mut request = runner
        .kinesis
        .get_shard_iterator()
        .stream_name(&runner.spec.stream_name)
        .shard_id(shard_id);
    request = match (after, &runner.spec.starting_position) {
        (Some(seq), _) => request
            .shard_iterator_type(ShardIteratorType::AfterSequenceNumber)
            .starting_sequence_number(seq),
        (None, StartingPosition::TrimHorizon) => {
            request.shard_iterator_type(ShardIteratorType::TrimHorizon)
        }
        (None, StartingPosition::Latest(None)) => {
            request.shard_iterator_type(ShardIteratorType::Latest)
        }
        (None, StartingPosition::Latest(Some(t)) | StartingPosition::AtTimestamp(t)) => request
            .shard_iterator_type(ShardIteratorType::AtTimestamp)
            .timestamp(aws_smithy_types::DateTime::from_secs_f64(*t)),
    };
    let out = request
        .send()
        .await
        .map_err(|e| Error::aws("Kinesis.GetShardIterator", e))?;
    Ok(out.shard_iterator().map(str::to_owned))
}

struct LaneBuffer {
    records: Vec<StreamRecord>,
    bytes: usize,
    since: Option<Instant>,
    /// What the events share (for their size).
    ctx: EventContext,
}

impl LaneBuffer {
    fn take(&mut self, n: usize) -> Vec<StreamRecord> {
        let n = n.min(self.records.len());
        let batch: Vec<StreamRecord> = self.records.drain(..n).collect();
        self.bytes = self.records.iter().map(|r| r.data.len()).sum();
        self.since = if self.records.is_empty() {
            None
        } else {
            Some(Instant::now())
        };
        batch
    }

    /// Records that fit one batch: at most `batch_size`, and an event of at most `max_bytes`
    /// (always at least one record: a single record is never over the limit, since Kinesis
    /// caps a record at 1 MiB).
    fn batch_len(&self, batch_size: usize, max_bytes: usize) -> usize {
        let mut bytes = event::EVENT_ENVELOPE_BYTES;
        let mut n = 0;
        for r in self.records.iter().take(batch_size) {
            let size = event::record_event_bytes(r, &self.ctx) + usize::from(n > 0);
            if n > 0 && bytes + size > max_bytes {
                break;
            }
            bytes += size;
            n += 1;
        }
        n
    }
}

/// What the reader knows about time after a `GetRecords` call.
#[derive(Debug, Clone, Copy)]
struct Clock {
    /// When the call was made (epoch seconds).
    polled_at: f64,
    /// It returned everything there was (fewer records than the limit).
    caught_up: bool,
    /// The shard has ended.
    closed: bool,
}

impl Clock {
    /// No record of `window` can still come: a call made after its end returned all there was,
    /// or the shard ended ("when the shard ends, Lambda considers the window closed").
    fn past(&self, window: Window) -> bool {
        self.closed || (self.caught_up && self.polled_at >= window.end as f64)
    }
}

/// Sends a windowed shard's batches (never across a window's end) and closes the open window
/// when it is over: because records of a later window wait behind it, or by the clock.
async fn flush_windowed(
    buffer: &mut LaneBuffer,
    tx: &mpsc::Sender<Work>,
    open: &mut Option<Window>,
    length: u32,
    (batch_size, batching_window): (usize, Duration),
    clock: Clock,
) {
    loop {
        let Some(head) = buffer.records.first() else {
            if let Some(w) = *open
                && clock.past(w)
            {
                *open = None;
                let work = Work::Close {
                    window: w,
                    records: Vec::new(),
                };
                let _ = tx.send(work).await;
            }
            return;
        };
        let w = *open.get_or_insert_with(|| Window::of(head.arrival, length));
        let in_window = buffer
            .records
            .iter()
            .take_while(|r| w.holds(r.arrival))
            .count();
        let n = buffer
            .batch_len(batch_size, MAX_EVENT_BYTES - WINDOW_RESERVE_BYTES)
            .min(in_window);
        let work = if in_window < buffer.records.len() || clock.past(w) {
            if n == in_window {
                // The window's last records go with its final invoke.
                *open = None;
                Work::Close {
                    window: w,
                    records: buffer.take(n),
                }
            } else {
                Work::Batch {
                    window: Some(w),
                    records: buffer.take(n),
                }
            }
        } else {
            let full = n < in_window || n >= batch_size;
            let waited = buffer
                .since
                .is_none_or(|since| since.elapsed() >= batching_window);
            if n == 0 || !(full || waited) {
                return;
            }
            Work::Batch {
                window: Some(w),
                records: buffer.take(n),
            }
        };
        if tx.send(work).await.is_err() {
            // The lane stopped (shutdown); the records not done are read again next time, in
            // the window persisted with the checkpoint.
            return;
        }
    }
}

/// Reads one shard until shutdown (or until the shard is closed and drained).
pub(super) async fn run_shard(
    runner: MappingRunner,
    shard_id: String,
    mut shutdown: watch::Receiver<bool>,
) -> Result<()> {
    let spec = runner.spec.clone();
    let lanes_n = spec.lanes();
    let tracker = Arc::new(Mutex::new(Tracker::default()));
    let resume = if spec.tumbling_window.is_some() {
        resumed_window(&runner, &shard_id)
    } else {
        None
    };
    // With a tumbling window: the window the reader is filling (the persisted one on a restart).
    let mut open: Option<Window> = resume.as_ref().map(|o| Window {
        start: o.start,
        end: o.end,
    });
    let mut senders = Vec::with_capacity(lanes_n);
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..lanes_n {
        let (tx, rx) = mpsc::channel(1);
        senders.push(tx);
        workers.spawn(lane(
            runner.clone(),
            shard_id.clone(),
            rx,
            tracker.clone(),
            shutdown.clone(),
            resume.clone(),
        ));
    }
    let ctx = EventContext {
        stream_arn: spec.stream_arn.clone(),
        region: spec.region.clone(),
        role_arn: runner.role_arn.clone(),
    };
    let mut buffers: Vec<LaneBuffer> = (0..lanes_n)
        .map(|_| LaneBuffer {
            records: Vec::new(),
            bytes: 0,
            since: None,
            ctx: ctx.clone(),
        })
        .collect();

    let checkpoint = runner.checkpoints.get(&shard_id);
    let mut last_read = checkpoint.clone();
    let mut shard_iterator = iterator(&runner, &shard_id, checkpoint.as_deref()).await?;
    tracing::debug!(mapping = %spec.uuid, shard = %shard_id, checkpoint = ?checkpoint, window = ?open, "shard poller started");

    while let Some(current) = shard_iterator.clone() {
        if *shutdown.borrow() {
            break;
        }
        let polled_at = now_epoch();
        let out = match runner
            .kinesis
            .get_records()
            .shard_iterator(&current)
            .limit(runner.options.get_records_limit)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) => {
                let expired = e
                    .as_service_error()
                    .is_some_and(|s| s.is_expired_iterator_exception());
                let e = Error::aws("Kinesis.GetRecords", e);
                tracing::warn!(mapping = %spec.uuid, shard = %shard_id, error = %e, "GetRecords failed; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                if expired {
                    shard_iterator = iterator(&runner, &shard_id, last_read.as_deref()).await?;
                }
                continue;
            }
        };
        let got = out.records().len();
        let mut filtered = Vec::new();
        {
            let mut tracker = tracker.lock().unwrap_or_else(PoisonError::into_inner);
            for raw in out.records() {
                let record = convert(&shard_id, raw);
                MappingStats::add(&runner.stats.records_polled, 1);
                tracker.add(&record.sequence_number);
                last_read = Some(record.sequence_number.clone());
                if !spec.filters.matches(&event::filter_view(&record)) {
                    MappingStats::add(&runner.stats.records_filtered, 1);
                    filtered.push(record.sequence_number);
                    continue;
                }
                let buffer = &mut buffers[lane_of(&record.partition_key, lanes_n)];
                buffer.bytes += record.data.len();
                buffer.since.get_or_insert_with(Instant::now);
                buffer.records.push(record);
            }
            if let Some(seq) = tracker.complete(filtered.iter().map(String::as_str)) {
                runner.checkpoints.set(&shard_id, &seq)?;
            }
        }
        shard_iterator = out.next_shard_iterator().map(str::to_owned);
        let closed = shard_iterator.is_none();

        for (i, buffer) in buffers.iter_mut().enumerate() {
            if let Some(length) = spec.tumbling_window {
                let clock = Clock {
                    polled_at,
                    caught_up: got < usize::try_from(runner.options.get_records_limit).unwrap_or(0),
                    closed,
                };
                let batching = (spec.batch_size, spec.batching_window);
                flush_windowed(buffer, &senders[i], &mut open, length, batching, clock).await;
                continue;
            }
            loop {
                let n = buffer.batch_len(spec.batch_size, MAX_EVENT_BYTES);
                if n == 0 {
                    break;
                }
                let full = n < buffer.records.len() || n >= spec.batch_size;
                let window_over = buffer
                    .since
                    .is_none_or(|since| since.elapsed() >= spec.batching_window);
                if !(full || window_over || closed) {
                    break;
                }
                let work = Work::Batch {
                    window: None,
                    records: buffer.take(n),
                };
                if senders[i].send(work).await.is_err() {
                    // The lane stopped (shutdown); its records are read again next time.
                    break;
                }
            }
        }
        if got == 0 && !closed {
            tokio::select! {
                () = tokio::time::sleep(runner.options.poll_interval) => {}
                _ = shutdown.wait_for(|s| *s) => {}
            }
        }
    }
    drop(senders);
    while workers.join_next().await.is_some() {}
    tracing::debug!(mapping = %spec.uuid, shard = %shard_id, checkpoint = ?runner.checkpoints.get(&shard_id), "shard poller stopped");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_checkpoint_moves_only_past_a_done_prefix() {
        let mut t = Tracker::default();
        for s in ["1", "2", "3", "10"] {
            t.add(s);
        }
        assert_eq!(t.complete(["2", "3"]), None, "1 is not done");
        assert_eq!(t.complete(["1"]), Some("3".to_owned()));
        assert_eq!(t.complete(["10"]), Some("10".to_owned()));
        assert_eq!(t.complete(["10"]), None);
    }

    fn buffer(arrivals: &[f64]) -> LaneBuffer {
        let records = arrivals
            .iter()
            .enumerate()
            .map(|(i, &arrival)| StreamRecord {
                shard_id: "shardId-000000000000".into(),
                sequence_number: (i + 1).to_string(),
                partition_key: "pk".into(),
                data: Bytes::from_static(b"{}"),
                arrival,
            })
            .collect();
        LaneBuffer {
            records,
            bytes: 0,
            since: Some(Instant::now()),
            ctx: EventContext {
                stream_arn: "arn:aws:kinesis:us-east-1:123456789012:stream/s".into(),
                region: "us-east-1".into(),
                role_arn: String::new(),
            },
        }
    }

    /// What the reader sent: (window start, sequence numbers, closing).
    fn drain(rx: &mut mpsc::Receiver<Work>) -> Vec<(i64, Vec<String>, bool)> {
        let mut sent = Vec::new();
        while let Ok(work) = rx.try_recv() {
            let seqs = |r: &[StreamRecord]| r.iter().map(|r| r.sequence_number.clone()).collect();
            sent.push(match work {
                Work::Batch { window, records } => (window.unwrap().start, seqs(&records), false),
                Work::Close { window, records } => (window.start, seqs(&records), true),
            });
        }
        sent
    }

    fn clock(polled_at: f64) -> Clock {
        Clock {
            polled_at,
            caught_up: true,
            closed: false,
        }
    }

    fn v(seqs: &[&str]) -> Vec<String> {
        seqs.iter().map(|s| (*s).to_owned()).collect()
    }

    #[tokio::test]
    async fn batches_never_span_a_window_and_later_records_close_it() {
        let (tx, mut rx) = mpsc::channel(16);
        let mut open = None;
        // 60 s windows: 100..120 arrive in [60, 120), 125 and 130 in [120, 180).
        let mut buf = buffer(&[100.0, 101.0, 102.0, 119.9, 125.0, 130.0]);
        let batching = (3, Duration::ZERO);
        flush_windowed(&mut buf, &tx, &mut open, 60, batching, clock(131.0)).await;
        assert_eq!(
            drain(&mut rx),
            [
                (60, v(&["1", "2", "3"]), false),
                (60, v(&["4"]), true),
                (120, v(&["5", "6"]), false),
            ],
            "the last record of the window goes with its final invoke"
        );
        assert_eq!(
            open,
            Some(Window {
                start: 120,
                end: 180
            })
        );
        assert!(buf.records.is_empty());
    }

    #[tokio::test]
    async fn the_clock_closes_a_window_once_a_poll_after_its_end_found_nothing_more() {
        let (tx, mut rx) = mpsc::channel(16);
        let mut open = None;
        let batching = (10, Duration::ZERO);
        flush_windowed(
            &mut buffer(&[61.0]),
            &tx,
            &mut open,
            60,
            batching,
            clock(62.0),
        )
        .await;
        assert_eq!(drain(&mut rx), [(60, v(&["1"]), false)]);
        let mut empty = buffer(&[]);
        flush_windowed(&mut empty, &tx, &mut open, 60, batching, clock(119.0)).await;
        assert!(drain(&mut rx).is_empty(), "the window is not over");
        let behind = Clock {
            caught_up: false,
            ..clock(121.0)
        };
        flush_windowed(&mut empty, &tx, &mut open, 60, batching, behind).await;
        assert!(
            drain(&mut rx).is_empty(),
            "records of the window may still come"
        );
        flush_windowed(&mut empty, &tx, &mut open, 60, batching, clock(120.0)).await;
        assert_eq!(
            drain(&mut rx),
            [(60, vec![], true)],
            "an empty final invoke"
        );
        assert_eq!(open, None);
    }

    #[tokio::test]
    async fn records_held_by_the_batching_window_go_with_the_final_invoke() {
        let (tx, mut rx) = mpsc::channel(16);
        let mut open = None;
        let batching = (10, Duration::from_secs(300));
        let mut buf = buffer(&[61.0, 62.0]);
        flush_windowed(&mut buf, &tx, &mut open, 60, batching, clock(63.0)).await;
        assert!(drain(&mut rx).is_empty(), "held by the batching window");
        flush_windowed(&mut buf, &tx, &mut open, 60, batching, clock(120.5)).await;
        assert_eq!(drain(&mut rx), [(60, v(&["1", "2"]), true)]);
        let shard_end = Clock {
            closed: true,
            ..clock(70.0)
        };
        let mut buf = buffer(&[200.0]);
        flush_windowed(&mut buf, &tx, &mut open, 60, batching, shard_end).await;
        assert_eq!(
            drain(&mut rx),
            [(180, v(&["1"]), true)],
            "the shard ended: its window closes"
        );
    }

    #[test]
    fn a_batch_fills_up_to_the_payload_limit_and_no_further() {
        let mut buf = buffer(&[1.0; 10]);
        for r in &mut buf.records {
            r.data = Bytes::from(vec![b'x'; 1_000_000]);
        }
        let n = buf.batch_len(100, MAX_EVENT_BYTES);
        assert_eq!(
            n, 4,
            "4 records of 1 MB are 5.3 MB as base64, 5 would pass 6 MB"
        );
        let event = event::kinesis_event(&buf.records[..n], &buf.ctx).to_string();
        assert!(event.len() <= MAX_EVENT_BYTES);
        let over = event::kinesis_event(&buf.records[..=n], &buf.ctx).to_string();
        assert!(over.len() > MAX_EVENT_BYTES);
        assert_eq!(buf.batch_len(3, MAX_EVENT_BYTES), 3, "BatchSize first");
        assert_eq!(
            buf.batch_len(100, MAX_EVENT_BYTES - WINDOW_RESERVE_BYTES),
            3,
            "a windowed batch leaves room for the state"
        );
    }

    #[test]
    fn lanes_are_stable_per_partition_key() {
        for pk in ["a", "b", "device-17"] {
            assert_eq!(lane_of(pk, 4), lane_of(pk, 4));
            assert!(lane_of(pk, 4) < 4);
            assert_eq!(lane_of(pk, 1), 0);
        }
        let used: std::collections::BTreeSet<usize> =
            (0..100).map(|i| lane_of(&format!("pk-{i}"), 4)).collect();
        assert_eq!(used.len(), 4, "keys spread over every lane");
    }
}
