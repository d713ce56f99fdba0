//! `kstream replay --watermarks`: watermark events as the reference replay 0.1.0 sends them.
//!
//! A watermark event is `{"watermark":"2018-01-01T00:10:00.000Z","type":"watermark"}` (an
//! ISO-8601 instant with 3 fraction digits; `\n` appended like every payload), sent with
//! PutRecord (not through the producer) to every open shard of the stream: ExplicitHashKey = the
//! shard's StartingHashKey, PartitionKey `23`. Rounds go out every `--watermark-interval` (1 s) or
//! after `--watermark-every-events` events (20,000) put since the last round, whichever comes
//! first; the open shards are listed again every 10 s. A throttled PutRecord skips that shard's
//! watermark until the next round (as the reference does); any other error is reported and
//! counted, and the replay then exits non-zero.
//!
//! The value for a shard is the reference's (TimestampTracker): the timestamp of the last event
//! acknowledged on that shard that is not newer than the oldest event still in flight, EPOCH
//! until there is one. [`InFlight`] tracks it from the producer's per-record results, which name
//! the shard. The reference applies the rule once, when an event is acknowledged, so an event
//! acknowledged while an older one (on another shard) was still in flight never counts, and the
//! last event in flight never counts either; here the rule is applied when the watermark is
//! sent, over every event acknowledged since the last one, so the value is never older than the
//! reference's and still never newer than an event in flight. A shard's value never goes
//! backwards. After the last event is acknowledged, one final round is sent (the reference stops
//! without one): with nothing in flight, each shard's last watermark is its newest event.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use aws_sdk_kinesis::Client;
use aws_sdk_kinesis::error::ProvideErrorMetadata;
use aws_sdk_kinesis::primitives::Blob;
use chrono::{DateTime, Utc};
use tokio::sync::{Notify, watch};

use crate::aws::sdk_error;

/// The partition key of watermark records (the reference's).
pub(crate) const PARTITION_KEY: &str = "23";

/// How often the open shards are listed again.
const SHARD_REFRESH: Duration = Duration::from_secs(10);

/// The payload of a watermark event (without the line end).
pub(crate) fn payload(watermark: DateTime<Utc>) -> String {
    format!(
        "{{\"watermark\":\"{}\",\"type\":\"watermark\"}}",
        watermark.format("%Y-%m-%dT%H:%M:%S%.3fZ")
    )
}

/// Events in flight and the watermark value of each shard.
#[derive(Debug, Default)]
pub(crate) struct InFlight {
    state: Mutex<State>,
    /// Events put since the last round.
    since_round: AtomicU64,
    /// Wakes the sender when `since_round` reaches the event count.
    due: Notify,
    every_events: u64,
}

#[derive(Debug, Default)]
struct State {
    /// Timestamps of the events in flight, with their counts.
    pending: BTreeMap<DateTime<Utc>, usize>,
    /// Each shard's value and what was acknowledged on it since.
    shards: HashMap<String, ShardMarks>,
}

#[derive(Debug, Default)]
struct ShardMarks {
    /// The watermark value, once known.
    value: Option<DateTime<Utc>>,
    /// Timestamps acknowledged on the shard, newer than `value`.
    acknowledged: BTreeSet<DateTime<Utc>>,
}

impl State {
    fn remove(&mut self, time: DateTime<Utc>) {
        if let Some(count) = self.pending.get_mut(&time) {
            *count -= 1;
            if *count == 0 {
                self.pending.remove(&time);
            }
        }
    }
}

