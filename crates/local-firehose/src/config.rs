//! A delivery stream as deployed, read from `DescribeDeliveryStream`.

use std::time::Duration;

use std::sync::Arc;

use aws_sdk_firehose::types::{
    CompressionFormat, DataFormatConversionConfiguration, DeliveryStreamDescription,
    DeliveryStreamType, ParquetCompression as ParquetCompressionFormat, ProcessorParameterName,
    ProcessorType, S3BackupMode, S3DestinationDescription,
};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::buffer::Hints;
use super::convert::Converter;
use super::jq::Query;
use super::prefix::Prefix;
use crate::error::{Error, Result};

pub use super::compress::Compression;
use super::convert::{Deserializer, ParquetCompression, SchemaTable};

/// Record format conversion as configured (`DataFormatConversionConfiguration` enabled, with a
/// `ParquetSerDe` serializer). The columns come from the Glue table when the delivery is
/// discovered ([`super::FirehoseDelivery::discover`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conversion {
    /// The JSON deserializer.
    pub deserializer: Deserializer,
    /// Compression inside the Parquet files.
    pub compression: ParquetCompression,
    /// The Glue table of the schema.
    pub table: SchemaTable,
}

/// The transform Lambda of a delivery stream, with its processor parameters (Firehose's
/// defaults where a parameter is absent: 3 retries, 1 MB, 60 s).
#[derive(Debug, Clone, PartialEq)]
pub struct LambdaProcessor {
    /// `LambdaArn` (possibly qualified).
    pub function_arn: String,
    /// `NumberOfRetries`: further attempts after a failed invocation.
    pub retries: u32,
    /// `BufferSizeInMBs` / `BufferIntervalInSeconds`.
    pub hints: Hints,
    /// `BufferSizeInMBs` as configured.
    pub buffer_size_mb: f64,
}

/// Where the untransformed source records are kept (`S3BackupMode` `Enabled`).
#[derive(Debug, Clone)]
pub struct Backup {
    /// Backup bucket name.
    pub bucket: String,
    /// Backup prefix (timestamps in UTC: the backup's `S3DestinationConfiguration` has no
    /// `CustomTimeZone`).
    pub prefix: Prefix,
    /// Buffering hints of the backup.
    pub hints: Hints,
    /// Compression of backup objects.
    pub compression: Compression,
}

/// Everything the local delivery needs to know about one delivery stream.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct DeliveryConfig {
    /// Delivery stream name.
    pub name: String,
    /// Delivery stream ARN.
    pub arn: String,
    /// `VersionId` (part of object names).
    pub version: String,
    /// When the delivery stream was created: Firehose reads its source from then on.
    pub created: Option<DateTime<Utc>>,
    /// The region (from the ARN).
    pub region: String,
    /// The source Kinesis stream ARN.
    pub source_stream_arn: String,
    /// The destination bucket name.
    pub bucket: String,
    /// The data prefix as configured.
    pub prefix_text: String,
    /// The data prefix (in [`time_zone`](Self::time_zone)).
    pub prefix: Prefix,
    /// The error output prefix (in [`time_zone`](Self::time_zone)).
    pub error_prefix: Prefix,
    /// `FileExtension`: the extension of data objects, replacing the one the compression or
    /// format conversion gives (`.gz`, `.parquet`, ...). `None` (absent or empty): Firehose's
    /// own.
    pub file_extension: Option<String>,
    /// `CustomTimeZone` (UTC when absent or empty): the zone of the `!{timestamp:…}` values, of
    /// the default `yyyy/MM/dd/HH/` prefixes and of the time in object names.
    pub time_zone: Tz,
    /// S3 buffering hints.
    pub hints: Hints,
    /// Compression of objects.
    pub compression: Compression,
    /// The transform, if any.
    pub processor: Option<LambdaProcessor>,
    /// Dynamic partitioning on.
    pub dynamic_partitioning: bool,
    /// `MetadataExtraction` query.
    pub query: Option<Query>,
    /// `AppendDelimiterToRecord` (newline).
    pub append_newline: bool,
    /// S3 backup of the source records, when enabled.
    pub backup: Option<Backup>,
    /// Record format conversion to Parquet, when enabled.
    pub conversion: Option<Conversion>,
    /// The converter with the Glue table's columns, once loaded (by
    /// [`super::FirehoseDelivery::discover`]).
    pub converter: Option<Arc<Converter>>,
}

