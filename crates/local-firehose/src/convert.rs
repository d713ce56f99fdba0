//! Record format conversion (`DataFormatConversionConfiguration`): JSON records → Apache
//! Parquet, with the columns of the Glue table the configuration names.
//!
//! What Firehose documents
//! (<https://docs.aws.amazon.com/firehose/latest/dev/record-format-conversion.html>,
//! `record-format-conversion-error-handling.html`, the `OpenXJsonSerDe`, `HiveJsonSerDe` and
//! `ParquetSerDe` API types) and kstream local does:
//!
//! - the schema is the table's `StorageDescriptor.Columns` (partition keys live in the S3 prefix,
//!   not in the file); a record may hold several JSON objects back to back (`{"a":1}{"a":2}`,
//!   one row each), never a JSON array; keys absent from the record give nulls and keys absent
//!   from the schema are left out;
//! - OpenX JSON SerDe: keys match columns case-insensitively (`CaseInsensitive`, default true),
//!   `ColumnToJsonKeyMappings` renames, `ConvertDotsInJsonKeysToUnderscores` (default false);
//!   numbers and booleans given as JSON strings are parsed, scalars given to a `string` column are
//!   written as their JSON text; timestamps as `yyyy-MM-dd'T'HH:mm:ss[.S…]Z`,
//!   `yyyy-[M]M-[d]d HH:mm:ss[.S…]`, epoch seconds, epoch milliseconds or fractional epoch seconds;
//! - Hive JSON SerDe: keys are matched case-insensitively; timestamps with
//!   `java.sql.Timestamp::valueOf`'s format by default, or the `TimestampFormats` given (`millis`,
//!   or Joda patterns built from `yyyy MM dd HH mm ss SSS`, literals and `'T'`);
//! - `ParquetSerDe` `Compression`: `SNAPPY` (the default), `GZIP` or `UNCOMPRESSED`; objects get
//!   the `.parquet` extension and no S3 compression (Firehose requires `UNCOMPRESSED` with
//!   conversion);
//! - a record that cannot be converted goes to the error output as `format-conversion-failed`
//!   with the documented fields (`ErrorCode`, `ErrorMessage`, `sequenceNumber`,
//!   `dataCatalogTable`, ...): [`Converter::error_record`]. (Older copies of that page name the
//!   code and message `lastErrorCode`/`lastErrorMessage`; the current one, followed here, has
//!   `ErrorCode`/`ErrorMessage`. The `ErrorCode` value, `DataFormatConversion.MalformedData`, is
//!   kstream local's: the page gives none.)
//!
//! Types (Hive's `ParquetHiveSerDe` layout, every column optional): `string`, `varchar(n)`,
//! `char(n)` → `BYTE_ARRAY` UTF8; `tinyint`/`smallint`/`int` → `INT32` (8/16/32-bit); `bigint` →
//! `INT64`; `float` → `FLOAT`; `double` → `DOUBLE`; `boolean` → `BOOLEAN`; `timestamp` → `INT96`
//! (Hive's and Athena's timestamp encoding); `date` → `INT32` DATE; `decimal(p,s)` →
//! `FIXED_LEN_BYTE_ARRAY` DECIMAL of the smallest width for `p` (a value with more integer
//! digits than `p - s` fails the record; extra fraction digits are rounded half up, as
//! `HiveDecimal` does). `binary`, `array<…>`, `map<…>`, `struct<…>` and `uniontype` are refused
//! when the delivery starts, with the column named; so is ORC output.

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use parquet::basic::{LogicalType, Repetition, Type as PhysicalType};
use parquet::column::writer::ColumnWriter;
use parquet::data_type::{ByteArray, FixedLenByteArray, Int96};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::Type;
use serde_json::{Map, Value, json};

/// The error output type of records that could not be converted.
pub const ERROR_OUTPUT_TYPE: &str = "format-conversion-failed";

/// The `ErrorCode` of a record that could not be converted.
pub const ERROR_CODE: &str = "DataFormatConversion.MalformedData";

/// A column type of the Glue table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    /// `string`, `varchar(n)`, `char(n)`.
    String,
    /// `tinyint`.
    TinyInt,
    /// `smallint`.
    SmallInt,
    /// `int`, `integer`.
    Int,
    /// `bigint`.
    BigInt,
    /// `float`.
    Float,
    /// `double`.
    Double,
    /// `boolean`.
    Boolean,
    /// `timestamp`.
    Timestamp,
    /// `date`.
    Date,
    /// `decimal(precision, scale)` (`decimal` alone is `decimal(10,0)`, as in Hive).
    Decimal {
        /// Digits in all, 1 to 38.
        precision: u8,
        /// Digits after the point, 0 to `precision`.
        scale: u8,
    },
}

