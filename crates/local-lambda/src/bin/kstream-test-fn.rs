//! `kstream-test-fn`: a Lambda function for the data plane's own tests.
//!
//! It speaks the real Runtime API through `lambda_runtime` and misbehaves on request, so the
//! tests can check what the host and the event source mappings do about it.
//!
//! Direct invocations (any JSON that is not a Kinesis event):
//! - `{"echo": v}` returns `v`; `{"env": "NAME"}` returns the variable's value (or null);
//! - `{"fail": "message"}` returns an error (`errorType` `TestFailure`);
//! - `{"crash": code}` exits the process with `code`; `{"sleep_ms": n}` sleeps, then returns `"slept"`.
//!
//! Kinesis events: each record's `data` is JSON `{"act": ...}`:
//! - `"ok"` (or anything unparsable as such): processed;
//! - `"fail"`: a failed record: named in `batchItemFailures` when `KSTREAM_TEST_FN_REPORT=1`,
//!   otherwise the whole invocation fails;
//! - `"crash"`: the process exits (status 3) in the middle of the batch;
//! - `"crash-once"`: as `crash`, only the first time that sequence number is seen
//!   (remembered as a file in `KSTREAM_TEST_FN_STATE`);
//! - `"sleep"` with `"ms": n`: sleeps `n` ms (to run past the function's timeout).
//!
//! Every Kinesis invocation appends one JSON line `{"requestId", "shardIds", "seqs", "failed",
//! "bytes", "at"}` to the file `KSTREAM_TEST_FN_SEEN`, before acting, so tests can see what the
//! function saw (`bytes`: the size of the event as compact JSON; `at`: when it arrived, epoch ms).
//!
//! Configured responses (the conformance tier's response shapes):
//! - `KSTREAM_TEST_FN_FAIL_ALL=1`: every Kinesis invocation ends in an unhandled error
//!   (`errorType` `TestFailure`), whatever its records;
//! - `KSTREAM_TEST_FN_RESPONSE=<JSON>`: a Kinesis invocation whose records all act `"ok"`
//!   returns exactly this JSON document (through `lambda_runtime`, as a handler's return value);
//! - `KSTREAM_TEST_FN_RAW_RESPONSE=<bytes>`: the function does not use `lambda_runtime` at all:
//!   it polls the Runtime API itself and posts these bytes, unchanged, as every invocation's
//!   response (for bodies a handler cannot return: not JSON, or empty). It still writes the
//!   `KSTREAM_TEST_FN_SEEN` lines.
//!
//! Tumbling-window events (a Kinesis event with a `window`): the function counts records in
//! `state.count` and returns the state. It appends one JSON line per invoke to
//! `KSTREAM_TEST_FN_WINDOWS`: `{"requestId", "window", "shardId", "final", "early", "state"
//! (as received), "records": [{"seq", "arrival"}], "failed"}`. With `KSTREAM_TEST_FN_FAIL_FINAL=n`,
//! the first `n` final invokes (counted in a file in `KSTREAM_TEST_FN_STATE`) fail. With
//! `KSTREAM_TEST_FN_PAD_STATE_AT=n`, the first state whose count reaches `n` also carries 1 MiB of
//! padding (once: a marker file in `KSTREAM_TEST_FN_STATE`), to pass Lambda's state limit.
//!
//! Every direct invocation appends one JSON line `{"requestId", "payload"}` to the file
//! `KSTREAM_TEST_FN_DIRECT`, before acting (the scheduler's tests read the Input there).
//!
//! API Gateway behaviours, chosen by `KSTREAM_TEST_FN_APIGW` (the API Gateway conformance cases
//! describe the recorded test functions with them; unset, none applies):
//! - `echo`: any direct invocation returns its payload as it is;
//! - `proxy-echo`: a Lambda proxy event (one with `requestContext`) is answered with
//!   `{"statusCode": 200, "body": <the event as JSON text>, "isBase64Encoded": false}`;
//! - `proxy-body`: a Lambda proxy event is answered with its body parsed as JSON (base64-decoded
//!   first when `isBase64Encoded`), whatever it holds; no body fails the invocation;
//! - `table`: `KSTREAM_TEST_FN_TABLE` holds `{"pointer": "/json/pointer", "cases": {value: action},
//!   "default": action}`: the payload's value at the pointer (a string, or a scalar's JSON text)
//!   chooses an action, which is then run as a direct invocation (`{"echo": v}`, `{"fail": m}`).

