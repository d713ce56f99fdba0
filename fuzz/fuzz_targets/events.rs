//! Both functions' event parsing and batch handling on arbitrary invocation payloads, through
//! their libraries' entry points (no Lambda runtime, no AWS SDK):
//! - kds-consumer: the bytes as the binary reads them (`handle_text`: borrowed, never a panic),
//!   and as an owned Kinesis event (`kstream_pipeline::kinesis::KinesisEvent`) through
//!   `Consumer::process_batch`: every failure names a record of the batch, once, and where the
//!   owned event reads, `handle_text` reads it too and answers the same;
//! - firehose-transform: the bytes as a Firehose event, then `Transformer::transform_batch`
//!   (seed template): exactly one answer per record, in order, with the record's id.
//!
//! The first byte picks the function, so one corpus serves both.
#![no_main]

use std::collections::HashSet;
use std::sync::OnceLock;

use firehose_transform::Transformer;
use firehose_transform::event::FirehoseEvent;
use kds_consumer::Consumer;
use kstream_pipeline::kinesis::KinesisEvent;
use kstream_pipeline::telemetry::Telemetry;
use kstream_transform::Transform;
use libfuzzer_sys::fuzz_target;

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime")
    })
}

fn consumer() -> &'static Consumer {
    static C: OnceLock<Consumer> = OnceLock::new();
    C.get_or_init(|| {
        Consumer::builder()
            .telemetry(Telemetry::from_env("fuzz"))
            .build()
    })
}

fn transformer() -> &'static Transformer {
    static T: OnceLock<Transformer> = OnceLock::new();
    T.get_or_init(|| {
        let transform = Transform::builder()
            .template(r#"{ "reading date":  "{{'reading date'}}", "a": {{data}}, "b": {{b}}, "c": {{c}} }"#)
            .build()
            .expect("seed template");
        Transformer::builder(transform).telemetry(Telemetry::from_env("fuzz")).build()
    })
}

fn kinesis(data: &[u8]) {
    let borrowed = runtime().block_on(kds_consumer::handle_text(
        data,
        &lambda_runtime::Context::default(),
        consumer(),
    ));
    let Ok(event) = serde_json::from_slice::<KinesisEvent>(data) else {
        return;
    };
    let owned = runtime()
        .block_on(kds_consumer::handler(
            lambda_runtime::LambdaEvent::new(event.clone(), lambda_runtime::Context::default()),
            consumer(),
        ))
        .unwrap_or_else(|never| match never {});
    match borrowed {
        Ok(response) => assert_eq!(response, owned, "the two paths answer differently"),
        Err(error) => panic!("the owned event reads, the bytes do not: {error}"),
    }
    let report = runtime().block_on(consumer().process_batch(&event));
    assert_eq!(report.counters.records, event.records.len());
    let ids: HashSet<&str> = event
        .records
        .iter()
        .map(|r| r.kinesis.sequence_number.as_str())
        .collect();
    assert!(report.failures.len() <= event.records.len());
    for failure in &report.failures {
        assert!(
            ids.contains(failure.sequence_number.as_str()),
            "failure names no record"
        );
    }
    let response = report.response();
    assert!(response.batch_item_failures.len() <= report.failures.len());
}

fn firehose(data: &[u8]) {
    let Ok(event) = serde_json::from_slice::<FirehoseEvent>(data) else {
        return;
    };
    let ids: Vec<Option<String>> = event.records.iter().map(|r| r.record_id.clone()).collect();
    let report = transformer().transform_batch(event);
    let response = report.body.parse();
    assert_eq!(response.records.len(), ids.len(), "one answer per record");
    for (answer, id) in response.records.iter().zip(&ids) {
        if let Some(id) = id {
            assert_eq!(
                answer.record_id.as_deref(),
                Some(id.as_str()),
                "answer for another record"
            );
        }
    }
    assert!(report.failures.len() <= ids.len());
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    if which & 1 == 0 {
        kinesis(rest)
    } else {
        firehose(rest)
    }
});
