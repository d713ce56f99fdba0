//! Schedules on the emulator fired at functions deployed on it: the test function (Input,
//! disabled schedules, dead letters, Lambda's asynchronous retries) and the real
//! scheduled-producer (aggregated ticker records read back with the KPL crate).

use std::path::{Path, PathBuf};
use std::time::Duration;

use aws_sdk_scheduler::types::{
    DeadLetterConfig, FlexibleTimeWindow, FlexibleTimeWindowMode, RetryPolicy, ScheduleState,
    Target,
};
use kstream_local_lambda::runtime::FunctionHost;
use kstream_local_scheduler::{ScheduleStatus, Scheduler, SchedulerOptions, deployed};
use kstream_local_testkit::{Emulator, emulator, test_fn, wait_for};
use serde_json::{Value, json};
use tokio::sync::watch;

/// `rate(1 minute)` fires every second.
const SPEEDUP: f64 = 60.0;

async fn schedule(
    emu: &Emulator,
    name: &str,
    expression: &str,
    target: &str,
    input: &str,
    state: ScheduleState,
    dead_letter: Option<&str>,
) {
    let scheduler = aws_sdk_scheduler::Client::new(&emu.sdk);
    let mut target = Target::builder()
        .arn(target)
        .role_arn("arn:aws:iam::123456789012:role/scheduler")
        .input(input)
        .retry_policy(
            RetryPolicy::builder()
                .maximum_retry_attempts(2)
                .maximum_event_age_in_seconds(600)
                .build(),
        );
    if let Some(arn) = dead_letter {
        target = target.dead_letter_config(DeadLetterConfig::builder().arn(arn).build());
    }
    scheduler
        .create_schedule()
        .name(name)
        .schedule_expression(expression)
        .state(state)
        .flexible_time_window(
            FlexibleTimeWindow::builder()
                .mode(FlexibleTimeWindowMode::Off)
                .build()
                .unwrap(),
        )
        .target(target.build().unwrap())
        .send()
        .await
        .expect("CreateSchedule");
}

/// A host running the functions deployed under `emu`'s prefix from `binary`.
async fn host(emu: &Emulator, binary: &Path, dir: &Path) -> FunctionHost {
    let host = FunctionHost::builder().log_dir(dir.join("logs")).build();
    let deployed = kstream_local_lambda::deployed::load(&emu.sdk)
        .await
        .unwrap();
    for f in deployed.functions {
        if f.spec.name.starts_with(&emu.prefix) {
            let mut spec = f.spec.clone();
            spec.binary = binary.to_owned();
            host.register(spec);
        }
    }
    host
}

struct Running {
    stop: watch::Sender<bool>,
    task: Option<tokio::task::JoinHandle<()>>,
    stats: Vec<(
        std::sync::Arc<kstream_local_scheduler::ScheduleSpec>,
        std::sync::Arc<kstream_local_scheduler::ScheduleStats>,
    )>,
}

impl Running {
    async fn start(emu: &Emulator, host: FunctionHost) -> Self {
        let prefix = emu.prefix.clone();
        let found = deployed::load_matching(&emu.sdk, |n| n.starts_with(&prefix))
            .await
            .unwrap();
        assert!(found.skipped.is_empty(), "{:?}", found.skipped);
        let scheduler = Scheduler::new(
            found.schedules,
            host,
            &emu.sdk,
            SchedulerOptions { speedup: SPEEDUP },
        );
        let stats = scheduler.schedules().to_vec();
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(scheduler.run(stopped));
        Self {
            stop,
            task: Some(task),
            stats,
        }
    }

    fn status(&self, name: &str) -> ScheduleStatus {
        self.stats
            .iter()
            .find(|(spec, _)| spec.name == name)
            .map(|(spec, stats)| stats.snapshot(spec))
            .unwrap_or_else(|| panic!("no schedule {name}"))
    }

    /// Stops the scheduler and waits for the invocations in flight.
    async fn stop(&mut self) {
        self.stop.send_replace(true);
        if let Some(task) = self.task.take() {
            tokio::time::timeout(Duration::from_secs(30), task)
                .await
                .expect("the scheduler stops")
                .unwrap();
        }
    }
}

