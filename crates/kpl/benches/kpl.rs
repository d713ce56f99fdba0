//! kstream-kpl throughput and wire efficiency, for bench/kpl/run.sh (a plain harness, JSON out).
//!
//! `cargo bench -p kstream-kpl --bench kpl -- generate DIR` writes the shared inputs
//! (`DIR/dataset-<size>.json`: user records and the Kinesis records they aggregate to with the KPL
//! defaults) that the Python and Node peers read too; `... -- run DIR` measures this crate and the
//! lower bound (base64 decode + MD5 of the same bytes) on them and prints one JSON document.
//!
//! Each measurement is the best of several timed samples (at least `MIN_PASSES` samples and
//! `MIN_SECONDS` seconds), each the mean of enough passes over the whole dataset to last
//! `MIN_SAMPLE_SECONDS`, timed in CPU time of the thread, so that a busy machine skews less.

#![allow(missing_docs, clippy::print_stdout)]

use std::error::Error;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use kstream_kpl::{
    AggregatedRecord, Aggregator, AggregatorConfig, DeaggregatedRef, UserRecord, deaggregate_batch,
    deaggregate_record, finish_all, md5x,
};
use md5::{Digest, Md5};
use serde_json::{Value, json};

const MIN_PASSES: u32 = 5;
const MIN_SECONDS: f64 = 2.0;
/// Shortest timed sample (passes are repeated to fill it).
const MIN_SAMPLE_SECONDS: f64 = 0.25;
/// Record sizes of the throughput datasets, and how many records each has.
const DATASETS: [(usize, usize); 2] = [(100, 200_000), (1024, 40_000)];
/// Kinesis records per Lambda invocation in the deaggregation runs (the event source mapping's
/// default `BatchSize`).
const BATCH: usize = 100;

/// Base64 decoding, as the kds-consumer function does it (base64-simd: AVX2/SSE4.1/NEON chosen
/// at run time; about 3 times the `base64` crate here).
fn b64_decode(text: &str) -> Vec<u8> {
    base64_simd::STANDARD
        .decode_to_vec(text)
        .expect("valid base64")
}

fn main() -> Result<(), Box<dyn Error>> {
    // `cargo bench` appends `--bench`; keep only our own arguments.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    match args.as_slice() {
        [cmd, dir] if cmd == "generate" => generate(Path::new(dir)),
        [cmd, dir] if cmd == "run" => run(Path::new(dir)),
        _ => Err("usage: kpl (generate|run) DIR".into()),
    }
}

/// A deterministic generator (xorshift), so every run has the same input.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn text(&mut self, len: usize) -> String {
        const ALPHABET: &[u8] =
            b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ,:{}\"";
        (0..len)
            .map(|_| ALPHABET[self.below(ALPHABET.len())] as char)
            .collect()
    }

    fn uuid(&mut self) -> String {
        let (a, b) = (self.next(), self.next());
        format!(
            "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xffff,
            b >> 48,
            b & 0xffff_ffff_ffff
        )
    }
}

/// User records of `size` bytes of JSON-ish text with keys from `keys`.
fn user_records(
    rng: &mut Rng,
    size: usize,
    count: usize,
    keys: &dyn Fn(&mut Rng) -> String,
) -> Vec<UserRecord> {
    (0..count)
        .map(|_| {
            let pk = keys(rng);
            UserRecord::new(pk, rng.text(size))
        })
        .collect()
}

/// Makes a partition key.
type KeyFn = dyn Fn(&mut Rng) -> String;

fn device_key(rng: &mut Rng) -> String {
    format!("device-{:03}", rng.below(100))
}

fn aggregate(records: &[UserRecord]) -> Vec<AggregatedRecord> {
    let mut agg = Aggregator::new(AggregatorConfig::default());
    let mut out = Vec::new();
    for r in records {
        out.extend(agg.add(r.clone()).expect("valid records"));
    }
    out.extend(agg.flush());
    out
}

fn dataset_path(dir: &Path, size: usize) -> PathBuf {
    dir.join(format!("dataset-{size}.json"))
}

