//! Parquet writing: rows → one Parquet file (one row group).

use std::sync::Arc;

use parquet::column::writer::ColumnWriter;
use parquet::data_type::{ByteArray, FixedLenByteArray, Int96};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;

use super::{Cell, Converter, ParquetCompression, Row};
use crate::error::ConvertError;

impl Converter {
    /// A Parquet file of `rows` (one row group) with the configured compression.
    ///
    /// # Errors
    /// A message from the Parquet writer.
    pub fn write(&self, rows: &[Row]) -> Result<Vec<u8>, ConvertError> {
        let compression = match self.compression {
            ParquetCompression::Snappy => parquet::basic::Compression::SNAPPY,
            ParquetCompression::Gzip => parquet::basic::Compression::GZIP(Default::default()),
            ParquetCompression::Uncompressed => parquet::basic::Compression::UNCOMPRESSED,
        };
        let props = WriterProperties::builder()
            .set_compression(compression)
            .set_created_by("kstream local (Firehose record format conversion)".to_owned())
            .build();
        let err = |e: parquet::errors::ParquetError| ConvertError::Parquet(e.to_string());
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
}

/// INT96 as Hive writes it: nanoseconds of the day (little-endian `i64`), then the Julian day.
pub(super) fn int96(nanos: i64) -> Int96 {
    const DAY: i64 = 86_400_000_000_000;
    const JULIAN_EPOCH: i64 = 2_440_588;
    let day = nanos.div_euclid(DAY) + JULIAN_EPOCH;
    let of_day = nanos.rem_euclid(DAY) as u64;
    let mut v = Int96::new();
    v.set_data(of_day as u32, (of_day >> 32) as u32, day as u32);
    v
}
