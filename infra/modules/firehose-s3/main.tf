# Kinesis Data Firehose delivery stream: Kinesis data stream → (transform Lambda) → S3.
#
# Everything the reference solution's pattern 3 configures (KDS source, buffering, compression,
# Hive-style prefixes, dynamic partitioning with JQ or Lambda keys, newline delimiter) plus what it
# lacks: the transform Lambda as processor, CloudWatch error logging, S3 backup of the source
# records and Parquet conversion through a Glue table. Policies are written with jsonencode so
# `terraform test` with a mocked provider can assert on the real documents.

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.name
  partition  = data.aws_partition.current.partition

  name           = "${var.name_prefix}-delivery"
  log_group_name = "/aws/kinesisfirehose/${local.name}"

  # Firehose invokes the $LATEST version when the ARN has no qualifier; say so explicitly, as AWS
  # recommends, so the processor parameter matches what DescribeDeliveryStream returns.
  lambda_enabled       = var.lambda_function_arn != null
  lambda_unqualified   = local.lambda_enabled ? join(":", slice(split(":", var.lambda_function_arn), 0, 7)) : null
  lambda_qualified_arn = local.lambda_enabled ? (length(split(":", var.lambda_function_arn)) > 7 ? var.lambda_function_arn : "${var.lambda_function_arn}:$LATEST") : null

  query_enabled     = var.metadata_extraction_query != null
  uses_lambda_keys  = strcontains(var.prefix, "!{partitionKeyFromLambda:")
  uses_query_keys   = strcontains(var.prefix, "!{partitionKeyFromQuery:")
  backup_bucket_arn = coalesce(var.s3_backup_bucket_arn, var.bucket_arn)
  bucket_arns       = distinct(concat([var.bucket_arn], var.s3_backup_enabled ? [local.backup_bucket_arn] : []))

  # The transform's processor settings, all five, as Firehose applies them.
  lambda_settings = local.lambda_enabled ? {
    LambdaArn               = local.lambda_qualified_arn
    NumberOfRetries         = tostring(var.lambda_number_of_retries)
    RoleArn                 = aws_iam_role.this.arn
    BufferSizeInMBs         = tostring(var.lambda_buffer_size_mb)
    BufferIntervalInSeconds = tostring(var.lambda_buffer_interval_seconds)
  } : {}

  # Parameters equal to Firehose's defaults (NumberOfRetries 3, BufferSizeInMBs 1,
  # BufferIntervalInSeconds 60, RoleArn = the delivery stream's role) are left out: Firehose applies
  # them anyway, and the AWS provider drops them when it reads the stream back, so writing them
  # would show a change on every plan.
  lambda_defaults = {
    NumberOfRetries         = "3"
    BufferSizeInMBs         = "1"
    BufferIntervalInSeconds = "60"
  }
  lambda_parameters = { for k, v in local.lambda_settings : k => v if k == "LambdaArn" || (k != "RoleArn" && lookup(local.lambda_defaults, k, "") != v) }

  # Processors in the order Firehose applies them: the Lambda transform, then JQ key extraction,
  # then the delimiter. Parameter values are strings; numbers keep their decimals (0.2 stays 0.2).
  processors = concat(
    local.lambda_enabled ? [{
      type       = "Lambda"
      parameters = local.lambda_parameters
    }] : [],
    local.query_enabled ? [{
      type = "MetadataExtraction"
      parameters = {
        MetadataExtractionQuery = var.metadata_extraction_query
        JsonParsingEngine       = "JQ-1.6"
      }
    }] : [],
    var.append_newline_delimiter ? [{
      type       = "AppendDelimiterToRecord"
      parameters = { Delimiter = "\\n" }
    }] : [],
  )

  log_streams = {
    destination = "DestinationDelivery"
    backup      = "BackupDelivery"
  }
}

################################################################################
# Error logging
################################################################################

resource "aws_cloudwatch_log_group" "this" {
  count = var.error_logging_enabled ? 1 : 0

  name              = local.log_group_name
  retention_in_days = var.log_retention_in_days
  kms_key_id        = var.log_kms_key_arn
  tags              = var.tags
}

resource "aws_cloudwatch_log_stream" "this" {
  for_each = var.error_logging_enabled ? (var.s3_backup_enabled ? local.log_streams : { destination = local.log_streams.destination }) : {}

  name           = each.value
  log_group_name = aws_cloudwatch_log_group.this[0].name
}

################################################################################
# Delivery stream
################################################################################

