//! The whole pipeline through the axum router: pattern 1's API (the Terraform module's
//! templates, models and responses) against a stand-in Kinesis endpoint, plus a Lambda proxy
//! route with a stand-in invoker. The emulator-backed and real-binary versions live in
//! `tests/apigw_*.rs`.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use base64::Engine;
use bytes::Bytes;
use futures::future::BoxFuture;
use http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

use super::model::*;
use super::*;
use kstream_local_lambda::runtime::{FunctionError, InvokeResult};

const API: &str = "a1b2c3";

fn module_template(name: &str) -> String {
    let path = format!(
        "{}/../../infra/modules/apigw-kinesis-proxy/templates/{name}",
        // At run time first: a test binary built from a copy of the tree still reads this one.
        std::env::var("CARGO_MANIFEST_DIR")
            .unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").to_owned())
    );
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .replace("${stream_name}", "demo-stream")
}

/// Pattern 1's POST /record and POST /records as the module deploys them (Cognito variant off:
/// `NONE` here so that each auth mode is tested on its own route), plus:
/// `GET /rides/{id}` (Lambda proxy, API key required), `POST /iam` (AWS_IAM, MOCK),
/// `POST /cognito` (Cognito, MOCK).
fn deployment() -> Deployment {
    let mut api = DeployedApi {
        id: API.into(),
        name: "demo".into(),
        ..DeployedApi::default()
    };
    let schema = |required: Value, props: Value| {
        json!({"$schema": "http://json-schema.org/draft-04/schema#", "type": "object", "required": required, "properties": props}).to_string()
    };
    let item = json!({"data": {"type": "string"}, "partitionKey": {"type": "string", "minLength": 1, "maxLength": 256}});
    api.models.insert(
        "PutRecordModel".into(),
        Model {
            id: "m1".into(),
            name: "PutRecordModel".into(),
            content_type: "application/json".into(),
            schema: Some(schema(json!(["data", "partitionKey"]), item.clone())),
        },
    );
    api.models.insert(
        "PutRecordsModel".into(),
        Model {
            id: "m2".into(),
            name: "PutRecordsModel".into(),
            content_type: "application/json".into(),
            schema: Some(schema(json!(["records"]), json!({"records": {"type": "array", "minItems": 1, "maxItems": 500, "items": {"type": "object", "required": ["data", "partitionKey"], "properties": item}}}))),
        },
    );
    api.request_validators.insert(
        "v1".into(),
        RequestValidator {
            id: "v1".into(),
            name: "request-body-validator".into(),
            validate_request_body: true,
            validate_request_parameters: false,
        },
    );
    api.authorizers.insert(
        "au1".into(),
        Authorizer {
            id: "au1".into(),
            name: "pool".into(),
            authorizer_type: "COGNITO_USER_POOLS".into(),
            identity_source: Some("method.request.header.Authorization".into()),
            provider_arns: vec![
                "arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_Pool".into(),
            ],
            authorizer_uri: None,
            identity_validation_expression: None,
        },
    );
    let mut stage = Stage {
        stage_name: "prod".into(),
        ..Stage::default()
    };
    stage.method_settings.insert(
        "*/*".into(),
        MethodSetting {
            throttling_rate_limit: Some(1000.0),
            throttling_burst_limit: Some(1000),
        },
    );
    stage.method_settings.insert(
        "~1throttled/POST".into(),
        MethodSetting {
            throttling_rate_limit: Some(0.001),
            throttling_burst_limit: Some(2),
        },
    );
    api.stages.push(stage);

    for (path, action, model, req_t, resp_t) in [
        (
            "/record",
            "PutRecord",
            "PutRecordModel",
            "put-record.request.vtl",
            "put-record.response.vtl",
        ),
        (
            "/records",
            "PutRecords",
            "PutRecordsModel",
            "put-records.request.vtl",
            "put-records.response.vtl",
        ),
        (
            "/throttled",
            "PutRecord",
            "PutRecordModel",
            "put-record.request.vtl",
            "put-record.response.vtl",
        ),
    ] {
        let mut integration = Integration {
            integration_type: "AWS".into(),
            http_method: Some("POST".into()),
            uri: Some(format!(
                "arn:aws:apigateway:us-east-1:kinesis:action/{action}"
            )),
            passthrough_behavior: Some("NEVER".into()),
            ..Integration::default()
        };
        integration.request_parameters.insert(
            "integration.request.header.Content-Type".into(),
            "'application/x-amz-json-1.1'".into(),
        );
        integration
            .request_templates
            .insert("application/json".into(), module_template(req_t));
        for (status, pattern, template) in [
            ("200", None, resp_t),
            ("400", Some("4\\d{2}"), "client-error.response.vtl"),
            ("500", Some("5\\d{2}"), "server-error.response.vtl"),
        ] {
            let mut r = IntegrationResponse {
                status_code: status.into(),
                selection_pattern: pattern.map(str::to_owned),
                ..IntegrationResponse::default()
            };
            r.response_templates
                .insert("application/json".into(), module_template(template));
            integration.integration_responses.insert(status.into(), r);
        }
        let mut method = Method {
            http_method: "POST".into(),
            authorization_type: Some("NONE".into()),
            request_validator_id: Some("v1".into()),
            method_integration: Some(integration),
            ..Method::default()
        };
        method
            .request_models
            .insert("application/json".into(), model.into());
        api.resources.push(resource(path, method));
    }

    // Lambda proxy with API key (pattern 4's RideApi shape).
    api.resources.push(resource(
        "/rides/{id}",
        Method {
            http_method: "GET".into(),
            authorization_type: Some("NONE".into()),
            api_key_required: true,
            method_integration: Some(Integration {
                integration_type: "AWS_PROXY".into(),
                uri: Some("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:fare/invocations".into()),
                ..Integration::default()
            }),
            ..Method::default()
        },
    ));
    api.resources.push(resource("/{proxy+}", {
        let mut m = mock_method("NONE");
        m.http_method = "ANY".into();
        m
    }));
    api.resources.push(resource("/iam", mock_method("AWS_IAM")));
    api.authorizers.insert(
        "au2".into(),
        Authorizer {
            id: "au2".into(),
            name: "token".into(),
            authorizer_type: "TOKEN".into(),
            identity_source: Some("method.request.header.X-Token".into()),
            authorizer_uri: Some("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:auth/invocations".into()),
            identity_validation_expression: Some("[a-z]+".into()),
            ..Authorizer::default()
        },
    );
    api.resources.push(resource("/custom", {
        let mut m = mock_method("CUSTOM");
        m.authorizer_id = Some("au2".into());
        m
    }));
    api.resources.push(resource("/cognito", {
        let mut m = mock_method("COGNITO_USER_POOLS");
        m.authorizer_id = Some("au1".into());
        m
    }));

    let plan = |id: &str, key: &str, rate: f64, burst: i64| UsagePlan {
        id: id.into(),
        name: id.into(),
        api_stages: vec![UsagePlanStage {
            api_id: API.into(),
            stage: "prod".into(),
            ..UsagePlanStage::default()
        }],
        throttle: Some(Throttle {
            rate_limit: Some(rate),
            burst_limit: Some(burst),
        }),
        quota: None,
        key_ids: vec![key.into()],
    };
    Deployment {
        apis: vec![api],
        api_keys: vec![
            ApiKey {
                id: "k1".into(),
                name: "ride".into(),
                value: "ride-key".into(),
                enabled: true,
            },
            ApiKey {
                id: "k2".into(),
                name: "slow".into(),
                value: "slow-key".into(),
                enabled: true,
            },
        ],
        usage_plans: vec![plan("p1", "k1", 20.0, 100), plan("p2", "k2", 0.001, 1)],
    }
}

