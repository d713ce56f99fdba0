//! Firehose delivery on the emulator with every object format the pattern can configure: ZIP,
//! Snappy and HADOOP_SNAPPY compression (main destination and S3 backup), and Parquet conversion
//! with the schema of a Glue table.
//!
//! The objects are read back from the emulator's S3 and decoded twice: with the Rust crates
//! (`zip`, `snap`, `parquet`), and independently with Python (`pyarrow`, `python-snappy`,
//! `zipfile`, pinned in requirements.txt) from the project's `.venv` (or `KSTREAM_PYTHON`).
//! Run by scripts/test-e2e.sh (`cargo test -- --ignored`).

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::Duration;

use aws_sdk_firehose::types::{
    CompressionFormat, DataFormatConversionConfiguration, Deserializer,
    ExtendedS3DestinationConfiguration, InputFormatConfiguration, OpenXJsonSerDe,
    OutputFormatConfiguration, ParquetCompression, ParquetSerDe, ProcessingConfiguration,
    Processor, ProcessorParameterName, ProcessorType, S3BackupMode, S3DestinationConfiguration,
    SchemaConfiguration, Serializer,
};
use base64::Engine as _;
use parquet::file::reader::{FileReader as _, SerializedFileReader};
use parquet::record::Field;
use serde_json::{Value, json};

use crate::firehose_emulator::{
    ROLE, Running, create_delivery, fast_delivery, hints, out_bucket, param,
};
use kstream_local_testkit::{Emulator, emulator, s3_objects};

/// The Python of the project's virtualenv (pyarrow, python-snappy).
fn python() -> PathBuf {
    std::env::var("KSTREAM_PYTHON").map_or_else(
        |_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/python"),
        PathBuf::from,
    )
}

/// Decodes the files in `dir` with Python's own readers; returns file name → decoded text
/// (Parquet files: their rows as JSON lines).
fn python_decode(dir: &Path) -> BTreeMap<String, String> {
    const SCRIPT: &str = r#"
import json, os, struct, sys, zipfile, io
import snappy, pyarrow.parquet as pq
out = {}
d = sys.argv[1]
for name in sorted(os.listdir(d)):
    data = open(os.path.join(d, name), "rb").read()
    if name.endswith(".parquet"):
        rows = pq.read_table(os.path.join(d, name)).to_pylist()
        out[name] = "".join(json.dumps(r, default=str, sort_keys=True) + "\n" for r in rows)
    elif name.endswith(".zip"):
        z = zipfile.ZipFile(io.BytesIO(data))
        assert len(z.namelist()) == 1, z.namelist()
        out[name] = z.read(z.namelist()[0]).decode()
    elif name.endswith(".hadoop.snappy"):
        out[name] = snappy.HadoopStreamDecompressor().decompress(data).decode()
    elif name.endswith(".java.snappy"):
        assert data[:16] == b"\x82SNAPPY\x00\x00\x00\x00\x01\x00\x00\x00\x01", data[:16]
        pos, text = 16, b""
        while pos < len(data):
            (n,) = struct.unpack(">i", data[pos:pos + 4])
            text += snappy.uncompress(data[pos + 4:pos + 4 + n])
            pos += 4 + n
        out[name] = text.decode()
print(json.dumps(out))
"#;
    let py = python();
    let output = std::process::Command::new(&py)
        .arg("-c")
        .arg(SCRIPT)
        .arg(dir)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "{} cannot run ({e}): `make venv` installs pyarrow and python-snappy (or set KSTREAM_PYTHON)",
                py.display()
            )
        });
    assert!(
        output.status.success(),
        "the Python readers failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

fn unzip(body: &[u8]) -> String {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(body)).unwrap();
    assert_eq!(archive.len(), 1, "one entry");
    let mut entry = archive.by_index(0).unwrap();
    let name = entry.name().unwrap().into_owned();
    assert!(
        uuid::Uuid::parse_str(&name).is_ok(),
        "entry named by a UUID: {name}"
    );
    let mut text = String::new();
    entry.read_to_string(&mut text).unwrap();
    text
}

fn be32(b: &[u8]) -> usize {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize
}

/// The snappy-java stream: 16-byte header, then (length, raw block) pairs.
fn unsnappy_java(body: &[u8]) -> String {
    assert_eq!(&body[..8], b"\x82SNAPPY\x00", "snappy-java magic");
    assert_eq!(
        &body[8..16],
        [0, 0, 0, 1, 0, 0, 0, 1],
        "version 1, compatible 1"
    );
    let mut pos = 16;
    let mut out = Vec::new();
    while pos < body.len() {
        let n = be32(&body[pos..]);
        out.extend(
            snap::raw::Decoder::new()
                .decompress_vec(&body[pos + 4..pos + 4 + n])
                .unwrap(),
        );
        pos += 4 + n;
    }
    String::from_utf8(out).unwrap()
}

