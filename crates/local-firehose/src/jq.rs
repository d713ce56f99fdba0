//! The JQ query of Firehose's `MetadataExtraction` processor (dynamic partitioning with inline
//! parsing), evaluated with [jaq](https://github.com/01mf02/jaq) (`jaq-core`, `jaq-std`,
//! `jaq-json`), with Firehose's rules on top.
//!
//! # Firehose's rules
//!
//! - The query is compiled when the delivery stream is loaded: a query that does not parse or
//!   names an undefined filter is a configuration error ([`Error::Config`]) naming the query and
//!   the reason, not a per-record failure.
//! - Per record, the query's result must be one object whose values are the partition keys:
//!   strings as they are, numbers and booleans as their JSON text (numbers as jq 1.6 prints
//!   them: jq 1.6 holds every number as a double, so `1.0` and `1.50` give `1` and `1.5`). A
//!   record that is not JSON, a key whose value is missing, `null` or not a scalar (object,
//!   array), a result that is not an object, no result, a second result, or a jq error fails
//!   the record, which goes to the error output as `partitioning-failed`.
//! - `env` (and `$ENV`) are not available: the process environment of `kstream local` holds the
//!   user's credentials, and Firehose's own environment is not the user's. A query using them is
//!   refused at load time. `halt` and `halt_error` fail the record (jaq's `unwrap_valr` would
//!   exit the process).
//!
//! # Bounds (jaq has none of its own)
//!
//! - Size: a record over [`MAX_RECORD_BYTES`] (Firehose's 1,000 KiB record limit) fails without
//!   being parsed; records are parsed with `serde_json`, whose nesting limit (128) keeps a deeply
//!   nested record from overflowing the stack.
//! - Outputs: at most two outputs are taken (the first is the result; a second fails the
//!   record); an infinite stream of outputs is never drained.
//! - Time: each evaluation runs on the query's own evaluator thread and must answer within
//!   [`TIME_BOUND`]; past it, the record fails as `partitioning-failed` and the delivery goes on
//!   with a fresh evaluator thread. jaq cannot be interrupted, so the abandoned thread runs until
//!   its evaluation ends (then exits); after [`MAX_ABANDONED`] abandoned evaluations of one
//!   query, further records fail at once (naming the reason) instead of starting more threads.
//! - Not bounded: the memory a single evaluation allocates (`[range(1e10)]`), and the stack of
//!   a query that recurses without end (`def f: 1 + f; f`), which aborts the process as it
//!   would abort `jaq` itself (jaq's README, "Security"). The evaluator thread has a 64 MiB
//!   stack to make the second unlikely for any real query.
//!
//! # jq 1.6 (Firehose) and jaq
//!
//! Firehose runs jq 1.6. jaq aims at jq's semantics, and every query in the Firehose and CDK
//! documentation gives the same keys (`.customer_id`, `.type.device`,
//! `.event_timestamp|strftime("%Y")`, ...). The differences jaq's README and manual list that
//! can matter for a partitioning query, and what they mean for users:
//! - numbers: jq 1.6 converts every number to a double; jaq keeps integers exact and arithmetic
//!   on large integers may differ. Keys are printed the jq 1.6 way here (see above), so plain
//!   values match; computed keys over 2^53 may not.
//! - `limit(0; f)` gives nothing in jaq, one output in jq 1.6; `nan < nan` and `nan > nan`
//!   differ; `[[]] | implode` crashes jq and errors in jaq.
//! - object construction with several values per key (`{a: (1,2)}`) yields its outputs in a
//!   different order in jaq; either way it is more than one result and fails the record.
//! - jaq has filters jq 1.6 lacks (`ltrimstr` exists in both; jaq adds e.g. `abs`, `toarray`,
//!   `pick`-like helpers of jq 1.7): a query that works here may be refused by Firehose's
//!   jq 1.6 when the delivery stream is created. Test a new query against the real service.
//! - `strftime`/`strptime` use jiff in jaq and the C library in jq: the common conversions
//!   (`%Y %m %d %H %M %S %j %a %b`) agree; locale-specific ones may not.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use jaq_core::load::{Arena, File, Loader};
use jaq_core::{Compiler, Ctx, ValX, Vars, data};
use jaq_json::Val;
use jaq_std::ValT as _;

use crate::error::{Error, Result};

