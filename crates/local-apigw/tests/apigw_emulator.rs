//! The API Gateway executor against the emulator: pattern 1's REST API (the Terraform module's
//! templates, models and integration responses) created in moto through the SDK, loaded back
//! with `apigw::load`, served over HTTP, with records read back from the real (emulated) stream.
//!
//! Needs the emulator: run by scripts/test-e2e.sh (`cargo test -p kstream-local-apigw -- --ignored`).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use aws_sdk_apigateway::types::{ApiStage, Op, PatchOperation, ThrottleSettings};
use aws_sdk_kinesis::types::ShardIteratorType;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use kstream_local_apigw::{self as apigw, AwsBackend, Executor};
use serde_json::{Value, json};
use tokio::sync::oneshot;

use kstream_local_testkit::{Emulator, emulator};

fn module_template(name: &str, stream: &str) -> String {
    let path = format!(
        "{}/../../infra/modules/apigw-kinesis-proxy/templates/{name}",
        // At run time first: a test binary built from a copy of the tree still reads this one.
        std::env::var("CARGO_MANIFEST_DIR")
            .unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").to_owned())
    );
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .replace("${stream_name}", stream)
}

/// Creates pattern 1's API for `stream` in the emulator; returns its id.
async fn create_api(emu: &Emulator, stream: &str) -> String {
    let gw = aws_sdk_apigateway::Client::new(&emu.sdk);
    let api = gw
        .create_rest_api()
        .name(format!("{}-api", emu.prefix))
        .send()
        .await
        .unwrap();
    let api_id = api.id().unwrap().to_owned();
    let root = gw
        .get_resources()
        .rest_api_id(&api_id)
        .send()
        .await
        .unwrap()
        .items()
        .iter()
        .find(|r| r.path() == Some("/"))
        .and_then(|r| r.id())
        .unwrap()
        .to_owned();
    let validator = gw
        .create_request_validator()
        .rest_api_id(&api_id)
        .name("request-body-validator")
        .validate_request_body(true)
        .send()
        .await
        .unwrap()
        .id()
        .unwrap()
        .to_owned();
    let item = json!({
        "type": "object", "required": ["data", "partitionKey"],
        "properties": {"data": {"type": "string", "maxLength": 1048576},
                       "partitionKey": {"type": "string", "minLength": 1, "maxLength": 256}}
    });
    let mut records_schema = json!({
        "type": "object", "required": ["records"],
        "properties": {"records": {"type": "array", "minItems": 1, "maxItems": 500, "items": item.clone()}}
    });
    records_schema["$schema"] = json!("http://json-schema.org/draft-04/schema#");
    let mut record_schema = item;
    record_schema["$schema"] = json!("http://json-schema.org/draft-04/schema#");
    for (name, schema) in [
        ("PutRecordModel", record_schema),
        ("PutRecordsModel", records_schema),
    ] {
        gw.create_model()
            .rest_api_id(&api_id)
            .name(name)
            .content_type("application/json")
            .schema(schema.to_string())
            .send()
            .await
            .unwrap();
    }
    for (path, action, model, req_t, resp_t) in [
        (
            "record",
            "PutRecord",
            "PutRecordModel",
            "put-record.request.vtl",
            "put-record.response.vtl",
        ),
        (
            "records",
            "PutRecords",
            "PutRecordsModel",
            "put-records.request.vtl",
            "put-records.response.vtl",
        ),
    ] {
        let resource = gw
            .create_resource()
            .rest_api_id(&api_id)
            .parent_id(&root)
            .path_part(path)
            .send()
            .await
            .unwrap()
            .id()
            .unwrap()
            .to_owned();
        gw.put_method()
            .rest_api_id(&api_id)
            .resource_id(&resource)
            .http_method("POST")
            .authorization_type("NONE")
            .request_validator_id(&validator)
            .request_models("application/json", model)
            .send()
            .await
            .unwrap();
        gw.put_integration()
            .rest_api_id(&api_id)
            .resource_id(&resource)
            .http_method("POST")
            .r#type(aws_sdk_apigateway::types::IntegrationType::Aws)
            .integration_http_method("POST")
            .uri(format!(
                "arn:aws:apigateway:us-east-1:kinesis:action/{action}"
            ))
            .credentials("arn:aws:iam::123456789012:role/apigw-kinesis")
            .passthrough_behavior("NEVER")
            .request_parameters(
                "integration.request.header.Content-Type",
                "'application/x-amz-json-1.1'",
            )
            .request_templates("application/json", module_template(req_t, stream))
            .send()
            .await
            .unwrap();
        for (status, pattern, template) in [
            ("200", None, resp_t),
            ("400", Some("4\\d{2}"), "client-error.response.vtl"),
            ("500", Some("5\\d{2}"), "server-error.response.vtl"),
        ] {
            gw.put_method_response()
                .rest_api_id(&api_id)
                .resource_id(&resource)
                .http_method("POST")
                .status_code(status)
                .response_models("application/json", "Empty")
                .send()
                .await
                .unwrap();
            gw.put_integration_response()
                .rest_api_id(&api_id)
                .resource_id(&resource)
                .http_method("POST")
                .status_code(status)
                .set_selection_pattern(pattern.map(str::to_owned))
                .response_templates("application/json", module_template(template, stream))
                .send()
                .await
                .unwrap();
        }
    }
    // A MOCK route that needs an API key (for the usage plan checks).
    let keyed = gw
        .create_resource()
        .rest_api_id(&api_id)
        .parent_id(&root)
        .path_part("keyed")
        .send()
        .await
        .unwrap()
        .id()
        .unwrap()
        .to_owned();
    gw.put_method()
        .rest_api_id(&api_id)
        .resource_id(&keyed)
        .http_method("GET")
        .authorization_type("NONE")
        .api_key_required(true)
        .send()
        .await
        .unwrap();
    gw.put_integration()
        .rest_api_id(&api_id)
        .resource_id(&keyed)
        .http_method("GET")
        .r#type(aws_sdk_apigateway::types::IntegrationType::Mock)
        .request_templates("application/json", r#"{"statusCode": 200}"#)
        .send()
        .await
        .unwrap();
    gw.put_method_response()
        .rest_api_id(&api_id)
        .resource_id(&keyed)
        .http_method("GET")
        .status_code("200")
        .send()
        .await
        .unwrap();
    gw.put_integration_response()
        .rest_api_id(&api_id)
        .resource_id(&keyed)
        .http_method("GET")
        .status_code("200")
        .response_templates(
            "application/json",
            r#"{"key": "$context.identity.apiKeyId"}"#,
        )
        .send()
        .await
        .unwrap();

    // Stages: `prod` (the module's defaults, rate 100, burst 50) and `tight` (burst 2).
    for (stage, rate, burst) in [("prod", "100", "50"), ("tight", "0.01", "2")] {
        gw.create_deployment()
            .rest_api_id(&api_id)
            .stage_name(stage)
            .send()
            .await
            .unwrap();
        gw.update_stage()
            .rest_api_id(&api_id)
            .stage_name(stage)
            .patch_operations(
                PatchOperation::builder()
                    .op(Op::Replace)
                    .path("/*/*/throttling/rateLimit")
                    .value(rate)
                    .build(),
            )
            .patch_operations(
                PatchOperation::builder()
                    .op(Op::Replace)
                    .path("/*/*/throttling/burstLimit")
                    .value(burst)
                    .build(),
            )
            .send()
            .await
            .unwrap();
    }
    // An API key in a usage plan for `prod` (burst 1), and one in no plan.
    let plan = gw
        .create_usage_plan()
        .name(format!("{api_id}-plan"))
        .api_stages(ApiStage::builder().api_id(&api_id).stage("prod").build())
        .throttle(
            ThrottleSettings::builder()
                .rate_limit(0.01)
                .burst_limit(1)
                .build(),
        )
        .send()
        .await
        .unwrap()
        .id()
        .unwrap()
        .to_owned();
    for (name, attach) in [("planned", true), ("orphan", false)] {
        let key = gw
            .create_api_key()
            .name(format!("{api_id}-{name}"))
            .value(format!("{api_id}-{name}-value-0123456789"))
            .enabled(true)
            .send()
            .await
            .unwrap()
            .id()
            .unwrap()
            .to_owned();
        if attach {
            gw.create_usage_plan_key()
                .usage_plan_id(&plan)
                .key_id(&key)
                .key_type("API_KEY")
                .send()
                .await
                .unwrap();
        }
    }
    api_id
}

struct Served {
    addr: SocketAddr,
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

async fn serve(emu: &Emulator) -> (Served, apigw::Deployment) {
    let deployment = apigw::load(&emu.sdk).await.expect("load the deployed APIs");
    let executor = Executor::builder(deployment.clone())
        .backend(AwsBackend::from_sdk_config(&emu.sdk).await.unwrap())
        .build();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        apigw::serve(executor, listener, async {
            let _ = rx.await;
        })
        .await
        .unwrap();
    });
    (Served { addr, stop, task }, deployment)
}

