//! Tumbling windows (`TumblingWindowInSeconds`) on a Kinesis mapping, as Lambda runs them
//! (Lambda developer guide, "Using tumbling windows" for Kinesis; `KinesisTimeWindowEvent` of
//! the Java, Go and Rust event libraries).
//!
//! # The rules
//! - **Boundaries.** A record belongs to the window of its *arrival* time
//!   (`approximateArrivalTimestamp`, "the time when records were inserted into the stream"), per
//!   shard. Windows are aligned to multiples of their length since the Unix epoch (AWS's example:
//!   a 120 s window from `07:04:00Z` to `07:06:00Z`). A batch never spans two windows; a record
//!   whose arrival is earlier than the open window's start (clock skew) joins the open window.
//! - **Event.** The usual Kinesis event plus `window: {start, end}` (RFC 3339 with `Z`),
//!   `state` (what the previous invoke of the window returned, `{}` for a fresh window),
//!   `shardId`, `eventSourceARN`, `isFinalInvokeForWindow`, `isWindowTerminatedEarly`.
//! - **Response.** It must hold `state`, a JSON object: "if the response does not contain a
//!   state property, Lambda considers this a failed invocation". A `state` that is `null` or not
//!   an object fails the same way (the event's `state` is always an object). `batchItemFailures`
//!   is read as for any Kinesis mapping ([`super::batch`]).
//! - **State on retries.** The state moves forward only with a response that counts:
//!   - after a *failed* invocation (error, crash, timeout, no `state`, a bad item identifier), the
//!     retry gets the state the failed attempt started from: nothing of the failed attempt was
//!     accepted, and its records all come again;
//!   - after a *partial* failure (`batchItemFailures`), the retry gets the state the partial
//!     response returned. The records before the lowest failed one are done and checkpointed with
//!     the window: they will not come again, so their contribution lives only in that state.
//!     Rolling back to the starting state would lose them; keeping the returned state counts each
//!     record once. (This is what `functions/stream-analytics` assumes.)
//!   - records given up (retries exhausted, maximum record age) leave the state as it was.
//! - **Closing.** When the window's end has passed (records of a later window arrived, or a
//!   `GetRecords` call made after the end came back with none of this window, or the shard
//!   ended), one final invoke goes out with `isFinalInvokeForWindow: true`, carrying the window's
//!   records still waiting to be sent (`Records: []` when none are). It is synchronous: the shard
//!   waits for it. "If invocation is unsuccessful, your Lambda function suspends further
//!   processing until a successful invocation": see [`close`] for the exact steps. On success the
//!   state is dropped and the shard checkpoints past the window.
//! - **State limit.** A returned state larger than [`MAX_STATE_BYTES`] (its serialized JSON)
//!   terminates the window early. Reading of the sources: the Java/Rust doc comment of
//!   `isWindowTerminatedEarly` says "Set to true if window is terminated prematurely. Subsequent
//!   invoke will continue the same window with a fresh state", and the developer guide "If it
//!   exceeds that size, Lambda terminates the window early". So the *next* invoke of the window
//!   (a batch, or the final invoke when no batch comes first) carries
//!   `isWindowTerminatedEarly: true` and the oversized state, so the function can emit what it
//!   holds; whatever state that invoke returns is dropped, and the invokes after it continue the
//!   same window (same `window` bounds) from `{}`. A retry of the terminating invoke is again
//!   terminating, with the same state.
//! - **Checkpoints.** As Lambda does, the shard checkpoints after every invoke of an open window
//!   that counts (its done records), and writes with it, in the same atomic write, the window
//!   (`start`, `end`), the state that invoke returned and whether the next invoke terminates the
//!   window early ([`crate::checkpoint::OpenWindow`]). A restart of `kstream local` mid-window
//!   resumes after the last done record, in that window, with that state: no record of the window
//!   is read twice. If the window's end passed meanwhile, it closes as above (the final invoke,
//!   with the records of the window still to come, or `Records: []`). When the window closes the
//!   entry goes and the checkpoint moves past the window.
//!
//! The parallelization factor is 1 for windowed mappings (see [`super::MappingSpec`]).

