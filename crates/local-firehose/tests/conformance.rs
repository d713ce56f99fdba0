//! Conformance tier, Firehose: the cases of `conformance/firehose/*.json` (the AWS
//! documentation's examples, with their source named in each file and in
//! `conformance/firehose/SOURCES.md`) run through the local Firehose.
//!
//! Each case becomes a `DeliveryStreamDescription` (prefix, error prefix, dynamic partitioning,
//! `MetadataExtraction` query, `AppendDelimiterToRecord`, a Lambda transform), read by
//! `DeliveryConfig::from_description` as a deployed stream is, and its records (with their
//! arrival times) go through `FirehoseDelivery::deliver_records`: the delivery worker's own
//! transform, partitioning, prefix, error-output, delimiter and buffer code, with the objects
//! kept in memory instead of S3 (Kinesis cannot be given an arrival time, which the
//! `!{timestamp:…}` cases need). A case with a transform runs the real `firehose-transform`
//! binary (built for this machine: `cargo build -p firehose-transform`, or
//! `KSTREAM_FIREHOSE_TRANSFORM=<path>`) through the local Lambda host, configured by the
//! case's environment variables.
//!
//! Expected objects are compared by evaluated prefix (the text before
//! `<stream>-<version>-<time>-<uuid>`; `{random11}` stands for `!{firehose:random-string}`'s 11
//! random characters, `{error-output-type}` for any `…-failed` type where the documentation
//! does not name it) and body; error objects by prefix, the decoded `rawData` of their records
//! and the documented fields of each error record. Each case's `loose` field says the same for
//! its values; `note` says where its expected values come from.
//!
//! Run by scripts/test-conformance.sh: prints `FAIL firehose/<file>/<case>: …` per failing
//! case and `CONFORMANCE\tfirehose\t<feature>\t<passed>\t<total>` per feature, then fails if
//! any case failed.

// The FAIL and CONFORMANCE lines are this test's output, read by scripts/test-conformance.sh.
#![allow(clippy::print_stdout)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use aws_sdk_firehose::types::{
    BufferingHints, CompressionFormat, DeliveryStreamDescription, DeliveryStreamStatus,
    DeliveryStreamType, DestinationDescription, DynamicPartitioningConfiguration,
    ExtendedS3DestinationDescription, KinesisStreamSourceDescription, ProcessingConfiguration,
    Processor, ProcessorParameter, ProcessorParameterName, ProcessorType, SourceDescription,
};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use chrono::DateTime;
use kstream_local_firehose::processor::SourceRecord;
use kstream_local_firehose::{DeliveryConfig, FirehoseDelivery, StoredObject};
use kstream_local_lambda::runtime::{FunctionHost, FunctionSpec};
use serde::Deserialize;
use serde_json::Value;

const AREA: &str = "firehose";
const VERSION: &str = "1";

#[derive(Debug, Deserialize)]
struct CaseFile {
    cases: Vec<Case>,
}

#[derive(Debug, Deserialize)]
struct Case {
    name: String,
    feature: String,
    delivery: Delivery,
    records: Vec<Record>,
    expected: Expected,
}

/// The delivery stream of a case (what `CreateDeliveryStream` would configure).
#[derive(Debug, Deserialize)]
struct Delivery {
    #[serde(default = "default_stream")]
    stream: String,
    prefix: Option<String>,
    error_prefix: Option<String>,
    #[serde(default)]
    dynamic_partitioning: bool,
    query: Option<String>,
    #[serde(default)]
    append_delimiter: bool,
    /// Environment of the `firehose-transform` Lambda, when the stream has a transform.
    transform: Option<BTreeMap<String, String>>,
}

fn default_stream() -> String {
    "my-delivery-stream".to_owned()
}

#[derive(Debug, Deserialize)]
struct Record {
    data: String,
    /// RFC 3339: the record's approximate arrival time.
    arrival: String,
}

#[derive(Debug, Default, Deserialize)]
struct Expected {
    #[serde(default)]
    objects: Vec<ExpectedObject>,
    #[serde(default)]
    errors: Vec<ExpectedErrors>,
}