use std::io::Write as _;
use std::path::PathBuf;

use base64::Engine as _;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::{Value, json};

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct TestFailure(String);

fn record_act(record: &Value) -> (String, u64) {
    let data = record
        .pointer("/kinesis/data")
        .and_then(Value::as_str)
        .and_then(|d| base64::engine::general_purpose::STANDARD.decode(d).ok())
        .and_then(|d| serde_json::from_slice::<Value>(&d).ok())
        .unwrap_or(Value::Null);
    let act = data
        .get("act")
        .and_then(Value::as_str)
        .unwrap_or("ok")
        .to_owned();
    let ms = data.get("ms").and_then(Value::as_u64).unwrap_or(0);
    (act, ms)
}

fn seq_of(record: &Value) -> String {
    record
        .pointer("/kinesis/sequenceNumber")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// Appends the `KSTREAM_TEST_FN_SEEN` line of a Kinesis invocation (when the variable is set).
fn record_seen(payload: &Value, request_id: &str) -> Result<(), Error> {
    let Ok(path) = std::env::var("KSTREAM_TEST_FN_SEEN") else {
        return Ok(());
    };
    let records = payload
        .get("Records")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    let seqs: Vec<String> = records.iter().map(seq_of).collect();
    let failed: Vec<String> = records
        .iter()
        .filter(|r| record_act(r).0 == "fail")
        .map(seq_of)
        .collect();
    let shard_ids: Vec<String> = records
        .iter()
        .filter_map(|r| r.get("eventID").and_then(Value::as_str))
        .map(|id| id.split(':').next().unwrap_or_default().to_owned())
        .collect();
    let line = json!({
        "requestId": request_id,
        "shardIds": shard_ids,
        "seqs": seqs,
        "failed": failed,
        "bytes": serde_json::to_vec(payload)?.len(),
        "at": chrono::Utc::now().timestamp_millis(),
    });
    // One write per line: concurrent processes (parallelization) append to the same file.
    append_line(&path, &line)
}

async fn kinesis(payload: &Value, records: &[Value], request_id: &str) -> Result<Value, Error> {
    let report = std::env::var("KSTREAM_TEST_FN_REPORT").is_ok_and(|v| v == "1");
    let failed: Vec<String> = records
        .iter()
        .filter(|r| record_act(r).0 == "fail")
        .map(seq_of)
        .collect();
    record_seen(payload, request_id)?;
    for record in records {
        let (act, ms) = record_act(record);
        match act.as_str() {
            "crash" => std::process::exit(3),
            "crash-once" => {
                let dir = PathBuf::from(std::env::var("KSTREAM_TEST_FN_STATE")?);
                let marker = dir.join(format!("crashed-{}", seq_of(record)));
                if !marker.exists() {
                    std::fs::write(&marker, b"")?;
                    std::process::exit(3);
                }
            }
            "sleep" => tokio::time::sleep(std::time::Duration::from_millis(ms)).await,
            _ => {}
        }
    }
    if std::env::var("KSTREAM_TEST_FN_FAIL_ALL").is_ok_and(|v| v == "1") {
        return Err(Box::new(TestFailure("every invocation fails".into())));
    }
    if failed.is_empty() {
        if let Ok(response) = std::env::var("KSTREAM_TEST_FN_RESPONSE") {
            return Ok(serde_json::from_str(&response)?);
        }
        return Ok(json!({"batchItemFailures": []}));
    }
    if report {
        let items: Vec<Value> = failed
            .iter()
            .map(|s| json!({"itemIdentifier": s}))
            .collect();
        Ok(json!({"batchItemFailures": items}))
    } else {
        Err(Box::new(TestFailure(format!(
            "{} poison record(s)",
            failed.len()
        ))))
    }
}

fn append_line(path: &str, line: &Value) -> Result<(), Error> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    file.write_all(format!("{line}\n").as_bytes())?;
    Ok(())
}