fn generate(dir: &Path) -> Result<(), Box<dyn Error>> {
    std::fs::create_dir_all(dir)?;
    for (size, count) in DATASETS {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ size as u64);
        let records = user_records(&mut rng, size, count, &device_key);
        let kinesis = aggregate(&records);
        let doc = json!({
            "recordSize": size,
            "userRecords": records.iter().map(|r| json!({
                "partitionKey": r.partition_key,
                "data": STANDARD.encode(&r.data),
            })).collect::<Vec<_>>(),
            "kinesisRecords": kinesis.iter().enumerate().map(|(i, k)| json!({
                "partitionKey": k.partition_key,
                "explicitHashKey": k.explicit_hash_key,
                "sequenceNumber": format!("49590338271490256608559692538361571095921575989136{i:06}"),
                "data": STANDARD.encode(&k.data),
            })).collect::<Vec<_>>(),
        });
        std::fs::write(dataset_path(dir, size), serde_json::to_vec(&doc)?)?;
    }
    Ok(())
}

struct Dataset {
    size: usize,
    users: Vec<UserRecord>,
    /// (partition key, sequence number, base64 data) as a Lambda event carries them.
    kinesis: Vec<(String, String, String)>,
}

fn load(dir: &Path, size: usize) -> Result<Dataset, Box<dyn Error>> {
    let doc: Value = serde_json::from_slice(&std::fs::read(dataset_path(dir, size))?)?;
    let str_of = |v: &Value, k: &str| v[k].as_str().map(str::to_owned).ok_or(format!("no {k}"));
    let users = doc["userRecords"]
        .as_array()
        .ok_or("no userRecords")?
        .iter()
        .map(|r| {
            Ok(UserRecord::new(
                str_of(r, "partitionKey")?,
                STANDARD.decode(str_of(r, "data")?)?,
            ))
        })
        .collect::<Result<Vec<_>, Box<dyn Error>>>()?;
    let kinesis = doc["kinesisRecords"]
        .as_array()
        .ok_or("no kinesisRecords")?
        .iter()
        .map(|r| {
            Ok((
                str_of(r, "partitionKey")?,
                str_of(r, "sequenceNumber")?,
                str_of(r, "data")?,
            ))
        })
        .collect::<Result<Vec<_>, Box<dyn Error>>>()?;
    Ok(Dataset {
        size,
        users,
        kinesis,
    })
}

/// Best times of several measurements taken in turns (one sample of each, round after round),
/// so that they all see the same load on a shared machine; samples as in [`best_with`].
fn best_interleaved(passes: &mut [&mut dyn FnMut()]) -> Vec<Duration> {
    let reps: Vec<u32> = passes
        .iter_mut()
        .map(|pass| {
            let warm_up = Instant::now();
            pass();
            let one = warm_up.elapsed().as_secs_f64().max(1e-6);
            (MIN_SAMPLE_SECONDS / one).ceil().clamp(1.0, 10_000.0) as u32
        })
        .collect();
    let start = Instant::now();
    let mut best = vec![Duration::MAX; passes.len()];
    let mut rounds = 0;
    while rounds < MIN_PASSES || start.elapsed().as_secs_f64() < MIN_SECONDS * passes.len() as f64 {
        for ((pass, reps), best) in passes.iter_mut().zip(&reps).zip(&mut best) {
            let t = Clock::now();
            for _ in 0..*reps {
                pass();
            }
            *best = (*best).min(t.elapsed() / *reps);
        }
        rounds += 1;
    }
    best
}

/// Best time of repeated passes, each given a fresh input made (untimed) by `setup`.
///
/// One timed sample runs as many passes as last about `MIN_SAMPLE_SECONDS` and counts their
/// mean; the best sample wins.
fn best_with<T>(mut setup: impl FnMut() -> T, mut pass: impl FnMut(T)) -> Duration {
    // Warm-up pass, which also tells how many passes make a long enough sample.
    let warm_up = Instant::now();
    pass(setup());
    let one = warm_up.elapsed().as_secs_f64().max(1e-6);
    let reps = (MIN_SAMPLE_SECONDS / one).ceil().clamp(1.0, 10_000.0) as u32;
    let start = Instant::now();
    let mut best = Duration::MAX;
    let mut samples = 0;
    while samples < MIN_PASSES || start.elapsed().as_secs_f64() < MIN_SECONDS {
        let inputs: Vec<T> = (0..reps).map(|_| setup()).collect();
        let t = Clock::now();
        for input in inputs {
            pass(input);
        }
        best = best.min(t.elapsed() / reps);
        samples += 1;
    }
    best
}

