//! What the producer reads about the stream: its summary (record size limit, distribution
//! strategy) and the hash key ranges of its open shards.

use std::collections::HashMap;

use kstream_kpl::ShardMap;

use crate::error::Error;
use crate::kinesis::{Kinesis, ShardPage};

/// The parts of `DescribeStreamSummary` the producer uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StreamInfo {
    /// `MaxRecordSizeInKiB` × 1024, when the service reports it.
    pub(crate) max_record_size: Option<usize>,
    /// `RecordDistributionStrategy` is `AUTO`.
    pub(crate) auto_distribution: bool,
}

/// Calls `DescribeStreamSummary`.
pub(crate) async fn describe(client: &dyn Kinesis, stream: &str) -> Result<StreamInfo, Error> {
    let summary =
        client
            .describe_stream_summary(stream)
            .await
            .map_err(|e| Error::DescribeStream {
                stream: stream.to_owned(),
                message: e.message,
            })?;
    Ok(StreamInfo {
        max_record_size: summary
            .max_record_size_in_kib
            .and_then(|kib| usize::try_from(kib).ok())
            .filter(|kib| *kib > 0)
            .map(|kib| kib * 1024),
        auto_distribution: summary.auto_distribution,
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
pub(crate) async fn list(client: &dyn Kinesis, stream: &str) -> Result<Shards, Error> {
    let describe_err = |message: String| Error::DescribeStream {
        stream: stream.to_owned(),
        message,
    };
    let mut ranges = Vec::new();
    let mut all = HashMap::new();
    let mut next_token: Option<String> = None;
    loop {
        let page = match &next_token {
            Some(token) => ShardPage::After(token),
            None => ShardPage::First(stream),
        };
        let out = client
            .list_shards(page)
            .await
            .map_err(|e| describe_err(e.message))?;
        for shard in out.shards {
            let Some((start, end)) = shard.hash_key_range else {
                continue;
            };
            if let (Ok(low), Ok(high)) = (
                kstream_kpl::parse_hash_key(&start),
                kstream_kpl::parse_hash_key(&end),
            ) {
                all.insert(shard.shard_id.clone(), (low, high));
            }
            if shard.open {
                ranges.push((shard.shard_id, start, end));
            }
        }
        next_token = out.next_token;
        if next_token.is_none() {
            break;
        }
    }
    let open = ShardMap::from_decimal(ranges).map_err(|e| describe_err(e.to_string()))?;
    Ok(Shards { open, all })
}
