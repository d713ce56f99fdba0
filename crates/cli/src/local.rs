//! `kstream local`: the AWS data plane on this machine, for whatever is deployed on the emulator.
//!
//! `kstream local up` reads the deployed functions, Kinesis event source mappings, REST APIs and
//! Firehose delivery streams from the endpoint in `AWS_ENDPOINT_URL` (the emulator), runs the
//! function binaries through a local Lambda Runtime API, polls the streams, serves the APIs and
//! delivers the Firehose streams to S3 (every function gets `AWS_ENDPOINT_URL_EXECUTE_API`, the
//! API executor's URL, so calls to `https://{api}.execute-api.{region}.amazonaws.com` stay local),
//! until Ctrl-C (or SIGTERM): then in-flight invocations
//! finish, Firehose buffers are flushed and checkpoints are saved. `kstream local status` reads
//! the status file a running `up` rewrites every second.

use std::io::{IsTerminal as _, Write as _};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use kstream_local::dataplane::{DataPlane, StatusHandle};
use kstream_local::lambda::deployed::BinaryResolver;
use kstream_local::lambda::mapping::{RunnerOptions, StartingPosition};
use kstream_local::status::StatusReport;
use miette::{Context as _, IntoDiagnostic as _};

/// Arguments of `kstream local`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(subcommand)]
    command: LocalCommand,
}

#[derive(Debug, clap::Subcommand)]
enum LocalCommand {
    /// Run the data plane for everything deployed: functions, Kinesis mappings, REST APIs,
    /// Firehose delivery streams.
    Up(UpArgs),
    /// Show what a running `kstream local up` is doing.
    Status(StatusArgs),
}

#[derive(Debug, clap::Args)]
struct UpArgs {
    /// Where checkpoints, function logs (logs/<function>.log) and status.json live.
    #[arg(
        long,
        env = "KSTREAM_LOCAL_STATE_DIR",
        default_value = ".kstream/local"
    )]
    state_dir: PathBuf,
    /// Directory of function binaries built for this machine (`cargo build --release -p <fn>`).
    /// A function named `<prefix>-<package>` runs `<dir>/<package>`; the tag `kstream:package`
    /// names the package explicitly.
    #[arg(long, default_value = "target/release")]
    functions_dir: PathBuf,
    /// Run a function from this binary: `--binary NAME=PATH` (repeatable).
    #[arg(long = "binary", value_name = "NAME=PATH", value_parser = parse_binary)]
    binaries: Vec<(String, PathBuf)>,
    /// Port of the REST API executor on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 4567)]
    api_port: u16,
    /// Do not serve the REST APIs.
    #[arg(long)]
    no_api: bool,
    /// Port of Lambda's Invoke API for the functions run here, on 127.0.0.1 (0, the default,
    /// picks a free one); functions get it as AWS_ENDPOINT_URL_LAMBDA, other Lambda operations
    /// are passed to the emulator.
    #[arg(long, default_value_t = 0)]
    lambda_port: u16,
    /// Run even though AWS_ENDPOINT_URL (or a service-specific AWS_ENDPOINT_URL_*) is unset or
    /// names a host that is not this machine: the data plane then polls those streams and writes
    /// to those queues and buckets with your credentials.
    #[arg(long)]
    allow_real_aws: bool,
    /// Also copy function output to stderr.
    #[arg(long)]
    console_logs: bool,
    /// Most processes (concurrent invocations) per function.
    #[arg(long, default_value_t = 10)]
    max_concurrency: usize,
    /// Pause between GetRecords calls on an idle shard, in milliseconds.
    #[arg(long, default_value_t = 250)]
    poll_interval_ms: u64,
    /// No live status line on stderr.
    #[arg(long)]
    no_status_line: bool,
    /// Only run the functions, mappings and REST APIs whose names start with this prefix (one
    /// deployment's name_prefix, in an emulator that holds others too).
    #[arg(long)]
    name_prefix: Option<String>,
    /// Log format (AWS_LAMBDA_LOG_FORMAT) for functions whose logging config the emulator does
    /// not report (moto keeps none); the pattern modules deploy JSON.
    #[arg(long, value_parser = ["JSON", "Text"])]
    log_format: Option<String>,
    /// Cap the Firehose buffer intervals (transform and S3), in seconds, for quick local runs
    /// (by default the deployed buffering hints are honoured: 60 s or more).
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..))]
    firehose_max_buffer_interval: Option<u64>,
    /// Run the EventBridge Scheduler schedules' clock this many times faster than real time
    /// (60: `rate(1 minute)` fires every second), for quick local runs; retry delays shrink
    /// alike. By default 1: real time.
    #[arg(long, value_name = "FACTOR", env = "KSTREAM_SCHEDULE_SPEEDUP", value_parser = parse_speedup)]
    schedule_speedup: Option<f64>,
}

