//! The client against a local HTTP server: what it sends (signature, payload hash, token,
//! addressing), which answers it tries again and what its errors say.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpListener;
use std::sync::mpsc;

use super::*;

/// A request as the server read it.
#[derive(Debug)]
struct Seen {
    line: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A server on a free local port answering each request with the next of `replies` (one
/// connection per request); the requests it read come out of the receiver.
fn server(replies: Vec<String>) -> (String, mpsc::Receiver<Seen>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = listener.local_addr().expect("address");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for reply in replies {
            let (stream, _) = listener.accept().expect("accept");
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut line = String::new();
            reader.read_line(&mut line).expect("request line");
            let mut headers = Vec::new();
            loop {
                let mut header = String::new();
                reader.read_line(&mut header).expect("header");
                let header = header.trim_end();
                if header.is_empty() {
                    break;
                }
                let (name, value) = header.split_once(':').expect("name: value");
                headers.push((name.to_owned(), value.trim().to_owned()));
            }
            let length = headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
                .map_or(0, |(_, v)| v.parse().expect("length"));
            let mut body = vec![0; length];
            reader.read_exact(&mut body).expect("body");
            let _ = tx.send(Seen {
                line: line.trim_end().to_owned(),
                headers,
                body,
            });
            let mut stream = stream;
            stream.write_all(reply.as_bytes()).expect("reply");
        }
    });
    (format!("http://{address}"), rx)
}

fn client(endpoint: &str) -> AwsClient {
    let env = Env::from_pairs(&[
        ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
        (
            "AWS_SECRET_ACCESS_KEY",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        ),
        ("AWS_SESSION_TOKEN", "session-token"),
        ("AWS_REGION", "eu-west-1"),
        ("AWS_ENDPOINT_URL", endpoint),
    ]);
    AwsClient::build(
        &env,
        Some(Roots::load().expect("the system's root certificates")),
    )
    .expect("client")
}

/// An HTTP/1.1 answer: `status` line, `header`, `body`, then the connection closes.
fn reply(status: &str, header: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status}\r\n{header}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
}

fn ok() -> String {
    reply("200 OK", "x-amz-request-id: R1", "")
}

fn slow_down() -> String {
    reply(
        "503 Slow Down",
        "x-amz-request-id: R2",
        "<Error><Code>SlowDown</Code><Message>Please reduce your rate.</Message></Error>",
    )
}

#[tokio::test]
async fn put_object_sends_a_signed_request_with_the_payload_hash() {
    let (endpoint, seen) = server(vec![ok()]);
    client(&endpoint)
        .put_object(
            "archive",
            "failed/shard 1.json",
            "application/json",
            Bytes::from_static(b"{\"a\":1}\n"),
        )
        .await
        .expect("put");
    let request = seen.recv().expect("request");
    assert_eq!(request.line, "PUT /archive/failed/shard%201.json HTTP/1.1");
    assert_eq!(request.body, b"{\"a\":1}\n");
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert_eq!(
        request.header("x-amz-security-token"),
        Some("session-token")
    );
    // sha256 of the body, as `printf '{"a":1}\n' | sha256sum` gives it.
    assert_eq!(
        request.header("x-amz-content-sha256"),
        Some("e346432021b04179518d9614f3560ccd71354a4ee101ddcb893d6959a9d6301c")
    );
    let authorization = request.header("authorization").expect("signed");
    assert!(
        authorization.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"),
        "{authorization}"
    );
    assert!(
        authorization.contains("/eu-west-1/s3/aws4_request"),
        "{authorization}"
    );
    for signed in ["host", "x-amz-content-sha256", "x-amz-date", "content-type"] {
        assert!(authorization.contains(signed), "{signed}: {authorization}");
    }
}

#[tokio::test]
async fn a_throttled_put_is_tried_again() {
    let (endpoint, seen) = server(vec![slow_down(), ok()]);
    client(&endpoint)
        .put_object("archive", "k", "application/x-ndjson", Bytes::new())
        .await
        .expect("second attempt succeeds");
    assert_eq!(seen.iter().count(), 2);
}

