//! The API Gateway executor running the real `kstream-test-fn` binary through the Runtime API
//! host: a Lambda custom integration (request template → function → error-message selection
//! patterns → response template) and a Lambda proxy integration.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use http::Request;
use http_body_util::BodyExt;
use kstream_local_apigw::model::{
    DeployedApi, Deployment, Integration, IntegrationResponse, Method, Resource, Stage,
};
use kstream_local_apigw::{Executor, router};
use kstream_local_lambda::runtime::{FunctionHost, FunctionSpec};
use serde_json::{Value, json};
use tower::ServiceExt;

use kstream_local_testkit::test_fn;

const FUNCTION_URI: &str = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:apigw-test-fn/invocations";

fn deployment() -> Deployment {
    let mut api = DeployedApi {
        id: "lambdaapi".into(),
        ..DeployedApi::default()
    };
    api.stages.push(Stage {
        stage_name: "prod".into(),
        ..Stage::default()
    });
    // GET /echo/{id}: Lambda custom integration. `id` = `fail-…` makes the function fail.
    let mut custom = Integration {
        integration_type: "AWS".into(),
        http_method: Some("POST".into()),
        uri: Some(FUNCTION_URI.into()),
        ..Integration::default()
    };
    custom.request_templates.insert(
        "application/json".into(),
        r#"#set($id = $input.params('id'))
#if($id.startsWith('fail-'))
{"fail": "Bad request: $util.escapeJavaScript($id)"}
#else
{"echo": {"id": "$id", "requestId": "$context.requestId", "stage": "$context.stage"}}
#end"#
            .into(),
    );
    let mut ok = IntegrationResponse {
        status_code: "200".into(),
        ..IntegrationResponse::default()
    };
    ok.response_templates.insert(
        "application/json".into(),
        r#"{"echoed": $input.json('$'), "via": "custom"}"#.into(),
    );
    let mut bad = IntegrationResponse {
        status_code: "400".into(),
        selection_pattern: Some("Bad request: .*".into()),
        ..IntegrationResponse::default()
    };
    bad.response_templates.insert(
        "application/json".into(),
        r#"{"error": $input.json('$.errorMessage'), "type": "$input.path('$.errorType')"}"#.into(),
    );
    custom.integration_responses.insert("200".into(), ok);
    custom.integration_responses.insert("400".into(), bad);
    let mut echo = Resource {
        id: "r1".into(),
        path: "/echo/{id}".into(),
        ..Resource::default()
    };
    echo.methods.insert(
        "GET".into(),
        Method {
            http_method: "GET".into(),
            authorization_type: Some("NONE".into()),
            method_integration: Some(custom),
            ..Method::default()
        },
    );
    // ANY /proxy: Lambda proxy integration.
    let mut proxy = Resource {
        id: "r2".into(),
        path: "/proxy".into(),
        ..Resource::default()
    };
    proxy.methods.insert(
        "ANY".into(),
        Method {
            http_method: "ANY".into(),
            authorization_type: Some("NONE".into()),
            method_integration: Some(Integration {
                integration_type: "AWS_PROXY".into(),
                uri: Some(FUNCTION_URI.into()),
                ..Integration::default()
            }),
            ..Method::default()
        },
    );
    api.resources = vec![echo, proxy];
    Deployment {
        apis: vec![api],
        ..Deployment::default()
    }
}

async fn get(app: &axum::Router, path: &str) -> (u16, Value, String) {
    let resp = app
        .clone()
        .oneshot(
            Request::get(format!("/restapis/lambdaapi/prod/_user_request_{path}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let rid = resp.headers()["x-amzn-requestid"]
        .to_str()
        .unwrap()
        .to_owned();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        rid,
    )
}

#[tokio::test]
async fn lambda_integrations_run_the_real_function() {
    let dir = tempfile::tempdir().unwrap();
    let host = FunctionHost::builder()
        .log_dir(dir.path().join("logs"))
        .build();
    let mut spec = FunctionSpec::new("apigw-test-fn", test_fn());
    spec.timeout = Duration::from_secs(5);
    host.register(spec);
    let app = router(
        Executor::builder(deployment())
            .invoker(Arc::new(host.clone()))
            .build(),
    );

    // Custom integration, success: the template's payload went through the function and back.
    let (status, body, rid) = get(&app, "/echo/ride-7").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({"echoed": {"id": "ride-7", "requestId": rid, "stage": "prod"}, "via": "custom"})
    );

    // Custom integration, function error: errorMessage matched by the selection pattern.
    let (status, body, _) = get(&app, "/echo/fail-9").await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"], json!("Bad request: fail-9"), "{body}");
    // errorType is whatever lambda_runtime reports for the function's error type.
    assert!(
        body["type"].as_str().is_some_and(|t| !t.is_empty()),
        "{body}"
    );

    // Proxy integration: the test function answers a proxy event with a plain object (no
    // statusCode), which API Gateway reports as a malformed proxy response.
    let (status, body, _) = get(&app, "/proxy").await;
    assert_eq!(status, 502, "{body}");
    assert_eq!(body, json!({"message": "Internal server error"}));

    host.shutdown().await;
}