impl ColumnType {
    /// Parses a Glue (Hive) column type.
    ///
    /// # Errors
    /// A message for the types kstream local does not convert.
    pub fn parse(glue: &str) -> Result<Self, String> {
        let t = glue.trim().to_ascii_lowercase();
        let base = t.split('(').next().unwrap_or("").trim();
        Ok(match base {
            "string" | "varchar" | "char" => Self::String,
            "tinyint" => Self::TinyInt,
            "smallint" => Self::SmallInt,
            "int" | "integer" => Self::Int,
            "bigint" => Self::BigInt,
            "float" => Self::Float,
            "double" => Self::Double,
            "boolean" => Self::Boolean,
            "timestamp" => Self::Timestamp,
            "date" => Self::Date,
            "decimal" => {
                let args = t
                    .strip_prefix("decimal")
                    .map(str::trim)
                    .filter(|a| !a.is_empty());
                let (precision, scale) = match args {
                    None => (10, 0),
                    Some(a) => {
                        let inner = a
                            .strip_prefix('(')
                            .and_then(|a| a.strip_suffix(')'))
                            .ok_or_else(|| format!("type {glue:?}: expected decimal(p,s)"))?;
                        let mut parts = inner.split(',').map(|p| p.trim().parse::<u8>());
                        match (parts.next(), parts.next(), parts.next()) {
                            (Some(Ok(p)), None, None) => (p, 0),
                            (Some(Ok(p)), Some(Ok(s)), None) => (p, s),
                            _ => return Err(format!("type {glue:?}: expected decimal(p,s)")),
                        }
                    }
                };
                if !(1..=38).contains(&precision) || scale > precision {
                    return Err(format!(
                        "type {glue:?}: precision must be 1 to 38 and scale 0 to the precision"
                    ));
                }
                Self::Decimal { precision, scale }
            }
            _ => {
                return Err(format!(
                    "type {glue:?} is not converted by kstream local (string, varchar, char, tinyint, smallint, int, bigint, float, double, boolean, timestamp, date and decimal are)"
                ));
            }
        })
    }

    /// Bytes of a decimal of `precision` digits (Hive's table: the smallest two's complement
    /// width that holds `10^precision - 1`).
    fn decimal_width(precision: u8) -> usize {
        let max = 10f64.powi(i32::from(precision));
        (1..=16)
            .find(|n| 2f64.powi(8 * n - 1) > max)
            .map_or(16, |n| n as usize)
    }

    fn parquet_type(self, name: &str) -> parquet::errors::Result<Type> {
        let (physical, logical, length) = match self {
            Self::String => (PhysicalType::BYTE_ARRAY, Some(LogicalType::String), -1),
            Self::TinyInt => (PhysicalType::INT32, Some(LogicalType::integer(8, true)), -1),
            Self::SmallInt => (
                PhysicalType::INT32,
                Some(LogicalType::integer(16, true)),
                -1,
            ),
            Self::Int => (PhysicalType::INT32, None, -1),
            Self::BigInt => (PhysicalType::INT64, None, -1),
            Self::Float => (PhysicalType::FLOAT, None, -1),
            Self::Double => (PhysicalType::DOUBLE, None, -1),
            Self::Boolean => (PhysicalType::BOOLEAN, None, -1),
            Self::Timestamp => (PhysicalType::INT96, None, -1),
            Self::Date => (PhysicalType::INT32, Some(LogicalType::Date), -1),
            Self::Decimal { precision, scale } => (
                PhysicalType::FIXED_LEN_BYTE_ARRAY,
                Some(LogicalType::decimal(i32::from(scale), i32::from(precision))),
                Self::decimal_width(precision) as i32,
            ),
        };
        let mut b = Type::primitive_type_builder(name, physical)
            .with_repetition(Repetition::OPTIONAL)
            .with_logical_type(logical)
            .with_length(length);
        if let Self::Decimal { precision, scale } = self {
            b = b
                .with_precision(i32::from(precision))
                .with_scale(i32::from(scale));
        }
        b.build()
    }
}

