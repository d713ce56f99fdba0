//! `kstream redrive`: recovers the records of the batches a Kinesis event source mapping gave up.
//!
//! When a mapping gives a batch up (retries exhausted, records too old), Lambda sends its
//! on-failure destination a message that holds only the batch's place in the stream
//! (`KinesisBatchInfo`: stream, shard, first and last sequence numbers, batch size). This
//! command reads those messages from the SQS queue, reads each range back from the stream while
//! the stream still retains it ([`range`]), and, by mode ([`sink`]):
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

mod range;
mod sink;

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use kstream_local::lambda::deployed::{self, BinaryResolver};
use kstream_local::lambda::runtime::FunctionHost;

use self::range::{OnFailureMessage, RangeRead};
use self::sink::{FileSink, Invoker, Sink};
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

/// What a run did.
#[derive(Debug, Default)]
struct Summary {
    messages: u64,
    handled: u64,
    records: u64,
    already: u64,
    unrecoverable: u64,
    unrecoverable_deleted: u64,
    failed: u64,
    foreign: u64,
}

impl Summary {
    fn left(&self) -> u64 {
        self.unrecoverable - self.unrecoverable_deleted + self.failed + self.foreign
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "redrive: {} message(s) read; {} range(s) handled ({} record(s)",
            self.messages, self.handled, self.records
        )?;
        if self.already > 0 {
            write!(f, ", {} already written by an earlier run", self.already)?;
        }
        write!(
            f,
            "); {} unrecoverable ({} deleted); {} failed; {} not on-failure message(s); {} left in the queue",
            self.unrecoverable,
            self.unrecoverable_deleted,
            self.failed,
            self.foreign,
            self.left()
        )
    }
}

