//! What the producer reads about the stream: its summary (record size limit, distribution
//! strategy) and the hash key ranges of its open shards.

use aws_sdk_kinesis::Client;
use aws_sdk_kinesis::types::RecordDistributionStrategy;
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

/// Lists every shard (all pages) and maps the hash key ranges of the open ones.
pub(crate) async fn shard_map(client: &Client, stream: &str) -> Result<ShardMap, Error> {
    let describe_err = |message: String| Error::DescribeStream {
        stream: stream.to_owned(),
        message,
    };
    let mut ranges = Vec::new();
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
    ShardMap::from_decimal(ranges).map_err(|e| describe_err(e.to_string()))
}
