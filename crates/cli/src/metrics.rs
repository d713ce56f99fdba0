//! `--metrics-*`: the producer's KPL-named metrics published to CloudWatch, for `produce`,
//! `put` and `replay` (flattened into [`ProducerArgs`](crate::producing::ProducerArgs)).
//!
//! The names are the KPL's configuration keys (`MetricsLevel`, `MetricsGranularity`,
//! `MetricsNamespace`, `MetricsUploadDelay`, `CloudwatchEndpoint`) and so are the defaults,
//! except the level: the KPL publishes `detailed` metrics unless told otherwise, the CLI
//! publishes nothing unless asked (a command-line tool should not write to CloudWatch, and bill
//! for it, by surprise). The granularity is the KPL's default, `shard`: every metric overall and
//! per stream, and the per-shard ones (`kstream_producer::SHARD_METRIC_NAMES`) per shard.

use std::time::Duration;

use kstream_producer::{
    MetricsGranularity, MetricsLevel, MetricsPublisher, MetricsSnapshot, Producer,
};

use crate::aws::parse_duration;

/// The KPL's default namespace (`MetricsNamespace`).
pub(crate) const DEFAULT_NAMESPACE: &str = "KinesisProducerLibrary";

/// CloudWatch metrics of the producer (KPL names; published only with --metrics-level).
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "CloudWatch metrics (KPL names)")]
pub(crate) struct MetricsArgs {
    /// Producer metrics to publish to CloudWatch (KPL MetricsLevel; the CLI's default is none).
    ///
    /// summary: the KPL's summary metrics, UserRecordsPut, KinesisRecordsPut, ErrorsByCode
    /// (dimension ErrorCode), AllErrors, UserRecordExpired, BufferingTime (at
    /// --metrics-granularity); detailed: every metric, summary plus UserRecordsReceived,
    /// UserRecordsPending, UserRecordsDataPut, KinesisRecordsDataPut,
    /// UserRecordsPerKinesisRecord, RetriesPerRecord, RequestTime,
    /// KinesisRecordsPerPutRecordsRequest, UserRecordsPerPutRecordsRequest. The KPL's default is
    /// detailed; the CLI publishes nothing unless asked.
    #[arg(long, value_enum, default_value_t = Level::None, value_name = "LEVEL")]
    pub(crate) metrics_level: Level,
    /// Breakdown of the published metrics (KPL MetricsGranularity; default shard, as the KPL).
    ///
    /// global: one series per metric, over every stream and shard (no StreamName dimension);
    /// stream: global plus one series per stream (dimension StreamName); shard: stream plus one
    /// series per shard (dimensions StreamName, ShardId) for the metrics the KPL reports per
    /// shard (all but UserRecordsReceived, UserRecordsPending and the per-request RequestTime,
    /// KinesisRecordsPerPutRecordsRequest, UserRecordsPerPutRecordsRequest).
    #[arg(long, value_enum, default_value_t = Granularity::Shard, value_name = "GRANULARITY")]
    pub(crate) metrics_granularity: Granularity,
    /// CloudWatch namespace of the metrics (KPL MetricsNamespace).
    #[arg(
        long,
        default_value = DEFAULT_NAMESPACE,
        value_parser = clap::builder::NonEmptyStringValueParser::new(),
        value_name = "NAMESPACE"
    )]
    pub(crate) metrics_namespace: String,
    /// How often metrics are uploaded, 1s to 60s (KPL MetricsUploadDelay).
    ///
    /// What is counted after the last periodic upload is uploaded when the command ends.
    #[arg(long, default_value = "60s", value_parser = parse_upload_delay, value_name = "DURATION")]
    pub(crate) metrics_upload_delay: Duration,
    /// CloudWatch endpoint (KPL CloudwatchEndpoint).
    ///
    /// Default: AWS_ENDPOINT_URL_CLOUDWATCH, else --endpoint-url or AWS_ENDPOINT_URL, else the
    /// AWS endpoint of the region.
    #[arg(long, value_name = "URL")]
    pub(crate) cloudwatch_endpoint_url: Option<String>,
}

/// `--metrics-level` values (the KPL's `none`, `summary`, `detailed`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Level {
    /// Publish nothing.
    None,
    /// The KPL's summary metrics (kstream_producer::SUMMARY_METRIC_NAMES).
    Summary,
    /// Every metric (kstream_producer::METRIC_NAMES).
    Detailed,
}

impl From<Level> for MetricsLevel {
    fn from(level: Level) -> Self {
        match level {
            Level::None => MetricsLevel::None,
            Level::Summary => MetricsLevel::Summary,
            Level::Detailed => MetricsLevel::Detailed,
        }
    }
}

