//! The real `redrive` binary against the emulator (moto), run through the local Runtime API
//! host as Lambda runs it (its clients as main.rs wires them: kstream-pipeline's signing
//! `AwsClient` for SQS, Kinesis and S3, no AWS SDK), with the events the state machine sends: on-failure messages as a
//! mapping writes them ([`on_failure_message`]) for a range of plain records and a KPL
//! aggregate, one for a range the stream no longer holds, and a foreign message. A pass to S3,
//! a second pass that finds nothing, a re-put pass, a bounded pass, and a refused event.
//!
//! Invoke mode is not run here: moto runs an invoked function in Docker, which these machines
//! do not have; the invoke sink is tested through the CLI's local host
//! (crates/cli/tests/redrive.rs), and this function's invoke mode as deployed in
//! tests/e2e-01.sh (through `kstream local`'s Lambda endpoint).
//!
//! Needs the emulator: run by scripts/test-e2e.sh (`-- --ignored`).

use std::time::Duration;

use aws_sdk_kinesis::primitives::Blob;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use kstream_kpl::{Aggregator, AggregatorConfig, UserRecord};
use kstream_local_lambda::mapping::event::{
    Condition, FailureContext, StreamRecord, on_failure_message,
};
use kstream_local_lambda::runtime::{FunctionHost, FunctionSpec, InvokeResult};
use kstream_local_testkit::{Emulator, emulator};
use serde_json::{Value, json};

const SHARD: &str = "shardId-000000000000";

struct Case {
    emu: Emulator,
    stream: String,
    stream_arn: String,
    queue_url: String,
    host: FunctionHost,
    /// The sequence numbers put: two plain records and an aggregate of three.
    seqs: Vec<String>,
}

impl Case {
    async fn new() -> Self {
        let emu = emulator().await;
        let (stream, stream_arn) = emu.stream(1).await;
        let (queue_url, _) = emu.queue().await;
        let mut seqs = vec![
            emu.put(&stream, "pk", r#"{"act":"fail"}"#).await,
            emu.put(&stream, "pk", r#"{"act":"ok"}"#).await,
        ];
        let mut agg = Aggregator::new(AggregatorConfig::default());
        for i in 0..3 {
            let data = json!({"act": "ok", "n": i}).to_string();
            assert!(
                agg.add(UserRecord::new(format!("k{i}"), data.into_bytes()))
                    .unwrap()
                    .is_none()
            );
        }
        let record = agg.flush().unwrap();
        seqs.push(
            emu.kinesis
                .put_record()
                .stream_name(&stream)
                .partition_key(record.partition_key)
                .set_explicit_hash_key(record.explicit_hash_key)
                .data(Blob::new(record.data.to_vec()))
                .send()
                .await
                .unwrap()
                .sequence_number()
                .to_owned(),
        );
        let host = FunctionHost::builder().build();
        let mut spec = FunctionSpec::new(
            format!("{}-redrive", emu.prefix),
            env!("CARGO_BIN_EXE_redrive"),
        );
        spec.timeout = Duration::from_secs(60);
        host.register(spec);
        Self {
            emu,
            stream,
            stream_arn,
            queue_url,
            host,
            seqs,
        }
    }

    /// The on-failure message of `seqs` as the mapping writes it.
    fn message(&self, seqs: &[&str]) -> Value {
        let records: Vec<StreamRecord> = seqs
            .iter()
            .map(|s| StreamRecord {
                shard_id: SHARD.into(),
                sequence_number: (*s).to_owned(),
                partition_key: "pk".into(),
                data: Bytes::new(),
                arrival: 1_700_000_000.0,
            })
            .collect();
        let failure = FailureContext {
            condition: Condition::RetryAttemptsExhausted,
            invoke_count: 3,
            request_id: "00000000-0000-4000-8000-000000000000".into(),
            function_error: true,
        };
        on_failure_message(
            &records,
            "arn:aws:lambda:us-east-1:123456789012:function:consumer",
            &self.stream_arn,
            &failure,
            1_700_000_100.0,
        )
    }

    /// The failed batch: every record put.
    fn failed_batch(&self) -> Value {
        let seqs: Vec<&str> = self.seqs.iter().map(String::as_str).collect();
        self.message(&seqs)
    }

    async fn send(&self, body: &str) {
        self.emu
            .sqs
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(body)
            .send()
            .await
            .unwrap();
    }

    /// Invokes the function; its answer, or its error as `Err((type, message))`.
    async fn invoke(&self, event: Value) -> Result<Value, (String, String)> {
        let outcome = self
            .host
            .invoke(&format!("{}-redrive", self.emu.prefix), event.to_string())
            .await
            .unwrap();
        match outcome.result {
            InvokeResult::Ok(body) => Ok(serde_json::from_slice(&body).unwrap()),
            InvokeResult::Error(e) => Err((e.error_type, e.error_message)),
        }
    }

    async fn visible(&self) -> Vec<Value> {
        let out = self
            .emu
            .sqs
            .receive_message()
            .queue_url(&self.queue_url)
            .max_number_of_messages(10)
            .visibility_timeout(0)
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap();
        out.messages()
            .iter()
            .map(|m| serde_json::from_str(m.body().unwrap()).unwrap_or(json!("foreign")))
            .collect()
    }

    async fn records_after(&self, after: &str) -> Vec<(String, Vec<u8>)> {
        let mut out = self.emu.records_after(&self.stream, SHARD, after).await;
        out.sort();
        out
    }

    async fn cleanup(self) {
        self.host.shutdown().await;
        let _ = self
            .emu
            .sqs
            .delete_queue()
            .queue_url(&self.queue_url)
            .send()
            .await;
        let _ = self
            .emu
            .kinesis
            .delete_stream()
            .stream_name(&self.stream)
            .send()
            .await;
    }
}

fn output(
    messages: u64,
    handled: u64,
    records: u64,
    unrecoverable: u64,
    foreign: u64,
    left: u64,
) -> Value {
    json!({
        "messages": messages, "handled": handled, "records": records, "already": 0,
        "unrecoverable": unrecoverable, "unrecoverable_deleted": 0, "failed": 0,
        "foreign": foreign, "left": left, "more": false,
    })
}

#[tokio::test]
#[ignore = "needs the emulator: run by scripts/test-e2e.sh"]
async fn a_pass_to_s3_writes_each_range_once_and_keeps_what_it_cannot_recover() {
    let case = Case::new().await;
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&case.emu.sdk)
            .force_path_style(true)
            .build(),
    );
    let bucket = format!("{}-redrive", case.emu.prefix).to_lowercase();
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    case.send(&case.failed_batch().to_string()).await;
    // A range before the shard's first record: what Kinesis shows of one trimmed by retention.
    case.send(&case.message(&["0"]).to_string()).await;
    case.send("hello").await;