fn parse_speedup(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(f) if f.is_finite() && (1.0..=86_400.0).contains(&f) => Ok(f),
        _ => Err(format!("{s:?}: a factor from 1 to 86400")),
    }
}

#[derive(Debug, clap::Args)]
struct StatusArgs {
    /// The state directory of the `kstream local up` to ask.
    #[arg(
        long,
        env = "KSTREAM_LOCAL_STATE_DIR",
        default_value = ".kstream/local"
    )]
    state_dir: PathBuf,
    /// Print the status file as JSON.
    #[arg(long)]
    json: bool,
}

pub(crate) fn parse_binary(s: &str) -> Result<(String, PathBuf), String> {
    match s.split_once('=') {
        Some((name, path)) if !name.is_empty() && !path.is_empty() => {
            Ok((name.to_owned(), PathBuf::from(path)))
        }
        _ => Err(format!("expected NAME=PATH, got {s:?}")),
    }
}

/// Runs `kstream local`.
pub(crate) async fn run(args: Args) -> miette::Result<()> {
    match args.command {
        LocalCommand::Up(up) => run_up(up).await,
        LocalCommand::Status(status) => run_status(&status),
    }
}

fn pid_alive(pid: u32) -> bool {
    PathBuf::from(format!("/proc/{pid}")).exists()
}

fn status_line(report: &StatusReport) -> String {
    let (polled, invocations, failed, messages) = report.totals();
    let mut line = format!(
        "[kstream local] {} mapping(s) · records polled {polled} · invocations {invocations} · failed {failed} · sent to failure queues {messages}",
        report.mappings.len()
    );
    let lags: Vec<String> = report
        .mappings
        .iter()
        .map(|m| format!("{} {}", m.function, lag(m.lag_ms())))
        .collect();
    if !lags.is_empty() {
        line.push_str(&format!(" · lag {}", lags.join(", ")));
    }
    if let Some(f) = &report.firehose {
        line.push_str(&format!(
            " · firehose read {} · delivered {} · error output {} · objects {}",
            f.records_read, f.records_delivered, f.records_failed, f.objects_written
        ));
    }
    if !report.schedules.is_empty() {
        let fires: u64 = report.schedules.iter().map(|s| s.fires).sum();
        line.push_str(&format!(
            " · {} schedule(s) fired {fires}",
            report.schedules.len()
        ));
    }
    line
}

/// A mapping's lag for the status line: `0 s` caught up, else seconds with one decimal.
fn lag(ms: u64) -> String {
    if ms == 0 {
        "0 s".to_owned()
    } else {
        format!("{:.1} s", ms as f64 / 1000.0)
    }
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                    return;
                }
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

