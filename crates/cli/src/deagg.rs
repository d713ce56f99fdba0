//! `kstream deagg`: decodes KPL-aggregated Kinesis records for debugging.
//!
//! Input, from arguments, `--file` or standard input:
//! - base64 record data, one record per line (or per argument);
//! - JSON: a Lambda Kinesis event or `aws kinesis get-records` output (`{"Records": [...]}`), an
//!   array of such records, or JSON lines of them; partition and sequence numbers are taken from
//!   the records;
//! - with `--raw`, the bytes of one record.
//!
//! Output: one JSON line per user record on standard output, and a summary on standard error.

use std::io::{self, BufWriter, Read, Write};
use std::path::PathBuf;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use kstream_kpl::bytes::Bytes;
use kstream_kpl::{Deaggregated, deaggregate_bytes};
use miette::{IntoDiagnostic, WrapErr, miette};
use serde_json::{Map, Value, json};

/// Arguments of `kstream deagg`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Base64-encoded record data, one record per argument. Without any, records are read from
    /// --file or standard input.
    #[arg(value_name = "BASE64")]
    records: Vec<String>,

    /// Read records from this file instead of standard input (`-` is standard input).
    #[arg(short, long, value_name = "PATH", conflicts_with = "records")]
    file: Option<PathBuf>,

    /// The input is the raw bytes of one record, not base64 or JSON.
    #[arg(long, conflicts_with = "records")]
    raw: bool,

    /// Partition key of the outer record, reported for records that are not aggregated
    /// (JSON input carries its own).
    #[arg(long, value_name = "KEY")]
    partition_key: Option<String>,

    /// Sequence number of the outer record, copied into every output line (JSON input carries its own).
    #[arg(long, value_name = "SEQ")]
    sequence_number: Option<String>,

    /// Print data as base64 even when it is valid UTF-8.
    #[arg(long)]
    base64: bool,

    /// Exit with an error when a record starts with the KPL magic but is corrupt (bad MD5,
    /// truncated, bad protobuf); by default it is printed as passed through, with the reason.
    #[arg(long)]
    fail_on_corrupt: bool,
}

/// One outer Kinesis record to decode.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Input {
    data: Bytes,
    partition_key: Option<String>,
    sequence_number: Option<String>,
}

/// Counts for the closing summary.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Stats {
    kinesis_records: usize,
    user_records: usize,
    passed_through: usize,
    corrupt: usize,
}

/// Runs `kstream deagg`.
pub(crate) async fn run(args: Args) -> miette::Result<()> {
    let inputs = read_inputs(&args)?;
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let stats =
        match write_records(&inputs, args.base64, &mut out).and_then(|s| out.flush().map(|()| s)) {
            Ok(stats) => stats,
            // `kstream deagg | head` closes the pipe early: not an error.
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return Ok(()),
            Err(e) => {
                return Err(e)
                    .into_diagnostic()
                    .wrap_err("writing to standard output");
            }
        };
    let mut err = io::stderr().lock();
    // Best effort: the summary is informational.
    let _ = writeln!(
        err,
        "kstream deagg: {} Kinesis record(s) -> {} user record(s); {} not aggregated, {} corrupt",
        stats.kinesis_records, stats.user_records, stats.passed_through, stats.corrupt
    );
    if args.fail_on_corrupt && stats.corrupt > 0 {
        return Err(miette!(
            help = "rerun without --fail-on-corrupt to see each record's reason",
            "{} record(s) start with the KPL magic but are corrupt",
            stats.corrupt
        ));
    }
    Ok(())
}

fn read_inputs(args: &Args) -> miette::Result<Vec<Input>> {
    let outer = |data: Bytes| Input {
        data,
        partition_key: args.partition_key.clone(),
        sequence_number: args.sequence_number.clone(),
    };
    if !args.records.is_empty() {
        return args
            .records
            .iter()
            .enumerate()
            .map(|(i, text)| {
                let data = decode_base64(text).wrap_err_with(|| format!("argument {}", i + 1))?;
                Ok(outer(data))
            })
            .collect();
    }
    let bytes = match &args.file {
        Some(path) if path.as_os_str() != "-" => std::fs::read(path)
            .into_diagnostic()
            .wrap_err_with(|| format!("reading {}", path.display()))?,
        _ => {
            let mut buf = Vec::new();
            io::stdin()
                .lock()
                .read_to_end(&mut buf)
                .into_diagnostic()
                .wrap_err("reading standard input")?;
            buf
        }
    };
    if args.raw {
        return Ok(vec![outer(Bytes::from(bytes))]);
    }
    let text = String::from_utf8(bytes).map_err(|_| {
        miette!(
            help = "pass --raw for binary input",
            "input is not text (base64 or JSON)"
        )
    })?;
    parse_text(
        &text,
        args.partition_key.as_deref(),
        args.sequence_number.as_deref(),
    )
}

