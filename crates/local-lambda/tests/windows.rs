//! Tumbling windows and enhanced fan-out on the emulator, with the real `kstream-test-fn`.
//!
//! Needs the emulator: run by scripts/test-e2e.sh (`cargo test -- --ignored`).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use aws_sdk_lambda::types::EventSourcePosition;
use kstream_local_lambda::checkpoint::CheckpointStore;
use kstream_local_lambda::deployed::mapping_from;
use kstream_local_lambda::mapping::{MappingRunner, MappingSpec, MappingStats, RunnerOptions};
use kstream_local_lambda::runtime::{FunctionHost, FunctionSpec};
use serde_json::{Value, json};
use tokio::sync::watch;

use kstream_local_testkit::{Emulator, emulator, test_fn, wait_for};

const WAIT: Duration = Duration::from_secs(60);
const WINDOW: u32 = 3;

fn now_epoch() -> f64 {
    chrono::Utc::now().timestamp_millis() as f64 / 1000.0
}

/// Sleeps until `offset` seconds into the next window.
async fn next_window(offset: f64) {
    let now = now_epoch();
    let length = f64::from(WINDOW);
    let start = (now / length).floor() * length + length;
    tokio::time::sleep(Duration::from_secs_f64(start + offset - now)).await;
}

fn lines(path: &std::path::Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn seqs(line: &Value) -> Vec<String> {
    line["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["seq"].as_str().unwrap().to_owned())
        .collect()
}

struct Plane {
    stats: Arc<MappingStats>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<kstream_local_lambda::Result<()>>,
    host: FunctionHost,
}

impl Plane {
    /// Runs `spec` with the test function `name` (its environment plus `env`), files in `dir`.
    async fn start(
        emu: &Emulator,
        spec: MappingSpec,
        name: &str,
        dir: &std::path::Path,
        env: &[(&str, &str)],
    ) -> Self {
        let host = FunctionHost::builder().log_dir(dir.join("logs")).build();
        host.register(function(name, dir, env));
        let checkpoints = CheckpointStore::open(dir, &spec.uuid, &spec.stream_arn).unwrap();
        let stats = Arc::new(MappingStats::default());
        let runner = MappingRunner::new(
            spec,
            host.clone(),
            &emu.sdk,
            checkpoints,
            stats.clone(),
            RunnerOptions {
                poll_interval: Duration::from_millis(100),
                ..RunnerOptions::default()
            },
        );
        let (stop, rx) = watch::channel(false);
        let task = tokio::spawn(runner.run(rx));
        Self {
            stats,
            stop,
            task,
            host,
        }
    }

    /// Waits (at most [`WAIT`]) until `done` holds of the mapping's counters.
    async fn wait(&self, what: &str, done: impl Fn(&MappingStats) -> bool) {
        wait_for(what, WAIT, || done(&self.stats)).await;
    }

    async fn stop(self) -> kstream_local_lambda::Result<()> {
        let _ = self.stop.send(true);
        let result = self.task.await.unwrap();
        self.host.shutdown().await;
        result
    }
}

fn function(name: &str, dir: &std::path::Path, env: &[(&str, &str)]) -> FunctionSpec {
    let mut spec = FunctionSpec::new(name, test_fn());
    spec.timeout = Duration::from_secs(10);
    std::fs::create_dir_all(dir.join("fnstate")).unwrap();
    spec.environment.insert(
        "KSTREAM_TEST_FN_STATE".into(),
        dir.join("fnstate").display().to_string(),
    );
    spec.environment.insert(
        "KSTREAM_TEST_FN_WINDOWS".into(),
        dir.join("windows.jsonl").display().to_string(),
    );
    spec.environment.insert(
        "KSTREAM_TEST_FN_SEEN".into(),
        dir.join("seen.jsonl").display().to_string(),
    );
    for (k, v) in env {
        spec.environment.insert((*k).into(), (*v).into());
    }
    spec
}

#[tokio::test]
#[ignore = "needs the emulator: run by scripts/test-e2e.sh"]
async fn two_windows_close_with_their_full_state_and_a_failed_final_invoke_blocks_until_retried() {
    let emu = emulator().await;
    let dir = tempfile::tempdir().unwrap();
    let (stream, stream_arn) = emu.stream(1).await;
    let role = emu.role().await;
    let name = format!("{}-fn", emu.prefix);
    emu.function(&name, &role, 10, &[]).await;
    emu.lambda
        .create_event_source_mapping()
        .function_name(&name)
        .event_source_arn(&stream_arn)
        .starting_position(EventSourcePosition::TrimHorizon)
        .batch_size(4)
        .parallelization_factor(3)
        .tumbling_window_in_seconds(i32::try_from(WINDOW).unwrap())
        .send()
        .await
        .unwrap();
    // The mapping as the data plane reads it back from the emulator.
    let listed = emu
        .lambda
        .list_event_source_mappings()
        .function_name(&name)
        .send()
        .await
        .unwrap();
    let spec = mapping_from(&listed.event_source_mappings()[0])
        .unwrap()
        .unwrap();
    assert_eq!(spec.tumbling_window, Some(WINDOW));
    assert_eq!(spec.parallelization_factor, 1, "windows run one lane");

    let plane = Plane::start(
        &emu,
        spec,
        &name,
        dir.path(),
        &[("KSTREAM_TEST_FN_FAIL_FINAL", "1")],
    )
    .await;
    let mut put = BTreeSet::new();
    next_window(0.3).await;
    for i in 0..7 {
        put.insert(emu.put(&stream, "pk", &json!({"i": i}).to_string()).await);
    }
    next_window(0.3).await;
    for i in 7..13 {
        put.insert(emu.put(&stream, "pk", &json!({"i": i}).to_string()).await);
    }
    let stats = plane.stats.clone();
    plane
        .wait("two windows closed", |s| {
            s.windows_closed.load(Ordering::Relaxed) >= 2
        })
        .await;
    plane.stop().await.unwrap();

    let lines = lines(&dir.path().join("windows.jsonl"));
    assert!(
        !dir.path().join("seen.jsonl").exists(),
        "every invoke was windowed"
    );
    // Every record of the stream reached the function, each in the window of its arrival.
    let mut by_window: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for line in lines.iter().filter(|l| l["failed"] == false) {
        let start = chrono::DateTime::parse_from_rfc3339(line["window"]["start"].as_str().unwrap())
            .unwrap()
            .timestamp();
        let end = chrono::DateTime::parse_from_rfc3339(line["window"]["end"].as_str().unwrap())
            .unwrap()
            .timestamp();
        assert_eq!(end - start, i64::from(WINDOW), "{line}");
        assert_eq!(start % i64::from(WINDOW), 0, "aligned: {line}");
        assert!(line["window"]["start"].as_str().unwrap().ends_with('Z'));
        assert_eq!(line["shardId"], "shardId-000000000000");
        assert_eq!(line["eventSourceARN"], stream_arn.as_str());
        assert_eq!(line["early"], false);
        for r in line["records"].as_array().unwrap() {
            let arrival = r["arrival"].as_f64().unwrap();
            assert!(
                arrival >= start as f64 && arrival < end as f64,
                "a batch never spans two windows: {line}"
            );
        }
        by_window
            .entry(line["window"]["start"].as_str().unwrap().to_owned())
            .or_default()
            .extend(seqs(line));
    }
    let seen: BTreeSet<String> = by_window.values().flatten().cloned().collect();
    assert_eq!(seen, put, "every record, nothing else");
    assert_eq!(by_window.len(), 2, "two windows: {by_window:?}");

    // Each window closed once, its final invoke carrying the count of every record before it.
    let finals: Vec<&Value> = lines
        .iter()
        .filter(|l| l["final"] == true && l["failed"] == false)
        .collect();
    assert_eq!(finals.len(), 2, "{lines:#?}");
    for f in &finals {
        let window = by_window[f["window"]["start"].as_str().unwrap()].len() as u64;
        let count = f["state"]["count"].as_u64().unwrap_or(0);
        assert_eq!(
            count + seqs(f).len() as u64,
            window,
            "the final invoke has the whole window: {f}"
        );
    }
    assert_eq!(
        finals
            .iter()
            .map(|f| f["window"]["start"].to_string())
            .collect::<BTreeSet<_>>()
            .len(),
        2
    );

    // The first final invoke failed; the shard waited (nothing else was invoked) until its retry
    // succeeded with the same state.
    let failed: Vec<usize> = (0..lines.len())
        .filter(|&i| lines[i]["failed"] == true)
        .collect();
    assert_eq!(failed.len(), 1, "{lines:#?}");
    let window = &lines[failed[0]]["window"];
    let retry = (failed[0] + 1..lines.len())
        .find(|&i| lines[i]["final"] == true)
        .expect("the final invoke is retried");
    for line in &lines[failed[0]..=retry] {
        assert_eq!(
            &line["window"], window,
            "nothing else ran meanwhile: {lines:#?}"
        );
    }
    if seqs(&lines[failed[0]]).is_empty() {
        assert_eq!(retry, failed[0] + 1);
        assert_eq!(
            lines[retry]["state"], lines[failed[0]]["state"],
            "retried with the same state"
        );
    }

    assert_eq!(stats.windows_closed.load(Ordering::Relaxed), 2);
    assert_eq!(stats.records_done.load(Ordering::Relaxed), put.len() as u64);
    assert_eq!(stats.windows_terminated_early.load(Ordering::Relaxed), 0);
    let checkpoints = CheckpointStore::open(
        dir.path(),
        listed.event_source_mappings()[0].uuid().unwrap(),
        &stream_arn,
    )
    .unwrap();
    assert_eq!(
        checkpoints.get("shardId-000000000000").as_deref(),
        put.iter()
            .max_by_key(|s| (s.len(), (*s).clone()))
            .map(String::as_str),
        "checkpointed past both windows"
    );
}

#[tokio::test]
#[ignore = "needs the emulator: run by scripts/test-e2e.sh"]
async fn a_stream_consumer_mapping_reads_its_stream() {
    let emu = emulator().await;
    let dir = tempfile::tempdir().unwrap();
    let (stream, stream_arn) = emu.stream(1).await;
    let consumer = emu
        .kinesis
        .register_stream_consumer()
        .stream_arn(&stream_arn)
        .consumer_name(format!("{}-efo", emu.prefix))
        .send()
        .await
        .unwrap()
        .consumer()
        .unwrap()
        .consumer_arn()
        .to_owned();
    let name = format!("{}-fn", emu.prefix);
    // The emulator refuses a mapping on a consumer ARN, so the spec is built as `deployed`
    // builds it from such a mapping.
    let mut spec = MappingSpec::new(format!("{}-esm", emu.prefix), &name, &consumer);
    spec.starting_position = kstream_local_lambda::mapping::StartingPosition::TrimHorizon;
    assert_eq!(spec.stream_arn, stream_arn);
    let plane = Plane::start(&emu, spec.clone(), &name, dir.path(), &[]).await;
    let mut put = BTreeSet::new();
    for i in 0..5 {
        put.insert(emu.put(&stream, "pk", &json!({"i": i}).to_string()).await);
    }
    plane
        .wait("the records", |s| {
            s.records_done.load(Ordering::Relaxed) >= 5
        })
        .await;
    plane.stop().await.unwrap();
    let seen = kstream_local_testkit::seen(&dir.path().join("seen.jsonl"));
    let got: BTreeSet<String> = seen.iter().flat_map(|s| s.seqs.clone()).collect();
    assert_eq!(got, put);

    // A consumer that is not registered stops the mapping with an error.
    let mut gone = spec;
    gone.consumer_arn = Some(format!("{stream_arn}/consumer/never-registered:1"));
    let dir2 = tempfile::tempdir().unwrap();
    let plane = Plane::start(&emu, gone, &name, dir2.path(), &[]).await;
    let err = plane.task.await.unwrap().unwrap_err();
    assert!(err.to_string().contains("DescribeStreamConsumer"), "{err}");
    let _ = plane.stop;
    plane.host.shutdown().await;
    let _ = emu
        .kinesis
        .delete_stream()
        .stream_name(&stream)
        .send()
        .await;
}

#[tokio::test]
#[ignore = "needs the emulator: run by scripts/test-e2e.sh"]
async fn a_state_over_1_mb_terminates_the_window_early_and_the_window_goes_on_afresh() {
    let emu = emulator().await;
    let dir = tempfile::tempdir().unwrap();
    let (stream, stream_arn) = emu.stream(1).await;
    let role = emu.role().await;
    let name = format!("{}-fn", emu.prefix);
    emu.function(&name, &role, 10, &[]).await;
    emu.lambda
        .create_event_source_mapping()
        .function_name(&name)
        .event_source_arn(&stream_arn)
        .starting_position(EventSourcePosition::TrimHorizon)
        .batch_size(2)
        .tumbling_window_in_seconds(i32::try_from(WINDOW).unwrap())
        .send()
        .await
        .unwrap();
    let listed = emu
        .lambda
        .list_event_source_mappings()
        .function_name(&name)
        .send()
        .await
        .unwrap();
    let spec = mapping_from(&listed.event_source_mappings()[0])
        .unwrap()
        .unwrap();
    let env = [("KSTREAM_TEST_FN_PAD_STATE_AT", "2")];
    let plane = Plane::start(&emu, spec, &name, dir.path(), &env).await;
    next_window(0.3).await;
    for i in 0..6 {
        emu.put(&stream, "pk", &json!({"i": i}).to_string()).await;
    }
    let stats = plane.stats.clone();
    plane
        .wait("the window closed", |s| {
            s.windows_closed.load(Ordering::Relaxed) >= 1
        })
        .await;
    plane.stop().await.unwrap();

    let lines = lines(&dir.path().join("windows.jsonl"));
    let early: Vec<usize> = (0..lines.len())
        .filter(|&i| lines[i]["early"] == true)
        .collect();
    assert_eq!(early.len(), 1, "one terminating invoke");
    let terminating = &lines[early[0]];
    assert_eq!(
        terminating["state"]["pad"].as_str().map(str::len),
        Some(1 << 20),
        "the terminating invoke carries the oversized state"
    );
    let next = &lines[early[0] + 1];
    assert_eq!(
        next["window"], terminating["window"],
        "the same window goes on"
    );
    assert_eq!(next["state"], json!({}), "with a fresh state");
    let last = lines.last().unwrap();
    assert_eq!(last["final"], true);
    let count = |l: &Value| l["state"]["count"].as_u64().unwrap_or(0) + seqs(l).len() as u64;
    assert_eq!(
        count(terminating) + count(last),
        6,
        "what the terminating invoke flushed and what the final invoke holds: every record once"
    );
    assert_eq!(stats.windows_terminated_early.load(Ordering::Relaxed), 1);
    assert_eq!(stats.windows_closed.load(Ordering::Relaxed), 1);
}

/// Creates a windowed mapping (`TumblingWindowInSeconds` = `window`) on a new one-shard stream.
async fn windowed_mapping(emu: &Emulator, window: i32) -> (String, String, MappingSpec) {
    let (stream, stream_arn) = emu.stream(1).await;
    let role = emu.role().await;
    let name = format!("{}-fn", emu.prefix);
    emu.function(&name, &role, 10, &[]).await;
    emu.lambda
        .create_event_source_mapping()
        .function_name(&name)
        .event_source_arn(&stream_arn)
        .starting_position(EventSourcePosition::TrimHorizon)
        .tumbling_window_in_seconds(window)
        .send()
        .await
        .unwrap();
    let listed = emu
        .lambda
        .list_event_source_mappings()
        .function_name(&name)
        .send()
        .await
        .unwrap();
    let spec = mapping_from(&listed.event_source_mappings()[0])
        .unwrap()
        .unwrap();
    (stream, name, spec)
}

/// The largest sequence number (they grow in length, then lexically).
fn last_seq<'a>(seqs: impl IntoIterator<Item = &'a String>) -> Option<String> {
    seqs.into_iter()
        .max_by_key(|s| (s.len(), (*s).clone()))
        .cloned()
}

#[tokio::test]
#[ignore = "needs the emulator: run by scripts/test-e2e.sh"]
async fn a_restart_mid_window_resumes_after_the_last_done_batch_with_its_state() {
    const SHARD: &str = "shardId-000000000000";
    // 15-minute windows: keep clear of a window's end so the whole test runs in one window.
    let to_end = 900.0 - now_epoch().rem_euclid(900.0);
    if to_end < 120.0 {
        tokio::time::sleep(Duration::from_secs_f64(to_end + 1.0)).await;
    }
    let emu = emulator().await;
    let dir = tempfile::tempdir().unwrap();
    let (stream, name, spec) = windowed_mapping(&emu, 900).await;
    let windows = dir.path().join("windows.jsonl");
    let mut put: Vec<String> = Vec::new();
    let mut lines_before = 0;
    for (run, new) in [(1, 4), (2, 3)] {
        for i in 0..new {
            let data = json!({"run": run, "i": i}).to_string();
            put.push(emu.put(&stream, "pk", &data).await);
        }
        let plane = Plane::start(&emu, spec.clone(), &name, dir.path(), &[]).await;
        let stats = plane.stats.clone();
        plane
            .wait("the records", |s| {
                s.records_done.load(Ordering::Relaxed) >= new as u64
            })
            .await;
        // Give a re-read (the old behaviour) the time to show.
        tokio::time::sleep(Duration::from_millis(500)).await;
        plane.stop().await.unwrap();
        assert_eq!(
            stats.records_done.load(Ordering::Relaxed),
            new as u64,
            "run {run}: only the records put since the last run"
        );
        assert_eq!(stats.records_polled.load(Ordering::Relaxed), new as u64);
        assert_eq!(stats.windows_closed.load(Ordering::Relaxed), 0);

        let checkpoints = CheckpointStore::open(dir.path(), &spec.uuid, &spec.stream_arn).unwrap();
        assert_eq!(
            checkpoints.get(SHARD),
            last_seq(&put),
            "run {run}: checkpointed after the last done batch, mid-window"
        );
        let open = checkpoints
            .window(SHARD)
            .expect("the open window is persisted");
        assert_eq!(open.end - open.start, 900);
        assert_eq!(
            Value::Object(open.state.clone()),
            json!({"count": put.len()}),
            "run {run}: the state the last invoke returned"
        );
        assert!(!open.terminated_early);

        let lines = lines(&windows);
        let this_run = &lines[lines_before..];
        assert!(!this_run.is_empty());
        let count = |l: &Value| l["state"]["count"].as_u64().unwrap_or(0);
        assert_eq!(
            count(&this_run[0]),
            (put.len() - new) as u64,
            "run {run}: the first invoke carries the state of the last run: {lines:#?}"
        );
        let mut seen_before = 0u64;
        for line in &lines {
            assert_eq!(
                count(line),
                seen_before,
                "the state of every invoke: {lines:#?}"
            );
            assert_eq!(line["window"], lines[0]["window"], "one window");
            assert_eq!(line["final"], false);
            seen_before += seqs(line).len() as u64;
        }
        let all: Vec<String> = lines.iter().flat_map(seqs).collect();
        let once: BTreeSet<&String> = all.iter().collect();
        assert_eq!(all.len(), once.len(), "no record read twice: {lines:#?}");
        assert_eq!(all, put, "every record once, in order");
        lines_before = lines.len();
    }
}

#[tokio::test]
#[ignore = "needs the emulator: run by scripts/test-e2e.sh"]
async fn a_window_that_ended_during_a_restart_closes_with_its_persisted_state() {
    const SHARD: &str = "shardId-000000000000";
    const LENGTH: u32 = 5;
    let emu = emulator().await;
    let dir = tempfile::tempdir().unwrap();
    let (stream, name, spec) = windowed_mapping(&emu, LENGTH as i32).await;
    let windows = dir.path().join("windows.jsonl");
    // Early in a window, so the first run stops before the window's end.
    let now = now_epoch();
    let length = f64::from(LENGTH);
    let start = (now / length).floor() * length + length;
    tokio::time::sleep(Duration::from_secs_f64(start + 0.3 - now)).await;
    let mut put = Vec::new();
    for i in 0..3 {
        put.push(emu.put(&stream, "pk", &json!({"i": i}).to_string()).await);
    }
    let plane = Plane::start(&emu, spec.clone(), &name, dir.path(), &[]).await;
    let stats = plane.stats.clone();
    plane
        .wait("the records", |s| {
            s.records_done.load(Ordering::Relaxed) >= 3
        })
        .await;
    plane.stop().await.unwrap();
    assert_eq!(
        stats.windows_closed.load(Ordering::Relaxed),
        0,
        "stopped before the window's end"
    );
    let checkpoints = CheckpointStore::open(dir.path(), &spec.uuid, &spec.stream_arn).unwrap();
    let open = checkpoints
        .window(SHARD)
        .expect("the open window is persisted");
    assert_eq!(Value::Object(open.state), json!({"count": 3}));

    // The window ends while nothing runs; the next start closes it with the persisted state.
    let end = open.end as f64;
    tokio::time::sleep(Duration::from_secs_f64((end - now_epoch()).max(0.0) + 0.5)).await;
    let plane = Plane::start(&emu, spec.clone(), &name, dir.path(), &[]).await;
    let stats = plane.stats.clone();
    plane
        .wait("the window's close", |s| {
            s.windows_closed.load(Ordering::Relaxed) >= 1
        })
        .await;
    plane.stop().await.unwrap();
    assert_eq!(
        stats.records_done.load(Ordering::Relaxed),
        0,
        "nothing read again"
    );
    let lines = lines(&windows);
    let last = lines.last().unwrap();
    assert_eq!(last["final"], true);
    assert!(seqs(last).is_empty(), "Records: [] {lines:#?}");
    assert_eq!(last["state"], json!({"count": 3}), "the persisted state");
    assert_eq!(last["window"], lines[0]["window"]);
    let all: Vec<String> = lines.iter().flat_map(seqs).collect();
    assert_eq!(all, put, "every record once: {lines:#?}");
    let checkpoints = CheckpointStore::open(dir.path(), &spec.uuid, &spec.stream_arn).unwrap();
    assert_eq!(
        checkpoints.window(SHARD),
        None,
        "the closed window's entry is gone"
    );
    assert_eq!(checkpoints.get(SHARD), last_seq(&put));
}
