//! kstream's EMF documents against Powertools for AWS Lambda (Python)'s for the same metrics.
//!
//! `tests/fixtures/powertools-emf/scenarios.json` lists what a handler records, invocation by
//! invocation, in one process; `<scenario>.json` next to it holds the documents Powertools
//! printed for it (written by `make_fixtures.py` there, see its header). Here the same
//! metrics go through [`Telemetry`] (so the `ColdStart` document too), and every document
//! must equal Powertools' once the deliberate differences of [`DIFFERENCES`] (documented in
//! `src/emf.rs`) are normalised away.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use kstream_pipeline::Telemetry;
use kstream_pipeline::emf::{MemorySink, MetricsConfig, Unit};
use serde_json::{Value, json};

/// The deliberate differences from Powertools Python, each normalised by [`normalise`].
const DIFFERENCES: &[&str] = &[
    "Timestamp: not compared (kstream's must be the current time in ms)",
    "numbers: compared as f64 (kstream writes 5, Python 5.0)",
    "one value: kstream writes the number, as Powertools TypeScript; Python a one-element list",
    "no service: kstream writes no empty dimension set (Python: [])",
    "ColdStart: its place among an invocation's documents is not compared",
];

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/powertools-emf")
}

fn read_json(name: &str) -> Value {
    let path = fixtures().join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run make_fixtures.py)", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn unit(name: &str) -> Unit {
    match name {
        "Count" => Unit::Count,
        "Bytes" => Unit::Bytes,
        "Milliseconds" => Unit::Milliseconds,
        "Seconds" => Unit::Seconds,
        "Percent" => Unit::Percent,
        "None" => Unit::None,
        other => panic!("unit {other} is not in kstream's Unit"),
    }
}

/// The (name, unit, value) additions of one scenario metric entry (as make_fixtures.py).
fn expand(entry: &Value) -> Vec<(String, Unit, f64)> {
    let name = entry["name"].as_str().unwrap();
    let unit = unit(entry["unit"].as_str().unwrap());
    let value = |i: u64| match &entry["value"] {
        Value::String(s) if s == "{i}" => i as f64,
        v => v.as_f64().unwrap(),
    };
    match entry.get("repeat").and_then(Value::as_u64) {
        None => vec![(name.to_owned(), unit, value(0))],
        Some(n) => (0..n)
            .map(|i| (name.replace("{i}", &i.to_string()), unit, value(i)))
            .collect(),
    }
}

