//! Tests of the record format conversion.

use chrono::{DateTime, NaiveDate};

use super::json::decimal;
use super::writer::int96;
use super::*;
use parquet::file::reader::{FileReader as _, SerializedFileReader};
use parquet::record::Field;

fn table() -> SchemaTable {
    SchemaTable {
        catalog_id: "123456789012".into(),
        database: "db".into(),
        table: "t".into(),
        region: "us-east-1".into(),
        version_id: "LATEST".into(),
    }
}

fn converter(cols: &[(&str, &str)], d: Deserializer, c: ParquetCompression) -> Converter {
    let columns = cols
        .iter()
        .map(|(n, t)| Column::new(n, t).unwrap())
        .collect();
    Converter::new(columns, d, c, table()).unwrap()
}

/// Reads a Parquet file back with the crate's record reader: (column name, field) per row.
fn read(bytes: Vec<u8>) -> Vec<Vec<(String, Field)>> {
    let reader = SerializedFileReader::new(bytes::Bytes::from(bytes)).unwrap();
    reader
        .get_row_iter(None)
        .unwrap()
        .map(|r| r.unwrap().into_columns())
        .collect()
}

#[test]
fn types_of_the_glue_table() {
    for (t, k) in [
        ("string", ColumnType::String),
        ("varchar(10)", ColumnType::String),
        ("CHAR(3)", ColumnType::String),
        ("int", ColumnType::Int),
        ("bigint", ColumnType::BigInt),
        ("double", ColumnType::Double),
        ("float", ColumnType::Float),
        ("boolean", ColumnType::Boolean),
        ("timestamp", ColumnType::Timestamp),
        ("date", ColumnType::Date),
        (
            "decimal(10, 2)",
            ColumnType::Decimal {
                precision: 10,
                scale: 2,
            },
        ),
        (
            "decimal",
            ColumnType::Decimal {
                precision: 10,
                scale: 0,
            },
        ),
    ] {
        assert_eq!(ColumnType::parse(t), Ok(k), "{t}");
    }
    for t in [
        "array<string>",
        "struct<a:int>",
        "map<string,int>",
        "binary",
        "decimal(39,2)",
        "decimal(5,6)",
    ] {
        assert!(ColumnType::parse(t).is_err(), "{t}");
    }
    let err = Column::new("tags", "array<string>")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("column tags") && err.contains("array<string>"),
        "{err}"
    );
    // Hive's byte widths for decimals.
    let widths: Vec<usize> = [1, 2, 4, 9, 10, 18, 19, 38]
        .iter()
        .map(|p| ColumnType::decimal_width(*p))
        .collect();
    assert_eq!(widths, [1, 1, 2, 4, 5, 8, 9, 16]);
}

