//! What `kstream redrive` does with a range's records: write them to a file or S3, re-put them
//! into the stream, or invoke the function with them.

use std::collections::HashSet;
use std::io::{BufRead as _, Write as _};
use std::path::{Path, PathBuf};
use std::time::Duration;

use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::PutRecordsRequestEntry;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, SecondsFormat};
use kstream_kpl::SubRecord;
use kstream_local::lambda::mapping::batch::{Attempt, classify};
use kstream_local::lambda::mapping::event::{
    EVENT_ENVELOPE_BYTES, EventContext, StreamRecord, kinesis_event, record_event_bytes,
};
use kstream_local::lambda::runtime::{FunctionError, FunctionHost, InvokeResult};
use serde_json::{Map, Value, json};

use super::range::BatchInfo;
use crate::s3_input::S3Prefix;

/// Entries per `PutRecords` call (Kinesis API reference, PutRecords: "up to 500 records").
const PUT_RECORDS_MAX_ENTRIES: usize = 500;

/// Bytes per `PutRecords` call, data and partition keys (PutRecords: "up to a limit of 5 MiB
/// for the entire request").
const PUT_RECORDS_MAX_BYTES: usize = 5 * 1024 * 1024;

/// Attempts to put an entry that Kinesis keeps failing (throttled, internal failure), with an
/// exponential backoff from 100 ms to 5 s, before the range is left for the next run.
const PUT_ATTEMPTS: u32 = 10;

/// The largest payload of a synchronous invocation (Lambda quotas: "Invocation payload
/// (request and response): 6 MB each for synchronous"), which bounds a redriven event as it
/// bounds a mapping's batch.
pub(crate) const INVOKE_PAYLOAD_MAX_BYTES: usize = 6 * 1024 * 1024;

/// How a range was handled.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Handled {
    /// User records (deaggregated) or, for invocations, Kinesis records handled.
    pub(crate) records: u64,
    /// Of them, the ones already written by an earlier run (file mode: not written again).
    pub(crate) already: u64,
}

/// Where the records go.
pub(crate) enum Sink {
    /// JSON lines appended to a file; keys already in it are skipped.
    File(FileSink),
    /// One object per range under a prefix, its key derived from the range.
    S3 {
        client: aws_sdk_s3::Client,
        prefix: S3Prefix,
    },
    /// `PutRecords` into the range's stream.
    Reput(aws_sdk_kinesis::Client),
    /// The function, invoked with Kinesis events.
    Invoke(Invoker),
}

impl Sink {
    /// Handles the records of one range.
    ///
    /// # Errors
    /// When the range could not be handled in full: it is then left for another run.
    pub(crate) async fn handle(
        &mut self,
        info: &BatchInfo,
        records: &[StreamRecord],
    ) -> miette::Result<Handled> {
        match self {
            Sink::File(file) => file.write(info, records),
            Sink::S3 { client, prefix } => {
                let lines = user_records(records)
                    .map(|(r, sub)| line(info, r, &sub).1)
                    .collect::<Vec<_>>();
                let key = s3_key(prefix, info);
                let mut body = lines.join("\n");
                body.push('\n');
                client
                    .put_object()
                    .bucket(&prefix.bucket)
                    .key(&key)
                    .content_type("application/x-ndjson")
                    .body(body.into_bytes().into())
                    .send()
                    .await
                    .map_err(|e| {
                        miette::miette!("{}", kstream_producer::sdk_error_message(&e))
                            .wrap_err(format!("cannot write s3://{}/{key}", prefix.bucket))
                    })?;
                Ok(Handled {
                    records: lines.len() as u64,
                    already: 0,
                })
            }
            Sink::Reput(client) => reput(client, info, records).await,
            Sink::Invoke(invoker) => invoker.invoke_all(info, records).await,
        }
    }
}

/// Every user record of the records: aggregates deaggregated, others as they are.
fn user_records(records: &[StreamRecord]) -> impl Iterator<Item = (&StreamRecord, SubRecord)> {
    records.iter().flat_map(|r| {
        kstream_kpl::deaggregate_record(&r.partition_key, &r.sequence_number, r.data.clone())
            .into_iter()
            .map(move |sub| (r, sub))
    })
}

