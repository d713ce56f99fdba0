//! What the producer reads about the stream: its summary (record size limit, distribution
//! strategy) and the hash key ranges of its open shards.

use aws_sdk_kinesis::Client;
use aws_sdk_kinesis::types::RecordDistributionStrategy;
use std::collections::HashMap;

use kstream_kpl::ShardMap;

use crate::error::Error;

/// The parts of `DescribeStreamSummary` the producer uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StreamInfo {
    /// `MaxRecordSizeInKiB` × 1024, when the service reports it.
    pub(crate) max_record_size: Option<usize>,
    /// `RecordDistributionStrategy` is `AUTO`.
    pub(crate) auto_distribution: bool,
}

/// Calls `DescribeStreamSummary`.
pub(crate) async fn describe(client: &Client, stream: &str) -> Result<StreamInfo, Error> {
    let out = client
        .describe_stream_summary()
        .stream_name(stream)
        .send()
        .await
        .map_err(|e| Error::DescribeStream {
            stream: stream.to_owned(),
            message: crate::sdk_error_message(&e),
        })?;
    let summary = out.stream_description_summary();
    Ok(StreamInfo {
        max_record_size: summary
            .and_then(|s| s.max_record_size_in_kib())
            .and_then(|kib| usize::try_from(kib).ok())
            .filter(|kib| *kib > 0)
            .map(|kib| kib * 1024),
        auto_distribution: summary
            .and_then(|s| s.record_distribution_strategy())
            .is_some_and(|s| *s == RecordDistributionStrategy::Auto),
    })
}

/// The shards of a stream: the map of the open ones (for predictions) and the hash key range of
/// every listed shard, closed ones included (to judge where a record landed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Shards {
    pub(crate) open: ShardMap,
    pub(crate) all: HashMap<String, (u128, u128)>,
}

impl Shards {
    /// Shards known only from a map of open shards.
    #[cfg(test)]
    pub(crate) fn from_open(open: ShardMap) -> Self {
        let all = open
            .ranges()
            .iter()
            .map(|r| {
                (
                    r.shard_id.to_string(),
                    (r.starting_hash_key, r.ending_hash_key),
                )
            })
            .collect();
        Self { open, all }
    }
}

/// Lists every shard (all pages) and maps the hash key ranges.
pub(crate) async fn list(client: &Client, stream: &str) -> Result<Shards, Error> {
    let describe_err = |message: String| Error::DescribeStream {
        stream: stream.to_owned(),
        message,
    };
    let mut ranges = Vec::new();
    let mut all = HashMap::new();
    let mut next_token: Option<String> = None;
    loop {
        // ListShards rejects StreamName together with NextToken.
        let request = match &next_token {
            Some(token) => client.list_shards().next_token(token),
            None => client.list_shards().stream_name(stream),
        };
        let out = request
            .send()
            .await
            .map_err(|e| describe_err(crate::sdk_error_message(&e)))?;
        for shard in out.shards() {
            let open = shard
                .sequence_number_range()
                .is_none_or(|r| r.ending_sequence_number().is_none());
            if let Some(range) = shard.hash_key_range()
                && let (Ok(start), Ok(end)) = (
                    kstream_kpl::parse_hash_key(range.starting_hash_key()),
                    kstream_kpl::parse_hash_key(range.ending_hash_key()),
                )
            {
                all.insert(shard.shard_id().to_owned(), (start, end));
            }
            if let (true, Some(range)) = (open, shard.hash_key_range()) {
                ranges.push((
                    shard.shard_id().to_owned(),
                    range.starting_hash_key().to_owned(),
                    range.ending_hash_key().to_owned(),
                ));
            }
        }
        next_token = out.next_token().map(str::to_owned);
        if next_token.is_none() {
            break;
        }
    }
    let open = ShardMap::from_decimal(ranges).map_err(|e| describe_err(e.to_string()))?;
    Ok(Shards { open, all })
}