/// Whether this final invoke is one of the first `KSTREAM_TEST_FN_FAIL_FINAL` (then it fails).
fn fail_this_final() -> Result<bool, Error> {
    let limit: u64 = std::env::var("KSTREAM_TEST_FN_FAIL_FINAL")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    if limit == 0 {
        return Ok(false);
    }
    let counter = PathBuf::from(std::env::var("KSTREAM_TEST_FN_STATE")?).join("final-failures");
    let failed: u64 = std::fs::read_to_string(&counter)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    if failed >= limit {
        return Ok(false);
    }
    std::fs::write(&counter, (failed + 1).to_string())?;
    Ok(true)
}

async fn windowed(payload: &Value, records: &[Value], request_id: &str) -> Result<Value, Error> {
    let is_final = payload["isFinalInvokeForWindow"].as_bool().unwrap_or(false);
    let fail = is_final && fail_this_final()?;
    if let Ok(path) = std::env::var("KSTREAM_TEST_FN_WINDOWS") {
        let seen: Vec<Value> = records
            .iter()
            .map(|r| json!({"seq": seq_of(r), "arrival": r.pointer("/kinesis/approximateArrivalTimestamp")}))
            .collect();
        let line = json!({
            "requestId": request_id,
            "window": payload["window"],
            "shardId": payload["shardId"],
            "eventSourceARN": payload["eventSourceARN"],
            "final": is_final,
            "early": payload["isWindowTerminatedEarly"],
            "state": payload["state"],
            "records": seen,
            "failed": fail,
        });
        append_line(&path, &line)?;
    }
    if fail {
        return Err(Box::new(TestFailure("the final invoke fails".into())));
    }
    let count = payload
        .pointer("/state/count")
        .and_then(Value::as_u64)
        .unwrap_or(0)
        + records.len() as u64;
    let mut state = json!({ "count": count });
    let pad_at: Option<u64> = std::env::var("KSTREAM_TEST_FN_PAD_STATE_AT")
        .ok()
        .and_then(|v| v.parse().ok());
    if pad_at.is_some_and(|n| count >= n) {
        let marker = PathBuf::from(std::env::var("KSTREAM_TEST_FN_STATE")?).join("padded");
        if !marker.exists() {
            std::fs::write(&marker, b"")?;
            state["pad"] = json!("x".repeat(1 << 20));
        }
    }
    Ok(json!({"state": state, "batchItemFailures": []}))
}

/// The `KSTREAM_TEST_FN_APIGW` behaviours (see the crate docs): `Some` when one applies.
fn apigw(payload: &Value) -> Option<Result<Value, Error>> {
    let mode = std::env::var("KSTREAM_TEST_FN_APIGW").ok()?;
    let proxy_event = payload.get("requestContext").is_some();
    match mode.as_str() {
        "echo" => Some(Ok(payload.clone())),
        "proxy-echo" if proxy_event => Some(Ok(json!({
            "statusCode": 200,
            "body": payload.to_string(),
            "isBase64Encoded": false,
        }))),
        "proxy-body" if proxy_event => Some(proxy_body(payload)),
        "table" => Some(table(payload)),
        _ => None,
    }
}

fn proxy_body(event: &Value) -> Result<Value, Error> {
    let Some(body) = event.get("body").and_then(Value::as_str) else {
        return Err(Box::new(TestFailure("the proxy event has no body".into())));
    };
    let bytes = if event["isBase64Encoded"].as_bool().unwrap_or(false) {
        base64::engine::general_purpose::STANDARD.decode(body)?
    } else {
        body.as_bytes().to_vec()
    };
    Ok(serde_json::from_slice(&bytes)?)
}