/// CPU time of this thread (`CLOCK_THREAD_CPUTIME_ID`, through the cpu-time crate), so that
/// other processes competing for the cores skew the figures less. It is exact on every read;
/// /proc/thread-self/schedstat, read here before, advanced only at scheduler ticks and
/// switches, so that a 0.25 s sample moved in steps of about 1.5 %.
struct Clock(cpu_time::ThreadTime);

impl Clock {
    fn now() -> Self {
        Self(cpu_time::ThreadTime::now())
    }

    fn elapsed(&self) -> Duration {
        self.0.elapsed()
    }

    fn kind() -> &'static str {
        "thread CPU time"
    }
}

fn rate(bytes: usize, records: usize, t: Duration) -> Value {
    json!({
        "seconds": t.as_secs_f64(),
        "mb_per_s": bytes as f64 / 1e6 / t.as_secs_f64(),
        "records_per_s": records as f64 / t.as_secs_f64(),
    })
}

fn run(dir: &Path) -> Result<(), Box<dyn Error>> {
    let mut results = Vec::new();
    for (size, _) in DATASETS {
        let d = load(dir, size)?;
        results.push(measure(&d));
    }
    let doc = json!({
        "implementation": "kstream-kpl (Rust)",
        "clock": Clock::kind(),
        "md5x_kernel": md5x::kernel(),
        "throughput": results,
        "wire_efficiency": wire_efficiency(),
    });
    println!("{}", serde_json::to_string_pretty(&doc)?);
    Ok(())
}