/// Parses base64 lines or JSON (detected by a leading `{` or `[`).
fn parse_text(
    text: &str,
    partition_key: Option<&str>,
    sequence_number: Option<&str>,
) -> miette::Result<Vec<Input>> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        return parse_json(trimmed);
    }
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(i, line)| {
            Ok(Input {
                data: decode_base64(line.trim()).wrap_err_with(|| format!("line {}", i + 1))?,
                partition_key: partition_key.map(str::to_owned),
                sequence_number: sequence_number.map(str::to_owned),
            })
        })
        .collect()
}

fn decode_base64(text: &str) -> miette::Result<Bytes> {
    STANDARD
        .decode(text)
        .map(Bytes::from)
        .map_err(|e| miette!(help = "pass --raw for binary input", "invalid base64: {e}"))
}

/// A Lambda Kinesis event, `get-records` output, an array of records, or JSON lines of records.
fn parse_json(text: &str) -> miette::Result<Vec<Input>> {
    let values: Vec<Value> = match serde_json::from_str::<Value>(text) {
        Ok(v) => vec![v],
        Err(_) => text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, l)| {
                serde_json::from_str(l)
                    .into_diagnostic()
                    .wrap_err_with(|| format!("line {}: not JSON", i + 1))
            })
            .collect::<miette::Result<_>>()?,
    };
    let mut records = Vec::new();
    for value in values {
        match value {
            Value::Array(items) => records.extend(items),
            Value::Object(mut map) => match map.remove("Records").or_else(|| map.remove("records"))
            {
                Some(Value::Array(items)) => records.extend(items),
                Some(_) => return Err(miette!("\"Records\" is not an array")),
                None => records.push(Value::Object(map)),
            },
            other => return Err(miette!("expected a JSON object or array, got {other}")),
        }
    }
    records
        .iter()
        .enumerate()
        .map(|(i, r)| json_record(r).wrap_err_with(|| format!("record {}", i + 1)))
        .collect()
}

/// One record: `{kinesis: {data, partitionKey, sequenceNumber}}` (Lambda), `{Data, PartitionKey,
/// SequenceNumber}` (the API), or `{data, partitionKey, sequenceNumber}`.
fn json_record(value: &Value) -> miette::Result<Input> {
    let obj = value
        .get("kinesis")
        .unwrap_or(value)
        .as_object()
        .ok_or_else(|| miette!("not a JSON object"))?;
    let field = |names: [&str; 2]| {
        names
            .iter()
            .find_map(|n| obj.get(*n))
            .and_then(Value::as_str)
    };
    let data = field(["data", "Data"]).ok_or_else(|| miette!("no \"data\" field"))?;
    Ok(Input {
        data: decode_base64(data)?,
        partition_key: field(["partitionKey", "PartitionKey"]).map(str::to_owned),
        sequence_number: field(["sequenceNumber", "SequenceNumber"]).map(str::to_owned),
    })
}

/// Writes one JSON line per user record.
fn write_records(inputs: &[Input], force_base64: bool, out: &mut impl Write) -> io::Result<Stats> {
    let mut stats = Stats::default();
    for (index, input) in inputs.iter().enumerate() {
        stats.kinesis_records += 1;
        let mut line = Map::new();
        line.insert("record".into(), json!(index));
        line.insert("sequenceNumber".into(), json!(input.sequence_number));
        match deaggregate_bytes(input.data.clone()) {
            Deaggregated::Aggregated(subs) => {
                for sub in subs {
                    let mut line = line.clone();
                    line.insert("subSequenceNumber".into(), json!(sub.sub_sequence_number));
                    line.insert("partitionKey".into(), json!(sub.partition_key));
                    line.insert("explicitHashKey".into(), json!(sub.explicit_hash_key));
                    line.insert("aggregated".into(), json!(true));
                    insert_data(&mut line, &sub.data, force_base64);
                    if !sub.tags.is_empty() {
                        let tags: Vec<_> = sub
                            .tags
                            .iter()
                            .map(|t| json!({"key": t.key, "value": t.value}))
                            .collect();
                        line.insert("tags".into(), Value::Array(tags));
                    }
                    emit(out, line)?;
                    stats.user_records += 1;
                }
            }
            Deaggregated::NotAggregated { reason } => {
                line.insert("subSequenceNumber".into(), Value::Null);
                line.insert("partitionKey".into(), json!(input.partition_key));
                line.insert("explicitHashKey".into(), Value::Null);
                line.insert("aggregated".into(), json!(false));
                insert_data(&mut line, &input.data, force_base64);
                line.insert("notAggregated".into(), json!(reason.to_string()));
                line.insert("corrupt".into(), json!(reason.is_corrupt()));
                emit(out, line)?;
                stats.user_records += 1;
                stats.passed_through += 1;
                stats.corrupt += usize::from(reason.is_corrupt());
            }
        }
    }
    Ok(stats)
}

