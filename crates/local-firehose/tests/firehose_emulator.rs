//! Firehose delivery on the emulator, with the real `firehose-transform` binary.
//!
//! Needs the emulator and the transform built for this machine (`cargo build -p
//! firehose-transform`, or `KSTREAM_FIREHOSE_TRANSFORM=<path>`): run by scripts/test-e2e.sh
//! (`cargo test -- --ignored`).

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::Duration;

use aws_sdk_firehose::types::{
    BufferingHints, CompressionFormat, DeliveryStreamType, DynamicPartitioningConfiguration,
    ExtendedS3DestinationConfiguration, KinesisStreamSourceConfiguration, ProcessingConfiguration,
    Processor, ProcessorParameter, ProcessorParameterName, ProcessorType, RetryOptions,
    S3BackupMode, S3DestinationConfiguration,
};
use aws_sdk_kinesis::primitives::Blob;
use base64::Engine as _;
use kstream_local_firehose::{FirehoseDelivery, FirehoseDeliveryBuilder};
use kstream_local_lambda::runtime::{FunctionHost, FunctionSpec};
use serde_json::Value;
use tokio::sync::oneshot;

use kstream_local_testkit::{Emulator, emulator, s3_objects};

const ERROR_PREFIX: &str = "errors/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/!{firehose:error-output-type}";

/// A delivery running in the background until [`Running::finish`] stops it.
pub(crate) struct Running {
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<kstream_local_firehose::Result<()>>,
}

impl Running {
    /// Runs `fh` in a task of its own.
    pub(crate) fn start(fh: &FirehoseDelivery) -> Self {
        let (stop, stopped) = oneshot::channel::<()>();
        let fh = fh.clone();
        let task = tokio::spawn(async move {
            fh.run(async {
                let _ = stopped.await;
            })
            .await
        });
        Self { stop, task }
    }

    /// Whether the delivery has stopped by itself.
    pub(crate) fn is_finished(&self) -> bool {
        self.task.is_finished()
    }

    /// Waits up to `timeout` for `done`, failing with `stats` if the delivery stops by itself or
    /// time runs out.
    pub(crate) async fn wait(
        &self,
        what: &str,
        timeout: Duration,
        done: impl Fn() -> bool,
        stats: impl Fn() -> String,
    ) {
        let deadline = std::time::Instant::now() + timeout;
        while !done() {
            assert!(
                !self.is_finished(),
                "the delivery stopped early: {}",
                stats()
            );
            assert!(
                std::time::Instant::now() < deadline,
                "timed out waiting for {what}: {}",
                stats()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Stops the delivery (it flushes and checkpoints) and checks it ended without an error.
    pub(crate) async fn finish(self) {
        self.stop.send(()).unwrap();
        self.task.await.unwrap().unwrap();
    }
}

/// The transform built for this machine.
fn transform_binary() -> PathBuf {
    if let Ok(p) = std::env::var("KSTREAM_FIREHOSE_TRANSFORM") {
        return PathBuf::from(p);
    }
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    // The debug build only: the workspace build every test tier shares makes it from the current
    // source (a release binary may be left from an older tree).
    let p = target.join("debug").join("firehose-transform");
    assert!(
        p.exists(),
        "{} is not built: run `cargo test --workspace --no-run` (or set KSTREAM_FIREHOSE_TRANSFORM)",
        p.display()
    );
    p
}

pub(crate) fn s3(emu: &Emulator) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&emu.sdk)
            .force_path_style(true)
            .build(),
    )
}

pub(crate) fn param(name: ProcessorParameterName, value: &str) -> ProcessorParameter {
    ProcessorParameter::builder()
        .parameter_name(name)
        .parameter_value(value)
        .build()
        .unwrap()
}

/// The role every test delivery stream names (moto does not check it).
pub(crate) const ROLE: &str = "arn:aws:iam::123456789012:role/firehose";

/// The test's output bucket, created: the S3 client (path style) and the bucket's name.
pub(crate) async fn out_bucket(emu: &Emulator) -> (aws_sdk_s3::Client, String) {
    let s3 = s3(emu);
    let bucket = format!("{}-out", emu.prefix);
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    (s3, bucket)
}