fn resource(path: &str, method: Method) -> Resource {
    let mut r = Resource {
        id: format!("r{}", path.len()),
        path: path.into(),
        methods: BTreeMap::new(),
    };
    r.methods.insert(method.http_method.clone(), method);
    r
}

/// A MOCK integration echoing the authorizer's view: `{"sub": …, "accessKey": …, "ip": …}`.
fn mock_method(auth: &str) -> Method {
    let mut integration = Integration {
        integration_type: "MOCK".into(),
        ..Integration::default()
    };
    integration
        .request_templates
        .insert("application/json".into(), r#"{"statusCode": 200}"#.into());
    let mut ok = IntegrationResponse {
        status_code: "200".into(),
        ..IntegrationResponse::default()
    };
    ok.response_templates.insert(
        "application/json".into(),
        r#"{"sub": "$!context.authorizer.claims.sub", "accessKey": "$context.identity.accessKey", "ip": "$context.identity.sourceIp", "path": "$context.resourcePath", "proxy": "$input.params('proxy')", "rid": "$context.requestId", "principal": "$!context.authorizer.principalId", "tier": "$!context.authorizer.tier"}"#.into(),
    );
    ok.response_parameters
        .insert("method.response.header.X-Static".into(), "'yes'".into());
    integration.integration_responses.insert("200".into(), ok);
    Method {
        http_method: "POST".into(),
        authorization_type: Some(auth.into()),
        method_integration: Some(integration),
        ..Method::default()
    }
}

/// A stand-in for Kinesis: records what it receives; `PartitionKey` `throttle-me` gets the
/// throughput error and `boom` an internal failure.
#[derive(Clone, Default)]
struct FakeKinesis {
    seen: Arc<Mutex<Vec<(String, String, Value)>>>,
}

async fn fake_kinesis() -> (String, FakeKinesis) {
    let state = FakeKinesis::default();
    let s = state.clone();
    let app = axum::Router::new().fallback(move |req: Request<Body>| {
        let s = s.clone();
        async move {
            let target = req.headers().get("x-amz-target").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
            let ct = req.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
            let signed = req.headers().get("authorization").is_some_and(|v| v.to_str().unwrap().starts_with("AWS4-HMAC-SHA256"));
            let body: Value = serde_json::from_slice(&req.into_body().collect().await.unwrap().to_bytes()).unwrap();
            s.seen.lock().unwrap().push((target.clone(), ct, json!({"signed": signed, "body": body.clone()})));
            let pk = body["PartitionKey"].as_str().unwrap_or_default();
            let (status, out) = match (target.as_str(), pk) {
                (_, "throttle-me") => (400, json!({"__type": "ProvisionedThroughputExceededException", "message": "Rate exceeded for shard shardId-000000000000"})),
                (_, "boom") => (500, json!({"__type": "InternalFailure"})),
                ("Kinesis_20131202.PutRecords", _) => {
                    let n = body["Records"].as_array().map(Vec::len).unwrap_or(0);
                    (200, json!({"FailedRecordCount": 0, "Records": (0..n).map(|i| json!({"SequenceNumber": i.to_string(), "ShardId": "shardId-000000000000"})).collect::<Vec<_>>()}))
                }
                _ => (200, json!({"SequenceNumber": "4960", "ShardId": "shardId-000000000001"})),
            };
            (StatusCode::from_u16(status).unwrap(), [("content-type", "application/x-amz-json-1.1")], out.to_string())
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), state)
}

/// A stand-in for the Runtime API host: records payloads; answers by the path parameter `id`.
#[derive(Default)]
struct FakeInvoker {
    seen: Mutex<Vec<(String, Value)>>,
}

impl LambdaInvoker for FakeInvoker {
    fn invoke<'a>(
        &'a self,
        function: &'a str,
        payload: Bytes,
    ) -> BoxFuture<'a, Result<InvokeResult, String>> {
        Box::pin(async move {
            let event: Value = serde_json::from_slice(&payload).unwrap();
            self.seen
                .lock()
                .unwrap()
                .push((function.to_owned(), event.clone()));
            if event["type"] == "TOKEN" {
                assert_eq!(
                    function,
                    "arn:aws:lambda:us-east-1:123456789012:function:auth"
                );
                let policy = |effect: &str| json!({"principalId": "p-1", "context": {"tier": "gold"}, "policyDocument": {"Version": "2012-10-17", "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": format!("arn:aws:execute-api:us-east-1:123456789012:{API}/prod/*")}]}});
                return Ok(match event["authorizationToken"].as_str().unwrap() {
                    "allow" => InvokeResult::Ok(Bytes::from(policy("Allow").to_string())),
                    "deny" => InvokeResult::Ok(Bytes::from(policy("Deny").to_string())),
                    "unauth" => InvokeResult::Error(FunctionError::new("Error", "Unauthorized")),
                    _ => InvokeResult::Ok(Bytes::from_static(b"{}")),
                });
            }
            let id = event["pathParameters"]["id"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            Ok(match id.as_str() {
                "fail" => InvokeResult::Error(FunctionError::new("Error", "boom")),
                "malformed" => InvokeResult::Ok(Bytes::from_static(br#"{"body": {"not": "a string"}}"#)),
                "slow" => {
                    tokio::time::sleep(std::time::Duration::from_secs(60)).await;
                    InvokeResult::Ok(Bytes::new())
                }
                "unknown" => return Err("function not found".to_owned()),
                _ => InvokeResult::Ok(Bytes::from(
                    json!({"statusCode": 200, "headers": {"content-type": "application/json", "x-fare": "1"}, "body": json!({"ride_request_id": id}).to_string()}).to_string(),
                )),
            })
        })
    }
}

struct Harness {
    executor: Executor,
    router: axum::Router,
    kinesis: FakeKinesis,
    invoker: Arc<FakeInvoker>,
}

async fn harness_with(deployment: Deployment) -> Harness {
    let (endpoint, kinesis) = fake_kinesis().await;
    let creds = aws_credential_types::Credentials::new("AKIDTEST", "secret", None, None, "test");
    let invoker = Arc::new(FakeInvoker::default());
    let executor = Executor::builder(deployment)
        .backend(AwsBackend::new(
            endpoint,
            Some(aws_credential_types::provider::SharedCredentialsProvider::new(creds)),
        ))
        .invoker(invoker.clone())
        .build();
    Harness {
        router: router(executor.clone()),
        executor,
        kinesis,
        invoker,
    }
}

async fn harness() -> Harness {
    harness_with(deployment()).await
}

struct Reply {
    status: StatusCode,
    headers: http::HeaderMap,
    body: Value,
    raw: Bytes,
}

impl Harness {
    async fn send(&self, req: Request<Body>) -> Reply {
        let resp = self.router.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let raw = resp.into_body().collect().await.unwrap().to_bytes();
        let body = serde_json::from_slice(&raw).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            body,
            raw,
        }
    }

    async fn post(&self, path: &str, body: &str) -> Reply {
        self.send(
            Request::post(format!("/restapis/{API}/prod/_user_request_{path}"))
                .header("content-type", "application/json")
                .body(Body::from(body.to_owned()))
                .unwrap(),
        )
        .await
    }
}

