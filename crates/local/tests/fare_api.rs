//! Pattern 4's fare API served by the whole data plane: a REST API created in the emulator
//! through the SDK (GET /predictFare, `AWS_IAM`, API key required, Lambda proxy to the real
//! `fare-api` binary), API keys in usage plans, the key read back from an SSM SecureString, and
//! calls made as the enrichment consumer makes them: SigV4-signed for
//! `https://{api}.execute-api.{region}.amazonaws.com/prod/predictFare`, sent to the base URL the
//! data plane puts in every function's `AWS_ENDPOINT_URL_EXECUTE_API`, with the original `Host`.
//!
//! Needs the emulator: run by scripts/test-e2e.sh (`cargo test -- --ignored`).

use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use aws_credential_types::Credentials;
use aws_credential_types::provider::ProvideCredentials as _;
use aws_sdk_apigateway::types::{ApiStage, IntegrationType, QuotaSettings, ThrottleSettings};
use aws_sdk_ssm::types::ParameterType;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use kstream_local::dataplane::{DataPlane, EXECUTE_API_ENDPOINT_VAR};
use kstream_local::lambda::deployed::BinaryResolver;
use kstream_local::lambda::runtime::InvokeResult;
use kstream_local_testkit::{Emulator, emulator, test_fn};
use serde_json::{Value, json};
use tokio::sync::oneshot;

const REGION: &str = "us-east-1";

/// The fare API built for this machine (the debug build the test tiers share).
fn fare_api_binary() -> PathBuf {
    if let Ok(p) = std::env::var("KSTREAM_FARE_API") {
        return PathBuf::from(p);
    }
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let p = target.join("debug").join("fare-api");
    assert!(
        p.exists(),
        "{} is not built: run `cargo test --workspace --no-run` (or set KSTREAM_FARE_API)",
        p.display()
    );
    p
}

/// The API's id and its keys' values: `main` (plan: rate 50, burst 50, quota 5 a day) and
/// `tight` (plan: burst 2, refilled at 0.01/s).
struct Api {
    id: String,
    main_key: String,
    tight_key: String,
}

/// `GET /<path>`: `AWS_IAM`, API key required, Lambda proxy to `function_arn`.
async fn get_method(
    gw: &aws_sdk_apigateway::Client,
    api: &str,
    parent: &str,
    path: &str,
    arn: &str,
) {
    let resource = gw
        .create_resource()
        .rest_api_id(api)
        .parent_id(parent)
        .path_part(path)
        .send()
        .await
        .unwrap()
        .id()
        .unwrap()
        .to_owned();
    gw.put_method()
        .rest_api_id(api)
        .resource_id(&resource)
        .http_method("GET")
        .authorization_type("AWS_IAM")
        .api_key_required(true)
        .send()
        .await
        .unwrap();
    gw.put_integration()
        .rest_api_id(api)
        .resource_id(&resource)
        .http_method("GET")
        .r#type(IntegrationType::AwsProxy)
        .integration_http_method("POST")
        .uri(format!(
            "arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{arn}/invocations"
        ))
        .send()
        .await
        .unwrap();
}

/// A usage plan for `api`'s `prod` stage with one new key in it; returns the key's value (the
/// one API Gateway generated).
async fn keyed_plan(
    gw: &aws_sdk_apigateway::Client,
    api: &str,
    name: &str,
    throttle: ThrottleSettings,
    quota: Option<QuotaSettings>,
) -> String {
    let plan = gw
        .create_usage_plan()
        .name(format!("{api}-{name}"))
        .api_stages(ApiStage::builder().api_id(api).stage("prod").build())
        .throttle(throttle)
        .set_quota(quota)
        .send()
        .await
        .unwrap()
        .id()
        .unwrap()
        .to_owned();
    let key = gw
        .create_api_key()
        .name(format!("{api}-{name}"))
        .enabled(true)
        .send()
        .await
        .unwrap();
    gw.create_usage_plan_key()
        .usage_plan_id(&plan)
        .key_id(key.id().unwrap())
        .key_type("API_KEY")
        .send()
        .await
        .unwrap();
    key.value()
        .expect("API Gateway generates the value")
        .to_owned()
}