fn describe(plane: &DataPlane, state_dir: &std::path::Path) -> String {
    let mut out = String::new();
    let mut line = |s: String| {
        out.push_str(&s);
        out.push('\n');
    };
    line("kstream local: the data plane for what is deployed".to_owned());
    for f in plane.host().functions() {
        line(format!(
            "  function {} ← {} (timeout {} s, {} MB)",
            f.name,
            f.binary.display(),
            f.timeout.as_secs(),
            f.memory_mb
        ));
    }
    for name in plane.missing_binaries() {
        line(format!(
            "  function {name}: no binary found (use --functions-dir or --binary {name}=PATH); not run"
        ));
    }
    for m in plane.mappings() {
        let start = match m.starting_position {
            StartingPosition::TrimHorizon => "TRIM_HORIZON".to_owned(),
            StartingPosition::Latest(_) => "LATEST".to_owned(),
            StartingPosition::AtTimestamp(t) => format!("AT_TIMESTAMP {t}"),
        };
        line(format!(
            "  mapping {}: {} → {} (batch {}, window {} s, parallelization {}, retries {}, bisect {}, partial failures {}, {start}{})",
            m.uuid,
            m.stream_name,
            m.function_name,
            m.batch_size,
            m.batching_window.as_secs(),
            m.parallelization_factor,
            m.policy
                .max_retry_attempts
                .map_or("unbounded".to_owned(), |n| n.to_string()),
            m.policy.bisect,
            m.policy.report_batch_item_failures,
            m.on_failure
                .as_deref()
                .map(|d| format!(", on failure → {d}"))
                .unwrap_or_default()
        ));
    }
    if plane.mappings().is_empty() {
        line("  no enabled Kinesis mapping with a runnable function".to_owned());
    }
    for d in plane.delivery_streams() {
        line(format!(
            "  delivery stream {}: {} → {}s3://{}/{} (buffer {} s / {} MB, {}{}{})",
            d.name,
            d.source_stream_arn
                .rsplit_once(":stream/")
                .map_or(d.source_stream_arn.as_str(), |(_, n)| n),
            d.processor
                .as_ref()
                .map(|p| format!(
                    "{} → ",
                    kstream_local::lambda::runtime::function_name_of(&p.function_arn)
                ))
                .unwrap_or_default(),
            d.bucket,
            d.prefix_text,
            d.hints.interval.as_secs(),
            d.hints.size_bytes / (1024 * 1024),
            if d.conversion.is_some() {
                "Parquet".to_owned()
            } else {
                d.compression.to_string()
            },
            d.file_extension
                .as_ref()
                .map(|e| format!(", objects *{e}"))
                .unwrap_or_default(),
            match d.time_zone.to_string() {
                zone if zone == "UTC" => String::new(),
                zone => format!(", times in {zone}"),
            },
        ));
    }
    for (name, reason) in plane.skipped_delivery_streams() {
        line(format!("  delivery stream {name}: not delivered: {reason}"));
    }
    for s in plane.schedules() {
        line(format!(
            "  schedule {}/{}: {}{} → {} ({}{}, retries {}, max age {} s{})",
            s.group,
            s.name,
            s.expression_text,
            match s.times.timezone.name() {
                "UTC" => String::new(),
                zone => format!(" in {zone}"),
            },
            kstream_local::lambda::runtime::function_name_of(&s.target_arn),
            if s.enabled { "ENABLED" } else { "DISABLED" },
            s.flexible_window
                .map(|w| format!(", flexible window {} min", w.as_secs() / 60))
                .unwrap_or_default(),
            s.max_retry_attempts,
            s.max_event_age.as_secs(),
            s.dead_letter_arn
                .as_deref()
                .map(|d| format!(", dead letters → {d}"))
                .unwrap_or_default(),
        ));
    }
    for (name, reason) in plane.skipped_schedules() {
        line(format!("  schedule {name}: not fired: {reason}"));
    }
    for url in plane.api_urls() {
        line(format!("  REST API {url}"));
    }
    if let Some(url) = plane.execute_api_url() {
        line(format!(
            "  functions reach the REST APIs at {}={url} (Host {{api}}.execute-api.{{region}}.amazonaws.com)",
            kstream_local::dataplane::EXECUTE_API_ENDPOINT_VAR
        ));
    }
    line(format!(
        "  Lambda Invoke API http://{} (functions get {}; other Lambda operations go to the emulator)",
        plane.lambda_address(),
        kstream_local::dataplane::LAMBDA_ENDPOINT_VAR
    ));
    line(format!(
        "  logs: {}/logs/<function>.log · status: kstream local status --state-dir {}",
        state_dir.display(),
        state_dir.display()
    ));
    out
}

