//! Lambda's Invoke API served for the host's functions, called with the real AWS SDK client
//! (which reads the answers as it reads Lambda's) and the real `kstream-test-fn` binary.

use std::time::Duration;

use aws_sdk_lambda::error::ProvideErrorMetadata as _;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::InvocationType;
use kstream_local_lambda::invoke_api;
use kstream_local_lambda::runtime::{FunctionHost, FunctionSpec};
use serde_json::{Value, json};

use kstream_local_testkit::test_fn;

const ARN_PREFIX: &str = "arn:aws:lambda:us-east-1:123456789012:function:";

struct Served {
    host: FunctionHost,
    client: aws_sdk_lambda::Client,
    direct: std::path::PathBuf,
    stop: tokio::sync::oneshot::Sender<()>,
    _dir: tempfile::TempDir,
}

/// `kstream-test-fn` registered as `fn`, the Invoke API on a free port, no emulator behind it.
async fn served() -> Served {
    let dir = tempfile::tempdir().unwrap();
    let direct = dir.path().join("direct.jsonl");
    let host = FunctionHost::builder()
        .log_dir(dir.path().join("logs"))
        .build();
    let mut spec = FunctionSpec::new("fn", test_fn());
    spec.arn = format!("{ARN_PREFIX}fn");
    spec.timeout = Duration::from_secs(5);
    spec.environment.insert(
        "KSTREAM_TEST_FN_DIRECT".into(),
        direct.display().to_string(),
    );
    host.register(spec);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(invoke_api::serve(
        listener,
        host.clone(),
        None,
        async move {
            let _ = stopped.await;
        },
    ));
    let config = aws_sdk_lambda::Config::builder()
        .behavior_version(aws_sdk_lambda::config::BehaviorVersion::latest())
        .region(aws_sdk_lambda::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_lambda::config::Credentials::new(
            "test", "test", None, None, "test",
        ))
        .endpoint_url(format!("http://{addr}"))
        .build();
    Served {
        host,
        client: aws_sdk_lambda::Client::from_conf(config),
        direct,
        stop,
        _dir: dir,
    }
}

impl Served {
    async fn invoke(
        &self,
        function: &str,
        kind: InvocationType,
        payload: &[u8],
    ) -> Result<
        aws_sdk_lambda::operation::invoke::InvokeOutput,
        aws_sdk_lambda::error::SdkError<aws_sdk_lambda::operation::invoke::InvokeError>,
    > {
        self.client
            .invoke()
            .function_name(function)
            .invocation_type(kind)
            .payload(Blob::new(payload))
            .send()
            .await
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        self.host.shutdown().await;
    }
}

fn json_of(output: &aws_sdk_lambda::operation::invoke::InvokeOutput) -> Value {
    serde_json::from_slice(output.payload().unwrap().as_ref()).unwrap()
}

#[tokio::test]
async fn request_response_answers_as_lambda_does() {
    let s = served().await;
    let out = s
        .invoke(
            "fn",
            InvocationType::RequestResponse,
            br#"{"echo":{"a":1}}"#,
        )
        .await
        .unwrap();
    assert_eq!(out.status_code(), 200);
    assert_eq!(out.function_error(), None);
    assert_eq!(out.executed_version(), Some("$LATEST"));
    assert_eq!(json_of(&out), json!({"a": 1}));

    // By ARN, qualified with $LATEST, as the redrive function names a consumer.
    let out = s
        .invoke(
            &format!("{ARN_PREFIX}fn:$LATEST"),
            InvocationType::RequestResponse,
            br#"{"echo":2}"#,
        )
        .await
        .unwrap();
    assert_eq!(json_of(&out), json!(2));

    // A function error is a 200 with X-Amz-Function-Error and the error document.
    let out = s
        .invoke("fn", InvocationType::RequestResponse, br#"{"fail":"no"}"#)
        .await
        .unwrap();
    assert_eq!(out.status_code(), 200);
    assert_eq!(out.function_error(), Some("Unhandled"));
    let error = json_of(&out);
    // (lambda_runtime names a boxed error's type; any string is what Lambda passes on.)
    assert!(error["errorType"].is_string(), "{error}");
    assert_eq!(error["errorMessage"], "no", "{error}");
    s.stop().await;
}

#[tokio::test]
async fn event_runs_after_the_answer_and_dry_run_runs_nothing() {
    let s = served().await;
    let out = s
        .invoke("fn", InvocationType::DryRun, br#"{"echo":"dry"}"#)
        .await
        .unwrap();
    assert_eq!(out.status_code(), 204);
    let out = s
        .invoke("fn", InvocationType::Event, br#"{"echo":"async"}"#)
        .await
        .unwrap();
    assert_eq!(out.status_code(), 202);
    assert!(out.payload().is_none_or(|p| p.as_ref().is_empty()));
    // The function saw the asynchronous payload (and never the dry run's).
    let mut seen = String::new();
    for _ in 0..100 {
        seen = std::fs::read_to_string(&s.direct).unwrap_or_default();
        if !seen.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let payloads: Vec<Value> = seen
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["payload"].clone())
        .collect();
    assert_eq!(payloads, vec![json!({"echo": "async"})], "{seen}");
    s.stop().await;
}

#[tokio::test]
async fn lambdas_errors_for_unknown_functions_qualifiers_and_sizes() {
    let s = served().await;
    let code_and_message =
        |e: aws_sdk_lambda::error::SdkError<aws_sdk_lambda::operation::invoke::InvokeError>| {
            let e = e.into_service_error();
            (
                e.code().unwrap_or_default().to_owned(),
                e.message().unwrap_or_default().to_owned(),
            )
        };
    let e = s
        .invoke("nope", InvocationType::RequestResponse, b"{}")
        .await
        .unwrap_err();
    let (code, message) = code_and_message(e);
    assert_eq!(code, "ResourceNotFoundException");
    assert_eq!(message, format!("Function not found: {ARN_PREFIX}nope"));

    let e = s
        .invoke(
            &format!("{ARN_PREFIX}fn:live"),
            InvocationType::RequestResponse,
            b"{}",
        )
        .await
        .unwrap_err();
    let (code, message) = code_and_message(e);
    assert_eq!(code, "ResourceNotFoundException");
    assert_eq!(message, format!("Function not found: {ARN_PREFIX}fn:live"));

    // 1 MB + 1 byte: too large for Event, fine for RequestResponse (up to 6 MB).
    let big = format!(
        r#"{{"echo":"{}"}}"#,
        "x".repeat(invoke_api::MAX_ASYNC_PAYLOAD)
    );
    let e = s
        .invoke("fn", InvocationType::Event, big.as_bytes())
        .await
        .unwrap_err();
    let (code, message) = code_and_message(e);
    assert_eq!(code, "RequestTooLargeException");
    assert!(message.contains("1048576 bytes"), "{message}");
    let out = s
        .invoke("fn", InvocationType::RequestResponse, big.as_bytes())
        .await
        .unwrap();
    assert_eq!(out.function_error(), None);
    let huge = vec![b' '; invoke_api::MAX_SYNC_PAYLOAD + 1];
    let e = s
        .invoke("fn", InvocationType::RequestResponse, &huge)
        .await
        .unwrap_err();
    assert_eq!(code_and_message(e).0, "RequestTooLargeException");

    // Without an emulator behind it, other operations are refused, saying why.
    let e = s
        .client
        .get_function_configuration()
        .function_name("fn")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        e.message()
            .unwrap_or_default()
            .contains("serves only Invoke"),
        "{e:?}"
    );
    s.stop().await;
}