fn direct(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// `at(...)` this many scheduler-clock seconds from now (UTC).
fn at_in(secs: i64) -> String {
    let t = chrono::Utc::now() + chrono::Duration::seconds(secs);
    format!("at({})", t.format("%Y-%m-%dT%H:%M:%S"))
}

#[tokio::test]
#[ignore = "needs the emulator (scripts/test-e2e.sh)"]
async fn a_rate_schedule_invokes_its_function_with_the_input_and_a_disabled_one_never_does() {
    let emu = emulator().await;
    let dir = tempfile::tempdir().unwrap();
    let seen = dir.path().join("direct.jsonl");
    let role = emu.role().await;
    let name = format!("{}-fn", emu.prefix);
    let arn = emu
        .function(
            &name,
            &role,
            10,
            &[("KSTREAM_TEST_FN_DIRECT", seen.display().to_string())],
        )
        .await;
    let every = format!("{}-every-minute", emu.prefix);
    let off = format!("{}-disabled", emu.prefix);
    let input = r#"{"echo": {"records": 3}, "at": "<aws.scheduler.scheduled-time>", "attempt": <aws.scheduler.attempt-number>}"#;
    schedule(
        &emu,
        &every,
        "rate(1 minute)",
        &arn,
        input,
        ScheduleState::Enabled,
        None,
    )
    .await;
    schedule(
        &emu,
        &off,
        "rate(1 minute)",
        &arn,
        "{}",
        ScheduleState::Disabled,
        None,
    )
    .await;

    let mut running = Running::start(&emu, host(&emu, &test_fn(), dir.path()).await).await;
    wait_for("three invocations", Duration::from_secs(30), || {
        direct(&seen).len() >= 3
    })
    .await;
    running.stop().await;
    let status = running.status(&every);

    let seen = direct(&seen);
    assert!(seen.len() >= 3);
    let mut times = Vec::new();
    for line in &seen {
        let payload = &line["payload"];
        assert_eq!(payload["echo"], json!({"records": 3}), "{line}");
        assert_eq!(payload["attempt"], 1, "{line}");
        let at = payload["at"].as_str().unwrap();
        times.push(chrono::DateTime::parse_from_rfc3339(at).expect("the scheduled time"));
    }
    times.sort();
    for pair in times.windows(2) {
        assert_eq!(
            (pair[1] - pair[0]).num_seconds(),
            60,
            "rate(1 minute): {times:?}"
        );
    }
    assert!(status.fires >= 3 && status.invocations >= 3, "{status:?}");
    assert_eq!((status.function_errors, status.dead_lettered), (0, 0));
    assert_eq!(status.invocations, seen.len() as u64, "{status:?}");
    assert_eq!(status.state, "ENABLED");
    let off = running.status(&off);
    assert_eq!(
        (off.state.as_str(), off.fires, off.invocations),
        ("DISABLED", 0, 0),
        "{off:?}"
    );
}

#[tokio::test]
#[ignore = "needs the emulator (scripts/test-e2e.sh)"]
async fn an_undeliverable_event_goes_to_the_dead_letter_queue_and_a_failing_function_is_retried_twice()
 {
    let emu = emulator().await;
    let dir = tempfile::tempdir().unwrap();
    let seen = dir.path().join("direct.jsonl");
    let role = emu.role().await;
    let name = format!("{}-fn", emu.prefix);
    let arn = emu
        .function(
            &name,
            &role,
            10,
            &[("KSTREAM_TEST_FN_DIRECT", seen.display().to_string())],
        )
        .await;
    let (queue_url, queue_arn) = emu.queue().await;
    // A function the host does not run (never deployed): not retryable, straight to the queue.
    let missing = arn.replace(&name, &format!("{}-missing", emu.prefix));
    let lost = format!("{}-lost", emu.prefix);
    schedule(
        &emu,
        &lost,
        &at_in(60),
        &missing,
        r#"{"n": 1}"#,
        ScheduleState::Enabled,
        Some(&queue_arn),
    )
    .await;
    // A function that fails: Lambda's asynchronous retries, 1 and 2 minutes later.
    let failing = format!("{}-failing", emu.prefix);
    schedule(
        &emu,
        &failing,
        &at_in(60),
        &arn,
        r#"{"fail": "boom"}"#,
        ScheduleState::Enabled,
        Some(&queue_arn),
    )
    .await;

    let mut running = Running::start(&emu, host(&emu, &test_fn(), dir.path()).await).await;
    let sqs = &emu.sqs;
    let mut message = None;
    for _ in 0..20 {
        let out = sqs
            .receive_message()
            .queue_url(&queue_url)
            .message_attribute_names("All")
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap();
        if let Some(m) = out.messages().first() {
            message = Some(m.clone());
            break;
        }
    }
    let message = message.expect("a dead letter");
    assert_eq!(message.body(), Some(r#"{"n": 1}"#));
    let attrs = message.message_attributes().unwrap();
    let attr = |k: &str| attrs[k].string_value().unwrap().to_owned();
    assert_eq!(attr("ERROR_CODE"), "ResourceNotFoundException");
    assert_eq!(attr("EXHAUSTED_RETRY_CONDITION"), "NonRetryableError");
    assert_eq!(attr("TARGET_ARN"), missing);
    assert!(attr("SCHEDULE_ARN").ends_with(&format!("/{lost}")));

    wait_for(
        "three attempts of the failing event",
        Duration::from_secs(30),
        || direct(&seen).len() >= 3,
    )
    .await;
    running.stop().await;
    let lost_status = running.status(&lost);
    let failing_status = running.status(&failing);
    assert_eq!(
        (
            lost_status.fires,
            lost_status.delivery_failures,
            lost_status.dead_lettered
        ),
        (1, 1, 1),
        "{lost_status:?}"
    );
    assert_eq!(
        (
            failing_status.fires,
            failing_status.invocations,
            failing_status.function_errors,
            failing_status.events_failed,
            failing_status.dead_lettered
        ),
        (1, 3, 3, 1, 0),
        "the function's failures are Lambda's to retry, not Scheduler's: {failing_status:?}"
    );
    assert_eq!(direct(&seen).len(), 3, "at(...) fires once");
}

/// The scheduled-producer built for this machine.
fn producer_binary() -> PathBuf {
    if let Ok(p) = std::env::var("KSTREAM_SCHEDULED_PRODUCER") {
        return PathBuf::from(p);
    }
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let p = target.join("debug").join("scheduled-producer");
    assert!(
        p.exists(),
        "{} is not built: run `cargo test --workspace --no-run` (or set KSTREAM_SCHEDULED_PRODUCER)",
        p.display()
    );
    p
}

#[tokio::test]
#[ignore = "needs the emulator (scripts/test-e2e.sh)"]
async fn the_scheduled_producer_puts_each_runs_records_aggregated() {
    let emu = emulator().await;
    let dir = tempfile::tempdir().unwrap();
    let role = emu.role().await;
    let (stream, _) = emu.stream(2).await;
    let name = format!("{}-producer", emu.prefix);
    let arn = emu
        .function(&name, &role, 30, &[("STREAM_NAME", stream.clone())])
        .await;
    let every = format!("{}-produce", emu.prefix);
    schedule(
        &emu,
        &every,
        "rate(1 minute)",
        &arn,
        r#"{"records": 200}"#,
        ScheduleState::Enabled,
        None,
    )
    .await;

    let mut running = Running::start(&emu, host(&emu, &producer_binary(), dir.path()).await).await;
    wait_for("two runs", Duration::from_secs(60), || {
        running.status(&every).invocations >= 2
    })
    .await;
    running.stop().await;
    let status = running.status(&every);
    assert_eq!(status.function_errors, 0, "{status:?}");
    let runs = status.invocations;

    let (users, outer) = read_back(&emu.kinesis, &stream).await;
    assert_eq!(users.len() as u64, 200 * runs, "every record of every run");
    assert!(
        outer < users.len(),
        "aggregated: {outer} Kinesis records for {}",
        users.len()
    );
    for user in &users {
        assert_eq!(user.as_object().unwrap().len(), 3, "{user}");
        assert!(kstream_ticker_shape(user), "{user}");
    }
}

fn kstream_ticker_shape(user: &Value) -> bool {
    let time = user["event_time"].as_str().unwrap_or_default();
    chrono::NaiveDateTime::parse_from_str(time, "%Y-%m-%d %H:%M:%S%.3f").is_ok()
        && ["AAPL", "AMZN", "MSFT", "INTC", "TBV"]
            .contains(&user["ticker"].as_str().unwrap_or_default())
        && user["price"]
            .as_f64()
            .is_some_and(|p| (0.0..100.0).contains(&p))
}

async fn read_back(client: &aws_sdk_kinesis::Client, name: &str) -> (Vec<Value>, usize) {
    let shards = client.list_shards().stream_name(name).send().await.unwrap();
    let mut users = Vec::new();
    let mut outer = 0;
    for shard in shards.shards() {
        let mut iterator = client
            .get_shard_iterator()
            .stream_name(name)
            .shard_id(shard.shard_id())
            .shard_iterator_type(aws_sdk_kinesis::types::ShardIteratorType::TrimHorizon)
            .send()
            .await
            .unwrap()
            .shard_iterator
            .unwrap();
        loop {
            let out = client
                .get_records()
                .shard_iterator(&iterator)
                .send()
                .await
                .unwrap();
            for record in out.records() {
                outer += 1;
                let data = record.data().as_ref();
                match kstream_kpl::deaggregate(data) {
                    kstream_kpl::Deaggregated::Aggregated(subs) => {
                        for sub in subs {
                            users.push(serde_json::from_slice(&sub.data).unwrap());
                        }
                    }
                    kstream_kpl::Deaggregated::NotAggregated { .. } => {
                        users.push(serde_json::from_slice(data).unwrap());
                    }
                }
            }
            if out.records().is_empty() {
                break;
            }
            iterator = out.next_shard_iterator.unwrap();
        }
    }
    (users, outer)
}