async fn call(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, Value, HashMap<String, String>) {
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let mut req = http::Request::builder()
        .method(method)
        .uri(format!("http://{addr}{path}"))
        .header("content-type", "application/json");
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = client
        .request(req.body(Full::new(Bytes::from(body.to_owned()))).unwrap())
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let headers = resp
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                v.to_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    let body = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    (status, body, headers)
}

/// Every record in the stream, as (partition key, data).
async fn read_back(emu: &Emulator, stream: &str) -> Vec<(String, String)> {
    let shards = emu
        .kinesis
        .list_shards()
        .stream_name(stream)
        .send()
        .await
        .unwrap();
    let mut out = Vec::new();
    for shard in shards.shards() {
        let mut iterator = emu
            .kinesis
            .get_shard_iterator()
            .stream_name(stream)
            .shard_id(shard.shard_id())
            .shard_iterator_type(ShardIteratorType::TrimHorizon)
            .send()
            .await
            .unwrap()
            .shard_iterator()
            .map(str::to_owned);
        while let Some(it) = iterator {
            let r = emu
                .kinesis
                .get_records()
                .shard_iterator(it)
                .send()
                .await
                .unwrap();
            for rec in r.records() {
                out.push((
                    rec.partition_key().unwrap_or_default().to_owned(),
                    String::from_utf8_lossy(rec.data().as_ref()).into_owned(),
                ));
            }
            if r.records().is_empty() {
                break;
            }
            iterator = r.next_shard_iterator().map(str::to_owned);
        }
    }
    out.sort();
    out
}

