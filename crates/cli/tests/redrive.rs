//! `kstream redrive` against the emulator, with on-failure messages sent by a real mapping run
//! (the local data plane, the real test function binary): file and S3 output written once per
//! range, re-put records, a re-invocation through the local Runtime API host (and one answered
//! with batchItemFailures), a range trimmed from the stream, and a second run that finds nothing.
//!
//! Needs the emulator: run by scripts/test-e2e.sh (`-- --ignored`).

use std::process::Command;
use std::time::{Duration, Instant};

use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_lambda::types::{
    DestinationConfig, EventSourcePosition, FunctionResponseType, OnFailure,
};
use aws_sdk_sqs::types::QueueAttributeName;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use kstream_kpl::{Aggregator, AggregatorConfig, UserRecord};
use kstream_local::dataplane::DataPlane;
use kstream_local::lambda::deployed::BinaryResolver;
use kstream_local::lambda::mapping::RunnerOptions;
use kstream_local::lambda::mapping::event::{
    Condition, FailureContext, StreamRecord, on_failure_message,
};
use kstream_local_testkit::{Emulator, emulator, test_fn};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(60);

struct Case {
    emu: Emulator,
    dir: tempfile::TempDir,
    stream: String,
    stream_arn: String,
    queue_url: String,
    function: String,
    uuid: String,
}

impl Case {
    /// A stream, a failure queue, the test function and a mapping that gives a batch up at its
    /// first failure.
    async fn new(report: bool) -> Self {
        let emu = emulator().await;
        let dir = tempfile::tempdir().unwrap();
        let (stream, stream_arn) = emu.stream(1).await;
        let (queue_url, queue_arn) = emu.queue().await;
        let role = emu.role().await;
        let function = format!("{}-fn", emu.prefix);
        let env = kstream_local_testkit::test_fn_env(dir.path(), report);
        emu.function(&function, &role, 10, &env).await;
        let mut request = emu
            .lambda
            .create_event_source_mapping()
            .function_name(&function)
            .event_source_arn(&stream_arn)
            .starting_position(EventSourcePosition::TrimHorizon)
            .batch_size(10)
            .maximum_retry_attempts(0)
            .destination_config(
                DestinationConfig::builder()
                    .on_failure(OnFailure::builder().destination(queue_arn).build())
                    .build(),
            );
        if report {
            request =
                request.function_response_types(FunctionResponseType::ReportBatchItemFailures);
        }
        let uuid = request.send().await.unwrap().uuid().unwrap().to_owned();
        Self {
            emu,
            dir,
            stream,
            stream_arn,
            queue_url,
            function,
            uuid,
        }
    }

    async fn put(&self, data: Value) -> String {
        self.emu.put(&self.stream, "pk", &data.to_string()).await
    }

    /// Puts a KPL aggregate of `n` user records (`{"act":"ok","n":i}` under keys `k<i>`).
    async fn put_aggregate(&self, n: usize) -> String {
        let mut agg = Aggregator::new(AggregatorConfig::default());
        for i in 0..n {
            let data = json!({"act": "ok", "n": i}).to_string();
            assert!(
                agg.add(UserRecord::new(format!("k{i}"), data.into_bytes()))
                    .unwrap()
                    .is_none()
            );
        }
        let record = agg.flush().unwrap();
        self.emu
            .kinesis
            .put_record()
            .stream_name(&self.stream)
            .partition_key(record.partition_key)
            .set_explicit_hash_key(record.explicit_hash_key)
            .data(Blob::new(record.data.to_vec()))
            .send()
            .await
            .unwrap()
            .sequence_number()
            .to_owned()
    }

