//! The failed-record archive (feature `s3`): a consumer that reports a Kinesis record as a batch
//! item failure can first write the record to S3, so that its payload survives the stream's
//! retention once Lambda gives the record up (the on-failure destination holds only sequence
//! numbers).
//!
//! Off unless `FAILED_RECORD_ARCHIVE_BUCKET` is set ([`ArchiveConfig`]). Each failed record is
//! one object, `<prefix><shard-id>/<sequence-number>[-<sub-sequence-number>].json` (the
//! sub-sequence number when the failure was in a sub-record of a KPL aggregate): a retry of the
//! same record writes the same key, so retries overwrite instead of multiplying. The object is
//! one JSON document, [`ArchivedRecord`]: the record's `data` as it came (base64 text: the
//! whole record, every sub-record of an aggregate, so it can be put back), the reason, the
//! shard, the sequence and sub-sequence numbers, the arrival time and the function.
//!
//! A write that fails is logged and counted ([`ArchiveOutcome::failed`]); the record is still
//! reported as failed, so Lambda's retries and on-failure destination work as without the
//! archive: nothing is lost by a failed archive write.
//!
//! ```
//! use kstream_pipeline::archive::{ArchiveConfig, FailedRecord, FailedRecordArchive};
//! use kstream_pipeline::kinesis::KinesisEvent;
//! use kstream_pipeline::store::MemoryStore;
//! use kstream_pipeline::Env;
//! use std::sync::Arc;
//!
//! # futures::executor::block_on(async {
//! let env = Env::from_pairs(&[("FAILED_RECORD_ARCHIVE_BUCKET", "archive")]);
//! let config = ArchiveConfig::from_env_with(&env).unwrap().unwrap();
//! let store = Arc::new(MemoryStore::default());
//! let archive = FailedRecordArchive::new(store.clone(), &config, "kds-consumer");
//! let event: KinesisEvent = serde_json::from_value(serde_json::json!({"Records": [{
//!     "eventID": "shardId-000000000000:42",
//!     "kinesis": {"sequenceNumber": "42", "partitionKey": "k", "data": "bm90IGpzb24="}
//! }]})).unwrap();
//! let failed = FailedRecord::new(&event.records[0], None, "InvalidJson", "not JSON".into());
//! let outcome = archive.archive_all(vec![failed]).await;
//! assert_eq!((outcome.archived, outcome.failed), (1, 0));
//! assert!(store.objects().contains_key("failed-records/shardId-000000000000/42.json"));
//! # });
//! ```

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use futures::StreamExt as _;
use serde::Serialize;

use crate::config::Env;
use crate::error::{ArchiveError, EnvError};
use crate::kinesis::KinesisEventRecord;
use crate::store::ObjectStore;

/// The environment variable naming the archive bucket; unset or empty, the archive is off.
pub const BUCKET_VAR: &str = "FAILED_RECORD_ARCHIVE_BUCKET";
/// The environment variable holding the key prefix (default [`DEFAULT_PREFIX`]).
pub const PREFIX_VAR: &str = "FAILED_RECORD_ARCHIVE_PREFIX";
/// The key prefix when [`PREFIX_VAR`] is unset.
pub const DEFAULT_PREFIX: &str = "failed-records/";
/// The longest prefix accepted: 256 bytes leave room in S3's 1,024-byte key for the shard id
/// (at most 128 bytes, Kinesis' `ShardId` limit), a sequence number (at most 128 digits, the
/// `SequenceNumber` pattern's limit) and a sub-sequence number.
pub const MAX_PREFIX_BYTES: usize = 256;
/// S3's limit on an object key: 1,024 bytes of UTF-8 (S3 user guide, "Naming objects").
pub const MAX_S3_KEY_BYTES: usize = 1024;
/// Archive writes in flight at once, per invocation: enough to write a batch of poison records
/// within the function's time, few enough to stay far under S3's 3,500 PUTs per second per
/// prefix with every shard's consumer writing.
pub const MAX_PUTS_IN_FLIGHT: usize = 16;
/// The shard name used when a record has no `eventID` to take it from.
pub const UNKNOWN_SHARD: &str = "unknown-shard";

/// Where failed records go: from the function's environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveConfig {
    /// The bucket ([`BUCKET_VAR`]).
    pub bucket: String,
    /// The key prefix ([`PREFIX_VAR`]): empty, or ending in `/`, not starting with `/`, no
    /// `//`, at most [`MAX_PREFIX_BYTES`].
    pub prefix: String,
}