/// kstream's documents for `scenario`, per invocation, from a fresh [`Telemetry`] (a process).
fn kstream_documents(function_name: &str, scenario: &Value) -> Vec<Vec<Value>> {
    let env: Vec<(String, String)> = scenario["env"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
        .chain([(
            "AWS_LAMBDA_FUNCTION_NAME".to_owned(),
            function_name.to_owned(),
        )])
        .collect();
    let mut builder = MetricsConfig::from_lookup("unused", |k| {
        env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
    })
    .to_builder();
    for (k, v) in scenario
        .get("default_dimensions")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        builder = builder.dimension(k.clone(), v.as_str().unwrap());
    }
    let sink = Arc::new(MemorySink::default());
    let telemetry = Telemetry::new(builder.build()).with_sink(sink.clone());
    let mut out = Vec::new();
    for invocation in scenario["invocations"].as_array().unwrap() {
        let before = sink.lines().len();
        let metadata = invocation["metadata"].as_object().unwrap();
        let mut metrics = telemetry.start(metadata["requestId"].as_str().unwrap());
        for (k, v) in metadata {
            metrics.property(k, v.clone());
        }
        let additions: Vec<_> = invocation["metrics"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(expand)
            .collect();
        let mut times: BTreeMap<&str, usize> = BTreeMap::new();
        for (name, _, _) in &additions {
            *times.entry(name).or_default() += 1;
        }
        // Powertools' add_metric, once: kstream's add (a counter); several times: sample.
        for (name, unit, value) in &additions {
            if times[name.as_str()] == 1 {
                metrics.add(name, *unit, *value);
            } else {
                metrics.sample(name, *unit, *value);
            }
        }
        telemetry.finish(&metrics);
        out.push(sink.documents()[before..].to_vec());
    }
    out
}

/// Both sides with [`DIFFERENCES`] taken out.
fn normalise(doc: &Value) -> Value {
    let mut doc = doc.clone();
    let root = doc.as_object_mut().unwrap();
    let names: Vec<String> = root["_aws"]["CloudWatchMetrics"][0]["Metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["Name"].as_str().unwrap().to_owned())
        .collect();
    for name in names {
        let as_f64 = |v: &Value| json!(v.as_f64().unwrap());
        let value = match &root[&name] {
            Value::Array(values) if values.len() == 1 => as_f64(&values[0]),
            Value::Array(values) => Value::Array(values.iter().map(as_f64).collect()),
            v => as_f64(v),
        };
        root.insert(name, value);
    }
    let aws = root.get_mut("_aws").unwrap();
    aws["Timestamp"] = json!(0);
    let sets = aws["CloudWatchMetrics"][0]["Dimensions"]
        .as_array_mut()
        .unwrap();
    if sets.len() > 1 {
        sets.retain(|s| s.as_array().is_some_and(|s| !s.is_empty()));
    }
    doc
}

/// An invocation's documents: (ColdStart documents, the others in order), normalised.
fn split(docs: &[Value]) -> (Vec<Value>, Vec<Value>) {
    let (cold, rest): (Vec<&Value>, Vec<&Value>) =
        docs.iter().partition(|d| d.get("ColdStart").is_some());
    (
        cold.into_iter().map(normalise).collect(),
        rest.into_iter().map(normalise).collect(),
    )
}

#[test]
fn documents_match_powertools_python() {
    let spec = read_json("scenarios.json");
    let function_name = spec["function_name"].as_str().unwrap();
    let scenarios = spec["scenarios"].as_array().unwrap();
    assert!(scenarios.len() >= 8);
    for scenario in scenarios {
        let name = scenario["name"].as_str().unwrap();
        let fixture = read_json(&format!("{name}.json"));
        assert_eq!(fixture["scenario"], name);
        assert!(
            fixture["generator"]
                .as_str()
                .unwrap()
                .starts_with("aws-lambda-powertools ")
        );
        let theirs = fixture["invocations"].as_array().unwrap();
        let ours = kstream_documents(function_name, scenario);
        assert_eq!(ours.len(), theirs.len(), "{name}: invocations");
        for (n, (ours, theirs)) in ours.iter().zip(theirs).enumerate() {
            let now = kstream_pipeline::emf::now_ms();
            for doc in ours {
                let ts = doc["_aws"]["Timestamp"].as_u64().unwrap();
                assert!(now - ts < 60_000, "{name}: Timestamp {ts} is not now");
            }
            let (our_cold, our_docs) = split(ours);
            let (their_cold, their_docs) = split(theirs.as_array().unwrap());
            assert_eq!(
                our_cold, their_cold,
                "{name}, invocation {n}: ColdStart (ignored: {DIFFERENCES:?})"
            );
            assert_eq!(
                our_docs.len(),
                their_docs.len(),
                "{name}, invocation {n}: documents"
            );
            for (i, (o, t)) in our_docs.iter().zip(&their_docs).enumerate() {
                assert_eq!(
                    o, t,
                    "{name}, invocation {n}, document {i} (ignored: {DIFFERENCES:?})"
                );
            }
        }
    }
}

/// The comparison sees a change of structure: a renamed dimension, a missing metric
/// definition or a list turned into its sum all differ.
#[test]
fn normalised_documents_still_differ_in_structure() {
    let doc = json!({"_aws": {"Timestamp": 1, "CloudWatchMetrics": [{"Namespace": "ns",
        "Dimensions": [["service"]], "Metrics": [{"Name": "L", "Unit": "Milliseconds"}]}]},
        "service": "s", "L": [3.0, 2.0]});
    let variants = [
        json!({"_aws": {"Timestamp": 1, "CloudWatchMetrics": [{"Namespace": "ns",
            "Dimensions": [["Service"]], "Metrics": [{"Name": "L", "Unit": "Milliseconds"}]}]},
            "Service": "s", "L": [3.0, 2.0]}),
        json!({"_aws": {"Timestamp": 1, "CloudWatchMetrics": [{"Namespace": "ns",
            "Dimensions": [["service"]], "Metrics": []}]}, "service": "s", "L": [3.0, 2.0]}),
        json!({"_aws": {"Timestamp": 1, "CloudWatchMetrics": [{"Namespace": "ns",
            "Dimensions": [["service"]], "Metrics": [{"Name": "L", "Unit": "Milliseconds"}]}]},
            "service": "s", "L": 5}),
    ];
    for v in variants {
        assert_ne!(normalise(&doc), normalise(&v));
    }
    assert_eq!(
        normalise(&doc),
        normalise(
            &json!({"_aws": {"Timestamp": 9, "CloudWatchMetrics": [{"Namespace": "ns",
            "Dimensions": [["service"]], "Metrics": [{"Name": "L", "Unit": "Milliseconds"}]}]},
            "service": "s", "L": [3, 2.0]})
        )
    );
}