fn bucket_name(arn: &str) -> Option<String> {
    arn.rsplit(":::")
        .next()
        .filter(|b| !b.is_empty())
        .map(str::to_owned)
}

fn compression_of(format: &CompressionFormat) -> Result<Compression, String> {
    Compression::from_format(format)
}

/// The conversion settings, or why kstream local cannot convert as configured.
fn conversion_of(
    c: &DataFormatConversionConfiguration,
    region: &str,
    account: &str,
) -> Result<Conversion, String> {
    let serializer = c
        .output_format_configuration()
        .and_then(|o| o.serializer())
        .ok_or("record format conversion without an output serializer")?;
    if serializer.orc_ser_de().is_some() {
        return Err(
            "record format conversion to ORC is not supported by kstream local (Parquet is)"
                .to_owned(),
        );
    }
    let parquet = serializer
        .parquet_ser_de()
        .ok_or("record format conversion without a ParquetSerDe serializer")?;
    let compression = match parquet.compression() {
        None | Some(ParquetCompressionFormat::Snappy) => ParquetCompression::Snappy,
        Some(ParquetCompressionFormat::Gzip) => ParquetCompression::Gzip,
        Some(ParquetCompressionFormat::Uncompressed) => ParquetCompression::Uncompressed,
        Some(other) => {
            return Err(format!(
                "Parquet compression {} is not supported by kstream local (SNAPPY, GZIP and UNCOMPRESSED are)",
                other.as_str()
            ));
        }
    };
    let deserializer = match c
        .input_format_configuration()
        .and_then(|i| i.deserializer())
    {
        Some(d) if d.hive_json_ser_de().is_some() => Deserializer::Hive {
            timestamp_formats: d
                .hive_json_ser_de()
                .map(|h| h.timestamp_formats().to_vec())
                .unwrap_or_default(),
        },
        Some(d) => match d.open_x_json_ser_de() {
            Some(o) => Deserializer::OpenX {
                case_insensitive: o.case_insensitive().unwrap_or(true),
                dots_to_underscores: o
                    .convert_dots_in_json_keys_to_underscores()
                    .unwrap_or(false),
                key_mappings: o
                    .column_to_json_key_mappings()
                    .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                    .unwrap_or_default(),
            },
            None => Deserializer::default(),
        },
        None => Deserializer::default(),
    };
    let schema = c
        .schema_configuration()
        .ok_or("record format conversion without a SchemaConfiguration")?;
    let database = schema
        .database_name()
        .filter(|s| !s.is_empty())
        .ok_or("record format conversion without a Glue DatabaseName")?;
    let table = schema
        .table_name()
        .filter(|s| !s.is_empty())
        .ok_or("record format conversion without a Glue TableName")?;
    Ok(Conversion {
        deserializer,
        compression,
        table: SchemaTable {
            catalog_id: schema
                .catalog_id()
                .filter(|s| !s.is_empty())
                .unwrap_or(account)
                .to_owned(),
            database: database.to_owned(),
            table: table.to_owned(),
            region: schema
                .region()
                .filter(|s| !s.is_empty())
                .unwrap_or(region)
                .to_owned(),
            version_id: schema
                .version_id()
                .filter(|s| !s.is_empty())
                .unwrap_or("LATEST")
                .to_owned(),
        },
    })
}

/// `CustomTimeZone` as a zone: UTC when absent or empty, otherwise an IANA name.
fn time_zone_of(zone: Option<&str>) -> Result<Tz, String> {
    match zone {
        None | Some("") => Ok(Tz::UTC),
        Some(name) => name.parse::<Tz>().map_err(|_| {
            format!(
                "CustomTimeZone {name:?} is not a time zone of the IANA database kstream local knows (tz 2025b, e.g. UTC, Asia/Tokyo, America/New_York)"
            )
        }),
    }
}

