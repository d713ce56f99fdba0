//! `kstream redrive`: recovers the records of the batches a Kinesis event source mapping gave up.
//!
//! When a mapping gives a batch up (retries exhausted, records too old), Lambda sends its
//! on-failure destination a message that holds only the batch's place in the stream
//! (`KinesisBatchInfo`: stream, shard, first and last sequence numbers, batch size). This
//! command reads those messages from the SQS queue, reads each range back from the stream while
//! the stream still retains it, and, by mode:
//! - `--to-file PATH` / `--to-s3 s3://bucket/prefix/`: writes the user records (KPL aggregates
//!   deaggregated) as JSON lines for inspection; a file skips the records it already holds, an
//!   S3 object's key derives from the range, so a second run writes no duplicate;
//! - `--reput`: puts the user records into the stream again (retrying the failed entries);
//! - `--invoke FUNCTION`: invokes the function with Kinesis events built from the range's
//!   records as Lambda builds them (aggregates as they are in the stream, batches of the
//!   message's batch size and at most 6 MB); an error or a `batchItemFailures` answer leaves
//!   the range unhandled. `--local` runs the function's binary on this machine as
//!   `kstream local` does, with its configuration read from the emulator.
//!
//! A message is deleted only once its range is handled in full. A range the stream no longer
//! holds (trimmed by retention) is reported and its message left in the queue, unless
//! `--delete-unrecoverable`. Messages left in the queue are made visible again at the end, so
//! the next run (or a person) sees them at once. A summary ends the run; the command fails when
//! it leaves messages in the queue.
//!
//! The pass itself (messages, ranges, the S3, re-put and invoke sinks) is the
//! [`kstream_redrive`] library, which the `redrive` Lambda function runs too; this command adds
//! the file sink ([`file`]), the local invoker ([`local`]), progress and the exit status.

mod file;
mod local;

use std::path::PathBuf;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use kstream_local::lambda::mapping::event::StreamRecord;
use kstream_redrive::{
    BatchInfo, Handled, InvokeSink, LambdaInvoker, Observer, Pass, ReputSink, S3Sink, Sink,
};

use self::file::FileSink;
use self::local::LocalInvoker;
use crate::aws::{ConnectArgs, parse_duration};
use crate::s3_input::{self, S3Prefix};

/// Arguments of `kstream redrive`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The mapping's on-failure destination queue.
    #[arg(long, value_name = "URL")]
    queue: String,
    #[command(flatten)]
    mode: Mode,
    #[command(flatten)]
    local: LocalArgs,
    /// Delete the messages whose range the stream no longer holds (they are reported either way).
    #[arg(long)]
    delete_unrecoverable: bool,
    /// How long a message being handled stays hidden from other readers of the queue.
    #[arg(long, default_value = "5m", value_parser = parse_duration, value_name = "DURATION")]
    visibility_timeout: Duration,
    /// Stop after this many messages.
    #[arg(long, value_name = "COUNT")]
    max_messages: Option<u64>,
    /// With --to-s3: the bucket's region (default: --region, else AWS_REGION).
    #[arg(long, value_name = "REGION", requires = "to_s3")]
    bucket_region: Option<String>,
    #[command(flatten)]
    connect: ConnectArgs,
}

/// What to do with the records (exactly one).
#[derive(Debug, clap::Args)]
#[group(required = true, multiple = false)]
struct Mode {
    /// Append the records to this file as JSON lines (records it already holds are skipped).
    #[arg(long, value_name = "PATH")]
    to_file: Option<PathBuf>,
    /// Write each range's records as one JSON-lines object under this prefix, at
    /// `<prefix><stream>/<shard>/<start>-<end>.jsonl`.
    #[arg(long, value_name = "s3://BUCKET/PREFIX/", value_parser = S3Prefix::parse)]
    to_s3: Option<S3Prefix>,
    /// Put the records into their stream again (the consumer processes them again).
    #[arg(long)]
    reput: bool,
    /// Invoke this function with the records, as the mapping would.
    #[arg(long, value_name = "FUNCTION")]
    invoke: Option<String>,
}

/// `--invoke` on this machine.
#[derive(Debug, clap::Args)]
#[command(next_help_heading = "Invoking on this machine")]
struct LocalArgs {
    /// With --invoke: run the function's binary on this machine through the local Runtime API
    /// host, with its configuration as deployed on the emulator (AWS_ENDPOINT_URL), as
    /// `kstream local` does.
    #[arg(long, requires = "invoke")]
    local: bool,
    /// With --local: where the functions' binaries are.
    #[arg(long, default_value = "target/release", value_name = "DIR")]
    functions_dir: PathBuf,
    /// With --local: run a function from this binary: `--binary NAME=PATH`.
    #[arg(long = "binary", value_name = "NAME=PATH", value_parser = crate::local::parse_binary, requires = "local")]
    binaries: Vec<(String, PathBuf)>,
}

