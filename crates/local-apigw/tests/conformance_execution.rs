//! The API Gateway execution conformance cases (`conformance/apigw/execution-*.json`): each case
//! deploys an API (the same shape as the control plane's, see `kstream_local_apigw::model`),
//! sends one HTTP request through the real axum router and executor, and compares the answer
//! with the one recorded on AWS. Lambda-backed APIs run the real `kstream-test-fn` binary
//! through the Runtime API host, with the behaviour the case file names
//! (`KSTREAM_TEST_FN_APIGW`, see the binary's docs).
//!
//! # Case files
//! ```json
//! {"source": {...},
//!  "apis": {"<name>": <a DeployedApi: id, resources (with methods and integrations), stages>},
//!  "functions": {"<function name>": {"<environment variable>": "<value>"}},
//!  "cases": [{"name", "feature", "api": "<name>",
//!             "request": {"method", "stage", "path", "query", "headers", "body",
//!                         "address": "host" (default) | "path", "uri": "<raw target>"},
//!             "expected": {"status", "body" (JSON), "bodyText" (exact text),
//!                          "bodyBase64" (exact bytes, base64), "headers"},
//!             "loose": {"<field name>": "<rule>"}}]}
//! ```
//! `{backend}` in an integration URI is a local HTTP backend answering `/…/<code>` with that
//! status (for `HTTP` integrations).
//!
//! `request.address` chooses the address scheme: `host` sends `Host: <api-id>.execute-api.localhost`
//! and `/<stage><path>`; `path` sends LocalStack's `/restapis/<id>/<stage>/_user_request_<path>`;
//! `uri`, when given, is the request target as sent (for repeated slashes).
//!
//! `expected.headers` are compared case-insensitively by name, several values joined by `, `
//! (as an HTTP client shows them); other response headers are not compared.
//!
//! `loose` names fields (at any depth of the JSON body) whose recorded value is not
//! reproducible, and the rule their value must follow instead (where the recorded value is
//! null, the field is compared exactly):
//! `uuid`, `request-time` (`dd/Mon/yyyy:HH:MM:SS +0000`), `epoch-ms` (an integer),
//! `ip`, `account-id` (12 digits), `non-empty` (a non-empty string), `api-id` (the API's id),
//! `host` (the `Host` the request sent), `json-text` (a string whose JSON is the expected value),
//! `headers-ci` (an object with exactly the expected members, names compared
//! case-insensitively since HTTP header names reach the server lower-cased; `Host`, which the
//! runner sets, is left out on both sides), `runtime-specific` (a member the recorded
//! function's language runtime adds to its error payload: not compared).
//!
//! Run by scripts/test-conformance.sh: `cargo test -p kstream-local-apigw --test
//! conformance_execution -- --ignored --nocapture`.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use http::Request;
use http_body_util::BodyExt;
use kstream_local_apigw::model::{DeployedApi, Deployment};
use kstream_local_apigw::{Executor, router};
use kstream_local_lambda::runtime::{FunctionHost, FunctionSpec};
use serde::Deserialize;
use serde_json::Value;
use tower::ServiceExt;

use kstream_local_testkit::test_fn;

#[derive(Debug, Deserialize)]
struct CaseFile {
    #[serde(default)]
    apis: BTreeMap<String, DeployedApi>,
    #[serde(default)]
    functions: BTreeMap<String, BTreeMap<String, String>>,
    cases: Vec<Case>,
}

#[derive(Debug, Deserialize)]
struct Case {
    name: String,
    feature: String,
    api: String,
    request: CaseRequest,
    expected: Expected,
    #[serde(default)]
    loose: HashMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CaseRequest {
    method: String,
    stage: String,
    #[serde(default)]
    path: String,
    #[serde(default)]
    query: Option<String>,
    #[serde(default)]
    headers: Vec<(String, String)>,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    address: Option<String>,
    #[serde(default)]
    uri: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Expected {
    status: u16,
    #[serde(default)]
    body: Option<Value>,
    #[serde(default)]
    body_text: Option<String>,
    #[serde(default)]
    body_base64: Option<String>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
}

/// What the comparison knows beyond the case: the values `api-id` and `host` stand for.
struct Known<'a> {
    api_id: &'a str,
    host: &'a str,
    loose: &'a HashMap<String, String>,
}

fn conformance_dir() -> PathBuf {
    let manifest = std::env::var("CARGO_MANIFEST_DIR")
        .unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").to_owned());
    Path::new(&manifest).join("../../conformance/apigw")
}

fn case_files() -> Vec<(String, CaseFile)> {
    let dir = conformance_dir();
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("execution-") && n.ends_with(".json"))
        })
        .collect();
    paths.sort();
    assert!(
        !paths.is_empty(),
        "no execution-*.json in {}",
        dir.display()
    );
    paths
        .into_iter()
        .map(|p| {
            let text =
                std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            let file: CaseFile = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{}: not a case file: {e}", p.display()));
            let stem = p.file_stem().unwrap().to_string_lossy().into_owned();
            (stem, file)
        })
        .collect()
}