/// `FileExtension`, checked against the API's pattern (`\.[0-9a-z!\-_.*'()]+`, at most 128
/// characters): `None` when absent or empty.
fn file_extension_of(ext: Option<&str>) -> Result<Option<String>, String> {
    match ext {
        None | Some("") => Ok(None),
        Some(e)
            if e.len() >= 2
                && e.len() <= 128
                && e.starts_with('.')
                && e.bytes().all(|b| {
                    b.is_ascii_digit() || b.is_ascii_lowercase() || b"!-_.*'()".contains(&b)
                }) =>
        {
            Ok(Some(e.to_owned()))
        }
        Some(e) => Err(format!(
            "FileExtension {e:?} is not a file extension Firehose accepts (a dot, then characters from 0-9 a-z ! - _ . * ' ( ), at most 128 in all)"
        )),
    }
}

fn hints_of(d: Option<&aws_sdk_firehose::types::BufferingHints>) -> Hints {
    let size_mb = d.and_then(|h| h.size_in_mbs()).unwrap_or(5);
    let interval = d.and_then(|h| h.interval_in_seconds()).unwrap_or(300);
    Hints::from_mb(
        f64::from(size_mb.max(1)),
        u64::try_from(interval.max(0)).unwrap_or(300),
    )
}

fn backup_of(d: &S3DestinationDescription) -> Result<Backup, String> {
    Ok(Backup {
        bucket: bucket_name(d.bucket_arn())
            .ok_or_else(|| format!("backup bucket ARN {:?} has no bucket name", d.bucket_arn()))?,
        prefix: Prefix::parse(d.prefix().unwrap_or(""), true).map_err(|e| e.to_string())?,
        hints: hints_of(d.buffering_hints()),
        compression: compression_of(d.compression_format())?,
    })
}

