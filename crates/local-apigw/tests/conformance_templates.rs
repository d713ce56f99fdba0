//! Conformance tier, API Gateway mapping templates: every `conformance/apigw/templates-*.json`
//! case (outputs recorded on AWS or printed in the AWS documentation) run through the real
//! executor behind the axum router.
//!
//! Each case deploys one method (`/case` unless the case names a resource path) whose
//! integration is
//! - `HTTP` to a local echo backend, either `httpbin-post` (answers like httpbin.org's `/post`,
//!   the echo the AWS recordings used: `{"data": <body>, "json": <body parsed or null>, …}`),
//!   `echo-body` (answers the body it got, as the recordings' echo Lambda function URL did), or
//!   `status-echo` (answers a path ending in `/<code>` with that status and
//!   `{"status_code": <code>, "message": ""}`, as the recordings' status-code echo function URL
//!   did); or an `HTTP` integration `uri` in which `{backend}` is that backend's
//!   `http://host:port`, with `requestParameters` (`integration.request.path.*`);
//! - `AWS` (a service integration `uri`) against the emulator named by `AWS_ENDPOINT_URL`
//!   (scripts/test-conformance.sh starts one; the runner fails without it). With
//!   `"kinesisStream": true` the case gets a new one-shard Kinesis stream whose name replaces
//!   `%s` in the request template (the recorded test's own substitution), and
//!   `expected.kinesisRecords` lists the records read back from it (`Data` as UTF-8 text,
//!   `PartitionKey`, `SequenceNumber`). With `"dynamodbItems": [...]` the case gets a new
//!   DynamoDB table (partition key `id`, a string, as LocalStack's `dynamodb_create_table`
//!   fixture makes it) holding those items, whose name replaces `%s`; or
//! - `MOCK`,
//!
//! with the case's request and response templates (`application/json`), then sends the case's
//! request and compares the status and the body (as a string, or parsed as JSON where the
//! recording or the documentation gives parsed JSON).
//!
//! `loose` names JSON members (at any depth, in the body and the Kinesis records) whose
//! recorded value AWS generated, with the form the value must have instead: `sequence-number`
//! (decimal digits), `shard-id` (`shardId-` and 12 digits), `uuid`; `unordered` compares a
//! list in any order (where the recording sorted it first). Where the recorded value is one of
//! the snapshot's placeholders (`<sequence_number:1>`), every member recorded with the same
//! placeholder must hold the same value (the response's `SequenceNumber` is the record's).
//!
//! Run by scripts/test-conformance.sh: `cargo test -p kstream-local-apigw --test
//! conformance_templates -- --ignored --nocapture`.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use axum::body::Body;
use http::{Request, StatusCode};
use http_body_util::BodyExt;
use kstream_local_apigw::model::{
    DeployedApi, Deployment, Integration, IntegrationResponse, Method, Resource, Stage,
};
use kstream_local_apigw::{AwsBackend, Executor, router};
use kstream_local_testkit::{Emulator, emulator};
use serde::Deserialize;
use serde_json::{Value, json};
use tower::ServiceExt;