    /// Runs the mapping on the local data plane until the queue holds `n` messages.
    async fn fail_into_queue(&self, n: i64) {
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
        assert_eq!(plane.mappings().len(), 1, "only this test's mapping runs");
        let (stop, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(plane.run(async {
            let _ = rx.await;
        }));
        let deadline = Instant::now() + WAIT;
        while self.queue_len().await < n {
            assert!(
                Instant::now() < deadline,
                "no {n} failure message(s) in time"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let _ = stop.send(());
        task.await.unwrap().unwrap();
    }

    /// Messages in the queue, visible or not.
    async fn queue_len(&self) -> i64 {
        let out = self
            .emu
            .sqs
            .get_queue_attributes()
            .queue_url(&self.queue_url)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
            .send()
            .await
            .unwrap();
        out.attributes()
            .unwrap()
            .values()
            .map(|v| v.parse::<i64>().unwrap())
            .sum()
    }

    /// The body of the one message in the queue, left in it.
    async fn peek(&self) -> Value {
        let out = self
            .emu
            .sqs
            .receive_message()
            .queue_url(&self.queue_url)
            .visibility_timeout(0)
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap();
        assert_eq!(out.messages().len(), 1, "{out:?}");
        serde_json::from_str(out.messages()[0].body().unwrap()).unwrap()
    }

    async fn send(&self, body: &Value) {
        self.emu
            .sqs
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(body.to_string())
            .send()
            .await
            .unwrap();
    }

    /// Runs `kstream redrive --queue <queue> ARGS`; returns whether it succeeded and its stderr.
    fn redrive(&self, args: &[&str]) -> (bool, String) {
        let out = Command::new(env!("CARGO_BIN_EXE_kstream"))
            .args(["redrive", "--queue", &self.queue_url])
            .args(args)
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr)
            .replace(['│', '×'], " ")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        (out.status.success(), stderr)
    }

    /// Every record of the stream after `after`: (partition key, data).
    async fn records_after(&self, after: &str) -> Vec<(String, Vec<u8>)> {
        self.emu
            .records_after(&self.stream, "shardId-000000000000", after)
            .await
    }

    /// An on-failure message, as the mapping writes it, for a range this shard never held
    /// before its first record: what Kinesis shows of a range trimmed by retention (the
    /// iterator starts after it).
    fn trimmed_message(&self) -> Value {
        let record = StreamRecord {
            shard_id: "shardId-000000000000".into(),
            sequence_number: "0".into(),
            partition_key: "pk".into(),
            data: Bytes::from_static(b"{}"),
            arrival: 1_700_000_000.0,
        };
        let failure = FailureContext {
            condition: Condition::RecordAgeExceeded,
            invoke_count: 0,
            request_id: "00000000-0000-4000-8000-000000000000".into(),
            function_error: false,
        };
        on_failure_message(
            &[record],
            &format!(
                "arn:aws:lambda:us-east-1:123456789012:function:{}",
                self.function
            ),
            &self.stream_arn,
            &failure,
            1_700_000_100.0,
        )
    }

    async fn cleanup(self) {
        self.emu
            .delete_mapping_case(&self.uuid, &self.function, &self.stream, &self.queue_url)
            .await;
    }
}

fn lines(path: &std::path::Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The five user records of the failed range: two plain, three from an aggregate.
fn check_user_records(rows: &[Value], seqs: &[String]) {
    assert_eq!(rows.len(), 5, "{rows:?}");
    let decoded: Vec<Value> = rows
        .iter()
        .map(|r| {
            serde_json::from_slice(&STANDARD.decode(r["data"].as_str().unwrap()).unwrap()).unwrap()
        })
        .collect();
    assert_eq!(decoded[0], json!({"act": "crash-once"}));
    assert_eq!(decoded[1], json!({"act": "ok"}));
    for i in 0..3 {
        let row = &rows[2 + i];
        assert_eq!(row["sequenceNumber"], seqs[2].as_str());
        assert_eq!(row["subSequenceNumber"], i);
        assert_eq!(row["partitionKey"], format!("k{i}"));
        assert_eq!(row["aggregated"], true);
        assert_eq!(decoded[2 + i], json!({"act": "ok", "n": i}));
    }
    assert_eq!(rows[0]["sequenceNumber"], seqs[0].as_str());
    assert_eq!(rows[0]["shardId"], "shardId-000000000000");
    assert!(
        rows[0]["approximateArrivalTimestamp"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );
}

#[tokio::test]
#[ignore = "needs the emulator: run by scripts/test-e2e.sh"]
async fn file_and_s3_write_each_range_once_and_a_trimmed_range_is_kept_until_given_up() {
    let case = Case::new(false).await;
    let seqs = vec![
        case.put(json!({"act": "crash-once"})).await,
        case.put(json!({"act": "ok"})).await,
        case.put_aggregate(3).await,
    ];
    case.fail_into_queue(1).await;
    let message = case.peek().await;
    assert_eq!(
        message["KinesisBatchInfo"]["startSequenceNumber"],
        seqs[0].as_str()
    );
    assert_eq!(
        message["KinesisBatchInfo"]["endSequenceNumber"],
        seqs[2].as_str()
    );
    // The same message delivered twice, and a range the stream no longer holds.
    case.send(&message).await;
    case.send(&case.trimmed_message()).await;

    // S3: one object per range, written again (not twice) for the duplicate.
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&case.emu.sdk)
            .force_path_style(true)
            .build(),
    );
    let bucket = format!("{}-redrive", case.emu.prefix).to_lowercase();
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    let (ok, stderr) = case.redrive(&["--to-s3", &format!("s3://{bucket}/failed/")]);
    assert!(!ok, "a trimmed range is left: {stderr}");
    assert!(
        stderr.contains("3 message(s) read; 2 range(s) handled (10 record(s))"),
        "{stderr}"
    );
    assert!(
        stderr.contains("unrecoverable:") && stderr.contains("trimmed by the stream's retention"),
        "{stderr}"
    );
    assert!(
        stderr.contains("1 unrecoverable (0 deleted)") && stderr.contains("1 left in the queue"),
        "{stderr}"
    );
    let objects = kstream_local_testkit::s3_objects(&s3, &bucket).await;
    assert_eq!(objects.len(), 1, "{objects:?}");
    assert_eq!(
        objects[0].0,
        format!(
            "failed/{}/shardId-000000000000/{}-{}.jsonl",
            case.stream, seqs[0], seqs[2]
        )
    );
    let rows: Vec<Value> = String::from_utf8(objects[0].2.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    check_user_records(&rows, &seqs);
    assert_eq!(
        case.queue_len().await,
        1,
        "only the trimmed range's message is left"
    );

    // A file: the duplicate delivery writes nothing twice, nor does a second run.
    case.send(&message).await;
    case.send(&message).await;
    let out = case.dir.path().join("failed.jsonl");
    let out_arg = out.display().to_string();
    let (ok, stderr) = case.redrive(&["--to-file", &out_arg]);
    assert!(!ok, "{stderr}");
    assert!(
        stderr.contains("2 range(s) handled (10 record(s), 5 already written by an earlier run)"),
        "{stderr}"
    );
    check_user_records(&lines(&out), &seqs);
    let (ok, stderr) = case.redrive(&["--to-file", &out_arg]);
    assert!(!ok, "{stderr}");
    assert!(
        stderr.contains("1 message(s) read; 0 range(s) handled"),
        "{stderr}"
    );
    assert_eq!(lines(&out).len(), 5);

    // Given up on request; then nothing is left to do.
    let (ok, stderr) = case.redrive(&["--to-file", &out_arg, "--delete-unrecoverable"]);
    assert!(ok, "{stderr}");
    assert!(
        stderr.contains("1 unrecoverable (1 deleted)") && stderr.contains("0 left in the queue"),
        "{stderr}"
    );
    assert_eq!(case.queue_len().await, 0);
    let (ok, stderr) = case.redrive(&["--to-file", &out_arg]);
    assert!(ok, "{stderr}");
    assert!(stderr.contains("0 message(s) read"), "{stderr}");

    // --max-messages: the messages received beyond it are visible again at once.
    case.send(&message).await;
    case.send(&message).await;
    let (ok, stderr) = case.redrive(&["--to-file", &out_arg, "--max-messages", "1"]);
    assert!(ok, "{stderr}");
    assert!(
        stderr.contains("1 message(s) read; 1 range(s) handled"),
        "{stderr}"
    );
    assert_eq!(case.peek().await, message, "the other one, visible");
    assert_eq!(lines(&out).len(), 5);
    case.cleanup().await;
}

#[tokio::test]
#[ignore = "needs the emulator: run by scripts/test-e2e.sh"]
async fn reput_puts_the_user_records_into_the_stream_again_once() {
    let case = Case::new(false).await;
    let seqs = [
        case.put(json!({"act": "crash-once"})).await,
        case.put(json!({"act": "ok"})).await,
        case.put_aggregate(3).await,
    ];
    case.fail_into_queue(1).await;
    let (ok, stderr) = case.redrive(&["--reput"]);
    assert!(ok, "{stderr}");
    assert!(
        stderr.contains("1 message(s) read; 1 range(s) handled (5 record(s))"),
        "{stderr}"
    );
    assert_eq!(case.queue_len().await, 0);
    let mut again = case.records_after(&seqs[2]).await;
    again.sort();
    let mut expected = vec![
        (
            "pk".to_owned(),
            json!({"act": "crash-once"}).to_string().into_bytes(),
        ),
        (
            "pk".to_owned(),
            json!({"act": "ok"}).to_string().into_bytes(),
        ),
    ];
    for i in 0..3 {
        expected.push((
            format!("k{i}"),
            json!({"act": "ok", "n": i}).to_string().into_bytes(),
        ));
    }
    expected.sort();
    assert_eq!(again, expected, "each user record put again, deaggregated");
    let (ok, stderr) = case.redrive(&["--reput"]);
    assert!(ok && stderr.contains("0 message(s) read"), "{stderr}");
    assert_eq!(
        case.records_after(&seqs[2]).await.len(),
        5,
        "nothing put twice"
    );
    case.cleanup().await;
}

#[tokio::test]
#[ignore = "needs the emulator: run by scripts/test-e2e.sh"]
async fn invoke_runs_the_real_function_locally_and_batch_item_failures_keep_the_message() {
    let case = Case::new(true).await;
    let seqs = vec![
        case.put(json!({"act": "crash-once"})).await,
        case.put(json!({"act": "ok"})).await,
    ];
    case.fail_into_queue(1).await;
    let test_fn = test_fn();
    let binary = format!("{}={}", case.function, test_fn.display());
    let invoke = [
        "--invoke",
        case.function.as_str(),
        "--local",
        "--binary",
        binary.as_str(),
    ];
    let (ok, stderr) = case.redrive(&invoke);
    assert!(ok, "{stderr}");
    assert!(
        stderr.contains("1 range(s) handled (2 record(s))"),
        "{stderr}"
    );
    assert_eq!(case.queue_len().await, 0);
    let seen = kstream_local_testkit::seen(&case.dir.path().join("seen.jsonl"));
    assert_eq!(
        seen.len(),
        2,
        "the mapping's crashed attempt and the redrive: {seen:?}"
    );
    assert_eq!(seen[1].seqs, seqs, "the range, in one event, in order");

    // A record the function keeps failing: its batchItemFailures answer leaves the message.
    let poison = case.put(json!({"act": "fail"})).await;
    case.fail_into_queue(1).await;
    let (ok, stderr) = case.redrive(&invoke);
    assert!(!ok, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "the function reported batchItemFailures from {poison}"
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains("1 failed") && stderr.contains("1 left in the queue"),
        "{stderr}"
    );
    assert_eq!(case.queue_len().await, 1);
    let seen = kstream_local_testkit::seen(&case.dir.path().join("seen.jsonl"));
    assert_eq!(seen.last().unwrap().seqs, vec![poison.clone()]);
    assert_eq!(seen.last().unwrap().failed, vec![poison]);
    case.cleanup().await;
}