/// A column of the Glue table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// Column name (Glue stores them lowercase).
    pub name: String,
    /// Column type.
    pub kind: ColumnType,
}

impl Column {
    /// A column from its Glue name and type.
    ///
    /// # Errors
    /// A message naming the column for a type kstream local does not convert.
    pub fn new(name: &str, glue_type: &str) -> Result<Self, String> {
        Ok(Self {
            name: name.to_owned(),
            kind: ColumnType::parse(glue_type).map_err(|e| format!("column {name}: {e}"))?,
        })
    }
}

/// How JSON records are read (`InputFormatConfiguration.Deserializer`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Deserializer {
    /// `OpenXJsonSerDe` (the pattern's).
    OpenX {
        /// `CaseInsensitive` (default true).
        case_insensitive: bool,
        /// `ConvertDotsInJsonKeysToUnderscores` (default false).
        dots_to_underscores: bool,
        /// `ColumnToJsonKeyMappings`: column name → JSON key.
        key_mappings: BTreeMap<String, String>,
    },
    /// `HiveJsonSerDe`.
    Hive {
        /// `TimestampFormats` (Joda patterns or `millis`); empty: `Timestamp::valueOf`.
        timestamp_formats: Vec<String>,
    },
}

impl Default for Deserializer {
    fn default() -> Self {
        Self::OpenX {
            case_insensitive: true,
            dots_to_underscores: false,
            key_mappings: BTreeMap::new(),
        }
    }
}

/// Compression inside the Parquet files (`ParquetSerDe.Compression`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ParquetCompression {
    /// `SNAPPY` (the default).
    #[default]
    Snappy,
    /// `GZIP`.
    Gzip,
    /// `UNCOMPRESSED`.
    Uncompressed,
}

/// The Glue table a delivery stream reads its schema from (`SchemaConfiguration`), as the error
/// records name it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SchemaTable {
    /// `CatalogId` (the account).
    pub catalog_id: String,
    /// `DatabaseName`.
    pub database: String,
    /// `TableName`.
    pub table: String,
    /// `Region`.
    pub region: String,
    /// `VersionId` (`LATEST` by default).
    pub version_id: String,
}

/// One value of a row.
#[derive(Debug, Clone, PartialEq)]
enum Cell {
    Bytes(Vec<u8>),
    I32(i32),
    I64(i64),
    F32(f32),
    F64(f64),
    Bool(bool),
    /// Nanoseconds since the epoch.
    Timestamp(i64),
}

/// One converted JSON object: a cell (or null) per column.
#[derive(Debug, Clone, PartialEq)]
pub struct Row(Vec<Option<Cell>>);

/// Converts records to rows and rows to Parquet files, for one delivery stream.
#[derive(Debug)]
pub struct Converter {
    columns: Vec<Column>,
    deserializer: Deserializer,
    compression: ParquetCompression,
    table: SchemaTable,
    schema: Arc<Type>,
}

impl Converter {
    /// A converter for `columns` (in table order).
    ///
    /// # Errors
    /// A message when the table has no columns or the Parquet schema cannot be built.
    pub fn new(
        columns: Vec<Column>,
        deserializer: Deserializer,
        compression: ParquetCompression,
        table: SchemaTable,
    ) -> Result<Self, String> {
        if columns.is_empty() {
            return Err(format!(
                "Glue table {}.{} has no columns to convert records to",
                table.database, table.table
            ));
        }
        let fields = columns
            .iter()
            .map(|c| c.kind.parquet_type(&c.name).map(Arc::new))
            .collect::<parquet::errors::Result<Vec<_>>>()
            .map_err(|e| format!("Parquet schema: {e}"))?;
        let schema = Type::group_type_builder("hive_schema")
            .with_fields(fields)
            .build()
            .map_err(|e| format!("Parquet schema: {e}"))?;
        Ok(Self {
            columns,
            deserializer,
            compression,
            table,
            schema: Arc::new(schema),
        })
    }

    /// The columns, in table order.
    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    /// The Glue table the schema came from.
    pub fn table(&self) -> &SchemaTable {
        &self.table
    }

