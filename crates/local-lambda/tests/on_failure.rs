//! An on-failure destination that refuses the failure record, on the emulator, with the real
//! `kstream-test-fn`: the batch given up stays un-checkpointed (its metadata is not lost) until
//! the queue is back, then the record arrives and the mapping moves on.
//!
//! Needs the emulator: run by scripts/test-e2e.sh (`cargo test -- --ignored`).

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use kstream_local_lambda::checkpoint::CheckpointStore;
use kstream_local_lambda::mapping::{
    MappingRunner, MappingSpec, MappingStats, RunnerOptions, StartingPosition,
};
use kstream_local_lambda::runtime::{FunctionHost, FunctionSpec};
use serde_json::json;
use tokio::sync::watch;

use kstream_local_testkit::{emulator, seen, test_fn, test_fn_env, wait_for};

const WAIT: Duration = Duration::from_secs(60);
const SHARD: &str = "shardId-000000000000";

/// The checkpoint of the shard as it is on disk (what a restarted data plane would read).
fn checkpoint_on_disk(dir: &std::path::Path, spec: &MappingSpec) -> Option<String> {
    CheckpointStore::open(dir, &spec.uuid, &spec.stream_arn)
        .unwrap()
        .get(SHARD)
}

#[tokio::test]
#[ignore = "needs the emulator: run by scripts/test-e2e.sh"]
async fn a_refused_on_failure_send_keeps_the_batch_until_the_queue_is_back() {
    let emu = emulator().await;
    let dir = tempfile::tempdir().unwrap();
    let (stream, stream_arn) = emu.stream(1).await;
    let (url, queue_arn) = emu.queue().await;
    let queue_name = queue_arn.rsplit(':').next().unwrap().to_owned();
    // The destination is gone before the mapping gives anything up: GetQueueUrl fails.
    emu.sqs.delete_queue().queue_url(&url).send().await.unwrap();

    let name = format!("{}-fn", emu.prefix);
    let mut spec = MappingSpec::new(format!("{}-esm", emu.prefix), &name, &stream_arn);
    spec.starting_position = StartingPosition::TrimHorizon;
    spec.batch_size = 10;
    spec.policy.max_retry_attempts = Some(0);
    spec.on_failure = Some(queue_arn.clone());

    // One batch of three records, the middle one failing the whole invocation.
    let mut batch = Vec::new();
    for act in ["ok", "fail", "ok"] {
        batch.push(
            emu.put(&stream, "pk", &json!({ "act": act }).to_string())
                .await,
        );
    }

    let host = FunctionHost::builder()
        .log_dir(dir.path().join("logs"))
        .build();
    let mut function = FunctionSpec::new(&name, test_fn());
    function.timeout = Duration::from_secs(10);
    for (k, v) in test_fn_env(dir.path(), false) {
        function.environment.insert(k.into(), v);
    }
    host.register(function);
    let stats = Arc::new(MappingStats::default());
    let runner = MappingRunner::new(
        spec.clone(),
        host.clone(),
        &emu.sdk,
        CheckpointStore::open(dir.path(), &spec.uuid, &spec.stream_arn).unwrap(),
        stats.clone(),
        RunnerOptions {
            poll_interval: Duration::from_millis(100),
            ..RunnerOptions::default()
        },
    );
    let (stop, rx) = watch::channel(false);
    let task = tokio::spawn(runner.run(rx));

    // The batch is invoked once, fails, and is given up: the send is refused (one round of
    // five attempts takes 3 s; this waits through more than one).
    wait_for("the first invocation", WAIT, || {
        stats.invocations.load(Ordering::Relaxed) >= 1
    })
    .await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(
        stats.invocations.load(Ordering::Relaxed),
        1,
        "the send is retried, not the function"
    );
    assert_eq!(stats.failure_messages.load(Ordering::Relaxed), 0);
    assert_eq!(
        stats.records_given_up.load(Ordering::Relaxed),
        0,
        "nothing counts as given up while its failure record is not delivered"
    );
    assert_eq!(stats.records_done.load(Ordering::Relaxed), 0);
    assert_eq!(
        checkpoint_on_disk(dir.path(), &spec),
        None,
        "the batch is not checkpointed"
    );

    // The queue is back (same name, so the same ARN): the failure record arrives, naming the
    // whole batch, and the mapping checkpoints past it.
    let url = emu
        .sqs
        .create_queue()
        .queue_name(&queue_name)
        .send()
        .await
        .unwrap()
        .queue_url()
        .unwrap()
        .to_owned();
    wait_for("the failure record delivered", WAIT, || {
        stats.failure_messages.load(Ordering::Relaxed) == 1
            && stats.records_done.load(Ordering::Relaxed) == 3
    })
    .await;
    let messages = emu.receive(&url, 2, Duration::from_secs(3)).await;
    assert_eq!(messages.len(), 1, "one failure record: {messages:#?}");
    let message = &messages[0];
    assert_eq!(
        message["requestContext"]["condition"],
        "RetryAttemptsExhausted"
    );
    assert_eq!(message["requestContext"]["approximateInvokeCount"], 1);
    assert_eq!(message["responseContext"]["functionError"], "Unhandled");
    let info = &message["KinesisBatchInfo"];
    assert_eq!(info["shardId"], SHARD);
    assert_eq!(info["startSequenceNumber"], batch[0].as_str());
    assert_eq!(info["endSequenceNumber"], batch[2].as_str());
    assert_eq!(info["batchSize"], 3);
    assert_eq!(info["streamArn"], stream_arn.as_str());
    assert_eq!(stats.records_given_up.load(Ordering::Relaxed), 3);
    assert_eq!(
        checkpoint_on_disk(dir.path(), &spec).as_deref(),
        Some(batch[2].as_str())
    );

    // And moves on: later records are invoked and checkpointed, with no further failure record.
    let mut later = Vec::new();
    for i in 0..2 {
        later.push(
            emu.put(&stream, "pk", &json!({ "act": "ok", "i": i }).to_string())
                .await,
        );
    }
    wait_for("the later records", WAIT, || {
        stats.records_done.load(Ordering::Relaxed) == 5
    })
    .await;
    let _ = stop.send(true);
    task.await.unwrap().unwrap();
    host.shutdown().await;

    assert_eq!(
        checkpoint_on_disk(dir.path(), &spec).as_deref(),
        Some(later[1].as_str())
    );
    assert_eq!(stats.failure_messages.load(Ordering::Relaxed), 1);
    let invocations = seen(&dir.path().join("seen.jsonl"));
    assert_eq!(invocations[0].seqs, batch, "{invocations:#?}");
    // The later records come in one invocation or, when the poller reads the first before the
    // second is put, in two: either way each once, in order, and never the given-up batch again.
    let after: Vec<String> = invocations[1..]
        .iter()
        .flat_map(|i| i.seqs.iter().cloned())
        .collect();
    assert_eq!(after, later, "{invocations:#?}");
    assert!(
        emu.receive(&url, 1, Duration::from_secs(1))
            .await
            .is_empty()
    );
    let _ = emu.sqs.delete_queue().queue_url(&url).send().await;
    let _ = emu
        .kinesis
        .delete_stream()
        .stream_name(&stream)
        .send()
        .await;
}