#[test]
fn the_pattern_table_round_trips_with_every_compression() {
    for c in [
        ParquetCompression::Snappy,
        ParquetCompression::Gzip,
        ParquetCompression::Uncompressed,
    ] {
        let conv = converter(
            &[
                ("ticker", "string"),
                ("price", "double"),
                ("event_time", "string"),
            ],
            Deserializer::default(),
            c,
        );
        let mut rows = conv
            .rows(
                br#"{"Ticker":"AMZN","price":12.5,"event_time":"2026-01-02T03:04:05Z","extra":1}"#,
            )
            .unwrap();
        rows.extend(
            conv.rows(br#"{"ticker":"MSFT"}{"ticker":"INTC","price":"7"}"#)
                .unwrap(),
        );
        let file = conv.write(&rows).unwrap();
        assert_eq!(&file[..4], b"PAR1");
        assert_eq!(&file[file.len() - 4..], b"PAR1");
        let meta = SerializedFileReader::new(bytes::Bytes::from(file.clone()))
            .unwrap()
            .metadata()
            .clone();
        let codec = meta.row_group(0).column(0).compression();
        let expected = match c {
            ParquetCompression::Snappy => parquet::basic::Compression::SNAPPY,
            ParquetCompression::Gzip => parquet::basic::Compression::GZIP(Default::default()),
            ParquetCompression::Uncompressed => parquet::basic::Compression::UNCOMPRESSED,
        };
        assert_eq!(
            format!("{codec:?}").split('(').next(),
            format!("{expected:?}").split('(').next()
        );
        let back = read(file);
        assert_eq!(back.len(), 3);
        assert_eq!(
            back[0],
            [
                ("ticker".to_owned(), Field::Str("AMZN".into())),
                ("price".to_owned(), Field::Double(12.5)),
                (
                    "event_time".to_owned(),
                    Field::Str("2026-01-02T03:04:05Z".into())
                ),
            ]
        );
        assert_eq!(back[1][1], ("price".to_owned(), Field::Null));
        assert_eq!(back[2][1], ("price".to_owned(), Field::Double(7.0)));
    }
}

#[test]
fn every_type_converts() {
    let conv = converter(
        &[
            ("s", "string"),
            ("t", "tinyint"),
            ("sm", "smallint"),
            ("i", "int"),
            ("b", "bigint"),
            ("f", "float"),
            ("d", "double"),
            ("ok", "boolean"),
            ("ts", "timestamp"),
            ("day", "date"),
            ("amount", "decimal(10,2)"),
        ],
        Deserializer::default(),
        ParquetCompression::Snappy,
    );
    let rows = conv
        .rows(
            br#"{"s":42,"t":-8,"sm":"300","i":70000,"b":9007199254740993,"f":1.5,"d":"2.25",
                "ok":"TRUE","ts":"2026-03-04 05:06:07.5","day":"2026-03-04","amount":"-12.345"}
               {"ts":1767225600,"amount":7}{"ts":1767225600123}{"ts":"2026-01-01T00:00:00.25Z"}"#,
        )
        .unwrap();
    assert_eq!(rows.len(), 4);
    let back = read(conv.write(&rows).unwrap());
    let row: BTreeMap<String, Field> = back[0].iter().cloned().collect();
    assert_eq!(
        row["s"],
        Field::Str("42".into()),
        "scalars to a string column as their JSON text"
    );
    assert_eq!(row["t"], Field::Byte(-8));
    assert_eq!(row["sm"], Field::Short(300));
    assert_eq!(row["i"], Field::Int(70000));
    assert_eq!(row["b"], Field::Long(9_007_199_254_740_993));
    assert_eq!(row["f"], Field::Float(1.5));
    assert_eq!(row["d"], Field::Double(2.25));
    assert_eq!(row["ok"], Field::Bool(true));
    let ts = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().timestamp_millis();
    assert_eq!(
        row["ts"],
        Field::TimestampMillis(ts("2026-03-04T05:06:07.5Z"))
    );
    assert_eq!(
        row["day"],
        Field::Date(
            (NaiveDate::from_ymd_opt(2026, 3, 4).unwrap() - NaiveDate::default()).num_days() as i32
        )
    );
    match &row["amount"] {
        Field::Decimal(d) => {
            assert_eq!((d.precision(), d.scale()), (10, 2));
            assert_eq!(
                d.data(),
                &(-1235i64).to_be_bytes()[3..],
                "rounded half up, 5 bytes wide"
            );
        }
        other => panic!("{other:?}"),
    }
    let ts_of = |i: usize| back[i].iter().find(|(n, _)| n == "ts").unwrap().1.clone();
    assert_eq!(
        ts_of(1),
        Field::TimestampMillis(1_767_225_600_000),
        "epoch seconds"
    );
    assert_eq!(
        ts_of(2),
        Field::TimestampMillis(1_767_225_600_123),
        "epoch milliseconds"
    );
    assert_eq!(
        ts_of(3),
        Field::TimestampMillis(1_767_225_600_250),
        "ISO 8601 with Z"
    );
}

#[test]
fn the_decimal_layout_is_big_endian_twos_complement() {
    assert_eq!(decimal("12.345", 10, 2), Ok(1235));
    assert_eq!(decimal("-0.005", 10, 2), Ok(-1));
    assert_eq!(decimal("7", 10, 2), Ok(700));
    assert_eq!(decimal("1.5e2", 10, 0), Ok(150));
    assert_eq!(decimal("0.001", 5, 3), Ok(1));
    assert!(
        decimal("123456789.1", 10, 2).is_err(),
        "9 integer digits > 8"
    );
    assert!(decimal("abc", 10, 2).is_err());
    assert!(decimal("", 10, 2).is_err());
}