#[derive(Debug, Deserialize)]
struct ExpectedObject {
    prefix: String,
    body: String,
    /// The `yyyy-MM-dd-HH-mm-ss` of the object name, when the source prints it.
    name_time: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ExpectedErrors {
    prefix: String,
    /// The records (as text) the error object holds.
    raw: Vec<String>,
    /// Whether the error records name the transform (`lambdaArn`).
    #[serde(default)]
    lambda_arn: bool,
}

/// A delivered object, as compared.
#[derive(Debug)]
enum Got {
    Data {
        prefix: String,
        time: String,
        body: String,
    },
    Errors {
        prefix: String,
        lines: Vec<serde_json::Map<String, Value>>,
    },
}

fn transform_binary() -> PathBuf {
    if let Ok(p) = std::env::var("KSTREAM_FIREHOSE_TRANSFORM") {
        return PathBuf::from(p);
    }
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let p = target.join("debug").join("firehose-transform");
    assert!(
        p.exists(),
        "{} is not built: run `cargo build -p firehose-transform` (or set KSTREAM_FIREHOSE_TRANSFORM)",
        p.display()
    );
    p
}

fn param(name: ProcessorParameterName, value: &str) -> ProcessorParameter {
    ProcessorParameter::builder()
        .parameter_name(name)
        .parameter_value(value)
        .build()
        .expect("parameter")
}

fn description(d: &Delivery, function_arn: &str) -> DeliveryStreamDescription {
    let mut processors = Vec::new();
    if d.transform.is_some() {
        processors.push(
            Processor::builder()
                .r#type(ProcessorType::Lambda)
                .parameters(param(ProcessorParameterName::LambdaArn, function_arn))
                .parameters(param(ProcessorParameterName::LambdaNumberOfRetries, "0"))
                .build()
                .expect("processor"),
        );
    }
    if let Some(q) = &d.query {
        processors.push(
            Processor::builder()
                .r#type(ProcessorType::MetadataExtraction)
                .parameters(param(ProcessorParameterName::MetadataExtractionQuery, q))
                .parameters(param(ProcessorParameterName::JsonParsingEngine, "JQ-1.6"))
                .build()
                .expect("processor"),
        );
    }
    if d.append_delimiter {
        processors.push(
            Processor::builder()
                .r#type(ProcessorType::AppendDelimiterToRecord)
                .build()
                .expect("processor"),
        );
    }
    let dest = ExtendedS3DestinationDescription::builder()
        .role_arn("arn:aws:iam::123456789012:role/firehose")
        .bucket_arn("arn:aws:s3:::conformance")
        .compression_format(CompressionFormat::Uncompressed)
        .buffering_hints(
            BufferingHints::builder()
                .size_in_mbs(64)
                .interval_in_seconds(900)
                .build(),
        )
        .set_prefix(d.prefix.clone())
        .set_error_output_prefix(d.error_prefix.clone())
        .processing_configuration(
            ProcessingConfiguration::builder()
                .enabled(!processors.is_empty())
                .set_processors(Some(processors))
                .build(),
        )
        .dynamic_partitioning_configuration(
            DynamicPartitioningConfiguration::builder()
                .enabled(d.dynamic_partitioning)
                .build(),
        )
        .build()
        .expect("destination");
    DeliveryStreamDescription::builder()
        .delivery_stream_name(&d.stream)
        .delivery_stream_arn(format!(
            "arn:aws:firehose:us-east-1:123456789012:deliverystream/{}",
            d.stream
        ))
        .delivery_stream_status(DeliveryStreamStatus::Active)
        .delivery_stream_type(DeliveryStreamType::KinesisStreamAsSource)
        .version_id(VERSION)
        .source(
            SourceDescription::builder()
                .kinesis_stream_source_description(
                    KinesisStreamSourceDescription::builder()
                        .kinesis_stream_arn("arn:aws:kinesis:us-east-1:123456789012:stream/source")
                        .build(),
                )
                .build(),
        )
        .destinations(
            DestinationDescription::builder()
                .destination_id("destinationId-000000000001")
                .extended_s3_destination_description(dest)
                .build()
                .expect("destination description"),
        )
        .has_more_destinations(false)
        .build()
        .expect("description")
}

fn records(case: &Case) -> Result<Vec<SourceRecord>, String> {
    case.records
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let arrival = DateTime::parse_from_rfc3339(&r.arrival)
                .map_err(|e| format!("arrival {:?}: {e}", r.arrival))?;
            let seq = format!("{:056}", i + 1);
            Ok(SourceRecord {
                record_id: SourceRecord::make_id("shardId-000000000000", &seq, 0),
                data: Bytes::from(r.data.clone()),
                arrival_ms: arrival.timestamp_millis(),
                shard_id: "shardId-000000000000".to_owned(),
                partition_key: "pk".to_owned(),
                sequence_number: seq,
                subsequence_number: 0,
            })
        })
        .collect()
}