async fn status_printer(status: StatusHandle, live: bool) {
    let mut stderr_is_tty = std::io::stderr().is_terminal();
    if !live {
        stderr_is_tty = false;
    }
    let mut last = String::new();
    let mut ticks: u64 = 0;
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        ticks += 1;
        let line = status_line(&status.report("running"));
        let mut stderr = std::io::stderr().lock();
        if stderr_is_tty {
            let _ = write!(stderr, "\r\x1b[2K{line}");
            let _ = stderr.flush();
        } else if live && line != last && ticks.is_multiple_of(5) {
            // Not a terminal: a plain line when something changed, at most every 5 s.
            let _ = writeln!(stderr, "{line}");
            last = line;
        }
    }
}

async fn run_up(args: UpArgs) -> miette::Result<()> {
    if let Ok(previous) = StatusReport::read(&args.state_dir)
        && previous.state == "running"
        && previous.pid != std::process::id()
        && pid_alive(previous.pid)
    {
        return Err(miette::miette!(
            help = "stop it (Ctrl-C, or kill {}) or use another --state-dir",
            "kstream local is already running with state directory {} (pid {})",
            args.state_dir.display(),
            previous.pid
        ));
    }
    let refused = crate::local_guard::non_local_endpoints(std::env::vars()).await;
    if !refused.is_empty() {
        if !args.allow_real_aws {
            return Err(crate::local_guard::refusal(&refused));
        }
        for r in &refused {
            tracing::warn!(endpoint = %r.what, "--allow-real-aws: {}", r.why);
        }
    }
    let sdk = aws_config::load_from_env().await;
    let mut resolver = BinaryResolver::default().functions_dir(&args.functions_dir);
    for (name, path) in &args.binaries {
        resolver = resolver.binary(name, path);
    }
    let mut builder = DataPlane::builder()
        .state_dir(&args.state_dir)
        .binaries(resolver)
        .console_logs(args.console_logs)
        .max_concurrency(args.max_concurrency)
        .runner_options(RunnerOptions {
            poll_interval: Duration::from_millis(args.poll_interval_ms),
            ..RunnerOptions::default()
        });
    if let Some(prefix) = &args.name_prefix {
        builder = builder.name_prefix(prefix);
    }
    if let Some(format) = &args.log_format {
        builder = builder.default_log_format(format);
    }
    if let Some(secs) = args.firehose_max_buffer_interval {
        builder = builder.firehose_max_buffer_interval(Duration::from_secs(secs));
    }
    if let Some(speedup) = args.schedule_speedup {
        builder = builder.schedule_speedup(speedup);
    }
    builder = builder.lambda_addr(SocketAddr::new(
        IpAddr::V4(Ipv4Addr::LOCALHOST),
        args.lambda_port,
    ));
    if !args.no_api {
        builder = builder.api_addr(SocketAddr::new(
            IpAddr::V4(Ipv4Addr::LOCALHOST),
            args.api_port,
        ));
    }
    let plane = builder
        .start(&sdk)
        .await
        .map_err(miette::Report::new)
        .wrap_err("could not start the local data plane")?;
    {
        let mut stderr = std::io::stderr().lock();
        let _ = write!(stderr, "{}", describe(&plane, &args.state_dir));
        let _ = writeln!(
            stderr,
            "  Ctrl-C stops (in-flight invocations finish, Firehose buffers are flushed, checkpoints are saved)"
        );
    }
    let printer = tokio::spawn(status_printer(plane.status(), !args.no_status_line));
    let status = plane.status();
    plane
        .run(shutdown_signal())
        .await
        .map_err(miette::Report::new)
        .wrap_err("the local data plane failed")?;
    printer.abort();
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(
        stderr,
        "\n{}\nstopped; checkpoints saved in {}/checkpoints",
        status_line(&status.report("stopped")),
        args.state_dir.display()
    );
    Ok(())
}

fn run_status(args: &StatusArgs) -> miette::Result<()> {
    let report = StatusReport::read(&args.state_dir)
        .map_err(miette::Report::new)
        .wrap_err("no status to show")?;
    let mut stdout = std::io::stdout().lock();
    if args.json {
        let json = serde_json::to_string_pretty(&report).into_diagnostic()?;
        writeln!(stdout, "{json}").into_diagnostic()?;
        return Ok(());
    }
    let running = report.state == "running" && pid_alive(report.pid);
    write_status(&mut stdout, &report, running).into_diagnostic()
}

