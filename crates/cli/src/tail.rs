//! `kstream tail`: reads every shard of a stream, deaggregates KPL records, prints JSON lines.
//!
//! One reader per shard (ListShards, GetShardIterator, a GetRecords loop). With
//! `--from trim-horizon` every shard is read from its oldest record, parents before children;
//! with `--from latest` (the default) the open shards are read from now on. When a shard ends
//! (resharding), its child shards are read from their start once all their parents are done.
//!
//! Each user record is one line on stdout:
//! `{"shardId", "sequenceNumber", "subSequenceNumber", "partitionKey", "explicitHashKey"?,
//! "approximateArrivalTimestamp", "aggregated", "data", "dataEncoding"}` where `data` is the
//! record's JSON when it is valid JSON (`dataEncoding: "json"`), else its text (`"text"`), else
//! base64 (`"base64"`). A record that looks aggregated but is corrupt is printed as is, with
//! `"corrupt": "<reason>"`.

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::time::Duration;

use aws_sdk_kinesis::Client;
use aws_sdk_kinesis::error::ProvideErrorMetadata;
use aws_sdk_kinesis::types::ShardIteratorType;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, SecondsFormat};
use kstream_kpl::SubRecord;
use serde_json::{Map, Value, json};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crate::aws::{ConnectArgs, parse_duration, sdk_error};

/// Arguments of `kstream tail`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The stream to read.
    #[arg(long, short)]
    stream: String,
    /// Where to start in each shard.
    #[arg(long, value_enum, default_value_t = From::Latest)]
    from: From,
    /// Stop after this many user records.
    #[arg(long)]
    count: Option<u64>,
    /// Stop after this long (e.g. 30s); with --count, fewer records by then is an error.
    #[arg(long, value_parser = parse_duration)]
    timeout: Option<Duration>,
    /// Pause between GetRecords calls on a shard with nothing new (Kinesis allows 5 calls/s
    /// per shard).
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    poll_interval: Duration,
    #[command(flatten)]
    connect: ConnectArgs,
}

/// Starting position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum From {
    /// Only records put from now on.
    Latest,
    /// Every record still in the stream.
    TrimHorizon,
}

/// What a shard reader reports.
enum Event {
    Lines(Vec<String>),
    /// A shard reached its end; its children with their parents.
    Finished {
        shard: String,
        children: Vec<(String, Vec<String>)>,
    },
    Failed(miette::Report),
}

#[derive(Debug, Clone)]
struct ShardInfo {
    parents: Vec<String>,
    open: bool,
}

/// Runs `kstream tail`.
pub(crate) async fn run(args: Args) -> miette::Result<()> {
    let client = args.connect.kinesis().await?;
    let shards = list_shards(&client, &args.stream).await?;
    let (tx, mut rx) = mpsc::channel::<Event>(64);
    let mut readers = JoinSet::new();
    let mut started: HashSet<String> = HashSet::new();
    let mut finished: HashSet<String> = HashSet::new();
    let known: HashMap<String, ShardInfo> = shards.iter().cloned().collect();
    let start = |id: &str,
                 kind: ShardIteratorType,
                 readers: &mut JoinSet<()>,
                 started: &mut HashSet<String>| {
        if started.insert(id.to_owned()) {
            tracing::debug!(shard = id, ?kind, "reading shard");
            readers.spawn(read_shard(
                client.clone(),
                args.stream.clone(),
                id.to_owned(),
                kind,
                args.poll_interval,
                tx.clone(),
            ));
        }
    };
    match args.from {
        From::Latest => {
            for (id, info) in &shards {
                if info.open {
                    start(id, ShardIteratorType::Latest, &mut readers, &mut started);
                }
            }
        }
        From::TrimHorizon => {
            for (id, info) in &shards {
                if info.parents.iter().all(|p| !known.contains_key(p)) {
                    start(
                        id,
                        ShardIteratorType::TrimHorizon,
                        &mut readers,
                        &mut started,
                    );
                }
            }
        }
    }
    if started.is_empty() {
        return Err(miette::miette!(
            "stream {} has no shard to read",
            args.stream
        ));
    }
    let deadline = args.timeout.map(|t| tokio::time::Instant::now() + t);
    let mut interrupted = crate::producing::interrupt();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut printed: u64 = 0;
    let mut timed_out = false;
    'outer: loop {
        let event = tokio::select! {
            event = rx.recv() => event,
            () = sleep_until_opt(deadline) => { timed_out = true; break; }
            _ = interrupted.changed() => break,
        };
        let Some(event) = event else { break };
        match event {
            Event::Lines(lines) => {
                for line in lines {
                    if writeln!(out, "{line}").is_err() {
                        break 'outer; // stdout closed (e.g. `| head`)
                    }
                    printed += 1;
                    if args.count.is_some_and(|n| printed >= n) {
                        break 'outer;
                    }
                }
                if out.flush().is_err() {
                    break;
                }
            }
            Event::Finished { shard, children } => {
                finished.insert(shard);
                for (child, parents) in children {
                    if parents
                        .iter()
                        .all(|p| finished.contains(p) || !known.contains_key(p))
                    {
                        start(
                            &child,
                            ShardIteratorType::TrimHorizon,
                            &mut readers,
                            &mut started,
                        );
                    }
                }
                if finished.len() == started.len() {
                    // Every shard read to its end and no child left to read.
                    break;
                }
            }
            Event::Failed(e) => {
                readers.abort_all();
                return Err(e);
            }
        }
    }
    let _ = out.flush();
    readers.abort_all();
    if let Some(n) = args.count
        && printed < n
        && timed_out
    {
        return Err(miette::miette!(
            "only {printed} of {n} records arrived within {:?}",
            args.timeout.unwrap_or_default()
        ));
    }
    Ok(())
}

