//! The function's configuration, read and checked once per cold start.

use std::time::Duration;

use kstream_pipeline::archive::ArchiveConfig;
use kstream_pipeline::config::{Env, FunctionConfig};

use crate::FUNCTION_NAME;
use crate::error::ConfigError;
use crate::fare::Endpoint;

/// Where the API key is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyLocation {
    /// `API_KEY_PARAMETER`: an SSM SecureString parameter.
    Ssm(String),
    /// `API_KEY_SECRET_ID`: a Secrets Manager secret.
    SecretsManager(String),
}

/// What the handler needs from the environment (see the crate docs for each variable).
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// `FARE_API_URL` (with `AWS_ENDPOINT_URL_EXECUTE_API` and `AWS_REGION`).
    pub endpoint: Endpoint,
    /// `API_KEY_PARAMETER` or `API_KEY_SECRET_ID`.
    pub key: KeyLocation,
    /// `SAMPLE_EVERY`: a trip is sampled when `ride_request_id % N == 0`.
    pub sample_every: u64,
    /// `MAX_IN_FLIGHT`: concurrent calls per invocation.
    pub max_in_flight: usize,
    /// `CALL_TIMEOUT_MS`: per attempt.
    pub call_timeout: Duration,
    /// `MAX_ATTEMPTS`: per trip, the first included.
    pub max_attempts: u32,
    /// `RETRY_BUDGET_PERCENT`: retries allowed as a share of first calls (plus 10).
    pub retry_budget_percent: u8,
    /// Time kept for the S3 writes: no retry starts unless it can end this long before the
    /// invocation's deadline.
    pub write_margin: Duration,
    /// `OUTPUT_BUCKET`.
    pub bucket: String,
    /// `OUTPUT_PREFIX`.
    pub output_prefix: String,
    /// `ERROR_PREFIX`.
    pub error_prefix: String,
    /// `WRITE_UNSAMPLED`: also write unsampled trips.
    pub write_unsampled: bool,
    /// `MAX_CALLS_PER_SECOND`: attempts this process starts per second, so that the shards'
    /// consumers together stay under the API's usage plan (0: no pacing).
    pub max_calls_per_second: u32,
    /// `FAILED_RECORD_ARCHIVE_BUCKET` / `FAILED_RECORD_ARCHIVE_PREFIX`: where the record named in
    /// `batchItemFailures` is archived (`None`: the archive is off).
    pub archive: Option<ArchiveConfig>,
}

/// The default time kept for the S3 writes.
pub const WRITE_MARGIN: Duration = Duration::from_millis(1500);

impl Config {
    /// A configuration with the defaults for `endpoint`, `key` and `bucket`.
    pub fn new(endpoint: Endpoint, key: KeyLocation, bucket: impl Into<String>) -> Self {
        Self {
            endpoint,
            key,
            sample_every: 20,
            max_in_flight: 20,
            call_timeout: Duration::from_millis(3000),
            max_attempts: 4,
            retry_budget_percent: 20,
            write_margin: WRITE_MARGIN,
            bucket: bucket.into(),
            output_prefix: "enriched/".to_owned(),
            error_prefix: "errors/".to_owned(),
            write_unsampled: false,
            max_calls_per_second: 0,
            archive: None,
        }
    }
}

fn integer(
    env: &Env<'_>,
    var: &'static str,
    min: u64,
    max: u64,
    default: u64,
) -> Result<u64, ConfigError> {
    let Some(text) = env.get(var) else {
        return Ok(default);
    };
    text.trim()
        .parse::<u64>()
        .ok()
        .filter(|n| (min..=max).contains(n))
        .ok_or(ConfigError::Range {
            var,
            value: text,
            min,
            max,
        })
}

fn prefix(env: &Env<'_>, var: &'static str, default: &str) -> Result<String, ConfigError> {
    let value = env.get_raw(var).unwrap_or_else(|| default.to_owned());
    let ok = value.is_empty()
        || (value.len() <= 256
            && value.ends_with('/')
            && !value.starts_with('/')
            && !value.contains("//"));
    if ok {
        Ok(value)
    } else {
        Err(ConfigError::Prefix { var, value })
    }
}