fn measure(d: &Dataset) -> Value {
    // Bytes of Kinesis record data (decoded) and of user data: the MB/s bases.
    let kinesis_bytes: usize = d
        .kinesis
        .iter()
        .map(|(_, _, b)| STANDARD.decode(b).map_or(0, |v| v.len()))
        .sum();
    let user_bytes: usize = d.users.iter().map(|u| u.data.len()).sum();
    let n_users = d.users.len();

    // Deaggregation as the kds-consumer Lambda does it: a batch of `BATCH` base64 records in,
    // every record decoded, the batch deaggregated at once (MD5s in lanes), each user record
    // made (`SubRecordRef`, borrowed: partition key, explicit hash key, data, subsequence
    // number) and handed on with the outer record's sequence number.
    let mut sub_records = 0;
    let mut deagg = || {
        sub_records = 0;
        for batch in d.kinesis.chunks(BATCH) {
            let decoded: Vec<Vec<u8>> = batch.iter().map(|(_, _, b64)| b64_decode(b64)).collect();
            let results = deaggregate_batch(&decoded);
            for ((pk, seq, _), result) in batch.iter().zip(results.iter()) {
                match result {
                    DeaggregatedRef::Aggregated(subs) => {
                        for sub in subs {
                            black_box((seq.as_str(), sub));
                        }
                        sub_records += subs.len();
                    }
                    DeaggregatedRef::NotAggregated { .. } => {
                        black_box(pk);
                        sub_records += 1;
                    }
                }
            }
            black_box(results);
        }
    };

    // For reference: the owned, one-record-at-a-time API (scalar MD5, a String and a Bytes per
    // user record), as before the batch API.
    let mut owned_records = 0;
    let mut deagg_owned = || {
        owned_records = 0;
        for (pk, seq, b64) in &d.kinesis {
            let subs = deaggregate_record(pk, seq, b64_decode(b64));
            owned_records += subs.len();
            black_box(subs);
        }
    };

    // The lower bound: base64-decode and MD5 the same bytes, nothing else, with the fastest
    // base64 and MD5 the deaggregator uses (the same decoder; the lane MD5 over each batch).
    let mut bound = || {
        for batch in d.kinesis.chunks(BATCH) {
            let decoded: Vec<Vec<u8>> = batch.iter().map(|(_, _, b64)| b64_decode(b64)).collect();
            let refs: Vec<&[u8]> = decoded.iter().map(Vec::as_slice).collect();
            black_box(md5x::digest_many(&refs));
        }
    };
    // The same with the scalar md-5 crate, one record after the other (the bound before the
    // lane MD5), for reference.
    let mut bound_scalar = || {
        for (_, _, b64) in &d.kinesis {
            let data = b64_decode(b64);
            black_box(Md5::digest(&data));
        }
    };

    // The bound's parts, to show where its time goes.
    let mut base64_only = || {
        for (_, _, b64) in &d.kinesis {
            black_box(b64_decode(b64));
        }
    };
    let decoded: Vec<Vec<u8>> = d.kinesis.iter().map(|(_, _, b)| b64_decode(b)).collect();
    let mut md5_only = || {
        for data in &decoded {
            black_box(Md5::digest(data));
        }
    };
    let mut md5x_only = || {
        for batch in decoded.chunks(BATCH) {
            let refs: Vec<&[u8]> = batch.iter().map(Vec::as_slice).collect();
            black_box(md5x::digest_many(&refs));
        }
    };
    let times = best_interleaved(&mut [
        &mut deagg,
        &mut deagg_owned,
        &mut bound,
        &mut bound_scalar,
        &mut base64_only,
        &mut md5_only,
        &mut md5x_only,
    ]);
    let [
        deagg,
        deagg_owned,
        bound,
        bound_scalar,
        base64_only,
        md5_only,
        md5x_only,
    ] = times[..]
    else {
        unreachable!("one time per measurement")
    };
    assert_eq!(sub_records, n_users, "every user record comes back");
    assert_eq!(owned_records, n_users, "every user record comes back");

    // Aggregation with the KPL defaults: user records in, encoded Kinesis records out, as the
    // producer does it when it has several aggregates ready together: each aggregate is written
    // as its records come (`add_unfinished`), and the full ones are finished `md5x::LANES` at a
    // time, their MD5s side by side in the lane MD5 (`finish_all`); the last ones at the end.
    // The records are the caller's to move in: cloning them is setup, not aggregation.
    let mut kinesis_records = 0;
    let agg = best_with(
        || d.users.clone(),
        |users| kinesis_records = aggregate_in_lanes(users),
    );
    // For reference: one aggregate at a time (`add`: each aggregate's MD5 computed alone, with
    // the md-5 crate, when it is emitted), the producer's case when only one is ready.
    let mut kinesis_records_one = 0;
    let agg_one = best_with(
        || d.users.clone(),
        |users| {
            let mut agg = Aggregator::new(AggregatorConfig::default());
            kinesis_records_one = 0;
            for r in users {
                if let Some(k) = agg.add(r).expect("valid") {
                    kinesis_records_one += 1;
                    black_box(k);
                }
            }
            kinesis_records_one += usize::from(agg.flush().is_some());
        },
    );
    assert_eq!(kinesis_records, kinesis_records_one, "same aggregates");

    json!({
        "record_size": d.size,
        "user_records": n_users,
        "kinesis_records": d.kinesis.len(),
        "kinesis_bytes": kinesis_bytes,
        "user_bytes": user_bytes,
        "batch_size": BATCH,
        "deaggregate": rate(kinesis_bytes, n_users, deagg),
        "deaggregate_owned_per_record": rate(kinesis_bytes, n_users, deagg_owned),
        "bound_base64_md5": rate(kinesis_bytes, n_users, bound),
        "bound_base64_md5_scalar": rate(kinesis_bytes, n_users, bound_scalar),
        "base64_decode_only": rate(kinesis_bytes, n_users, base64_only),
        "md5_only": rate(kinesis_bytes, n_users, md5_only),
        "md5_lanes_only": rate(kinesis_bytes, n_users, md5x_only),
        "aggregate": rate(user_bytes, n_users, agg),
        "aggregate_one_at_a_time": rate(user_bytes, n_users, agg_one),
        "aggregate_kinesis_records": kinesis_records,
    })
}