#[tokio::test]
async fn a_missing_bucket_fails_at_once_with_s3s_code_and_request_id() {
    let (endpoint, seen) = server(vec![reply(
        "404 Not Found",
        "x-amz-request-id: R3",
        "<Error><Code>NoSuchBucket</Code><Message>The bucket does not exist</Message></Error>",
    )]);
    let error = client(&endpoint)
        .put_object("gone", "k", "application/json", Bytes::new())
        .await
        .expect_err("no bucket");
    assert_eq!(error.code(), Some("NoSuchBucket"));
    assert_eq!(
        error.to_string(),
        "S3 PutObject: NoSuchBucket: The bucket does not exist (HTTP 404, request id R3, after 1 attempt(s))"
    );
    assert_eq!(seen.iter().count(), 1);
}

#[tokio::test]
async fn throttling_that_lasts_is_reported_after_every_attempt() {
    let (endpoint, _seen) = server(vec![slow_down(); MAX_ATTEMPTS as usize]);
    let error = client(&endpoint)
        .put_object("archive", "k", "application/json", Bytes::new())
        .await
        .expect_err("throttled");
    assert!(
        matches!(error, AwsError::Service { attempts: MAX_ATTEMPTS, ref code, .. } if code == "SlowDown"),
        "{error}"
    );
}

#[tokio::test]
async fn a_refused_connection_is_a_transport_error_after_every_attempt() {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let error = client(&format!("http://127.0.0.1:{port}"))
        .get_parameter("/kstream/key")
        .await
        .expect_err("refused");
    assert!(
        matches!(
            error,
            AwsError::Transport {
                attempts: MAX_ATTEMPTS,
                ..
            }
        ),
        "{error}"
    );
    assert!(
        error.to_string().starts_with("SSM GetParameter: "),
        "{error}"
    );
}

#[tokio::test]
async fn get_parameter_posts_the_json_target_and_reads_the_value() {
    let (endpoint, seen) = server(vec![reply(
        "200 OK",
        "content-type: application/x-amz-json-1.1",
        r#"{"Parameter":{"Name":"/k","Value":"v"}}"#,
    )]);
    let value = client(&endpoint)
        .get_parameter("/k")
        .await
        .expect("parameter");
    assert_eq!(value.as_deref(), Some("v"));
    let request = seen.recv().expect("request");
    assert_eq!(request.line, "POST / HTTP/1.1");
    assert_eq!(
        request.header("x-amz-target"),
        Some("AmazonSSM.GetParameter")
    );
    let body: serde_json::Value = serde_json::from_slice(&request.body).expect("json");
    assert_eq!(
        body,
        serde_json::json!({"Name": "/k", "WithDecryption": true})
    );
    let authorization = request.header("authorization").expect("signed");
    assert!(
        authorization.contains("/eu-west-1/ssm/aws4_request"),
        "{authorization}"
    );
}

#[test]
fn missing_credentials_or_region_name_the_variable() {
    let error = AwsClient::build(&Env::from_pairs(&[("AWS_REGION", "eu-west-1")]), None)
        .expect_err("no credentials");
    assert!(
        error.to_string().contains("AWS_ACCESS_KEY_ID is not set"),
        "{error}"
    );
    let error = AwsClient::build(
        &Env::from_pairs(&[("AWS_ACCESS_KEY_ID", "a"), ("AWS_SECRET_ACCESS_KEY", "b")]),
        None,
    )
    .expect_err("no region");
    assert!(error.to_string().contains("AWS_REGION"), "{error}");
}

#[tokio::test]
async fn a_caller_with_retries_of_its_own_gets_one_attempt() {
    let (endpoint, seen) = server(vec![slow_down(), ok()]);
    let error = client(&endpoint)
        .with_max_attempts(1)
        .put_object("archive", "k", "application/json", Bytes::new())
        .await
        .expect_err("throttled, not tried again");
    assert!(
        matches!(error, AwsError::Service { attempts: 1, .. }),
        "{error}"
    );
    assert_eq!(
        seen.recv().map(|r| r.line).ok().as_deref(),
        Some("PUT /archive/k HTTP/1.1")
    );
    assert!(
        seen.recv_timeout(Duration::from_millis(300)).is_err(),
        "one request only"
    );
}
