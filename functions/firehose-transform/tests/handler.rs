//! Handler tests: Firehose-shaped events (tests/fixtures, written by make_fixtures.py)
//! through the handler as Lambda would call it.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use firehose_transform::event::FirehoseEvent;
use firehose_transform::{Transformer, handler};
use kstream_pipeline::Telemetry;
use kstream_pipeline::emf::{MemorySink, MetricsConfig};
use kstream_transform::Transform;
use lambda_runtime::{Context, LambdaEvent};
use serde_json::{Value, json};

const SEED_TEMPLATE: &str =
    r#"{ "reading date":  "{{'reading date'}}", "a": {{data}}, "b": {{b}}, "c": {{c}} }"#;
const SEED_OUTPUT: &str = r#"{"reading date":"1/4/22","a":"some string","b":10,"c":100}"#;

fn fixture_text(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn fixture(name: &str) -> FirehoseEvent {
    serde_json::from_str(&fixture_text(name)).unwrap()
}

fn env(pairs: &[(&'static str, &str)]) -> impl Fn(&str) -> Option<String> {
    let pairs: Vec<(&'static str, String)> =
        pairs.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
    move |k| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone())
}

fn transformer(transform: Transform) -> (Transformer, Arc<MemorySink>) {
    let sink = Arc::new(MemorySink::default());
    let t = Transformer::builder(transform)
        .telemetry(
            Telemetry::new(
                MetricsConfig::builder()
                    .namespace("kstream-test")
                    .function_name("firehose-transform-test")
                    .build(),
            )
            .with_sink(sink.clone()),
        )
        .build();
    (t, sink)
}

/// The response as Firehose reads it: (recordId, result, data as text, partition keys).
fn answers(response: &Value) -> Vec<(String, String, String, Value)> {
    response["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["recordId"].as_str().unwrap().to_owned(),
                r["result"].as_str().unwrap().to_owned(),
                String::from_utf8(BASE64.decode(r["data"].as_str().unwrap()).unwrap()).unwrap(),
                r["metadata"]["partitionKeys"].clone(),
            )
        })
        .collect()
}

/// The handler's response as the runtime sends it (serialized), parsed back, after
/// checking it reads as `aws_lambda_events`' response type too.
async fn invoke(event: FirehoseEvent, t: &Transformer) -> Value {
    let response = handler(LambdaEvent::new(event, Context::default()), t)
        .await
        .unwrap();
    let bytes = serde_json::to_vec(&response).unwrap();
    let typed: aws_lambda_events::firehose::KinesisFirehoseResponse =
        serde_json::from_slice(&bytes).unwrap();
    assert_eq!(typed, response.parse());
    serde_json::from_slice(&bytes).unwrap()
}

/// Checks that every record of `event` is answered once, in order, with one of the three
/// results; returns the answers.
fn assert_every_record_answered_once(
    event: &FirehoseEvent,
    response: &Value,
) -> Vec<(String, String, String, Value)> {
    let asked: Vec<&str> = event
        .records
        .iter()
        .map(|r| r.record_id.as_deref().unwrap())
        .collect();
    let answers = answers(response);
    let answered: Vec<&str> = answers.iter().map(|a| a.0.as_str()).collect();
    assert_eq!(answered, asked, "every recordId once, in order");
    for (_, result, _, _) in &answers {
        assert!(
            ["Ok", "Dropped", "ProcessingFailed"].contains(&result.as_str()),
            "{result}"
        );
    }
    answers
}

#[tokio::test]
async fn seed_example_verbatim() {
    let transform = Transform::from_lookup(env(&[("TEMPLATE", SEED_TEMPLATE)])).unwrap();
    let (t, _) = transformer(transform);
    let event = fixture("kds_source.json");
    let response = invoke(event.clone(), &t).await;
    let a = assert_every_record_answered_once(&event, &response);
    assert_eq!(
        (a[0].1.as_str(), a[0].2.as_str()),
        ("Ok", &*format!("{SEED_OUTPUT}\n"))
    );
    // an object substituted bare stays JSON; null and a float come out as JSON values
    assert_eq!(a[1].1, "Ok");
    assert_eq!(
        serde_json::from_str::<Value>(&a[1].2).unwrap(),
        json!({"reading date": "2/5/22", "a": {"nested": [1, "x"]}, "b": 1.5, "c": null})
    );
    // record 3 is not JSON, record 4 lacks "reading date", record 6 is not UTF-8
    assert_eq!(a[2].1, "ProcessingFailed");
    let err: Value = serde_json::from_str(&a[2].2).unwrap();
    assert_eq!(err["errorCode"], "InvalidJson");
    assert_eq!(a[3].1, "ProcessingFailed");
    let err: Value = serde_json::from_str(&a[3].2).unwrap();
    assert_eq!(err["errorCode"], "RenderError");
    assert_eq!(
        err["errorMessage"],
        "TEMPLATE: the record has no field `[reading date]` (strict mode)"
    );
    // quotes, backslashes and newlines in a string stay valid JSON
    assert_eq!(a[4].1, "Ok");
    assert_eq!(
        serde_json::from_str::<Value>(&a[4].2).unwrap()["a"],
        "quote \" and \\ and \n"
    );
    assert_eq!(a[5].1, "ProcessingFailed");
    let err: Value = serde_json::from_str(&a[5].2).unwrap();
    assert_eq!(err["errorCode"], "InvalidUtf8");
}

#[tokio::test]
async fn response_has_the_firehose_shape() {
    let transform = Transform::from_lookup(env(&[
        ("TEMPLATE", SEED_TEMPLATE),
        (
            "PARTITION_KEYS",
            r#"{"month":"{{format_date [reading date] \"%Y-%m\" input=\"%m/%d/%y\"}}"}"#,
        ),
    ]))
    .unwrap();
    let (t, _) = transformer(transform);
    let response = invoke(fixture("kds_source.json"), &t).await;
    let first = &response["records"][0];
    let keys: HashSet<&str> = first
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        HashSet::from(["recordId", "result", "data", "metadata"])
    );
    assert_eq!(
        first["metadata"],
        json!({"partitionKeys": {"month": "2022-01"}})
    );
    assert_eq!(
        response["records"][2]["metadata"],
        json!({"partitionKeys": {}})
    );
    assert_eq!(response.as_object().unwrap().len(), 1, "only `records`");
}