impl FunctionConfig for Config {
    const NAME: &'static str = FUNCTION_NAME;
    type Error = ConfigError;

    fn from_env_with(env: &Env<'_>) -> Result<Self, ConfigError> {
        let url = env
            .get("FARE_API_URL")
            .ok_or(ConfigError::Missing("FARE_API_URL"))?;
        let endpoint = Endpoint::new(
            &url,
            env.get("AWS_ENDPOINT_URL_EXECUTE_API").as_deref(),
            env.get("AWS_REGION")
                .or_else(|| env.get("AWS_DEFAULT_REGION"))
                .as_deref(),
        )?;
        let key = match (env.get("API_KEY_PARAMETER"), env.get("API_KEY_SECRET_ID")) {
            (Some(name), None) => KeyLocation::Ssm(name),
            (None, Some(id)) => KeyLocation::SecretsManager(id),
            _ => return Err(ConfigError::KeySource),
        };
        let bucket = env
            .get("OUTPUT_BUCKET")
            .ok_or(ConfigError::Missing("OUTPUT_BUCKET"))?;
        // The ranges fit the target types: usize/u32/u8 conversions below cannot fail.
        let max_in_flight = integer(env, "MAX_IN_FLIGHT", 1, 256, 20)?;
        let max_attempts = integer(env, "MAX_ATTEMPTS", 1, 10, 4)?;
        let percent = integer(env, "RETRY_BUDGET_PERCENT", 0, 100, 20)?;
        Ok(Self {
            endpoint,
            key,
            sample_every: integer(env, "SAMPLE_EVERY", 1, 1_000_000, 20)?,
            max_in_flight: usize::try_from(max_in_flight).unwrap_or(256),
            call_timeout: Duration::from_millis(integer(
                env,
                "CALL_TIMEOUT_MS",
                100,
                28_000,
                3000,
            )?),
            max_attempts: u32::try_from(max_attempts).unwrap_or(10),
            retry_budget_percent: u8::try_from(percent).unwrap_or(100),
            write_margin: WRITE_MARGIN,
            bucket,
            output_prefix: prefix(env, "OUTPUT_PREFIX", "enriched/")?,
            error_prefix: prefix(env, "ERROR_PREFIX", "errors/")?,
            write_unsampled: env.bool("WRITE_UNSAMPLED")?.unwrap_or(false),
            max_calls_per_second: u32::try_from(integer(
                env,
                "MAX_CALLS_PER_SECOND",
                0,
                10_000,
                0,
            )?)
            .unwrap_or(10_000),
            archive: ArchiveConfig::from_env_with(env)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "https://abc123.execute-api.eu-west-1.amazonaws.com/prod/predictFare";

    #[test]
    fn defaults_and_values() {
        let env = Env::from_pairs(&[
            ("FARE_API_URL", URL),
            ("API_KEY_PARAMETER", "/p4/api-key"),
            ("OUTPUT_BUCKET", "b"),
        ]);
        let config = Config::from_env_with(&env).unwrap();
        let expected = Config::new(
            Endpoint::new(URL, None, None).unwrap(),
            KeyLocation::Ssm("/p4/api-key".into()),
            "b",
        );
        assert_eq!(config, expected);

        let env = Env::from_pairs(&[
            ("FARE_API_URL", URL),
            (
                "API_KEY_SECRET_ID",
                "arn:aws:secretsmanager:eu-west-1:1:secret:k",
            ),
            ("OUTPUT_BUCKET", "b"),
            ("SAMPLE_EVERY", "1"),
            ("MAX_IN_FLIGHT", "256"),
            ("CALL_TIMEOUT_MS", "100"),
            ("MAX_ATTEMPTS", "1"),
            ("RETRY_BUDGET_PERCENT", "0"),
            ("OUTPUT_PREFIX", ""),
            ("WRITE_UNSAMPLED", "true"),
            ("AWS_ENDPOINT_URL_EXECUTE_API", "http://127.0.0.1:4567"),
        ]);
        let config = Config::from_env_with(&env).unwrap();
        assert_eq!(config.sample_every, 1);
        assert_eq!(config.max_in_flight, 256);
        assert_eq!(config.call_timeout, Duration::from_millis(100));
        assert_eq!((config.max_attempts, config.retry_budget_percent), (1, 0));
        assert_eq!(config.output_prefix, "");
        assert!(config.write_unsampled);
        assert_eq!(config.endpoint.send_base, "http://127.0.0.1:4567");
        assert_eq!(config.archive, None, "the archive is off by default");

        let env = Env::from_pairs(&[
            ("FARE_API_URL", URL),
            ("API_KEY_PARAMETER", "/p4/api-key"),
            ("OUTPUT_BUCKET", "b"),
            ("FAILED_RECORD_ARCHIVE_BUCKET", "archive"),
            ("FAILED_RECORD_ARCHIVE_PREFIX", "failed/"),
        ]);
        let archive = Config::from_env_with(&env).unwrap().archive.unwrap();
        assert_eq!(
            (archive.bucket.as_str(), archive.prefix.as_str()),
            ("archive", "failed/")
        );
    }

    #[test]
    fn bad_values_are_named() {
        let base = [
            ("FARE_API_URL", URL),
            ("API_KEY_PARAMETER", "/k"),
            ("OUTPUT_BUCKET", "b"),
        ];
        let error = |extra: &[(&str, &str)]| {
            // from_pairs takes the first pair of a name: `extra` overrides `base`.
            let mut pairs = extra.to_vec();
            pairs.extend_from_slice(&base);
            Config::from_env_with(&Env::from_pairs(&pairs))
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            error(&[("SAMPLE_EVERY", "0")]),
            r#"SAMPLE_EVERY="0": an integer in 1..=1000000"#
        );
        assert_eq!(
            error(&[("MAX_IN_FLIGHT", "257")]),
            r#"MAX_IN_FLIGHT="257": an integer in 1..=256"#
        );
        assert_eq!(
            error(&[("CALL_TIMEOUT_MS", "29000")]),
            r#"CALL_TIMEOUT_MS="29000": an integer in 100..=28000"#
        );
        assert_eq!(
            error(&[("MAX_ATTEMPTS", "x")]),
            r#"MAX_ATTEMPTS="x": an integer in 1..=10"#
        );
        assert_eq!(
            error(&[("RETRY_BUDGET_PERCENT", "101")]),
            r#"RETRY_BUDGET_PERCENT="101": an integer in 0..=100"#
        );
        assert!(error(&[("API_KEY_SECRET_ID", "s")]).contains("exactly one"));
        assert!(error(&[("ERROR_PREFIX", "/errors")]).starts_with("ERROR_PREFIX="));
        assert!(error(&[("WRITE_UNSAMPLED", "maybe")]).starts_with("WRITE_UNSAMPLED="));
        assert!(
            error(&[
                ("FAILED_RECORD_ARCHIVE_BUCKET", "a"),
                ("FAILED_RECORD_ARCHIVE_PREFIX", "failed")
            ])
            .starts_with("FAILED_RECORD_ARCHIVE_PREFIX=")
        );
        assert!(
            error(&[(
                "FARE_API_URL",
                "http://x.execute-api.eu-west-1.amazonaws.com/p"
            )])
            .contains("https")
        );
        let missing = Config::from_env_with(&Env::from_pairs(&[
            ("FARE_API_URL", URL),
            ("API_KEY_PARAMETER", "/k"),
        ]));
        assert_eq!(
            missing.unwrap_err().to_string(),
            "OUTPUT_BUCKET is not set (Terraform sets it)"
        );
    }
}