impl DeliveryConfig {
    /// Reads the configuration of a Kinesis-sourced, extended-S3 delivery stream.
    ///
    /// # Errors
    /// [`Error::Config`] for what kstream local cannot deliver (another source or destination,
    /// ORC conversion, unsupported prefix expressions or JQ).
    pub fn from_description(d: &DeliveryStreamDescription) -> Result<Self> {
        let name = d.delivery_stream_name().to_owned();
        let unsupported = |what: String| Error::Config(format!("delivery stream {name}: {what}"));
        if d.delivery_stream_type() != &DeliveryStreamType::KinesisStreamAsSource {
            return Err(unsupported(format!(
                "source {} is not a Kinesis stream (kstream local delivers KinesisStreamAsSource streams)",
                d.delivery_stream_type().as_str()
            )));
        }
        let source_stream_arn = d
            .source()
            .and_then(|s| s.kinesis_stream_source_description())
            .and_then(|k| k.kinesis_stream_arn())
            .ok_or_else(|| unsupported("no Kinesis source stream ARN".to_owned()))?
            .to_owned();
        let dest = d
            .destinations()
            .iter()
            .find_map(|x| x.extended_s3_destination_description())
            .ok_or_else(|| unsupported("no extended S3 destination".to_owned()))?;
        let bucket = dest
            .bucket_arn()
            .rsplit(":::")
            .next()
            .filter(|b| !b.is_empty())
            .ok_or_else(|| {
                unsupported(format!(
                    "bucket ARN {:?} has no bucket name",
                    dest.bucket_arn()
                ))
            })?
            .to_owned();
        let compression = compression_of(dest.compression_format()).map_err(unsupported)?;
        let backup = match (dest.s3_backup_mode(), dest.s3_backup_description()) {
            (Some(S3BackupMode::Enabled), Some(b)) => Some(backup_of(b).map_err(unsupported)?),
            _ => None,
        };
        let arn = d.delivery_stream_arn().to_owned();
        let region = arn.split(':').nth(3).unwrap_or("us-east-1").to_owned();
        let account = arn.split(':').nth(4).unwrap_or("").to_owned();
        let conversion = match dest.data_format_conversion_configuration() {
            // Enabled unless Enabled is false (the API's default is true); an empty structure
            // without Enabled or an output format is no configuration.
            Some(c)
                if c.enabled().unwrap_or(true)
                    && (c.enabled().is_some() || c.output_format_configuration().is_some()) =>
            {
                Some(conversion_of(c, &region, &account).map_err(unsupported)?)
            }
            _ => None,
        };
        if conversion.is_some() && compression != Compression::None {
            return Err(unsupported(format!(
                "compression {} with record format conversion: Firehose requires UNCOMPRESSED (Parquet compresses inside the file)",
                dest.compression_format().as_str()
            )));
        }
        let time_zone = time_zone_of(dest.custom_time_zone()).map_err(unsupported)?;
        let file_extension = file_extension_of(dest.file_extension()).map_err(unsupported)?;
        let dynamic_partitioning = dest
            .dynamic_partitioning_configuration()
            .and_then(|c| c.enabled())
            .unwrap_or(false);
        let prefix_text = dest.prefix().unwrap_or("").to_owned();
        let prefix = Prefix::parse(&prefix_text, !dynamic_partitioning)?.in_time_zone(time_zone);
        let error_prefix = match dest.error_output_prefix() {
            Some(p) if !p.is_empty() => Prefix::parse(p, false)?,
            _ => Prefix::default_error_under(&prefix_text),
        }
        .in_time_zone(time_zone);
        let hints = hints_of(dest.buffering_hints());

        let mut processor = None;
        let mut query = None;
        let mut append_newline = false;
        let processing_enabled = dest
            .processing_configuration()
            .and_then(|p| p.enabled())
            .unwrap_or(false);
        if processing_enabled {
            for p in dest
                .processing_configuration()
                .map(|c| c.processors())
                .unwrap_or_default()
            {
                let param = |n: ProcessorParameterName| {
                    p.parameters()
                        .iter()
                        .find(|x| x.parameter_name() == &n)
                        .map(|x| x.parameter_value().to_owned())
                };
                match p.r#type() {
                    ProcessorType::Lambda => {
                        let function_arn =
                            param(ProcessorParameterName::LambdaArn).ok_or_else(|| {
                                unsupported("Lambda processor without LambdaArn".to_owned())
                            })?;
                        let number = |n: ProcessorParameterName, default: f64| -> Result<f64> {
                            match param(n.clone()) {
                                None => Ok(default),
                                Some(v) => v.parse::<f64>().map_err(|_| {
                                    unsupported(format!(
                                        "processor parameter {} = {v:?} is not a number",
                                        n.as_str()
                                    ))
                                }),
                            }
                        };
                        let retries = number(ProcessorParameterName::LambdaNumberOfRetries, 3.0)?;
                        let size = number(ProcessorParameterName::BufferSizeInMb, 1.0)?;
                        let secs = number(ProcessorParameterName::BufferIntervalInSeconds, 60.0)?;
                        processor = Some(LambdaProcessor {
                            function_arn,
                            retries: retries.max(0.0) as u32,
                            hints: Hints {
                                size_bytes: Hints::from_mb(size, 0).size_bytes,
                                interval: Duration::from_secs_f64(secs.max(0.0)),
                            },
                            buffer_size_mb: size,
                        });
                    }
                    ProcessorType::MetadataExtraction => {
                        let q = param(ProcessorParameterName::MetadataExtractionQuery).ok_or_else(
                            || {
                                unsupported(
                                    "MetadataExtraction without MetadataExtractionQuery".to_owned(),
                                )
                            },
                        )?;
                        query = Some(Query::parse(&q)?);
                    }
                    ProcessorType::AppendDelimiterToRecord => append_newline = true,
                    other => {
                        return Err(unsupported(format!(
                            "processor {} is not supported by kstream local",
                            other.as_str()
                        )));
                    }
                }
            }
        }
        let created = d
            .create_timestamp()
            .and_then(|t| DateTime::<Utc>::from_timestamp(t.secs(), t.subsec_nanos()));
        Ok(Self {
            name,
            arn,
            version: d.version_id().to_owned(),
            created,
            region,
            source_stream_arn,
            bucket,
            prefix_text,
            prefix,
            error_prefix,
            file_extension,
            time_zone,
            hints,
            compression,
            processor,
            dynamic_partitioning,
            query,
            append_newline,
            backup,
            conversion,
            converter: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_firehose::types::{
        DataFormatConversionConfiguration as Dfc, DeliveryStreamStatus, DestinationDescription,
        ExtendedS3DestinationDescription, KinesisStreamSourceDescription, OrcSerDe,
        OutputFormatConfiguration, ParquetSerDe, SchemaConfiguration, Serializer,
        SourceDescription,
    };

    fn description(compression: CompressionFormat, dfc: Option<Dfc>) -> DeliveryStreamDescription {
        description_with(compression, dfc, None, None)
    }

    fn description_with(
        compression: CompressionFormat,
        dfc: Option<Dfc>,
        file_extension: Option<&str>,
        time_zone: Option<&str>,
    ) -> DeliveryStreamDescription {
        let dest = ExtendedS3DestinationDescription::builder()
            .role_arn("arn:aws:iam::123456789012:role/r")
            .bucket_arn("arn:aws:s3:::out")
            .compression_format(compression)
            .set_data_format_conversion_configuration(dfc)
            .set_file_extension(file_extension.map(str::to_owned))
            .set_custom_time_zone(time_zone.map(str::to_owned))
            .build()
            .unwrap();
        DeliveryStreamDescription::builder()
            .delivery_stream_name("d")
            .delivery_stream_arn("arn:aws:firehose:eu-west-1:123456789012:deliverystream/d")
            .delivery_stream_status(DeliveryStreamStatus::Active)
            .delivery_stream_type(DeliveryStreamType::KinesisStreamAsSource)
            .version_id("1")
            .source(
                SourceDescription::builder()
                    .kinesis_stream_source_description(
                        KinesisStreamSourceDescription::builder()
                            .kinesis_stream_arn("arn:aws:kinesis:eu-west-1:123456789012:stream/s")
                            .build(),
                    )
                    .build(),
            )
            .destinations(
                DestinationDescription::builder()
                    .destination_id("destinationId-000000000001")
                    .extended_s3_destination_description(dest)
                    .build()
                    .unwrap(),
            )
            .has_more_destinations(false)
            .build()
            .unwrap()
    }

    fn dfc(serializer: Serializer) -> Dfc {
        Dfc::builder()
            .enabled(true)
            .output_format_configuration(
                OutputFormatConfiguration::builder()
                    .serializer(serializer)
                    .build(),
            )
            .schema_configuration(
                SchemaConfiguration::builder()
                    .database_name("db")
                    .table_name("t")
                    .build(),
            )
            .build()
    }

    #[test]
    fn every_compression_format_is_delivered() {
        for (format, c) in [
            (CompressionFormat::Gzip, Compression::Gzip),
            (CompressionFormat::Uncompressed, Compression::None),
            (CompressionFormat::Zip, Compression::Zip),
            (CompressionFormat::Snappy, Compression::Snappy),
            (CompressionFormat::HadoopSnappy, Compression::HadoopSnappy),
        ] {
            let cfg = DeliveryConfig::from_description(&description(format, None)).unwrap();
            assert_eq!(cfg.compression, c);
            assert!(cfg.conversion.is_none());
        }
    }

    #[test]
    fn parquet_conversion_defaults_and_refusals() {
        let parquet = Serializer::builder()
            .parquet_ser_de(ParquetSerDe::builder().build())
            .build();
        let cfg = DeliveryConfig::from_description(&description(
            CompressionFormat::Uncompressed,
            Some(dfc(parquet.clone())),
        ))
        .unwrap();
        let conversion = cfg.conversion.unwrap();
        assert_eq!(
            conversion.compression,
            ParquetCompression::Snappy,
            "SNAPPY by default"
        );
        assert_eq!(
            conversion.deserializer,
            Deserializer::default(),
            "OpenX, case-insensitive"
        );
        assert_eq!(
            conversion.table,
            SchemaTable {
                catalog_id: "123456789012".into(),
                database: "db".into(),
                table: "t".into(),
                region: "eu-west-1".into(),
                version_id: "LATEST".into(),
            },
            "catalog and region default to the delivery stream's account and region"
        );

        let err = DeliveryConfig::from_description(&description(
            CompressionFormat::Gzip,
            Some(dfc(parquet)),
        ))
        .unwrap_err()
        .to_string();
        assert!(err.contains("UNCOMPRESSED"), "{err}");

        let orc = Serializer::builder()
            .orc_ser_de(OrcSerDe::builder().build())
            .build();
        let err = DeliveryConfig::from_description(&description(
            CompressionFormat::Uncompressed,
            Some(dfc(orc)),
        ))
        .unwrap_err()
        .to_string();
        assert!(err.contains("ORC is not supported"), "{err}");

        // Enabled = false: no conversion.
        let off = Dfc::builder().enabled(false).build();
        let cfg =
            DeliveryConfig::from_description(&description(CompressionFormat::Gzip, Some(off)))
                .unwrap();
        assert!(cfg.conversion.is_none());
    }

    #[test]
    fn file_extension_and_time_zone_default_to_firehose_s() {
        for (ext, zone) in [(None, None), (Some(""), Some(""))] {
            let cfg = DeliveryConfig::from_description(&description_with(
                CompressionFormat::Gzip,
                None,
                ext,
                zone,
            ))
            .unwrap();
            assert_eq!(
                cfg.file_extension, None,
                "absent or empty: the compression's"
            );
            assert_eq!(cfg.time_zone, Tz::UTC, "absent or empty: UTC");
            assert_eq!(cfg.prefix.time_zone(), Tz::UTC);
        }
    }

    #[test]
    fn file_extension_and_time_zone_are_read() {
        let cfg = DeliveryConfig::from_description(&description_with(
            CompressionFormat::Gzip,
            None,
            Some(".json.gz"),
            Some("America/New_York"),
        ))
        .unwrap();
        assert_eq!(cfg.file_extension.as_deref(), Some(".json.gz"));
        assert_eq!(cfg.compression, Compression::Gzip, "the compression stays");
        assert_eq!(cfg.time_zone, Tz::America__New_York);
        assert_eq!(cfg.prefix.time_zone(), Tz::America__New_York);
        assert_eq!(cfg.error_prefix.time_zone(), Tz::America__New_York);
        // The default data prefix (empty Prefix) evaluates in the zone: 2026-01-01 03:00 UTC
        // is 2025-12-31 22:00 in New York.
        let t = DateTime::<Utc>::from_timestamp(1_767_236_400, 0).unwrap();
        assert_eq!(
            cfg.prefix
                .evaluate(t, &super::super::prefix::PrefixValues::default())
                .unwrap(),
            "2025/12/31/22/"
        );
        let every_allowed = ".0123456789abcdefghijklmnopqrstuvwxyz!-_.*'()";
        let cfg = DeliveryConfig::from_description(&description_with(
            CompressionFormat::Uncompressed,
            None,
            Some(every_allowed),
            Some("UTC"),
        ))
        .unwrap();
        assert_eq!(cfg.file_extension.as_deref(), Some(every_allowed));
        assert_eq!(cfg.time_zone, Tz::UTC);
    }

    #[test]
    fn unknown_time_zone_and_bad_extension_name_the_stream_and_the_value() {
        let err = DeliveryConfig::from_description(&description_with(
            CompressionFormat::Gzip,
            None,
            None,
            Some("Mars/Olympus_Mons"),
        ))
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("delivery stream d") && err.contains("\"Mars/Olympus_Mons\""),
            "{err}"
        );
        for bad in ["json", ".JSON", ".", ".json/gz", "x.json"] {
            let err = DeliveryConfig::from_description(&description_with(
                CompressionFormat::Gzip,
                None,
                Some(bad),
                None,
            ))
            .unwrap_err()
            .to_string();
            assert!(
                err.contains("delivery stream d") && err.contains(&format!("{bad:?}")),
                "{bad}: {err}"
            );
        }
        let long = format!(".{}", "a".repeat(128));
        assert!(
            DeliveryConfig::from_description(&description_with(
                CompressionFormat::Gzip,
                None,
                Some(&long),
                None,
            ))
            .is_err(),
            "129 characters is over the API's 128"
        );
    }
}
