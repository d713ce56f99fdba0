//! Kinesis → Lambda mappings on the emulator, with the real test function binary.
//!
//! Needs the emulator: run by scripts/test-e2e.sh (`cargo test -- --ignored`).

use std::time::Duration;

use aws_sdk_lambda::operation::create_event_source_mapping::builders::CreateEventSourceMappingFluentBuilder;
use aws_sdk_lambda::types::{
    DestinationConfig, EventSourcePosition, FunctionResponseType, OnFailure,
};
use kstream_local::dataplane::{DataPlane, StatusHandle};
use kstream_local::lambda::deployed::BinaryResolver;
use kstream_local::lambda::mapping::RunnerOptions;
use kstream_local::status::MappingStatus;
use serde_json::{Value, json};
use tokio::sync::oneshot;

use kstream_local_testkit::{Emulator, Seen, emulator, seen, test_fn, wait_for};

const WAIT: Duration = Duration::from_secs(60);

struct Case {
    emu: Emulator,
    dir: tempfile::TempDir,
    stream: String,
    stream_arn: String,
    queue_url: String,
    function: String,
    function_arn: String,
    uuid: String,
}

struct Running {
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<kstream_local::Result<()>>,
    status: StatusHandle,
}

impl Running {
    fn mapping(&self) -> MappingStatus {
        self.status
            .report("running")
            .mappings
            .into_iter()
            .next()
            .expect("one mapping")
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        self.task.await.unwrap().unwrap();
    }
}

impl Case {
    async fn new(
        timeout: i32,
        report: bool,
        mapping: impl FnOnce(
            CreateEventSourceMappingFluentBuilder,
        ) -> CreateEventSourceMappingFluentBuilder,
    ) -> Self {
        let emu = emulator().await;
        let dir = tempfile::tempdir().unwrap();
        let (stream, stream_arn) = emu.stream(1).await;
        let (queue_url, queue_arn) = emu.queue().await;
        let role = emu.role().await;
        let function = format!("{}-fn", emu.prefix);
        let env = kstream_local_testkit::test_fn_env(dir.path(), report);
        let function_arn = emu.function(&function, &role, timeout, &env).await;
        let request = emu
            .lambda
            .create_event_source_mapping()
            .function_name(&function)
            .event_source_arn(&stream_arn)
            .starting_position(EventSourcePosition::TrimHorizon)
            .destination_config(
                DestinationConfig::builder()
                    .on_failure(OnFailure::builder().destination(queue_arn).build())
                    .build(),
            );
        let uuid = mapping(request)
            .send()
            .await
            .unwrap()
            .uuid()
            .unwrap()
            .to_owned();
        Self {
            emu,
            dir,
            stream,
            stream_arn,
            queue_url,
            function,
            function_arn,
            uuid,
        }
    }

    async fn put(&self, data: Value) -> String {
        self.emu.put(&self.stream, "pk", &data.to_string()).await
    }

    async fn start(&self) -> Running {
        // Only this test's resources: unscoped, the plane would also run the Firehose delivery
        // streams other tests create in the shared emulator, writing into their buckets.
        let plane = DataPlane::builder()
            .name_prefix(format!("{}-", self.emu.prefix))
            .state_dir(self.dir.path().join("state"))
            .binaries(BinaryResolver::default().binary(&self.function, test_fn()))
            .runner_options(RunnerOptions {
                poll_interval: Duration::from_millis(100),
                ..RunnerOptions::default()
            })
            .start(&self.emu.sdk)
            .await
            .unwrap();
        let mappings = plane.mappings();
        assert_eq!(
            mappings.len(),
            1,
            "only this test's mapping runs: {mappings:?}"
        );
        assert_eq!(mappings[0].uuid, self.uuid);
        let status = plane.status();
        let (stop, rx) = oneshot::channel();
        let task = tokio::spawn(plane.run(async {
            let _ = rx.await;
        }));
        Running { stop, task, status }
    }

    /// Deletes what the case created (a failed test leaves it: names are unique).
    async fn cleanup(self) {
        self.emu
            .delete_mapping_case(&self.uuid, &self.function, &self.stream, &self.queue_url)
            .await;
    }

    fn seen(&self) -> Vec<Seen> {
        seen(&self.dir.path().join("seen.jsonl"))
    }

    fn log(&self) -> String {
        std::fs::read_to_string(
            self.dir
                .path()
                .join(format!("state/logs/{}.log", self.function)),
        )
        .unwrap_or_default()
    }

    async fn failures(&self, n: usize) -> Vec<Value> {
        self.emu.receive(&self.queue_url, n, WAIT).await
    }