    /// The rows of one record (one per JSON object in it).
    ///
    /// # Errors
    /// Why the record cannot be converted: not JSON, not an object, or a value that does not
    /// fit its column.
    pub fn rows(&self, record: &[u8]) -> Result<Vec<Row>, String> {
        let mut rows = Vec::new();
        for doc in serde_json::Deserializer::from_slice(record).into_iter::<Value>() {
            let doc = doc.map_err(|e| format!("the record is not valid JSON: {e}"))?;
            let Value::Object(object) = doc else {
                return Err(format!(
                    "expected a JSON object, found {} (an array of objects is not accepted)",
                    kind_of(&doc)
                ));
            };
            rows.push(self.row(object)?);
        }
        if rows.is_empty() {
            return Err("the record holds no JSON object".to_owned());
        }
        Ok(rows)
    }

    fn row(&self, object: Map<String, Value>) -> Result<Row, String> {
        let (case_insensitive, dots, mappings) = match &self.deserializer {
            Deserializer::OpenX {
                case_insensitive,
                dots_to_underscores,
                key_mappings,
            } => (*case_insensitive, *dots_to_underscores, Some(key_mappings)),
            Deserializer::Hive { .. } => (true, false, None),
        };
        let norm = |k: &str| {
            let k = if dots {
                k.replace('.', "_")
            } else {
                k.to_owned()
            };
            if case_insensitive {
                k.to_lowercase()
            } else {
                k
            }
        };
        let mut by_key: BTreeMap<String, Value> = BTreeMap::new();
        for (k, v) in object {
            by_key.insert(norm(&k), v);
        }
        let mut cells = Vec::with_capacity(self.columns.len());
        for c in &self.columns {
            let key = mappings
                .and_then(|m| m.get(&c.name))
                .map_or_else(|| norm(&c.name), |k| norm(k));
            let cell = match by_key.get(&key) {
                None | Some(Value::Null) => None,
                Some(v) => Some(
                    self.cell(c.kind, v)
                        .map_err(|e| format!("column {} ({}): {e}", c.name, type_name(c.kind)))?,
                ),
            };
            cells.push(cell);
        }
        Ok(Row(cells))
    }