/// `--metrics-granularity` values (the KPL's `global`, `stream`, `shard`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Granularity {
    /// Overall only (no StreamName dimension).
    Global,
    /// Overall and per stream (StreamName).
    Stream,
    /// Overall, per stream and per shard (StreamName, ShardId).
    Shard,
}

impl From<Granularity> for MetricsGranularity {
    fn from(granularity: Granularity) -> Self {
        match granularity {
            Granularity::Global => MetricsGranularity::Global,
            Granularity::Stream => MetricsGranularity::Stream,
            Granularity::Shard => MetricsGranularity::Shard,
        }
    }
}

/// Accepts what the producer accepts for `MetricsUploadDelay`: 1 s to 60 s.
fn parse_upload_delay(text: &str) -> Result<Duration, String> {
    let delay = parse_duration(text)?;
    if (Duration::from_secs(1)..=Duration::from_secs(60)).contains(&delay) {
        Ok(delay)
    } else {
        Err(format!(
            "{text:?} is out of range: the upload delay is 1s to 60s"
        ))
    }
}

impl MetricsArgs {
    /// Whether anything is published.
    pub(crate) fn enabled(&self) -> bool {
        self.metrics_level != Level::None
    }

    /// A CloudWatch client from the same SDK configuration as the Kinesis client, with
    /// `--cloudwatch-endpoint-url` if given.
    pub(crate) fn client(&self, sdk: &aws_config::SdkConfig) -> aws_sdk_cloudwatch::Client {
        let mut config = aws_sdk_cloudwatch::config::Builder::from(sdk);
        if let Some(url) = &self.cloudwatch_endpoint_url {
            config = config.endpoint_url(url);
        }
        aws_sdk_cloudwatch::Client::from_conf(config.build())
    }
}

/// The running publisher of one command, if `--metrics-level` asked for one.
#[derive(Debug)]
pub(crate) struct Publishing {
    publisher: MetricsPublisher,
    namespace: String,
    stream: String,
    granularity: MetricsGranularity,
}

impl Publishing {
    /// Starts publishing the producer's metrics (nothing at `--metrics-level none`).
    pub(crate) fn start(
        args: &MetricsArgs,
        sdk: &aws_config::SdkConfig,
        producer: &Producer,
    ) -> Option<Self> {
        if !args.enabled() {
            return None;
        }
        let publisher = producer.start_metrics_publisher(args.client(sdk))?;
        Some(Self {
            publisher,
            namespace: producer.config().metrics_namespace().to_owned(),
            stream: producer.config().stream_name().to_owned(),
            granularity: producer.config().metrics_granularity(),
        })
    }

    /// Uploads the last interval (`last`, the snapshot at shutdown) and says where the metrics
    /// went, or why the last upload failed. A failed upload is a warning, not a failure of the
    /// command: the records are in the stream either way.
    pub(crate) async fn finish(self, last: MetricsSnapshot) -> String {
        match self.publisher.finish(last).await {
            Ok(()) => format!(
                "metrics published to CloudWatch: namespace {}, {}",
                self.namespace,
                series(self.granularity, &self.stream)
            ),
            Err(e) if e.to_string().contains("HTTP 404") => format!(
                "warning: {e} (is the CloudWatch endpoint a CloudWatch one? The local emulator, \
                 moto, does not serve the protocol of today's SDK: pass --cloudwatch-endpoint-url \
                 or leave --metrics-level at none)"
            ),
            Err(e) => format!("warning: {e}"),
        }
    }
}

/// The series a granularity publishes, for the closing summary.
fn series(granularity: MetricsGranularity, stream: &str) -> String {
    match granularity {
        MetricsGranularity::Global => "overall only (no dimension)".to_owned(),
        MetricsGranularity::Stream => format!("overall and per stream (StreamName={stream})"),
        _ => format!("overall, per stream (StreamName={stream}) and per shard (ShardId)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_line_names_the_series_of_each_granularity() {
        assert_eq!(
            series(MetricsGranularity::Global, "s"),
            "overall only (no dimension)"
        );
        assert_eq!(
            series(MetricsGranularity::Stream, "s"),
            "overall and per stream (StreamName=s)"
        );
        assert_eq!(
            series(MetricsGranularity::Shard, "s"),
            "overall, per stream (StreamName=s) and per shard (ShardId)"
        );
    }

    #[test]
    fn granularities_map_to_the_kpl_ones() {
        for (flag, kpl) in [
            (Granularity::Global, MetricsGranularity::Global),
            (Granularity::Stream, MetricsGranularity::Stream),
            (Granularity::Shard, MetricsGranularity::Shard),
        ] {
            assert_eq!(MetricsGranularity::from(flag), kpl);
        }
    }
}
