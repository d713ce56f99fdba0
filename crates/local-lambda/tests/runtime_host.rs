//! The Runtime API host running the real `kstream-test-fn` binary (lambda_runtime inside).

use std::time::Duration;

use kstream_local_lambda::runtime::{FunctionHost, FunctionSpec, InvokeResult};
use serde_json::{Value, json};

use kstream_local_testkit::test_fn;

fn host(dir: &std::path::Path) -> FunctionHost {
    FunctionHost::builder()
        .log_dir(dir.join("logs"))
        .max_concurrency(3)
        .build()
}

fn spec(name: &str) -> FunctionSpec {
    let mut spec = FunctionSpec::new(name, test_fn());
    spec.memory_mb = 256;
    spec.timeout = Duration::from_secs(2);
    spec.environment.insert("GREETING".into(), "hello".into());
    spec.log_format = Some("JSON".into());
    spec
}

fn body(result: &InvokeResult) -> Value {
    match result {
        InvokeResult::Ok(body) => serde_json::from_slice(body).unwrap(),
        InvokeResult::Error(e) => panic!("expected success, got {e:?}"),
    }
}

#[tokio::test]
async fn invokes_a_real_binary_and_reuses_the_warm_process() {
    let dir = tempfile::tempdir().unwrap();
    let host = host(dir.path());
    host.register(spec("echo-fn"));
    let first = host.invoke("echo-fn", r#"{"echo":{"a":1}}"#).await.unwrap();
    assert_eq!(body(&first.result), json!({"a": 1}));
    assert!(first.cold_start);
    let second = host
        .invoke(
            "arn:aws:lambda:us-east-1:123456789012:function:echo-fn:$LATEST",
            r#"{"echo":2}"#,
        )
        .await
        .unwrap();
    assert_eq!(body(&second.result), json!(2));
    assert!(!second.cold_start, "the warm process is reused");
    assert_ne!(first.request_id, second.request_id);
    assert_eq!(host.idle_processes("echo-fn"), 1);
    host.shutdown().await;
    assert_eq!(host.idle_processes("echo-fn"), 0);
}

#[tokio::test]
async fn the_process_gets_lambdas_environment() {
    let dir = tempfile::tempdir().unwrap();
    let host = host(dir.path());
    host.register(spec("env-fn"));
    let mut env = std::collections::BTreeMap::new();
    for name in [
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "_HANDLER",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_LAMBDA_RUNTIME_API",
        "AWS_LAMBDA_LOG_FORMAT",
        "AWS_ACCESS_KEY_ID",
        "GREETING",
    ] {
        let outcome = host
            .invoke("env-fn", json!({ "env": name }).to_string())
            .await
            .unwrap();
        env.insert(name, body(&outcome.result));
    }
    assert_eq!(env["AWS_LAMBDA_FUNCTION_NAME"], "env-fn");
    assert_eq!(env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"], "256");
    assert_eq!(env["AWS_LAMBDA_FUNCTION_VERSION"], "$LATEST");
    assert_eq!(env["_HANDLER"], "bootstrap");
    assert_eq!(env["AWS_REGION"], "us-east-1");
    assert_eq!(env["AWS_DEFAULT_REGION"], "us-east-1");
    assert_eq!(env["AWS_LAMBDA_LOG_GROUP_NAME"], "/aws/lambda/env-fn");
    assert!(
        env["AWS_LAMBDA_LOG_STREAM_NAME"]
            .as_str()
            .unwrap()
            .contains("[$LATEST]")
    );
    assert!(
        env["AWS_LAMBDA_RUNTIME_API"]
            .as_str()
            .unwrap()
            .starts_with("127.0.0.1:")
    );
    assert_eq!(env["AWS_LAMBDA_LOG_FORMAT"], "JSON");
    assert!(env["AWS_ACCESS_KEY_ID"].is_string());
    assert_eq!(env["GREETING"], "hello");

    // The context the runtime built from the /next headers.
    let outcome = host.invoke("env-fn", "{}").await.unwrap();
    let ctx = body(&outcome.result);
    assert_eq!(
        ctx["arn"],
        "arn:aws:lambda:us-east-1:123456789012:function:env-fn"
    );
    assert!(ctx["xray"].as_str().unwrap().starts_with("Root=1-"));
    assert!(ctx["deadline"].as_u64().unwrap() > 1_600_000_000_000);
    host.shutdown().await;
}

#[tokio::test]
async fn a_function_error_is_reported_and_the_process_kept() {
    let dir = tempfile::tempdir().unwrap();
    let host = host(dir.path());
    host.register(spec("err-fn"));
    let outcome = host
        .invoke("err-fn", r#"{"fail":"bad input"}"#)
        .await
        .unwrap();
    let error = outcome.error().expect("an error").clone();
    assert_eq!(error.error_message, "bad input");
    assert!(!error.error_type.is_empty());
    assert_eq!(
        host.idle_processes("err-fn"),
        1,
        "a handled error keeps the process"
    );
    host.shutdown().await;
}

#[tokio::test]
async fn a_crash_fails_the_invocation_and_the_next_one_restarts_the_process() {
    let dir = tempfile::tempdir().unwrap();
    let host = host(dir.path());
    host.register(spec("crash-fn"));
    let outcome = host.invoke("crash-fn", r#"{"crash":7}"#).await.unwrap();
    let error = outcome.error().expect("an error");
    assert_eq!(error.error_type, "Runtime.ExitError");
    assert!(
        error.error_message.contains("exit status 7"),
        "{}",
        error.error_message
    );
    assert!(error.error_message.contains(&outcome.request_id));
    assert_eq!(host.idle_processes("crash-fn"), 0);
    let next = host
        .invoke("crash-fn", r#"{"echo":"again"}"#)
        .await
        .unwrap();
    assert!(next.cold_start, "a new process");
    assert_eq!(body(&next.result), json!("again"));
    host.shutdown().await;
}

#[tokio::test]
async fn the_timeout_kills_the_process_and_fails_the_invocation() {
    let dir = tempfile::tempdir().unwrap();
    let host = host(dir.path());
    let mut spec = spec("slow-fn");
    spec.timeout = Duration::from_secs(1);
    host.register(spec);
    let outcome = host
        .invoke("slow-fn", r#"{"sleep_ms":30000}"#)
        .await
        .unwrap();
    let error = outcome.error().expect("an error");
    assert_eq!(error.error_type, "Sandbox.Timedout");
    assert!(
        error
            .error_message
            .contains("Task timed out after 1.00 seconds")
    );
    assert!(
        outcome.duration < Duration::from_secs(10),
        "{:?}",
        outcome.duration
    );
    let next = host.invoke("slow-fn", r#"{"sleep_ms":10}"#).await.unwrap();
    assert_eq!(body(&next.result), json!("slept"));
    assert!(next.cold_start);
    host.shutdown().await;
}

#[tokio::test]
async fn overlapping_invocations_run_in_separate_processes_up_to_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let host = host(dir.path()); // max_concurrency 3
    host.register(spec("par-fn"));
    let calls = (0..5).map(|_| host.invoke("par-fn", r#"{"sleep_ms":300}"#));
    let outcomes = futures::future::join_all(calls).await;
    for outcome in &outcomes {
        assert_eq!(body(&outcome.as_ref().unwrap().result), json!("slept"));
    }
    let cold = outcomes
        .iter()
        .filter(|o| o.as_ref().unwrap().cold_start)
        .count();
    assert_eq!(cold, 3, "three processes started, two reused");
    assert_eq!(host.idle_processes("par-fn"), 3);
    host.shutdown().await;
}

#[tokio::test]
async fn logs_go_to_the_function_log_file() {
    let dir = tempfile::tempdir().unwrap();
    let host = host(dir.path());
    host.register(spec("log-fn"));
    let outcome = host.invoke("log-fn", r#"{"echo":1}"#).await.unwrap();
    host.shutdown().await;
    let log = std::fs::read_to_string(dir.path().join("logs/log-fn.log")).unwrap();
    assert!(
        log.contains(&format!(
            "START RequestId: {} Version: $LATEST",
            outcome.request_id
        )),
        "{log}"
    );
    assert!(log.contains(&format!("END RequestId: {}", outcome.request_id)));
    assert!(log.contains(&format!("REPORT RequestId: {}", outcome.request_id)));
}

#[tokio::test]
async fn an_init_error_posted_by_a_custom_runtime_fails_the_invocation() {
    // A shell custom runtime, as in Lambda's tutorial: it reports an init error and exits.
    let dir = tempfile::tempdir().unwrap();
    let bootstrap = dir.path().join("bootstrap");
    std::fs::write(
        &bootstrap,
        "#!/bin/sh\ncurl -s -X POST \"http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/init/error\" \
         -H 'Lambda-Runtime-Function-Error-Type: Runtime.ConfigError' \
         -d '{\"errorMessage\":\"TABLE_NAME is not set\",\"errorType\":\"Runtime.ConfigError\"}' >/dev/null\n\
         sleep 5\nexit 1\n",
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&bootstrap, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let host = host(dir.path());
    host.register(FunctionSpec::new("init-fn", &bootstrap));
    let outcome = host.invoke("init-fn", "{}").await.unwrap();
    let error = outcome.error().expect("an error");
    assert_eq!(error.error_type, "Runtime.ConfigError");
    assert_eq!(error.error_message, "TABLE_NAME is not set");
    host.shutdown().await;
}

#[tokio::test]
async fn a_relative_binary_path_works_from_the_task_root() {
    let dir = tempfile::tempdir().unwrap();
    let host = host(dir.path());
    let cwd = std::env::current_dir().unwrap();
    let relative = pathdiff(&test_fn(), &cwd);
    assert!(relative.is_relative());
    let mut spec = spec("rel-fn");
    spec.binary = relative;
    host.register(spec);
    let outcome = host
        .invoke("rel-fn", r#"{"env":"LAMBDA_TASK_ROOT"}"#)
        .await
        .unwrap();
    let root = body(&outcome.result);
    assert_eq!(
        std::path::Path::new(root.as_str().unwrap()),
        test_fn().canonicalize().unwrap().parent().unwrap()
    );
    host.shutdown().await;
}

/// `path` relative to `base` (both absolute), with `..` as needed.
fn pathdiff(path: &std::path::Path, base: &std::path::Path) -> std::path::PathBuf {
    let path: Vec<_> = path.components().collect();
    let base: Vec<_> = base.components().collect();
    let common = path.iter().zip(&base).take_while(|(a, b)| a == b).count();
    let mut out = std::path::PathBuf::new();
    for _ in common..base.len() {
        out.push("..");
    }
    for c in &path[common..] {
        out.push(c);
    }
    out
}

#[tokio::test]
async fn unknown_functions_and_missing_binaries_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let host = host(dir.path());
    let err = host.invoke("nope", "{}").await.unwrap_err();
    assert!(err.to_string().contains("\"nope\" is not known"), "{err}");
    host.register(FunctionSpec::new("gone-fn", dir.path().join("missing")));
    let err = host.invoke("gone-fn", "{}").await.unwrap_err();
    assert!(
        err.to_string()
            .contains("bootstrap for function \"gone-fn\" is missing"),
        "{err}"
    );
}