    fn cell(&self, kind: ColumnType, v: &Value) -> Result<Cell, String> {
        let text = || match v {
            Value::String(s) => Some(s.trim().to_owned()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        };
        let bad = || format!("cannot convert {} {v} to this type", kind_of(v));
        let int = |min: i64, max: i64| -> Result<i64, String> {
            let n = match v {
                Value::Number(n) => n.as_i64().ok_or_else(bad)?,
                Value::String(s) => s.trim().parse::<i64>().map_err(|_| bad())?,
                _ => return Err(bad()),
            };
            if (min..=max).contains(&n) {
                Ok(n)
            } else {
                Err(format!("{n} is out of range ({min} to {max})"))
            }
        };
        Ok(match kind {
            ColumnType::String => Cell::Bytes(match v {
                Value::String(s) => s.clone().into_bytes(),
                other => other.to_string().into_bytes(),
            }),
            ColumnType::TinyInt => Cell::I32(int(i8::MIN.into(), i8::MAX.into())? as i32),
            ColumnType::SmallInt => Cell::I32(int(i16::MIN.into(), i16::MAX.into())? as i32),
            ColumnType::Int => Cell::I32(int(i32::MIN.into(), i32::MAX.into())? as i32),
            ColumnType::BigInt => Cell::I64(int(i64::MIN, i64::MAX)?),
            ColumnType::Float | ColumnType::Double => {
                let f = match v {
                    Value::Number(n) => n.as_f64().ok_or_else(bad)?,
                    Value::String(s) => s.trim().parse::<f64>().map_err(|_| bad())?,
                    _ => return Err(bad()),
                };
                if kind == ColumnType::Float {
                    Cell::F32(f as f32)
                } else {
                    Cell::F64(f)
                }
            }
            ColumnType::Boolean => Cell::Bool(match v {
                Value::Bool(b) => *b,
                Value::String(s) if s.trim().eq_ignore_ascii_case("true") => true,
                Value::String(s) if s.trim().eq_ignore_ascii_case("false") => false,
                _ => return Err(bad()),
            }),
            ColumnType::Timestamp => {
                let t = self.timestamp(v).ok_or_else(bad)?;
                Cell::Timestamp(
                    t.timestamp_nanos_opt()
                        .ok_or_else(|| format!("{v} is out of the timestamp range"))?,
                )
            }
            ColumnType::Date => {
                let s = text().ok_or_else(bad)?;
                let d = NaiveDate::parse_from_str(&s, "%Y-%m-%d")
                    .ok()
                    .or_else(|| self.timestamp(v).map(|t| t.date_naive()))
                    .ok_or_else(bad)?;
                Cell::I32((d - NaiveDate::default()).num_days() as i32)
            }
            ColumnType::Decimal { precision, scale } => {
                let s = text().ok_or_else(bad)?;
                let unscaled = decimal(&s, precision, scale)?;
                let width = ColumnType::decimal_width(precision);
                Cell::Bytes(unscaled.to_be_bytes()[16 - width..].to_vec())
            }
        })
    }

    /// A timestamp by the deserializer's rules.
    fn timestamp(&self, v: &Value) -> Option<DateTime<Utc>> {
        match &self.deserializer {
            Deserializer::OpenX { .. } => match v {
                Value::Number(n) => epoch(n),
                Value::String(s) => {
                    let s = s.trim();
                    if let Ok(n) = s.parse::<serde_json::Number>() {
                        return epoch(&n);
                    }
                    DateTime::parse_from_rfc3339(s)
                        .ok()
                        .map(|t| t.with_timezone(&Utc))
                        .or_else(|| sql_timestamp(s))
                }
                _ => None,
            },
            Deserializer::Hive { timestamp_formats } => {
                let s = match v {
                    Value::String(s) => s.trim().to_owned(),
                    Value::Number(n) => n.to_string(),
                    _ => return None,
                };
                if timestamp_formats.is_empty() {
                    return sql_timestamp(&s);
                }
                timestamp_formats.iter().find_map(|f| {
                    if f == "millis" {
                        s.parse::<i64>()
                            .ok()
                            .and_then(DateTime::<Utc>::from_timestamp_millis)
                    } else {
                        let pattern = joda_to_chrono(f)?;
                        NaiveDateTime::parse_from_str(&s, &pattern)
                            .ok()
                            .map(|t| t.and_utc())
                            .or_else(|| {
                                NaiveDate::parse_from_str(&s, &pattern)
                                    .ok()
                                    .and_then(|d| d.and_hms_opt(0, 0, 0))
                                    .map(|t| t.and_utc())
                            })
                    }
                })
            }
        }
    }

    /// A Parquet file of `rows` (one row group) with the configured compression.
    ///
    /// # Errors
    /// A message from the Parquet writer.
    pub fn write(&self, rows: &[Row]) -> Result<Vec<u8>, String> {
        let compression = match self.compression {
            ParquetCompression::Snappy => parquet::basic::Compression::SNAPPY,
            ParquetCompression::Gzip => parquet::basic::Compression::GZIP(Default::default()),
            ParquetCompression::Uncompressed => parquet::basic::Compression::UNCOMPRESSED,
        };
        let props = WriterProperties::builder()
            .set_compression(compression)
            .set_created_by("kstream local (Firehose record format conversion)".to_owned())
            .build();
        let err = |e: parquet::errors::ParquetError| format!("Parquet writer: {e}");
        let mut writer =
            SerializedFileWriter::new(Vec::new(), Arc::clone(&self.schema), Arc::new(props))
                .map_err(err)?;
        let mut group = writer.next_row_group().map_err(err)?;
        let mut index = 0;
        while let Some(mut column) = group.next_column().map_err(err)? {
            let cells = rows.iter().map(|r| r.0.get(index).cloned().flatten());
            let defs: Vec<i16> = cells.clone().map(|c| i16::from(c.is_some())).collect();
            let present = cells.flatten();
            match column.untyped() {
                ColumnWriter::BoolColumnWriter(w) => {
                    let v: Vec<bool> = present
                        .filter_map(|c| match c {
                            Cell::Bool(b) => Some(b),
                            _ => None,
                        })
                        .collect();
                    w.write_batch(&v, Some(&defs), None).map_err(err)?;
                }
                ColumnWriter::Int32ColumnWriter(w) => {
                    let v: Vec<i32> = present
                        .filter_map(|c| match c {
                            Cell::I32(n) => Some(n),
                            _ => None,
                        })
                        .collect();
                    w.write_batch(&v, Some(&defs), None).map_err(err)?;
                }
                ColumnWriter::Int64ColumnWriter(w) => {
                    let v: Vec<i64> = present
                        .filter_map(|c| match c {
                            Cell::I64(n) => Some(n),
                            _ => None,
                        })
                        .collect();
                    w.write_batch(&v, Some(&defs), None).map_err(err)?;
                }
                ColumnWriter::Int96ColumnWriter(w) => {
                    let v: Vec<Int96> = present
                        .filter_map(|c| match c {
                            Cell::Timestamp(ns) => Some(int96(ns)),
                            _ => None,
                        })
                        .collect();
                    w.write_batch(&v, Some(&defs), None).map_err(err)?;
                }
                ColumnWriter::FloatColumnWriter(w) => {
                    let v: Vec<f32> = present
                        .filter_map(|c| match c {
                            Cell::F32(f) => Some(f),
                            _ => None,
                        })
                        .collect();
                    w.write_batch(&v, Some(&defs), None).map_err(err)?;
                }
                ColumnWriter::DoubleColumnWriter(w) => {
                    let v: Vec<f64> = present
                        .filter_map(|c| match c {
                            Cell::F64(f) => Some(f),
                            _ => None,
                        })
                        .collect();
                    w.write_batch(&v, Some(&defs), None).map_err(err)?;
                }
                ColumnWriter::ByteArrayColumnWriter(w) => {
                    let v: Vec<ByteArray> = present
                        .filter_map(|c| match c {
                            Cell::Bytes(b) => Some(ByteArray::from(b)),
                            _ => None,
                        })
                        .collect();
                    w.write_batch(&v, Some(&defs), None).map_err(err)?;
                }
                ColumnWriter::FixedLenByteArrayColumnWriter(w) => {
                    let v: Vec<FixedLenByteArray> = present
                        .filter_map(|c| match c {
                            Cell::Bytes(b) => Some(FixedLenByteArray::from(b)),
                            _ => None,
                        })
                        .collect();
                    w.write_batch(&v, Some(&defs), None).map_err(err)?;
                }
            }
            column.close().map_err(err)?;
            index += 1;
        }
        group.close().map_err(err)?;
        writer.into_inner().map_err(err)
    }

    /// The error-output document of a record that could not be converted
    /// (`record-format-conversion-error-handling.html`).
    #[allow(clippy::too_many_arguments)]
    pub fn error_record(
        &self,
        raw: &[u8],
        message: &str,
        arrival_ms: i64,
        sequence_number: &str,
        subsequence_number: u64,
        partition: &str,
    ) -> Value {
        let t = &self.table;
        json!({
            "attemptsMade": 1,
            "arrivalTimestamp": arrival_ms,
            "ErrorCode": ERROR_CODE,
            "ErrorMessage": message,
            "attemptEndingTimestamp": Utc::now().timestamp_millis(),
            "rawData": BASE64.encode(raw),
            "sequenceNumber": sequence_number,
            "subSequenceNumber": subsequence_number,
            "dataCatalogTable": {
                "catalogId": t.catalog_id,
                "databaseName": t.database,
                "tableName": t.table,
                "region": t.region,
                "versionId": t.version_id,
                "catalogArn": format!("arn:{partition}:glue:{}:{}:catalog", t.region, t.catalog_id),
            }
        })
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn type_name(kind: ColumnType) -> String {
    match kind {
        ColumnType::Decimal { precision, scale } => format!("decimal({precision},{scale})"),
        other => format!("{other:?}").to_lowercase(),
    }
}

/// INT96 as Hive writes it: nanoseconds of the day (little-endian `i64`), then the Julian day.
fn int96(nanos: i64) -> Int96 {
    const DAY: i64 = 86_400_000_000_000;
    const JULIAN_EPOCH: i64 = 2_440_588;
    let day = nanos.div_euclid(DAY) + JULIAN_EPOCH;
    let of_day = nanos.rem_euclid(DAY) as u64;
    let mut v = Int96::new();
    v.set_data(of_day as u32, (of_day >> 32) as u32, day as u32);
    v
}

/// Epoch seconds, epoch milliseconds (13 digits and more) or fractional epoch seconds.
fn epoch(n: &serde_json::Number) -> Option<DateTime<Utc>> {
    if let Some(i) = n.as_i64() {
        if i.unsigned_abs() >= 100_000_000_000 {
            DateTime::from_timestamp_millis(i)
        } else {
            DateTime::from_timestamp(i, 0)
        }
    } else {
        let f = n.as_f64()?;
        let secs = f.floor();
        DateTime::from_timestamp(secs as i64, ((f - secs) * 1e9).round() as u32)
    }
}

/// `java.sql.Timestamp::valueOf`: `yyyy-[m]m-[d]d hh:mm:ss[.f...]` (also with `T`).
fn sql_timestamp(s: &str) -> Option<DateTime<Utc>> {
    ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
        .map(|t| t.and_utc())
}

/// The simple Joda patterns (`yyyy MM dd HH mm ss SSS`, quoted literals) as chrono formats.
fn joda_to_chrono(joda: &str) -> Option<String> {
    let mut out = String::new();
    let chars: Vec<char> = joda.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let run = chars[i..].iter().take_while(|&&x| x == c).count();
        match c {
            '\'' => {
                let end = chars[i + 1..].iter().position(|&x| x == '\'')? + i + 1;
                out.extend(chars[i + 1..end].iter().map(|&x| {
                    if x == '%' {
                        "%%".to_owned()
                    } else {
                        x.to_string()
                    }
                }));
                i = end + 1;
                continue;
            }
            'y' => out.push_str(if run == 2 { "%y" } else { "%Y" }),
            'M' if run <= 2 => out.push_str("%m"),
            'd' if run <= 2 => out.push_str("%d"),
            'H' if run <= 2 => out.push_str("%H"),
            'm' if run <= 2 => out.push_str("%M"),
            's' if run <= 2 => out.push_str("%S"),
            'S' => out.push_str("%.f"),
            'Z' => out.push_str("%z"),
            c if c.is_ascii_alphabetic() => return None,
            '%' => out.push_str("%%"),
            c => out.extend(std::iter::repeat_n(c, run)),
        }
        i += run;
    }
    // "ss.SSS": chrono's %.f includes the point.
    Some(out.replace("%S.%.f", "%S%.f"))
}

/// The unscaled value of a decimal text at `scale` (half-up rounding of extra digits).
fn decimal(text: &str, precision: u8, scale: u8) -> Result<i128, String> {
    let bad = || format!("{text:?} is not a decimal number");
    let (mantissa, exp) = match text.find(['e', 'E']) {
        Some(i) => (&text[..i], text[i + 1..].parse::<i32>().map_err(|_| bad())?),
        None => (text, 0),
    };
    let (negative, digits) = match mantissa.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, mantissa.strip_prefix('+').unwrap_or(mantissa)),
    };
    let (int_part, frac_part) = digits.split_once('.').unwrap_or((digits, ""));
    if int_part.is_empty() && frac_part.is_empty()
        || !int_part
            .bytes()
            .chain(frac_part.bytes())
            .all(|b| b.is_ascii_digit())
    {
        return Err(bad());
    }
    // value = digits × 10^(point - len); unscaled = value × 10^scale = digits × 10^k.
    let all = format!("{int_part}{frac_part}");
    let k = int_part.len() as i64 + i64::from(exp) + i64::from(scale) - all.len() as i64;
    let (kept, round_up) = if k >= 0 {
        (all.as_str(), false)
    } else {
        let cut = all.len() as i64 + k;
        if cut < 0 {
            ("", false)
        } else {
            let cut = cut as usize;
            (&all[..cut], all.as_bytes()[cut] >= b'5')
        }
    };
    let mut unscaled: i128 = 0;
    for b in kept.trim_start_matches('0').bytes() {
        unscaled = unscaled
            .checked_mul(10)
            .and_then(|u| u.checked_add(i128::from(b - b'0')))
            .ok_or_else(bad)?;
    }
    if k > 0 {
        unscaled = u32::try_from(k)
            .ok()
            .and_then(|k| 10i128.checked_pow(k))
            .and_then(|m| unscaled.checked_mul(m))
            .ok_or_else(bad)?;
    }
    if round_up {
        unscaled += 1;
    }
    if unscaled >= 10i128.pow(u32::from(precision)) {
        return Err(format!(
            "{text} does not fit decimal({precision},{scale}) (at most {} digits before the point)",
            precision - scale
        ));
    }
    Ok(if negative { -unscaled } else { unscaled })
}

#[cfg(test)]
mod tests {
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
        let err = Column::new("tags", "array<string>").unwrap_err();
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
                .rows(br#"{"Ticker":"AMZN","price":12.5,"event_time":"2026-01-02T03:04:05Z","extra":1}"#)
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
                (NaiveDate::from_ymd_opt(2026, 3, 4).unwrap() - NaiveDate::default()).num_days()
                    as i32
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
            let err = conv.rows(record).unwrap_err();
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
}