fn assert_gateway(r: &Reply, status: u16, message: &str) {
    assert_eq!(
        r.status.as_u16(),
        status,
        "{}",
        String::from_utf8_lossy(&r.raw)
    );
    assert_eq!(r.body, json!({"message": message}));
    assert!(r.headers.contains_key("x-amzn-errortype"));
}

#[tokio::test]
async fn put_record_goes_to_kinesis_and_maps_the_response() {
    let h = harness().await;
    let r = h
        .post("/record", r#"{"data": "hello", "partitionKey": "pk-1"}"#)
        .await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&r.raw)
    );
    assert_eq!(
        r.body,
        json!({"SequenceNumber": "4960", "ShardId": "shardId-000000000001"})
    );
    assert_eq!(r.headers["content-type"], "application/json");
    let request_id = r.headers["x-amzn-requestid"].to_str().unwrap();
    assert!(uuid::Uuid::parse_str(request_id).is_ok(), "{request_id}");
    let seen = h.kinesis.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    let (target, ct, req) = &seen[0];
    assert_eq!(target, "Kinesis_20131202.PutRecord");
    assert_eq!(ct, "application/x-amz-json-1.1");
    assert_eq!(req["signed"], json!(true));
    assert_eq!(
        req["body"],
        json!({"StreamName": "demo-stream", "Data": base64::engine::general_purpose::STANDARD.encode("hello"), "PartitionKey": "pk-1"})
    );
}