/// Aggregates `users` for one shard with the KPL defaults, finishing the aggregates
/// `md5x::LANES` at a time with the lane MD5; returns how many Kinesis records came out.
fn aggregate_in_lanes(users: Vec<UserRecord>) -> usize {
    let mut agg = Aggregator::new(AggregatorConfig::default());
    let mut ready = Vec::with_capacity(md5x::LANES);
    let mut count = 0;
    for r in users {
        if let Some(unfinished) = agg.add_unfinished(&r).expect("valid") {
            ready.push(unfinished);
            if ready.len() == md5x::LANES {
                let finished = finish_all(std::mem::replace(
                    &mut ready,
                    Vec::with_capacity(md5x::LANES),
                ));
                count += finished.len();
                black_box(finished);
            }
        }
    }
    ready.extend(agg.flush_unfinished());
    let finished = finish_all(ready);
    count += finished.len();
    black_box(finished);
    count
}

/// Bytes of a protobuf varint holding `n`.
fn varint_len(n: usize) -> usize {
    (usize::BITS - (n | 1).leading_zeros()).div_ceil(7) as usize
}

/// The fewest bytes any encoder of the KPL format can send `records` in, aggregates at most
/// `max_size` bytes: each distinct partition key once in a key table (tag, length, key); each
/// record as a `Record` field (tag, length) holding a one-byte key index and its data (tag,
/// length, data); each aggregate's magic, MD5 and one-byte partition key, for as few aggregates
/// as the bytes need. Every real encoder sends at least this (a key repeated in several
/// aggregates, indexes past 127 in two bytes), so user bytes over it are the format's ceiling.
fn format_floor_bytes(records: &[UserRecord], max_size: usize) -> usize {
    let keys: std::collections::HashSet<&str> =
        records.iter().map(|r| r.partition_key.as_str()).collect();
    let key_table: usize = keys.iter().map(|k| 1 + varint_len(k.len()) + k.len()).sum();
    let body = |r: &UserRecord| 2 + 1 + varint_len(r.data.len()) + r.data.len();
    let records: usize = records
        .iter()
        .map(|r| 1 + varint_len(body(r)) + body(r))
        .sum();
    let payload = key_table + records;
    // magic (4) + MD5 (16) + the aggregate's partition key (1)
    payload + payload.div_ceil(max_size) * 21
}

/// User payload over Kinesis bytes, with the KPL defaults, for several key distributions, and
/// the most the format allows for the same records ([`format_floor_bytes`]).
fn wire_efficiency() -> Vec<Value> {
    let tickers = |rng: &mut Rng| ["AAPL", "AMZN", "MSFT", "INTC", "TBV"][rng.below(5)].to_owned();
    let uuids = |rng: &mut Rng| rng.uuid();
    let keys: [(&str, &KeyFn); 3] = [
        ("5 tickers (kstream produce)", &tickers),
        ("100 device ids", &device_key),
        ("a UUID per record", &uuids),
    ];
    let mut out = Vec::new();
    for size in [100, 1024] {
        for (name, key) in keys {
            let mut rng = Rng(42 + size as u64);
            let records = user_records(&mut rng, size, 20_000, key);
            let kinesis = aggregate(&records);
            let user_data: usize = records.iter().map(|r| r.data.len()).sum();
            let user_keys: usize = records.iter().map(|r| r.partition_key.len()).sum();
            let kinesis_bytes: usize = kinesis.iter().map(AggregatedRecord::size_bytes).sum();
            let floor = format_floor_bytes(&records, AggregatorConfig::default().max_size());
            out.push(json!({
                "record_size": size,
                "keys": name,
                "user_records": records.len(),
                "kinesis_records": kinesis.len(),
                "user_records_per_kinesis_record": records.len() as f64 / kinesis.len() as f64,
                "efficiency_data_and_keys": (user_data + user_keys) as f64 / kinesis_bytes as f64,
                "efficiency_data_only": user_data as f64 / kinesis_bytes as f64,
                "format_ceiling_data_and_keys": (user_data + user_keys) as f64 / floor as f64,
            }));
        }
    }
    out
}