fn insert_data(line: &mut Map<String, Value>, data: &[u8], force_base64: bool) {
    match std::str::from_utf8(data) {
        Ok(text) if !force_base64 => {
            line.insert("data".into(), json!(text));
            line.insert("dataEncoding".into(), json!("utf8"));
        }
        _ => {
            line.insert("data".into(), json!(STANDARD.encode(data)));
            line.insert("dataEncoding".into(), json!("base64"));
        }
    }
}

fn emit(out: &mut impl Write, line: Map<String, Value>) -> io::Result<()> {
    serde_json::to_writer(&mut *out, &Value::Object(line))?;
    out.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use kstream_kpl::{UserRecord, encode};

    use super::*;

    fn sample() -> Vec<u8> {
        encode(&[
            UserRecord::new("k1", "alpha"),
            UserRecord::new("k2", vec![0xFF, 0x00]).with_explicit_hash_key("42"),
        ])
    }

    fn lines(inputs: &[Input], force_base64: bool) -> (Vec<Value>, Stats) {
        let mut out = Vec::new();
        let stats = write_records(inputs, force_base64, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        (
            text.lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect(),
            stats,
        )
    }

    #[test]
    fn base64_lines_are_deaggregated() {
        let text = format!(
            "{}\n\n{}\n",
            STANDARD.encode(sample()),
            STANDARD.encode("plain")
        );
        let inputs = parse_text(&text, Some("outer"), Some("4959")).unwrap();
        let (out, stats) = lines(&inputs, false);
        assert_eq!(
            stats,
            Stats {
                kinesis_records: 2,
                user_records: 3,
                passed_through: 1,
                corrupt: 0
            }
        );
        assert_eq!(
            out[0],
            json!({"record": 0, "sequenceNumber": "4959", "subSequenceNumber": 0, "partitionKey": "k1",
                   "explicitHashKey": null, "aggregated": true, "data": "alpha", "dataEncoding": "utf8"})
        );
        assert_eq!(out[1]["explicitHashKey"], "42");
        assert_eq!(out[1]["data"], "/wA=");
        assert_eq!(out[1]["dataEncoding"], "base64");
        assert_eq!(
            out[2],
            json!({"record": 1, "sequenceNumber": "4959", "subSequenceNumber": null, "partitionKey": "outer",
                   "explicitHashKey": null, "aggregated": false, "data": "plain", "dataEncoding": "utf8",
                   "notAggregated": "not aggregated: no KPL magic", "corrupt": false})
        );
    }

    #[test]
    fn corrupt_records_pass_through_with_the_reason() {
        let mut bad = sample();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        let (out, stats) = lines(
            &[Input {
                data: bad.clone().into(),
                partition_key: None,
                sequence_number: None,
            }],
            false,
        );
        assert_eq!(stats.corrupt, 1);
        assert_eq!(out[0]["corrupt"], true);
        assert_eq!(
            out[0]["notAggregated"],
            "corrupt aggregate: MD5 trailer does not match"
        );
        assert_eq!(out[0]["data"], STANDARD.encode(&bad));
    }

    #[test]
    fn lambda_events_and_get_records_output_are_read() {
        let data = STANDARD.encode(sample());
        let event = json!({"Records": [{"kinesis": {"data": data, "partitionKey": "a", "sequenceNumber": "1"}}]});
        let inputs = parse_text(&event.to_string(), None, None).unwrap();
        assert_eq!(inputs[0].sequence_number.as_deref(), Some("1"));
        assert_eq!(lines(&inputs, false).1.user_records, 2);

        let get_records = json!({"Records": [{"Data": data, "PartitionKey": "a", "SequenceNumber": "2"}], "NextShardIterator": "x"});
        let inputs = parse_text(&get_records.to_string(), None, None).unwrap();
        assert_eq!(inputs[0].partition_key.as_deref(), Some("a"));

        let json_lines = format!(
            "{}\n{}\n",
            json!({"data": data}),
            json!({"data": STANDARD.encode("x")})
        );
        assert_eq!(parse_text(&json_lines, None, None).unwrap().len(), 2);
    }

    #[test]
    fn bad_input_names_the_line() {
        let err = parse_text("aGVsbG8=\nnot base64!\n", None, None).unwrap_err();
        assert_eq!(err.to_string(), "line 2");
        assert!(format!("{err:?}").contains("invalid base64"));
        let err = parse_text("{\"Records\": [{\"nodata\": 1}]}", None, None).unwrap_err();
        assert_eq!(err.to_string(), "record 1");
    }

    #[test]
    fn base64_can_be_forced() {
        let (out, _) = lines(
            &[Input {
                data: Bytes::from_static(b"text"),
                partition_key: None,
                sequence_number: None,
            }],
            true,
        );
        assert_eq!(
            (out[0]["data"].as_str(), out[0]["dataEncoding"].as_str()),
            (Some("dGV4dA=="), Some("base64"))
        );
    }
}
