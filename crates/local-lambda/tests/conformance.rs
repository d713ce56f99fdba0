//! The Kinesis → Lambda conformance runner: every case of `conformance/kinesis-lambda/*.json`
//! (outputs recorded on AWS, or printed in AWS's documentation) run through the real event
//! source mapping ([`MappingRunner`]) against the emulator's Kinesis, with the real
//! `kstream-test-fn` binary as the function (through the Runtime API host) and a real SQS queue
//! of the emulator as the on-failure destination.
//!
//! Prints `FAIL kinesis-lambda/<file>/<case>: …` for each failing case and one
//! `CONFORMANCE\tkinesis-lambda\t<feature>\t<passed>\t<total>` line per feature, then panics if
//! any case failed. The case format is described in `conformance/kinesis-lambda/SOURCES.md`.
//!
//! Needs the emulator (`AWS_ENDPOINT_URL`): run by scripts/test-conformance.sh.

#![allow(
    clippy::print_stdout,
    reason = "the FAIL and CONFORMANCE lines go to stdout: the conformance tier reads them"
)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use aws_sdk_lambda::types::{
    DestinationConfig, EventSourceMappingConfiguration, EventSourcePosition, FunctionResponseType,
    OnFailure,
};
use kstream_local_lambda::checkpoint::CheckpointStore;
use kstream_local_lambda::deployed::mapping_from;
use kstream_local_lambda::mapping::event::{
    Condition, FailureContext, StreamRecord, on_failure_message,
};
use kstream_local_lambda::mapping::{MappingRunner, MappingStats, RunnerOptions};
use kstream_local_lambda::runtime::{FunctionHost, FunctionSpec};
use kstream_local_testkit::{Emulator, emulator, test_fn};
use serde_json::{Value, json};
use tokio::sync::{Semaphore, watch};

const AREA: &str = "kinesis-lambda";
/// How long one case may take to have every record done.
const CASE_TIMEOUT: Duration = Duration::from_secs(40);
/// Cases run at once (each runs a function process and a shard poller).
const PARALLEL: usize = 8;

/// One case, with the file it came from.
struct Case {
    file: String,
    name: String,
    feature: String,
    body: Value,
}

fn load_cases() -> Vec<Case> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../conformance/kinesis-lambda");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no case files in {}", dir.display());
    let mut cases = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let doc: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{}: not JSON: {e}", path.display()));
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        for source_key in ["kind", "name", "where", "validated"] {
            assert!(
                doc["source"][source_key].is_string(),
                "{file}: source.{source_key} is missing"
            );
        }
        for case in doc["cases"].as_array().expect("cases") {
            cases.push(Case {
                file: file.clone(),
                name: case["name"].as_str().expect("a case name").to_owned(),
                feature: case["feature"].as_str().expect("a feature").to_owned(),
                body: case.clone(),
            });
        }
    }
    cases
}

/// What a case observed of the data plane.
#[derive(Debug, Default)]
struct Observed {
    /// Sequence numbers of the records put, in order.
    seqs: Vec<String>,
    /// Each invocation as the function saw it.
    invocations: Vec<Value>,
    /// The on-failure messages received, in order.
    on_failure: Vec<Value>,
    /// When the first put was sent and when the last one was answered (epoch ms).
    first_put_ms: i64,
    last_put_ms: i64,
    /// The mapping's ARNs, for the loose comparisons.
    function_arn: String,
    stream_arn: String,
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// The records a case puts: (partition key, data).
fn records_of(case: &Value) -> Vec<(String, Vec<u8>)> {
    let report: Vec<u64> = case["function"]["reportFailed"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_u64).collect())
        .unwrap_or_default();
    if let Some(generate) = case.get("generate") {
        let count = generate["count"].as_u64().unwrap();
        let bytes = usize::try_from(generate["bytes"].as_u64().unwrap()).unwrap();
        let key = generate["partitionKey"].as_str().unwrap().to_owned();
        return (0..count)
            .map(|i| {
                let fill = b'a' + u8::try_from(i % 26).unwrap();
                (key.clone(), vec![fill; bytes])
            })
            .collect();
    }
    case["records"]
        .as_array()
        .expect("records")
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let key = r["partitionKey"].as_str().unwrap().to_owned();
            // The test function names a record in batchItemFailures when its data says so.
            let data = if report.contains(&(i as u64)) {
                json!({"act": "fail"}).to_string()
            } else {
                r["data"].as_str().unwrap().to_owned()
            };
            (key, data.into_bytes())
        })
        .collect()
}