#[tokio::test]
async fn put_records_sends_every_record() {
    let h = harness().await;
    let r = h.post("/records", r#"{"records": [{"data": "a", "partitionKey": "1"}, {"data": "b", "partitionKey": "2"}]}"#).await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&r.raw)
    );
    assert_eq!(r.body["FailedRecordCount"], json!(0));
    assert_eq!(r.body["Records"].as_array().unwrap().len(), 2);
    let seen = h.kinesis.seen.lock().unwrap().clone();
    assert_eq!(seen[0].0, "Kinesis_20131202.PutRecords");
    assert_eq!(
        seen[0].2["body"]["Records"][1],
        json!({"Data": "Yg==", "PartitionKey": "2"})
    );
}

#[tokio::test]
async fn kinesis_errors_take_the_selection_patterns_and_overrides() {
    let h = harness().await;
    let r = h
        .post("/record", r#"{"data": "x", "partitionKey": "throttle-me"}"#)
        .await;
    assert_eq!(
        r.status,
        StatusCode::TOO_MANY_REQUESTS,
        "responseOverride.status from the 4xx template"
    );
    assert_eq!(
        r.body["type"],
        json!("ProvisionedThroughputExceededException")
    );
    assert_eq!(
        r.body["message"],
        json!("Rate exceeded for shard shardId-000000000000")
    );
    assert_eq!(
        r.body["requestId"].as_str(),
        r.headers["x-amzn-requestid"].to_str().ok()
    );
    let r = h
        .post("/record", r#"{"data": "x", "partitionKey": "boom"}"#)
        .await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(r.body["type"], json!("InternalFailure"));
}

#[tokio::test]
async fn invalid_bodies_never_reach_kinesis() {
    let h = harness().await;
    for bad in [
        r#"{"data": "x"}"#,
        r#"{"data": 1, "partitionKey": "k"}"#,
        r#"{"data": "x", "partitionKey": ""}"#,
        "{not json",
        "",
    ] {
        let r = h.post("/record", bad).await;
        assert_gateway(&r, 400, "Invalid request body");
    }
    for bad in [
        r#"{"records": []}"#,
        r#"{"records": [{"data": "x"}]}"#,
        r#"{"records": {}}"#,
    ] {
        assert_gateway(&h.post("/records", bad).await, 400, "Invalid request body");
    }
    // passthrough NEVER and no template for text/plain.
    let r = h
        .send(
            Request::post(format!("/restapis/{API}/prod/_user_request_/record"))
                .header("content-type", "text/plain")
                .body(Body::from("hi"))
                .unwrap(),
        )
        .await;
    assert_gateway(&r, 415, "Unsupported Media Type");
    assert!(h.kinesis.seen.lock().unwrap().is_empty());
}

#[tokio::test]
async fn unknown_routes_and_stages() {
    // Without the greedy `/{proxy+}` catch-all.
    let mut d = deployment();
    d.apis[0].resources.retain(|r| r.path != "/{proxy+}");
    let h = harness_with(d).await;
    let get = |uri: String| Request::get(uri).body(Body::empty()).unwrap();
    assert_gateway(
        &h.send(get(format!("/restapis/{API}/prod/_user_request_/record")))
            .await,
        403,
        "Missing Authentication Token",
    );
    assert_gateway(
        &h.send(get(format!("/restapis/{API}/prod/_user_request_/rides")))
            .await,
        403,
        "Missing Authentication Token",
    );
    assert_gateway(
        &h.send(get(format!("/restapis/{API}/nope/_user_request_/record")))
            .await,
        403,
        "Forbidden",
    );
    assert_gateway(
        &h.send(get("/restapis/zzz/prod/_user_request_/record".into()))
            .await,
        404,
        "Not Found",
    );
    assert_gateway(&h.send(get("/elsewhere".into())).await, 404, "Not Found");
}

#[tokio::test]
async fn host_based_addressing_and_greedy_any() {
    let h = harness().await;
    let r = h
        .send(
            Request::delete("/prod/a/b%20c")
                .header("host", format!("{API}.execute-api.localhost:4567"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&r.raw)
    );
    assert_eq!(r.body["path"], json!("/{proxy+}"));
    // Path parameters are passed on as sent, as API Gateway does (not percent-decoded).
    assert_eq!(r.body["proxy"], json!("a/b%20c"));
    assert_eq!(r.body["ip"], json!("127.0.0.1"));
    assert_eq!(r.headers["x-static"], "yes");
    assert_eq!(
        r.body["rid"].as_str(),
        r.headers["x-amzn-requestid"].to_str().ok()
    );
}

#[tokio::test]
async fn stage_method_throttling_gives_429() {
    let h = harness().await;
    let body = r#"{"data": "x", "partitionKey": "k"}"#;
    assert_eq!(h.post("/throttled", body).await.status, StatusCode::OK);
    assert_eq!(h.post("/throttled", body).await.status, StatusCode::OK);
    assert_gateway(&h.post("/throttled", body).await, 429, "Too Many Requests");
    // Other methods have their own buckets.
    assert_eq!(h.post("/record", body).await.status, StatusCode::OK);
}

fn ride(id: &str, key: Option<&str>) -> Request<Body> {
    let mut b = Request::get(format!(
        "/restapis/{API}/prod/_user_request_/rides/{id}?ride_request_id=1&ride_request_id=2"
    ));
    if let Some(k) = key {
        b = b.header("x-api-key", k);
    }
    b.body(Body::empty()).unwrap()
}

#[tokio::test]
async fn lambda_proxy_event_and_response() {
    let h = harness().await;
    let r = h.send(ride("42", Some("ride-key"))).await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&r.raw)
    );
    assert_eq!(r.body, json!({"ride_request_id": "42"}));
    assert_eq!(r.headers["x-fare"], "1");
    let seen = h.invoker.seen.lock().unwrap().clone();
    let (function, event) = &seen[0];
    assert_eq!(
        function,
        "arn:aws:lambda:us-east-1:123456789012:function:fare"
    );
    assert_eq!(event["resource"], json!("/rides/{id}"));
    assert_eq!(event["path"], json!("/rides/42"));
    assert_eq!(event["httpMethod"], json!("GET"));
    assert_eq!(event["pathParameters"], json!({"id": "42"}));
    assert_eq!(
        event["queryStringParameters"],
        json!({"ride_request_id": "2"})
    );
    assert_eq!(
        event["multiValueQueryStringParameters"],
        json!({"ride_request_id": ["1", "2"]})
    );
    assert_eq!(event["headers"]["X-Api-Key"], json!("ride-key"));
    assert_eq!(event["body"], Value::Null);
    assert_eq!(event["isBase64Encoded"], json!(false));
    let rc = &event["requestContext"];
    assert_eq!(rc["apiId"], json!(API));
    assert_eq!(rc["stage"], json!("prod"));
    assert_eq!(rc["resourcePath"], json!("/rides/{id}"));
    assert_eq!(rc["path"], json!("/prod/rides/42"));
    assert_eq!(rc["httpMethod"], json!("GET"));
    assert_eq!(rc["accountId"], json!("123456789012"));
    assert_eq!(rc["protocol"], json!("HTTP/1.1"));
    assert_eq!(rc["identity"]["sourceIp"], json!("127.0.0.1"));
    assert_eq!(rc["identity"]["apiKey"], json!("ride-key"));
    assert_eq!(rc["identity"]["apiKeyId"], json!("k1"));
    assert_eq!(rc["identity"]["userArn"], Value::Null);
    assert_eq!(
        rc["requestId"].as_str(),
        r.headers["x-amzn-requestid"].to_str().ok()
    );
    assert!(rc["requestTimeEpoch"].as_i64().unwrap() > 1_600_000_000_000);
}

#[tokio::test]
async fn lambda_proxy_failures() {
    let h = harness().await;
    assert_gateway(
        &h.send(ride("fail", Some("ride-key"))).await,
        502,
        "Internal server error",
    );
    assert_gateway(
        &h.send(ride("malformed", Some("ride-key"))).await,
        502,
        "Internal server error",
    );
    assert_gateway(
        &h.send(ride("unknown", Some("ride-key"))).await,
        500,
        "Internal server error",
    );
}

#[tokio::test]
async fn lambda_proxy_timeout_is_504() {
    let mut d = deployment();
    for r in &mut d.apis[0].resources {
        for m in r.methods.values_mut() {
            if let Some(i) = &mut m.method_integration {
                i.timeout_in_millis = Some(50);
            }
        }
    }
    let h = harness_with(d).await;
    assert_gateway(
        &h.send(ride("slow", Some("ride-key"))).await,
        504,
        "Endpoint request timed out",
    );
}

#[tokio::test]
async fn api_keys_and_usage_plan_throttles() {
    let h = harness().await;
    assert_gateway(&h.send(ride("1", None)).await, 403, "Forbidden");
    assert_gateway(&h.send(ride("1", Some("wrong"))).await, 403, "Forbidden");
    // `slow-key`'s plan allows a burst of 1 at 0.001 requests per second.
    assert_eq!(
        h.send(ride("1", Some("slow-key"))).await.status,
        StatusCode::OK
    );
    assert_gateway(
        &h.send(ride("1", Some("slow-key"))).await,
        429,
        "Too Many Requests",
    );
    // Other keys are not affected.
    assert_eq!(
        h.send(ride("1", Some("ride-key"))).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn iam_and_cognito_authorization() {
    let h = harness().await;
    let post = |path: &str, headers: &[(&str, String)]| {
        let mut b = Request::post(format!("/restapis/{API}/prod/_user_request_{path}"))
            .header("content-type", "application/json");
        for (k, v) in headers {
            b = b.header(*k, v);
        }
        b.body(Body::from("{}")).unwrap()
    };
    assert_gateway(
        &h.send(post("/iam", &[])).await,
        403,
        "Missing Authentication Token",
    );
    let r = h
        .send(post("/iam", &[("authorization", "Basic abc".into())]))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(
        r.body["message"]
            .as_str()
            .unwrap()
            .contains("requires 'Credential' parameter")
    );
    let sig = "AWS4-HMAC-SHA256 Credential=AKIDLOCAL/20260101/us-east-1/execute-api/aws4_request, SignedHeaders=host;x-amz-date, Signature=00";
    let r = h
        .send(post(
            "/iam",
            &[
                ("authorization", sig.into()),
                ("x-amz-date", "20260101T000000Z".into()),
            ],
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["accessKey"], json!("AKIDLOCAL"));

    assert_gateway(&h.send(post("/cognito", &[])).await, 401, "Unauthorized");
    let b64 = |v: Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let iss = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Pool";
    let exp = chrono::Utc::now().timestamp() + 3600;
    let token = format!(
        "{}.{}.sig",
        b64(json!({"alg": "RS256"})),
        b64(json!({"sub": "user-1", "iss": iss, "exp": exp, "token_use": "id"}))
    );
    let r = h.send(post("/cognito", &[("authorization", token)])).await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&r.raw)
    );
    assert_eq!(r.body["sub"], json!("user-1"));
    let expired = format!(
        "{}.{}.sig",
        b64(json!({"alg": "RS256"})),
        b64(json!({"sub": "u", "iss": iss, "exp": 1}))
    );
    assert_gateway(
        &h.send(post("/cognito", &[("authorization", expired)]))
            .await,
        401,
        "The incoming token has expired",
    );
}

#[tokio::test]
async fn routes_and_stats() {
    let h = harness().await;
    let routes = h.executor.routes();
    let record = routes.iter().find(|r| r.path == "/record").unwrap();
    assert_eq!(
        (
            record.method.as_str(),
            record.stage.as_str(),
            record.integration.as_str()
        ),
        ("POST", "prod", "AWS")
    );
    assert_eq!(
        record.url("http://127.0.0.1:4567/"),
        format!("http://127.0.0.1:4567/restapis/{API}/prod/_user_request_/record")
    );
    assert_eq!(routes.len(), 8);
    h.post("/record", r#"{"data": "x", "partitionKey": "k"}"#)
        .await;
    h.post("/record", "{}").await;
    h.post("/record", r#"{"data": "x", "partitionKey": "boom"}"#)
        .await;
    h.post("/record", r#"{"data": "x", "partitionKey": "throttle-me"}"#)
        .await;
    assert_eq!(
        h.executor.stats(),
        ExecutorStats {
            requests: 4,
            ok: 1,
            client_errors: 2,
            server_errors: 1,
            throttled: 1
        }
    );
}

#[tokio::test]
async fn lambda_token_authorizer() {
    let h = harness().await;
    let post = |token: Option<&str>| {
        let mut b = Request::post(format!("/restapis/{API}/prod/_user_request_/custom"))
            .header("content-type", "application/json");
        if let Some(t) = token {
            b = b.header("x-token", t);
        }
        b.body(Body::from("{}")).unwrap()
    };
    let r = h.send(post(Some("allow"))).await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&r.raw)
    );
    assert_eq!(
        (r.body["principal"].as_str(), r.body["tier"].as_str()),
        (Some("p-1"), Some("gold"))
    );
    let event = h.invoker.seen.lock().unwrap()[0].1.clone();
    assert_eq!(
        event,
        json!({"type": "TOKEN", "authorizationToken": "allow", "methodArn": format!("arn:aws:execute-api:us-east-1:123456789012:{API}/prod/POST/custom")})
    );
    assert_gateway(&h.send(post(None)).await, 401, "Unauthorized");
    assert_gateway(&h.send(post(Some("NOT-VALID"))).await, 401, "Unauthorized");
    assert_gateway(&h.send(post(Some("unauth"))).await, 401, "Unauthorized");
    assert_gateway(
        &h.send(post(Some("deny"))).await,
        403,
        "User is not authorized to access this resource with an explicit deny",
    );
    let r = h.send(post(Some("broken"))).await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(r.body, json!({"message": null}));
}

/// A plain HTTP backend echoing what it got; `/prices/missing` is a 404.
async fn echo_backend() -> String {
    let app = axum::Router::new().fallback(|req: Request<Body>| async move {
        let (parts, body) = req.into_parts();
        let body = body.collect().await.unwrap().to_bytes();
        let status = if parts.uri.path() == "/prices/missing" {
            404
        } else {
            200
        };
        let echo = json!({
            "method": parts.method.as_str(),
            "path": parts.uri.path(),
            "query": parts.uri.query(),
            "custom": parts.headers.get("x-custom").map(|v| v.to_str().unwrap()),
            "body": String::from_utf8_lossy(&body),
        });
        (
            StatusCode::from_u16(status).unwrap(),
            [("content-type", "application/json"), ("x-backend", "echo")],
            echo.to_string(),
        )
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

#[tokio::test]
async fn http_and_http_proxy_integrations() {
    let backend = echo_backend().await;
    let mut d = deployment();
    let api = &mut d.apis[0];
    let mut proxy = Method {
        http_method: "ANY".into(),
        authorization_type: Some("NONE".into()),
        method_integration: Some(Integration {
            integration_type: "HTTP_PROXY".into(),
            http_method: Some("ANY".into()),
            uri: Some(format!("{backend}/svc/{{proxy}}")),
            ..Integration::default()
        }),
        ..Method::default()
    };
    proxy
        .method_integration
        .as_mut()
        .unwrap()
        .request_parameters
        .insert(
            "integration.request.path.proxy".into(),
            "method.request.path.proxy".into(),
        );
    api.resources.push(resource("/svc/{proxy+}", proxy));
    let mut http = Integration {
        integration_type: "HTTP".into(),
        http_method: Some("POST".into()),
        uri: Some(format!("{backend}/prices/{{id}}")),
        ..Integration::default()
    };
    http.request_parameters.insert(
        "integration.request.header.X-Custom".into(),
        "'from-gateway'".into(),
    );
    http.request_parameters.insert(
        "integration.request.querystring.currency".into(),
        "'EUR'".into(),
    );
    http.request_templates.insert(
        "application/json".into(),
        r#"{"wanted": "$input.params('id')"}"#.into(),
    );
    let mut ok = IntegrationResponse {
        status_code: "200".into(),
        ..IntegrationResponse::default()
    };
    ok.response_templates.insert(
        "application/json".into(),
        r#"{"seen": $input.json('$')}"#.into(),
    );
    ok.response_parameters.insert(
        "method.response.header.X-Backend".into(),
        "integration.response.header.x-backend".into(),
    );
    ok.response_parameters.insert(
        "method.response.header.X-Path".into(),
        "integration.response.body.path".into(),
    );
    let mut missing = IntegrationResponse {
        status_code: "404".into(),
        selection_pattern: Some("404".into()),
        ..IntegrationResponse::default()
    };
    missing.response_templates.insert(
        "application/json".into(),
        r#"{"message": "no such price"}"#.into(),
    );
    http.integration_responses.insert("200".into(), ok);
    http.integration_responses.insert("404".into(), missing);
    api.resources.push(resource(
        "/price/{id}",
        Method {
            http_method: "GET".into(),
            authorization_type: Some("NONE".into()),
            method_integration: Some(http),
            ..Method::default()
        },
    ));
    let h = harness_with(d).await;

    let r = h
        .send(
            Request::put(format!(
                "/restapis/{API}/prod/_user_request_/svc/a/b?x=1&x=2"
            ))
            .header("x-custom", "client")
            .body(Body::from("payload"))
            .unwrap(),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&r.raw)
    );
    assert_eq!(r.headers["x-backend"], "echo");
    assert_eq!(
        r.body,
        json!({"method": "PUT", "path": "/svc/a/b", "query": "x=1&x=2", "custom": "client", "body": "payload"})
    );

    let get = |id: &str| {
        Request::get(format!("/restapis/{API}/prod/_user_request_/price/{id}"))
            .body(Body::empty())
            .unwrap()
    };
    let r = h.send(get("p7")).await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&r.raw)
    );
    assert_eq!(
        r.body["seen"],
        json!({"method": "POST", "path": "/prices/p7", "query": "currency=EUR", "custom": "from-gateway", "body": "{\"wanted\": \"p7\"}"})
    );
    assert_eq!(r.headers["x-backend"], "echo");
    assert_eq!(r.headers["x-path"], "/prices/p7");
    let r = h.send(get("missing")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.body, json!({"message": "no such price"}));
}
