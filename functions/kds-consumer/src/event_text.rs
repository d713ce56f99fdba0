//! The fast path of [`handle_text`](crate::handle_text)'s event read: a Kinesis event as Lambda
//! writes it, read into a [`KinesisEventRef`] in one pass over the text (`json_scan::Reader`),
//! without serde's derived visitors. On a batch of 100 KPL aggregates that read was a seventh of
//! the consumer's CPU time, most of it scanning the base64 `data` (bench/kds-consumer, perf).
//!
//! It answers only where serde_json's read of a [`KinesisEventRef`] gives the same event: a
//! top-level object whose `Records` is an array of objects, keys without escapes, each known
//! field once (serde refuses a duplicate field), the strings kept without escapes (borrowed, as
//! serde borrows them), `eventID` and `eventSourceARN` a string or `null`,
//! `approximateArrivalTimestamp` a number (read by serde_json itself: the same `f64`) or `null`,
//! and every other value something serde_json surely accepts. Anything else (`None`) is left
//! to serde_json, which reads it or gives the error.

use std::borrow::Cow;

use kstream_pipeline::kinesis::{KinesisEventRecordRef, KinesisEventRef, KinesisRecordRef};

use crate::json_scan::Reader;

/// The event in `text`, when it is of the shape this path reads; `None` otherwise.
pub(crate) fn read(text: &str) -> Option<KinesisEventRef<'_>> {
    let mut r = Reader::new(text);
    let mut records = None;
    r.skip_ws();
    if r.next()? != b'{' {
        return None;
    }
    r.object_with(1, |r, key| match key {
        b"Records" if records.is_none() => {
            let mut list = Vec::new();
            if r.next()? != b'[' {
                return None;
            }
            r.array_with(2, |r| {
                list.push(record(r)?);
                Some(())
            })?;
            records = Some(list);
            Some(())
        }
        b"Records" => None,
        _ => r.value(1).map(|_| ()),
    })?;
    r.skip_ws();
    if !r.at_end() {
        return None;
    }
    Some(KinesisEventRef {
        records: records.unwrap_or_default(),
    })
}

/// A record (at depth 3), from its `{`.
fn record<'t>(r: &mut Reader<'t>) -> Option<KinesisEventRecordRef<'t>> {
    if r.next()? != b'{' {
        return None;
    }
    let (mut kinesis, mut event_id, mut event_source_arn) = (None, None, None);
    r.object_with(3, |r, key| match key {
        b"kinesis" => once(&mut kinesis, kinesis_record(r)?),
        b"eventID" => once(&mut event_id, optional_string(r)?),
        b"eventSourceARN" => once(&mut event_source_arn, optional_string(r)?),
        _ => r.value(3).map(|_| ()),
    })?;
    Some(KinesisEventRecordRef {
        kinesis: kinesis.unwrap_or_default(),
        event_id: event_id.flatten(),
        event_source_arn: event_source_arn.flatten(),
    })
}

/// The `kinesis` object (at depth 4), from its `{`.
fn kinesis_record<'t>(r: &mut Reader<'t>) -> Option<KinesisRecordRef<'t>> {
    if r.next()? != b'{' {
        return None;
    }
    let (mut partition_key, mut sequence_number, mut data, mut arrival) = (None, None, None, None);
    r.object_with(4, |r, key| match key {
        b"partitionKey" => once(&mut partition_key, r.plain_string()?),
        b"sequenceNumber" => once(&mut sequence_number, r.plain_string()?),
        b"data" => once(&mut data, r.plain_string()?),
        b"approximateArrivalTimestamp" => once(&mut arrival, optional_number(r)?),
        _ => r.value(4).map(|_| ()),
    })?;
    Some(KinesisRecordRef {
        partition_key: Cow::Borrowed(partition_key.unwrap_or_default()),
        sequence_number: Cow::Borrowed(sequence_number.unwrap_or_default()),
        data: Cow::Borrowed(data.unwrap_or_default()),
        approximate_arrival_timestamp: arrival.flatten(),
    })
}

/// Sets a field read once; `None` (serde's "duplicate field" error) when it was set before.
fn once<T>(field: &mut Option<T>, value: T) -> Option<()> {
    field.is_none().then(|| *field = Some(value))
}

/// A string without escapes, or `null`.
fn optional_string<'t>(r: &mut Reader<'t>) -> Option<Option<Cow<'t, str>>> {
    if r.peek()? == b'"' {
        r.plain_string().map(|text| Some(Cow::Borrowed(text)))
    } else {
        null(r)
    }
}

