//! Integration tests of the producer: against a fault-injecting local endpoint (plain
//! `cargo test`; the fault tests once per Kinesis client, `sdk` and `signed`) and against the
//! emulator (`#[ignore]`d; run by scripts/test-e2e.sh).

#[cfg(feature = "cloudwatch")]
#[path = "support/fake_cloudwatch.rs"]
mod fake_cloudwatch;
#[path = "support/fake_kinesis.rs"]
mod fake_kinesis;

#[cfg(any(feature = "sdk", feature = "signed"))]
mod common;
#[cfg(feature = "sdk")]
mod emulator;

/// The fault tests with the SDK's client.
#[cfg(feature = "sdk")]
mod sdk {
    fn client(fake: &crate::fake_kinesis::FakeKinesis) -> aws_sdk_kinesis::Client {
        fake.client()
    }

    include!("fault.rs");
}

/// The fault tests with the signing client (kstream-pipeline's `AwsClient`, no SDK): the same
/// behaviour from the same answers.
#[cfg(feature = "signed")]
mod signed {
    /// A signing client for the fake endpoint with test credentials.
    fn client(fake: &crate::fake_kinesis::FakeKinesis) -> kstream_pipeline::aws::AwsClient {
        let url = fake.url();
        let env = kstream_pipeline::Env::from_pairs(&[
            ("AWS_ACCESS_KEY_ID", "test"),
            ("AWS_SECRET_ACCESS_KEY", "test"),
            ("AWS_REGION", "us-east-1"),
            ("AWS_ENDPOINT_URL", &url),
        ]);
        kstream_pipeline::aws::AwsClient::build(&env, None).expect("a client for the fake")
    }

    include!("fault.rs");
}