/// The function's environment for the case's `function` settings.
fn function_env(function: &Value) -> Vec<(String, String)> {
    let mut env = Vec::new();
    if let Some(response) = function.get("response") {
        env.push(("KSTREAM_TEST_FN_RESPONSE".into(), response.to_string()));
    }
    if let Some(raw) = function.get("rawResponse").and_then(Value::as_str) {
        env.push(("KSTREAM_TEST_FN_RAW_RESPONSE".into(), raw.to_owned()));
    }
    if function["unhandledError"] == true {
        env.push(("KSTREAM_TEST_FN_FAIL_ALL".into(), "1".into()));
    }
    if function.get("reportFailed").is_some() {
        env.push(("KSTREAM_TEST_FN_REPORT".into(), "1".into()));
    }
    env
}

/// The mapping as Lambda's API describes it, read by the data plane's own `mapping_from`.
fn mapping_config(
    case: &Value,
    uuid: &str,
    function_arn: &str,
    stream_arn: &str,
    queue_arn: Option<&str>,
) -> EventSourceMappingConfiguration {
    let m = &case["mapping"];
    let int = |k: &str| {
        m.get(k)
            .and_then(Value::as_i64)
            .map(|v| i32::try_from(v).unwrap())
    };
    let position = match m["StartingPosition"].as_str() {
        Some("TRIM_HORIZON") => EventSourcePosition::TrimHorizon,
        other => panic!("StartingPosition {other:?} is not used by the cases"),
    };
    let mut b = EventSourceMappingConfiguration::builder()
        .uuid(uuid)
        .event_source_arn(stream_arn)
        .function_arn(function_arn)
        .starting_position(position)
        .state("Enabled")
        .set_batch_size(int("BatchSize"))
        .set_maximum_batching_window_in_seconds(int("MaximumBatchingWindowInSeconds"))
        .set_maximum_retry_attempts(int("MaximumRetryAttempts"))
        .set_maximum_record_age_in_seconds(int("MaximumRecordAgeInSeconds"))
        .set_bisect_batch_on_function_error(m["BisectBatchOnFunctionError"].as_bool());
    for t in m["FunctionResponseTypes"].as_array().into_iter().flatten() {
        b = b.function_response_types(FunctionResponseType::from(t.as_str().unwrap()));
    }
    if let Some(queue) = queue_arn {
        b = b.destination_config(
            DestinationConfig::builder()
                .on_failure(OnFailure::builder().destination(queue).build())
                .build(),
        );
    }
    b.build()
}