/// Buffering hints the tests never reach: objects are written by the flush at 1 s
/// ([`fast_delivery`]) or at the end.
pub(crate) fn hints() -> BufferingHints {
    BufferingHints::builder()
        .size_in_mbs(64)
        .interval_in_seconds(60)
        .build()
}

/// Creates delivery stream `name` reading `stream_arn` into `dest`.
pub(crate) async fn create_delivery(
    emu: &Emulator,
    name: &str,
    stream_arn: &str,
    dest: ExtendedS3DestinationConfiguration,
) {
    aws_sdk_firehose::Client::new(&emu.sdk)
        .create_delivery_stream()
        .delivery_stream_name(name)
        .delivery_stream_type(DeliveryStreamType::KinesisStreamAsSource)
        .kinesis_stream_source_configuration(
            KinesisStreamSourceConfiguration::builder()
                .kinesis_stream_arn(stream_arn)
                .role_arn(ROLE)
                .build()
                .unwrap(),
        )
        .extended_s3_destination_configuration(dest)
        .send()
        .await
        .unwrap();
}

/// The local delivery with no functions, polling every 200 ms and writing buffers after 1 s.
pub(crate) fn fast_delivery(emu: &Emulator) -> FirehoseDeliveryBuilder {
    fast_delivery_with(&emu.sdk)
}

/// [`fast_delivery`] with its own SDK configuration (e.g. another endpoint).
pub(crate) fn fast_delivery_with(sdk: &aws_config::SdkConfig) -> FirehoseDeliveryBuilder {
    FirehoseDelivery::builder(sdk, FunctionHost::builder().build())
        .poll_interval(Duration::from_millis(200))
        .max_buffer_interval(Duration::from_secs(1))
}

/// A delivery stream like pattern 3's with dynamic partitioning by ticker from the transform.
async fn delivery_stream(
    emu: &Emulator,
    stream_arn: &str,
    bucket: &str,
    function_arn: &str,
    retries: &str,
    backup: bool,
) -> String {
    let name = format!("{}-delivery", emu.prefix);
    let lambda = Processor::builder()
        .r#type(ProcessorType::Lambda)
        .parameters(param(
            ProcessorParameterName::LambdaArn,
            &format!("{function_arn}:$LATEST"),
        ))
        .parameters(param(ProcessorParameterName::BufferSizeInMb, "0.2"))
        .parameters(param(ProcessorParameterName::BufferIntervalInSeconds, "60"))
        .parameters(param(
            ProcessorParameterName::LambdaNumberOfRetries,
            retries,
        ))
        .build()
        .unwrap();
    let mut dest = ExtendedS3DestinationConfiguration::builder()
        .role_arn(ROLE)
        .bucket_arn(format!("arn:aws:s3:::{bucket}"))
        .prefix("data/ticker=!{partitionKeyFromLambda:ticker}/year=!{timestamp:yyyy}/")
        .error_output_prefix(ERROR_PREFIX)
        .buffering_hints(hints())
        .compression_format(CompressionFormat::Gzip)
        .dynamic_partitioning_configuration(
            DynamicPartitioningConfiguration::builder()
                .enabled(true)
                .retry_options(RetryOptions::builder().duration_in_seconds(300).build())
                .build(),
        )
        .processing_configuration(
            ProcessingConfiguration::builder()
                .enabled(true)
                .processors(lambda)
                .build(),
        )
        .s3_backup_mode(if backup {
            S3BackupMode::Enabled
        } else {
            S3BackupMode::Disabled
        });
    if backup {
        dest = dest.s3_backup_configuration(
            S3DestinationConfiguration::builder()
                .role_arn(ROLE)
                .bucket_arn(format!("arn:aws:s3:::{bucket}"))
                .prefix("source/")
                .compression_format(CompressionFormat::Gzip)
                .build()
                .unwrap(),
        );
    }
    create_delivery(emu, &name, stream_arn, dest.build().unwrap()).await;
    name
}