#[tokio::test]
async fn filter_drops_and_partition_keys() {
    let transform = Transform::builder()
        .filter(r#"{{gt b 5}}"#)
        .partition_key(
            "year",
            r#"{{format_date [reading date] "%Y" input="%m/%d/%y"}}"#,
        )
        .build()
        .unwrap();
    let (t, sink) = transformer(transform);
    let event = fixture("kds_source.json");
    let response = invoke(event.clone(), &t).await;
    let a = assert_every_record_answered_once(&event, &response);
    let results: Vec<&str> = a.iter().map(|x| x.1.as_str()).collect();
    // 1: b=10 kept; 2: b=1.5 dropped; 3: not JSON; 4: b=1 dropped (the filter runs before
    // the partition key, so its missing date does not matter); 5: b=-3 dropped; 6: not UTF-8
    assert_eq!(
        results,
        [
            "Ok",
            "Dropped",
            "ProcessingFailed",
            "Dropped",
            "Dropped",
            "ProcessingFailed"
        ]
    );
    assert_eq!(a[0].3, json!({"year": "2022"}));
    assert_eq!(a[1].2, "", "dropped records carry no data");
    // without a template the record is written as compact JSON (keys sorted)
    assert_eq!(
        a[0].2,
        "{\"b\":10,\"c\":100,\"data\":\"some string\",\"reading date\":\"1/4/22\"}\n"
    );

    let doc = &sink.invocation_documents()[0];
    assert_eq!(doc["RecordsIn"], 6);
    assert_eq!(doc["RecordsOk"], 1);
    assert_eq!(doc["RecordsDropped"], 3);
    assert_eq!(doc["RecordsFailed"], 2);
    assert_eq!(doc["ResponseLimitFailures"], 0);
    assert_eq!(doc["BytesOut"], a[0].2.len());
    let bytes_in: usize = event
        .records
        .iter()
        .map(|r| r.data.decoded().unwrap().len())
        .sum();
    assert_eq!(doc["BytesIn"], bytes_in);
    assert_eq!(doc["invocationId"], "5b4e8a2d-6f3c-4a9e-9d1b-2c7f0e8a1b3c");
    let meta = &doc["_aws"]["CloudWatchMetrics"][0];
    assert_eq!(meta["Namespace"], "kstream-test");
    assert_eq!(meta["Dimensions"], json!([["FunctionName"]]));
}

#[tokio::test]
async fn flatten_and_text_output() {
    let transform = Transform::from_lookup(env(&[
        ("FLATTEN", "true"),
        ("OUTPUT_FORMAT", "text"),
        ("TEMPLATE", "{{'reading date'}},{{[data.nested.1]}}"),
        ("NEWLINE_DELIMITER", "true"),
    ]))
    .unwrap();
    let (t, _) = transformer(transform);
    let a = answers(&invoke(fixture("kds_source.json"), &t).await);
    assert_eq!((a[1].1.as_str(), a[1].2.as_str()), ("Ok", "2/5/22,x\n"));
    assert_eq!(a[0].1, "ProcessingFailed", "record 1 has no data.nested.1");
}

/// Every fixture is a real Firehose shape; the lenient event type also reads the string
/// `subsequenceNumber` that `aws_lambda_events` rejects.
#[tokio::test]
async fn fixtures_match_aws_lambda_events_shape() {
    for name in ["kds_source.json", "direct_put.json"] {
        let text = fixture_text(name);
        let theirs: aws_lambda_events::firehose::KinesisFirehoseEvent =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let ours: FirehoseEvent = serde_json::from_str(&text).unwrap();
        assert_eq!(theirs.records.len(), ours.records.len());
        for (t, o) in theirs.records.iter().zip(&ours.records) {
            assert_eq!(t.record_id, o.record_id);
            assert_eq!(&t.data[..], o.data.decoded().unwrap());
            assert_eq!(
                t.kinesis_firehose_record_metadata.is_some(),
                o.kinesis_record_metadata.is_some()
            );
            if let Some(tm) = &t.kinesis_firehose_record_metadata {
                let om = o.metadata().unwrap();
                assert_eq!(tm.shard_id, om.shard_id);
                assert_eq!(tm.sequence_number, om.sequence_number);
                assert_eq!(tm.partition_key, om.partition_key);
            }
        }
        // as lambda_runtime reads events: through serde_path_to_error
        let through_runtime: FirehoseEvent =
            serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_str(&text))
                .unwrap();
        assert_eq!(through_runtime.records.len(), ours.records.len());
        assert_eq!(
            through_runtime.records[0]
                .metadata()
                .map(|m| m.sequence_number),
            ours.records[0].metadata().map(|m| m.sequence_number)
        );
    }
    let text = fixture_text("kds_source_string_subsequence.json");
    assert!(
        serde_json::from_str::<aws_lambda_events::firehose::KinesisFirehoseEvent>(&text).is_err()
    );
    let event: FirehoseEvent = serde_json::from_str(&text).unwrap();
    let (t, _) = transformer(Transform::from_lookup(env(&[("TEMPLATE", SEED_TEMPLATE)])).unwrap());
    let a = answers(&invoke(event, &t).await);
    assert!(
        a.iter()
            .all(|x| x.1 == "Ok" && x.2 == format!("{SEED_OUTPUT}\n"))
    );
}