resource "aws_kinesis_firehose_delivery_stream" "this" {
  name        = local.name
  destination = "extended_s3"

  kinesis_source_configuration {
    kinesis_stream_arn = var.kinesis_stream_arn
    role_arn           = aws_iam_role.this.arn
  }

  extended_s3_configuration {
    role_arn            = aws_iam_role.this.arn
    bucket_arn          = var.bucket_arn
    buffering_size      = var.buffering_size_mb
    buffering_interval  = var.buffering_interval_seconds
    compression_format  = var.compression_format
    prefix              = var.prefix
    error_output_prefix = var.error_output_prefix
    file_extension      = var.file_extension
    custom_time_zone    = var.custom_time_zone
    kms_key_arn         = var.bucket_kms_key_arn
    s3_backup_mode      = var.s3_backup_enabled ? "Enabled" : "Disabled"

    cloudwatch_logging_options {
      enabled         = var.error_logging_enabled
      log_group_name  = var.error_logging_enabled ? aws_cloudwatch_log_group.this[0].name : null
      log_stream_name = var.error_logging_enabled ? aws_cloudwatch_log_stream.this["destination"].name : null
    }

    dynamic "dynamic_partitioning_configuration" {
      for_each = var.dynamic_partitioning_enabled ? [1] : []
      content {
        enabled        = true
        retry_duration = var.dynamic_partitioning_retry_seconds
      }
    }

    dynamic "processing_configuration" {
      for_each = length(local.processors) > 0 ? [1] : []
      content {
        enabled = true

        dynamic "processors" {
          for_each = local.processors
          content {
            type = processors.value.type

            dynamic "parameters" {
              for_each = processors.value.parameters
              content {
                parameter_name  = parameters.key
                parameter_value = parameters.value
              }
            }
          }
        }
      }
    }

    dynamic "s3_backup_configuration" {
      for_each = var.s3_backup_enabled ? [1] : []
      content {
        role_arn            = aws_iam_role.this.arn
        bucket_arn          = local.backup_bucket_arn
        prefix              = var.s3_backup_prefix
        error_output_prefix = var.s3_backup_error_output_prefix
        compression_format  = var.s3_backup_compression_format
        buffering_size      = 5
        buffering_interval  = 300
        kms_key_arn         = var.s3_backup_bucket_arn == null ? var.bucket_kms_key_arn : null

        cloudwatch_logging_options {
          enabled         = var.error_logging_enabled
          log_group_name  = var.error_logging_enabled ? aws_cloudwatch_log_group.this[0].name : null
          log_stream_name = var.error_logging_enabled ? aws_cloudwatch_log_stream.this["backup"].name : null
        }
      }
    }

    dynamic "data_format_conversion_configuration" {
      for_each = var.parquet_conversion_enabled ? [1] : []
      content {
        enabled = true

        input_format_configuration {
          deserializer {
            open_x_json_ser_de {}
          }
        }

        output_format_configuration {
          serializer {
            parquet_ser_de {
              compression = var.parquet_compression
            }
          }
        }

        schema_configuration {
          role_arn      = aws_iam_role.this.arn
          catalog_id    = local.account_id
          region        = local.region
          database_name = var.glue_database_name
          table_name    = var.glue_table_name
          version_id    = "LATEST"
        }
      }
    }
  }

  tags = var.tags

  # Firehose checks that its role can read the stream when the delivery stream is created.
  depends_on = [aws_iam_role_policy.this]

  lifecycle {
    precondition {
      condition     = !var.dynamic_partitioning_enabled || var.buffering_size_mb >= 64
      error_message = "buffering_size_mb must be 64 to 128 MiB when dynamic_partitioning_enabled is true (Firehose's minimum buffer for dynamic partitioning); it is ${var.buffering_size_mb}."
    }
    precondition {
      condition     = !var.parquet_conversion_enabled || var.buffering_size_mb >= 64
      error_message = "buffering_size_mb must be 64 to 128 MiB when parquet_conversion_enabled is true (Firehose's minimum buffer for record format conversion); it is ${var.buffering_size_mb}."
    }
    precondition {
      condition     = !var.parquet_conversion_enabled || var.compression_format == "UNCOMPRESSED"
      error_message = "compression_format must be UNCOMPRESSED when parquet_conversion_enabled is true (Parquet compresses itself: set parquet_compression); it is ${var.compression_format}."
    }
    precondition {
      condition     = !var.parquet_conversion_enabled || (var.glue_database_name != null && var.glue_table_name != null)
      error_message = "glue_database_name and glue_table_name must be set when parquet_conversion_enabled is true (the Parquet schema comes from that Glue table)."
    }
    precondition {
      condition     = !var.dynamic_partitioning_enabled || local.uses_lambda_keys || local.uses_query_keys
      error_message = "with dynamic_partitioning_enabled, prefix must use at least one !{partitionKeyFromLambda:<key>} or !{partitionKeyFromQuery:<key>} expression."
    }
    precondition {
      condition     = !(local.uses_lambda_keys || local.uses_query_keys) || var.dynamic_partitioning_enabled
      error_message = "prefix uses partitionKeyFrom... expressions, which need dynamic_partitioning_enabled = true."
    }
    precondition {
      condition     = !local.uses_lambda_keys || local.lambda_enabled
      error_message = "prefix uses !{partitionKeyFromLambda:...}, which needs lambda_function_arn (the transform returns the keys in metadata.partitionKeys)."
    }
    precondition {
      condition     = !local.uses_query_keys || local.query_enabled
      error_message = "prefix uses !{partitionKeyFromQuery:...}, which needs metadata_extraction_query (a JQ query such as {ticker: .ticker})."
    }
    precondition {
      condition     = !local.query_enabled || var.dynamic_partitioning_enabled
      error_message = "metadata_extraction_query only works with dynamic_partitioning_enabled = true."
    }
  }
}