/// Pattern 4's API: `/predictFare` to `fare_arn`, `/broken` and `/slow` to the other two.
async fn create_api(emu: &Emulator, fare_arn: &str, broken_arn: &str, slow_arn: &str) -> Api {
    let gw = aws_sdk_apigateway::Client::new(&emu.sdk);
    let api = gw
        .create_rest_api()
        .name(format!("{}-fare-api", emu.prefix))
        .send()
        .await
        .unwrap();
    let id = api.id().unwrap().to_owned();
    let root = gw
        .get_resources()
        .rest_api_id(&id)
        .send()
        .await
        .unwrap()
        .items()
        .iter()
        .find(|r| r.path() == Some("/"))
        .and_then(|r| r.id())
        .unwrap()
        .to_owned();
    get_method(&gw, &id, &root, "predictFare", fare_arn).await;
    get_method(&gw, &id, &root, "broken", broken_arn).await;
    get_method(&gw, &id, &root, "slow", slow_arn).await;
    gw.create_deployment()
        .rest_api_id(&id)
        .stage_name("prod")
        .send()
        .await
        .unwrap();
    let main_key = keyed_plan(
        &gw,
        &id,
        "main",
        ThrottleSettings::builder()
            .rate_limit(50.0)
            .burst_limit(50)
            .build(),
        Some(
            QuotaSettings::builder()
                .limit(5)
                .period(aws_sdk_apigateway::types::QuotaPeriodType::Day)
                .build(),
        ),
    )
    .await;
    let tight_key = keyed_plan(
        &gw,
        &id,
        "tight",
        ThrottleSettings::builder()
            .rate_limit(0.01)
            .burst_limit(2)
            .build(),
        None,
    )
    .await;
    Api {
        id,
        main_key,
        tight_key,
    }
}

/// What the enrichment consumer does: sign `GET https://{api}.execute-api.{region}.amazonaws.com{path_and_query}`
/// with `credentials` (with `x-api-key` among the signed headers, when given) and send it to
/// `endpoint` with the same path and `Host`. No credentials: no `Authorization`.
async fn call(
    credentials: Option<&Credentials>,
    endpoint: &str,
    api: &str,
    path_and_query: &str,
    key: Option<&str>,
) -> (u16, String, String) {
    let host = format!("{api}.execute-api.{REGION}.amazonaws.com");
    let mut req = http::Request::builder()
        .method("GET")
        .uri(format!("https://{host}{path_and_query}"))
        .header("host", &host);
    if let Some(key) = key {
        req = req.header("x-api-key", key);
    }
    let mut req = req.body(Full::new(Bytes::new())).unwrap();
    if let Some(credentials) = credentials {
        let identity = credentials.clone().into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(REGION)
            .name("execute-api")
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .unwrap()
            .into();
        let url = req.uri().to_string();
        let headers: Vec<(String, String)> = req
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap().to_owned()))
            .collect();
        let signable = SignableRequest::new(
            "GET",
            url.as_str(),
            headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            SignableBody::Bytes(b""),
        )
        .unwrap();
        let (instructions, _) = sign(signable, &params).unwrap().into_parts();
        instructions.apply_to_request_http1x(&mut req);
    }
    // Same path, same Host, the local base URL.
    *req.uri_mut() = format!("{endpoint}{path_and_query}").parse().unwrap();
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let resp = client.request(req).await.unwrap();
    let status = resp.status().as_u16();
    let content_type = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        content_type,
        String::from_utf8(body.to_vec()).unwrap(),
    )
}

/// The pid of the running process of `function` (its environment names it), if any.
fn process_of(function: &str) -> Option<u32> {
    let needle = format!("AWS_LAMBDA_FUNCTION_NAME={function}");
    std::fs::read_dir("/proc")
        .ok()?
        .flatten()
        .find_map(|entry| {
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let environ = std::fs::read(entry.path().join("environ")).ok()?;
            environ
                .split(|b| *b == 0)
                .any(|var| var == needle.as_bytes())
                .then_some(pid)
        })
}