/// Firehose's record size limit (1,000 KiB): a larger record fails without being evaluated.
pub const MAX_RECORD_BYTES: usize = 1_000 * 1024;

/// How long one record's evaluation may take.
pub const TIME_BOUND: Duration = Duration::from_secs(1);

/// Abandoned (timed-out) evaluations of one query after which records fail at once.
pub const MAX_ABANDONED: usize = 4;

/// The evaluator thread's stack.
const STACK_BYTES: usize = 64 << 20;

type Filter = jaq_core::Filter<data::JustLut<Val>>;
type Keys = BTreeMap<String, String>;

/// One record for the evaluator thread, and where to answer.
struct Job {
    record: Vec<u8>,
    reply: mpsc::SyncSender<Result<Keys, String>>,
}

/// The evaluator thread of a query, and how many were abandoned.
struct Evaluator {
    jobs: mpsc::Sender<Job>,
    abandoned: usize,
}

/// A compiled `MetadataExtractionQuery`.
#[derive(Clone)]
pub struct Query {
    text: Arc<str>,
    evaluator: Arc<Mutex<Evaluator>>,
}

impl fmt::Debug for Query {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Query").field(&self.text).finish()
    }
}

impl Query {
    /// Compiles `query` (jq 1.6 syntax, see the module docs).
    ///
    /// # Errors
    /// [`Error::Config`] naming the query and why it does not compile.
    pub fn parse(query: &str) -> Result<Self> {
        let jobs = spawn(query)
            .map_err(|why| Error::Config(format!("MetadataExtractionQuery {query:?}: {why}")))?;
        Ok(Self {
            text: query.into(),
            evaluator: Arc::new(Mutex::new(Evaluator { jobs, abandoned: 0 })),
        })
    }

    /// The query as configured.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The partition keys of one JSON record.
    ///
    /// # Errors
    /// The message for the error output (`partitioning-failed`) when the record is too large or
    /// not JSON, the query fails or takes too long, or its result is not an object of scalars.
    pub fn extract(&self, record: &[u8]) -> Result<Keys, String> {
        if record.len() > MAX_RECORD_BYTES {
            return Err(format!(
                "record of {} bytes is over Firehose's record limit of {MAX_RECORD_BYTES} bytes",
                record.len()
            ));
        }
        let mut evaluator = self
            .evaluator
            .lock()
            .map_err(|_| "the query's evaluator failed earlier".to_owned())?;
        if evaluator.abandoned >= MAX_ABANDONED {
            return Err(format!(
                "the query exceeded its time bound of {} ms on {MAX_ABANDONED} records; it is no longer evaluated",
                TIME_BOUND.as_millis()
            ));
        }
        let (reply, answer) = mpsc::sync_channel(1);
        let job = Job {
            record: record.to_vec(),
            reply,
        };
        if evaluator.jobs.send(job).is_err() {
            // The thread is gone (it cannot panic on a query, but be safe): start another.
            evaluator.jobs = spawn(&self.text)?;
            return Err("the query's evaluator stopped; the record was not evaluated".to_owned());
        }
        match answer.recv_timeout(TIME_BOUND) {
            Ok(result) => result,
            Err(_) => {
                evaluator.abandoned += 1;
                tracing::warn!(query = %self.text, abandoned = evaluator.abandoned, "MetadataExtractionQuery exceeded its time bound");
                if evaluator.abandoned < MAX_ABANDONED {
                    evaluator.jobs = spawn(&self.text)?;
                }
                Err(format!(
                    "the query did not finish within its time bound of {} ms",
                    TIME_BOUND.as_millis()
                ))
            }
        }
    }
}

/// Starts an evaluator thread for `query`, which compiles it first.
fn spawn(query: &str) -> Result<mpsc::Sender<Job>, String> {
    let (jobs, incoming) = mpsc::channel::<Job>();
    let (ready, compiled) = mpsc::sync_channel::<Result<(), String>>(1);
    let text = query.to_owned();
    std::thread::Builder::new()
        .name("firehose-jq".to_owned())
        .stack_size(STACK_BYTES)
        .spawn(move || {
            let arena = Arena::default();
            let filter = match compile(&arena, &text) {
                Ok(f) => {
                    let _ = ready.send(Ok(()));
                    f
                }
                Err(why) => {
                    let _ = ready.send(Err(why));
                    return;
                }
            };
            for job in incoming {
                let _ = job.reply.send(evaluate(&filter, &job.record));
            }
        })
        .map_err(|e| format!("cannot start the query's evaluator thread: {e}"))?;
    compiled
        .recv()
        .map_err(|_| "the query's evaluator thread stopped while compiling".to_owned())??;
    Ok(jobs)
}