/// A 1024-byte JSON record with the seed's fields.
fn kilobyte_record(i: usize) -> Vec<u8> {
    let record = |pad: &str| {
        serde_json::to_vec(&json!({
            "reading date": format!("{}/{}/22", 1 + i % 12, 1 + i % 28),
            "data": format!("record {i} {pad}"),
            "b": i,
            "c": i * 10,
        }))
        .unwrap()
    };
    let bare = record("").len();
    let padded = record(&"x".repeat(1024 - bare));
    assert_eq!(padded.len(), 1024);
    padded
}

fn batch(records: impl IntoIterator<Item = Vec<u8>>) -> FirehoseEvent {
    let records: Vec<Value> = records
        .into_iter()
        .enumerate()
        .map(|(i, data)| {
            json!({
                "recordId": format!("{i:08}"),
                "approximateArrivalTimestamp": 1_795_320_306_000_u64 + i as u64,
                "data": BASE64.encode(data),
            })
        })
        .collect();
    serde_json::from_value(json!({
        "invocationId": "bench",
        "deliveryStreamArn": "arn:aws:firehose:us-east-1:123456789012:deliverystream/d",
        "region": "us-east-1",
        "records": records,
    }))
    .unwrap()
}

/// The buffer's upper bound (3 MB of 1 KB records) transforms completely.
#[tokio::test]
async fn three_megabyte_batch() {
    let event = batch((0..3072).map(kilobyte_record));
    let input: usize = event
        .records
        .iter()
        .map(|r| r.data.decoded().unwrap().len())
        .sum();
    assert_eq!(input, 3 * 1024 * 1024);
    let (t, sink) =
        transformer(Transform::from_lookup(env(&[("TEMPLATE", SEED_TEMPLATE)])).unwrap());
    let response = handler(LambdaEvent::new(event.clone(), Context::default()), &t)
        .await
        .unwrap();
    let json = serde_json::to_vec(&response).unwrap();
    assert!(json.len() <= firehose_transform::DEFAULT_RESPONSE_LIMIT);
    let value: Value = serde_json::from_slice(&json).unwrap();
    let a = assert_every_record_answered_once(&event, &value);
    assert!(a.iter().all(|x| x.1 == "Ok"));
    let out: Value = serde_json::from_str(&a[3071].2).unwrap();
    assert_eq!(out["b"], 3071);
    assert_eq!(sink.invocation_documents()[0]["RecordsOk"], 3072);
}