async fn sleep_until_opt(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

/// Every shard of the stream with its parents and whether it is open.
async fn list_shards(client: &Client, stream: &str) -> miette::Result<Vec<(String, ShardInfo)>> {
    let mut shards = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let request = match &token {
            Some(t) => client.list_shards().next_token(t),
            None => client.list_shards().stream_name(stream),
        };
        let out = request
            .send()
            .await
            .map_err(sdk_error)
            .map_err(|e| e.wrap_err(format!("cannot list the shards of {stream}")))?;
        for shard in out.shards() {
            let parents = shard
                .parent_shard_id()
                .into_iter()
                .chain(shard.adjacent_parent_shard_id())
                .map(str::to_owned)
                .collect();
            let open = shard
                .sequence_number_range()
                .is_none_or(|r| r.ending_sequence_number().is_none());
            shards.push((shard.shard_id().to_owned(), ShardInfo { parents, open }));
        }
        token = out.next_token().map(str::to_owned);
        if token.is_none() {
            return Ok(shards);
        }
    }
}

/// Reads one shard until it ends, sending its records as JSON lines.
async fn read_shard(
    client: Client,
    stream: String,
    shard: String,
    kind: ShardIteratorType,
    poll: Duration,
    tx: mpsc::Sender<Event>,
) {
    let mut last_sequence: Option<String> = None;
    let mut iterator = match iterator(&client, &stream, &shard, kind.clone(), None).await {
        Ok(it) => it,
        Err(e) => {
            let _ = tx.send(Event::Failed(e)).await;
            return;
        }
    };
    loop {
        let page = match client
            .get_records()
            .shard_iterator(&iterator)
            .limit(10_000)
            .send()
            .await
        {
            Ok(page) => page,
            Err(err) => {
                let code = err.code().unwrap_or_default().to_owned();
                if code == "ExpiredIteratorException" {
                    match iterator_after(
                        &client,
                        &stream,
                        &shard,
                        kind.clone(),
                        last_sequence.as_deref(),
                    )
                    .await
                    {
                        Ok(it) => {
                            iterator = it;
                            continue;
                        }
                        Err(e) => {
                            let _ = tx.send(Event::Failed(e)).await;
                            return;
                        }
                    }
                }
                if code == "ProvisionedThroughputExceededException"
                    || code == "KMSThrottlingException"
                {
                    tokio::time::sleep(poll.max(Duration::from_secs(1))).await;
                    continue;
                }
                let report = sdk_error(err).wrap_err(format!("GetRecords on {shard} failed"));
                let _ = tx.send(Event::Failed(report)).await;
                return;
            }
        };
        let mut lines = Vec::with_capacity(page.records().len());
        for record in page.records() {
            let arrival = record
                .approximate_arrival_timestamp()
                .and_then(|t| DateTime::from_timestamp_millis(t.to_millis().ok()?))
                .map(|t| t.to_rfc3339_opts(SecondsFormat::Millis, true));
            let subs = kstream_kpl::deaggregate_record(
                record.partition_key().unwrap_or_default(),
                record.sequence_number(),
                record.data().as_ref().to_vec(),
            );
            for sub in subs {
                lines.push(line(&shard, arrival.as_deref(), &sub));
            }
            last_sequence = Some(record.sequence_number().to_owned());
        }
        let empty = lines.is_empty();
        if !empty && tx.send(Event::Lines(lines)).await.is_err() {
            return;
        }
        match page.next_shard_iterator() {
            Some(next) => iterator = next.to_owned(),
            None => {
                let children = page
                    .child_shards()
                    .iter()
                    .map(|c| (c.shard_id().to_owned(), c.parent_shards().to_vec()))
                    .collect();
                let _ = tx.send(Event::Finished { shard, children }).await;
                return;
            }
        }
        if empty || page.millis_behind_latest() == Some(0) {
            tokio::time::sleep(if empty {
                poll
            } else {
                poll.min(Duration::from_millis(200))
            })
            .await;
        }
    }
}

