//! The records on their way: a user record with everything needed to complete it
//! ([`Pending`]), and a Kinesis record (an aggregate or a raw user record) with the user records
//! it carries ([`KRecord`]).

use bytes::Bytes;
use kstream_kpl::{AggregatedRecord, ShardId, UserRecord};
use tokio::sync::{OwnedSemaphorePermit, oneshot};
use tokio::time::Instant;

use crate::attempt::Attempt;
use crate::config::ProducerConfig;
use crate::error::RecordFailure;
use crate::result::PutOutcome;

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
pub(super) struct KRecord {
    pub(super) partition_key: String,
    pub(super) explicit_hash_key: Option<String>,
    pub(super) data: Bytes,
    pub(super) members: Vec<Pending>,
    /// The predicted shard (`None` when no shard map applies).
    pub(super) shard: Option<ShardId>,
    /// The shard map generation the prediction came from.
    pub(super) generation: u64,
    pub(super) send_by: Instant,
}

impl KRecord {
    pub(super) fn from_aggregate(
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

    pub(super) fn raw(member: Pending, shard: Option<ShardId>, generation: u64) -> Self {
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
    pub(super) fn size(&self) -> usize {
        self.data.len() + self.partition_key.len()
    }

    pub(super) fn expires(&self) -> Instant {
        self.members
            .iter()
            .map(|m| m.deadline)
            .min()
            .unwrap_or_else(Instant::now)
    }

    pub(super) fn aggregated(&self) -> bool {
        self.members.len() > 1
    }
}