/// Output larger than the response limit: the records that do not fit fail, the
/// invocation does not, and the response stays under the limit.
#[tokio::test]
async fn response_limit_fails_overflowing_records_not_the_invocation() {
    // each output is about twice its input
    let transform = Transform::builder()
        .template(r#"{"a": {{data}}, "again": {{data}}, "b": {{b}}}"#)
        .build()
        .unwrap();
    let event = batch((0..5000).map(kilobyte_record)); // ~5 MB in, ~10 MB out
    let (t, sink) = transformer(transform);
    let response = handler(LambdaEvent::new(event.clone(), Context::default()), &t)
        .await
        .unwrap();
    let json = serde_json::to_vec(&response).unwrap();
    assert!(
        json.len() <= firehose_transform::DEFAULT_RESPONSE_LIMIT,
        "{} bytes",
        json.len()
    );
    let value: Value = serde_json::from_slice(&json).unwrap();
    let a = assert_every_record_answered_once(&event, &value);
    let first_failed = a
        .iter()
        .position(|x| x.1 != "Ok")
        .expect("some records overflow");
    assert!(first_failed > 1500, "{first_failed}");
    assert!(a[first_failed..].iter().all(|x| {
        x.1 == "ProcessingFailed"
            && serde_json::from_str::<Value>(&x.2).unwrap()["errorCode"] == "ResponseLimit"
    }));
    // the limit is used well: less than one more record would have fitted
    let slack = firehose_transform::DEFAULT_RESPONSE_LIMIT - json.len();
    assert!(slack < 3000, "{slack} bytes unused");
    let doc = &sink.invocation_documents()[0];
    assert_eq!(doc["ResponseLimitFailures"], 5000 - first_failed);
    assert_eq!(doc["RecordsFailed"], 5000 - first_failed);

    // and with a small configured limit, exactly
    let small = Transformer::builder(Transform::builder().build().unwrap())
        .response_limit(20_000)
        .telemetry(
            Telemetry::from_env(firehose_transform::FUNCTION_NAME)
                .with_sink(Arc::new(MemorySink::default())),
        )
        .build();
    let event = batch((0..40).map(kilobyte_record));
    let response = handler(LambdaEvent::new(event, Context::default()), &small)
        .await
        .unwrap();
    assert!(serde_json::to_vec(&response).unwrap().len() <= 20_000);
    let response = response.parse();
    let results: HashMap<&str, usize> = response.records.iter().fold(HashMap::new(), |mut m, r| {
        *m.entry(r.result.as_deref().unwrap()).or_default() += 1;
        m
    });
    assert!(
        results["Ok"] >= 5 && results["ProcessingFailed"] > 0,
        "{results:?}"
    );
}

#[test]
fn template_errors_stop_the_cold_start() {
    for (vars, expected) in [
        (
            &[("TEMPLATE", "{{uppercase data}}")][..],
            "TEMPLATE: unknown helper `uppercase`",
        ),
        (
            &[("TEMPLATE", "{ \"a\": {{data }")][..],
            "TEMPLATE: malformed template",
        ),
        (&[("FILTER", "{{#if a}}")][..], "FILTER: malformed template"),
    ] {
        let err = Transform::from_lookup(env(vars)).unwrap_err().to_string();
        assert!(err.starts_with(expected), "{err}");
    }
}

/// `data` that is not base64 (bad characters, a raw control character, a JSON escape
/// that decodes to a non-base64 byte) fails its record alone; escaped base64 (`\/`) reads
/// as the same bytes; the event still reads through serde_path_to_error as the runtime does.
#[tokio::test]
async fn bad_base64_fails_only_its_record() {
    let good = BASE64.encode(br#"{"reading date":"1/4/22","data":"some string","b":10,"c":100}"#);
    let slashed =
        BASE64.encode(b"{\"reading date\":\"?\",\"data\":\"\xff\xfe\xfe\",\"b\":1,\"c\":2}");
    assert!(slashed.contains('/'), "{slashed}");
    let text = format!(
        r#"{{"records":[
            {{"recordId":"1","data":"{good}"}},
            {{"recordId":"2","data":"not base64!"}},
            {{"recordId":"3","data":"eyJ\u0001hIjoxfQ=="}},
            {{"recordId":"4","data":"eyJ
hIjoxfQ=="}},
            {{"recordId":"5","data":"{}"}},
            {{"recordId":"6","data":"{good}"}}
        ]}}"#,
        slashed.replace('/', "\\/")
    );
    let event: FirehoseEvent =
        serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_str(&text)).unwrap();
    let (t, sink) =
        transformer(Transform::from_lookup(env(&[("TEMPLATE", SEED_TEMPLATE)])).unwrap());
    let response = invoke(event.clone(), &t).await;
    let a = assert_every_record_answered_once(&event, &response);
    let results: Vec<&str> = a.iter().map(|x| x.1.as_str()).collect();
    // 5 decodes (the escaped slashes are base64's own) but is not UTF-8
    assert_eq!(
        results,
        [
            "Ok",
            "ProcessingFailed",
            "ProcessingFailed",
            "ProcessingFailed",
            "ProcessingFailed",
            "Ok"
        ]
    );
    for (id, _, data, _) in &a[1..=3] {
        let err: Value = serde_json::from_str(data).unwrap();
        assert_eq!(err["errorCode"], "InvalidBase64", "record {id}");
    }
    let err: Value = serde_json::from_str(&a[4].2).unwrap();
    assert_eq!(err["errorCode"], "InvalidUtf8");
    assert_eq!(a[5].2, format!("{SEED_OUTPUT}\n"));
    assert_eq!(sink.invocation_documents()[0]["RecordsFailed"], 4);
    // the event serializes back as Firehose sent it (valid data re-encoded, bad data as it came)
    let back = serde_json::to_value(&event).unwrap();
    assert_eq!(back["records"][0]["data"], good);
    assert_eq!(back["records"][1]["data"], "not base64!");
    assert_eq!(back["records"][4]["data"], slashed);
    // data that is not a string at all is not a Firehose event
    assert!(serde_json::from_str::<FirehoseEvent>(r#"{"records":[{"data":1}]}"#).is_err());
}

/// The body serializes verbatim (as the runtime sends it), through serde_json's writer
/// and its `Value`.
#[tokio::test]
async fn response_body_serializes_verbatim() {
    let (t, _) = transformer(Transform::from_lookup(env(&[("TEMPLATE", SEED_TEMPLATE)])).unwrap());
    let response = handler(
        LambdaEvent::new(fixture("kds_source.json"), Context::default()),
        &t,
    )
    .await
    .unwrap();
    assert_eq!(serde_json::to_string(&response).unwrap(), response.as_str());
    assert_eq!(
        serde_json::to_value(&response).unwrap(),
        serde_json::from_str::<Value>(response.as_str()).unwrap()
    );
    assert_eq!(
        serde_json::to_string(&[&response]).unwrap(),
        format!("[{}]", response.as_str())
    );
}

/// Issue 13: hostile records among good ones, through the handler. Each crosses a
/// per-record budget and fails alone (`ProcessingFailed`, `OverBudget` /
/// `InvalidPartitionKey` / `InvalidJson`); the invocation and the other records do not.
#[tokio::test]
async fn hostile_records_fail_alone() {
    let good = br#"{"t":"AMZN","a":{"b":[1,2]}}"#.to_vec();
    // a long key over a long array: FLATTEN asks for ~100 MB
    let blowup = format!(
        r#"{{"t":"AMZN","{}":[{}]}}"#,
        "k".repeat(10_000),
        vec!["0"; 10_000].join(",")
    )
    .into_bytes();
    let deep = format!(
        r#"{{"t":"AMZN","d":{}0{}}}"#,
        "[".repeat(200_000),
        "]".repeat(200_000)
    )
    .into_bytes();
    let traversal = br#"{"t":"../../other-prefix","a":1}"#.to_vec();
    let event = batch([good.clone(), blowup, deep, traversal, good]);
    let (t, sink) = transformer(
        Transform::from_lookup(env(&[
            ("FLATTEN", "true"),
            ("PARTITION_KEYS", r#"{"ticker":"{{t}}"}"#),
        ]))
        .unwrap(),
    );
    let response = invoke(event.clone(), &t).await;
    let a = assert_every_record_answered_once(&event, &response);
    let results: Vec<&str> = a.iter().map(|x| x.1.as_str()).collect();
    assert_eq!(
        results,
        [
            "Ok",
            "ProcessingFailed",
            "ProcessingFailed",
            "ProcessingFailed",
            "Ok"
        ]
    );
    let codes: Vec<String> = a[1..=3]
        .iter()
        .map(|x| serde_json::from_str::<Value>(&x.2).unwrap()["errorCode"].to_string())
        .collect();
    assert_eq!(
        codes,
        [
            r#""OverBudget""#,
            r#""InvalidJson""#,
            r#""InvalidPartitionKey""#
        ]
    );
    assert_eq!(a[0].2, "{\"a.b.0\":1,\"a.b.1\":2,\"t\":\"AMZN\"}\n");
    assert_eq!(a[4].3, json!({"ticker": "AMZN"}));
    assert_eq!(sink.invocation_documents()[0]["RecordsFailed"], 3);
}