#[test]
fn openx_key_rules() {
    let mut mappings = BTreeMap::new();
    mappings.insert("ts".to_owned(), "event.time".to_owned());
    let conv = converter(
        &[("ticker", "string"), ("ts", "string"), ("a_b", "int")],
        Deserializer::OpenX {
            case_insensitive: true,
            dots_to_underscores: true,
            key_mappings: mappings,
        },
        ParquetCompression::Uncompressed,
    );
    let rows = conv
        .rows(br#"{"TICKER":"x","event.time":"t1","A.B":3}"#)
        .unwrap();
    let back = read(conv.write(&rows).unwrap());
    let values: Vec<Field> = back[0].iter().map(|(_, f)| f.clone()).collect();
    // The mapping names the JSON key as written ("event.time"), which dots turn into event_time.
    assert_eq!(
        values,
        [
            Field::Str("x".into()),
            Field::Str("t1".into()),
            Field::Int(3)
        ]
    );

    let strict = converter(
        &[("ticker", "string")],
        Deserializer::OpenX {
            case_insensitive: false,
            dots_to_underscores: false,
            key_mappings: BTreeMap::new(),
        },
        ParquetCompression::Uncompressed,
    );
    let back = read(
        strict
            .write(&strict.rows(br#"{"Ticker":"x"}"#).unwrap())
            .unwrap(),
    );
    assert_eq!(
        back[0][0].1,
        Field::Null,
        "case-sensitive: Ticker is not ticker"
    );
}

#[test]
fn records_that_cannot_be_converted_say_why() {
    let conv = converter(
        &[("n", "int"), ("ok", "boolean"), ("ts", "timestamp")],
        Deserializer::default(),
        ParquetCompression::Snappy,
    );
    for (record, why) in [
        (&b"not json"[..], "not valid JSON"),
        (b"[{\"n\":1}]", "expected a JSON object, found array"),
        (b"   ", "no JSON object"),
        (b"{\"n\":\"ten\"}", "column n (int)"),
        (b"{\"n\":1.5}", "column n (int)"),
        (b"{\"n\":3000000000}", "out of range"),
        (b"{\"ok\":\"yes\"}", "column ok (boolean)"),
        (b"{\"ts\":\"tomorrow\"}", "column ts (timestamp)"),
        (b"{\"n\":1}{\"n\":\"x\"}", "column n"),
    ] {
        let err = conv.rows(record).unwrap_err().to_string();
        assert!(
            err.contains(why),
            "{}: {err}",
            String::from_utf8_lossy(record)
        );
    }
    let doc = conv.error_record(b"not json", "why", 5, "4959", 2, "aws");
    let keys: Vec<&String> = doc.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "ErrorCode",
            "ErrorMessage",
            "arrivalTimestamp",
            "attemptEndingTimestamp",
            "attemptsMade",
            "dataCatalogTable",
            "rawData",
            "sequenceNumber",
            "subSequenceNumber"
        ]
    );
    assert_eq!(doc["rawData"], "bm90IGpzb24=");
    assert_eq!(
        doc["dataCatalogTable"]["catalogArn"],
        "arn:aws:glue:us-east-1:123456789012:catalog"
    );
    assert_eq!(doc["dataCatalogTable"]["tableName"], "t");
}

#[test]
fn hive_json_serde_timestamps() {
    let conv = converter(
        &[("ts", "timestamp")],
        Deserializer::Hive {
            timestamp_formats: vec!["millis".into(), "dd/MM/yyyy HH:mm:ss".into()],
        },
        ParquetCompression::Snappy,
    );
    let rows = conv
        .rows(br#"{"TS":"1767225600123"}{"ts":"02/01/2026 03:04:05"}"#)
        .unwrap();
    let back = read(conv.write(&rows).unwrap());
    assert_eq!(back[0][0].1, Field::TimestampMillis(1_767_225_600_123));
    let t = DateTime::parse_from_rfc3339("2026-01-02T03:04:05Z").unwrap();
    assert_eq!(back[1][0].1, Field::TimestampMillis(t.timestamp_millis()));
    let default = converter(
        &[("ts", "timestamp")],
        Deserializer::Hive {
            timestamp_formats: vec![],
        },
        ParquetCompression::Snappy,
    );
    assert!(default.rows(br#"{"ts":"2026-01-02 03:04:05"}"#).is_ok());
    assert!(
        default.rows(br#"{"ts":1767225600}"#).is_err(),
        "Timestamp::valueOf takes no epoch"
    );
}

#[test]
fn int96_is_nanos_of_day_then_julian_day() {
    let v = int96(1_000_000_000 * 86_400 + 5);
    assert_eq!(v.data(), [5, 0, 2_440_589]);
    let v = int96(-1);
    assert_eq!(v.to_nanos(), -1);
}