/// Splits an object into what is compared: its evaluated prefix, name time and content.
fn classify(stream: &str, object: &StoredObject) -> Result<Got, String> {
    let name = regex::Regex::new(&format!(
        r"^(?s)(.*){}-{VERSION}-(\d{{4}}-\d\d-\d\d-\d\d-\d\d-\d\d)-[0-9a-f]{{8}}-[0-9a-f]{{4}}-[0-9a-f]{{4}}-[0-9a-f]{{4}}-[0-9a-f]{{12}}$",
        regex::escape(stream)
    ))
    .map_err(|e| e.to_string())?;
    let caps = name
        .captures(&object.key)
        .ok_or_else(|| format!("object key {:?} is not a Firehose object name", object.key))?;
    let prefix = caps[1].to_owned();
    let time = caps[2].to_owned();
    let body = String::from_utf8(object.body.clone())
        .map_err(|_| format!("object {:?} is not UTF-8", object.key))?;
    let lines: Option<Vec<serde_json::Map<String, Value>>> = body
        .lines()
        .map(|l| match serde_json::from_str::<Value>(l) {
            Ok(Value::Object(m)) if m.contains_key("rawData") && m.contains_key("errorCode") => {
                Some(m)
            }
            _ => None,
        })
        .collect();
    Ok(match lines {
        Some(lines) if !lines.is_empty() => Got::Errors { prefix, lines },
        _ => Got::Data { prefix, time, body },
    })
}

/// The expected prefix as a pattern: `{random11}` and `{error-output-type}` stand for values
/// the documentation does not fix.
fn prefix_matches(expected: &str, got: &str) -> bool {
    let pattern = regex::escape(expected)
        .replace(r"\{random11\}", "[A-Za-z0-9-]{11}")
        .replace(r"\{error\-output\-type\}", "[a-z-]+-failed");
    regex::Regex::new(&format!("^{pattern}$")).is_ok_and(|re| re.is_match(got))
}

fn check_error_lines(
    exp: &ExpectedErrors,
    lines: &[serde_json::Map<String, Value>],
    case: &Case,
    function_arn: &str,
) -> Result<(), String> {
    let raw: Vec<String> = lines
        .iter()
        .map(|l| {
            l["rawData"]
                .as_str()
                .and_then(|d| BASE64.decode(d).ok())
                .map(|d| String::from_utf8_lossy(&d).into_owned())
                .unwrap_or_default()
        })
        .collect();
    if raw != exp.raw {
        return Err(format!("raw records {:?}, got {raw:?}", exp.raw));
    }
    for (line, rec) in lines.iter().zip(&exp.raw) {
        for field in [
            "attemptsMade",
            "arrivalTimestamp",
            "errorCode",
            "errorMessage",
            "attemptEndingTimestamp",
            "rawData",
        ] {
            if !line.contains_key(field) {
                return Err(format!("error record without {field}: {line:?}"));
            }
        }
        let arrival = case
            .records
            .iter()
            .find(|r| &r.data == rec)
            .and_then(|r| DateTime::parse_from_rfc3339(&r.arrival).ok())
            .map(|t| t.timestamp_millis());
        if line["arrivalTimestamp"].as_i64() != arrival {
            return Err(format!(
                "arrivalTimestamp {} is not the record's arrival {arrival:?}",
                line["arrivalTimestamp"]
            ));
        }
        let lambda = line.get("lambdaArn").and_then(Value::as_str);
        if exp.lambda_arn && lambda != Some(function_arn) {
            return Err(format!("lambdaArn {lambda:?}, expected {function_arn:?}"));
        }
    }
    Ok(())
}