/// `kstream local status`'s text for `report`, `running` when its process is alive.
fn write_status(
    stdout: &mut impl std::io::Write,
    report: &StatusReport,
    running: bool,
) -> std::io::Result<()> {
    let state = if running {
        format!("running (pid {})", report.pid)
    } else if report.state == "running" {
        format!(
            "not running (pid {} is gone; it did not stop cleanly)",
            report.pid
        )
    } else {
        "stopped".to_owned()
    };
    {
        writeln!(stdout, "kstream local: {state}")?;
        writeln!(
            stdout,
            "  started {} · updated {}",
            report.started_at, report.updated_at
        )?;
        if let Some(api) = &report.api {
            writeln!(stdout, "  REST APIs on http://{api}")?;
        }
        if let Some(lambda) = &report.lambda {
            writeln!(stdout, "  Lambda Invoke API on http://{lambda}")?;
        }
        writeln!(stdout, "  functions: {}", report.functions.join(", "))?;
        for m in &report.mappings {
            writeln!(
                stdout,
                "  mapping {} → {}: {} shard(s), polled {}, filtered {}, done {}, invocations {} ({} failed), given up {}, failure messages {}",
                m.uuid,
                m.function,
                m.shards,
                m.records_polled,
                m.records_filtered,
                m.records_done,
                m.invocations,
                m.failed_invocations,
                m.records_given_up,
                m.failure_messages
            )?;
            if m.windows_closed > 0 || m.windows_terminated_early > 0 {
                writeln!(
                    stdout,
                    "    tumbling windows: {} closed, {} terminated early (state over 1 MB)",
                    m.windows_closed, m.windows_terminated_early
                )?;
            }
        }
        for s in &report.schedules {
            writeln!(
                stdout,
                "  schedule {} ({}, {}) → {}: fired {}, invocations {} ({} failed), events failed {}, delivery failures {}, dead-lettered {}{}",
                s.schedule,
                s.expression,
                s.state,
                kstream_local::lambda::runtime::function_name_of(&s.target),
                s.fires,
                s.invocations,
                s.function_errors,
                s.events_failed,
                s.delivery_failures,
                s.dead_lettered,
                s.last_fire
                    .as_deref()
                    .map(|t| format!(", last {t}"))
                    .unwrap_or_default()
            )?;
        }
        if let Some(f) = &report.firehose {
            writeln!(
                stdout,
                "  firehose {}: read {}, delivered {}, dropped {}, error output {}, transform invocations {} ({} failed), objects {}, backed up {}",
                f.delivery_streams.join(", "),
                f.records_read,
                f.records_delivered,
                f.records_dropped,
                f.records_failed,
                f.invocations,
                f.invocation_errors,
                f.objects_written,
                f.records_backed_up
            )?;
        }
        writeln!(stdout, "{}", status_line(report))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser as _;

    #[derive(Debug, clap::Parser)]
    struct Cli {
        #[command(flatten)]
        args: Args,
    }

    #[test]
    fn the_schedule_speedup_is_a_factor_from_1() {
        let cli = Cli::try_parse_from(["local", "up", "--schedule-speedup", "60"]).unwrap();
        let LocalCommand::Up(up) = cli.args.command else {
            panic!("up");
        };
        assert_eq!(up.schedule_speedup, Some(60.0));
        for bad in ["0.5", "0", "fast", "NaN", "1e9"] {
            assert!(
                parse_speedup(bad).unwrap_err().contains("from 1 to 86400"),
                "{bad}"
            );
        }
    }

    #[test]
    fn binary_pairs_are_parsed_and_checked() {
        assert_eq!(
            parse_binary("demo-consumer=target/debug/kds-consumer").unwrap(),
            (
                "demo-consumer".to_owned(),
                PathBuf::from("target/debug/kds-consumer")
            )
        );
        for bad in ["nope", "=x", "x="] {
            assert!(
                parse_binary(bad).unwrap_err().contains("NAME=PATH"),
                "{bad}"
            );
        }
    }

    #[test]
    fn up_takes_its_documented_defaults_and_options() {
        let cli = Cli::try_parse_from(["local", "up"]).unwrap();
        let LocalCommand::Up(up) = cli.args.command else {
            panic!("up");
        };
        assert_eq!(up.state_dir, PathBuf::from(".kstream/local"));
        assert_eq!(up.functions_dir, PathBuf::from("target/release"));
        assert_eq!(
            (up.api_port, up.max_concurrency, up.poll_interval_ms),
            (4567, 10, 250)
        );
        let cli = Cli::try_parse_from([
            "local",
            "up",
            "--binary",
            "f=/bin/f",
            "--binary",
            "g=/bin/g",
            "--log-format",
            "JSON",
            "--name-prefix",
            "demo-",
            "--no-api",
        ])
        .unwrap();
        let LocalCommand::Up(up) = cli.args.command else {
            panic!("up");
        };
        assert_eq!(up.binaries.len(), 2);
        assert_eq!(up.log_format.as_deref(), Some("JSON"));
        assert!(up.no_api);
        assert_eq!(up.firehose_max_buffer_interval, None);
        assert!(Cli::try_parse_from(["local", "up", "--log-format", "xml"]).is_err());
        let cli =
            Cli::try_parse_from(["local", "up", "--firehose-max-buffer-interval", "2"]).unwrap();
        let LocalCommand::Up(up) = cli.args.command else {
            panic!("up");
        };
        assert_eq!(up.firehose_max_buffer_interval, Some(2));
        assert!(
            Cli::try_parse_from(["local", "up", "--firehose-max-buffer-interval", "0"]).is_err()
        );
    }

    #[test]
    fn the_status_line_sums_the_mappings() {
        let mut report = StatusReport::default();
        for (function, polled, done, age, inv, failed, msgs) in [
            ("consumer", 10, 4, 1260, 3, 1, 1),
            ("analytics", 5, 5, 900, 2, 0, 0),
        ] {
            let mut m = kstream_local::status::MappingStatus::default();
            m.function = function.to_owned();
            m.records_done = done;
            m.iterator_age_ms = age;
            m.records_polled = polled;
            m.invocations = inv;
            m.failed_invocations = failed;
            m.failure_messages = msgs;
            report.mappings.push(m);
        }
        assert_eq!(
            status_line(&report),
            "[kstream local] 2 mapping(s) · records polled 15 · invocations 5 · failed 1 · sent to failure queues 1 · lag consumer 1.3 s, analytics 0 s"
        );
        let mut firehose = kstream_local::status::FirehoseStatus::default();
        firehose.records_read = 12;
        firehose.records_delivered = 9;
        firehose.records_failed = 3;
        firehose.objects_written = 2;
        report.firehose = Some(firehose);
        assert_eq!(
            status_line(&report),
            "[kstream local] 2 mapping(s) · records polled 15 · invocations 5 · failed 1 · sent to failure queues 1 · lag consumer 1.3 s, analytics 0 s · firehose read 12 · delivered 9 · error output 3 · objects 2"
        );
    }

    #[test]
    fn status_names_the_rest_and_lambda_endpoints() {
        let mut report = StatusReport::default();
        report.pid = 42;
        report.state = "running".into();
        report.api = Some("127.0.0.1:4567".into());
        report.lambda = Some("127.0.0.1:9001".into());
        report.functions = vec!["consumer".into()];
        let mut out = Vec::new();
        write_status(&mut out, &report, true).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.starts_with("kstream local: running (pid 42)\n"),
            "{text}"
        );
        assert!(
            text.contains("\n  REST APIs on http://127.0.0.1:4567\n"),
            "{text}"
        );
        assert!(
            text.contains("\n  Lambda Invoke API on http://127.0.0.1:9001\n"),
            "{text}"
        );
        let mut out = Vec::new();
        let mut without = report.clone();
        without.lambda = None;
        write_status(&mut out, &without, false).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("not running (pid 42 is gone"), "{text}");
        assert!(!text.contains("Lambda Invoke API"), "{text}");
    }
}