impl ArchiveConfig {
    /// The archive's configuration; `None` when [`BUCKET_VAR`] is unset or empty (the archive
    /// is off).
    ///
    /// # Errors
    /// [`EnvError::Invalid`] for a prefix that is not a folder-like S3 prefix.
    pub fn from_env_with(env: &Env<'_>) -> Result<Option<Self>, EnvError> {
        let Some(bucket) = env.get(BUCKET_VAR) else {
            return Ok(None);
        };
        let prefix = env
            .get_raw(PREFIX_VAR)
            .unwrap_or_else(|| DEFAULT_PREFIX.to_owned());
        let ok = prefix.is_empty()
            || (prefix.len() <= MAX_PREFIX_BYTES
                && prefix.ends_with('/')
                && !prefix.starts_with('/')
                && !prefix.contains("//"));
        if !ok {
            return Err(EnvError::Invalid {
                var: PREFIX_VAR,
                value: prefix,
                expected: "an S3 prefix: empty, or ending in '/', not starting with '/', without '//', at most 256 bytes",
            });
        }
        Ok(Some(Self { bucket, prefix }))
    }
}

/// A record reported as a batch item failure, to archive.
#[derive(Debug, Clone)]
pub struct FailedRecord<'e> {
    record: &'e KinesisEventRecord,
    sub_sequence_number: Option<u64>,
    error_kind: &'static str,
    reason: String,
}

impl<'e> FailedRecord<'e> {
    /// `record` failed (in its sub-record `sub_sequence_number` when it is a KPL aggregate) for
    /// `reason`, of the stable kind `error_kind`.
    pub fn new(
        record: &'e KinesisEventRecord,
        sub_sequence_number: Option<u64>,
        error_kind: &'static str,
        reason: String,
    ) -> Self {
        Self {
            record,
            sub_sequence_number,
            error_kind,
            reason,
        }
    }
}

/// The archived object: one JSON document per failed record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ArchivedRecord<'a> {
    /// The function that gave the record up.
    pub function_name: &'a str,
    /// The stream's ARN (`eventSourceARN`), when the event carries it.
    pub event_source_arn: Option<&'a str>,
    /// The shard.
    pub shard_id: &'a str,
    /// The Kinesis record's sequence number.
    pub sequence_number: &'a str,
    /// The failed sub-record of a KPL aggregate, or null.
    pub sub_sequence_number: Option<u64>,
    /// The Kinesis record's partition key.
    pub partition_key: &'a str,
    /// When Kinesis accepted the record (seconds since the epoch).
    pub approximate_arrival_timestamp: Option<f64>,
    /// A stable name of the failure (`InvalidJson`, `Poison`, `FareCallFailed`, ...).
    pub error_kind: &'a str,
    /// Why the record failed.
    pub reason: &'a str,
    /// The record's `data` as the event carried it (base64; the whole aggregate for a KPL
    /// record; as it came when it is not valid base64).
    pub data_base64: &'a str,
    /// When this object was written (seconds since the epoch; a retry rewrites it).
    pub archived_at: f64,
}

/// What [`FailedRecordArchive::archive_all`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ArchiveOutcome {
    /// Records written to the archive.
    pub archived: usize,
    /// Records whose write failed (logged at `error`; still reported as failed).
    pub failed: usize,
}

/// Writes failed records to the archive bucket.
pub struct FailedRecordArchive {
    store: Arc<dyn ObjectStore>,
    prefix: String,
    function_name: String,
}

impl std::fmt::Debug for FailedRecordArchive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FailedRecordArchive")
            .field("prefix", &self.prefix)
            .field("function_name", &self.function_name)
            .finish_non_exhaustive()
    }
}

impl FailedRecordArchive {
    /// An archive writing to `store` (an `S3Store` on the configured bucket, or memory in
    /// tests) under `config.prefix`; `function_name` is written in every object
    /// (`AWS_LAMBDA_FUNCTION_NAME` on Lambda).
    pub fn new(
        store: Arc<dyn ObjectStore>,
        config: &ArchiveConfig,
        function_name: impl Into<String>,
    ) -> Self {
        Self {
            store,
            prefix: config.prefix.clone(),
            function_name: function_name.into(),
        }
    }