/// A user record's key (shard, sequence number, sub-sequence number) and its JSON line:
/// `{"streamArn", "shardId", "sequenceNumber", "subSequenceNumber", "partitionKey",
/// "explicitHashKey"?, "approximateArrivalTimestamp", "aggregated", "data" (base64),
/// "corrupt"?}`.
fn line(info: &BatchInfo, record: &StreamRecord, sub: &SubRecord) -> (Key, String) {
    let mut object = Map::new();
    object.insert("streamArn".into(), json!(info.stream_arn));
    object.insert("shardId".into(), json!(record.shard_id));
    object.insert("sequenceNumber".into(), json!(record.sequence_number));
    object.insert("subSequenceNumber".into(), json!(sub.sub_sequence_number));
    object.insert("partitionKey".into(), json!(sub.partition_key));
    if let Some(ehk) = &sub.explicit_hash_key {
        object.insert("explicitHashKey".into(), json!(ehk));
    }
    #[allow(clippy::cast_possible_truncation)]
    let millis = (record.arrival * 1000.0).round() as i64;
    if let Some(t) = DateTime::from_timestamp_millis(millis) {
        object.insert(
            "approximateArrivalTimestamp".into(),
            json!(t.to_rfc3339_opts(SecondsFormat::Millis, true)),
        );
    }
    object.insert("aggregated".into(), json!(sub.aggregated));
    object.insert("data".into(), json!(STANDARD.encode(&sub.data)));
    if sub.is_corrupt()
        && let Some(reason) = &sub.not_aggregated
    {
        object.insert("corrupt".into(), json!(reason.to_string()));
    }
    let key = Key {
        shard: record.shard_id.clone(),
        sequence: record.sequence_number.clone(),
        sub: sub.sub_sequence_number,
    };
    (key, Value::Object(object).to_string())
}

/// The S3 key of a range: `<prefix><stream>/<shard>/<start>-<end>.jsonl` (a second run writes
/// the same object again).
pub(crate) fn s3_key(prefix: &S3Prefix, info: &BatchInfo) -> String {
    format!(
        "{}{}/{}/{}-{}.jsonl",
        prefix.prefix,
        info.stream_name(),
        info.shard_id,
        info.start_sequence_number,
        info.end_sequence_number
    )
}

/// A user record's identity in the output file.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    shard: String,
    sequence: String,
    sub: u64,
}

/// A JSON-lines file the records are appended to, with the keys it already holds.
pub(crate) struct FileSink {
    path: PathBuf,
    file: std::fs::File,
    written: HashSet<Key>,
}