impl InFlight {
    /// Tracking that asks for a round after `every_events` events (0: never by count).
    pub(crate) fn new(every_events: u64) -> Self {
        Self {
            every_events,
            ..Self::default()
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// An event with this timestamp is being put.
    pub(crate) fn put(&self, time: DateTime<Utc>) {
        *self.state().pending.entry(time).or_default() += 1;
        let since = self.since_round.fetch_add(1, Ordering::Relaxed) + 1;
        if self.every_events > 0 && since >= self.every_events {
            self.due.notify_one();
        }
    }

    /// The event was not put after all (refused by the producer) or failed.
    pub(crate) fn dropped(&self, time: DateTime<Utc>) {
        self.state().remove(time);
    }

    /// The event was acknowledged on `shard`.
    pub(crate) fn acknowledged(&self, time: DateTime<Utc>, shard: &str) {
        let mut state = self.state();
        state.remove(time);
        let marks = state.shards.entry(shard.to_owned()).or_default();
        if marks.value.is_none_or(|value| time > value) {
            marks.acknowledged.insert(time);
        }
    }

    /// The watermark value of `shard` now: the newest event acknowledged on it that is not newer
    /// than the oldest event in flight (EPOCH until there is one; never going backwards).
    pub(crate) fn value(&self, shard: &str) -> DateTime<Utc> {
        let mut state = self.state();
        let oldest = state.pending.keys().next().copied();
        let Some(marks) = state.shards.get_mut(shard) else {
            return DateTime::UNIX_EPOCH;
        };
        let newest = match oldest {
            Some(oldest) => marks.acknowledged.range(..=oldest).next_back(),
            None => marks.acknowledged.last(),
        }
        .copied();
        if let Some(newest) = newest {
            marks.value = Some(marks.value.map_or(newest, |value| value.max(newest)));
            // Keep only what is newer than the value.
            marks.acknowledged = marks.acknowledged.split_off(&newest);
            marks.acknowledged.remove(&newest);
        }
        marks.value.unwrap_or(DateTime::UNIX_EPOCH)
    }

    /// Events in flight.
    pub(crate) fn pending(&self) -> usize {
        self.state().pending.values().sum()
    }
}

/// Counts of watermark records.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Sent {
    /// Watermark records Kinesis took.
    pub(crate) sent: u64,
    /// Skipped because PutRecord was throttled.
    pub(crate) throttled: u64,
    /// Failed with another error (reported on stderr).
    pub(crate) failed: u64,
}

/// An open shard: its id and the first hash key it covers.
#[derive(Debug, Clone)]
struct OpenShard {
    id: String,
    starting_hash_key: String,
}

/// Sends watermark rounds to the open shards of a stream.
pub(crate) struct Sender {
    client: Client,
    stream: String,
    newline: bool,
    tracking: Arc<InFlight>,
    shards: Vec<OpenShard>,
    listed: Option<tokio::time::Instant>,
    counts: Sent,
}

impl Sender {
    /// A sender for `stream` reading the values from `tracking`.
    pub(crate) fn new(
        client: Client,
        stream: &str,
        newline: bool,
        tracking: Arc<InFlight>,
    ) -> Self {
        Self {
            client,
            stream: stream.to_owned(),
            newline,
            tracking,
            shards: Vec::new(),
            listed: None,
            counts: Sent::default(),
        }
    }