/// Parses and compiles `query` with jaq's standard library, without `env`.
fn compile<'a>(arena: &'a Arena, query: &'a str) -> Result<Filter, String> {
    let defs = jaq_core::defs()
        .chain(jaq_std::defs())
        .chain(jaq_json::defs());
    let funs = jaq_core::funs()
        .chain(jaq_std::funs())
        .chain(jaq_json::funs())
        .filter(|(name, _, _)| *name != "env");
    let modules = Loader::new(defs)
        .load(
            arena,
            File {
                code: query,
                path: (),
            },
        )
        .map_err(|errs| {
            let mut why = Vec::new();
            for (_, e) in errs {
                match e {
                    jaq_core::load::Error::Io(io) => {
                        why.extend(io.into_iter().map(|(path, e)| format!("{path}: {e}")));
                    }
                    jaq_core::load::Error::Lex(lex) => {
                        why.extend(lex.into_iter().map(|(expect, at)| {
                            format!("expected {} {}", expect.as_str(), position(at))
                        }))
                    }
                    jaq_core::load::Error::Parse(parse) => {
                        why.extend(parse.into_iter().map(|(expect, at)| {
                            format!("expected {} {}", expect.as_str(), position(at))
                        }));
                    }
                }
            }
            format!("not a jq query kstream local runs: {}", why.join("; "))
        })?;
    Compiler::default()
        .with_funs(funs)
        .compile(modules)
        .map_err(|errs| {
            let why: Vec<String> = errs
                .into_iter()
                .flat_map(|(_, es)| es)
                .map(|(name, undefined)| match undefined {
                    jaq_core::compile::Undefined::Filter(arity) => {
                        format!("undefined filter {name}/{arity}")
                    }
                    other => format!("undefined {} {name}", other.as_str()),
                })
                .collect();
            format!(
                "{} (kstream local runs jq with jaq: see its manual)",
                why.join("; ")
            )
        })
}

/// Where in a query an error is: the start of the unparsed rest, for error messages.
fn position(rest: &str) -> String {
    if rest.is_empty() {
        return "at the end".to_owned();
    }
    let end = rest.char_indices().nth(20).map_or(rest.len(), |(i, _)| i);
    format!("at {:?}", &rest[..end])
}

/// Runs the query on one record: the partition keys, or why the record fails.
fn evaluate(filter: &Filter, record: &[u8]) -> Result<Keys, String> {
    let input: Val =
        serde_json::from_slice(record).map_err(|e| format!("record is not JSON: {e}"))?;
    let ctx = Ctx::<data::JustLut<Val>>::new(&filter.lut, Vars::new([]));
    let mut outputs = filter.id.run((ctx, input)).map(output);
    let first = match outputs.next() {
        None => return Err("the query gave no result".to_owned()),
        Some(Err(e)) => return Err(e),
        Some(Ok(v)) => v,
    };
    match outputs.next() {
        None => {}
        Some(Err(e)) => return Err(format!("after its first result, {e}")),
        Some(Ok(_)) => {
            return Err(
                "the query gave more than one result; Firehose needs exactly one object".to_owned(),
            );
        }
    }
    let Val::Obj(map) = first else {
        return Err(format!(
            "the query's result {} is not an object of partition keys",
            short(&first)
        ));
    };
    let mut keys = Keys::new();
    for (k, v) in map.iter() {
        let name = match k {
            Val::TStr(b) | Val::BStr(b) => String::from_utf8_lossy(b).into_owned(),
            other => other.to_string(),
        };
        let text = match v {
            Val::TStr(b) => String::from_utf8_lossy(b).into_owned(),
            Val::Bool(b) => b.to_string(),
            Val::Num(_) => match v.as_f64() {
                Some(x) if !x.is_nan() => jq16_number(x),
                _ => return Err(format!("partition key {name:?} is missing (null)")),
            },
            Val::Null => return Err(format!("partition key {name:?} is missing (null)")),
            other => {
                return Err(format!(
                    "partition key {name:?} is not a string, number or boolean: {}",
                    short(other)
                ));
            }
        };
        keys.insert(name, text);
    }
    Ok(keys)
}

