//! The re-put sink: the user records put into their stream again.

use std::time::Duration;

use kstream_local_lambda::mapping::event::StreamRecord;

use crate::aws::{PutEntry, Stream};
use crate::error::{Error, Result};
use crate::message::BatchInfo;
use crate::records::user_records;
use crate::sink::{Handled, Sink};

/// Entries per `PutRecords` call (Kinesis API reference, PutRecords: "up to 500 records").
const PUT_RECORDS_MAX_ENTRIES: usize = 500;

/// Bytes per `PutRecords` call, data and partition keys (PutRecords: "up to a limit of 5 MiB
/// for the entire request").
const PUT_RECORDS_MAX_BYTES: usize = 5 * 1024 * 1024;

/// Attempts to put an entry that Kinesis keeps failing (throttled, internal failure), with an
/// exponential backoff from 100 ms to 5 s, before the range is left for the next run.
const PUT_ATTEMPTS: u32 = 10;

/// Puts each range's user records (deaggregated, with their partition and explicit hash keys)
/// into the range's stream, retrying only the entries that fail. The consumer then processes
/// them again (at least once: a range handled twice is put twice).
#[derive(Debug, Clone)]
pub struct ReputSink<K> {
    client: K,
}

impl<K: Stream> ReputSink<K> {
    /// A sink putting with `client`.
    pub fn new(client: K) -> Self {
        Self { client }
    }
}

impl<K: Stream> Sink for ReputSink<K> {
    async fn handle(&mut self, info: &BatchInfo, records: &[StreamRecord]) -> Result<Handled> {
        let entries = user_records(records)
            .map(|(_, sub)| {
                let size = sub.data.len() + sub.partition_key.len();
                let entry = PutEntry {
                    data: sub.data,
                    partition_key: sub.partition_key,
                    explicit_hash_key: sub.explicit_hash_key,
                };
                (entry, size)
            })
            .collect::<Vec<_>>();
        let total = entries.len() as u64;
        let mut chunk: Vec<PutEntry> = Vec::new();
        let mut bytes = 0;
        for (entry, size) in entries {
            if !chunk.is_empty()
                && (chunk.len() == PUT_RECORDS_MAX_ENTRIES || bytes + size > PUT_RECORDS_MAX_BYTES)
            {
                put_all(&self.client, info, std::mem::take(&mut chunk)).await?;
                bytes = 0;
            }
            bytes += size;
            chunk.push(entry);
        }
        if !chunk.is_empty() {
            put_all(&self.client, info, chunk).await?;
        }
        Ok(Handled {
            records: total,
            already: 0,
        })
    }
}

/// Puts every entry, sending again only the ones that failed.
async fn put_all(client: &impl Stream, info: &BatchInfo, mut entries: Vec<PutEntry>) -> Result<()> {
    let mut last_error = String::new();
    for attempt in 0..PUT_ATTEMPTS {
        if attempt > 0 {
            let backoff = Duration::from_millis(100 * 2u64.pow(attempt - 1));
            tokio::time::sleep(backoff.min(Duration::from_secs(5))).await;
        }
        let out = match client.put_records(info.stream_name(), &entries).await {
            Ok(out) => out,
            Err(e) => {
                last_error = e.message;
                continue;
            }
        };
        if out.failed == 0 {
            return Ok(());
        }
        let mut failed = Vec::new();
        for (entry, result) in entries.into_iter().zip(out.results) {
            if let Some((code, message)) = result {
                last_error = format!("{code}: {message}");
                failed.push(entry);
            }
        }
        entries = failed;
    }
    Err(Error::NotPut {
        range: info.to_string(),
        count: entries.len(),
        attempts: PUT_ATTEMPTS,
        last_error,
    })
}