use serde_json::{Map, Value, json};

use super::batch::{self, Attempt, BatchDriver, FailurePolicy};
use super::event::{self, EventContext, StreamRecord};
use crate::checkpoint::OpenWindow;
use crate::runtime::InvokeResult;

/// The largest state Lambda keeps per shard: 1 MB of serialized JSON.
pub const MAX_STATE_BYTES: usize = 1_048_576;

/// One tumbling window: `[start, end)` in Unix epoch seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Window {
    /// First second of the window.
    pub start: i64,
    /// First second after the window.
    pub end: i64,
}

impl Window {
    /// The window of length `length_secs` holding `arrival` (epoch seconds), aligned to
    /// multiples of the length since the epoch.
    pub fn of(arrival: f64, length_secs: u32) -> Self {
        let length = i64::from(length_secs.max(1));
        // Whole seconds: windows are whole seconds long and aligned to them.
        #[allow(clippy::cast_possible_truncation)]
        let second = arrival.floor() as i64;
        let start = second.div_euclid(length) * length;
        Self {
            start,
            end: start + length,
        }
    }

    /// Whether a record that arrived at `arrival` belongs here (or before: it joins this window).
    pub fn holds(&self, arrival: f64) -> bool {
        arrival < self.end as f64
    }

    /// `{"start": …, "end": …}` as in the event, RFC 3339 with `Z`.
    pub fn to_json(self) -> Value {
        json!({ "start": rfc3339(self.start), "end": rfc3339(self.end) })
    }
}

fn rfc3339(epoch_seconds: i64) -> String {
    chrono::DateTime::from_timestamp(epoch_seconds, 0)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// Why a windowed response does not count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateProblem {
    /// The body is not a JSON object.
    NotAnObject,
    /// No `state` property.
    Missing,
    /// `state` is there but not an object.
    NotAnObjectState,
}

/// The `state` of a windowed response.
pub fn response_state(body: &[u8]) -> Result<Map<String, Value>, StateProblem> {
    let Ok(Value::Object(mut response)) = serde_json::from_slice::<Value>(body) else {
        return Err(StateProblem::NotAnObject);
    };
    match response.remove("state") {
        None => Err(StateProblem::Missing),
        Some(Value::Object(state)) => Ok(state),
        Some(_) => Err(StateProblem::NotAnObjectState),
    }
}

/// What an accepted response did to the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Accepted {
    /// The returned state passed [`MAX_STATE_BYTES`]: the window is terminated early.
    pub terminated_early: bool,
}

/// The window of one shard being aggregated, and its state.
#[derive(Debug, Clone)]
pub struct WindowCursor {
    shard_id: String,
    source_arn: String,
    window: Option<Window>,
    state: Map<String, Value>,
    terminate_early: bool,
    final_invoke: bool,
}

impl WindowCursor {
    /// A cursor for `shard_id`; `source_arn` is the event's top-level `eventSourceARN`.
    pub fn new(shard_id: impl Into<String>, source_arn: impl Into<String>) -> Self {
        Self {
            shard_id: shard_id.into(),
            source_arn: source_arn.into(),
            window: None,
            state: Map::new(),
            terminate_early: false,
            final_invoke: false,
        }
    }

    /// The open window.
    pub fn window(&self) -> Option<Window> {
        self.window
    }

    /// The state the next invoke carries.
    pub fn state(&self) -> &Map<String, Value> {
        &self.state
    }

    /// Whether the next invoke terminates the window early.
    pub fn terminating(&self) -> bool {
        self.terminate_early
    }

    /// Resumes `window` as persisted: its state and whether the next invoke terminates it early.
    pub fn resume(&mut self, window: Window, state: Map<String, Value>, terminated_early: bool) {
        self.window = Some(window);
        self.state = state;
        self.terminate_early = terminated_early;
        self.final_invoke = false;
    }

