//! Lambda entry point: wiring only (logging, configuration and the API key once per cold
//! start, the clients, the runtime loop).

use std::sync::Arc;

use aws_credential_types::provider::SharedCredentialsProvider;
use enrichment_consumer::{
    ApiKey, Config, Enricher, FUNCTION_NAME, FareClient, FareHttp, KeyLocation, KeySource, S3Store,
    SecretKey, SsmKey, handler,
};
use kstream_pipeline::Telemetry;
use kstream_pipeline::archive::FailedRecordArchive;
use kstream_pipeline::aws::AwsClient;
use kstream_pipeline::config::configure;
use kstream_pipeline::https::Roots;
use lambda_runtime::{Error, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    // JSON when AWS_LAMBDA_LOG_FORMAT=JSON; level from AWS_LAMBDA_LOG_LEVEL, then RUST_LOG, then INFO.
    kstream_pipeline::logging::init();
    let config: Config = configure()?;
    // The system's root certificates, read once for the AWS client and the fare API's.
    let roots = Roots::load()?;
    // S3, SSM and Secrets Manager: signed requests from the environment's role credentials.
    let aws = AwsClient::from_env_with_roots(&roots)?;
    // The API key: read once here, before the first invocation; again only after a 403
    // (rotation). The read is a network round trip (its own task): the fare API's HTTP client
    // is built meanwhile.
    let (location, key_client) = (config.key.clone(), aws.clone());
    let key = tokio::spawn(async move {
        let source: Arc<dyn KeySource> = match location {
            KeyLocation::Ssm(name) => Arc::new(SsmKey::new(key_client, name)),
            KeyLocation::SecretsManager(id) => Arc::new(SecretKey::new(key_client, id)),
        };
        ApiKey::load(source).await
    });
    let http = FareHttp::new(kstream_pipeline::https::connector(&roots, None)?);
    let key = Arc::new(key.await?.inspect_err(|error| {
        tracing::error!(error = %error, "cannot read the API key; check the parameter/secret and the role");
    })?);
    // The role's credentials as Lambda sets them: fixed for the execution environment's life.
    let credentials = SharedCredentialsProvider::new(aws.credentials().clone());
    let fare = FareClient::with_http(config.endpoint.clone(), key, credentials, http)
        .with_rate_limit(config.max_calls_per_second);
    let store = S3Store::new(aws.clone(), config.bucket.clone());
    let archive = config.archive.clone().map(|archive| {
        let name =
            std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|_| FUNCTION_NAME.into());
        let store = S3Store::new(aws, archive.bucket.clone());
        FailedRecordArchive::new(Arc::new(store), &archive, name)
    });
    let mut enricher = Enricher::new(config, fare, store, Telemetry::from_env(FUNCTION_NAME));
    if let Some(archive) = archive {
        enricher = enricher.with_archive(archive);
    }
    run(service_fn(|event| handler(event, &enricher))).await
}