/// A destination with no transform: partition keys from the JQ query `{ticker: .ticker}` (a
/// record without a ticker fails), one record per line.
pub(crate) fn jq_ticker_destination(
    bucket: &str,
    prefix: &str,
    error_prefix: &str,
) -> aws_sdk_firehose::types::builders::ExtendedS3DestinationConfigurationBuilder {
    let processors = ProcessingConfiguration::builder()
        .enabled(true)
        .processors(
            Processor::builder()
                .r#type(ProcessorType::MetadataExtraction)
                .parameters(param(
                    ProcessorParameterName::MetadataExtractionQuery,
                    "{ticker: .ticker}",
                ))
                .parameters(param(ProcessorParameterName::JsonParsingEngine, "JQ-1.6"))
                .build()
                .unwrap(),
        )
        .processors(
            Processor::builder()
                .r#type(ProcessorType::AppendDelimiterToRecord)
                .parameters(param(ProcessorParameterName::Delimiter, "\\n"))
                .build()
                .unwrap(),
        )
        .build();
    ExtendedS3DestinationConfiguration::builder()
        .role_arn(ROLE)
        .bucket_arn(format!("arn:aws:s3:::{bucket}"))
        .prefix(prefix)
        .error_output_prefix(error_prefix)
        .buffering_hints(hints())
        .dynamic_partitioning_configuration(
            DynamicPartitioningConfiguration::builder()
                .enabled(true)
                .build(),
        )
        .processing_configuration(processors)
}

