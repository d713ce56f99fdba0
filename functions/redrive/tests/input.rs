//! The events the workflow's state machine sends (tests/fixtures/sfn-*.json: the task payloads
//! infra/modules/redrive-workflow builds, one per mode) and the events refused, each with the
//! field it names.

use std::time::Duration;

use kstream_redrive::S3Prefix;
use redrive::{Input, InvokeError, Target};
use serde_json::{Value, json};

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

const QUEUE: &str = "https://sqs.us-east-1.amazonaws.com/123456789012/kstream-p1-consumer-failures";

#[test]
fn the_state_machines_payloads_parse() {
    assert_eq!(
        Input::parse(fixture("sfn-reput.json")).unwrap(),
        Input {
            queue_url: QUEUE.into(),
            target: Target::Reput,
            max_messages: None,
            delete_unrecoverable: false,
            visibility_timeout: Duration::from_secs(300),
        }
    );
    let invoke = Input::parse(fixture("sfn-invoke.json")).unwrap();
    assert_eq!(
        invoke.target,
        Target::Invoke("arn:aws:lambda:us-east-1:123456789012:function:kstream-p1-consumer".into())
    );
    assert_eq!(invoke.max_messages, Some(1000));
    assert_eq!(invoke.visibility_timeout, Duration::from_secs(900));
    let s3 = Input::parse(fixture("sfn-s3.json")).unwrap();
    assert_eq!(
        s3.target,
        Target::S3(S3Prefix {
            bucket: "kstream-p1-data-123456789012".into(),
            prefix: "redrive/".into()
        })
    );
    assert!(s3.delete_unrecoverable);
    // The least event: defaults for the rest.
    let least = Input::parse(json!({"queue_url": QUEUE, "mode": "reput"})).unwrap();
    assert_eq!(least.visibility_timeout, Duration::from_secs(300));
    assert!(!least.delete_unrecoverable);
}

fn refused(event: Value) -> String {
    match Input::parse(event) {
        Err(e @ InvokeError::Input(_)) => {
            assert_eq!(e.error_type(), "InvalidInput");
            e.to_string()
        }
        other => panic!("not refused: {other:?}"),
    }
}

#[test]
fn bad_events_are_refused_naming_the_field() {
    let cases = [
        (json!({}), "missing field `queue_url`"),
        (json!(null), "expected struct"),
        (json!({"queue_url": QUEUE}), "missing field `mode`"),
        (
            json!({"queue_url": QUEUE, "mode": "file"}),
            "unknown variant `file`",
        ),
        (
            json!({"queue_url": QUEUE, "mode": "reput", "max_mesages": 5}),
            "unknown field `max_mesages`",
        ),
        (
            json!({"queue_url": "sqs-name", "mode": "reput"}),
            "is not a queue URL",
        ),
        (
            json!({"queue_url": QUEUE, "mode": "invoke"}),
            "needs function_name",
        ),
        (
            json!({"queue_url": QUEUE, "mode": "invoke", "function_name": " "}),
            "needs function_name",
        ),
        (json!({"queue_url": QUEUE, "mode": "s3"}), "needs s3_uri"),
        (
            json!({"queue_url": QUEUE, "mode": "s3", "s3_uri": "s3://B/x"}),
            "s3_uri: ",
        ),
        (
            json!({"queue_url": QUEUE, "mode": "reput", "function_name": "f"}),
            "neither function_name nor s3_uri",
        ),
        (
            json!({"queue_url": QUEUE, "mode": "s3", "s3_uri": "s3://b-1/", "function_name": "f"}),
            "s3_uri, not function_name",
        ),
        (
            json!({"queue_url": QUEUE, "mode": "reput", "max_messages": 0}),
            "max_messages 0: from 1 to 120000",
        ),
        (
            json!({"queue_url": QUEUE, "mode": "reput", "max_messages": -1}),
            "invalid value",
        ),
        (
            json!({"queue_url": QUEUE, "mode": "reput", "visibility_timeout_seconds": 43201}),
            "visibility_timeout_seconds 43201",
        ),
        (
            json!({"queue_url": QUEUE, "mode": "reput", "delete_unrecoverable": "yes"}),
            "invalid type",
        ),
    ];
    for (event, expected) in cases {
        let text = refused(event.clone());
        assert!(text.contains(expected), "{event}: {text}");
    }
}
