//! Conformance tier, API Gateway mapping templates: every `conformance/apigw/templates-*.json`
//! case (outputs recorded on AWS or printed in the AWS documentation) run through the real
//! executor behind the axum router.
//!
//! Each case deploys one method (`/case` unless the case names a resource path) whose
//! integration is
//! - `HTTP` to a local echo backend, either `httpbin-post` (answers like httpbin.org's `/post`,
//!   the echo the AWS recordings used: `{"data": <body>, "json": <body parsed or null>, …}`) or
//!   `echo-body` (answers the body it got, as the recordings' echo Lambda function URL did), or
//! - `MOCK`,
//!
//! with the case's request and response templates (`application/json`), then sends the case's
//! request and compares the status and the body (as a string, or parsed as JSON where the
//! recording or the documentation gives parsed JSON).
//!
//! Run by scripts/test-conformance.sh: `cargo test -p kstream-local-apigw --test
//! conformance_templates -- --ignored --nocapture`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use axum::body::Body;
use http::{Request, StatusCode};
use http_body_util::BodyExt;
use kstream_local_apigw::model::{
    DeployedApi, Deployment, Integration, IntegrationResponse, Method, Resource, Stage,
};
use kstream_local_apigw::{Executor, router};
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
    #[serde(default)]
    note: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseIntegration {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    backend: Option<String>,
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
        if parts.uri.path() == "/post" {
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

fn deployment(case: &Case, backend: &str) -> Result<Deployment, String> {
    let mut integration = match case.integration.kind.as_str() {
        "HTTP" => {
            let path = match case.integration.backend.as_deref() {
                Some("httpbin-post") => "/post",
                Some("echo-body") => "/echo",
                other => return Err(format!("unknown HTTP backend {other:?}")),
            };
            Integration {
                integration_type: "HTTP".into(),
                http_method: Some("POST".into()),
                uri: Some(format!("{backend}{path}")),
                ..Integration::default()
            }
        }
        "MOCK" => Integration {
            integration_type: "MOCK".into(),
            ..Integration::default()
        },
        other => return Err(format!("unknown integration type {other}")),
    };
    if let Some(t) = &case.request_template {
        integration
            .request_templates
            .insert("application/json".into(), t.clone());
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

/// Runs one case; `Err` says how the answer differs from the recorded one.
async fn run_case(case: &Case, backend: &str) -> Result<(), String> {
    let app = router(Executor::builder(deployment(case, backend)?).build());
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
    if let Some(want) = &case.expected.body_json {
        let parsed: Value = serde_json::from_str(&got)
            .map_err(|e| format!("body: expected JSON {want}, got {got:?} ({e})"))?;
        if parsed != *want {
            return Err(format!("body: expected JSON {want} got {parsed}"));
        }
    }
    Ok(())
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
    let backend = echo_backend().await;
    let files = case_files();
    assert!(!files.is_empty(), "no conformance/apigw/templates-*.json");
    // feature → (passed, total)
    let mut counts: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut failed = 0;
    for path in &files {
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
                case.expected.body.is_some() || case.expected.body_json.is_some(),
                "{file}/{}: expected.body or expected.bodyJson is required",
                case.name
            );
            let entry = counts.entry(case.feature.clone()).or_default();
            entry.1 += 1;
            match run_case(case, &backend).await {
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
