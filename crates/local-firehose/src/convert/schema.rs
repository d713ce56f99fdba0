//! The Glue table's columns and their Parquet types (Hive's `ParquetHiveSerDe` layout).

use parquet::basic::{LogicalType, Repetition, Type as PhysicalType};
use parquet::schema::types::Type;

use crate::error::ConvertError;

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
    pub fn parse(glue: &str) -> Result<Self, ConvertError> {
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
                            .ok_or_else(|| {
                                ConvertError::Type(format!("type {glue:?}: expected decimal(p,s)"))
                            })?;
                        let mut parts = inner.split(',').map(|p| p.trim().parse::<u8>());
                        match (parts.next(), parts.next(), parts.next()) {
                            (Some(Ok(p)), None, None) => (p, 0),
                            (Some(Ok(p)), Some(Ok(s)), None) => (p, s),
                            _ => {
                                return Err(ConvertError::Type(format!(
                                    "type {glue:?}: expected decimal(p,s)"
                                )));
                            }
                        }
                    }
                };
                if !(1..=38).contains(&precision) || scale > precision {
                    return Err(ConvertError::Type(format!(
                        "type {glue:?}: precision must be 1 to 38 and scale 0 to the precision"
                    )));
                }
                Self::Decimal { precision, scale }
            }
            _ => {
                return Err(ConvertError::Type(format!(
                    "type {glue:?} is not converted by kstream local (string, varchar, char, tinyint, smallint, int, bigint, float, double, boolean, timestamp, date and decimal are)"
                )));
            }
        })
    }

    /// Bytes of a decimal of `precision` digits (Hive's table: the smallest two's complement
    /// width that holds `10^precision - 1`).
    pub(super) fn decimal_width(precision: u8) -> usize {
        let max = 10f64.powi(i32::from(precision));
        (1..=16)
            .find(|n| 2f64.powi(8 * n - 1) > max)
            .map_or(16, |n| n as usize)
    }

    pub(super) fn parquet_type(self, name: &str) -> parquet::errors::Result<Type> {
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
    pub fn new(name: &str, glue_type: &str) -> Result<Self, ConvertError> {
        Ok(Self {
            name: name.to_owned(),
            kind: ColumnType::parse(glue_type).map_err(|e| ConvertError::Column {
                column: name.to_owned(),
                source: Box::new(e),
            })?,
        })
    }
}

pub(super) fn type_name(kind: ColumnType) -> String {
    match kind {
        ColumnType::Decimal { precision, scale } => format!("decimal({precision},{scale})"),
        other => format!("{other:?}").to_lowercase(),
    }
}
