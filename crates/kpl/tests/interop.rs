//! Interop with the libraries users have: vectors made by Python `aws_kinesis_agg` and Node
//! `aws-kinesis-agg` (tests/interop/vectors, made by tests/interop/generate.sh from
//! tests/interop/cases.json) deaggregate here to the same user records, and our encoder writes the
//! same bytes. The other direction (ours read by theirs) is scripts/test-interop.sh.

use std::path::PathBuf;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use kstream_kpl::{
    Aggregator, AggregatorConfig, SubRecord, UserRecord, deaggregate_record, encode,
};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Cases {
    cases: Vec<Case>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Case {
    name: String,
    max_size: usize,
    records: Vec<Record>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Record {
    partition_key: String,
    explicit_hash_key: Option<String>,
    data: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Vectors {
    library: String,
    cases: Vec<VectorCase>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct VectorCase {
    name: String,
    kinesis_records: Vec<KinesisRecord>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct KinesisRecord {
    partition_key: String,
    user_records: usize,
    data: String,
}

fn interop_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/interop")
}

fn load<T: for<'de> Deserialize<'de>>(path: &str) -> T {
    let path = interop_dir().join(path);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()))
}

fn b64(s: &str) -> Vec<u8> {
    STANDARD.decode(s).expect("valid base64 in the vectors")
}

fn user_records(case: &Case) -> Vec<UserRecord> {
    case.records
        .iter()
        .map(|r| UserRecord {
            partition_key: r.partition_key.clone(),
            explicit_hash_key: r.explicit_hash_key.clone(),
            data: b64(&r.data).into(),
            tags: Vec::new(),
        })
        .collect()
}

fn as_user(s: &SubRecord) -> UserRecord {
    UserRecord {
        partition_key: s.partition_key.clone(),
        explicit_hash_key: s.explicit_hash_key.clone(),
        data: s.data.clone(),
        tags: s.tags.clone(),
    }
}

/// Deaggregates every library vector and compares with the cases' user records; re-encodes the
/// sub-records of every aggregate and compares with the library's bytes.
fn check_library(file: &str) -> Vectors {
    let cases: Cases = load("cases.json");
    let vectors: Vectors = load(file);
    assert_eq!(
        vectors.cases.len(),
        cases.cases.len(),
        "{file}: one vector per case"
    );
    for (case, vector) in cases.cases.iter().zip(&vectors.cases) {
        assert_eq!(case.name, vector.name);
        let ctx = format!("{} case {}", vectors.library, case.name);
        let mut got = Vec::new();
        for (i, k) in vector.kinesis_records.iter().enumerate() {
            let data = b64(&k.data);
            let seq = format!("4959{i:052}");
            let subs = deaggregate_record(&k.partition_key, &seq, data.clone());
            assert_eq!(subs.len(), k.user_records, "{ctx}: record {i}");
            for (j, s) in subs.iter().enumerate() {
                assert!(
                    s.aggregated,
                    "{ctx}: record {i} not deaggregated: {:?}",
                    s.not_aggregated
                );
                assert_eq!(s.sub_sequence_number, j as u64);
                assert_eq!(s.sequence_number.as_deref(), Some(seq.as_str()));
            }
            let users: Vec<_> = subs.iter().map(as_user).collect();
            assert!(
                encode(&users) == data,
                "{ctx}: record {i}: our encoding of the same records differs from the library's bytes"
            );
            got.extend(users);
        }
        assert_eq!(got, user_records(case), "{ctx}: user records differ");
    }
    vectors
}

#[test]
fn python_aggregates_deaggregate_to_the_same_records_and_bytes() {
    let vectors = check_library("vectors/python.json");
    // Python over-estimates sizes (its key-table lookup never matches), so it cuts aggregates
    // earlier than the exact limit; ours, exact, never needs more Kinesis records than it.
    let cases: Cases = load("cases.json");
    for (case, vector) in cases.cases.iter().zip(&vectors.cases) {
        let ours = aggregate(case, case.max_size);
        assert!(
            ours.len() <= vector.kinesis_records.len(),
            "case {}",
            case.name
        );
    }
}

#[test]
fn node_aggregates_deaggregate_to_the_same_records_and_bytes() {
    let vectors = check_library("vectors/node.json");
    // Node sizes aggregates exactly, with a 1 MiB limit: ours cuts at the same records and writes
    // the same bytes (a one-record container aside, which we send raw, as the KPL does).
    let cases: Cases = load("cases.json");
    for (case, vector) in cases.cases.iter().zip(&vectors.cases) {
        let ours = aggregate(case, 1024 * 1024);
        let counts: Vec<_> = ours.iter().map(|r| r.user_records).collect();
        let theirs: Vec<_> = vector
            .kinesis_records
            .iter()
            .map(|k| k.user_records)
            .collect();
        assert_eq!(counts, theirs, "case {}", case.name);
        for (o, k) in ours.iter().zip(&vector.kinesis_records) {
            if o.is_aggregated() {
                assert!(o.data == b64(&k.data), "case {}: bytes differ", case.name);
            } else {
                assert_eq!(o.partition_key, k.partition_key);
            }
        }
    }
}

fn aggregate(case: &Case, max_size: usize) -> Vec<kstream_kpl::AggregatedRecord> {
    let mut agg = Aggregator::new(
        AggregatorConfig::builder()
            .max_size(max_size)
            .build()
            .unwrap(),
    );
    let mut out = Vec::new();
    for r in user_records(case) {
        out.extend(agg.add(r).unwrap());
    }
    out.extend(agg.flush());
    out
}