    fn check_batch_info(&self, message: &Value, start: &str, end: &str, size: usize) {
        let info = &message["KinesisBatchInfo"];
        assert_eq!(info["shardId"], "shardId-000000000000", "{message}");
        assert_eq!(info["startSequenceNumber"], start, "{message}");
        assert_eq!(info["endSequenceNumber"], end, "{message}");
        assert_eq!(info["batchSize"], size, "{message}");
        assert_eq!(info["streamArn"], self.stream_arn.as_str());
        for key in [
            "approximateArrivalOfFirstRecord",
            "approximateArrivalOfLastRecord",
        ] {
            let t = info[key].as_str().unwrap();
            assert!(
                chrono::DateTime::parse_from_rfc3339(t).is_ok() && t.ends_with('Z'),
                "{key}: {t}"
            );
        }
        assert_eq!(message["version"], "1.0");
        assert_eq!(
            message["requestContext"]["functionArn"],
            self.function_arn.as_str()
        );
        assert_eq!(message["responseContext"]["statusCode"], 200);
        assert_eq!(message["responseContext"]["executedVersion"], "$LATEST");
        assert!(message["timestamp"].as_str().unwrap().ends_with('Z'));
    }
}

#[tokio::test]
#[ignore = "needs the emulator: run by scripts/test-e2e.sh"]
async fn a_function_that_crashes_mid_batch_is_restarted_and_the_batch_retried() {
    let case = Case::new(10, false, |m| m.batch_size(10).maximum_retry_attempts(3)).await;
    let mut seqs = Vec::new();
    for act in ["ok", "ok", "crash-once", "ok"] {
        seqs.push(case.put(json!({ "act": act })).await);
    }
    let running = case.start().await;
    wait_for("all four records done", WAIT, || {
        running.mapping().records_done == 4
    })
    .await;
    let m = running.mapping();
    running.stop().await;
    let seen = case.seen();
    assert_eq!(seen.len(), 2, "the crashed batch and its retry: {seen:?}");
    assert_eq!(seen[0].seqs, seqs);
    assert_eq!(seen[1].seqs, seqs, "the same batch again, in a new process");
    assert_eq!(
        (m.invocations, m.failed_invocations, m.failure_messages),
        (2, 1, 0)
    );
    assert!(case.log().contains("Runtime.ExitError"), "{}", case.log());
    assert!(case.failures(0).await.is_empty());
    case.cleanup().await;
}

#[tokio::test]
#[ignore = "needs the emulator: run by scripts/test-e2e.sh"]
async fn a_batch_that_exhausts_its_retries_lands_in_sqs_with_its_metadata() {
    let case = Case::new(10, false, |m| m.batch_size(10).maximum_retry_attempts(2)).await;
    let mut seqs = Vec::new();
    for act in ["ok", "fail", "ok"] {
        seqs.push(case.put(json!({ "act": act })).await);
    }
    let running = case.start().await;
    let messages = case.failures(1).await;
    wait_for("records done", WAIT, || running.mapping().records_done == 3).await;
    let m = running.mapping();
    running.stop().await;
    assert_eq!(messages.len(), 1);
    let message = &messages[0];
    case.check_batch_info(message, &seqs[0], &seqs[2], 3);
    assert_eq!(
        message["requestContext"]["condition"],
        "RetryAttemptsExhausted"
    );
    assert_eq!(message["requestContext"]["approximateInvokeCount"], 3);
    assert_eq!(message["responseContext"]["functionError"], "Unhandled");
    let seen = case.seen();
    assert_eq!(seen.len(), 3, "first attempt and two retries");
    assert!(seen.iter().all(|s| s.seqs == seqs));
    assert_eq!(
        message["requestContext"]["requestId"].as_str().unwrap(),
        seen[2].request_id,
        "the last invocation's request id"
    );
    assert_eq!(
        (m.invocations, m.failure_messages, m.records_given_up),
        (3, 1, 3)
    );
    case.cleanup().await;
}

