//! What the stage tests share: a pipeline with paused time and no network (the client points
//! nowhere and requests are only dispatched, never awaited), a shard map, a record.

use std::sync::Arc;

use aws_sdk_kinesis::Client;
use kstream_kpl::{ShardMap, UserRecord};
use tokio::sync::{Semaphore, oneshot};

use super::{Pending, Pipeline};
use crate::config::ProducerConfig;
use crate::metrics::Metrics;
use crate::shards::Shards;

pub(super) fn client() -> Client {
    let config = aws_sdk_kinesis::Config::builder()
        .behavior_version(aws_sdk_kinesis::config::BehaviorVersion::latest())
        .region(aws_sdk_kinesis::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_kinesis::config::Credentials::new(
            "test", "test", None, None, "test",
        ))
        .endpoint_url("http://127.0.0.1:9")
        .build();
    Client::from_conf(config)
}

pub(super) fn two_shards() -> ShardMap {
    let half = u128::MAX / 2;
    ShardMap::from_decimal([
        ("shardId-000000000000", "0".to_owned(), half.to_string()),
        (
            "shardId-000000000001",
            (half + 1).to_string(),
            u128::MAX.to_string(),
        ),
    ])
    .unwrap()
}

/// A pipeline of `config` that predicts shards with `map`, and its counters.
pub(super) fn pipeline(config: &ProducerConfig, map: ShardMap) -> (Pipeline, Arc<Metrics>) {
    let metrics = Arc::new(Metrics::default());
    let pipeline = Pipeline::new(
        config.clone(),
        client(),
        metrics.clone(),
        1024 * 1024,
        true,
        Some(Shards::from_open(map)),
    )
    .unwrap();
    (pipeline, metrics)
}

pub(super) fn pending(config: &ProducerConfig, key: &str, data: &str) -> Pending {
    let permits = Arc::new(Semaphore::new(1));
    let (tx, _rx) = oneshot::channel();
    Pending::new(
        UserRecord::new(key, data.to_owned()),
        tx,
        permits.try_acquire_owned().unwrap(),
        config,
    )
}
