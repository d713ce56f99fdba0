//! `kstream`: send data to Kinesis, read it back, and run the local data plane.
//!
//! Each subcommand lives in its own module with an `Args` struct and a `run` function;
//! this file only parses the command line and dispatches.

use clap::{Parser, Subcommand};

mod aws;
mod deagg;
mod input;
mod local;
mod produce;
mod producing;
mod put;
mod replay;
mod tail;

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
    }
}