#[tokio::test]
#[ignore = "needs the emulator: run by scripts/test-e2e.sh"]
async fn a_restart_reprocesses_nothing_already_checkpointed() {
    let case = Case::new(10, false, |m| m.batch_size(3)).await;
    let mut first = Vec::new();
    for i in 0..5 {
        first.push(case.put(json!({ "act": "ok", "i": i })).await);
    }
    let running = case.start().await;
    wait_for("first five done", WAIT, || {
        running.mapping().records_done == 5
    })
    .await;
    running.stop().await;
    let checkpoints: Value = serde_json::from_slice(
        &std::fs::read(
            case.dir
                .path()
                .join(format!("state/checkpoints/{}.json", case.uuid)),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(
        checkpoints["shards"]["shardId-000000000000"],
        first[4].as_str()
    );

    let mut second = Vec::new();
    for i in 5..8 {
        second.push(case.put(json!({ "act": "ok", "i": i })).await);
    }
    let running = case.start().await;
    wait_for("the three new records done", WAIT, || {
        running.mapping().records_done == 3
    })
    .await;
    // Give a wrongly re-read record the time to show up.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        running.mapping().records_polled,
        3,
        "only the new records were read"
    );
    running.stop().await;
    let all: Vec<String> = case.seen().into_iter().flat_map(|s| s.seqs).collect();
    let expected: Vec<String> = first.into_iter().chain(second).collect();
    assert_eq!(all, expected, "every record exactly once, in order");
    case.cleanup().await;
}

#[tokio::test]
#[ignore = "needs the emulator: run by scripts/test-e2e.sh"]
async fn bisect_isolates_one_poison_record_in_a_batch_of_100() {
    let case = Case::new(10, false, |m| {
        m.batch_size(100)
            .bisect_batch_on_function_error(true)
            .maximum_retry_attempts(1)
    })
    .await;
    let mut seqs = Vec::new();
    for i in 0..100 {
        let act = if i == 57 { "fail" } else { "ok" };
        seqs.push(case.put(json!({ "act": act, "i": i })).await);
    }
    let poison = seqs[57].clone();
    let running = case.start().await;
    let messages = case.failures(1).await;
    wait_for("all 100 done", WAIT, || {
        running.mapping().records_done == 100
    })
    .await;
    running.stop().await;
    assert_eq!(messages.len(), 1, "{messages:?}");
    case.check_batch_info(&messages[0], &poison, &poison, 1);
    assert_eq!(messages[0]["requestContext"]["approximateInvokeCount"], 2);
    let seen = case.seen();
    assert_eq!(seen[0].seqs.len(), 100, "one batch of 100 first");
    let processed: std::collections::BTreeSet<String> = seen
        .iter()
        .filter(|s| s.failed.is_empty())
        .flat_map(|s| s.seqs.clone())
        .collect();
    let others: std::collections::BTreeSet<String> =
        seqs.iter().filter(|s| **s != poison).cloned().collect();
    assert_eq!(processed, others, "the function processed the other 99");
    // No more of them landed in SQS.
    assert!(
        case.emu
            .receive(&case.queue_url, 1, Duration::from_secs(2))
            .await
            .is_empty()
    );
    case.cleanup().await;
}

#[tokio::test]
#[ignore = "needs the emulator: run by scripts/test-e2e.sh"]
async fn report_batch_item_failures_retries_from_the_lowest_failed_sequence_number() {
    let case = Case::new(10, true, |m| {
        m.batch_size(10)
            .maximum_retry_attempts(1)
            .function_response_types(FunctionResponseType::ReportBatchItemFailures)
    })
    .await;
    let mut seqs = Vec::new();
    for act in ["ok", "ok", "fail", "ok", "fail", "ok"] {
        seqs.push(case.put(json!({ "act": act })).await);
    }
    let running = case.start().await;
    let messages = case.failures(1).await;
    wait_for("all six done", WAIT, || running.mapping().records_done == 6).await;
    running.stop().await;
    let seen = case.seen();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(seen[0].seqs, seqs);
    assert_eq!(
        seen[1].seqs,
        seqs[2..].to_vec(),
        "retried from the lowest failed record"
    );
    let message = &messages[0];
    case.check_batch_info(message, &seqs[2], &seqs[5], 4);
    assert_eq!(message["requestContext"]["approximateInvokeCount"], 2);
    assert_eq!(
        message["responseContext"].get("functionError"),
        Some(&Value::Null),
        "a partial response is not a function error: null, as AWS records it"
    );
    case.cleanup().await;
}

#[tokio::test]
#[ignore = "needs the emulator: run by scripts/test-e2e.sh"]
async fn a_timeout_fails_the_batch_like_an_error() {
    let case = Case::new(1, false, |m| m.batch_size(10).maximum_retry_attempts(0)).await;
    let seq = case.put(json!({ "act": "sleep", "ms": 20_000 })).await;
    let running = case.start().await;
    let messages = case.failures(1).await;
    running.stop().await;
    case.check_batch_info(&messages[0], &seq, &seq, 1);
    assert_eq!(messages[0]["responseContext"]["functionError"], "Unhandled");
    assert!(case.log().contains("Sandbox.Timedout"), "{}", case.log());
    case.cleanup().await;
}

#[tokio::test]
#[ignore = "needs the emulator: run by scripts/test-e2e.sh"]
async fn filter_criteria_skip_records_and_checkpoint_past_them() {
    let case = Case::new(10, false, |m| {
        m.batch_size(10).filter_criteria(
            aws_sdk_lambda::types::FilterCriteria::builder()
                .filters(
                    aws_sdk_lambda::types::Filter::builder()
                        .pattern(r#"{"data":{"keep":[true]}}"#)
                        .build(),
                )
                .build(),
        )
    })
    .await;
    let mut kept = Vec::new();
    let mut last = String::new();
    for i in 0..6 {
        last = case.put(json!({ "act": "ok", "keep": i % 2 == 0 })).await;
        if i % 2 == 0 {
            kept.push(last.clone());
        }
    }
    let running = case.start().await;
    wait_for("every record polled and checkpointed", WAIT, || {
        let m = running.mapping();
        m.records_polled == 6 && m.records_done == 3
    })
    .await;
    let m = running.mapping();
    running.stop().await;
    assert_eq!(m.records_filtered, 3);
    let seen: Vec<String> = case.seen().into_iter().flat_map(|s| s.seqs).collect();
    assert_eq!(seen, kept);
    let checkpoints: Value = serde_json::from_slice(
        &std::fs::read(
            case.dir
                .path()
                .join(format!("state/checkpoints/{}.json", case.uuid)),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(
        checkpoints["shards"]["shardId-000000000000"],
        last.as_str(),
        "filtered records are checkpointed too"
    );
    case.cleanup().await;
}

#[tokio::test]
#[ignore = "needs the emulator: run by scripts/test-e2e.sh"]
async fn parallelization_factor_runs_lanes_and_keeps_order_per_partition_key() {
    let case = Case::new(10, false, |m| m.batch_size(4).parallelization_factor(4)).await;
    let mut by_key: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for i in 0..40 {
        let key = format!("key-{}", i % 8);
        let seq = case
            .emu
            .put(
                &case.stream,
                &key,
                &json!({ "act": "ok", "i": i }).to_string(),
            )
            .await;
        by_key.entry(key).or_default().push(seq);
    }
    let running = case.start().await;
    wait_for("all 40 done", WAIT, || running.mapping().records_done == 40).await;
    running.stop().await;
    let seen = case.seen();
    // Per invocation, records keep stream order; across invocations, each key's records keep order.
    let mut order: Vec<String> = Vec::new();
    for s in &seen {
        assert!(s.seqs.len() <= 4);
        order.extend(s.seqs.iter().cloned());
    }
    assert_eq!(order.len(), 40, "each record once");
    for (key, seqs) in by_key {
        let positions: Vec<usize> = seqs
            .iter()
            .map(|q| order.iter().position(|o| o == q).unwrap())
            .collect();
        assert!(
            positions.windows(2).all(|w| w[0] < w[1]),
            "order kept for {key}"
        );
    }
    assert!(seen.len() >= 10, "batches of at most 4 records");
    case.cleanup().await;
}

#[tokio::test]
#[ignore = "needs the emulator: run by scripts/test-e2e.sh"]
async fn a_changed_retry_count_is_observed() {
    // The same poison record under MaximumRetryAttempts 1, then (UpdateEventSourceMapping) 3.
    let case = Case::new(10, false, |m| m.batch_size(10).maximum_retry_attempts(1)).await;
    case.put(json!({ "act": "fail" })).await;
    let running = case.start().await;
    let first = case.failures(1).await;
    running.stop().await;
    assert_eq!(first[0]["requestContext"]["approximateInvokeCount"], 2);

    case.emu
        .lambda
        .update_event_source_mapping()
        .uuid(&case.uuid)
        .maximum_retry_attempts(3)
        .send()
        .await
        .unwrap();
    case.put(json!({ "act": "fail" })).await;
    let running = case.start().await;
    let second = case.failures(1).await;
    running.stop().await;
    assert_eq!(second[0]["requestContext"]["approximateInvokeCount"], 4);
    assert_eq!(case.seen().len(), 2 + 4);
    case.cleanup().await;
}

#[tokio::test]
#[ignore = "needs the emulator: run by scripts/test-e2e.sh"]
async fn stopping_finishes_the_invocation_in_flight_and_saves_its_checkpoint() {
    let case = Case::new(10, false, |m| m.batch_size(10)).await;
    let seq = case.put(json!({ "act": "sleep", "ms": 1500 })).await;
    let running = case.start().await;
    wait_for("the invocation to start", WAIT, || case.seen().len() == 1).await;
    let status = running.status.clone();
    running.stop().await; // returns only when the plane has stopped
    let m = status.report("stopped").mappings.remove(0);
    assert_eq!(
        (m.invocations, m.records_done),
        (1, 1),
        "the sleeping invocation finished"
    );
    let checkpoints: Value = serde_json::from_slice(
        &std::fs::read(
            case.dir
                .path()
                .join(format!("state/checkpoints/{}.json", case.uuid)),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(checkpoints["shards"]["shardId-000000000000"], seq.as_str());
    let status: Value =
        serde_json::from_slice(&std::fs::read(case.dir.path().join("state/status.json")).unwrap())
            .unwrap();
    assert_eq!(status["state"], "stopped");
    case.cleanup().await;
}
