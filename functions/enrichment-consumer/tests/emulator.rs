//! The handler wired as main.rs wires it, against the emulator (moto): the API key read from a
//! real SSM SecureString (and a Secrets Manager secret), read again from SSM after a rotation,
//! the rows written to a real S3 bucket and read back. The fare API is the local stand-in of
//! tests/common (moto does not run API Gateway's AWS_IAM + API key authorization).
//!
//! Needs `AWS_ENDPOINT_URL`: `#[ignore]`d here, run by scripts/test-e2e.sh (`-- --ignored`).

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_credential_types::provider::SharedCredentialsProvider;
use aws_sdk_ssm::types::ParameterType;
use common::{FareServer, config, fare_of, fixture, ok};
use enrichment_consumer::{
    ApiKey, Enricher, FUNCTION_NAME, FareClient, KeySource, S3Store, SecretKey, SsmKey,
};
use kstream_local_testkit::{emulator, s3_objects};
use kstream_pipeline::Telemetry;
use kstream_pipeline::aws::AwsClient;
use kstream_pipeline::emf::MemorySink;
use serde_json::Value;

#[tokio::test]
#[ignore = "needs the emulator (scripts/test-e2e.sh)"]
async fn rows_to_s3_with_the_key_from_ssm_read_again_after_rotation() {
    let emu = emulator().await;
    let bucket = format!("{}-enriched", emu.prefix.to_lowercase());
    let s3 = aws_sdk_s3::Client::new(&emu.sdk);
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    let ssm = aws_sdk_ssm::Client::new(&emu.sdk);
    let parameter = format!("/{}/fare-api-key", emu.prefix);
    let put = |value: &'static str| {
        ssm.put_parameter()
            .name(&parameter)
            .value(value)
            .r#type(ParameterType::SecureString)
            .overwrite(true)
            .send()
    };
    put("key-1").await.unwrap();

    // The API takes only the current key.
    let accepted = Arc::new(std::sync::Mutex::new("key-1"));
    let current = accepted.clone();
    let server = FareServer::start(move |id, _, key| {
        if key == *current.lock().unwrap() {
            ok(id)
        } else {
            (403, Duration::ZERO, r#"{"message":"Forbidden"}"#.into())
        }
    })
    .await;

    // As main.rs: the signing client from the environment, the key read once from SSM through
    // it, its credentials for the fare API, S3 through it.
    let aws = AwsClient::from_env().unwrap();
    let source: Arc<dyn KeySource> = Arc::new(SsmKey::new(aws.clone(), &parameter));
    let key = Arc::new(ApiKey::load(source).await.unwrap());
    assert_eq!(&*key.get().1, "key-1");
    let config = config(&server, |c| c.bucket.clone_from(&bucket));
    let fare = FareClient::new(
        config.endpoint.clone(),
        key.clone(),
        SharedCredentialsProvider::new(aws.credentials().clone()),
    )
    .unwrap();
    let store = S3Store::new(aws, bucket.clone());
    let sink = Arc::new(MemorySink::default());
    let enricher = Enricher::new(
        config,
        fare,
        store,
        Telemetry::from_env(FUNCTION_NAME).with_sink(sink.clone()),
    );

    let event = fixture("trips.json");
    let deadline = Some(Instant::now() + Duration::from_secs(60));
    let report = enricher.process(&event, deadline).await.unwrap();
    assert_eq!((report.rows_written, report.failed.is_none()), (2, true));

    // Rotation: a new key in SSM, the API takes only it; the 403 makes the function read it.
    put("key-2").await.unwrap();
    *accepted.lock().unwrap() = "key-2";
    let report = enricher.process(&event, deadline).await.unwrap();
    assert_eq!((report.rows_written, report.failed.is_none()), (2, true));
    assert_eq!(&*key.get().1, "key-2");

    let objects = s3_objects(&s3, &bucket).await;
    let first = &event.records[0].kinesis.sequence_number;
    let last = &event.records[39].kinesis.sequence_number;
    let keys: Vec<&str> = objects.iter().map(|(k, _, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        [
            format!("enriched/dt=2018-01-01/hr=00/shardId-000000000001-{first}-{last}.jsonl"),
            format!("enriched/dt=2018-01-01/hr=01/shardId-000000000001-{first}-{last}.jsonl"),
        ]
    );
    let rows: Vec<Value> = objects
        .iter()
        .flat_map(|(_, _, body)| {
            String::from_utf8(body.clone())
                .unwrap()
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect::<Vec<Value>>()
        })
        .collect();
    let fares: Vec<(i64, f64)> = rows
        .iter()
        .map(|r| {
            (
                r["trip_id"].as_i64().unwrap(),
                r["expected_fare"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(fares, [(20, fare_of(20)), (40, fare_of(40))]);
}

#[tokio::test]
#[ignore = "needs the emulator (scripts/test-e2e.sh)"]
async fn the_key_from_secrets_manager() {
    let emu = emulator().await;
    let secrets = aws_sdk_secretsmanager::Client::new(&emu.sdk);
    let name = format!("{}-fare-api-key", emu.prefix);
    secrets
        .create_secret()
        .name(&name)
        .secret_string("key-sm")
        .send()
        .await
        .unwrap();
    let aws = AwsClient::from_env().unwrap();
    let key = ApiKey::load(Arc::new(SecretKey::new(aws.clone(), &name)))
        .await
        .unwrap();
    assert_eq!(&*key.get().1, "key-sm");
    let missing = ApiKey::load(Arc::new(SecretKey::new(aws, format!("{name}-nope"))))
        .await
        .unwrap_err();
    assert!(
        missing.to_string().contains(&format!("secret {name}-nope")),
        "{missing}"
    );
}