    /// The object key of a failed record: the same for every retry of it.
    ///
    /// # Errors
    /// [`ArchiveError::Key`] when the shard id or the sequence number holds a character other
    /// than ASCII letters, digits, `-`, `_` and `.` (they come from the event), or the key is
    /// longer than [`MAX_S3_KEY_BYTES`].
    pub fn key(
        &self,
        shard_id: &str,
        sequence_number: &str,
        sub_sequence_number: Option<u64>,
    ) -> Result<String, ArchiveError> {
        let safe = |s: &str| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
                && s != "."
                && s != ".."
        };
        let mut key = format!("{}{shard_id}/{sequence_number}", self.prefix);
        if let Some(sub) = sub_sequence_number {
            key.push_str(&format!("-{sub}"));
        }
        key.push_str(".json");
        if !safe(shard_id) || !safe(sequence_number) {
            return Err(ArchiveError::Key {
                key,
                reason: "the shard id and the sequence number may hold only ASCII letters, digits, '-', '_' and '.'",
            });
        }
        if key.len() > MAX_S3_KEY_BYTES {
            return Err(ArchiveError::Key {
                key,
                reason: "longer than S3's 1,024-byte key limit",
            });
        }
        Ok(key)
    }

    /// Writes one failed record; returns its key.
    ///
    /// # Errors
    /// [`ArchiveError`] when the key cannot be formed or the write fails.
    pub async fn archive(&self, failed: &FailedRecord<'_>) -> Result<String, ArchiveError> {
        let record = failed.record;
        let shard_id = record.shard_id().unwrap_or(UNKNOWN_SHARD);
        let kinesis = &record.kinesis;
        let key = self.key(
            shard_id,
            &kinesis.sequence_number,
            failed.sub_sequence_number,
        )?;
        let archived_at = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_millis() as f64 / 1000.0);
        let document = ArchivedRecord {
            function_name: &self.function_name,
            event_source_arn: record.event_source_arn.as_deref(),
            shard_id,
            sequence_number: &kinesis.sequence_number,
            sub_sequence_number: failed.sub_sequence_number,
            partition_key: &kinesis.partition_key,
            approximate_arrival_timestamp: kinesis.approximate_arrival_timestamp,
            error_kind: failed.error_kind,
            reason: &failed.reason,
            data_base64: &kinesis.data,
            archived_at,
        };
        // Serializing this struct cannot fail (string keys, finite or null numbers).
        let mut body = serde_json::to_vec(&document).unwrap_or_default();
        body.push(b'\n');
        self.store.put(&key, body).await?;
        Ok(key)
    }

    /// Writes every failed record, at most [`MAX_PUTS_IN_FLIGHT`] at a time; a failed write is
    /// logged at `error` with the record's sequence number and counted, never returned.
    pub async fn archive_all(&self, failed: Vec<FailedRecord<'_>>) -> ArchiveOutcome {
        let mut outcome = ArchiveOutcome::default();
        let mut writes = futures::stream::iter(failed)
            .map(|f| async move {
                let result = self.archive(&f).await;
                (f, result)
            })
            .buffer_unordered(MAX_PUTS_IN_FLIGHT);
        while let Some((f, result)) = writes.next().await {
            match result {
                Ok(key) => {
                    outcome.archived += 1;
                    tracing::info!(
                        sequence_number = %f.record.kinesis.sequence_number,
                        key = %key,
                        "failed record archived"
                    );
                }
                Err(error) => {
                    outcome.failed += 1;
                    tracing::error!(
                        sequence_number = %f.record.kinesis.sequence_number,
                        error = %error,
                        "could not archive a failed record; it is still reported as failed"
                    );
                }
            }
        }
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryStore;

    fn config(prefix: &str) -> ArchiveConfig {
        ArchiveConfig {
            bucket: "b".into(),
            prefix: prefix.into(),
        }
    }

    #[test]
    fn configuration() {
        let env = |pairs: &[(&str, &str)]| ArchiveConfig::from_env_with(&Env::from_pairs(pairs));
        assert_eq!(env(&[]).unwrap(), None, "off by default");
        assert_eq!(env(&[(BUCKET_VAR, "")]).unwrap(), None);
        assert_eq!(
            env(&[(BUCKET_VAR, "b")]).unwrap(),
            Some(config(DEFAULT_PREFIX))
        );
        assert_eq!(
            env(&[(BUCKET_VAR, "b"), (PREFIX_VAR, "")]).unwrap(),
            Some(config(""))
        );
        for bad in ["/x/", "x", "a//b/", &"p/".repeat(129)] {
            let error = env(&[(BUCKET_VAR, "b"), (PREFIX_VAR, bad)]).unwrap_err();
            assert!(
                error
                    .to_string()
                    .starts_with("FAILED_RECORD_ARCHIVE_PREFIX="),
                "{error}"
            );
        }
    }

    #[test]
    fn keys_are_stable_and_bounded() {
        let archive =
            FailedRecordArchive::new(Arc::new(MemoryStore::default()), &config("f/"), "fn");
        assert_eq!(
            archive.key("shardId-000000000001", "4959", None).unwrap(),
            "f/shardId-000000000001/4959.json"
        );
        assert_eq!(
            archive
                .key("shardId-000000000001", "4959", Some(3))
                .unwrap(),
            "f/shardId-000000000001/4959-3.json"
        );
        for (shard, seq) in [("a/../b", "1"), ("s", "1/2"), ("..", "1"), ("s", "")] {
            assert!(
                matches!(archive.key(shard, seq, None), Err(ArchiveError::Key { .. })),
                "{shard} {seq}"
            );
        }
        let long = "1".repeat(MAX_S3_KEY_BYTES);
        let error = archive.key("s", &long, None).unwrap_err();
        assert!(error.to_string().contains("1,024-byte"), "{error}");
    }
}