    /// Sends rounds every `interval` or when enough events were put, until `stop` turns true;
    /// then returns the sender (for the final round).
    pub(crate) async fn run(mut self, interval: Duration, mut stop: watch::Receiver<bool>) -> Self {
        let mut ticks = tokio::time::interval(interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticks.tick().await;
        loop {
            tokio::select! {
                _ = ticks.tick() => {}
                () = self.tracking.due.notified() => ticks.reset(),
                _ = stop.changed() => return self,
            }
            if *stop.borrow() {
                return self;
            }
            self.round().await;
        }
    }

    /// Sends one watermark to every open shard.
    pub(crate) async fn round(&mut self) {
        self.tracking.since_round.store(0, Ordering::Relaxed);
        tracing::debug!(in_flight = self.tracking.pending(), "watermark round");
        if self.listed.is_none_or(|at| at.elapsed() >= SHARD_REFRESH) {
            match self.open_shards().await {
                Ok(shards) => {
                    self.shards = shards;
                    self.listed = Some(tokio::time::Instant::now());
                }
                Err(e) if self.shards.is_empty() => {
                    self.counts.failed += 1;
                    eprintln!("watermark not sent: {e:?}");
                    return;
                }
                Err(e) => tracing::warn!("keeping the known shards: {e:?}"),
            }
        }
        let requests = self.shards.iter().map(|shard| {
            let mut data = payload(self.tracking.value(&shard.id)).into_bytes();
            if self.newline {
                data.push(b'\n');
            }
            let request = self
                .client
                .put_record()
                .stream_name(&self.stream)
                .partition_key(PARTITION_KEY)
                .explicit_hash_key(&shard.starting_hash_key)
                .data(Blob::new(data));
            async move { (shard.id.clone(), request.send().await) }
        });
        for (shard, result) in futures::future::join_all(requests).await {
            match result {
                Ok(_) => self.counts.sent += 1,
                Err(e)
                    if e.as_service_error().is_some_and(|s| {
                        s.is_provisioned_throughput_exceeded_exception()
                            || s.is_kms_throttling_exception()
                    }) =>
                {
                    tracing::warn!(shard, "watermark throttled: skipped until the next round");
                    self.counts.throttled += 1;
                }
                Err(e) => {
                    self.counts.failed += 1;
                    let code = e.code().unwrap_or("error").to_owned();
                    eprintln!("watermark to {shard} not sent ({code}): {:?}", sdk_error(e));
                }
            }
        }
    }

    /// The counts so far.
    pub(crate) fn counts(&self) -> Sent {
        self.counts
    }

    async fn open_shards(&self) -> miette::Result<Vec<OpenShard>> {
        let mut shards = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let request = match &token {
                Some(t) => self.client.list_shards().next_token(t),
                None => self.client.list_shards().stream_name(&self.stream),
            };
            let out =
                request.send().await.map_err(sdk_error).map_err(|e| {
                    e.wrap_err(format!("cannot list the shards of {}", self.stream))
                })?;
            for shard in out.shards() {
                let open = shard
                    .sequence_number_range()
                    .is_none_or(|r| r.ending_sequence_number().is_none());
                if open {
                    shards.push(OpenShard {
                        id: shard.shard_id().to_owned(),
                        starting_hash_key: shard
                            .hash_key_range()
                            .map(|r| r.starting_hash_key().to_owned())
                            .unwrap_or_default(),
                    });
                }
            }
            match out.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_owned()),
                _ => return Ok(shards),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn payloads_have_three_fraction_digits() {
        assert_eq!(
            payload(at("2018-01-01T00:10:00Z")),
            r#"{"watermark":"2018-01-01T00:10:00.000Z","type":"watermark"}"#
        );
        assert_eq!(
            payload(at("2018-01-01T00:10:00.123456Z")),
            r#"{"watermark":"2018-01-01T00:10:00.123Z","type":"watermark"}"#
        );
        assert_eq!(
            payload(DateTime::UNIX_EPOCH),
            r#"{"watermark":"1970-01-01T00:00:00.000Z","type":"watermark"}"#
        );
    }

    #[test]
    fn the_value_is_the_last_ack_not_newer_than_the_oldest_in_flight() {
        let t = |m: u32| at(&format!("2018-01-01T00:{m:02}:00Z"));
        let tracking = InFlight::new(0);
        assert_eq!(tracking.value("shard-0"), DateTime::UNIX_EPOCH);
        for m in 1..=5 {
            tracking.put(t(m));
        }
        // A newer event acknowledged while an older one is in flight does not count (yet).
        tracking.acknowledged(t(2), "shard-1");
        assert_eq!(tracking.value("shard-1"), DateTime::UNIX_EPOCH);
        // The oldest in flight acknowledged: it counts on its shard, and t(2) on shard-1 now
        // counts too (the reference would leave shard-1 at EPOCH).
        tracking.acknowledged(t(1), "shard-0");
        assert_eq!(tracking.value("shard-0"), t(1));
        assert_eq!(tracking.value("shard-1"), t(2));
        // Equal to the oldest in flight is "not newer".
        tracking.put(t(3));
        tracking.acknowledged(t(3), "shard-1");
        assert_eq!(tracking.value("shard-1"), t(3));
        // A failed event leaves the values alone but stops holding them back.
        tracking.acknowledged(t(5), "shard-0");
        assert_eq!(
            tracking.value("shard-0"),
            t(1),
            "t(3) and t(4) still in flight"
        );
        tracking.dropped(t(3));
        tracking.dropped(t(4));
        assert_eq!(tracking.pending(), 0);
        // Nothing in flight: the newest acknowledged event counts.
        assert_eq!(tracking.value("shard-0"), t(5));
        assert_eq!(tracking.value("shard-1"), t(3));
        // Values never go backwards.
        tracking.put(t(2));
        tracking.acknowledged(t(2), "shard-0");
        assert_eq!(tracking.value("shard-0"), t(5));
        assert_eq!(tracking.pending(), 0);
    }

    #[tokio::test]
    async fn the_event_count_wakes_the_sender() {
        let tracking = InFlight::new(3);
        let time = at("2018-01-01T00:00:00Z");
        tracking.put(time);
        tracking.put(time);
        let woken = tokio::time::timeout(Duration::from_millis(50), tracking.due.notified());
        assert!(woken.await.is_err(), "not after 2 of 3 events");
        tracking.put(time);
        let woken = tokio::time::timeout(Duration::from_millis(50), tracking.due.notified());
        assert!(woken.await.is_ok(), "after 3 events");
    }
}