fn rule_holds(rule: &str, actual: &Value, expected: &Value, known: &Known<'_>) -> bool {
    let s = actual.as_str().unwrap_or_default();
    match rule {
        "uuid" => uuid::Uuid::parse_str(s).is_ok(),
        "request-time" => chrono::DateTime::parse_from_str(s, "%d/%b/%Y:%H:%M:%S %z").is_ok(),
        "epoch-ms" => actual.as_i64().is_some_and(|n| n > 1_500_000_000_000),
        "ip" => s.parse::<std::net::IpAddr>().is_ok(),
        "account-id" => s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()),
        "non-empty" => !s.is_empty(),
        "api-id" => s == known.api_id,
        "host" => s == known.host,
        "json-text" => serde_json::from_str::<Value>(s).is_ok_and(|v| &v == expected),
        "runtime-specific" => true,
        "headers-ci" => {
            let lowered = |v: &Value| -> Option<BTreeMap<String, Value>> {
                Some(
                    v.as_object()?
                        .iter()
                        .filter(|(k, _)| !k.eq_ignore_ascii_case("host"))
                        .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
                        .collect(),
                )
            };
            matches!((lowered(expected), lowered(actual)), (Some(e), Some(a)) if e == a)
        }
        other => panic!("unknown loose rule {other:?}"),
    }
}

/// Compares `actual` with `expected`, applying the loose rules by member name.
fn compare(expected: &Value, actual: &Value, known: &Known<'_>, at: &str) -> Result<(), String> {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (k, ev) in e {
                let here = format!("{at}.{k}");
                // A loose rule stands in for a recorded value; a recorded null stays exact.
                let rule = known
                    .loose
                    .get(k)
                    .map(String::as_str)
                    .filter(|_| !ev.is_null());
                match (a.get(k), rule) {
                    (None, Some("runtime-specific")) => {}
                    (None, _) => return Err(format!("{here}: missing (expected {ev})")),
                    (Some(av), Some(rule)) => {
                        if !rule_holds(rule, av, ev, known) {
                            return Err(format!(
                                "{here}: {av} does not follow rule {rule} (recorded {ev})"
                            ));
                        }
                    }
                    (Some(av), None) => compare(ev, av, known, &here)?,
                }
            }
            if let Some(k) = a.keys().find(|k| !e.contains_key(*k)) {
                return Err(format!("{at}.{k}: not expected (got {})", a[k]));
            }
            Ok(())
        }
        (Value::Array(e), Value::Array(a)) if e.len() == a.len() => {
            for (i, (ev, av)) in e.iter().zip(a).enumerate() {
                compare(ev, av, known, &format!("{at}[{i}]"))?;
            }
            Ok(())
        }
        (Value::Number(e), Value::Number(a)) if e.as_f64() == a.as_f64() => Ok(()),
        (e, a) if e == a => Ok(()),
        (e, a) => Err(format!("{at}: expected {e}, got {a}")),
    }
}

/// An HTTP backend for `HTTP` integrations: answers any path ending in `/<code>` with that
/// status and a small JSON body (the method and path it saw), like the echo server LocalStack's
/// tests use. Returns its `host:port`.
async fn status_backend() -> String {
    async fn answer(req: axum::extract::Request) -> axum::response::Response {
        let code = req
            .uri()
            .path()
            .rsplit('/')
            .next()
            .and_then(|c| c.parse::<u16>().ok())
            .and_then(|c| http::StatusCode::from_u16(c).ok())
            .unwrap_or(http::StatusCode::OK);
        let body = serde_json::json!({"method": req.method().as_str(), "path": req.uri().path()});
        let mut resp = axum::response::Response::new(Body::from(body.to_string()));
        *resp.status_mut() = code;
        resp
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, axum::Router::new().fallback(answer)).await;
    });
    addr.to_string()
}

/// The API with `{backend}` in its integration URIs replaced by the backend's `host:port`.
fn with_backend(api: &DeployedApi, backend: &str) -> DeployedApi {
    let mut api = api.clone();
    for method in api
        .resources
        .iter_mut()
        .flat_map(|r| r.methods.values_mut())
    {
        if let Some(uri) = method
            .method_integration
            .as_mut()
            .and_then(|i| i.uri.as_mut())
        {
            *uri = uri.replace("{backend}", backend);
        }
    }
    api
}

