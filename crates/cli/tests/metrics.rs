//! The `kstream` binary's producing commands (`produce`, `put`, `replay`) against a local
//! Kinesis endpoint (PutRecords with fault injection) and a local CloudWatch endpoint (the
//! rpc-v2-cbor protocol of aws-sdk-cloudwatch, which moto 5.2.5 does not speak): the
//! `--metrics-*` flags decide what PutMetricData calls arrive, with which names, namespace and
//! dimensions, and the closing summary carries the KPL metrics.
//!
//! Both endpoints are the producer's test doubles (`crates/producer/tests/support`), shared
//! through `#[path]` rather than copied.

#[path = "../../producer/tests/support/fake_kinesis.rs"]
mod fake_kinesis;

#[path = "../../producer/tests/support/fake_cloudwatch.rs"]
mod fake_cloudwatch;

use std::collections::BTreeSet;
use std::process::Output;

use fake_cloudwatch::{Datum, FakeCloudWatch};
use fake_kinesis::{FakeKinesis, Fault};
use kstream_kpl::{Deaggregated, deaggregate};
use kstream_producer::{METRIC_NAMES, SHARD_METRIC_NAMES, SUMMARY_METRIC_NAMES};

const THROTTLED: &str = "ProvisionedThroughputExceededException";

/// Runs `kstream` with a clean AWS environment plus `env`, and returns its output.
async fn kstream(args: &[&str], env: &[(&str, String)]) -> Output {
    let home = tempfile::tempdir().unwrap();
    for file in ["config", "credentials"] {
        std::fs::write(home.path().join(file), "").unwrap();
    }
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_kstream"));
    command
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", home.path())
        .env("AWS_CONFIG_FILE", home.path().join("config"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            home.path().join("credentials"),
        )
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("RUST_LOG", "warn");
    for (name, value) in env {
        command.env(name, value);
    }
    let output = tokio::time::timeout(std::time::Duration::from_secs(120), command.output())
        .await
        .expect("kstream finishes within 2 minutes")
        .expect("kstream runs");
    eprintln!(
        "kstream {}\n{}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// User records stored by the fake, aggregates deaggregated.
fn user_records_stored(fake: &FakeKinesis) -> usize {
    fake.stored()
        .iter()
        .map(|s| match deaggregate(&s.entry.data) {
            Deaggregated::Aggregated(subs) => subs.len(),
            Deaggregated::NotAggregated { .. } => 1,
        })
        .sum()
}

/// Checks that `kstream` succeeded and that `kinesis` stored `records` user records; returns
/// its stderr.
fn succeeded(output: &Output, kinesis: &FakeKinesis, records: usize) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "{stderr}");
    assert_eq!(user_records_stored(kinesis), records);
    stderr
}

/// Runs `kstream produce --stream <stream> --count <records> --rate 0 <flags>` with `env`
/// and checks it as [`succeeded`]: its stderr.
async fn produce(
    kinesis: &FakeKinesis,
    stream: &str,
    records: usize,
    flags: &[&str],
    env: &[(&str, String)],
) -> String {
    let count = records.to_string();
    let mut args = vec![
        "produce", "--stream", stream, "--count", &count, "--rate", "0",
    ];
    args.extend_from_slice(flags);
    succeeded(&kstream(&args, env).await, kinesis, records)
}

/// The service-specific endpoint variables that send the SDK's Kinesis and CloudWatch clients
/// to the fakes.
fn endpoints(kinesis: &FakeKinesis, cloudwatch: &FakeCloudWatch) -> [(&'static str, String); 2] {
    [
        ("AWS_ENDPOINT_URL_KINESIS", kinesis.url()),
        ("AWS_ENDPOINT_URL_CLOUDWATCH", cloudwatch.url()),
    ]
}

fn names(cloudwatch: &FakeCloudWatch) -> BTreeSet<String> {
    cloudwatch.data().into_iter().map(|d| d.name).collect()
}

/// The series levels of the KPL's granularities, as sorted dimension names (`ErrorCode` aside).
const OVERALL: &[&str] = &[];
const STREAM: &[&str] = &["StreamName"];
const SHARD: &[&str] = &["ShardId", "StreamName"];

/// The level of a datum: its dimension names but `ErrorCode`, sorted.
fn level(datum: &Datum) -> Vec<&str> {
    datum
        .dimensions
        .keys()
        .map(String::as_str)
        .filter(|name| *name != "ErrorCode")
        .collect()
}

/// The sum of metric `name` over the uploads of the series at `at`.
fn sum_at(data: &[Datum], name: &str, at: &[&str]) -> f64 {
    data.iter()
        .filter(|d| d.name == name && level(d) == at)
        .map(|d| d.value)
        .sum()
}

fn json_lines(n: usize) -> tempfile::NamedTempFile {
    let file = tempfile::NamedTempFile::new().unwrap();
    let text: String = (0..n)
        .map(|i| {
            format!(
                "{{\"ticker\":\"T{}\",\"price\":{i},\"dropoff_datetime\":\"2018-01-01T00:00:{:02}Z\"}}\n",
                i % 7,
                i % 60
            )
        })
        .collect();
    std::fs::write(file.path(), text).unwrap();
    file
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn produce_publishes_detailed_kpl_metrics_through_the_shared_sdk_config() {
    let kinesis = FakeKinesis::builder("ticks").shards(2).start().await;
    // The first PutRecords request has its first entry throttled: one retry, one ErrorsByCode.
    kinesis.set_fault(|n, _| {
        if n == 0 {
            Fault::Throttle([0].into_iter().collect())
        } else {
            Fault::None
        }
    });
    let cloudwatch = FakeCloudWatch::start().await;
    // No --endpoint-url: the service-specific variables reach both clients only if they are
    // built from the SDK configuration that aws-config loads from the environment.
    let stderr = produce(
        &kinesis,
        "ticks",
        300,
        &[
            "--max-buffered-time",
            "20ms",
            "--metrics-level",
            "detailed",
            "--metrics-namespace",
            "kstream-cli-test",
            "--metrics-upload-delay",
            "1s",
        ],
        &endpoints(&kinesis, &cloudwatch),
    )
    .await;

    // The closing summary.
    assert!(
        stderr.contains("KPL metrics: UserRecordsPut: 300,"),
        "{stderr}"
    );
    assert!(stderr.contains("UserRecordsPerKinesisRecord: "), "{stderr}");
    assert!(stderr.contains("RetriesPerRecord: "), "{stderr}");
    assert!(
        stderr.contains(&format!("ErrorsByCode: {THROTTLED} 1")),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "metrics published to CloudWatch: namespace kstream-cli-test, overall, per stream \
             (StreamName=ticks) and per shard (ShardId)"
        ),
        "{stderr}"
    );

    // What CloudWatch received, at the default granularity, shard (as the KPL): every metric
    // overall and for the stream, the per-shard ones also per shard, ErrorsByCode with its
    // ErrorCode at each level.
    let data = cloudwatch.data();
    let stored = kinesis.stored();
    let shards: BTreeSet<&str> = stored.iter().map(|s| s.shard_id.as_str()).collect();
    assert_eq!(shards.len(), 2, "both shards received records");
    for datum in &data {
        assert_eq!(datum.namespace, "kstream-cli-test", "{datum:?}");
        assert!(
            [OVERALL, STREAM, SHARD].contains(&level(datum).as_slice()),
            "{datum:?}"
        );
        assert_eq!(
            datum.dimensions.contains_key("ErrorCode"),
            datum.name == "ErrorsByCode",
            "{datum:?}"
        );
        if let Some(stream) = datum.dimensions.get("StreamName") {
            assert_eq!(stream, "ticks", "{datum:?}");
        }
        if let Some(shard) = datum.dimensions.get("ShardId") {
            assert!(shards.contains(shard.as_str()), "{datum:?}");
            assert!(
                SHARD_METRIC_NAMES.contains(&datum.name.as_str()),
                "{datum:?}"
            );
        }
    }
    let names = names(&cloudwatch);
    for name in METRIC_NAMES {
        assert!(names.contains(name), "{name} missing from {names:?}");
    }
    for name in SHARD_METRIC_NAMES
        .into_iter()
        .filter(|n| *n != "ErrorsByCode")
    {
        assert!(
            data.iter().any(|d| d.name == name && level(d) == SHARD),
            "{name} has no shard series"
        );
    }
    for at in [OVERALL, STREAM, SHARD] {
        assert_eq!(sum_at(&data, "UserRecordsPut", at), 300.0, "{at:?}");
        assert_eq!(
            sum_at(&data, "KinesisRecordsPut", at),
            stored.len() as f64,
            "{at:?}"
        );
        assert_eq!(sum_at(&data, "AllErrors", at), 1.0, "{at:?}");
    }
    // The per-request metrics, as the KPL: overall and per stream, never per shard; RequestTime
    // in milliseconds.
    for name in [
        "RequestTime",
        "KinesisRecordsPerPutRecordsRequest",
        "UserRecordsPerPutRecordsRequest",
    ] {
        let levels: BTreeSet<Vec<&str>> =
            data.iter().filter(|d| d.name == name).map(level).collect();
        assert_eq!(
            levels,
            [OVERALL.to_vec(), STREAM.to_vec()].into_iter().collect(),
            "{name}"
        );
    }
    assert!(
        data.iter()
            .filter(|d| d.name == "RequestTime")
            .all(|d| d.unit.as_deref() == Some("Milliseconds") && d.value >= 0.0),
        "{data:?}"
    );
    for shard in &shards {
        let on_shard: f64 = data
            .iter()
            .filter(|d| {
                d.name == "KinesisRecordsPut"
                    && d.dimensions.get("ShardId").map(String::as_str) == Some(*shard)
            })
            .map(|d| d.value)
            .sum();
        let stored_on_shard = stored.iter().filter(|s| s.shard_id == *shard).count();
        assert_eq!(on_shard, stored_on_shard as f64, "{shard}");
    }
    let errors: Vec<_> = data.iter().filter(|d| d.name == "ErrorsByCode").collect();
    assert_eq!(errors.len(), 3, "overall, stream, shard: {errors:?}");
    for error in errors {
        assert_eq!(error.dimensions["ErrorCode"], THROTTLED);
        assert_eq!(error.value, 1.0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn put_publishes_summary_metrics_to_the_cloudwatch_endpoint_flag() {
    let kinesis = FakeKinesis::builder("lines").shards(1).start().await;
    let cloudwatch = FakeCloudWatch::start().await;
    let input = json_lines(120);
    let kinesis_url = kinesis.url();
    let cloudwatch_url = cloudwatch.url();
    let output = kstream(
        &[
            "put",
            "--stream",
            "lines",
            input.path().to_str().unwrap(),
            "--partition-key-template",
            "{{ticker}}",
            "--endpoint-url",
            &kinesis_url,
            "--cloudwatch-endpoint-url",
            &cloudwatch_url,
            "--metrics-level",
            "summary",
            "--metrics-granularity",
            "stream",
        ],
        &[],
    )
    .await;
    let stderr = succeeded(&output, &kinesis, 120);
    assert!(stderr.contains("UserRecordsPut: 120,"), "{stderr}");
    assert!(!stderr.contains("ErrorsByCode"), "no errors: {stderr}");
    assert!(
        stderr.contains("overall and per stream (StreamName=lines)"),
        "{stderr}"
    );
    let data = cloudwatch.data();
    // Stream granularity: overall (no dimension) and per stream, never per shard.
    assert!(
        data.iter().all(|d| d.namespace == "KinesisProducerLibrary"
            && (d.dimensions.is_empty()
                || (d.dimensions.len() == 1 && d.dimensions["StreamName"] == "lines"))),
        "{data:?}"
    );
    // Summary level: the KPL's summary metrics only (ErrorsByCode too, had there been errors).
    let names = names(&cloudwatch);
    let expected: BTreeSet<String> = SUMMARY_METRIC_NAMES
        .into_iter()
        .filter(|n| *n != "ErrorsByCode")
        .map(str::to_owned)
        .collect();
    assert_eq!(names, expected, "summary level");
    for at in [OVERALL, STREAM] {
        assert_eq!(sum_at(&data, "UserRecordsPut", at), 120.0, "{at:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn global_granularity_sends_no_stream_name() {
    let kinesis = FakeKinesis::builder("ticks").shards(2).start().await;
    let cloudwatch = FakeCloudWatch::start().await;
    let stderr = produce(
        &kinesis,
        "ticks",
        40,
        &[
            "--metrics-level",
            "detailed",
            "--metrics-granularity",
            "global",
        ],
        &endpoints(&kinesis, &cloudwatch),
    )
    .await;
    assert!(stderr.contains("overall only (no dimension)"), "{stderr}");
    let data = cloudwatch.data();
    assert!(!data.is_empty());
    assert!(
        data.iter().all(|d| d.dimensions.is_empty()),
        "no StreamName, no ShardId: {data:?}"
    );
    assert_eq!(cloudwatch.sum("UserRecordsPut"), 40.0);
    assert_eq!(
        cloudwatch.sum("KinesisRecordsPut"),
        kinesis.stored().len() as f64
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_publishes_nothing_unless_asked() {
    let kinesis = FakeKinesis::builder("trips").shards(1).start().await;
    let cloudwatch = FakeCloudWatch::start().await;
    let input = json_lines(50);
    let output = kstream(
        &[
            "replay",
            "--stream",
            "trips",
            input.path().to_str().unwrap(),
            "--speedup",
            "1000",
        ],
        &endpoints(&kinesis, &cloudwatch),
    )
    .await;
    let stderr = succeeded(&output, &kinesis, 50);
    assert!(
        stderr.contains("KPL metrics: UserRecordsPut: 50,"),
        "{stderr}"
    );
    assert!(!stderr.contains("CloudWatch"), "{stderr}");
    assert!(cloudwatch.requests().is_empty(), "the default is none");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_metrics_upload_is_a_warning_and_the_records_still_count() {
    let kinesis = FakeKinesis::builder("ticks").shards(1).start().await;
    // Kinesis' endpoint does not serve CloudWatch: PutMetricData fails.
    let stderr = produce(
        &kinesis,
        "ticks",
        20,
        &[
            "--metrics-level",
            "summary",
            "--cloudwatch-endpoint-url",
            &kinesis.url(),
        ],
        &[("AWS_ENDPOINT_URL_KINESIS", kinesis.url())],
    )
    .await;
    assert!(
        stderr.contains("warning: could not publish the producer metrics to CloudWatch: HTTP 404"),
        "{stderr}"
    );
}