/// Runs one case against the emulator and the real function; returns what it saw.
async fn observe(emu: &Emulator, case: &Value, dir: &Path) -> Result<Observed, String> {
    let (stream, stream_arn) = emu.stream(1).await;
    let queue = if case["mapping"].get("DestinationConfig").is_some() {
        Some(emu.queue().await)
    } else {
        None
    };
    let name = format!("{}-fn", emu.prefix);
    let account = stream_arn.split(':').nth(4).unwrap_or("123456789012");
    let region = stream_arn.split(':').nth(3).unwrap_or("us-east-1");
    let function_arn = format!("arn:aws:lambda:{region}:{account}:function:{name}");
    let uuid = uuid_like(&emu.prefix);
    let config = mapping_config(
        case,
        &uuid,
        &function_arn,
        &stream_arn,
        queue.as_ref().map(|q| q.1.as_str()),
    );
    let mut spec = mapping_from(&config)
        .map_err(|e| format!("mapping_from: {e}"))?
        .ok_or("mapping_from left the mapping out")?;
    let local = &case["local"];
    if let Some(age) = local["MaximumRecordAgeInSeconds"].as_f64() {
        spec.policy.max_record_age = Some(Duration::from_secs_f64(age));
    }

    let seen = dir.join("seen.jsonl");
    let mut function = FunctionSpec::new(&name, test_fn());
    function.timeout = Duration::from_secs(10);
    function
        .environment
        .insert("KSTREAM_TEST_FN_SEEN".into(), seen.display().to_string());
    for (k, v) in function_env(&case["function"]) {
        function.environment.insert(k, v);
    }
    let host = FunctionHost::builder().log_dir(dir.join("logs")).build();
    host.register(function);

    let records = records_of(case);
    let put_after_start = case["put"]["afterStart"] == true;
    let interval = Duration::from_millis(case["put"]["intervalMs"].as_u64().unwrap_or(0));
    let mut observed = Observed {
        function_arn,
        stream_arn: stream_arn.clone(),
        ..Observed::default()
    };
    let put_all = async |observed: &mut Observed| {
        for (i, (key, data)) in records.iter().enumerate() {
            if i > 0 && !interval.is_zero() {
                tokio::time::sleep(interval).await;
            }
            // The record cannot arrive before its put is sent, nor after its answer.
            let sent = now_ms();
            let out = emu
                .kinesis
                .put_record()
                .stream_name(&stream)
                .partition_key(key)
                .data(aws_sdk_kinesis::primitives::Blob::new(data.clone()))
                .send()
                .await
                .map_err(|e| format!("PutRecord: {e:?}"))?;
            if i == 0 {
                observed.first_put_ms = sent;
            }
            observed.last_put_ms = now_ms();
            observed.seqs.push(out.sequence_number().to_owned());
        }
        Ok::<(), String>(())
    };
    if !put_after_start {
        put_all(&mut observed).await?;
        if let Some(wait) = local["startAfterSeconds"].as_f64() {
            tokio::time::sleep(Duration::from_secs_f64(wait)).await;
        }
    }
    let checkpoints = CheckpointStore::open(dir, &spec.uuid, &spec.stream_arn)
        .map_err(|e| format!("checkpoints: {e}"))?;
    let stats = Arc::new(MappingStats::default());
    let runner = MappingRunner::new(
        spec,
        host.clone(),
        &emu.sdk,
        checkpoints,
        stats.clone(),
        RunnerOptions {
            poll_interval: Duration::from_millis(100),
            ..RunnerOptions::default()
        },
    );
    let (stop, rx) = watch::channel(false);
    let task = tokio::spawn(runner.run(rx));
    let put = if put_after_start {
        // Let the poller reach the shard's end first: the window starts with the first record.
        tokio::time::sleep(Duration::from_millis(500)).await;
        put_all(&mut observed).await
    } else {
        Ok(())
    };
    let deadline = Instant::now() + CASE_TIMEOUT;
    let total = records.len() as u64;
    while put.is_ok()
        && stats.records_done.load(Ordering::Relaxed) < total
        && Instant::now() < deadline
        && !task.is_finished()
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let done = stats.records_done.load(Ordering::Relaxed);
    let _ = stop.send(true);
    let ran = task.await;
    host.shutdown().await;
    put?;
    match ran {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return Err(format!("the mapping stopped with an error: {e}")),
        Err(e) => return Err(format!("the mapping panicked: {e}")),
    }
    if done < total {
        return Err(format!(
            "only {done} of {total} records were done after {CASE_TIMEOUT:?}"
        ));
    }
    observed.invocations = std::fs::read_to_string(&seen)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    if let Some((url, _)) = &queue {
        let wanted = case["expected"]["onFailure"].as_array().map_or(0, Vec::len);
        // One more than expected, so that an extra message is seen (a short wait when none).
        let timeout = if wanted == 0 { 1 } else { 5 };
        observed.on_failure = emu
            .receive(url, wanted + 1, Duration::from_secs(timeout))
            .await;
    }
    Ok(observed)
}

/// A mapping UUID for this case (each case has its own state directory).
fn uuid_like(prefix: &str) -> String {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    std::hash::Hash::hash(prefix, &mut hasher);
    let h = std::hash::Hasher::finish(&hasher);
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        h >> 32,
        (h >> 16) & 0xffff,
        h & 0xfff,
        (h >> 20) & 0xfff,
        h & 0xffff_ffff_ffff
    )
}

fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}

fn is_iso_millis(s: &str) -> bool {
    s.len() == 24
        && s.ends_with('Z')
        && chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.3fZ").is_ok()
}

/// `arn:aws:<service>:<region>:<12 digits>:<resource>` with `resource` starting `kind`.
fn is_arn(s: &str, service: &str, kind: &str) -> bool {
    let parts: Vec<&str> = s.splitn(6, ':').collect();
    parts.len() == 6
        && parts[0] == "arn"
        && parts[1] == "aws"
        && parts[2] == service
        && !parts[3].is_empty()
        && parts[4].len() == 12
        && parts[4].bytes().all(|b| b.is_ascii_digit())
        && parts[5].starts_with(kind)
        && parts[5].len() > kind.len()
}

