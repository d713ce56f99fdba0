//! `kstream`: send data to Kinesis, read it back, and run the local data plane.
//!
//! Each subcommand lives in its own module with an `Args` struct and a `run` function;
//! this file only parses the command line and dispatches.

use clap::{Parser, Subcommand};

mod aws;
mod deagg;
mod feed;
mod input;
mod local;
mod local_guard;
mod metrics;
mod produce;
mod producing;
mod put;
mod redrive;
mod replay;
mod s3_input;
mod tail;
mod watermark;

/// Streaming data pipelines on Amazon Kinesis: producer, tools and the local data plane.
#[derive(Debug, Parser)]
#[command(name = "kstream", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Produce stock-ticker records (pattern 2) with KPL-compatible aggregation.
    Produce(produce::Args),
    /// Put JSON lines from a file or stdin, with a partition-key template.
    Put(put::Args),
    /// Replay JSON lines in event-time order, scaled by a speedup (pattern 4).
    Replay(replay::Args),
    /// Read every shard of a stream, deaggregate, print JSON lines.
    Tail(tail::Args),
    /// Decode KPL-aggregated records for debugging.
    Deagg(deagg::Args),
    /// The local data plane: run deployed patterns on this machine.
    Local(local::Args),
    /// Recover the records of batches a mapping gave up: read its on-failure queue, re-read
    /// each range from the stream, and write, re-put or re-invoke them.
    Redrive(redrive::Args),
}

#[tokio::main]
async fn main() -> miette::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Produce(args) => produce::run(args).await,
        Command::Put(args) => put::run(args).await,
        Command::Replay(args) => replay::run(args).await,
        Command::Tail(args) => tail::run(args).await,
        Command::Deagg(args) => deagg::run(args).await,
        Command::Local(args) => local::run(args).await,
        Command::Redrive(args) => redrive::run(args).await,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use clap::CommandFactory;
    use kstream_producer::{MetricsGranularity, MetricsLevel};

    use super::*;
    use crate::producing::ProducerArgs;

    fn producer_args(argv: &[&str]) -> ProducerArgs {
        let cli = Cli::try_parse_from(argv).unwrap_or_else(|e| panic!("{argv:?}: {e}"));
        match cli.command {
            Command::Produce(args) => args.producer,
            Command::Put(args) => args.producer,
            Command::Replay(args) => args.producer,
            other => panic!("not a producing command: {other:?}"),
        }
    }

    const PRODUCING: [&[&str]; 3] = [
        &["kstream", "produce", "--stream", "s"],
        &["kstream", "put", "--stream", "s", "in.jsonl"],
        &["kstream", "replay", "--stream", "s", "in.jsonl"],
    ];

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn metrics_are_off_by_default_with_the_kpl_namespace_and_delay() {
        for argv in PRODUCING {
            let args = producer_args(argv);
            assert!(!args.metrics.enabled(), "{argv:?}");
            assert_eq!(args.metrics.cloudwatch_endpoint_url, None);
            let config = args.config("s").unwrap();
            assert_eq!(config.metrics_level(), MetricsLevel::None, "{argv:?}");
            assert_eq!(config.metrics_granularity(), MetricsGranularity::Shard);
            assert_eq!(config.metrics_namespace(), "KinesisProducerLibrary");
            assert_eq!(config.metrics_upload_delay(), Duration::from_secs(60));
        }
    }

    #[test]
    fn metrics_flags_reach_the_producer_config_in_every_producing_command() {
        for argv in PRODUCING {
            for (level, expected) in [
                ("none", MetricsLevel::None),
                ("summary", MetricsLevel::Summary),
                ("detailed", MetricsLevel::Detailed),
            ] {
                let mut argv = argv.to_vec();
                argv.extend([
                    "--metrics-level",
                    level,
                    "--metrics-namespace",
                    "kstream/test",
                    "--metrics-upload-delay",
                    "5s",
                    "--cloudwatch-endpoint-url",
                    "http://127.0.0.1:1",
                ]);
                let args = producer_args(&argv);
                assert_eq!(args.metrics.enabled(), level != "none");
                assert_eq!(
                    args.metrics.cloudwatch_endpoint_url.as_deref(),
                    Some("http://127.0.0.1:1")
                );
                let config = args.config("s").unwrap();
                assert_eq!(config.metrics_level(), expected, "{argv:?}");
                assert_eq!(config.metrics_namespace(), "kstream/test");
                assert_eq!(config.metrics_upload_delay(), Duration::from_secs(5));
            }
            for (granularity, expected) in [
                ("global", MetricsGranularity::Global),
                ("stream", MetricsGranularity::Stream),
                ("shard", MetricsGranularity::Shard),
            ] {
                let mut argv = argv.to_vec();
                argv.extend(["--metrics-granularity", granularity]);
                let config = producer_args(&argv).config("s").unwrap();
                assert_eq!(config.metrics_granularity(), expected, "{argv:?}");
            }
        }
    }

    #[test]
    fn bad_metrics_flags_are_rejected_naming_the_flag() {
        for (flag, value, expected) in [
            (
                "--metrics-level",
                "verbose",
                "possible values: none, summary, detailed",
            ),
            (
                "--metrics-granularity",
                "host",
                "possible values: global, stream, shard",
            ),
            ("--metrics-upload-delay", "500ms", "1s to 60s"),
            ("--metrics-upload-delay", "2m", "1s to 60s"),
            ("--metrics-upload-delay", "soon", "not a duration"),
            ("--metrics-namespace", "", "--metrics-namespace"),
        ] {
            let mut argv = PRODUCING[0].to_vec();
            argv.extend([flag, value]);
            let err = Cli::try_parse_from(&argv).unwrap_err().to_string();
            assert!(err.contains(flag), "{argv:?}: {err}");
            assert!(err.contains(expected), "{argv:?}: {err}");
        }
    }
}