impl FileSink {
    /// Opens `path` for appending (creating it), reading the keys of the lines it holds.
    ///
    /// # Errors
    /// When it cannot be read or written, or holds a line that is not one of ours.
    pub(crate) fn open(path: &Path) -> miette::Result<Self> {
        let mut written = HashSet::new();
        match std::fs::File::open(path) {
            Ok(existing) => {
                for (n, text) in std::io::BufReader::new(existing).lines().enumerate() {
                    let text =
                        text.map_err(|e| miette::miette!("cannot read {}: {e}", path.display()))?;
                    if text.trim().is_empty() {
                        continue;
                    }
                    let key = serde_json::from_str::<Value>(&text).ok().and_then(|v| {
                        Some(Key {
                            shard: v["shardId"].as_str()?.to_owned(),
                            sequence: v["sequenceNumber"].as_str()?.to_owned(),
                            sub: v["subSequenceNumber"].as_u64()?,
                        })
                    });
                    let Some(key) = key else {
                        return Err(miette::miette!(
                            help =
                                "choose another --to-file: redrive appends to its own output only",
                            "{} line {}: not a line written by kstream redrive",
                            path.display(),
                            n + 1
                        ));
                    };
                    written.insert(key);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(miette::miette!("cannot read {}: {e}", path.display())),
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| miette::miette!("cannot write {}: {e}", path.display()))?;
        Ok(Self {
            path: path.to_owned(),
            file,
            written,
        })
    }

    fn write(&mut self, info: &BatchInfo, records: &[StreamRecord]) -> miette::Result<Handled> {
        let mut handled = Handled::default();
        let mut text = String::new();
        let mut keys = Vec::new();
        for (record, sub) in user_records(records) {
            let (key, line) = line(info, record, &sub);
            handled.records += 1;
            if self.written.contains(&key) {
                handled.already += 1;
                continue;
            }
            text.push_str(&line);
            text.push('\n');
            keys.push(key);
        }
        self.file
            .write_all(text.as_bytes())
            .and_then(|()| self.file.sync_data())
            .map_err(|e| miette::miette!("cannot write {}: {e}", self.path.display()))?;
        self.written.extend(keys);
        Ok(handled)
    }
}

/// Re-puts the user records into the range's stream, retrying the entries that fail.
async fn reput(
    client: &aws_sdk_kinesis::Client,
    info: &BatchInfo,
    records: &[StreamRecord],
) -> miette::Result<Handled> {
    let entries = user_records(records)
        .map(|(_, sub)| {
            let size = sub.data.len() + sub.partition_key.len();
            PutRecordsRequestEntry::builder()
                .data(Blob::new(sub.data.to_vec()))
                .partition_key(sub.partition_key)
                .set_explicit_hash_key(sub.explicit_hash_key)
                .build()
                .map(|entry| (entry, size))
                .map_err(|e| miette::miette!("a record of {info} cannot be put: {e}"))
        })
        .collect::<miette::Result<Vec<_>>>()?;
    let total = entries.len() as u64;
    let mut chunk: Vec<PutRecordsRequestEntry> = Vec::new();
    let mut bytes = 0;
    for (entry, size) in entries {
        if !chunk.is_empty()
            && (chunk.len() == PUT_RECORDS_MAX_ENTRIES || bytes + size > PUT_RECORDS_MAX_BYTES)
        {
            put_all(client, info, std::mem::take(&mut chunk)).await?;
            bytes = 0;
        }
        bytes += size;
        chunk.push(entry);
    }
    if !chunk.is_empty() {
        put_all(client, info, chunk).await?;
    }
    Ok(Handled {
        records: total,
        already: 0,
    })
}

/// Puts every entry, sending again only the ones that failed.
async fn put_all(
    client: &aws_sdk_kinesis::Client,
    info: &BatchInfo,
    mut entries: Vec<PutRecordsRequestEntry>,
) -> miette::Result<()> {
    let mut last_error = String::new();
    for attempt in 0..PUT_ATTEMPTS {
        if attempt > 0 {
            let backoff = Duration::from_millis(100 * 2u64.pow(attempt - 1));
            tokio::time::sleep(backoff.min(Duration::from_secs(5))).await;
        }
        let out = client
            .put_records()
            .stream_name(info.stream_name())
            .set_records(Some(entries.clone()))
            .send()
            .await;
        let out = match out {
            Ok(out) => out,
            Err(e) => {
                last_error = kstream_producer::sdk_error_message(&e);
                continue;
            }
        };
        if out.failed_record_count().unwrap_or(0) == 0 {
            return Ok(());
        }
        let mut failed = Vec::new();
        for (entry, result) in entries.into_iter().zip(out.records()) {
            if let Some(code) = result.error_code() {
                last_error = format!("{code}: {}", result.error_message().unwrap_or_default());
                failed.push(entry);
            }
        }
        entries = failed;
    }
    Err(miette::miette!(
        "{} record(s) of {info} could not be put after {PUT_ATTEMPTS} attempts (last error: {last_error})",
        entries.len()
    ))
}

/// How the function is invoked.
pub(crate) enum Invoker {
    /// Lambda's `Invoke` API (synchronous).
    Lambda {
        client: aws_sdk_lambda::Client,
        function: String,
        /// The function's region and execution role, for the events.
        region: String,
        role_arn: String,
    },
    /// The function's binary on this machine, through the local Runtime API host.
    Local {
        host: FunctionHost,
        function: String,
    },
}

impl Invoker {
    /// Invokes the function with the records in batches of at most `max_records` and
    /// [`INVOKE_PAYLOAD_MAX_BYTES`], in order; stops at the first batch not handled.
    async fn invoke_all(
        &self,
        info: &BatchInfo,
        records: &[StreamRecord],
    ) -> miette::Result<Handled> {
        let ctx = self.context(info);
        for batch in batches(records, &ctx, max_records(info, records)) {
            let event = kinesis_event(batch, &ctx).to_string();
            let result = self.invoke(event.into_bytes()).await?;
            match classify(&result, batch, true) {
                Attempt::Success => {}
                Attempt::Failed { .. } | Attempt::NotInvoked => {
                    let why = match &result {
                        InvokeResult::Error(e) => format!("{}: {}", e.error_type, e.error_message),
                        InvokeResult::Ok(body) => format!(
                            "its answer is not a valid batchItemFailures list: {}",
                            String::from_utf8_lossy(body)
                        ),
                    };
                    return Err(miette::miette!(
                        "the function failed on {} record(s) of {info}: {why}",
                        batch.len()
                    ));
                }
                Attempt::Partial(first) => {
                    return Err(miette::miette!(
                        "the function reported batchItemFailures from {} in {info}",
                        batch[first].sequence_number
                    ));
                }
            }
        }
        Ok(Handled {
            records: records.len() as u64,
            already: 0,
        })
    }

    fn context(&self, info: &BatchInfo) -> EventContext {
        let (region, role_arn) = match self {
            Invoker::Lambda {
                region, role_arn, ..
            } => (region.clone(), role_arn.clone()),
            Invoker::Local { host, function } => host
                .function(function)
                .map(|f| (f.region, f.role.unwrap_or_default()))
                .unwrap_or_default(),
        };
        EventContext {
            stream_arn: info.stream_arn.clone(),
            region,
            role_arn,
        }
    }

    async fn invoke(&self, payload: Vec<u8>) -> miette::Result<InvokeResult> {
        match self {
            Invoker::Lambda {
                client, function, ..
            } => {
                let out = client
                    .invoke()
                    .function_name(function)
                    .payload(aws_sdk_lambda::primitives::Blob::new(payload))
                    .send()
                    .await
                    .map_err(|e| {
                        miette::miette!("{}", kstream_producer::sdk_error_message(&e))
                            .wrap_err(format!("cannot invoke {function}"))
                    })?;
                let body = out
                    .payload()
                    .map(|b| b.as_ref().to_vec())
                    .unwrap_or_default();
                Ok(match out.function_error() {
                    Some(kind) => InvokeResult::Error(FunctionError::new(
                        kind,
                        String::from_utf8_lossy(&body),
                    )),
                    None => InvokeResult::Ok(body.into()),
                })
            }
            Invoker::Local { host, function } => host
                .invoke(function, payload)
                .await
                .map(|outcome| outcome.result)
                .map_err(|e| miette::miette!("cannot invoke {function} on this machine: {e}")),
        }
    }
}

/// Records per event: the batch size the message names (the mapping's batch), else all.
fn max_records(info: &BatchInfo, records: &[StreamRecord]) -> usize {
    info.batch_size
        .and_then(|n| usize::try_from(n).ok())
        .filter(|n| *n > 0)
        .unwrap_or(records.len())
        .max(1)
}

/// The records cut into events of at most `max_records` records and
/// [`INVOKE_PAYLOAD_MAX_BYTES`] (a record alone is always one event).
fn batches<'a>(
    records: &'a [StreamRecord],
    ctx: &EventContext,
    max_records: usize,
) -> Vec<&'a [StreamRecord]> {
    let mut out = Vec::new();
    let (mut start, mut bytes) = (0, EVENT_ENVELOPE_BYTES);
    for (i, record) in records.iter().enumerate() {
        let size = record_event_bytes(record, ctx) + usize::from(i > start);
        if i > start && (i - start == max_records || bytes + size > INVOKE_PAYLOAD_MAX_BYTES) {
            out.push(&records[start..i]);
            start = i;
            bytes = EVENT_ENVELOPE_BYTES + record_event_bytes(record, ctx);
        } else {
            bytes += size;
        }
    }
    if start < records.len() {
        out.push(&records[start..]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use kstream_kpl::{Aggregator, AggregatorConfig, UserRecord};

    fn info() -> BatchInfo {
        BatchInfo {
            shard_id: "shardId-000000000000".into(),
            start_sequence_number: "1".into(),
            end_sequence_number: "2".into(),
            stream_arn: "arn:aws:kinesis:us-east-1:123456789012:stream/s".into(),
            batch_size: Some(2),
        }
    }

    fn record(seq: &str, data: impl Into<Bytes>) -> StreamRecord {
        StreamRecord {
            shard_id: "shardId-000000000000".into(),
            sequence_number: seq.into(),
            partition_key: "pk".into(),
            data: data.into(),
            arrival: 1_700_000_000.5,
        }
    }

    fn ctx() -> EventContext {
        EventContext {
            stream_arn: info().stream_arn,
            region: "us-east-1".into(),
            role_arn: "arn:aws:iam::123456789012:role/r".into(),
        }
    }

    #[test]
    fn aggregates_are_written_one_line_per_user_record() {
        let mut agg = Aggregator::new(AggregatorConfig::default());
        for (k, d) in [("a", "one"), ("b", "two")] {
            let _ = agg.add(UserRecord::new(k, d.as_bytes().to_vec()));
        }
        let aggregate = agg.flush().unwrap();
        let records = [
            record("1", Bytes::from_static(b"plain")),
            record("2", aggregate.data),
        ];
        let lines: Vec<Value> = user_records(&records)
            .map(|(r, sub)| serde_json::from_str(&line(&info(), r, &sub).1).unwrap())
            .collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0]["data"], STANDARD.encode("plain"));
        assert_eq!(lines[0]["aggregated"], false);
        assert_eq!(lines[1]["partitionKey"], "a");
        assert_eq!(lines[2]["subSequenceNumber"], 1);
        assert_eq!(lines[2]["data"], STANDARD.encode("two"));
        assert_eq!(lines[2]["sequenceNumber"], "2");
        assert_eq!(
            lines[0]["approximateArrivalTimestamp"],
            "2023-11-14T22:13:20.500Z"
        );
    }

