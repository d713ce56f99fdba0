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

mod json;
mod schema;
mod writer;

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::Utc;
use parquet::schema::types::Type;
use serde_json::{Value, json};

use crate::error::ConvertError;
pub use schema::{Column, ColumnType};

/// The error output type of records that could not be converted.
pub const ERROR_OUTPUT_TYPE: &str = "format-conversion-failed";

/// The `ErrorCode` of a record that could not be converted.
pub const ERROR_CODE: &str = "DataFormatConversion.MalformedData";

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
    ) -> Result<Self, ConvertError> {
        if columns.is_empty() {
            return Err(ConvertError::Schema(format!(
                "Glue table {}.{} has no columns to convert records to",
                table.database, table.table
            )));
        }
        let fields = columns
            .iter()
            .map(|c| c.kind.parquet_type(&c.name).map(Arc::new))
            .collect::<parquet::errors::Result<Vec<_>>>()
            .map_err(|e| ConvertError::Schema(format!("Parquet schema: {e}")))?;
        let schema = Type::group_type_builder("hive_schema")
            .with_fields(fields)
            .build()
            .map_err(|e| ConvertError::Schema(format!("Parquet schema: {e}")))?;
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

#[cfg(test)]
mod tests;