/// Hadoop's blocks: (uncompressed length, compressed length, raw block) triples.
fn unsnappy_hadoop(body: &[u8]) -> String {
    let mut pos = 0;
    let mut out = Vec::new();
    while pos < body.len() {
        let raw = be32(&body[pos..]);
        let n = be32(&body[pos + 4..]);
        let block = snap::raw::Decoder::new()
            .decompress_vec(&body[pos + 8..pos + 8 + n])
            .unwrap();
        assert_eq!(block.len(), raw);
        out.extend(block);
        pos += 8 + n;
    }
    String::from_utf8(out).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the emulator: run by scripts/test-e2e.sh"]
async fn zip_snappy_and_hadoop_snappy_objects_decode_to_the_records() {
    let emu = emulator().await;
    let (stream, stream_arn) = emu.stream(1).await;
    let (s3, bucket) = out_bucket(&emu).await;
    let newline = ProcessingConfiguration::builder()
        .enabled(true)
        .processors(
            Processor::builder()
                .r#type(ProcessorType::AppendDelimiterToRecord)
                .parameters(param(ProcessorParameterName::Delimiter, "\\n"))
                .build()
                .unwrap(),
        )
        .build();
    for (tag, format) in [
        ("zip", CompressionFormat::Zip),
        ("snappy", CompressionFormat::Snappy),
        ("hadoop", CompressionFormat::HadoopSnappy),
    ] {
        let mut dest = ExtendedS3DestinationConfiguration::builder()
            .role_arn(ROLE)
            .bucket_arn(format!("arn:aws:s3:::{bucket}"))
            .prefix(format!("{tag}/"))
            .error_output_prefix(format!("errors/{tag}/"))
            .buffering_hints(hints())
            .compression_format(format)
            .processing_configuration(newline.clone());
        if tag == "zip" {
            // The S3 backup of the source records, Hadoop-Snappy compressed.
            dest = dest
                .s3_backup_mode(S3BackupMode::Enabled)
                .s3_backup_configuration(
                    S3DestinationConfiguration::builder()
                        .role_arn(ROLE)
                        .bucket_arn(format!("arn:aws:s3:::{bucket}"))
                        .prefix("backup/")
                        .compression_format(CompressionFormat::HadoopSnappy)
                        .build()
                        .unwrap(),
                );
        }
        let name = format!("{}-{tag}", emu.prefix);
        create_delivery(&emu, &name, &stream_arn, dest.build().unwrap()).await;
    }
    // 12 small records and one of 100 000 bytes (several 32 KiB Snappy blocks).
    let mut sent: Vec<String> = (0..12)
        .map(|i| format!(r#"{{"ticker":"T{i}","price":{i}.25}}"#))
        .collect();
    sent.push(format!(
        r#"{{"ticker":"BIG","pad":"{}"}}"#,
        "xy".repeat(50_000)
    ));
    for (i, r) in sent.iter().enumerate() {
        emu.put(&stream, &format!("pk{i}"), r).await;
    }
    sent.sort();

    let fh = fast_delivery(&emu).name_prefix(emu.prefix.clone()).build();
    let stats = fh.stats();
    let running = Running::start(&fh);
    running
        .wait(
            "13 records in each of 3 destinations and the backup",
            Duration::from_secs(90),
            || {
                stats.records_delivered.load(Ordering::Relaxed) >= 39
                    && stats.records_backed_up.load(Ordering::Relaxed) >= 13
            },
            || format!("{:?}", stats.snapshot()),
        )
        .await;
    running.finish().await;
    assert_eq!(stats.records_failed.load(Ordering::Relaxed), 0);

    let dir = tempfile::tempdir().unwrap();
    let mut decoded: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut rust_text: BTreeMap<String, String> = BTreeMap::new();
    let objects = s3_objects(&s3, &bucket).await;
    let keys: Vec<(&str, usize)> = objects
        .iter()
        .map(|(k, _, b)| (k.as_str(), b.len()))
        .collect();
    for (key, encoding, body) in objects.clone() {
        let folder = key.split('/').next().unwrap().to_owned();
        let (ext, want_encoding, text, local) = match folder.as_str() {
            "zip" => (".zip", "zip", unzip(&body), "zip"),
            "snappy" => (
                ".snappy",
                "snappy-java",
                unsnappy_java(&body),
                "java.snappy",
            ),
            "hadoop" | "backup" => (
                ".snappy",
                "hadoop-snappy",
                unsnappy_hadoop(&body),
                "hadoop.snappy",
            ),
            other => panic!("unexpected object {other}: {key}"),
        };
        assert!(key.ends_with(ext), "{key} ends with {ext}");
        assert_eq!(
            encoding.as_deref(),
            Some(want_encoding),
            "Content-Encoding of {key}"
        );
        let file = format!("{}.{local}", rust_text.len());
        std::fs::write(dir.path().join(&file), &body).unwrap();
        rust_text.insert(file, text.clone());
        let records: Vec<String> = if folder == "backup" {
            // The backup keeps the source records back to back, without the delimiter.
            serde_json::Deserializer::from_str(&text)
                .into_iter::<Value>()
                .map(|v| v.unwrap().to_string())
                .collect()
        } else {
            text.lines().map(str::to_owned).collect()
        };
        decoded.entry(folder).or_default().extend(records);
    }
    let canonical = |v: &[String]| {
        let mut v: Vec<String> = v
            .iter()
            .map(|r| serde_json::from_str::<Value>(r).unwrap().to_string())
            .collect();
        v.sort();
        v
    };
    let expected = canonical(&sent);
    assert_eq!(
        decoded.keys().collect::<Vec<_>>(),
        ["backup", "hadoop", "snappy", "zip"]
    );
    // Records named by their ticker, so that a failure prints no 100 kB record.
    let tickers = |v: &[String]| -> Vec<String> {
        v.iter()
            .map(|r| {
                serde_json::from_str::<Value>(r).map_or_else(
                    |_| format!("<not JSON: {} bytes>", r.len()),
                    |v| v["ticker"].to_string(),
                )
            })
            .collect()
    };
    for (folder, records) in &decoded {
        let got = canonical(records);
        assert!(
            got == expected,
            "every record once in {folder}/: got {:?}, want {:?}; delivery stats {:?}; objects {keys:?}",
            tickers(&got),
            tickers(&expected),
            stats.snapshot()
        );
    }
    // The same objects through Python's readers.
    assert_eq!(
        python_decode(dir.path()),
        rust_text,
        "Python decodes the same text"
    );
}

/// Calls the emulator's Glue JSON API (moto does not check signatures).
async fn glue(emu: &Emulator, action: &str, body: &Value) {
    emu.raw_post(
        "glue",
        "application/x-amz-json-1.1",
        &format!("X-Amz-Target: AWSGlue.{action}\r\n"),
        &body.to_string(),
    )
    .await;
}

async fn glue_table(emu: &Emulator, database: &str, table: &str, columns: &[(&str, &str)]) {
    let columns: Vec<Value> = columns
        .iter()
        .map(|(n, t)| json!({"Name": n, "Type": t}))
        .collect();
    glue(
        emu,
        "CreateTable",
        &json!({
            "DatabaseName": database,
            "TableInput": {
                "Name": table,
                "TableType": "EXTERNAL_TABLE",
                "PartitionKeys": [{"Name": "year", "Type": "string"}],
                "StorageDescriptor": {
                    "Columns": columns,
                    "SerdeInfo": {"SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"}
                }
            }
        }),
    )
    .await;
}

fn conversion(
    database: &str,
    table: &str,
    compression: ParquetCompression,
) -> DataFormatConversionConfiguration {
    DataFormatConversionConfiguration::builder()
        .enabled(true)
        .input_format_configuration(
            InputFormatConfiguration::builder()
                .deserializer(
                    Deserializer::builder()
                        .open_x_json_ser_de(OpenXJsonSerDe::builder().build())
                        .build(),
                )
                .build(),
        )
        .output_format_configuration(
            OutputFormatConfiguration::builder()
                .serializer(
                    Serializer::builder()
                        .parquet_ser_de(ParquetSerDe::builder().compression(compression).build())
                        .build(),
                )
                .build(),
        )
        .schema_configuration(
            SchemaConfiguration::builder()
                .role_arn(ROLE)
                .catalog_id("123456789012")
                .database_name(database)
                .table_name(table)
                .region("us-east-1")
                .version_id("LATEST")
                .build(),
        )
        .build()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the emulator: run by scripts/test-e2e.sh"]
async fn parquet_conversion_with_the_glue_schema_and_failed_records_in_the_error_output() {
    let emu = emulator().await;
    let (stream, stream_arn) = emu.stream(1).await;
    let (s3, bucket) = out_bucket(&emu).await;
    let database = emu.prefix.replace('-', "_");
    glue(
        &emu,
        "CreateDatabase",
        &json!({"DatabaseInput": {"Name": database}}),
    )
    .await;
    glue_table(
        &emu,
        &database,
        "trades",
        &[
            ("ticker", "string"),
            ("price", "double"),
            ("event_time", "timestamp"),
            ("qty", "int"),
            ("day", "date"),
            ("amount", "decimal(10,2)"),
            ("ok", "boolean"),
        ],
    )
    .await;
    glue_table(
        &emu,
        &database,
        "nested",
        &[("ticker", "string"), ("tags", "array<string>")],
    )
    .await;

    let name = format!("{}-parquet", emu.prefix);
    let dest = |table: &str| {
        ExtendedS3DestinationConfiguration::builder()
            .role_arn(ROLE)
            .bucket_arn(format!("arn:aws:s3:::{bucket}"))
            .prefix("pq/year=!{timestamp:yyyy}/")
            .error_output_prefix("errors/!{firehose:error-output-type}/")
            .buffering_hints(hints())
            .compression_format(CompressionFormat::Uncompressed)
            .data_format_conversion_configuration(conversion(
                &database,
                table,
                ParquetCompression::Gzip,
            ))
            .build()
            .unwrap()
    };
    create_delivery(&emu, &name, &stream_arn, dest("trades")).await;
    let nested = format!("{}-nested", emu.prefix);
    create_delivery(&emu, &nested, &stream_arn, dest("nested")).await;

    let good = [
        r#"{"ticker":"AMZN","price":12.5,"event_time":"2026-01-02T03:04:05Z","qty":3,"day":"2026-01-02","amount":"19.99","ok":true,"extra":"x"}"#,
        r#"{"TICKER":"MSFT","Price":"7.25","event_time":1767225600,"qty":"4","amount":5}"#,
        r#"{"ticker":"INTC"}{"ticker":"NVDA","ok":"false"}"#,
    ];
    let bad = ["not json at all", r#"{"ticker":"BAD","qty":"many"}"#];
    for (i, r) in good.iter().chain(bad.iter()).enumerate() {
        emu.put(&stream, &format!("pk{i}"), r).await;
    }

    let fh = fast_delivery(&emu).name_prefix(emu.prefix.clone()).build();
    // The table with an array column is refused when the delivery starts, with the column named.
    let (configs, skipped) = fh.discover().await.unwrap();
    assert_eq!(
        configs.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
        [name.as_str()]
    );
    assert_eq!(skipped.len(), 1);
    let why = skipped[0].1.to_string();
    assert!(
        skipped[0].0 == nested && why.contains("column tags") && why.contains("array<string>"),
        "{why}"
    );

    let stats = fh.stats();
    let running = Running::start(&fh);
    running
        .wait(
            "3 records converted and 2 in the error output",
            Duration::from_secs(90),
            || {
                stats.records_delivered.load(Ordering::Relaxed) >= 3
                    && stats.records_failed.load(Ordering::Relaxed) >= 2
            },
            || format!("{:?}", stats.snapshot()),
        )
        .await;
    running.finish().await;
    let (read, delivered, _, failed, _) = stats.snapshot();
    assert_eq!((read, delivered, failed), (5, 3, 2), "none lost");

    let year = chrono::Utc::now().format("%Y").to_string();
    let dir = tempfile::tempdir().unwrap();
    let mut rows: Vec<BTreeMap<String, Field>> = Vec::new();
    let mut errors: Vec<Value> = Vec::new();
    let mut files = 0;
    for (key, encoding, body) in s3_objects(&s3, &bucket).await {
        if let Some(rest) = key.strip_prefix("pq/") {
            assert!(rest.starts_with(&format!("year={year}/")), "{key}");
            assert!(key.ends_with(".parquet"), "{key}");
            assert_eq!(encoding, None, "Parquet objects have no Content-Encoding");
            assert_eq!(&body[..4], b"PAR1");
            std::fs::write(dir.path().join(format!("{files}.parquet")), &body).unwrap();
            files += 1;
            let reader = SerializedFileReader::new(bytes::Bytes::from(body)).unwrap();
            let codec = reader.metadata().row_group(0).column(0).compression();
            assert!(format!("{codec:?}").starts_with("GZIP"), "{codec:?}");
            rows.extend(
                reader
                    .get_row_iter(None)
                    .unwrap()
                    .map(|r| r.unwrap().into_columns().into_iter().collect()),
            );
        } else {
            assert!(key.starts_with("errors/format-conversion-failed/"), "{key}");
            let text = String::from_utf8(body).unwrap();
            errors.extend(
                text.lines()
                    .map(|l| serde_json::from_str::<Value>(l).unwrap()),
            );
        }
    }
    rows.sort_by_key(|r| format!("{:?}", r["ticker"]));
    let tickers: Vec<String> = rows.iter().map(|r| r["ticker"].to_string()).collect();
    assert_eq!(
        tickers,
        [r#""AMZN""#, r#""INTC""#, r#""MSFT""#, r#""NVDA""#]
    );
    let columns: Vec<&String> = rows[0].keys().collect();
    assert_eq!(
        columns,
        [
            "amount",
            "day",
            "event_time",
            "ok",
            "price",
            "qty",
            "ticker"
        ],
        "the table's columns only: no partition key, no extra field"
    );
    let amzn = &rows[0];
    assert_eq!(amzn["price"], Field::Double(12.5));
    assert_eq!(amzn["qty"], Field::Int(3));
    assert_eq!(amzn["ok"], Field::Bool(true));
    assert_eq!(
        amzn["event_time"],
        Field::TimestampMillis(1_767_323_045_000)
    );
    assert_eq!(amzn["day"], Field::Date(20_455));
    match &amzn["amount"] {
        Field::Decimal(d) => assert_eq!(d.data(), &1999i64.to_be_bytes()[3..]),
        other => panic!("{other:?}"),
    }
    let msft = &rows[2];
    assert_eq!(
        msft["price"],
        Field::Double(7.25),
        "case-insensitive keys, numbers in strings"
    );
    assert_eq!(
        msft["event_time"],
        Field::TimestampMillis(1_767_225_600_000),
        "epoch seconds"
    );
    assert_eq!(rows[1]["price"], Field::Null);
    assert_eq!(rows[3]["ok"], Field::Bool(false));

    errors.sort_by_key(|e| e["sequenceNumber"].as_str().unwrap_or("").to_owned());
    assert_eq!(errors.len(), 2);
    let raw: Vec<String> = errors
        .iter()
        .map(|e| {
            assert_eq!(e["ErrorCode"], "DataFormatConversion.MalformedData");
            assert!(e["ErrorMessage"].as_str().unwrap().len() > 10, "{e}");
            assert!(e["arrivalTimestamp"].as_i64().unwrap() > 0);
            assert!(!e["sequenceNumber"].as_str().unwrap().is_empty());
            assert_eq!(e["subSequenceNumber"], 0);
            assert_eq!(e["dataCatalogTable"]["databaseName"], database);
            assert_eq!(e["dataCatalogTable"]["tableName"], "trades");
            assert_eq!(e["dataCatalogTable"]["versionId"], "LATEST");
            String::from_utf8(
                base64::engine::general_purpose::STANDARD
                    .decode(e["rawData"].as_str().unwrap())
                    .unwrap(),
            )
            .unwrap()
        })
        .collect();
    let mut raw_sorted = raw.clone();
    raw_sorted.sort();
    let mut bad_sorted: Vec<String> = bad.iter().map(|s| (*s).to_owned()).collect();
    bad_sorted.sort();
    assert_eq!(raw_sorted, bad_sorted, "the failed records as they were");
    assert!(
        errors
            .iter()
            .any(|e| e["ErrorMessage"].as_str().unwrap().contains("column qty")),
        "{errors:?}"
    );

    // pyarrow reads the same rows.
    let from_python: Vec<Value> = python_decode(dir.path())
        .values()
        .flat_map(|t| {
            t.lines()
                .map(|l| serde_json::from_str::<Value>(l).unwrap())
                .collect::<Vec<_>>()
        })
        .collect();
    let mut by_ticker: BTreeMap<String, Value> = from_python
        .into_iter()
        .map(|v| (v["ticker"].as_str().unwrap().to_owned(), v))
        .collect();
    assert_eq!(by_ticker.len(), 4);
    let amzn = by_ticker.remove("AMZN").unwrap();
    assert_eq!(amzn["price"], 12.5);
    assert_eq!(amzn["qty"], 3);
    assert_eq!(amzn["ok"], true);
    assert_eq!(amzn["amount"], "19.99");
    assert_eq!(amzn["day"], "2026-01-02");
    assert!(
        amzn["event_time"]
            .as_str()
            .unwrap()
            .starts_with("2026-01-02 03:04:05"),
        "{amzn}"
    );
    assert_eq!(by_ticker["INTC"]["price"], Value::Null);
}
