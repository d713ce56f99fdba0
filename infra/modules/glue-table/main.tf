# A Glue database and an external table over Firehose output, with partition projection:
# Athena computes the partitions from the projection ranges and storage.location.template, so no
# crawler and no MSCK REPAIR TABLE is needed when new hourly folders appear.

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  database_name = coalesce(var.database_name, replace(var.name_prefix, "-", "_"))
  location      = "s3://${var.bucket_name}/${var.location_prefix}"
  # s3://bucket/data/year=${year}/month=${month}/day=${day}/hour=${hour}/
  location_template = "${local.location}${join("", [for k in var.partition_keys : "${k.name}=$${${k.name}}/"])}"

  projection_parameters = merge([
    for k in var.partition_keys : { for p, v in k.projection : "projection.${k.name}.${p}" => v }
  ]...)

  formats = {
    json = {
      classification = "json"
      input_format   = "org.apache.hadoop.mapred.TextInputFormat"
      output_format  = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"
      serde          = "org.openx.data.jsonserde.JsonSerDe"
      # Malformed lines are skipped instead of failing the query; dotted keys (a.b.c from the
      # transform's flattening) are mapped to columns with '.' turned into '_'.
      serde_parameters = {
        "ignore.malformed.json" = "true"
        "dots.in.keys"          = "true"
      }
    }
    parquet = {
      classification   = "parquet"
      input_format     = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
      output_format    = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"
      serde            = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
      serde_parameters = { "serialization.format" = "1" }
    }
  }
  format = local.formats[var.format]
}

resource "aws_glue_catalog_database" "this" {
  count = var.create_database ? 1 : 0

  name        = local.database_name
  description = "kstream: Firehose output in s3://${var.bucket_name}/${var.location_prefix}"
  tags        = var.tags
}

resource "aws_glue_catalog_table" "this" {
  name          = var.table_name
  database_name = var.create_database ? aws_glue_catalog_database.this[0].name : local.database_name
  description   = "Records delivered by Firehose to ${local.location} (partition projection, no crawler)"
  table_type    = "EXTERNAL_TABLE"

  parameters = merge(
    {
      EXTERNAL                    = "TRUE"
      classification              = local.format.classification
      "projection.enabled"        = "true"
      "storage.location.template" = local.location_template
    },
    local.projection_parameters,
  )

  dynamic "partition_keys" {
    for_each = var.partition_keys
    content {
      name = partition_keys.value.name
      type = partition_keys.value.type
    }
  }

  storage_descriptor {
    location      = local.location
    input_format  = local.format.input_format
    output_format = local.format.output_format

    ser_de_info {
      name                  = "${var.table_name}-serde"
      serialization_library = local.format.serde
      parameters            = local.format.serde_parameters
    }

    dynamic "columns" {
      for_each = var.columns
      content {
        name    = columns.value.name
        type    = columns.value.type
        comment = columns.value.comment
      }
    }
  }

  lifecycle {
    precondition {
      condition     = var.create_database || var.database_name != null
      error_message = "database_name must be set when create_database is false (the table needs an existing database)."
    }
    precondition {
      condition     = length(setintersection([for c in var.columns : c.name], [for k in var.partition_keys : k.name])) == 0
      error_message = "a partition key may not also be a column: rename the column or the partition key."
    }
  }
}