/// Puts one record per ticker (partition keys pk0, pk1, …) and one without a ticker.
async fn put_tickers(emu: &Emulator, stream: &str, tickers: &[&str]) {
    for (i, t) in tickers.iter().enumerate() {
        emu.put(
            stream,
            &format!("pk{i}"),
            &format!(r#"{{"ticker":"{t}","n":{i}}}"#),
        )
        .await;
    }
    emu.put(stream, "nokey", r#"{"n":99}"#).await;
}

/// Runs the local delivery of `name` alone until `records` are delivered or failed; returns
/// (read, delivered, dropped, failed).
async fn deliver(emu: &Emulator, name: &str, records: u64) -> (u64, u64, u64, u64) {
    let fh = fast_delivery(emu).only([name.to_owned()]).build();
    let stats = fh.stats();
    let running = Running::start(&fh);
    running
        .wait(
            "the records",
            Duration::from_secs(60),
            || {
                stats.records_delivered.load(Ordering::Relaxed)
                    + stats.records_failed.load(Ordering::Relaxed)
                    >= records
            },
            || {
                format!(
                    "(read, delivered, dropped, failed, objects) = {:?}",
                    stats.snapshot()
                )
            },
        )
        .await;
    running.finish().await;
    let (read, delivered, dropped, failed, _) = stats.snapshot();
    (read, delivered, dropped, failed)
}

/// Every object in the bucket: key → decompressed lines.
pub(crate) async fn objects(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    for (key, _, bytes) in s3_objects(s3, bucket).await {
        let mut text = String::new();
        if key.ends_with(".gz") {
            flate2::read::GzDecoder::new(&bytes[..])
                .read_to_string(&mut text)
                .unwrap();
        } else {
            text = String::from_utf8(bytes).unwrap();
        }
        out.insert(key, text.lines().map(str::to_owned).collect());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the emulator: run by scripts/test-e2e.sh"]
async fn records_land_under_their_partitions_and_poison_under_the_error_prefix() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("kstream_local=info"))
        .with_test_writer()
        .try_init();
    let emu = emulator().await;
    let binary = transform_binary();
    let (stream, stream_arn) = emu.stream(2).await;
    let (s3, bucket) = out_bucket(&emu).await;
    let function = format!("{}-transform", emu.prefix);
    let function_arn = format!("arn:aws:lambda:us-east-1:123456789012:function:{function}");
    let delivery = delivery_stream(&emu, &stream_arn, &bucket, &function_arn, "3", false).await;

    // 20 plain records, 2 poison records, and one KPL aggregate of 3 user records: 25 in all.
    let mut expected: BTreeMap<String, usize> = BTreeMap::new();
    for i in 0..20 {
        let ticker = if i % 5 < 3 { "AMZN" } else { "MSFT" };
        *expected.entry(ticker.to_owned()).or_default() += 1;
        emu.put(
            &stream,
            &format!("pk{i}"),
            &format!(r#"{{"ticker":"{ticker}","price":{i}.5,"extra":true}}"#),
        )
        .await;
    }
    for i in 0..2 {
        emu.put(&stream, &format!("bad{i}"), &format!("not json {i}"))
            .await;
    }
    let subs: Vec<_> = (0..3)
        .map(|i| {
            kstream_kpl::UserRecord::new(
                format!("agg{i}"),
                format!(r#"{{"ticker":"INTC","price":{i}}}"#),
            )
        })
        .collect();
    expected.insert("INTC".to_owned(), 3);
    emu.kinesis
        .put_record()
        .stream_name(&stream)
        .partition_key("a")
        .data(Blob::new(kstream_kpl::encode(&subs)))
        .send()
        .await
        .unwrap();

    let host = FunctionHost::builder().build();
    let mut spec = FunctionSpec::new(&function, binary);
    spec.timeout = Duration::from_secs(30);
    spec.environment.insert(
        "TEMPLATE".into(),
        r#"{"ticker": {{ticker}}, "price": {{price}}}"#.into(),
    );
    spec.environment
        .insert("PARTITION_KEYS".into(), r#"{"ticker":"{{ticker}}"}"#.into());
    host.register(spec);

    let state = tempfile::tempdir().unwrap();
    let run = |host: FunctionHost| {
        FirehoseDelivery::builder(&emu.sdk, host)
            .only([delivery.clone()])
            .state_dir(state.path())
            .poll_interval(Duration::from_millis(200))
            .max_buffer_interval(Duration::from_secs(1))
            .build()
    };
    let fh = run(host.clone());
    let stats = fh.stats();
    let running = Running::start(&fh);
    running
        .wait(
            "the records",
            Duration::from_secs(90),
            || {
                stats.records_read.load(Ordering::Relaxed) >= 25
                    && stats.records_delivered.load(Ordering::Relaxed)
                        + stats.records_failed.load(Ordering::Relaxed)
                        >= 25
            },
            || {
                format!(
                    "(read, delivered, dropped, failed, objects) = {:?}",
                    stats.snapshot()
                )
            },
        )
        .await;
    running.finish().await;
    let (read, delivered, dropped, failed, _) = stats.snapshot();
    let objs = objects(&s3, &bucket).await;
    let error_lines: Vec<&String> = objs
        .iter()
        .filter(|(k, _)| k.starts_with("errors/"))
        .flat_map(|(_, l)| l)
        .collect();
    assert_eq!(
        (read, delivered, dropped, failed),
        (25, 23, 0, 2),
        "none lost; error records: {error_lines:#?}"
    );

    let year = chrono::Utc::now().format("%Y").to_string();
    let name = regex::Regex::new(&format!(
        r"{delivery}-1-\d{{4}}-\d{{2}}-\d{{2}}-\d{{2}}-\d{{2}}-\d{{2}}-[0-9a-f-]{{36}}\.gz$"
    ))
    .unwrap();
    let mut got: BTreeMap<String, usize> = BTreeMap::new();
    let mut errors = Vec::new();
    for (key, lines) in &objs {
        assert!(name.is_match(key), "Firehose object name: {key}");
        if let Some(rest) = key.strip_prefix("data/ticker=") {
            let ticker = rest.split('/').next().unwrap();
            assert!(rest.starts_with(&format!("{ticker}/year={year}/")), "{key}");
            for line in lines {
                let v: Value = serde_json::from_str(line).unwrap();
                assert_eq!(
                    v["ticker"], ticker,
                    "record in its ticker's partition: {line}"
                );
                assert!(v.get("extra").is_none(), "the template was applied: {line}");
                *got.entry(ticker.to_owned()).or_default() += 1;
            }
        } else {
            assert!(key.starts_with(&format!("errors/year={year}/")), "{key}");
            assert!(key.contains("/processing-failed"), "{key}");
            errors.extend(
                lines
                    .iter()
                    .map(|l| serde_json::from_str::<Value>(l).unwrap()),
            );
        }
    }
    assert_eq!(got, expected, "every good record under its partition");
    assert_eq!(errors.len(), 2);
    let mut raw: Vec<String> = errors
        .iter()
        .map(|e| {
            assert_eq!(e["errorCode"], "Lambda.ProcessingFailedStatus");
            assert_eq!(e["lambdaArn"], format!("{function_arn}:$LATEST"));
            assert!(e["attemptsMade"].as_u64().unwrap() >= 1);
            assert!(e["arrivalTimestamp"].as_i64().unwrap() > 0);
            assert!(
                e["attemptEndingTimestamp"].as_i64().unwrap()
                    >= e["arrivalTimestamp"].as_i64().unwrap()
            );
            assert!(
                e["errorMessage"]
                    .as_str()
                    .unwrap()
                    .contains("ProcessingFailed")
            );
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(e["rawData"].as_str().unwrap())
                .unwrap();
            String::from_utf8(bytes).unwrap()
        })
        .collect();
    raw.sort();
    assert_eq!(
        raw,
        ["not json 0", "not json 1"],
        "poison records kept as they were sent"
    );

    // A restart resumes after the checkpoints: nothing is read or written again.
    let fh2 = run(host.clone());
    let stats2 = fh2.stats();
    fh2.run(tokio::time::sleep(Duration::from_secs(2)))
        .await
        .unwrap();
    assert_eq!(stats2.snapshot(), (0, 0, 0, 0, 0));
    assert_eq!(objects(&s3, &bucket).await.len(), objs.len());
    host.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the emulator: run by scripts/test-e2e.sh"]
async fn a_transform_that_cannot_start_sends_every_record_to_the_error_output() {
    let emu = emulator().await;
    let binary = transform_binary();
    let (stream, stream_arn) = emu.stream(1).await;
    let (s3, bucket) = out_bucket(&emu).await;
    let function = format!("{}-transform", emu.prefix);
    let function_arn = format!("arn:aws:lambda:us-east-1:123456789012:function:{function}");
    let delivery = delivery_stream(&emu, &stream_arn, &bucket, &function_arn, "1", true).await;
    for i in 0..5 {
        emu.put(
            &stream,
            &format!("pk{i}"),
            &format!(r#"{{"ticker":"AMZN","price":{i}}}"#),
        )
        .await;
    }

    // An unknown helper: the transform refuses to start (cold start fails), so every invocation fails.
    let host = FunctionHost::builder().build();
    let mut spec = FunctionSpec::new(&function, binary);
    spec.timeout = Duration::from_secs(30);
    spec.environment
        .insert("TEMPLATE".into(), "{{no_such_helper ticker}}".into());
    host.register(spec);
    let fh = FirehoseDelivery::builder(&emu.sdk, host.clone())
        .only([delivery])
        .poll_interval(Duration::from_millis(200))
        .max_buffer_interval(Duration::from_secs(1))
        .build();
    let stats = fh.stats();
    let running = Running::start(&fh);
    running
        .wait(
            "the records",
            Duration::from_secs(90),
            || stats.records_failed.load(Ordering::Relaxed) >= 5,
            || {
                format!(
                    "(read, delivered, dropped, failed, objects) = {:?}",
                    stats.snapshot()
                )
            },
        )
        .await;
    running.finish().await;
    let (read, delivered, dropped, failed, _) = stats.snapshot();
    assert_eq!(
        (read, delivered, dropped, failed),
        (5, 0, 0, 5),
        "none lost"
    );
    assert_eq!(
        stats.invocations.load(Ordering::Relaxed),
        2,
        "one attempt and NumberOfRetries = 1 retry"
    );
    let objs = objects(&s3, &bucket).await;
    // The S3 backup keeps every source record as it was sent, whatever the transform did.
    // (Firehose writes the source records back to back, with no delimiter.)
    let mut backed_up: Vec<Value> = objs
        .iter()
        .filter(|(k, _)| k.starts_with("source/"))
        .flat_map(|(_, l)| {
            serde_json::Deserializer::from_str(&l.concat())
                .into_iter::<Value>()
                .map(Result::unwrap)
                .collect::<Vec<_>>()
        })
        .collect();
    backed_up.sort_by_key(|v| v["price"].as_i64());
    assert_eq!(stats.records_backed_up.load(Ordering::Relaxed), 5);
    assert_eq!(
        backed_up,
        (0..5)
            .map(|i| serde_json::json!({"ticker": "AMZN", "price": i}))
            .collect::<Vec<_>>()
    );
    let objs: BTreeMap<String, Vec<String>> = objs
        .into_iter()
        .filter(|(k, _)| !k.starts_with("source/"))
        .collect();
    let lines: Vec<Value> = objs
        .values()
        .flatten()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 5);
    for e in &lines {
        assert_eq!(e["errorCode"], "Lambda.FunctionError", "{e}");
        assert_eq!(e["attemptsMade"], 2);
        assert_eq!(e["lambdaArn"], format!("{function_arn}:$LATEST"));
    }
    assert!(objs.keys().all(|k| k.contains("/processing-failed")));
    host.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the emulator: run by scripts/test-e2e.sh"]
async fn jq_partition_keys_without_a_transform() {
    let emu = emulator().await;
    let (stream, stream_arn) = emu.stream(1).await;
    let (s3, bucket) = out_bucket(&emu).await;
    let name = format!("{}-delivery", emu.prefix);
    let dest = jq_ticker_destination(
        &bucket,
        "q/ticker=!{partitionKeyFromQuery:ticker}/",
        "errors/!{firehose:error-output-type}/",
    )
    .compression_format(CompressionFormat::Uncompressed);
    create_delivery(&emu, &name, &stream_arn, dest.build().unwrap()).await;
    put_tickers(&emu, &stream, &["AMZN", "MSFT", "AMZN", "INTC"]).await;

    assert_eq!(deliver(&emu, &name, 5).await, (5, 4, 0, 1), "none lost");
    let objs = objects(&s3, &bucket).await;
    let mut by_prefix: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (key, lines) in &objs {
        assert!(
            !key.ends_with(".gz"),
            "UNCOMPRESSED objects have no extension: {key}"
        );
        let prefix = key.rsplit_once('/').unwrap().0.to_owned();
        by_prefix
            .entry(prefix)
            .or_default()
            .extend(lines.iter().cloned());
    }
    assert_eq!(
        by_prefix.keys().collect::<Vec<_>>(),
        [
            "errors/partitioning-failed",
            "q/ticker=AMZN",
            "q/ticker=INTC",
            "q/ticker=MSFT"
        ]
    );
    assert_eq!(
        by_prefix["q/ticker=AMZN"],
        [r#"{"ticker":"AMZN","n":0}"#, r#"{"ticker":"AMZN","n":2}"#],
        "one record per line (AppendDelimiterToRecord)"
    );
    let error: Value = serde_json::from_str(&by_prefix["errors/partitioning-failed"][0]).unwrap();
    assert_eq!(
        error["errorCode"],
        "DynamicPartitioning.MetadataExtractionFailed"
    );
    assert_eq!(
        base64::engine::general_purpose::STANDARD
            .decode(error["rawData"].as_str().unwrap())
            .unwrap(),
        br#"{"n":99}"#
    );
}

/// `FileExtension` and `CustomTimeZone` as the delivery stream declares them: the data objects
/// end in the extension given (GZIP still), every timestamp in the keys (the prefix expressions,
/// the error prefix and the time in the object names) is Tokyo time, and error output objects
/// keep the compression's `.gz`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the emulator: run by scripts/test-e2e.sh"]
async fn file_extension_and_custom_time_zone_name_the_objects() {
    use chrono::{DateTime, NaiveDateTime, TimeZone as _, Utc};
    use chrono_tz::Tz;

    let emu = emulator().await;
    let (stream, stream_arn) = emu.stream(1).await;
    let (s3, bucket) = out_bucket(&emu).await;
    let name = format!("{}-delivery", emu.prefix);
    let dest = jq_ticker_destination(
        &bucket,
        "tz/ticker=!{partitionKeyFromQuery:ticker}/!{timestamp:yyyy-MM-dd-HH}/",
        "tz-errors/!{firehose:error-output-type}/!{timestamp:yyyy-MM-dd-HH}/",
    )
    .compression_format(CompressionFormat::Gzip)
    .file_extension(".json.gz")
    .custom_time_zone("Asia/Tokyo");
    create_delivery(&emu, &name, &stream_arn, dest.build().unwrap()).await;
    // The emulator keeps both settings, so kstream local reads them as it reads a deployment.
    let described = aws_sdk_firehose::Client::new(&emu.sdk)
        .describe_delivery_stream()
        .delivery_stream_name(&name)
        .send()
        .await
        .unwrap();
    let dest = described
        .delivery_stream_description()
        .unwrap()
        .destinations()[0]
        .extended_s3_destination_description()
        .unwrap();
    assert_eq!(
        (dest.file_extension(), dest.custom_time_zone()),
        (Some(".json.gz"), Some("Asia/Tokyo")),
        "DescribeDeliveryStream returns FileExtension and CustomTimeZone"
    );

    let before = Utc::now() - chrono::Duration::seconds(1);
    put_tickers(&emu, &stream, &["AMZN", "MSFT", "AMZN"]).await;
    let after = Utc::now() + chrono::Duration::seconds(1);

    assert_eq!(deliver(&emu, &name, 4).await, (4, 3, 0, 1), "none lost");

    // The hours the records can have arrived in, in Tokyo (UTC+9, no daylight saving time);
    // the same hours in UTC never match (9 hours apart).
    let tokyo = |t: DateTime<Utc>| t.with_timezone(&Tz::Asia__Tokyo);
    let hours: Vec<String> = [before, after]
        .iter()
        .map(|t| tokyo(*t).format("%Y-%m-%d-%H").to_string())
        .collect();
    let objs = objects(&s3, &bucket).await;
    let keys: Vec<&String> = objs.keys().collect();
    assert_eq!(objs.len(), 3, "AMZN, MSFT and the error output: {keys:?}");
    let name_re = regex::Regex::new(&format!(
        r"^(?P<prefix>.*/){}-(?P<version>[^-]+)-(?P<time>\d{{4}}-\d{{2}}-\d{{2}}-\d{{2}}-\d{{2}}-\d{{2}})-[0-9a-f-]{{36}}(?P<ext>\..+)$",
        regex::escape(&name)
    ))
    .unwrap();
    let mut seen = BTreeMap::new();
    for (key, lines) in &objs {
        let c = name_re
            .captures(key)
            .unwrap_or_else(|| panic!("not a Firehose object name: {key}"));
        let prefix = &c["prefix"];
        let (kind, hour) = prefix
            .trim_end_matches('/')
            .rsplit_once('/')
            .unwrap_or_else(|| panic!("{key}"));
        assert!(
            hours.iter().any(|h| h == hour),
            "the prefix's hour {hour} of {key} is not Tokyo time ({hours:?})"
        );
        // The time in the name is Tokyo time too: read back as Tokyo it is the arrival time.
        let local = NaiveDateTime::parse_from_str(&c["time"], "%Y-%m-%d-%H-%M-%S").unwrap();
        let at = Tz::Asia__Tokyo
            .from_local_datetime(&local)
            .single()
            .unwrap()
            .with_timezone(&Utc);
        assert!(
            at >= before - chrono::Duration::seconds(1) && at <= after,
            "the time in {key} is not the arrival time in Tokyo ({at} not in {before}..{after})"
        );
        seen.insert(kind.to_owned(), (c["ext"].to_owned(), lines.clone()));
    }
    assert_eq!(
        seen.keys().collect::<Vec<_>>(),
        [
            "tz-errors/partitioning-failed",
            "tz/ticker=AMZN",
            "tz/ticker=MSFT"
        ],
        "{keys:?}"
    );
    assert_eq!(
        seen["tz/ticker=AMZN"],
        (
            ".json.gz".to_owned(),
            vec![
                r#"{"ticker":"AMZN","n":0}"#.to_owned(),
                r#"{"ticker":"AMZN","n":2}"#.to_owned()
            ]
        ),
        "data objects end in FileExtension and are still gzip (objects() gunzips .gz names)"
    );
    assert_eq!(seen["tz/ticker=MSFT"].0, ".json.gz");
    assert_eq!(
        seen["tz-errors/partitioning-failed"].0, ".gz",
        "error output objects keep the compression's extension"
    );
    let error: Value = serde_json::from_str(&seen["tz-errors/partitioning-failed"].1[0]).unwrap();
    assert_eq!(
        error["errorCode"],
        "DynamicPartitioning.MetadataExtractionFailed"
    );
}
