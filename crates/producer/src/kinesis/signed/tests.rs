//! The signing client's Kinesis calls against a local server: the requests it sends (target,
//! content type, signature scope, the JSON the SDK would send), how it reads the answers, how
//! many attempts each operation makes and the error codes it keeps.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::body::Bytes as Body;
use axum::http::{HeaderMap, StatusCode};
use bytes::Bytes;
use kstream_pipeline::Env;
use serde_json::{Value, json};

use super::*;

/// A request as the server read it.
#[derive(Debug)]
struct Seen {
    target: String,
    content_type: String,
    authorization: String,
    body: Value,
}

#[derive(Default)]
struct Server {
    seen: Vec<Seen>,
    replies: VecDeque<(u16, String)>,
}

/// A server answering each request with the next of `replies`; what it read is in the state.
async fn serve(replies: &[(u16, Value)]) -> (AwsClient, Arc<Mutex<Server>>) {
    let state = Arc::new(Mutex::new(Server {
        seen: Vec::new(),
        replies: replies
            .iter()
            .map(|(status, body)| (*status, body.to_string()))
            .collect(),
    }));
    let shared = state.clone();
    let app = axum::Router::new().fallback(move |headers: HeaderMap, body: Body| {
        let state = shared.clone();
        async move {
            let header = |name: &str| {
                headers
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned()
            };
            let mut state = state.lock().unwrap();
            state.seen.push(Seen {
                target: header("x-amz-target"),
                content_type: header("content-type"),
                authorization: header("authorization"),
                body: serde_json::from_slice(&body).unwrap_or(Value::Null),
            });
            let (status, body) = state.replies.pop_front().expect("a reply per request");
            (
                StatusCode::from_u16(status).unwrap(),
                [("content-type", "application/x-amz-json-1.1")],
                body,
            )
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (client(&url), state)
}

fn client(url: &str) -> AwsClient {
    let env = Env::from_pairs(&[
        ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
        ("AWS_SECRET_ACCESS_KEY", "secret"),
        ("AWS_REGION", "eu-west-1"),
        ("AWS_ENDPOINT_URL_KINESIS", url),
    ]);
    AwsClient::build(&env, None).unwrap()
}

fn error_body(code: &str, message: &str) -> Value {
    json!({"__type": code, "message": message})
}

#[tokio::test]
async fn put_records_sends_the_sdks_json_and_reads_every_entrys_result() {
    let answer = json!({
        "FailedRecordCount": 1,
        "Records": [
            {"SequenceNumber": "49590338271490256608559692538361571095921575989136588898",
             "ShardId": "shardId-000000000001"},
            {"ErrorCode": "ProvisionedThroughputExceededException",
             "ErrorMessage": "Rate exceeded for shard shardId-000000000000"},
        ],
    });
    let (client, server) = serve(&[(200, answer)]).await;
    let entries = vec![
        PutRecordsEntry {
            data: Bytes::from_static(b"\xf3\x89\x9a\xc2 aggregate"),
            partition_key: "a".to_owned(),
            explicit_hash_key: Some("170141183460469231731687303715884105728".to_owned()),
        },
        PutRecordsEntry {
            data: Bytes::from_static(b"{\"ticker\":\"AAPL\"}"),
            partition_key: "AAPL".to_owned(),
            explicit_hash_key: None,
        },
    ];
    let results = client.put_records("ticks", entries).await.unwrap();
    assert_eq!(
        results,
        [
            PutRecordsResult {
                sequence_number: Some(
                    "49590338271490256608559692538361571095921575989136588898".to_owned()
                ),
                shard_id: Some("shardId-000000000001".to_owned()),
                ..PutRecordsResult::default()
            },
            PutRecordsResult {
                error_code: Some("ProvisionedThroughputExceededException".to_owned()),
                error_message: Some("Rate exceeded for shard shardId-000000000000".to_owned()),
                ..PutRecordsResult::default()
            },
        ]
    );
    let server = server.lock().unwrap();
    let seen = &server.seen[0];
    assert_eq!(seen.target, "Kinesis_20131202.PutRecords");
    assert_eq!(seen.content_type, "application/x-amz-json-1.1");
    assert!(
        seen.authorization
            .starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
            && seen
                .authorization
                .contains("/eu-west-1/kinesis/aws4_request"),
        "{}",
        seen.authorization
    );
    // `Data` is standard base64 (with padding); no `ExplicitHashKey` when there is none.
    assert_eq!(
        seen.body,
        json!({
            "Records": [
                {"Data": "84mawiBhZ2dyZWdhdGU=", "PartitionKey": "a",
                 "ExplicitHashKey": "170141183460469231731687303715884105728"},
                {"Data": "eyJ0aWNrZXIiOiJBQVBMIn0=", "PartitionKey": "AAPL"},
            ],
            "StreamName": "ticks",
        })
    );
}

#[tokio::test]
async fn put_records_makes_one_attempt_and_keeps_the_code_and_status() {
    let (client, server) = serve(&[
        (500, error_body("InternalFailure", "try later")),
        (200, json!({"FailedRecordCount": 0, "Records": []})),
    ])
    .await;
    let entry = PutRecordsEntry {
        data: Bytes::from_static(b"x"),
        partition_key: "k".to_owned(),
        explicit_hash_key: None,
    };
    let error = client.put_records("ticks", vec![entry]).await.unwrap_err();
    assert_eq!(error.code, "InternalFailure");
    assert_eq!(error.status, Some(500));
    assert!(
        error
            .message
            .starts_with("InternalFailure: try later (request id"),
        "{error}"
    );
    assert_eq!(server.lock().unwrap().seen.len(), 1, "no retry of its own");
}

#[tokio::test]
async fn the_stream_summary_and_every_page_of_shards_are_read() {
    let range = |start: &str, end: &str| json!({"StartingHashKey": start, "EndingHashKey": end});
    let (client, server) = serve(&[
        (
            200,
            json!({"StreamDescriptionSummary": {
                "StreamName": "ticks", "StreamStatus": "ACTIVE", "OpenShardCount": 2,
                "MaxRecordSizeInKiB": 10240, "RecordDistributionStrategy": "AUTO"}}),
        ),
        (
            200,
            json!({"Shards": [{
                "ShardId": "shardId-000000000000", "HashKeyRange": range("0", "9"),
                "SequenceNumberRange": {"StartingSequenceNumber": "1", "EndingSequenceNumber": "5"}}],
                "NextToken": "page-2"}),
        ),
        (
            200,
            json!({"Shards": [{
                "ShardId": "shardId-000000000001", "HashKeyRange": range("0", "4"),
                "SequenceNumberRange": {"StartingSequenceNumber": "6"}}]}),
        ),
    ])
    .await;
    let summary = client.describe_stream_summary("ticks").await.unwrap();
    assert_eq!(
        summary,
        StreamSummary {
            max_record_size_in_kib: Some(10240),
            auto_distribution: true,
        }
    );
    let first = client.list_shards(ShardPage::First("ticks")).await.unwrap();
    assert_eq!(
        first,
        ShardList {
            shards: vec![Shard {
                shard_id: "shardId-000000000000".to_owned(),
                hash_key_range: Some(("0".to_owned(), "9".to_owned())),
                open: false,
            }],
            next_token: Some("page-2".to_owned()),
        }
    );
    let second = client
        .list_shards(ShardPage::After("page-2"))
        .await
        .unwrap();
    assert!(
        second.shards[0].open && second.next_token.is_none(),
        "{second:?}"
    );
    let server = server.lock().unwrap();
    let targets: Vec<&str> = server.seen.iter().map(|s| s.target.as_str()).collect();
    assert_eq!(
        targets,
        [
            "Kinesis_20131202.DescribeStreamSummary",
            "Kinesis_20131202.ListShards",
            "Kinesis_20131202.ListShards",
        ]
    );
    assert_eq!(server.seen[0].body, json!({"StreamName": "ticks"}));
    assert_eq!(server.seen[1].body, json!({"StreamName": "ticks"}));
    // ListShards rejects StreamName together with NextToken.
    assert_eq!(server.seen[2].body, json!({"NextToken": "page-2"}));
}

#[tokio::test]
async fn describe_is_tried_again_as_the_sdk_would_and_errors_keep_the_code() {
    let (client, server) = serve(&[
        (503, error_body("ServiceUnavailable", "busy")),
        (
            200,
            json!({"StreamDescriptionSummary": {"StreamName": "ticks"}}),
        ),
        (
            400,
            error_body(
                "com.amazonaws.kinesis#ResourceNotFoundException",
                "Stream gone under account 123456789012 not found.",
            ),
        ),
    ])
    .await;
    let summary = client.describe_stream_summary("ticks").await.unwrap();
    assert_eq!(summary, StreamSummary::default());
    assert_eq!(
        server.lock().unwrap().seen.len(),
        2,
        "a 503, then the answer"
    );
    let error = client.describe_stream_summary("gone").await.unwrap_err();
    assert_eq!(error.code, "ResourceNotFoundException");
    assert_eq!(error.status, Some(400));
    assert_eq!(server.lock().unwrap().seen.len(), 3, "not found is final");
}

#[tokio::test]
async fn answers_that_are_not_the_operations_json_and_refused_connections_have_codes() {
    let (answering, _server) = serve(&[(200, json!({"Shards": "not a list"}))]).await;
    let error = answering
        .list_shards(ShardPage::First("ticks"))
        .await
        .unwrap_err();
    assert_eq!(error.code, "ResponseError", "{error}");
    // A port nothing listens on (bound, then closed).
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let error = client(&url)
        .with_max_attempts(1)
        .describe_stream_summary("ticks")
        .await
        .unwrap_err();
    assert_eq!(
        (error.code.as_str(), error.status),
        ("DispatchFailure", None)
    );
}