/// Runs `kstream redrive`.
pub(crate) async fn run(args: Args) -> miette::Result<()> {
    let sdk = args.connect.sdk_config().await?;
    let kinesis = aws_sdk_kinesis::Client::new(&sdk);
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let pass = Pass::new(&args.queue)
        .visibility_timeout(args.visibility_timeout)
        .map_err(|_| miette::miette!("--visibility-timeout must be 1s to 12h (SQS's range)"))?
        .max_messages(args.max_messages)
        .delete_unrecoverable(args.delete_unrecoverable);
    let mut sink = sink(&args, &sdk).await?;
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    if let Ok(style) =
        ProgressStyle::with_template("{spinner} {elapsed_precise} {pos} message(s) {msg}")
    {
        bar.set_style(style);
    }
    bar.enable_steady_tick(Duration::from_millis(200));
    let mut progress = Progress { bar: bar.clone() };
    let summary = pass.run(&sqs, &kinesis, &mut sink, &mut progress).await;
    bar.finish_and_clear();
    if let CliSink::Local(local) = &sink {
        local.invoker().shutdown().await;
    }
    let summary = summary.map_err(|e| miette::miette!("{e}"))?;
    eprintln!("{summary}");
    if summary.left() > 0 {
        return Err(miette::miette!(
            help = "see the lines above: run again once the cause is fixed; a range the stream no longer holds can only be given up (--delete-unrecoverable)",
            "{} message(s) left in {}",
            summary.left(),
            args.queue
        ));
    }
    Ok(())
}

/// The progress bar, and the pass's notes printed above it.
struct Progress {
    bar: ProgressBar,
}

impl Observer for Progress {
    fn message(&mut self, info: Option<&BatchInfo>) {
        self.bar.inc(1);
        if let Some(info) = info {
            self.bar.set_message(info.to_string());
        }
    }

    fn note(&mut self, text: &str) {
        self.bar.suspend(|| eprintln!("{text}"));
    }
}

/// The sink of the chosen mode.
enum CliSink {
    File(FileSink),
    S3(S3Sink<aws_sdk_s3::Client>),
    Reput(ReputSink<aws_sdk_kinesis::Client>),
    Lambda(InvokeSink<LambdaInvoker<aws_sdk_lambda::Client>>),
    Local(InvokeSink<LocalInvoker>),
}

impl Sink for CliSink {
    async fn handle(
        &mut self,
        info: &BatchInfo,
        records: &[StreamRecord],
    ) -> kstream_redrive::Result<Handled> {
        match self {
            CliSink::File(s) => s.handle(info, records).await,
            CliSink::S3(s) => s.handle(info, records).await,
            CliSink::Reput(s) => s.handle(info, records).await,
            CliSink::Lambda(s) => s.handle(info, records).await,
            CliSink::Local(s) => s.handle(info, records).await,
        }
    }
}

/// The sink of the chosen mode (for `--invoke --local`, with its host started).
async fn sink(args: &Args, sdk: &aws_config::SdkConfig) -> miette::Result<CliSink> {
    let mode = &args.mode;
    if let Some(path) = &mode.to_file {
        return Ok(CliSink::File(FileSink::open(path)?));
    }
    if let Some(prefix) = &mode.to_s3 {
        let client = s3_input::client(sdk, args.bucket_region.as_deref());
        return Ok(CliSink::S3(S3Sink::new(client, prefix.clone())));
    }
    if mode.reput {
        return Ok(CliSink::Reput(ReputSink::new(
            aws_sdk_kinesis::Client::new(sdk),
        )));
    }
    let function = mode
        .invoke
        .clone()
        .ok_or_else(|| miette::miette!("choose a mode: --to-file, --to-s3, --reput or --invoke"))?;
    if args.local.local {
        let invoker = LocalInvoker::start(&args.local, sdk, &function).await?;
        return Ok(CliSink::Local(InvokeSink::new(invoker)));
    }
    let invoker = LambdaInvoker::connect(aws_sdk_lambda::Client::new(sdk), function)
        .await
        .map_err(|e| miette::miette!("{e}"))?;
    Ok(CliSink::Lambda(InvokeSink::new(invoker)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        args: Args,
    }

    #[test]
    fn exactly_one_mode_is_required() {
        let parse = |argv: &[&str]| {
            let mut full = vec!["redrive", "--queue", "http://q"];
            full.extend(argv);
            Cli::try_parse_from(full).map(|c| c.args)
        };
        assert!(parse(&[]).is_err());
        assert!(parse(&["--reput", "--to-file", "x"]).is_err());
        assert!(parse(&["--local"]).is_err(), "--local needs --invoke");
        let args = parse(&["--invoke", "f", "--local", "--binary", "f=/bin/f"]).unwrap();
        assert!(args.local.local);
        assert_eq!(args.mode.invoke.as_deref(), Some("f"));
        let args = parse(&["--to-s3", "s3://bucket/redrive/"]).unwrap();
        assert_eq!(args.mode.to_s3.unwrap().prefix, "redrive/");
        assert!(parse(&["--to-s3", "s3://B/"]).is_err());
    }
}