    let event = json!({
        "queue_url": case.queue_url, "mode": "s3", "s3_uri": format!("s3://{bucket}/failed/"),
    });
    let out = case.invoke(event.clone()).await.unwrap();
    assert_eq!(out, output(3, 1, 5, 1, 1, 2), "{out}");
    let objects = kstream_local_testkit::s3_objects(&s3, &bucket).await;
    assert_eq!(objects.len(), 1, "{objects:?}");
    assert_eq!(
        objects[0].0,
        format!(
            "failed/{}/{SHARD}/{}-{}.jsonl",
            case.stream, case.seqs[0], case.seqs[2]
        )
    );
    let rows: Vec<Value> = String::from_utf8(objects[0].2.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 5, "{rows:?}");
    let data: Vec<Value> = rows
        .iter()
        .map(|r| {
            serde_json::from_slice(&STANDARD.decode(r["data"].as_str().unwrap()).unwrap()).unwrap()
        })
        .collect();
    assert_eq!(data[0], json!({"act": "fail"}));
    assert_eq!(data[4], json!({"act": "ok", "n": 2}));
    assert_eq!(rows[4]["subSequenceNumber"], 2);
    assert_eq!(rows[4]["sequenceNumber"], case.seqs[2].as_str());

    // The two it left are visible at once: the trimmed range and the foreign message.
    let left = case.visible().await;
    assert_eq!(left.len(), 2, "{left:?}");
    assert!(left.contains(&json!("foreign")), "{left:?}");
    // A second pass handles nothing again.
    let out = case.invoke(event).await.unwrap();
    assert_eq!(out, output(2, 0, 0, 1, 1, 2), "{out}");
    assert_eq!(
        kstream_local_testkit::s3_objects(&s3, &bucket).await.len(),
        1
    );
    case.cleanup().await;
}

#[tokio::test]
#[ignore = "needs the emulator: run by scripts/test-e2e.sh"]
async fn a_reput_pass_puts_each_user_record_again_once_and_bad_events_are_refused() {
    let case = Case::new().await;
    // Refused before the queue is touched.
    let (kind, message) = case
        .invoke(json!({"queue_url": case.queue_url, "mode": "invoke"}))
        .await
        .unwrap_err();
    assert_eq!(kind, "InvalidInput", "{message}");
    assert!(message.contains("needs function_name"), "{message}");
    // A queue that does not exist fails the pass (the state machine's Catch).
    let (kind, message) = case
        .invoke(json!({"queue_url": format!("{}-gone", case.queue_url), "mode": "reput"}))
        .await
        .unwrap_err();
    assert_eq!(kind, "RedriveFailed", "{message}");
    assert!(message.contains("cannot receive from"), "{message}");

    // Two copies of the message: a bounded pass takes one and leaves the other visible.
    let body = case.failed_batch().to_string();
    case.send(&body).await;
    case.send(&body).await;
    let event = json!({"queue_url": case.queue_url, "mode": "reput", "max_messages": 1});
    let mut out = case.invoke(event.clone()).await.unwrap();
    assert_eq!(out["more"], true, "{out}");
    out["more"] = json!(false);
    assert_eq!(out, output(1, 1, 5, 0, 0, 0), "{out}");
    let mut expected = vec![
        ("pk".to_owned(), br#"{"act":"fail"}"#.to_vec()),
        ("pk".to_owned(), br#"{"act":"ok"}"#.to_vec()),
    ];
    for i in 0..3 {
        expected.push((
            format!("k{i}"),
            json!({"act": "ok", "n": i}).to_string().into_bytes(),
        ));
    }
    expected.sort();
    assert_eq!(case.records_after(&case.seqs[2]).await, expected);
    assert_eq!(case.visible().await.len(), 1, "the other copy, visible");
    let out = case.invoke(event).await.unwrap();
    assert_eq!(out["handled"], 1, "{out}");
    let out = case
        .invoke(json!({"queue_url": case.queue_url, "mode": "reput"}))
        .await
        .unwrap();
    assert_eq!(out, output(0, 0, 0, 0, 0, 0), "{out}");
    assert_eq!(
        case.records_after(&case.seqs[2]).await.len(),
        10,
        "each copy once"
    );
    case.cleanup().await;
}