/// One output of the query, or why it failed. jaq's own `unwrap_valr` exits the process on
/// `halt`/`halt_error`; here they fail the record.
fn output(v: ValX<'_, Val>) -> Result<Val, String> {
    v.map_err(|exn| match exn.get_err() {
        Ok(e) => format!("the query failed: {e}"),
        Err(exn) => match exn.get_halt() {
            Ok(code) => format!("the query called halt (exit code {code})"),
            Err(_) => "the query ended with an exception outside any label".to_owned(),
        },
    })
}

/// A value for an error message, cut to 100 characters.
fn short(v: &Val) -> String {
    let text = v.to_string();
    match text.char_indices().nth(100) {
        Some((i, _)) => format!("{}...", &text[..i]),
        None => text,
    }
}

/// A number as jq 1.6 prints it: a double; integral values below 1e17 without a fraction,
/// others in the shortest form that reads back, with jq's `e+NN`/`e-NN` exponents outside
/// 1e-5..1e17; infinities as the largest double.
fn jq16_number(x: f64) -> String {
    let x = x.clamp(f64::MIN, f64::MAX);
    if x.fract() == 0.0 && x.abs() < 1e17 {
        // Exact: |x| < 1e17 fits an i64.
        return format!("{}", x as i64);
    }
    if x.abs() >= 1e-5 && x.abs() < 1e17 {
        return format!("{x}");
    }
    let sci = format!("{x:e}");
    match sci.split_once('e') {
        Some((mantissa, exp)) => {
            let exp: i32 = exp.parse().unwrap_or(0);
            let sign = if exp < 0 { '-' } else { '+' };
            format!("{mantissa}e{sign}{:02}", exp.unsigned_abs())
        }
        None => sci,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_query() {
        let q = Query::parse("{ ticker: .ticker }").unwrap();
        let keys = q.extract(br#"{"ticker":"AMZN","price":1}"#).unwrap();
        assert_eq!(keys, Keys::from([("ticker".to_owned(), "AMZN".to_owned())]));
        assert_eq!(q.text(), "{ ticker: .ticker }");
    }

    #[test]
    fn nested_quoted_indexed_and_shorthand() {
        let q = Query::parse(r#"{src: .meta.source, "day key": ."a b"[1], n: .n, ok, id: .["x"]}"#)
            .unwrap();
        let keys = q
            .extract(br#"{"meta":{"source":"web"},"a b":["x","y"],"n":42,"ok":true,"x":"1"}"#)
            .unwrap();
        assert_eq!(keys["src"], "web");
        assert_eq!(keys["day key"], "y");
        assert_eq!(keys["n"], "42");
        assert_eq!(keys["ok"], "true");
        assert_eq!(keys["id"], "1");
    }

    #[test]
    fn the_documented_strftime_query() {
        let q = Query::parse(
            r#"{customer_id: .customer_id, device: .type.device, year: .event_timestamp|strftime("%Y")}"#,
        )
        .unwrap();
        let keys = q
            .extract(br#"{"type":{"device":"mobile","event":"user_clicked_submit_button"},"customer_id":"1234567890","event_timestamp":1565382027,"region":"sample_region"}"#)
            .unwrap();
        assert_eq!(keys["customer_id"], "1234567890");
        assert_eq!(keys["device"], "mobile");
        assert_eq!(keys["year"], "2019");
    }

    #[test]
    fn missing_or_non_scalar_keys_and_bad_results_fail_the_record() {
        let q = Query::parse("{ticker: .ticker}").unwrap();
        let err = |q: &Query, r: &[u8]| q.extract(r).unwrap_err();
        assert!(err(&q, br#"{"price":1}"#).contains("\"ticker\" is missing"));
        assert!(err(&q, br#"{"ticker":{"a":1}}"#).contains("not a string, number or boolean"));
        assert!(err(&q, br#"{"ticker":[1]}"#).contains("not a string, number or boolean"));
        assert!(err(&q, b"not json").contains("not JSON"));
        assert!(
            err(&q, br#"["a"]"#).contains("failed"),
            "indexing an array by name"
        );
        let q = Query::parse(".ticker").unwrap();
        assert!(err(&q, br#"{"ticker":"A"}"#).contains("not an object"));
        let q = Query::parse("{t: .t}, {t: .t}").unwrap();
        assert!(err(&q, br#"{"t":"A"}"#).contains("more than one result"));
        let q = Query::parse("empty").unwrap();
        assert!(err(&q, br#"{"t":"A"}"#).contains("no result"));
        let q = Query::parse(r#"{t: error("boom")}"#).unwrap();
        assert!(err(&q, br#"{"t":"A"}"#).contains("boom"));
        // halt and halt_error stop jq; here they fail the record and the process goes on.
        let q = Query::parse("halt").unwrap();
        assert!(err(&q, br#"{"t":"A"}"#).contains("halt (exit code 0)"));
        let q = Query::parse(r#""bye" | halt_error(3)"#).unwrap();
        assert!(err(&q, br#"{"t":"A"}"#).contains("halt (exit code 3)"));
    }

    #[test]
    fn numbers_are_printed_as_jq_1_6_prints_them() {
        let q = Query::parse("{n: .n}").unwrap();
        let n =
            |text: &str| q.extract(format!(r#"{{"n":{text}}}"#).as_bytes()).unwrap()["n"].clone();
        assert_eq!(n("1.0"), "1");
        assert_eq!(n("1.50"), "1.5");
        assert_eq!(n("-7"), "-7");
        assert_eq!(n("0.25"), "0.25");
        assert_eq!(n("1e300"), "1e+300");
        assert_eq!(n("0.000001"), "1e-06");
        assert_eq!(n("12345678901234567"), "12345678901234568");
    }

    #[test]
    fn queries_that_do_not_compile_are_refused_at_load() {
        for (q, why) in [
            (
                "{t: ",
                "not a jq query kstream local runs: expected closing brace at the end",
            ),
            ("{t: .t ]", "not a jq query kstream local runs: expected"),
            ("{t: .a | nosuchfilter}", "undefined filter nosuchfilter/0"),
            ("{t: $nope}", "undefined variable"),
            ("{e: env.HOME}", "undefined filter env/0"),
            ("{e: $ENV.HOME}", "undefined variable"),
            (r#"include "x"; {t: .t}"#, "module loading not supported"),
            ("{t: input}", "undefined filter input/0"),
        ] {
            let err = Query::parse(q).unwrap_err().to_string();
            assert!(
                err.contains("MetadataExtractionQuery") && err.contains(why),
                "{q}: {err}"
            );
        }
    }

    #[test]
    fn size_and_time_are_bounded() {
        let q = Query::parse("{t: .t}").unwrap();
        let big = format!(r#"{{"t":"{}"}}"#, "x".repeat(MAX_RECORD_BYTES));
        assert!(
            q.extract(big.as_bytes())
                .unwrap_err()
                .contains("record limit")
        );
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        assert!(q.extract(deep.as_bytes()).unwrap_err().contains("not JSON"));

        // An infinite stream of outputs: only two are taken.
        let q = Query::parse("repeat({t: .t})").unwrap();
        assert!(
            q.extract(br#"{"t":"a"}"#)
                .unwrap_err()
                .contains("more than one")
        );

        // A query that never answers: the record fails after the bound, the next records are
        // still evaluated (on a fresh thread), and after MAX_ABANDONED they fail at once.
        let q = Query::parse("if .slow then last(range(1e18)) else {t: .t} end").unwrap();
        let started = std::time::Instant::now();
        assert!(
            q.extract(br#"{"slow":true}"#)
                .unwrap_err()
                .contains("time bound")
        );
        assert!(started.elapsed() >= TIME_BOUND);
        assert_eq!(q.extract(br#"{"t":"fast"}"#).unwrap()["t"], "fast");
        for _ in 1..MAX_ABANDONED {
            assert!(
                q.extract(br#"{"slow":true}"#)
                    .unwrap_err()
                    .contains("time bound")
            );
        }
        let started = std::time::Instant::now();
        let err = q.extract(br#"{"t":"fast"}"#).unwrap_err();
        assert!(err.contains("no longer evaluated"), "{err}");
        assert!(started.elapsed() < TIME_BOUND);
    }
}