    /// The open window as it is persisted with the checkpoint.
    pub fn persisted(&self) -> Option<OpenWindow> {
        self.window.map(|w| OpenWindow {
            start: w.start,
            end: w.end,
            state: self.state.clone(),
            terminated_early: self.terminate_early,
        })
    }

    /// Opens `window` with a fresh state, unless it is the one open.
    pub fn open(&mut self, window: Window) {
        if self.window != Some(window) {
            self.window = Some(window);
            self.state = Map::new();
            self.terminate_early = false;
            self.final_invoke = false;
        }
    }

    /// The window closed: its state is dropped.
    fn finish(&mut self) {
        self.window = None;
        self.state = Map::new();
        self.terminate_early = false;
        self.final_invoke = false;
    }

    /// The event for `records` in the open window.
    pub fn event(&self, records: &[StreamRecord], ctx: &EventContext) -> Value {
        let mut event = event::kinesis_event(records, ctx);
        let window = self.window.map_or(Value::Null, Window::to_json);
        if let Value::Object(fields) = &mut event {
            fields.insert("window".into(), window);
            fields.insert("state".into(), Value::Object(self.state.clone()));
            fields.insert("shardId".into(), json!(self.shard_id));
            fields.insert("eventSourceARN".into(), json!(self.source_arn));
            fields.insert("isFinalInvokeForWindow".into(), json!(self.final_invoke));
            fields.insert(
                "isWindowTerminatedEarly".into(),
                json!(self.terminate_early),
            );
        }
        event
    }

    /// Classifies a windowed response (see the module docs) and moves the state forward when it
    /// counts.
    pub fn accept(
        &mut self,
        result: &InvokeResult,
        records: &[StreamRecord],
        report_item_failures: bool,
    ) -> (Attempt, Accepted) {
        let InvokeResult::Ok(body) = result else {
            let failed = Attempt::Failed {
                function_error: true,
            };
            return (failed, Accepted::default());
        };
        let state = match response_state(body) {
            Ok(state) => state,
            Err(problem) => {
                tracing::info!(shard = %self.shard_id, ?problem, "a windowed invocation must return a state object; it counts as failed");
                let failed = Attempt::Failed {
                    function_error: false,
                };
                return (failed, Accepted::default());
            }
        };
        let attempt = batch::classify(result, records, report_item_failures);
        if matches!(attempt, Attempt::Failed { .. } | Attempt::NotInvoked) {
            return (attempt, Accepted::default());
        }
        if self.terminate_early {
            // The terminating invoke: what it returns is dropped, the window goes on afresh.
            self.terminate_early = false;
            self.state = Map::new();
            return (attempt, Accepted::default());
        }
        let size = Value::Object(state.clone()).to_string().len();
        self.state = state;
        if size > MAX_STATE_BYTES {
            tracing::warn!(shard = %self.shard_id, bytes = size, limit = MAX_STATE_BYTES, "the window state passed 1 MB: the window is terminated early");
            self.terminate_early = true;
            return (
                attempt,
                Accepted {
                    terminated_early: true,
                },
            );
        }
        (attempt, Accepted::default())
    }
}

/// What the batch logic needs for windows: a [`BatchDriver`] whose invocations go through a
/// [`WindowCursor`] ([`WindowCursor::event`], [`WindowCursor::accept`]).
pub trait WindowDriver: BatchDriver {
    /// The shard's cursor.
    fn cursor(&mut self) -> &mut WindowCursor;
}

/// What became of a window's close.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CloseReport {
    /// Records of the final batch that are done (processed or given up), from the start.
    pub done: usize,
    /// The final invoke succeeded: the window is closed.
    pub closed: bool,
    /// Invocations with `isFinalInvokeForWindow: true` that failed.
    pub failed_final_invokes: u32,
}