    #[test]
    fn a_file_is_appended_to_without_duplicates_and_foreign_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.jsonl");
        let records = [record("1", "x"), record("2", "y")];
        let mut sink = FileSink::open(&path).unwrap();
        let first = sink.write(&info(), &records).unwrap();
        assert_eq!((first.records, first.already), (2, 0));
        // A second run (new process) over the same range writes nothing new.
        let mut sink = FileSink::open(&path).unwrap();
        let second = sink.write(&info(), &records).unwrap();
        assert_eq!((second.records, second.already), (2, 2));
        assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 2);
        std::fs::write(dir.path().join("other"), "hello\n").unwrap();
        let err = FileSink::open(&dir.path().join("other")).err().unwrap();
        assert!(err.to_string().contains("line 1"), "{err}");
    }

    #[test]
    fn events_are_cut_by_record_count_and_payload_size() {
        let small: Vec<StreamRecord> = (1..=5).map(|i| record(&i.to_string(), "x")).collect();
        let cut: Vec<usize> = batches(&small, &ctx(), 2).iter().map(|b| b.len()).collect();
        assert_eq!(cut, [2, 2, 1]);
        // 1 MiB records: 4 fit in 6 MB as base64 (1.33 MiB each), not 5.
        let big: Vec<StreamRecord> = (1..=9)
            .map(|i| record(&i.to_string(), vec![b'x'; 1024 * 1024]))
            .collect();
        let cut = batches(&big, &ctx(), 10_000);
        assert_eq!(cut.iter().map(|b| b.len()).collect::<Vec<_>>(), [4, 4, 1]);
        for batch in cut {
            assert!(kinesis_event(batch, &ctx()).to_string().len() <= INVOKE_PAYLOAD_MAX_BYTES);
        }
    }

    #[test]
    fn s3_keys_derive_from_the_range() {
        let prefix = S3Prefix::parse("s3://bucket/redrive/").unwrap();
        assert_eq!(
            s3_key(&prefix, &info()),
            "redrive/s/shardId-000000000000/1-2.jsonl"
        );
    }
}