/// Checks a value compared loosely (`kind`, from the case's `loose`).
fn check_loose(kind: &str, got: &Value, observed: &Observed) -> Result<(), String> {
    let s = got.as_str().unwrap_or_default();
    let ok = match kind {
        "uuid" => is_uuid(s),
        "iso-millis" => is_iso_millis(s),
        "function-arn" => is_arn(s, "lambda", "function:") && s == observed.function_arn,
        "stream-arn" => is_arn(s, "kinesis", "stream/") && s == observed.stream_arn,
        "positive-int" => got.as_u64().is_some_and(|n| n >= 1),
        other => match other.strip_prefix("record-seq:") {
            Some(i) => {
                let i: usize = i.parse().map_err(|_| format!("bad loose kind {other}"))?;
                s.bytes().all(|b| b.is_ascii_digit())
                    && observed.seqs.get(i).is_some_and(|seq| seq == s)
            }
            None => return Err(format!("unknown loose kind {other}")),
        },
    };
    if ok {
        Ok(())
    } else {
        Err(format!("{got} is not {kind}"))
    }
}

/// Compares `got` with `expected` (objects order-independent, every key present on both sides,
/// types exact); paths named in `loose` are checked by kind instead.
fn compare(
    expected: &Value,
    got: &Value,
    path: &str,
    loose: &BTreeMap<String, String>,
    observed: &Observed,
) -> Result<(), String> {
    if let Some(kind) = loose.get(path) {
        return check_loose(kind, got, observed).map_err(|e| format!("{path}: {e}"));
    }
    let at = |k: &str| {
        if path.is_empty() {
            k.to_owned()
        } else {
            format!("{path}.{k}")
        }
    };
    match (expected, got) {
        (Value::Object(e), Value::Object(g)) => {
            for k in e.keys() {
                if !g.contains_key(k) {
                    return Err(format!("{}: missing", at(k)));
                }
            }
            for k in g.keys() {
                if !e.contains_key(k) {
                    return Err(format!("{}: unexpected (= {})", at(k), g[k]));
                }
            }
            for (k, v) in e {
                compare(v, &g[k], &at(k), loose, observed)?;
            }
            Ok(())
        }
        (Value::Array(e), Value::Array(g)) if e.len() == g.len() => {
            for (i, (e, g)) in e.iter().zip(g).enumerate() {
                compare(e, g, &at(&i.to_string()), loose, observed)?;
            }
            Ok(())
        }
        _ if expected == got => Ok(()),
        _ => Err(format!(
            "{}: expected {expected}, got {got}",
            if path.is_empty() { "(root)" } else { path }
        )),
    }
}

/// The invocations as lists of record indices.
fn invocation_indices(observed: &Observed) -> Result<Vec<Vec<usize>>, String> {
    observed
        .invocations
        .iter()
        .map(|inv| {
            inv["seqs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| {
                    let s = s.as_str().unwrap();
                    observed
                        .seqs
                        .iter()
                        .position(|p| p == s)
                        .ok_or_else(|| format!("the function saw a record not put: {s}"))
                })
                .collect()
        })
        .collect()
}

fn check_expected(case: &Value, observed: &Observed) -> Result<(), String> {
    let expected = &case["expected"];
    let loose: BTreeMap<String, String> = expected["loose"]
        .as_object()
        .map(|o| {
            o.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
                .collect()
        })
        .unwrap_or_default();
    let invocations = invocation_indices(observed)?;
    if let Some(want) = expected.get("invocations") {
        let want: Vec<Vec<usize>> = serde_json::from_value(want.clone()).unwrap();
        if invocations != want {
            return Err(format!(
                "invocations (record indices): expected {want:?}, got {invocations:?}"
            ));
        }
    }
    if let Some(want) = expected.get("onFailure").and_then(Value::as_array) {
        if want.len() != observed.on_failure.len() {
            return Err(format!(
                "expected {} on-failure message(s), got {}: {:?}",
                want.len(),
                observed.on_failure.len(),
                observed.on_failure
            ));
        }
        for (i, (w, g)) in want.iter().zip(&observed.on_failure).enumerate() {
            compare(w, g, "", &loose, observed)
                .map_err(|e| format!("on-failure message {i}: {e}; got {g}"))?;
        }
    }
    if expected["allRecordsOnceInOrder"] == true {
        let flat: Vec<usize> = invocations.iter().flatten().copied().collect();
        let all: Vec<usize> = (0..observed.seqs.len()).collect();
        if flat != all {
            return Err(format!("every record once, in order: got {invocations:?}"));
        }
    }
    if let Some(limit) = expected["payloadAtMostBytes"].as_u64() {
        for inv in &observed.invocations {
            let bytes = inv["bytes"].as_u64().unwrap_or(u64::MAX);
            if bytes > limit {
                return Err(format!(
                    "an invocation of {} records carried {bytes} bytes, over {limit}",
                    inv["seqs"].as_array().map_or(0, Vec::len)
                ));
            }
        }
    }
    if let Some(min) = expected["minInvocations"].as_u64()
        && (observed.invocations.len() as u64) < min
    {
        return Err(format!(
            "expected at least {min} invocations, got {}",
            observed.invocations.len()
        ));
    }
    let first_at = observed
        .invocations
        .first()
        .and_then(|i| i["at"].as_i64())
        .unwrap_or(i64::MAX);
    for (key, from) in [
        ("firstInvocationAfterFirstPutMs", observed.first_put_ms),
        ("firstInvocationAfterLastPutMs", observed.last_put_ms),
    ] {
        let Some(bound) = expected.get(key) else {
            continue;
        };
        let delay = first_at - from;
        if let Some(min) = bound["atLeast"].as_i64()
            && delay < min
        {
            return Err(format!("{key}: {delay} ms, expected at least {min} ms"));
        }
        if let Some(max) = bound["below"].as_i64()
            && delay >= max
        {
            return Err(format!("{key}: {delay} ms, expected below {max} ms"));
        }
    }
    Ok(())
}

