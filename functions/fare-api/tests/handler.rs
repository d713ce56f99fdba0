//! The handler on real API Gateway REST proxy events (`tests/fixtures/predict-fare-request.json`
//! with its query string varied): 200s and their JavaScript number formatting, the 400 cases,
//! the fault mode, and the binary's cold start with a bad `FARE_FAULTS`.

mod common;

use std::time::{Duration, Instant};

use common::{FIXTURE, call, event};
use fare_api::Faults;

const MISSING: (u16, &str, &str) = (400, "text/plain", "Missing ride_request_id");

async fn get(id: &str) -> (u16, String, String) {
    call(&event(Some(&[("ride_request_id", id)])), &Faults::default()).await
}

fn fare(body: &str) -> (u16, String, String) {
    (200, "application/json".into(), body.into())
}

#[tokio::test]
async fn the_fixture_as_api_gateway_sends_it() {
    assert_eq!(
        call(FIXTURE, &Faults::default()).await,
        fare(r#"{"ride_request_id":123,"expected_fare":38.518104367585856}"#)
    );
}

#[tokio::test]
async fn the_reference_samples() {
    assert_eq!(
        get("20").await,
        fare(r#"{"ride_request_id":20,"expected_fare":40.68894898991148}"#)
    );
    assert_eq!(
        get("1000").await,
        fare(r#"{"ride_request_id":1000,"expected_fare":31.945598426634206}"#)
    );
    assert_eq!(
        get("-20").await,
        fare(r#"{"ride_request_id":-20,"expected_fare":-15.689888935863362}"#)
    );
}

#[tokio::test]
async fn lenient_ids_as_parse_float() {
    let (_, _, body) = get("123abc").await;
    assert!(body.starts_with(r#"{"ride_request_id":123,"#), "{body}");
    let (_, _, body) = get("1e3").await;
    assert!(body.starts_with(r#"{"ride_request_id":1000,"#), "{body}");
    let (_, _, body) = get(" \t12.5xyz").await;
    assert!(body.starts_with(r#"{"ride_request_id":12.5,"#), "{body}");
    // A repeated parameter: API Gateway's queryStringParameters keeps the last value.
    let (_, _, body) = call(
        &event(Some(&[("ride_request_id", "1"), ("ride_request_id", "20")])),
        &Faults::default(),
    )
    .await;
    assert!(body.starts_with(r#"{"ride_request_id":20,"#), "{body}");
}

#[tokio::test]
async fn numbers_print_as_javascript() {
    // serde_json would print 1e21, 1e-7 and 123.0.
    assert_eq!(
        get("1e21").await,
        fare(r#"{"ride_request_id":1e+21,"expected_fare":8}"#)
    );
    assert_eq!(
        get("0.0000001").await,
        fare(r#"{"ride_request_id":1e-7,"expected_fare":8.000001087312732}"#)
    );
    let (_, _, body) = get("123.0").await;
    assert!(body.starts_with(r#"{"ride_request_id":123,"#), "{body}");
    // Infinity is truthy in JavaScript; JSON has no Infinity or NaN.
    assert_eq!(
        get("Infinity").await,
        fare(r#"{"ride_request_id":null,"expected_fare":null}"#)
    );
}

#[tokio::test]
async fn missing_or_falsy_ids_answer_400() {
    let missing = (MISSING.0, MISSING.1.to_owned(), MISSING.2.to_owned());
    // No query string at all (the reference throws there and API Gateway answers 502).
    assert_eq!(call(&event(None), &Faults::default()).await, missing);
    // Another parameter only.
    assert_eq!(
        call(&event(Some(&[("foo", "bar")])), &Faults::default()).await,
        missing
    );
    for id in ["", "0", "-0", "0.0", "abc", "NaN", " ", ".", "x1", "1e-400"] {
        assert_eq!(get(id).await, missing, "{id:?}");
    }
}

#[tokio::test]
async fn fault_mode_rates_one_and_zero() {
    let query = event(Some(&[("ride_request_id", "123")]));
    let ok = fare(r#"{"ride_request_id":123,"expected_fare":38.518104367585856}"#);
    let errors: Faults = "error_rate=1.0".parse().unwrap();
    let throttles: Faults = "throttle_rate=1".parse().unwrap();
    let none: Faults = "error_rate=0,throttle_rate=0.0".parse().unwrap();
    for _ in 0..20 {
        assert_eq!(
            call(&query, &errors).await,
            (
                503,
                "application/json".into(),
                r#"{"message":"injected fault"}"#.into()
            )
        );
        assert_eq!(
            call(&query, &throttles).await,
            (
                429,
                "application/json".into(),
                r#"{"message":"injected throttle"}"#.into()
            )
        );
        assert_eq!(call(&query, &none).await, ok);
    }
    // Faults come before the id is read: even a bad request fails.
    assert_eq!(call(&event(None), &errors).await.0, 503);
}

#[tokio::test]
async fn fault_mode_ends_at_until() {
    let query = event(Some(&[("ride_request_id", "123")]));
    let past: Faults = "error_rate=1,until=2020-01-01T00:00:00Z".parse().unwrap();
    assert_eq!(call(&query, &past).await.0, 200);
    let future: Faults = "error_rate=1,until=2999-01-01T00:00:00Z".parse().unwrap();
    assert_eq!(call(&query, &future).await.0, 503);
}

#[tokio::test]
async fn fault_mode_slow_answers_late_but_right() {
    let query = event(Some(&[("ride_request_id", "123")]));
    let slow: Faults = "slow_rate=1,slow_ms=300".parse().unwrap();
    let t0 = Instant::now();
    assert_eq!(
        call(&query, &slow).await,
        fare(r#"{"ride_request_id":123,"expected_fare":38.518104367585856}"#)
    );
    assert!(t0.elapsed() >= Duration::from_millis(300));
}

#[test]
fn a_bad_fare_faults_fails_the_cold_start_clearly() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_fare-api"))
        .env("FARE_FAULTS", "error_rate=0.1,bogus=1")
        // Nothing listens here: the function must stop before it asks for an event.
        .env("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9")
        .env("AWS_LAMBDA_FUNCTION_NAME", "fare-api")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_FORMAT", "text")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        format!("{stdout}{stderr}").contains("FARE_FAULTS key `bogus` is unknown"),
        "stdout: {stdout}\nstderr: {stderr}"
    );
}