#[tokio::test]
#[ignore = "needs the emulator (scripts/test-e2e.sh)"]
async fn the_fare_api_behind_iam_an_api_key_and_usage_plans() {
    let emu = emulator().await;
    let dir = tempfile::tempdir().unwrap();
    let role = emu.role().await;
    let fare = format!("{}-fare-api", emu.prefix);
    let broken = format!("{}-fare-broken", emu.prefix);
    let slow = format!("{}-fare-slow", emu.prefix);
    let probe = format!("{}-probe", emu.prefix);
    let fare_arn = emu.function(&fare, &role, 10, &[]).await;
    // The same binary with a FARE_FAULTS it refuses: every cold start fails.
    let broken_arn = emu
        .function(&broken, &role, 10, &[("FARE_FAULTS", "bogus=1".into())])
        .await;
    // Slow enough to be killed mid-invocation.
    let slow_arn = emu
        .function(
            &slow,
            &role,
            10,
            &[("FARE_FAULTS", "slow_rate=1,slow_ms=8000".into())],
        )
        .await;
    // The test function reports its environment.
    emu.function(&probe, &role, 10, &[]).await;
    let api = create_api(&emu, &fare_arn, &broken_arn, &slow_arn).await;

    // The key as the consumer gets it: an SSM SecureString, decrypted.
    let ssm = aws_sdk_ssm::Client::new(&emu.sdk);
    let parameter = format!("/{}/fare-api/api-key", emu.prefix);
    ssm.put_parameter()
        .name(&parameter)
        .r#type(ParameterType::SecureString)
        .value(&api.main_key)
        .send()
        .await
        .unwrap();
    let stored = ssm
        .get_parameter()
        .name(&parameter)
        .with_decryption(true)
        .send()
        .await
        .unwrap();
    let stored = stored.parameter().unwrap();
    assert_eq!(stored.r#type(), Some(&ParameterType::SecureString));
    let key = stored.value().unwrap().to_owned();
    assert_eq!(key, api.main_key);

    let binary = fare_api_binary();
    let plane = DataPlane::builder()
        .name_prefix(format!("{}-", emu.prefix))
        .state_dir(dir.path().join("state"))
        .binaries(
            BinaryResolver::default()
                .binary(&fare, &binary)
                .binary(&broken, &binary)
                .binary(&slow, &binary)
                .binary(&probe, test_fn()),
        )
        .api_addr("127.0.0.1:0".parse().unwrap())
        .start(&emu.sdk)
        .await
        .unwrap();
    let address = plane.api_address().unwrap().to_owned();
    let host = plane.host().clone();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(plane.run(async {
        let _ = stopped.await;
    }));

    // Every function gets the executor's base URL.
    let outcome = host
        .invoke(
            &probe,
            format!(r#"{{"env": "{EXECUTE_API_ENDPOINT_VAR}"}}"#),
        )
        .await
        .unwrap();
    let InvokeResult::Ok(payload) = outcome.result else {
        panic!("{outcome:?}")
    };
    let endpoint: String = serde_json::from_slice(&payload).unwrap();
    assert_eq!(endpoint, format!("http://{address}"));

    // The credentials the data plane was started with (from the environment, as the SDK's).
    let creds = emu
        .sdk
        .credentials_provider()
        .unwrap()
        .provide_credentials()
        .await
        .unwrap();
    let id = api.id.as_str();
    let fare_of_123 = r#"{"ride_request_id":123,"expected_fare":38.518104367585856}"#;
    let forbidden = r#"{"message":"Forbidden"}"#;
    let json_of = |body: &str| serde_json::from_str::<Value>(body).unwrap();

    // Key + SigV4: the fare, byte for byte (quota 1 of 5).
    let q = "/prod/predictFare?ride_request_id=123";
    assert_eq!(
        call(Some(&creds), &endpoint, id, q, Some(&key)).await,
        (200, "application/json".into(), fare_of_123.into())
    );
    // Signed, no key / an unknown key: 403 Forbidden (not counted).
    for bad in [None, Some("not-a-key-0123456789012345")] {
        let (status, _, body) = call(Some(&creds), &endpoint, id, q, bad).await;
        assert_eq!((status, body.as_str()), (403, forbidden), "{bad:?}");
    }
    // Signed with a wrong secret, or with an access key the data plane does not have: 403.
    let wrong_secret = Credentials::new(
        creds.access_key_id(),
        "not-the-secret",
        creds.session_token().map(str::to_owned),
        None,
        "test",
    );
    let (status, _, body) = call(Some(&wrong_secret), &endpoint, id, q, Some(&key)).await;
    assert_eq!(status, 403, "{body}");
    assert!(
        json_of(&body)["message"]
            .as_str()
            .unwrap()
            .starts_with("The request signature we calculated does not match"),
        "{body}"
    );
    let other_key = Credentials::new("AKIAOTHEREXAMPLE0000", "secret", None, None, "test");
    let (status, _, body) = call(Some(&other_key), &endpoint, id, q, Some(&key)).await;
    assert_eq!(
        (status, json_of(&body)),
        (
            403,
            json!({"message": "The security token included in the request is invalid."})
        )
    );
    // Key, no Authorization: 403 Missing Authentication Token.
    let (status, _, body) = call(None, &endpoint, id, q, Some(&key)).await;
    assert_eq!(status, 403);
    assert_eq!(
        json_of(&body),
        json!({"message": "Missing Authentication Token"})
    );
    // The function's own 400 passes through (quota 2 and 3).
    for q in ["/prod/predictFare", "/prod/predictFare?ride_request_id=abc"] {
        assert_eq!(
            call(Some(&creds), &endpoint, id, q, Some(&key)).await,
            (400, "text/plain".into(), "Missing ride_request_id".into()),
            "{q}"
        );
    }
    // A function that cannot start: 502 (quota 4).
    let (status, _, body) = call(Some(&creds), &endpoint, id, "/prod/broken", Some(&key)).await;
    assert_eq!(
        (status, json_of(&body)),
        (502, json!({"message": "Internal server error"}))
    );
    // A function process killed mid-invocation: 502 (quota 5).
    let pending = {
        let (creds, endpoint, id, key) =
            (creds.clone(), endpoint.clone(), id.to_owned(), key.clone());
        tokio::spawn(async move {
            call(
                Some(&creds),
                &endpoint,
                &id,
                "/prod/slow?ride_request_id=1",
                Some(&key),
            )
            .await
        })
    };
    let deadline = Instant::now() + Duration::from_secs(5);
    let pid = loop {
        if let Some(pid) = process_of(&slow) {
            break pid;
        }
        assert!(Instant::now() < deadline, "the slow function never started");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    // Let it take the invocation (it sleeps 8 s in it), then kill it.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let killed = std::process::Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let (status, _, body) = tokio::time::timeout(Duration::from_secs(5), pending)
        .await
        .expect("the killed invocation answers at once")
        .unwrap();
    assert_eq!(
        (status, json_of(&body)),
        (502, json!({"message": "Internal server error"}))
    );
    // Past the quota of 5 a day: 429 Limit Exceeded, with a key that worked before.
    let (status, _, body) = call(Some(&creds), &endpoint, id, q, Some(&key)).await;
    assert_eq!(
        (status, json_of(&body)),
        (429, json!({"message": "Limit Exceeded"}))
    );

    // The tight plan: its burst of 2, then 429 Too Many Requests.
    let q20 = "/prod/predictFare?ride_request_id=20";
    let tight = api.tight_key.as_str();
    for _ in 0..2 {
        assert_eq!(
            call(Some(&creds), &endpoint, id, q20, Some(tight)).await,
            (
                200,
                "application/json".into(),
                r#"{"ride_request_id":20,"expected_fare":40.68894898991148}"#.into()
            )
        );
    }
    let (status, _, body) = call(Some(&creds), &endpoint, id, q20, Some(tight)).await;
    assert_eq!(
        (status, json_of(&body)),
        (429, json!({"message": "Too Many Requests"}))
    );

    let _ = stop.send(());
    task.await.unwrap().unwrap();
}