/// A case that calls the on-failure message builder directly with the documented inputs.
fn run_direct(case: &Value) -> Result<(), String> {
    let d = &case["direct"];
    let records: Vec<StreamRecord> = d["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| StreamRecord {
            shard_id: r["shardId"].as_str().unwrap().to_owned(),
            sequence_number: r["sequenceNumber"].as_str().unwrap().to_owned(),
            partition_key: String::new(),
            data: bytes::Bytes::new(),
            arrival: r["arrival"].as_f64().unwrap(),
        })
        .collect();
    let condition = match d["condition"].as_str() {
        Some("RetryAttemptsExhausted") => Condition::RetryAttemptsExhausted,
        Some("RecordAgeExceeded") => Condition::RecordAgeExceeded,
        other => return Err(format!("unknown condition {other:?}")),
    };
    let failure = FailureContext {
        condition,
        invoke_count: u32::try_from(d["approximateInvokeCount"].as_u64().unwrap()).unwrap(),
        request_id: d["requestId"].as_str().unwrap().to_owned(),
        function_error: d["functionError"] == true,
    };
    let message = on_failure_message(
        &records,
        d["functionArn"].as_str().unwrap(),
        d["streamArn"].as_str().unwrap(),
        &failure,
        d["now"].as_f64().unwrap(),
    );
    let observed = Observed {
        on_failure: vec![message],
        ..Observed::default()
    };
    check_expected(case, &observed)
}

async fn run_case(case: &Case) -> Result<(), String> {
    if case.body.get("direct").is_some() {
        return run_direct(&case.body);
    }
    let emu = emulator().await;
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let observed = observe(&emu, &case.body, dir.path()).await?;
    check_expected(&case.body, &observed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "conformance tier: scripts/test-conformance.sh"]
async fn kinesis_lambda_conformance() {
    let started = Instant::now();
    let cases = load_cases();
    let mut seen_names = std::collections::BTreeSet::new();
    for c in &cases {
        assert!(
            seen_names.insert((c.file.clone(), c.name.clone())),
            "{}: case {} twice",
            c.file,
            c.name
        );
    }
    let permits = Arc::new(Semaphore::new(PARALLEL));
    let results = futures::future::join_all(cases.iter().map(|case| {
        let permits = permits.clone();
        async move {
            let _permit = permits.acquire().await.unwrap();
            run_case(case).await
        }
    }))
    .await;
    let mut per_feature: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    let mut failed = 0;
    for (case, result) in cases.iter().zip(&results) {
        let entry = per_feature.entry(case.feature.as_str()).or_default();
        entry.1 += 1;
        match result {
            Ok(()) => entry.0 += 1,
            Err(e) => {
                failed += 1;
                println!("FAIL {AREA}/{}/{}: {e}", case.file, case.name);
            }
        }
    }
    for (feature, (passed, total)) in &per_feature {
        println!("CONFORMANCE\t{AREA}\t{feature}\t{passed}\t{total}");
    }
    eprintln!(
        "kinesis-lambda conformance: {} cases in {:.1} s",
        cases.len(),
        started.elapsed().as_secs_f64()
    );
    assert_eq!(
        failed, 0,
        "{failed} kinesis-lambda conformance case(s) failed"
    );
}