#[tokio::test]
#[ignore = "needs the emulator: run by scripts/test-e2e.sh"]
async fn pattern1_api_puts_records_into_the_stream() {
    let emu = emulator().await;
    let (stream, _) = emu.stream(2).await;
    let api_id = create_api(&emu, &stream).await;
    let (served, deployment) = serve(&emu).await;

    // What was loaded back from the control plane.
    let api = deployment
        .apis
        .iter()
        .find(|a| a.id == api_id)
        .expect("the API is loaded");
    assert_eq!(api.models.len(), 2, "{:?}", api.models.keys());
    let record = api
        .resources
        .iter()
        .find(|r| r.path == "/record")
        .expect("/record");
    let method = &record.methods["POST"];
    assert!(method.request_validator_id.is_some());
    let integration = method.method_integration.as_ref().expect("integration");
    assert_eq!(integration.integration_type, "AWS");
    assert_eq!(integration.integration_responses.len(), 3);
    assert_eq!(
        integration.integration_responses["400"]
            .selection_pattern
            .as_deref(),
        Some("4\\d{2}")
    );
    let prod = api.stage("prod").expect("prod stage");
    assert_eq!(prod.method_settings["*/*"].throttling_burst_limit, Some(50));

    let base = format!("/restapis/{api_id}/prod/_user_request_");
    let (status, body, headers) = call(
        served.addr,
        "POST",
        &format!("{base}/record"),
        &[],
        r#"{"data": "hello \"kinesis\"", "partitionKey": "pk-1"}"#,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body["SequenceNumber"]
            .as_str()
            .is_some_and(|s| !s.is_empty()),
        "{body}"
    );
    assert!(
        body["ShardId"]
            .as_str()
            .is_some_and(|s| s.starts_with("shardId-")),
        "{body}"
    );
    assert!(headers.contains_key("x-amzn-requestid"));

    let host = format!("{api_id}.execute-api.localhost");
    let (status, body, _) = call(
        served.addr,
        "POST",
        "/prod/records",
        &[("host", &host)],
        r#"{"records": [{"data": "r1", "partitionKey": "pk-2"}, {"data": "{\"n\":3}", "partitionKey": "pk-3"}]}"#,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["FailedRecordCount"], json!(0), "{body}");
    assert_eq!(body["Records"].as_array().map(Vec::len), Some(2), "{body}");

    // Bad bodies: 400 with API Gateway's message, nothing reaches the stream.
    for bad in [
        r#"{"data": "x"}"#,
        r#"{"partitionKey": 7, "data": "x"}"#,
        "{oops",
    ] {
        let (status, body, _) =
            call(served.addr, "POST", &format!("{base}/record"), &[], bad).await;
        assert_eq!(
            (status, body),
            (400, json!({"message": "Invalid request body"})),
            "{bad}"
        );
    }
    let (status, body, _) = call(
        served.addr,
        "POST",
        &format!("{base}/records"),
        &[],
        r#"{"records": []}"#,
    )
    .await;
    assert_eq!(
        (status, body),
        (400, json!({"message": "Invalid request body"}))
    );
    let (status, body, _) = call(served.addr, "GET", &format!("{base}/record"), &[], "").await;
    assert_eq!(
        (status, body),
        (403, json!({"message": "Missing Authentication Token"}))
    );

    assert_eq!(
        read_back(&emu, &stream).await,
        vec![
            ("pk-1".to_owned(), "hello \"kinesis\"".to_owned()),
            ("pk-2".to_owned(), "r1".to_owned()),
            ("pk-3".to_owned(), "{\"n\":3}".to_owned()),
        ]
    );

    // Kinesis's own errors go through the 4xx integration response: a missing stream is the
    // proxy's misconfiguration (500, without Kinesis's message).
    let other = create_api(&emu, &format!("{stream}-missing")).await;
    let _ = served.stop.send(());
    served.task.await.unwrap();
    let (served, _) = serve(&emu).await;
    let (status, body, _) = call(
        served.addr,
        "POST",
        &format!("/restapis/{other}/prod/_user_request_/record"),
        &[],
        r#"{"data": "x", "partitionKey": "k"}"#,
    )
    .await;
    assert_eq!(status, 500, "{body}");
    assert_eq!(
        body["message"],
        json!("The stream proxy is misconfigured"),
        "{body}"
    );
    assert_eq!(body["type"], json!("ResourceNotFoundException"), "{body}");
    let _ = served.stop.send(());
    served.task.await.unwrap();
}

#[tokio::test]
#[ignore = "needs the emulator: run by scripts/test-e2e.sh"]
async fn stage_throttles_and_usage_plans_from_the_emulator() {
    let emu = emulator().await;
    let (stream, _) = emu.stream(1).await;
    let api_id = create_api(&emu, &stream).await;
    let (served, _) = serve(&emu).await;

    // `tight`: burst 2, then 429 (the refill of 0.01/s is far slower than the test).
    let tight = format!("/restapis/{api_id}/tight/_user_request_/record");
    let body = r#"{"data": "t", "partitionKey": "k"}"#;
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(call(served.addr, "POST", &tight, &[], body).await.0);
    }
    assert_eq!(statuses, vec![200, 200, 429, 429]);
    let (_, body, _) = call(served.addr, "POST", &tight, &[], body).await;
    assert_eq!(body, json!({"message": "Too Many Requests"}));

    // API keys: missing, unknown, in no plan → 403; in the plan → 200, then the plan's burst of 1.
    let keyed = format!("/restapis/{api_id}/prod/_user_request_/keyed");
    let planned = format!("{api_id}-planned-value-0123456789");
    let orphan = format!("{api_id}-orphan-value-0123456789");
    for key in [None, Some("nope"), Some(orphan.as_str())] {
        let headers: Vec<(&str, &str)> = key.map(|k| ("x-api-key", k)).into_iter().collect();
        let (status, body, _) = call(served.addr, "GET", &keyed, &headers, "").await;
        assert_eq!(
            (status, body),
            (403, json!({"message": "Forbidden"})),
            "{key:?}"
        );
    }
    let (status, body, _) = call(served.addr, "GET", &keyed, &[("x-api-key", &planned)], "").await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body["key"].as_str().is_some_and(|k| !k.is_empty()),
        "{body}"
    );
    let (status, body, _) = call(served.addr, "GET", &keyed, &[("x-api-key", &planned)], "").await;
    assert_eq!(
        (status, body),
        (429, json!({"message": "Too Many Requests"}))
    );

    let _ = served.stop.send(());
    tokio::time::timeout(Duration::from_secs(10), served.task)
        .await
        .unwrap()
        .unwrap();
}
