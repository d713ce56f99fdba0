//! What the stage tests share: a pipeline with paused time and no network (the client reaches
//! nothing and requests are only dispatched, never awaited), a shard map, a record.

use std::sync::Arc;

use futures::future::BoxFuture;
use kstream_kpl::{ShardMap, UserRecord};
use tokio::sync::{Semaphore, oneshot};

use super::{Pending, Pipeline};
use crate::config::ProducerConfig;
use crate::kinesis::{
    Kinesis, KinesisError, PutRecordsEntry, PutRecordsResult, ShardList, ShardPage, StreamSummary,
};
use crate::metrics::Metrics;
use crate::shards::Shards;

/// A client without a network: every call fails as a refused connection would.
struct Unreachable;

fn refused<T>() -> BoxFuture<'static, Result<T, KinesisError>> {
    Box::pin(async {
        Err(KinesisError {
            code: "DispatchFailure".to_owned(),
            message: "no network in the stage tests".to_owned(),
            status: None,
        })
    })
}

impl Kinesis for Unreachable {
    fn describe_stream_summary<'a>(
        &'a self,
        _stream: &'a str,
    ) -> BoxFuture<'a, Result<StreamSummary, KinesisError>> {
        refused()
    }

    fn list_shards<'a>(
        &'a self,
        _page: ShardPage<'a>,
    ) -> BoxFuture<'a, Result<ShardList, KinesisError>> {
        refused()
    }

    fn put_records<'a>(
        &'a self,
        _stream: &'a str,
        _entries: Vec<PutRecordsEntry>,
    ) -> BoxFuture<'a, Result<Vec<PutRecordsResult>, KinesisError>> {
        refused()
    }
}

pub(super) fn client() -> Arc<dyn Kinesis> {
    Arc::new(Unreachable)
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
