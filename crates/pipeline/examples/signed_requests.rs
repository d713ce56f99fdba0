//! Sends one request of each operation of kstream-pipeline's signing AWS client ([`AwsClient`])
//! to the endpoint in `AWS_ENDPOINT_URL`, with the credentials and region of the environment:
//! S3 PutObject (a key with characters S3 signs encoded), SSM GetParameter and Secrets Manager
//! GetSecretValue, and a REST-JSON call (Lambda Invoke of a function named by its ARN, the
//! `:` percent-encoded in the path). tests/interop/check_sigv4.py runs it against a local server that recomputes
//! each signature with botocore (scripts/test-interop.sh). Exits non-zero when a call fails.

use bytes::Bytes;
use kstream_pipeline::aws::{AwsClient, LAMBDA, encode_segment};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let client = AwsClient::from_env()?;
    client
        .put_object(
            "kstream-archive",
            "failed-records/shardId-000000000000/4955 é+=?.json",
            "application/json",
            Bytes::from_static(b"{\"ride_id\":1}\n"),
        )
        .await?;
    client.get_parameter("/kstream/fare-api-key").await?;
    client.get_secret_string("kstream/fare-api-key").await?;
    let function = encode_segment("arn:aws:lambda:eu-west-1:123456789012:function:consumer");
    client
        .call_rest(
            LAMBDA,
            "Lambda Invoke",
            http::Method::POST,
            &format!("/2015-03-31/functions/{function}/invocations"),
            vec![
                ("content-type", "application/json".to_owned()),
                ("x-amz-invocation-type", "RequestResponse".to_owned()),
            ],
            Bytes::from_static(b"{\"Records\":[]}"),
        )
        .await?;
    Ok(())
}
