//! The signing client's SQS, Kinesis and Lambda calls against a local server: the requests it
//! sends (method, path, target, content type, signature scope, the JSON the SDK would send),
//! how it reads the answers, the attempts it makes and the error codes it keeps. (S3 PutObject
//! is AwsClient's own, tested in kstream-pipeline.)

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::body::Bytes as Body;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use kstream_pipeline::Env;

use super::*;

/// A request as the server read it.
#[derive(Debug)]
struct Seen {
    method: Method,
    path: String,
    headers: HeaderMap,
    body: Body,
}

impl Seen {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

/// A reply: status, headers, body.
type Reply = (u16, Vec<(&'static str, &'static str)>, String);

#[derive(Default)]
struct Server {
    seen: Vec<Seen>,
    replies: VecDeque<Reply>,
}

/// A server answering each request with the next of `replies`; what it read is in the state.
/// The client calls it for every service, with one attempt per call unless `attempts`.
async fn serve(replies: Vec<Reply>, attempts: u32) -> (AwsClient, Arc<Mutex<Server>>) {
    let state = Arc::new(Mutex::new(Server {
        seen: Vec::new(),
        replies: replies.into(),
    }));
    let shared = state.clone();
    let app = axum::Router::new().fallback(
        move |method: Method, uri: Uri, headers: HeaderMap, body: Body| {
            let state = shared.clone();
            async move {
                let mut state = state.lock().unwrap();
                state.seen.push(Seen {
                    method,
                    path: uri.to_string(),
                    headers,
                    body,
                });
                let (status, headers, body) = state.replies.pop_front().expect("a reply");
                let mut answer =
                    axum::http::Response::builder().status(StatusCode::from_u16(status).unwrap());
                for (name, value) in headers {
                    answer = answer.header(name, value);
                }
                answer.body(axum::body::Body::from(body)).unwrap()
            }
        },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let env = Env::from_pairs(&[
        ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
        ("AWS_SECRET_ACCESS_KEY", "secret"),
        ("AWS_REGION", "eu-west-1"),
        ("AWS_ENDPOINT_URL", &url),
    ]);
    let client = AwsClient::build(&env, None)
        .unwrap()
        .with_max_attempts(attempts);
    (client, state)
}

fn ok(body: Value) -> Reply {
    (200, Vec::new(), body.to_string())
}

fn error(status: u16, code: &str, message: &str) -> Reply {
    (
        status,
        Vec::new(),
        json!({"__type": code, "message": message}).to_string(),
    )
}

fn signed_for(seen: &Seen, service: &str) {
    let authorization = seen.header("authorization");
    assert!(
        authorization.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
            && authorization.contains(&format!("/eu-west-1/{service}/aws4_request")),
        "{authorization}"
    );
}

#[tokio::test]
async fn sqs_calls_are_aws_json_1_0_and_messages_are_read() {
    let received = json!({"Messages": [
        {"MessageId": "m1", "ReceiptHandle": "r1", "Body": "{\"x\":1}", "MD5OfBody": "-"},
        {"MessageId": "m2", "ReceiptHandle": "r2"},
    ]});
    let replies = vec![
        ok(received),
        (200, Vec::new(), String::new()),
        ok(json!({})),
    ];
    let (client, server) = serve(replies, 1).await;
    let receive = Receive {
        max_messages: 10,
        visibility_timeout: 300,
        wait_seconds: 1,
    };
    let messages = Queue::receive(&client, "http://q/1/queue", receive)
        .await
        .unwrap();
    assert_eq!(
        messages,
        [
            QueueMessage {
                id: Some("m1".into()),
                receipt: Some("r1".into()),
                body: Some("{\"x\":1}".into()),
            },
            QueueMessage {
                id: Some("m2".into()),
                receipt: Some("r2".into()),
                body: None,
            },
        ]
    );
    client.delete("http://q/1/queue", "r1").await.unwrap();
    client
        .change_visibility("http://q/1/queue", "r2", 0)
        .await
        .unwrap();
    let server = server.lock().unwrap();
    let [receive, delete, visibility] = &server.seen[..] else {
        panic!("three requests: {:?}", server.seen);
    };
    assert_eq!(receive.header("x-amz-target"), "AmazonSQS.ReceiveMessage");
    assert_eq!(receive.header("content-type"), "application/x-amz-json-1.0");
    assert_eq!(
        (&receive.method, receive.path.as_str()),
        (&Method::POST, "/")
    );
    signed_for(receive, "sqs");
    assert_eq!(
        receive.json(),
        json!({"QueueUrl": "http://q/1/queue", "MaxNumberOfMessages": 10,
               "VisibilityTimeout": 300, "WaitTimeSeconds": 1})
    );
    assert_eq!(delete.header("x-amz-target"), "AmazonSQS.DeleteMessage");
    assert_eq!(
        delete.json(),
        json!({"QueueUrl": "http://q/1/queue", "ReceiptHandle": "r1"})
    );
    assert_eq!(
        visibility.header("x-amz-target"),
        "AmazonSQS.ChangeMessageVisibility"
    );
    assert_eq!(
        visibility.json(),
        json!({"QueueUrl": "http://q/1/queue", "ReceiptHandle": "r2", "VisibilityTimeout": 0})
    );
}

#[tokio::test]
async fn kinesis_reads_decode_data_and_arrival_seconds() {
    let page = json!({
        "Records": [{
            "SequenceNumber": "4959",
            "PartitionKey": "pk",
            "Data": "eyJhY3QiOiJvayJ9",
            "ApproximateArrivalTimestamp": 1_700_000_000.123,
        }],
        "NextShardIterator": "it-2",
        "MillisBehindLatest": 0,
    });
    let replies = vec![ok(json!({"ShardIterator": "it-1"})), ok(page)];
    let (client, server) = serve(replies, 1).await;
    let iterator = client
        .shard_iterator("s", "shardId-000000000000", IteratorStart::After("4958"))
        .await
        .unwrap();
    assert_eq!(iterator.as_deref(), Some("it-1"));
    let page = Stream::get_records(&client, "it-1", 10_000).await.unwrap();
    assert_eq!(
        page,
        RecordsPage {
            records: vec![ReadRecord {
                sequence_number: "4959".into(),
                partition_key: "pk".into(),
                data: Bytes::from_static(br#"{"act":"ok"}"#),
                arrival_millis: Some(1_700_000_000_123),
            }],
            next_shard_iterator: Some("it-2".into()),
            millis_behind_latest: Some(0),
        }
    );
    let server = server.lock().unwrap();
    let [iterator, records] = &server.seen[..] else {
        panic!("two requests");
    };
    assert_eq!(
        iterator.header("x-amz-target"),
        "Kinesis_20131202.GetShardIterator"
    );
    assert_eq!(
        iterator.header("content-type"),
        "application/x-amz-json-1.1"
    );
    signed_for(iterator, "kinesis");
    assert_eq!(
        iterator.json(),
        json!({"StreamName": "s", "ShardId": "shardId-000000000000",
               "ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "StartingSequenceNumber": "4958"})
    );
    assert_eq!(
        records.header("x-amz-target"),
        "Kinesis_20131202.GetRecords"
    );
    assert_eq!(
        records.json(),
        json!({"ShardIterator": "it-1", "Limit": 10_000})
    );
}

#[tokio::test]
async fn kinesis_errors_keep_their_code_and_throttling_is_tried_again() {
    let replies = vec![
        error(
            400,
            "ProvisionedThroughputExceededException",
            "Rate exceeded",
        ),
        error(400, "TrimmedDataAccessException", "gone"),
    ];
    let (client, server) = serve(replies, 3).await;
    let err = Stream::get_records(&client, "it", 10).await.unwrap_err();
    assert_eq!(err.code(), "TrimmedDataAccessException");
    assert!(
        err.message.contains("TrimmedDataAccessException: gone"),
        "{err}"
    );
    assert_eq!(
        server.lock().unwrap().seen.len(),
        2,
        "throttled, then final"
    );
}

#[tokio::test]
async fn put_records_sends_base64_data_and_reads_each_entrys_result() {
    let answer = json!({"FailedRecordCount": 1, "Records": [
        {"SequenceNumber": "1", "ShardId": "shardId-000000000000"},
        {"ErrorCode": "ProvisionedThroughputExceededException", "ErrorMessage": "slow down"},
    ]});
    let (client, server) = serve(vec![ok(answer)], 1).await;
    let entries = [
        PutEntry {
            data: Bytes::from_static(b"abc"),
            partition_key: "a".into(),
            explicit_hash_key: Some("42".into()),
        },
        PutEntry {
            data: Bytes::from_static(b"{}"),
            partition_key: "b".into(),
            explicit_hash_key: None,
        },
    ];
    let answer = Stream::put_records(&client, "s", &entries).await.unwrap();
    assert_eq!(
        answer,
        PutAnswer {
            failed: 1,
            results: vec![
                None,
                Some((
                    "ProvisionedThroughputExceededException".into(),
                    "slow down".into()
                )),
            ],
        }
    );
    let server = server.lock().unwrap();
    assert_eq!(
        server.seen[0].header("x-amz-target"),
        "Kinesis_20131202.PutRecords"
    );
    assert_eq!(
        server.seen[0].json(),
        json!({"StreamName": "s", "Records": [
            {"Data": "YWJj", "PartitionKey": "a", "ExplicitHashKey": "42"},
            {"Data": "e30=", "PartitionKey": "b"},
        ]})
    );
}

#[tokio::test]
async fn lambda_calls_are_rest_json_with_the_function_in_the_path() {
    let function = "arn:aws:lambda:eu-west-1:123456789012:function:consumer";
    let replies = vec![
        ok(json!({"FunctionName": "consumer", "Role": "arn:aws:iam::123456789012:role/r"})),
        (
            200,
            vec![
                ("x-amz-function-error", "Unhandled"),
                ("x-amz-executed-version", "$LATEST"),
            ],
            r#"{"errorType":"Boom","errorMessage":"no"}"#.to_owned(),
        ),
        (200, Vec::new(), r#"{"batchItemFailures":[]}"#.to_owned()),
    ];
    let (client, server) = serve(replies, 1).await;
    assert_eq!(Functions::region(&client), "eu-west-1");
    let role = client.role(function).await.unwrap();
    assert_eq!(role.as_deref(), Some("arn:aws:iam::123456789012:role/r"));
    let failed = Functions::invoke(&client, function, b"{\"Records\":[]}".to_vec())
        .await
        .unwrap();
    assert_eq!(failed.function_error.as_deref(), Some("Unhandled"));
    assert_eq!(
        failed.payload,
        Bytes::from_static(br#"{"errorType":"Boom","errorMessage":"no"}"#)
    );
    let done = Functions::invoke(&client, "consumer", b"{}".to_vec())
        .await
        .unwrap();
    assert_eq!(done.function_error, None);
    assert_eq!(
        done.payload,
        Bytes::from_static(br#"{"batchItemFailures":[]}"#)
    );
    let server = server.lock().unwrap();
    let [config, invoke, _] = &server.seen[..] else {
        panic!("three requests");
    };
    let encoded = "arn%3Aaws%3Alambda%3Aeu-west-1%3A123456789012%3Afunction%3Aconsumer";
    assert_eq!(config.method, Method::GET);
    assert_eq!(
        config.path,
        format!("/2015-03-31/functions/{encoded}/configuration")
    );
    signed_for(config, "lambda");
    assert_eq!(invoke.method, Method::POST);
    assert_eq!(
        invoke.path,
        format!("/2015-03-31/functions/{encoded}/invocations")
    );
    assert_eq!(invoke.header("x-amz-invocation-type"), "RequestResponse");
    assert_eq!(&invoke.body[..], b"{\"Records\":[]}");
    assert_eq!(
        server.seen[2].path,
        "/2015-03-31/functions/consumer/invocations"
    );
}

#[tokio::test]
async fn lambda_errors_keep_their_code() {
    let replies = vec![(
        404,
        vec![("x-amzn-errortype", "ResourceNotFoundException")],
        json!({"Type": "User", "Message": "Function not found: consumer"}).to_string(),
    )];
    let (client, _server) = serve(replies, 3).await;
    let err = client.role("consumer").await.unwrap_err();
    assert_eq!(err.code(), "ResourceNotFoundException");
    assert!(
        err.message.contains("Function not found: consumer"),
        "{err}"
    );
}
