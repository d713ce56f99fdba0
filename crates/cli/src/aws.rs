//! Connection flags shared by the commands that talk to Kinesis.

/// `--endpoint-url` and `--region`; without them the SDK's usual sources apply
/// (`AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_KINESIS`, `AWS_REGION`, profiles).
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "AWS connection")]
pub(crate) struct ConnectArgs {
    /// Kinesis endpoint, e.g. http://127.0.0.1:4566 for the local emulator.
    ///
    /// Default: AWS_ENDPOINT_URL_KINESIS, else AWS_ENDPOINT_URL, else the AWS endpoint of the
    /// region. It applies to every AWS call of the command, CloudWatch too unless
    /// --cloudwatch-endpoint-url is given.
    #[arg(long, value_name = "URL")]
    pub(crate) endpoint_url: Option<String>,
    /// AWS region (default: AWS_REGION, else the profile's).
    #[arg(long)]
    pub(crate) region: Option<String>,
}

impl ConnectArgs {
    /// The SDK configuration for these flags (shared by the Kinesis and CloudWatch clients, so
    /// endpoints, profiles and credentials apply to both).
    pub(crate) async fn sdk_config(&self) -> miette::Result<aws_config::SdkConfig> {
        let sdk =
            kstream_producer::sdk_config(self.endpoint_url.as_deref(), self.region.as_deref())
                .await;
        if sdk.region().is_none() {
            return Err(miette::miette!(
                help = "pass --region, or set AWS_REGION (us-east-1 for the local emulator)",
                "no AWS region configured"
            ));
        }
        Ok(sdk)
    }

    /// A Kinesis client for these flags.
    pub(crate) async fn kinesis(&self) -> miette::Result<aws_sdk_kinesis::Client> {
        Ok(aws_sdk_kinesis::Client::new(&self.sdk_config().await?))
    }
}

/// Parses durations such as `500ms`, `5s`, `2m`, `1h` (a bare number is seconds).
pub(crate) fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration (try 500ms, 5s, 2m, 1h)"))?;
    let seconds = match unit.trim() {
        "" | "s" | "sec" | "secs" => value,
        "ms" => value / 1000.0,
        "m" | "min" | "mins" => value * 60.0,
        "h" => value * 3600.0,
        other => {
            return Err(format!(
                "unknown duration unit {other:?} (use ms, s, m or h)"
            ));
        }
    };
    std::time::Duration::try_from_secs_f64(seconds).map_err(|e| e.to_string())
}

/// Converts an SDK error into a diagnostic with its causes.
pub(crate) fn sdk_error<E, R>(err: aws_sdk_kinesis::error::SdkError<E, R>) -> miette::Report
where
    E: aws_sdk_kinesis::error::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    miette::miette!("{}", kstream_producer::sdk_error_message(&err))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_duration("5"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1.5h"), Ok(Duration::from_secs(5400)));
        assert!(parse_duration("5 parsecs").is_err());
        assert!(parse_duration("s").is_err());
    }
}