/// Closes the open window: the final invoke with the window's last `records`.
///
/// 1. The final invoke goes out with `records` (skipped when some of them are already older
///    than `MaximumRecordAgeInSeconds`). If it succeeds, the window is closed.
/// 2. Otherwise the records it did not finish (all of them after a failure; those from the
///    lowest failed one after a partial failure, whose returned state is kept) are processed as
///    ordinary invokes of the window under the mapping's failure rules (retries, bisect, record
///    age, on-failure destination), so a poison record cannot hold the shard forever.
/// 3. Then the final invoke is repeated with `Records: []` and backoff until it succeeds; the
///    shard reads nothing meanwhile ("suspends further processing until a successful
///    invocation"). Each attempt starts from the same state.
///
/// Returns early, with the window still open, when the driver is stopping.
pub async fn close<D: WindowDriver>(
    records: &[StreamRecord],
    policy: &FailurePolicy,
    driver: &mut D,
) -> CloseReport {
    let mut report = CloseReport::default();
    let mut rest = 0..records.len();
    let expired = policy.max_record_age.is_some_and(|age| {
        records
            .first()
            .is_some_and(|r| r.arrival < driver.now() - age.as_secs_f64())
    });
    if !records.is_empty() && !expired {
        if driver.stopping() {
            return report;
        }
        driver.cursor().final_invoke = true;
        let result = driver.invoke(records).await;
        driver.cursor().final_invoke = false;
        match result.attempt {
            Attempt::Success => {
                driver.cursor().finish();
                report.done = records.len();
                report.closed = true;
                return report;
            }
            Attempt::Partial(i) => {
                report.failed_final_invokes += 1;
                rest.start = i;
            }
            Attempt::Failed { .. } => report.failed_final_invokes += 1,
            Attempt::NotInvoked => {}
        }
        report.done = rest.start;
    }
    if !rest.is_empty() {
        let batch = batch::process(&records[rest.clone()], policy, driver).await;
        report.done = rest.start + batch.done;
        if report.done < records.len() {
            return report;
        }
    }
    let mut retry = 0u32;
    loop {
        if driver.stopping() {
            return report;
        }
        driver.cursor().final_invoke = true;
        let result = driver.invoke(&[]).await;
        driver.cursor().final_invoke = false;
        match result.attempt {
            Attempt::Success => {
                driver.cursor().finish();
                report.closed = true;
                return report;
            }
            Attempt::NotInvoked => driver.backoff(5).await,
            Attempt::Partial(_) | Attempt::Failed { .. } => {
                report.failed_final_invokes += 1;
                retry += 1;
                driver.backoff(retry).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::batch::{AttemptResult, GiveUp};
    use crate::runtime::FunctionError;
    use bytes::Bytes;

    const SHARD: &str = "shardId-000000000006";
    const ARN: &str = "arn:aws:kinesis:us-east-1:123456789012:stream/lambda-stream";

    fn records(n: usize) -> Vec<StreamRecord> {
        (0..n)
            .map(|i| StreamRecord {
                shard_id: SHARD.into(),
                sequence_number: (i + 1).to_string(),
                partition_key: "pk".into(),
                data: Bytes::from_static(b"{}"),
                arrival: 1_607_497_440.0 + i as f64,
            })
            .collect()
    }

    fn ctx() -> EventContext {
        EventContext {
            stream_arn: ARN.into(),
            region: "us-east-1".into(),
            role_arn: "arn:aws:iam::123456789012:role/r".into(),
        }
    }

    /// What the fake function saw on one invoke.
    #[derive(Debug, Clone)]
    struct Seen {
        seqs: Vec<String>,
        state_count: u64,
        is_final: bool,
        early: bool,
    }

    /// A windowed function: it adds the records it processes to `state.count` and returns the
    /// state. Records in `poison` fail (named in `batchItemFailures`, or the whole invoke with
    /// an error); the first `fail_finals` final invokes fail; `pad` bytes of padding go into the
    /// state while `pad_until_early` is set; `no_state` answers without a state.
    struct Fake {
        cursor: WindowCursor,
        report: bool,
        poison: Vec<String>,
        fail_finals: u32,
        pad: usize,
        no_state: bool,
        seen: Vec<Seen>,
        given_up: Vec<Vec<String>>,
        now: f64,
    }

    impl Fake {
        fn new(report: bool) -> Self {
            let mut cursor = WindowCursor::new(SHARD, ARN);
            cursor.open(Window::of(1_607_497_440.0, 120));
            Self {
                cursor,
                report,
                poison: Vec::new(),
                fail_finals: 0,
                pad: 0,
                no_state: false,
                seen: Vec::new(),
                given_up: Vec::new(),
                now: 1_607_497_600.0,
            }
        }

        fn count(&self) -> u64 {
            self.cursor
                .state()
                .get("count")
                .map_or(0, |c| c.as_u64().unwrap())
        }
    }

    impl BatchDriver for Fake {
        async fn invoke(&mut self, records: &[StreamRecord]) -> AttemptResult {
            let event = self.cursor.event(records, &ctx());
            let seqs: Vec<String> = records.iter().map(|r| r.sequence_number.clone()).collect();
            let state_count = event["state"]["count"].as_u64().unwrap_or(0);
            let is_final = event["isFinalInvokeForWindow"].as_bool().unwrap();
            let early = event["isWindowTerminatedEarly"].as_bool().unwrap();
            self.seen.push(Seen {
                seqs: seqs.clone(),
                state_count,
                is_final,
                early,
            });
            let poisoned = seqs.iter().position(|s| self.poison.contains(s));
            let result = if is_final && self.fail_finals > 0 {
                self.fail_finals -= 1;
                InvokeResult::Error(FunctionError::new("Final", "final fails"))
            } else if self.no_state {
                InvokeResult::Ok(Bytes::from_static(b"{\"batchItemFailures\":[]}"))
            } else if poisoned.is_some() && !self.report {
                InvokeResult::Error(FunctionError::new("Poison", "poison"))
            } else {
                let ok = poisoned.unwrap_or(seqs.len());
                let mut state = json!({ "count": state_count + ok as u64 });
                if self.pad > 0 {
                    state["pad"] = json!("x".repeat(self.pad));
                }
                let failures: Vec<Value> = poisoned
                    .map(|i| vec![json!({"itemIdentifier": seqs[i]})])
                    .unwrap_or_default();
                InvokeResult::Ok(
                    json!({"state": state, "batchItemFailures": failures})
                        .to_string()
                        .into(),
                )
            };
            let (attempt, _) = self.cursor.accept(&result, records, self.report);
            AttemptResult {
                request_id: format!("req-{}", self.seen.len()),
                attempt,
            }
        }
        async fn give_up(&mut self, records: &[StreamRecord], _g: &GiveUp) -> bool {
            self.given_up
                .push(records.iter().map(|r| r.sequence_number.clone()).collect());
            true
        }
        fn stopping(&self) -> bool {
            false
        }
        fn now(&self) -> f64 {
            self.now
        }
        async fn backoff(&mut self, _retry: u32) {}
    }

    impl WindowDriver for Fake {
        fn cursor(&mut self) -> &mut WindowCursor {
            &mut self.cursor
        }
    }

    fn policy(report: bool, retries: Option<u32>) -> FailurePolicy {
        FailurePolicy {
            report_batch_item_failures: report,
            bisect: false,
            max_retry_attempts: retries,
            max_record_age: None,
        }
    }

    #[test]
    fn windows_are_aligned_to_multiples_of_their_length_by_arrival_time() {
        // AWS's example: a 120 s window from 07:04:00Z to 07:06:00Z on 2020-12-09.
        let w = Window::of(1_607_497_499.123, 120);
        assert_eq!(
            w.to_json(),
            json!({"start": "2020-12-09T07:04:00Z", "end": "2020-12-09T07:06:00Z"})
        );
        assert_eq!(Window::of(1_607_497_440.0, 120), w, "the first second");
        assert_ne!(
            Window::of(1_607_497_560.0, 120),
            w,
            "the end is the next one"
        );
        assert!(w.holds(1_607_497_559.999));
        assert!(!w.holds(1_607_497_560.0));
        assert!(
            w.holds(1_607_497_000.0),
            "a late arrival joins the open window"
        );
        assert_eq!(
            Window::of(61.5, 60),
            Window {
                start: 60,
                end: 120
            }
        );
    }

    #[test]
    fn the_event_has_the_time_window_fields() {
        let mut cursor = WindowCursor::new(SHARD, ARN);
        cursor.open(Window::of(1_607_497_440.0, 120));
        let event = cursor.event(&records(1), &ctx());
        assert_eq!(event["window"]["start"], "2020-12-09T07:04:00Z");
        assert_eq!(event["window"]["end"], "2020-12-09T07:06:00Z");
        assert_eq!(event["state"], json!({}));
        assert_eq!(event["shardId"], SHARD);
        assert_eq!(event["eventSourceARN"], ARN);
        assert_eq!(event["isFinalInvokeForWindow"], false);
        assert_eq!(event["isWindowTerminatedEarly"], false);
        assert_eq!(event["Records"].as_array().unwrap().len(), 1);
        assert_eq!(event["Records"][0]["eventSourceARN"], ARN);
    }

    #[test]
    fn a_response_without_a_state_object_is_a_failed_invocation() {
        assert_eq!(
            response_state(br#"{"batchItemFailures":[]}"#),
            Err(StateProblem::Missing)
        );
        assert_eq!(
            response_state(br#"{"state":null}"#),
            Err(StateProblem::NotAnObjectState)
        );
        assert_eq!(response_state(b"\"x\""), Err(StateProblem::NotAnObject));
        assert_eq!(response_state(b""), Err(StateProblem::NotAnObject));
        assert_eq!(
            response_state(br#"{"state":{"1":282}}"#).unwrap()["1"],
            json!(282)
        );
        let mut cursor = WindowCursor::new(SHARD, ARN);
        cursor.open(Window::of(0.0, 60));
        let body = InvokeResult::Ok(Bytes::from_static(b"{}"));
        let (attempt, _) = cursor.accept(&body, &records(2), false);
        assert_eq!(
            attempt,
            Attempt::Failed {
                function_error: false
            }
        );
    }

    #[test]
    fn a_resumed_cursor_carries_the_persisted_window_and_state() {
        let mut cursor = WindowCursor::new(SHARD, ARN);
        cursor.open(Window::of(1_607_497_440.0, 120));
        let body = InvokeResult::Ok(Bytes::from_static(br#"{"state":{"count":4}}"#));
        let (attempt, _) = cursor.accept(&body, &records(4), false);
        assert_eq!(attempt, Attempt::Success);
        let persisted = cursor.persisted().unwrap();
        let mut resumed = WindowCursor::new(SHARD, ARN);
        let w = Window {
            start: persisted.start,
            end: persisted.end,
        };
        resumed.resume(w, persisted.state, persisted.terminated_early);
        resumed.open(w);
        let event = resumed.event(&records(1), &ctx());
        assert_eq!(event["window"]["start"], "2020-12-09T07:04:00Z");
        assert_eq!(
            event["state"],
            json!({"count": 4}),
            "opening it again keeps it"
        );
        assert_eq!(event["isWindowTerminatedEarly"], false);
        resumed.finish();
        assert_eq!(resumed.persisted(), None);
    }

    #[tokio::test]
    async fn the_state_is_carried_from_invoke_to_invoke_of_a_window() {
        let mut fake = Fake::new(false);
        let all = records(10);
        for chunk in all.chunks(4) {
            let report = batch::process(chunk, &policy(false, None), &mut fake).await;
            assert_eq!(report.done, chunk.len());
        }
        let states: Vec<u64> = fake.seen.iter().map(|s| s.state_count).collect();
        assert_eq!(
            states,
            [0, 4, 8],
            "each invoke gets what the previous returned"
        );
        assert_eq!(fake.count(), 10);
    }

    #[tokio::test]
    async fn a_missing_state_fails_the_invocation_and_is_retried() {
        let mut fake = Fake::new(false);
        fake.no_state = true;
        let report = batch::process(&records(3), &policy(false, Some(1)), &mut fake).await;
        assert_eq!(fake.seen.len(), 2, "the first attempt and one retry");
        assert_eq!(fake.given_up, [vec!["1", "2", "3"]]);
        assert_eq!(report.done, 3);
        assert_eq!(fake.count(), 0, "the state did not move");
    }

    #[tokio::test]
    async fn a_retry_after_a_failure_gets_the_state_the_failed_attempt_started_from() {
        let mut fake = Fake::new(false);
        batch::process(&records(2), &policy(false, None), &mut fake).await;
        fake.poison = vec!["4".into()];
        let batch: Vec<StreamRecord> = records(5)[2..].to_vec();
        let report = batch::process(&batch, &policy(false, Some(2)), &mut fake).await;
        let retries: Vec<u64> = fake.seen[1..].iter().map(|s| s.state_count).collect();
        assert_eq!(retries, [2, 2, 2], "every attempt starts from 2");
        assert_eq!(report.done, 3, "given up after 2 retries");
        assert_eq!(fake.given_up, [vec!["3", "4", "5"]]);
        assert_eq!(fake.count(), 2, "given-up records leave the state alone");
    }

    #[tokio::test]
    async fn a_retry_after_a_partial_failure_gets_the_state_the_partial_response_returned() {
        let mut fake = Fake::new(true);
        fake.poison = vec!["3".into()];
        let report = batch::process(&records(5), &policy(true, Some(1)), &mut fake).await;
        assert_eq!(fake.seen[0].state_count, 0);
        assert_eq!(fake.seen[1].seqs, ["3", "4", "5"]);
        assert_eq!(
            fake.seen[1].state_count, 2,
            "records 1 and 2 are done: their count is kept"
        );
        assert_eq!(report.done, 5);
        assert_eq!(fake.given_up, [vec!["3", "4", "5"]]);
        assert_eq!(fake.count(), 2, "each record counted once");
    }

    #[tokio::test]
    async fn the_final_invoke_carries_the_last_records_and_the_full_state_then_drops_it() {
        let mut fake = Fake::new(false);
        let all = records(6);
        batch::process(&all[..4], &policy(false, None), &mut fake).await;
        let report = close(&all[4..], &policy(false, None), &mut fake).await;
        assert!(report.closed);
        assert_eq!(report.done, 2);
        let last = fake.seen.last().unwrap();
        assert!(last.is_final);
        assert_eq!(last.seqs, ["5", "6"]);
        assert_eq!(last.state_count, 4, "the full state of the window");
        assert_eq!(fake.cursor.window(), None, "closed");
        assert!(fake.cursor.state().is_empty(), "the state is dropped");
    }

    #[tokio::test]
    async fn a_final_invoke_with_no_records_left_is_empty() {
        let mut fake = Fake::new(false);
        batch::process(&records(3), &policy(false, None), &mut fake).await;
        let report = close(&[], &policy(false, None), &mut fake).await;
        assert!(report.closed);
        let last = fake.seen.last().unwrap();
        assert!(last.is_final && last.seqs.is_empty());
        assert_eq!(last.state_count, 3);
    }

    #[tokio::test]
    async fn a_failing_final_invoke_is_retried_until_it_succeeds_whatever_the_retry_policy() {
        let mut fake = Fake::new(false);
        batch::process(&records(3), &policy(false, Some(0)), &mut fake).await;
        fake.fail_finals = 4;
        let report = close(&[], &policy(false, Some(0)), &mut fake).await;
        assert!(report.closed);
        assert_eq!(report.failed_final_invokes, 4);
        let finals: Vec<u64> = fake
            .seen
            .iter()
            .filter(|s| s.is_final)
            .map(|s| s.state_count)
            .collect();
        assert_eq!(finals, [3, 3, 3, 3, 3], "every attempt with the same state");
        assert!(fake.given_up.is_empty());
    }

    #[tokio::test]
    async fn records_of_a_failed_final_invoke_get_the_retry_policy_then_an_empty_final_invoke() {
        let mut fake = Fake::new(true);
        batch::process(&records(2), &policy(true, Some(1)), &mut fake).await;
        fake.poison = vec!["4".into()];
        let last: Vec<StreamRecord> = records(5)[2..].to_vec();
        let report = close(&last, &policy(true, Some(1)), &mut fake).await;
        assert!(report.closed);
        assert_eq!(report.done, 3);
        let seen: Vec<(Vec<String>, u64, bool)> = fake.seen[1..]
            .iter()
            .map(|s| (s.seqs.clone(), s.state_count, s.is_final))
            .collect();
        let v = |s: &[&str]| s.iter().map(|x| (*x).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            seen,
            [
                (v(&["3", "4", "5"]), 2, true),
                (v(&["4", "5"]), 3, false),
                (v(&["4", "5"]), 3, false),
                (v(&[]), 3, true),
            ],
            "record 3 counted by the partial final invoke; 4 and 5 retried, given up; then the empty final invoke"
        );
        assert_eq!(fake.given_up, [vec!["4", "5"]]);
    }

    #[tokio::test]
    async fn a_state_over_1_mb_terminates_the_window_early_and_the_window_goes_on_afresh() {
        let mut fake = Fake::new(false);
        let all = records(9);
        fake.pad = MAX_STATE_BYTES;
        batch::process(&all[..3], &policy(false, None), &mut fake).await;
        assert!(fake.cursor.terminating());
        fake.pad = 0;
        batch::process(&all[3..6], &policy(false, None), &mut fake).await;
        batch::process(&all[6..], &policy(false, None), &mut fake).await;
        let report = close(&[], &policy(false, None), &mut fake).await;
        assert!(report.closed);
        let seen: Vec<(u64, bool, bool)> = fake
            .seen
            .iter()
            .map(|s| (s.state_count, s.early, s.is_final))
            .collect();
        assert_eq!(
            seen,
            [
                (0, false, false),
                (3, true, false),
                (0, false, false),
                (3, false, true)
            ],
            "the invoke after the oversized state terminates the window with it; then a fresh state"
        );
    }

    #[tokio::test]
    async fn a_state_of_exactly_1_mb_is_kept() {
        let mut fake = Fake::new(false);
        // {"count":1,"pad":"xx…"}: 20 bytes around the padding.
        fake.pad = MAX_STATE_BYTES - 20;
        batch::process(&records(1), &policy(false, None), &mut fake).await;
        let size = Value::Object(fake.cursor.state().clone()).to_string().len();
        assert_eq!(size, MAX_STATE_BYTES);
        assert!(!fake.cursor.terminating());
    }

    #[tokio::test]
    async fn a_failed_terminating_invoke_is_retried_as_terminating_with_the_same_state() {
        let mut fake = Fake::new(false);
        fake.pad = MAX_STATE_BYTES;
        let all = records(4);
        batch::process(&all[..2], &policy(false, None), &mut fake).await;
        fake.pad = 0;
        fake.poison = vec!["3".into()];
        batch::process(&all[2..], &policy(false, Some(1)), &mut fake).await;
        let retried: Vec<(u64, bool)> = fake.seen[1..]
            .iter()
            .map(|s| (s.state_count, s.early))
            .collect();
        assert_eq!(retried, [(2, true), (2, true)]);
        assert!(
            fake.cursor.terminating(),
            "still pending: nothing succeeded"
        );
    }
}