fn table(payload: &Value) -> Result<Value, Error> {
    let table: Value = serde_json::from_str(&std::env::var("KSTREAM_TEST_FN_TABLE")?)?;
    let pointer = table["pointer"].as_str().unwrap_or_default();
    let key = match payload.pointer(pointer) {
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    };
    let action = table["cases"].get(&key).unwrap_or(&table["default"]);
    if let Some(v) = action.get("echo") {
        return Ok(v.clone());
    }
    let message = action["fail"]
        .as_str()
        .unwrap_or("no action for this payload");
    Err(Box::new(TestFailure(message.to_owned())))
}

async fn handler(event: LambdaEvent<Value>) -> Result<Value, Error> {
    let (payload, context) = event.into_parts();
    if let Some(result) = apigw(&payload) {
        return result;
    }
    if let Some(records) = payload.get("Records").and_then(Value::as_array)
        && payload.get("window").is_some()
    {
        return windowed(&payload, records, &context.request_id).await;
    }
    if let Some(records) = payload.get("Records").and_then(Value::as_array) {
        return kinesis(&payload, records, &context.request_id).await;
    }
    if let Ok(path) = std::env::var("KSTREAM_TEST_FN_DIRECT") {
        let line = json!({"requestId": context.request_id, "payload": payload});
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        file.write_all(format!("{line}\n").as_bytes())?;
    }
    if let Some(v) = payload.get("echo") {
        return Ok(v.clone());
    }
    if let Some(name) = payload.get("env").and_then(Value::as_str) {
        return Ok(std::env::var(name)
            .map(Value::String)
            .unwrap_or(Value::Null));
    }
    if let Some(message) = payload.get("fail").and_then(Value::as_str) {
        return Err(Box::new(TestFailure(message.to_owned())));
    }
    if let Some(code) = payload.get("crash").and_then(Value::as_i64) {
        std::process::exit(i32::try_from(code).unwrap_or(1));
    }
    if let Some(ms) = payload.get("sleep_ms").and_then(Value::as_u64) {
        tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
        return Ok(json!("slept"));
    }
    Ok(
        json!({"deadline": context.deadline, "arn": context.invoked_function_arn, "xray": context.xray_trace_id}),
    )
}

/// The Runtime API loop of `KSTREAM_TEST_FN_RAW_RESPONSE`: next invocation, then `body` as its
/// response, byte for byte.
async fn raw_responses(body: bytes::Bytes) -> Result<(), Error> {
    use http_body_util::{BodyExt as _, Full};
    let api = std::env::var("AWS_LAMBDA_RUNTIME_API")?;
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<Full<bytes::Bytes>>();
    loop {
        let next = http::Request::get(format!("http://{api}/2018-06-01/runtime/invocation/next"))
            .body(Full::default())?;
        let response = client.request(next).await?;
        let request_id = response
            .headers()
            .get("lambda-runtime-aws-request-id")
            .and_then(|v| v.to_str().ok())
            .ok_or("the next invocation has no lambda-runtime-aws-request-id")?
            .to_owned();
        let event = response.into_body().collect().await?.to_bytes();
        let payload: Value = serde_json::from_slice(&event).unwrap_or(Value::Null);
        record_seen(&payload, &request_id)?;
        let post = http::Request::post(format!(
            "http://{api}/2018-06-01/runtime/invocation/{request_id}/response"
        ))
        .body(Full::new(body.clone()))?;
        let answer = client.request(post).await?;
        if !answer.status().is_success() {
            return Err(format!("the response was refused: {}", answer.status()).into());
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    if let Ok(raw) = std::env::var("KSTREAM_TEST_FN_RAW_RESPONSE") {
        return raw_responses(bytes::Bytes::from(raw)).await;
    }
    lambda_runtime::run(service_fn(handler)).await
}