/// A number, read by serde_json (the `f64` its read of the event gives), or `null`.
fn optional_number(r: &mut Reader<'_>) -> Option<Option<f64>> {
    if let Some(b'-' | b'0'..=b'9') = r.peek() {
        serde_json::from_str(r.number_text()?).ok().map(Some)
    } else {
        null(r)
    }
}

fn null<T>(r: &mut Reader<'_>) -> Option<Option<T>> {
    (r.value(0)? == crate::top_level::Kind::Null).then_some(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURES: [&str; 6] = [
        include_str!("../tests/fixtures/corrupt_kpl.json"),
        include_str!("../tests/fixtures/kpl_python.json"),
        include_str!("../tests/fixtures/malformed_base64.json"),
        include_str!("../tests/fixtures/malformed_json.json"),
        include_str!("../tests/fixtures/mixed.json"),
        include_str!("../tests/fixtures/plain.json"),
    ];

    fn by_serde(text: &str) -> Option<KinesisEventRef<'_>> {
        serde_json::from_str(text).ok()
    }

    /// Every fixture (events as Lambda writes them) takes the fast path, to the same event.
    #[test]
    fn fixtures_take_the_fast_path() {
        for text in FIXTURES {
            let fast = read(text).expect("a Lambda event takes the fast path");
            assert!(!fast.records.is_empty());
            assert_eq!(Some(fast), by_serde(text));
        }
    }

    /// Edits of the fixtures that serde reads differently, refuses or reads with escapes: the
    /// fast path answers as serde or not at all.
    #[test]
    fn the_fast_path_answers_as_serde() {
        let edits: [(&str, &str); 24] = [
            ("\"Records\"", "\"Rec\\u006frds\""),
            ("{\n  \"Records\": [", "{\"Records\":[],\"Records\": ["),
            ("{\n  \"Records\": [", "{\"Records\":null,\"x\": ["),
            ("{\n  \"Records\": [", "{\"other\":1e999,\"Records\": ["),
            (
                "{\n  \"Records\": [",
                "{\"other\":[\"\\ud800\"],\"Records\": [",
            ),
            ("\"kinesis\": {", "\"kinesis\":null,\"x\": {"),
            ("\"kinesis\": {", "\"kinesis\":{},\"kinesis\": {"),
            ("\"eventID\":", "\"eventID\":null,\"eventID\":"),
            ("\"eventID\": \"", "\"eventID\": \"\\n"),
            ("\"eventSourceARN\": \"", "\"eventSourceARN\": 5, \"y\": \""),
            ("\"partitionKey\": \"", "\"partitionKey\": \"\\u00e9"),
            ("\"partitionKey\": \"", "\"partitionKey\": null, \"z\": \""),
            ("\"data\": \"", "\"data\": \"\\/"),
            ("\"data\": \"", "\"data\":\"\",\"data\": \""),
            (
                "\"approximateArrivalTimestamp\": ",
                "\"approximateArrivalTimestamp\": null,\"a\":",
            ),
            (
                "\"approximateArrivalTimestamp\": ",
                "\"approximateArrivalTimestamp\": 1e300,\"a\":",
            ),
            (
                "\"approximateArrivalTimestamp\": ",
                "\"approximateArrivalTimestamp\": 1e999,\"a\":",
            ),
            (
                "\"approximateArrivalTimestamp\": ",
                "\"approximateArrivalTimestamp\": -0.1e-5,\"a\":",
            ),
            (
                "\"approximateArrivalTimestamp\": ",
                "\"approximateArrivalTimestamp\": \"1\",\"a\":",
            ),
            (
                "\"awsRegion\": \"us-east-1\"",
                "\"awsRegion\": {\"a\":[1,2.5e-3,true,\"\\\"\"]}",
            ),
            ("\"awsRegion\": \"us-east-1\"", "\"awsRegion\": tru"),
            ("\"awsRegion\": \"us-east-1\"", "\"awsRegion\": 01"),
            ("\n}\n", "\n} x"),
            ("\n}\n", "\n}\r\n\t "),
        ];
        let mut answered = 0;
        for text in FIXTURES {
            for (from, to) in edits {
                for count in [1, usize::MAX] {
                    let edited = text.replacen(from, to, count);
                    if let Some(fast) = read(&edited) {
                        answered += 1;
                        assert_eq!(Some(fast), by_serde(&edited), "{from} -> {to}");
                    }
                }
            }
            // Prefixes of the text: refused, but for the whole event without its last newline.
            for end in (0..text.len()).step_by(7).chain([text.len() - 1]) {
                let prefix = &text[..end];
                if let Some(fast) = read(prefix) {
                    assert_eq!(Some(fast), by_serde(prefix), "{prefix}");
                    assert_eq!(prefix.trim_end(), text.trim_end());
                }
            }
        }
        assert!(answered > 20, "{answered}");
    }
}