async fn run_case(app: &axum::Router, api: &DeployedApi, case: &Case) -> Result<(), String> {
    let r = &case.request;
    let host = format!("{}.execute-api.localhost", api.id);
    let by_path = r.address.as_deref() == Some("path");
    let target = match (&r.uri, by_path) {
        (Some(uri), _) => uri.clone(),
        (None, true) => format!("/restapis/{}/{}/_user_request_{}", api.id, r.stage, r.path),
        (None, false) => format!("/{}{}", r.stage, r.path),
    };
    let target = match &r.query {
        Some(q) => format!("{target}?{q}"),
        None => target,
    };
    let mut builder = Request::builder().method(r.method.as_str()).uri(&target);
    if !by_path {
        builder = builder.header("host", &host);
    }
    for (k, v) in &r.headers {
        builder = builder.header(k, v);
    }
    let body = r.body.clone().map(Body::from).unwrap_or_else(Body::empty);
    let req = builder
        .body(body)
        .map_err(|e| format!("bad request: {e}"))?;
    let resp = app
        .clone()
        .oneshot(req)
        .await
        .map_err(|e| format!("router: {e}"))?;
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let bytes = resp
        .into_body()
        .collect()
        .await
        .map_err(|e| format!("body: {e}"))?
        .to_bytes();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let e = &case.expected;
    if status != e.status {
        return Err(format!(
            "status: expected {}, got {status} ({text})",
            e.status
        ));
    }
    for (name, value) in &e.headers {
        let got: Vec<&str> = headers
            .get_all(name.as_str())
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        if got.join(", ") != *value {
            return Err(format!("header {name}: expected {value:?}, got {got:?}"));
        }
    }
    if let Some(expected_text) = &e.body_text
        && *expected_text != text
    {
        return Err(format!("body: expected {expected_text:?}, got {text:?}"));
    }
    if let Some(expected) = &e.body_base64 {
        use base64::Engine as _;
        let got = base64::engine::general_purpose::STANDARD.encode(&bytes);
        if got != *expected {
            return Err(format!("body (base64): expected {expected}, got {got}"));
        }
    }
    if let Some(expected) = &e.body {
        let actual: Value = serde_json::from_str(&text)
            .map_err(|err| format!("body is not JSON ({err}): {text:?}"))?;
        let known = Known {
            api_id: &api.id,
            host: if by_path { "" } else { &host },
            loose: &case.loose,
        };
        compare(expected, &actual, &known, "body")?;
    }
    Ok(())
}

#[tokio::test]
#[ignore = "conformance tier: scripts/test-conformance.sh"]
#[expect(
    clippy::print_stdout,
    reason = "the conformance tier reads the FAIL and CONFORMANCE lines on stdout"
)]
async fn conformance_execution() {
    let files = case_files();
    let logs = tempfile::tempdir().unwrap();
    let host = FunctionHost::builder()
        .log_dir(logs.path().join("logs"))
        .build();
    let backend = status_backend().await;
    let mut functions: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut deployment = Deployment::default();
    for (stem, file) in &files {
        for (name, env) in &file.functions {
            if let Some(other) = functions.insert(name.clone(), env.clone()) {
                assert_eq!(
                    &other, env,
                    "{stem}: function {name} defined twice, differently"
                );
            }
        }
        for (name, api) in &file.apis {
            assert!(
                !deployment.apis.iter().any(|a| a.id == api.id),
                "{stem}: API {name} reuses the id {}",
                api.id
            );
            deployment.apis.push(with_backend(api, &backend));
        }
    }
    for (name, env) in &functions {
        let mut spec = FunctionSpec::new(name.clone(), test_fn());
        spec.timeout = Duration::from_secs(5);
        spec.environment = env.clone();
        host.register(spec);
    }
    let app = router(
        Executor::builder(deployment)
            .invoker(Arc::new(host.clone()))
            .build(),
    );

    let mut by_feature: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut failed = 0;
    for (stem, file) in &files {
        for case in &file.cases {
            let api = file
                .apis
                .get(&case.api)
                .unwrap_or_else(|| panic!("{stem}/{}: no API {}", case.name, case.api));
            let outcome = run_case(&app, api, case).await;
            let counts = by_feature.entry(case.feature.clone()).or_default();
            counts.1 += 1;
            match outcome {
                Ok(()) => counts.0 += 1,
                Err(why) => {
                    failed += 1;
                    println!("FAIL apigw/{stem}/{}: {why}", case.name);
                }
            }
        }
    }
    for (feature, (passed, total)) in &by_feature {
        println!("CONFORMANCE\tapigw\t{feature}\t{passed}\t{total}");
    }
    host.shutdown().await;
    assert_eq!(failed, 0, "{failed} apigw execution case(s) failed");
}