/// Runs `kstream redrive`.
pub(crate) async fn run(args: Args) -> miette::Result<()> {
    let sdk = args.connect.sdk_config().await?;
    let kinesis = aws_sdk_kinesis::Client::new(&sdk);
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let (mut sink, host) = sink(&args, &sdk).await?;
    let visibility = i32::try_from(args.visibility_timeout.as_secs())
        .ok()
        .filter(|s| (1..=43_200).contains(s))
        .ok_or_else(|| miette::miette!("--visibility-timeout must be 1s to 12h (SQS's range)"))?;
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    if let Ok(style) =
        ProgressStyle::with_template("{spinner} {elapsed_precise} {pos} message(s) {msg}")
    {
        bar.set_style(style);
    }
    bar.enable_steady_tick(Duration::from_millis(200));
    let say = |text: String| bar.suspend(|| eprintln!("{text}"));
    let mut summary = Summary::default();
    let mut seen: HashSet<String> = HashSet::new();
    let mut kept: Vec<String> = Vec::new();
    let mut stop = false;
    loop {
        let out = sqs
            .receive_message()
            .queue_url(&args.queue)
            .max_number_of_messages(10)
            .visibility_timeout(visibility)
            .wait_time_seconds(1)
            .send()
            .await
            .map_err(|e| {
                miette::miette!("{}", kstream_producer::sdk_error_message(&e))
                    .wrap_err(format!("cannot receive from {}", args.queue))
            })?;
        let mut new = 0;
        for message in out.messages() {
            let (Some(id), Some(receipt)) = (message.message_id(), message.receipt_handle()) else {
                continue;
            };
            if !seen.insert(id.to_owned()) {
                continue; // kept earlier in this run, visible again
            }
            if args.max_messages.is_some_and(|n| summary.messages >= n) {
                // Not ours to handle in this run: visible again at the end.
                kept.push(receipt.to_owned());
                stop = true;
                continue;
            }
            new += 1;
            summary.messages += 1;
            bar.inc(1);
            let body = message.body().unwrap_or_default();
            let info = match serde_json::from_str::<OnFailureMessage>(body) {
                Ok(m) => m.info,
                Err(e) => {
                    summary.foreign += 1;
                    say(format!(
                        "message {id}: not a Kinesis on-failure message ({e}); left in the queue"
                    ));
                    kept.push(receipt.to_owned());
                    continue;
                }
            };
            bar.set_message(info.to_string());
            let delete = match range::read(&kinesis, &info).await {
                Err(e) => {
                    summary.failed += 1;
                    say(format!("{info}: not read, left in the queue: {e:?}"));
                    false
                }
                Ok(RangeRead::Lost(why)) => {
                    summary.unrecoverable += 1;
                    let fate = if args.delete_unrecoverable {
                        summary.unrecoverable_deleted += 1;
                        "message deleted (--delete-unrecoverable)"
                    } else {
                        "left in the queue"
                    };
                    say(format!("unrecoverable: {info}: {why}; {fate}"));
                    args.delete_unrecoverable
                }
                Ok(RangeRead::Retained(records)) => match sink.handle(&info, &records).await {
                    Ok(handled) => {
                        summary.handled += 1;
                        summary.records += handled.records;
                        summary.already += handled.already;
                        true
                    }
                    Err(e) => {
                        summary.failed += 1;
                        say(format!("{info}: not handled, left in the queue: {e}"));
                        false
                    }
                },
            };
            if delete {
                sqs.delete_message()
                    .queue_url(&args.queue)
                    .receipt_handle(receipt)
                    .send()
                    .await
                    .map_err(|e| {
                        miette::miette!("{}", kstream_producer::sdk_error_message(&e)).wrap_err(
                            format!("{info} was handled but its message cannot be deleted"),
                        )
                    })?;
            } else {
                kept.push(receipt.to_owned());
            }
        }
        if new == 0 || stop {
            break;
        }
    }
    bar.finish_and_clear();
    // What is left is visible again now, not after the visibility timeout.
    for receipt in &kept {
        if let Err(e) = sqs
            .change_message_visibility()
            .queue_url(&args.queue)
            .receipt_handle(receipt)
            .visibility_timeout(0)
            .send()
            .await
        {
            tracing::warn!(
                "a message left in the queue stays hidden until its visibility timeout: {}",
                kstream_producer::sdk_error_message(&e)
            );
        }
    }
    if let Some(host) = host {
        host.shutdown().await;
    }
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

/// The sink of the chosen mode (and the local host to shut down, for `--invoke --local`).
async fn sink(
    args: &Args,
    sdk: &aws_config::SdkConfig,
) -> miette::Result<(Sink, Option<FunctionHost>)> {
    let mode = &args.mode;
    if let Some(path) = &mode.to_file {
        return Ok((Sink::File(FileSink::open(path)?), None));
    }
    if let Some(prefix) = &mode.to_s3 {
        let client = s3_input::client(sdk, args.bucket_region.as_deref());
        return Ok((
            Sink::S3 {
                client,
                prefix: prefix.clone(),
            },
            None,
        ));
    }
    if mode.reput {
        return Ok((Sink::Reput(aws_sdk_kinesis::Client::new(sdk)), None));
    }
    let function = mode
        .invoke
        .clone()
        .ok_or_else(|| miette::miette!("choose a mode: --to-file, --to-s3, --reput or --invoke"))?;
    if args.local.local {
        let host = local_host(&args.local, sdk, &function).await?;
        return Ok((
            Sink::Invoke(Invoker::Local {
                host: host.clone(),
                function,
            }),
            Some(host),
        ));
    }
    let client = aws_sdk_lambda::Client::new(sdk);
    let config = client
        .get_function_configuration()
        .function_name(&function)
        .send()
        .await
        .map_err(|e| {
            miette::miette!("{}", kstream_producer::sdk_error_message(&e))
                .wrap_err(format!("cannot read the configuration of {function}"))
        })?;
    let region = sdk.region().map(ToString::to_string).unwrap_or_default();
    Ok((
        Sink::Invoke(Invoker::Lambda {
            client,
            role_arn: config.role().unwrap_or_default().to_owned(),
            function,
            region,
        }),
        None,
    ))
}

/// A Runtime API host running `function` as deployed on the emulator, from its local binary.
async fn local_host(
    local: &LocalArgs,
    sdk: &aws_config::SdkConfig,
    function: &str,
) -> miette::Result<FunctionHost> {
    let refused = crate::local_guard::non_local_endpoints(std::env::vars()).await;
    if !refused.is_empty() {
        return Err(crate::local_guard::refusal(&refused)
            .wrap_err("--invoke --local runs the function as deployed on the emulator"));
    }
    let deployed = deployed::load(sdk)
        .await
        .map_err(|e| miette::miette!("cannot read the deployed functions: {e}"))?;
    let found = deployed
        .functions
        .iter()
        .find(|f| f.spec.name == function || f.spec.arn == function)
        .ok_or_else(|| miette::miette!("no function {function} is deployed on the emulator"))?;
    let mut resolver = BinaryResolver::default().functions_dir(&local.functions_dir);
    for (name, path) in &local.binaries {
        resolver = resolver.binary(name, path);
    }
    let binary = resolver.resolve(found).ok_or_else(|| {
        miette::miette!(
            help = format!("pass --functions-dir or --binary {}=PATH", found.spec.name),
            "no binary found for {}",
            found.spec.name
        )
    })?;
    let mut spec = found.spec.clone();
    spec.binary = binary;
    let host = FunctionHost::builder().build();
    host.register(spec);
    Ok(host)
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

    #[test]
    fn the_summary_counts_what_is_left() {
        let s = Summary {
            messages: 4,
            handled: 1,
            records: 7,
            unrecoverable: 2,
            unrecoverable_deleted: 1,
            failed: 1,
            ..Summary::default()
        };
        assert_eq!(s.left(), 2);
        let text = s.to_string();
        assert!(
            text.contains("4 message(s) read; 1 range(s) handled (7 record(s))"),
            "{text}"
        );
        assert!(text.contains("2 unrecoverable (1 deleted)"), "{text}");
    }
}
