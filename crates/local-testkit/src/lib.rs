//! Shared helpers of the integration tests of the kstream local crates: the test function, and
//! resources on the emulator.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use aws_sdk_kinesis::primitives::Blob;
use serde_json::Value;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// The test function's binary (`kstream-test-fn` of kstream-local-lambda), built for this
/// machine by the workspace build every test tier shares (`cargo test --workspace --no-run`), or
/// `KSTREAM_TEST_FN=<path>`.
///
/// # Panics
/// When it is not built.
pub fn test_fn() -> PathBuf {
    if let Ok(p) = std::env::var("KSTREAM_TEST_FN") {
        return PathBuf::from(p);
    }
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let p = target.join("debug").join("kstream-test-fn");
    assert!(
        p.exists(),
        "{} is not built: run `cargo build -p kstream-local-lambda --bin kstream-test-fn` (or `cargo test --workspace --no-run`, or set KSTREAM_TEST_FN)",
        p.display()
    );
    p
}

/// The environment of `kstream-test-fn` in a mapping case whose files live in `dir`: the log of
/// what it saw (`dir/seen.jsonl`), its state directory (`dir/fnstate`, created here), and whether
/// it names failed records in `batchItemFailures` (`report`) or fails the whole invocation.
pub fn test_fn_env(dir: &Path, report: bool) -> [(&'static str, String); 3] {
    let state = dir.join("fnstate");
    std::fs::create_dir_all(&state).unwrap();
    [
        (
            "KSTREAM_TEST_FN_SEEN",
            dir.join("seen.jsonl").display().to_string(),
        ),
        ("KSTREAM_TEST_FN_STATE", state.display().to_string()),
        (
            "KSTREAM_TEST_FN_REPORT",
            if report { "1" } else { "0" }.to_owned(),
        ),
    ]
}

/// Clients for the emulator named by `AWS_ENDPOINT_URL`, and a unique name prefix.
pub struct Emulator {
    /// `AWS_ENDPOINT_URL`.
    pub endpoint: String,
    /// The SDK configuration for the emulator.
    pub sdk: aws_config::SdkConfig,
    /// Kinesis client.
    pub kinesis: aws_sdk_kinesis::Client,
    /// Lambda client.
    pub lambda: aws_sdk_lambda::Client,
    /// SQS client.
    pub sqs: aws_sdk_sqs::Client,
    /// The unique prefix of this connection's resource names.
    pub prefix: String,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// Connects to the emulator; each call gets its own resource prefix.
pub async fn emulator() -> Emulator {
    let endpoint = std::env::var("AWS_ENDPOINT_URL")
        .expect("AWS_ENDPOINT_URL names the emulator (scripts/test-e2e.sh sets it)");
    let sdk = aws_config::from_env()
        .region(aws_config::Region::new(
            std::env::var("AWS_REGION").unwrap_or_else(|_| "us-east-1".into()),
        ))
        .load()
        .await;
    let prefix = format!(
        "kl{}-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst),
        chrono::Utc::now().timestamp_millis() % 100_000
    );
    Emulator {
        kinesis: aws_sdk_kinesis::Client::new(&sdk),
        lambda: aws_sdk_lambda::Client::new(&sdk),
        sqs: aws_sdk_sqs::Client::new(&sdk),
        endpoint,
        sdk,
        prefix,
    }
}

/// Every object in `bucket`: (key, `Content-Encoding`, body).
pub async fn s3_objects(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
) -> Vec<(String, Option<String>, Vec<u8>)> {
    let mut out = Vec::new();
    let list = s3.list_objects_v2().bucket(bucket).send().await.unwrap();
    for o in list.contents() {
        let key = o.key().unwrap().to_owned();
        let got = s3
            .get_object()
            .bucket(bucket)
            .key(&key)
            .send()
            .await
            .unwrap();
        let encoding = got.content_encoding().map(str::to_owned);
        let body = got.body.collect().await.unwrap().into_bytes().to_vec();
        out.push((key, encoding, body));
    }
    out
}

fn form_encode(pairs: &[(&str, &str)]) -> String {
    let enc = |s: &str| {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

impl Emulator {
    /// Deletes a mapping case's resources, ignoring errors (what is already gone stays gone): the
    /// event source mapping `uuid`, the function, the stream and the queue.
    pub async fn delete_mapping_case(
        &self,
        uuid: &str,
        function: &str,
        stream: &str,
        queue_url: &str,
    ) {
        let _ = self
            .lambda
            .delete_event_source_mapping()
            .uuid(uuid)
            .send()
            .await;
        let _ = self
            .lambda
            .delete_function()
            .function_name(function)
            .send()
            .await;
        let _ = self
            .kinesis
            .delete_stream()
            .stream_name(stream)
            .send()
            .await;
        let _ = self.sqs.delete_queue().queue_url(queue_url).send().await;
    }

    /// POSTs `body` to the emulator's root with a dummy SigV4 `Authorization` for `service`
    /// (moto reads the service from it) and the extra `headers` (`Name: value` lines); returns
    /// the whole HTTP response, which must be a 200. For the APIs whose SDK crates the tests
    /// do without (IAM, Glue).
    pub async fn raw_post(
        &self,
        service: &str,
        content_type: &str,
        headers: &str,
        body: &str,
    ) -> String {
        let authority = self
            .endpoint
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_owned();
        let request = format!(
            "POST / HTTP/1.1\r\nHost: {authority}\r\nContent-Type: {content_type}\r\n{headers}\
             Authorization: AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=0\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let mut stream = tokio::net::TcpStream::connect(&authority).await.unwrap();
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).await.unwrap();
        assert!(
            response.starts_with("HTTP/1.1 200"),
            "{service} call: {response}"
        );
        response
    }

    /// Creates an IAM role Lambda may assume (a plain Query API call: no IAM SDK needed).
    pub async fn role(&self) -> String {
        let name = format!("{}-role", self.prefix);
        let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
        let body = form_encode(&[
            ("Action", "CreateRole"),
            ("Version", "2010-05-08"),
            ("RoleName", &name),
            ("AssumeRolePolicyDocument", policy),
        ]);
        let response = self
            .raw_post("iam", "application/x-www-form-urlencoded", "", &body)
            .await;
        let arn = response
            .split("<Arn>")
            .nth(1)
            .and_then(|s| s.split("</Arn>").next())
            .expect("a role ARN");
        arn.to_owned()
    }

    /// Creates a stream; returns (name, ARN).
    pub async fn stream(&self, shards: i32) -> (String, String) {
        let name = format!("{}-stream", self.prefix);
        self.kinesis
            .create_stream()
            .stream_name(&name)
            .shard_count(shards)
            .send()
            .await
            .unwrap();
        let out = self
            .kinesis
            .describe_stream_summary()
            .stream_name(&name)
            .send()
            .await
            .unwrap();
        let arn = out
            .stream_description_summary()
            .unwrap()
            .stream_arn()
            .to_owned();
        (name, arn)
    }

    /// Creates a queue; returns (URL, ARN).
    pub async fn queue(&self) -> (String, String) {
        let name = format!("{}-dlq", self.prefix);
        let url = self
            .sqs
            .create_queue()
            .queue_name(&name)
            .send()
            .await
            .unwrap()
            .queue_url()
            .unwrap()
            .to_owned();
        let attrs = self
            .sqs
            .get_queue_attributes()
            .queue_url(&url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
            .send()
            .await
            .unwrap();
        let arn = attrs
            .attributes()
            .unwrap()
            .get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn)
            .unwrap()
            .clone();
        (url, arn)
    }

    /// Creates a function (an empty zip: the binary runs from the host).
    pub async fn function(
        &self,
        name: &str,
        role: &str,
        timeout: i32,
        env: &[(&str, String)],
    ) -> String {
        // The smallest valid zip: an end-of-central-directory record.
        let mut zip = b"PK\x05\x06".to_vec();
        zip.extend_from_slice(&[0u8; 18]);
        let vars: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect();
        let out = self
            .lambda
            .create_function()
            .function_name(name)
            .runtime(aws_sdk_lambda::types::Runtime::Providedal2023)
            .handler("bootstrap")
            .role(role)
            .timeout(timeout)
            .memory_size(256)
            .code(
                aws_sdk_lambda::types::FunctionCode::builder()
                    .zip_file(aws_sdk_lambda::primitives::Blob::new(zip))
                    .build(),
            )
            .environment(
                aws_sdk_lambda::types::Environment::builder()
                    .set_variables(Some(vars))
                    .build(),
            )
            .send()
            .await
            .unwrap();
        out.function_arn().unwrap().to_owned()
    }

    /// Puts one record; returns its sequence number.
    pub async fn put(&self, stream: &str, partition_key: &str, data: &str) -> String {
        self.kinesis
            .put_record()
            .stream_name(stream)
            .partition_key(partition_key)
            .data(Blob::new(data.as_bytes().to_vec()))
            .send()
            .await
            .unwrap()
            .sequence_number()
            .to_owned()
    }

    /// The records of one page of `shard` after sequence number `after`: (partition key, data).
    pub async fn records_after(
        &self,
        stream: &str,
        shard: &str,
        after: &str,
    ) -> Vec<(String, Vec<u8>)> {
        let it = self
            .kinesis
            .get_shard_iterator()
            .stream_name(stream)
            .shard_id(shard)
            .shard_iterator_type(aws_sdk_kinesis::types::ShardIteratorType::AfterSequenceNumber)
            .starting_sequence_number(after)
            .send()
            .await
            .unwrap();
        let page = self
            .kinesis
            .get_records()
            .shard_iterator(it.shard_iterator().unwrap())
            .send()
            .await
            .unwrap();
        page.records()
            .iter()
            .map(|r| {
                (
                    r.partition_key().unwrap_or_default().to_owned(),
                    r.data().as_ref().to_vec(),
                )
            })
            .collect()
    }

    /// Receives messages until `n` have arrived or `timeout` passes; returns their bodies as JSON.
    pub async fn receive(&self, url: &str, n: usize, timeout: Duration) -> Vec<Value> {
        let deadline = Instant::now() + timeout;
        let mut bodies = Vec::new();
        while bodies.len() < n && Instant::now() < deadline {
            let out = self
                .sqs
                .receive_message()
                .queue_url(url)
                .max_number_of_messages(10)
                .wait_time_seconds(1)
                .send()
                .await
                .unwrap();
            for m in out.messages() {
                bodies.push(serde_json::from_str(m.body().unwrap()).unwrap());
                self.sqs
                    .delete_message()
                    .queue_url(url)
                    .receipt_handle(m.receipt_handle().unwrap())
                    .send()
                    .await
                    .unwrap();
            }
        }
        bodies
    }
}

/// One invocation as the test function recorded it.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Seen {
    /// The invocation's request id.
    pub request_id: String,
    /// The shard of each record.
    pub shard_ids: Vec<String>,
    /// The sequence number of each record.
    pub seqs: Vec<String>,
    /// The sequence numbers it reported as failed.
    pub failed: Vec<String>,
}

/// The invocations the test function recorded in `path`.
pub fn seen(path: &Path) -> Vec<Seen> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Waits until `cond` holds, or panics with `what` after `timeout`.
pub async fn wait_for(what: &str, timeout: Duration, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