async fn iterator(
    client: &Client,
    stream: &str,
    shard: &str,
    kind: ShardIteratorType,
    after: Option<&str>,
) -> miette::Result<String> {
    let mut request = client
        .get_shard_iterator()
        .stream_name(stream)
        .shard_id(shard)
        .shard_iterator_type(kind);
    if let Some(sequence) = after {
        request = request.starting_sequence_number(sequence);
    }
    let out = request
        .send()
        .await
        .map_err(sdk_error)
        .map_err(|e| e.wrap_err(format!("GetShardIterator on {shard} failed")))?;
    out.shard_iterator()
        .map(str::to_owned)
        .ok_or_else(|| miette::miette!("GetShardIterator on {shard} returned no iterator"))
}

/// A fresh iterator after an expired one: after the last record read, else where it started.
async fn iterator_after(
    client: &Client,
    stream: &str,
    shard: &str,
    kind: ShardIteratorType,
    last: Option<&str>,
) -> miette::Result<String> {
    match last {
        Some(sequence) => {
            iterator(
                client,
                stream,
                shard,
                ShardIteratorType::AfterSequenceNumber,
                Some(sequence),
            )
            .await
        }
        None => iterator(client, stream, shard, kind, None).await,
    }
}

/// The JSON line of one user record.
fn line(shard: &str, arrival: Option<&str>, sub: &SubRecord) -> String {
    let mut object = Map::new();
    object.insert("shardId".into(), json!(shard));
    object.insert("sequenceNumber".into(), json!(sub.sequence_number));
    object.insert("subSequenceNumber".into(), json!(sub.sub_sequence_number));
    object.insert("partitionKey".into(), json!(sub.partition_key));
    if let Some(ehk) = &sub.explicit_hash_key {
        object.insert("explicitHashKey".into(), json!(ehk));
    }
    if let Some(arrival) = arrival {
        object.insert("approximateArrivalTimestamp".into(), json!(arrival));
    }
    object.insert("aggregated".into(), json!(sub.aggregated));
    let (data, encoding) = data_value(&sub.data);
    object.insert("data".into(), data);
    object.insert("dataEncoding".into(), json!(encoding));
    if sub.is_corrupt()
        && let Some(reason) = &sub.not_aggregated
    {
        object.insert("corrupt".into(), json!(reason.to_string()));
    }
    Value::Object(object).to_string()
}

/// Data as JSON when it is JSON, else text, else base64.
fn data_value(data: &[u8]) -> (Value, &'static str) {
    if let Ok(value) = serde_json::from_slice::<Value>(data) {
        return (value, "json");
    }
    match std::str::from_utf8(data) {
        Ok(text) => (json!(text), "text"),
        Err(_) => (json!(STANDARD.encode(data)), "base64"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kstream_kpl::{Aggregator, AggregatorConfig, UserRecord};

    #[test]
    fn data_is_json_text_or_base64() {
        assert_eq!(data_value(b"{\"a\":1}\n"), (json!({"a": 1}), "json"));
        assert_eq!(data_value(b"hello"), (json!("hello"), "text"));
        assert_eq!(data_value(&[0xff, 0x00]), (json!("/wA="), "base64"));
    }

    #[test]
    fn aggregates_print_one_line_per_user_record() {
        let mut aggregator = Aggregator::new(AggregatorConfig::builder().build().unwrap());
        aggregator
            .add(UserRecord::new("AAPL", "{\"p\":1}"))
            .unwrap();
        aggregator.add(UserRecord::new("MSFT", "plain")).unwrap();
        let agg = aggregator.flush().unwrap();
        let subs = kstream_kpl::deaggregate_record("a", "4960001", agg.data.to_vec());
        let lines: Vec<Value> = subs
            .iter()
            .map(|s| {
                serde_json::from_str(&line(
                    "shardId-000000000001",
                    Some("2026-11-22T05:00:00.000Z"),
                    s,
                ))
                .unwrap()
            })
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["partitionKey"], "AAPL");
        assert_eq!(lines[0]["data"], json!({"p": 1}));
        assert_eq!(lines[0]["subSequenceNumber"], 0);
        assert_eq!(lines[1]["subSequenceNumber"], 1);
        assert_eq!(lines[1]["sequenceNumber"], "4960001");
        assert_eq!(lines[1]["dataEncoding"], "text");
        assert_eq!(lines[1]["aggregated"], true);
    }
}