async fn run_case(
    case: &Case,
    index: usize,
    host: &FunctionHost,
    delivery: &FirehoseDelivery,
) -> Result<(), String> {
    let function = format!("conformance-transform-{index}");
    let function_arn = format!("arn:aws:lambda:us-east-1:123456789012:function:{function}");
    if let Some(env) = &case.delivery.transform {
        let mut spec = FunctionSpec::new(&function, transform_binary());
        spec.timeout = Duration::from_secs(30);
        spec.environment.extend(env.clone());
        host.register(spec);
    }
    let config = DeliveryConfig::from_description(&description(&case.delivery, &function_arn))
        .map_err(|e| format!("configuration refused: {e}"))?;
    let objects = delivery
        .deliver_records(config, records(case)?)
        .await
        .map_err(|e| format!("delivery failed: {e}"))?;
    let mut got = objects
        .iter()
        .map(|o| classify(&case.delivery.stream, o))
        .collect::<Result<Vec<_>, _>>()?;
    let mut problems = Vec::new();
    for exp in &case.expected.objects {
        let at = got.iter().position(|g| match g {
            Got::Data { prefix, time, body } => {
                prefix_matches(&exp.prefix, prefix)
                    && body == &exp.body
                    && exp.name_time.as_ref().is_none_or(|t| t == time)
            }
            Got::Errors { .. } => false,
        });
        match at {
            Some(i) => {
                got.remove(i);
            }
            None => problems.push(format!(
                "no object under {:?} holding {:?}{}",
                exp.prefix,
                exp.body,
                exp.name_time
                    .as_ref()
                    .map(|t| format!(" named at {t}"))
                    .unwrap_or_default()
            )),
        }
    }
    for exp in &case.expected.errors {
        let mut why = None;
        let at = got.iter().position(|g| match g {
            Got::Errors { prefix, lines } if prefix_matches(&exp.prefix, prefix) => {
                match check_error_lines(exp, lines, case, &function_arn) {
                    Ok(()) => true,
                    Err(e) => {
                        why = Some(e);
                        false
                    }
                }
            }
            _ => false,
        });
        match at {
            Some(i) => {
                got.remove(i);
            }
            None => problems.push(format!(
                "no error object under {:?} with {:?}{}",
                exp.prefix,
                exp.raw,
                why.map(|w| format!(" ({w})")).unwrap_or_default()
            )),
        }
    }
    if !problems.is_empty() || !got.is_empty() {
        let unexpected: Vec<String> = got
            .iter()
            .map(|g| match g {
                Got::Data { prefix, time, body } => {
                    format!("object {prefix:?} (named at {time}) holding {body:?}")
                }
                Got::Errors { prefix, lines } => format!(
                    "error object {prefix:?} with {}",
                    serde_json::to_string(lines).unwrap_or_default()
                ),
            })
            .collect();
        return Err(format!(
            "expected: {}; got instead: {}",
            problems.join("; "),
            if unexpected.is_empty() {
                "nothing else".to_owned()
            } else {
                unexpected.join("; ")
            }
        ));
    }
    Ok(())
}

fn case_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "conformance tier: scripts/test-conformance.sh"]
async fn conformance() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../conformance/firehose");
    let host = FunctionHost::builder().build();
    let sdk = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .build();
    let delivery = FirehoseDelivery::builder(&sdk, host.clone()).build();
    let mut counts: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut failed = 0;
    let mut index = 0;
    for file in case_files(&dir) {
        let text = std::fs::read_to_string(&file).expect("case file");
        let cases: CaseFile = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{}: not a case file: {e}", file.display()));
        let file_name = file.file_name().unwrap_or_default().to_string_lossy();
        for case in &cases.cases {
            index += 1;
            let entry = counts.entry(case.feature.clone()).or_default();
            entry.1 += 1;
            match run_case(case, index, &host, &delivery).await {
                Ok(()) => entry.0 += 1,
                Err(why) => {
                    failed += 1;
                    println!("FAIL {AREA}/{file_name}/{}: {why}", case.name);
                }
            }
        }
    }
    host.shutdown().await;
    for (feature, (passed, total)) in &counts {
        println!("CONFORMANCE\t{AREA}\t{feature}\t{passed}\t{total}");
    }
    assert!(index > 0, "no cases under {}", dir.display());
    assert_eq!(failed, 0, "{failed} Firehose conformance case(s) failed");
}