const AREA: &str = "apigw";
const API: &str = "conformance";
const STAGE: &str = "dev";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseFile {
    source: Source,
    cases: Vec<Case>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Source {
    kind: String,
    name: String,
    #[serde(rename = "where")]
    location: String,
    #[serde(default)]
    validated: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Case {
    name: String,
    feature: String,
    integration: CaseIntegration,
    /// The method's resource path (default `/case`), e.g. `/{testPath}`.
    #[serde(default)]
    resource_path: Option<String>,
    #[serde(default)]
    request_template: Option<String>,
    #[serde(default)]
    response_template: Option<String>,
    request: CaseRequest,
    expected: Expected,
    /// Members compared by form (see the module documentation).
    #[serde(default)]
    loose: HashMap<String, String>,
    #[serde(default)]
    note: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct CaseIntegration {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    backend: Option<String>,
    /// The integration URI (`{backend}` is the local backend's `http://host:port`).
    #[serde(default)]
    uri: Option<String>,
    #[serde(default)]
    request_parameters: BTreeMap<String, String>,
    /// The case gets a new Kinesis stream on the emulator (its name replaces `%s`).
    #[serde(default)]
    kinesis_stream: bool,
    /// The case gets a new DynamoDB table on the emulator (partition key `id`, a string; its
    /// name replaces `%s`) holding these items (DynamoDB JSON).
    #[serde(default)]
    dynamodb_items: Option<Vec<Value>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseRequest {
    method: String,
    /// The path requested (default `/case`).
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    #[serde(default)]
    body: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Expected {
    #[serde(default = "ok")]
    status: u16,
    /// The body, compared as a string.
    #[serde(default)]
    body: Option<String>,
    /// The body, parsed as JSON and compared as a value.
    #[serde(default)]
    body_json: Option<Value>,
    /// The records of the case's Kinesis stream after the request.
    #[serde(default)]
    kinesis_records: Option<Vec<Value>>,
}

fn ok() -> u16 {
    200
}

/// The echo backends the AWS recordings used, on a local port.
async fn echo_backend() -> String {
    let app = axum::Router::new().fallback(|req: Request<Body>| async move {
        let (parts, body) = req.into_parts();
        let body = body.collect().await.expect("request body").to_bytes();
        let text = String::from_utf8_lossy(&body).into_owned();
        if let Some(code) = parts.uri.path().strip_prefix("/status/") {
            let code: u16 = code.parse().expect("a status code after /status/");
            let answer = json!({"status_code": code, "message": ""});
            (
                StatusCode::from_u16(code).expect("a status code"),
                [("content-type", "application/json")],
                answer.to_string(),
            )
        } else if parts.uri.path() == "/post" {
            let headers: serde_json::Map<String, Value> = parts
                .headers
                .iter()
                .map(|(k, v)| {
                    (
                        k.as_str().to_owned(),
                        Value::String(String::from_utf8_lossy(v.as_bytes()).into_owned()),
                    )
                })
                .collect();
            let echo = json!({
                "args": {},
                "data": text,
                "headers": headers,
                "json": serde_json::from_str::<Value>(&text).unwrap_or(Value::Null),
                "method": parts.method.as_str(),
                "url": parts.uri.to_string(),
            });
            (
                StatusCode::OK,
                [("content-type", "application/json")],
                echo.to_string(),
            )
        } else {
            (StatusCode::OK, [("content-type", "application/json")], text)
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind the echo backend");
    let addr = listener.local_addr().expect("echo backend address");
    tokio::spawn(async move { axum::serve(listener, app).await.expect("echo backend") });
    format!("http://{addr}")
}

fn deployment(case: &Case, backend: &str, stream: Option<&str>) -> Result<Deployment, String> {
    let mut integration = match case.integration.kind.as_str() {
        "HTTP" => {
            let uri = match (
                case.integration.backend.as_deref(),
                case.integration.uri.as_deref(),
            ) {
                (Some("httpbin-post"), None) => format!("{backend}/post"),
                (Some("echo-body"), None) => format!("{backend}/echo"),
                (None, Some(uri)) => uri.replace("{backend}", backend),
                other => return Err(format!("unknown HTTP backend {other:?}")),
            };
            Integration {
                integration_type: "HTTP".into(),
                http_method: Some("POST".into()),
                uri: Some(uri),
                request_parameters: case.integration.request_parameters.clone(),
                ..Integration::default()
            }
        }
        "AWS" => Integration {
            integration_type: "AWS".into(),
            http_method: Some("POST".into()),
            uri: Some(
                case.integration
                    .uri
                    .clone()
                    .ok_or("an AWS integration needs a uri")?,
            ),
            request_parameters: case.integration.request_parameters.clone(),
            ..Integration::default()
        },
        "MOCK" => Integration {
            integration_type: "MOCK".into(),
            ..Integration::default()
        },
        other => return Err(format!("unknown integration type {other}")),
    };
    if let Some(t) = &case.request_template {
        let t = match stream {
            Some(name) => t.replace("%s", name),
            None => t.clone(),
        };
        integration
            .request_templates
            .insert("application/json".into(), t);
    }
    let mut response = IntegrationResponse {
        status_code: "200".into(),
        ..IntegrationResponse::default()
    };
    if let Some(t) = &case.response_template {
        response
            .response_templates
            .insert("application/json".into(), t.clone());
    }
    integration
        .integration_responses
        .insert("200".into(), response);
    let method = Method {
        http_method: case.request.method.clone(),
        authorization_type: Some("NONE".into()),
        method_integration: Some(integration),
        ..Method::default()
    };
    let mut resource = Resource {
        id: "case".into(),
        path: case.resource_path.clone().unwrap_or_else(|| "/case".into()),
        methods: BTreeMap::new(),
    };
    resource.methods.insert(case.request.method.clone(), method);
    let mut api = DeployedApi {
        id: API.into(),
        name: API.into(),
        ..DeployedApi::default()
    };
    api.resources.push(resource);
    api.stages.push(Stage {
        stage_name: STAGE.into(),
        ..Stage::default()
    });
    Ok(Deployment {
        apis: vec![api],
        ..Deployment::default()
    })
}

/// Where a case runs: the local echo backend and, for AWS integrations, the emulator.
struct Env {
    backend: String,
    emulator: Option<(Emulator, AwsBackend)>,
}

/// Runs one case; `Err` says how the answer differs from the recorded one.
async fn run_case(case: &Case, env: &Env) -> Result<(), String> {
    let emu = match (case.integration.kind.as_str(), &env.emulator) {
        ("AWS", None) => return Err("an AWS integration needs the emulator".into()),
        ("AWS", Some(e)) => Some(e),
        _ => None,
    };
    let stream = match emu {
        Some((emu, _)) if case.integration.kinesis_stream => Some(new_stream(emu).await?),
        _ => None,
    };
    let table = match (emu, &case.integration.dynamodb_items) {
        (Some((emu, _)), Some(items)) => Some(new_table(emu, items).await),
        _ => None,
    };
    let name = stream.as_ref().map(|s| s.0.as_str()).or(table.as_deref());
    let mut executor = Executor::builder(deployment(case, &env.backend, name)?);
    if let Some((_, aws)) = emu {
        executor = executor.backend(aws.clone());
    }
    let app = router(executor.build());
    let mut req = Request::builder()
        .method(case.request.method.as_str())
        .uri(format!(
            "/restapis/{API}/{STAGE}/_user_request_{}",
            case.request.path.as_deref().unwrap_or("/case")
        ));
    for (k, v) in &case.request.headers {
        req = req.header(k, v);
    }
    let body = case.request.body.clone().unwrap_or_default();
    let resp = app
        .oneshot(req.body(Body::from(body)).map_err(|e| e.to_string())?)
        .await
        .map_err(|e| e.to_string())?;
    let status = resp.status().as_u16();
    let got = resp
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    let got = String::from_utf8_lossy(&got).into_owned();
    if status != case.expected.status {
        return Err(format!(
            "status: expected {} got {status} (body {got:?})",
            case.expected.status
        ));
    }
    if let Some(want) = &case.expected.body
        && *want != got
    {
        return Err(format!("body: expected {want:?} got {got:?}"));
    }
    let mut bound = HashMap::new();
    if let Some(want) = &case.expected.body_json {
        let parsed: Value = serde_json::from_str(&got)
            .map_err(|e| format!("body: expected JSON {want}, got {got:?} ({e})"))?;
        compare(want, &parsed, &case.loose, &mut bound, "body")?;
    }
    if let Some(want) = &case.expected.kinesis_records {
        let (Some((emu, _)), Some((_, shard))) = (emu, &stream) else {
            return Err("expected.kinesisRecords needs \"kinesisStream\": true".into());
        };
        let records = stream_records(emu, &stream.as_ref().expect("a stream").0, shard).await?;
        compare(
            &Value::Array(want.clone()),
            &Value::Array(records),
            &case.loose,
            &mut bound,
            "kinesisRecords",
        )?;
    }
    Ok(())
}

/// A new one-shard stream on the emulator: (name, shard id).
async fn new_stream(emu: &Emulator) -> Result<(String, String), String> {
    static STREAMS: AtomicU32 = AtomicU32::new(0);
    let name = format!(
        "{}-case-{}",
        emu.prefix,
        STREAMS.fetch_add(1, Ordering::SeqCst)
    );
    emu.kinesis
        .create_stream()
        .stream_name(&name)
        .shard_count(1)
        .send()
        .await
        .map_err(|e| format!("create the stream {name}: {e}"))?;
    let shard = emu
        .kinesis
        .list_shards()
        .stream_name(&name)
        .send()
        .await
        .map_err(|e| format!("list the shards of {name}: {e}"))?
        .shards()
        .first()
        .map(|s| s.shard_id().to_owned())
        .ok_or_else(|| format!("{name} has no shard"))?;
    Ok((name, shard))
}

/// A new DynamoDB table on the emulator (partition key `id`, a string) holding `items`; returns
/// its name. Plain JSON-protocol calls (the tests do without the DynamoDB SDK crate).
async fn new_table(emu: &Emulator, items: &[Value]) -> String {
    static TABLES: AtomicU32 = AtomicU32::new(0);
    let name = format!(
        "{}-table-{}",
        emu.prefix,
        TABLES.fetch_add(1, Ordering::SeqCst)
    );
    let call = |action: &str, body: Value| {
        let headers = format!("X-Amz-Target: DynamoDB_20120810.{action}\r\n");
        async move {
            emu.raw_post(
                "dynamodb",
                "application/x-amz-json-1.0",
                &headers,
                &body.to_string(),
            )
            .await
        }
    };
    call(
        "CreateTable",
        json!({
            "TableName": name,
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
            "BillingMode": "PAY_PER_REQUEST",
        }),
    )
    .await;
    for item in items {
        call("PutItem", json!({"TableName": name, "Item": item})).await;
    }
    name
}

/// The stream's records from its start, as `{"Data", "PartitionKey", "SequenceNumber"}`.
async fn stream_records(emu: &Emulator, name: &str, shard: &str) -> Result<Vec<Value>, String> {
    let iterator = emu
        .kinesis
        .get_shard_iterator()
        .stream_name(name)
        .shard_id(shard)
        .shard_iterator_type(aws_sdk_kinesis::types::ShardIteratorType::TrimHorizon)
        .send()
        .await
        .map_err(|e| format!("shard iterator of {name}: {e}"))?
        .shard_iterator()
        .map(str::to_owned)
        .ok_or("no shard iterator")?;
    let out = emu
        .kinesis
        .get_records()
        .shard_iterator(iterator)
        .send()
        .await
        .map_err(|e| format!("records of {name}: {e}"))?;
    Ok(out
        .records()
        .iter()
        .map(|r| {
            json!({
                "Data": String::from_utf8_lossy(r.data().as_ref()),
                "PartitionKey": r.partition_key(),
                "SequenceNumber": r.sequence_number(),
            })
        })
        .collect())
}

/// Whether `actual` has the form a `loose` rule names.
fn rule_holds(rule: &str, actual: &str) -> bool {
    match rule {
        "sequence-number" => !actual.is_empty() && actual.bytes().all(|b| b.is_ascii_digit()),
        "uuid" => uuid::Uuid::parse_str(actual).is_ok(),
        "shard-id" => actual
            .strip_prefix("shardId-")
            .is_some_and(|n| n.len() == 12 && n.bytes().all(|b| b.is_ascii_digit())),
        other => panic!("unknown loose rule {other:?}"),
    }
}

/// Compares JSON values, members named in `loose` by form; a recorded placeholder
/// (`<name:n>`) binds the first value seen for it in `bound`, and later ones must equal it.
fn compare(
    expected: &Value,
    actual: &Value,
    loose: &HashMap<String, String>,
    bound: &mut HashMap<String, String>,
    at: &str,
) -> Result<(), String> {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (k, ev) in e {
                let here = format!("{at}.{k}");
                let av = a
                    .get(k)
                    .ok_or_else(|| format!("{here}: missing (expected {ev})"))?;
                match (loose.get(k).map(String::as_str), ev.as_str()) {
                    (Some("unordered"), _) => {
                        let sorted = |v: &Value| -> Option<Vec<Value>> {
                            let mut items = v.as_array()?.clone();
                            items.sort_by_key(Value::to_string);
                            Some(items)
                        };
                        let (Some(e), Some(a)) = (sorted(ev), sorted(av)) else {
                            return Err(format!("{here}: expected a list, got {av}"));
                        };
                        compare(&Value::Array(e), &Value::Array(a), loose, bound, &here)?;
                    }
                    (Some(rule), Some(recorded)) => {
                        let got = av
                            .as_str()
                            .ok_or_else(|| format!("{here}: expected a string, got {av}"))?;
                        if !rule_holds(rule, got) {
                            return Err(format!("{here}: {got:?} is not a {rule}"));
                        }
                        if recorded.starts_with('<') && recorded.ends_with('>') {
                            let first = bound.entry(recorded.to_owned()).or_insert(got.to_owned());
                            if first != got {
                                return Err(format!(
                                    "{here}: {got:?}, but {recorded} was {first:?} before"
                                ));
                            }
                        }
                    }
                    _ => compare(ev, av, loose, bound, &here)?,
                }
            }
            if let Some(k) = a.keys().find(|k| !e.contains_key(*k)) {
                return Err(format!("{at}.{k}: not expected (got {})", a[k]));
            }
            Ok(())
        }
        (Value::Array(e), Value::Array(a)) if e.len() == a.len() => {
            for (i, (ev, av)) in e.iter().zip(a).enumerate() {
                compare(ev, av, loose, bound, &format!("{at}[{i}]"))?;
            }
            Ok(())
        }
        (Value::Number(e), Value::Number(a)) if e.as_f64() == a.as_f64() => Ok(()),
        (e, a) if e == a => Ok(()),
        (e, a) => Err(format!("{at}: expected {e}, got {a}")),
    }
}

fn case_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../conformance/apigw");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("templates-") && n.ends_with(".json"))
        })
        .collect();
    files.sort();
    files
}

#[tokio::test]
#[ignore = "conformance tier: scripts/test-conformance.sh"]
#[expect(
    clippy::print_stdout,
    reason = "the FAIL and CONFORMANCE lines on stdout are this runner's output (the conformance contract)"
)]
async fn conformance_templates() {
    let files = case_files();
    assert!(!files.is_empty(), "no conformance/apigw/templates-*.json");
    let files: Vec<(String, CaseFile)> = files.iter().map(|p| load(p)).collect();
    let needs_emulator = files
        .iter()
        .flat_map(|(_, cf)| &cf.cases)
        .any(|c| c.integration.kind == "AWS");
    let emulator = if needs_emulator {
        assert!(
            std::env::var_os("AWS_ENDPOINT_URL").is_some(),
            "conformance/apigw/templates-*.json has AWS integration cases, which run against the \
             emulator: set AWS_ENDPOINT_URL (scripts/test-conformance.sh starts one and sets it)"
        );
        let emu = emulator().await;
        let aws = AwsBackend::from_sdk_config(&emu.sdk)
            .await
            .expect("an AWS backend for the emulator");
        Some((emu, aws))
    } else {
        None
    };
    let env = Env {
        backend: echo_backend().await,
        emulator,
    };
    // feature → (passed, total)
    let mut counts: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut failed = 0;
    for (file, cf) in &files {
        for case in &cf.cases {
            let entry = counts.entry(case.feature.clone()).or_default();
            entry.1 += 1;
            match run_case(case, &env).await {
                Ok(()) => entry.0 += 1,
                Err(why) => {
                    failed += 1;
                    let note = case.note.as_deref().unwrap_or_default();
                    println!("FAIL {AREA}/{file}/{}: {why} {note}", case.name);
                }
            }
        }
    }
    for (feature, (passed, total)) in &counts {
        println!("CONFORMANCE\t{AREA}\t{feature}\t{passed}\t{total}");
    }
    assert_eq!(failed, 0, "{failed} conformance case(s) failed");
}

/// Reads and checks one case file: (file name, cases).
fn load(path: &Path) -> (String, CaseFile) {
    let file = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .to_owned();
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{file}: {e}"));
    let cf: CaseFile =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{file}: malformed: {e}"));
    assert!(
        matches!(cf.source.kind.as_str(), "aws-recorded" | "aws-docs"),
        "{file}: source.kind must be aws-recorded or aws-docs"
    );
    assert!(
        !cf.source.name.is_empty() && !cf.source.location.is_empty(),
        "{file}: source.name and source.where are required"
    );
    assert!(
        cf.source.kind != "aws-recorded" || cf.source.validated.is_some(),
        "{file}: an aws-recorded source says when AWS validated it"
    );
    assert!(!cf.cases.is_empty(), "{file}: no cases");
    let mut names = std::collections::HashSet::new();
    for case in &cf.cases {
        assert!(
            names.insert(case.name.as_str()),
            "{file}: case name {} twice",
            case.name
        );
        assert!(
            case.expected.body.is_some()
                || case.expected.body_json.is_some()
                || case.expected.kinesis_records.is_some(),
            "{file}/{}: expected.body, expected.bodyJson or expected.kinesisRecords is required",
            case.name
        );
    }
    (file, cf)
}
