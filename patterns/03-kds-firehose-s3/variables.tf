# The pattern skeleton (patterns/README.md): the shared names first (region, name_prefix, tags,
# stream_arn, the function package, the alarm topic), then this pattern's knobs.
# A variable that only hands a value to a module says which (module: variable) and has no
# validation of its own: the module's description documents the value and its validation rejects a
# bad one (tests/rejected/ proves it for this pattern). Only the pattern's own values are checked here.

################################################################################
# General
################################################################################

variable "region" {
  description = "AWS region to deploy to, e.g. eu-west-1. null (the default): the provider's environment (AWS_REGION, AWS_DEFAULT_REGION or the profile's region)."
  type        = string
  default     = null

  validation {
    condition     = var.region == null || can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]+$", coalesce(var.region, "us-east-1")))
    error_message = "region must be null or an AWS region name such as us-east-1."
  }
}

variable "name_prefix" {
  description = "Prefix of every resource name (stream <prefix>-stream, delivery stream <prefix>-delivery, function <prefix>-transform, bucket <prefix>-<account>-<region>, ...). 3 to 24 characters: lowercase letters, digits and '-', starting with a letter and ending with a letter or digit (it also names the S3 buckets)."
  type        = string
  default     = "kstream-p3"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,22}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 3 to 24 characters of lowercase letters, digits and '-', starting with a letter and ending with a letter or digit."
  }
}

variable "tags" {
  description = "Tags added to every resource through the provider's default_tags (Project, Pattern and Name are set already). At most 30 entries, keys 1 to 128 and values up to 256 characters."
  type        = map(string)
  default     = {}

  validation {
    condition     = length(var.tags) <= 30
    error_message = "tags: at most 30 entries (AWS allows 50 a resource; the pattern and its modules set some)."
  }
  validation {
    condition     = alltrue([for k, v in var.tags : length(k) >= 1 && length(k) <= 128 && length(v) <= 256 && !startswith(lower(k), "aws:")])
    error_message = "tags: keys must be 1 to 128 characters and not start with aws:, values at most 256 characters."
  }
}

################################################################################
# Stream: created (kinesis-stream module) unless stream_arn names an existing one
################################################################################

variable "stream_arn" {
  description = "ARN of an existing Kinesis data stream to read instead of creating one. null (the default): the pattern creates <prefix>-stream. With an existing stream the stream_* settings below are not used, except stream_kms_key_arn (its customer-managed key, if any)."
  type        = string
  default     = null
}

variable "stream_mode" {
  description = "Capacity mode of the created stream (kinesis-stream: stream_mode)."
  type        = string
  default     = "PROVISIONED"
}

variable "shard_count" {
  description = "Shards of the created stream when PROVISIONED (kinesis-stream: shard_count)."
  type        = number
  default     = 2
}

variable "retention_period_hours" {
  description = "Retention of the created stream (kinesis-stream: retention_period_hours)."
  type        = number
  default     = 24
}

variable "stream_kms_key_arn" {
  description = "Customer-managed KMS key of the stream, created or existing; null: alias/aws/kinesis (kinesis-stream: kms_key_arn; firehose-s3: kinesis_stream_kms_key_arn, which grants Firehose its use)."
  type        = string
  default     = null
}

variable "enhanced_monitoring" {
  description = "Shard-level metrics on the created stream (kinesis-stream: enhanced_monitoring)."
  type        = bool
  default     = false
}

################################################################################
# Firehose: S3 destination (firehose-s3 module; same variable names unless noted)
################################################################################

variable "buffering_size_mb" {
  description = "S3 buffer size hint of the delivery stream (firehose-s3: buffering_size_mb)."
  type        = number
  default     = 5
}

variable "buffering_interval_seconds" {
  description = "S3 buffer interval hint of the delivery stream (firehose-s3: buffering_interval_seconds)."
  type        = number
  default     = 300
}

variable "compression_format" {
  description = "Compression of delivered objects (firehose-s3: compression_format)."
  type        = string
  default     = "GZIP"
}

variable "data_prefix" {
  description = "S3 key prefix of delivered objects; the Glue table's partition projection follows it, so change glue_partition_keys with it (firehose-s3: prefix)."
  type        = string
  default     = "data/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/"
}

variable "error_output_prefix" {
  description = "S3 key prefix of failed records (firehose-s3: error_output_prefix)."
  type        = string
  default     = "errors/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/!{firehose:error-output-type}"
}

variable "file_extension" {
  description = "File extension of delivered objects; null: Firehose's own (firehose-s3: file_extension)."
  type        = string
  default     = null
}

variable "custom_time_zone" {
  description = "Time zone of the timestamps in object keys (firehose-s3: custom_time_zone)."
  type        = string
  default     = "UTC"
}

variable "dynamic_partitioning_enabled" {
  description = "Dynamic partitioning, with keys from the transform (transform_partition_keys) or from metadata_extraction_query (firehose-s3: dynamic_partitioning_enabled)."
  type        = bool
  default     = false
}

variable "dynamic_partitioning_retry_seconds" {
  description = "S3 retry duration with dynamic partitioning (firehose-s3: dynamic_partitioning_retry_seconds)."
  type        = number
  default     = 300
}

variable "metadata_extraction_query" {
  description = "JQ query for dynamic partition keys (firehose-s3: metadata_extraction_query)."
  type        = string
  default     = null
}

variable "append_newline_delimiter" {
  description = "Firehose appends a newline to every record; false by default because the transform ends every record with one (transform_newline) (firehose-s3: append_newline_delimiter)."
  type        = bool
  default     = false
}

variable "s3_backup_enabled" {
  description = "Keep every source record untransformed under source/ too (firehose-s3: s3_backup_enabled)."
  type        = bool
  default     = false
}

variable "parquet_conversion_enabled" {
  description = "Convert records to Parquet with the Glue table's schema, glue_columns (firehose-s3: parquet_conversion_enabled)."
  type        = bool
  default     = false
}

variable "error_log_retention_days" {
  description = "Retention of the delivery stream's error log group (firehose-s3: log_retention_in_days)."
  type        = number
  default     = 30
}

variable "log_kms_key_arn" {
  description = "KMS key of every log group of the pattern (the transform's and the delivery stream's error log); null: CloudWatch Logs' own encryption (lambda-function and firehose-s3: log_kms_key_arn)."
  type        = string
  default     = null
}

################################################################################
# Transform Lambda: the Firehose processor (firehose-s3 module), the function (lambda-function
# module) and its configuration (code: functions/firehose-transform)
################################################################################

variable "buffer_size_mb" {
  description = "Records buffered for one transform invocation, in MB (firehose-s3: lambda_buffer_size_mb)."
  type        = number
  default     = 1
}

variable "buffer_interval_seconds" {
  description = "Time records are buffered before the transform is invoked (firehose-s3: lambda_buffer_interval_seconds)."
  type        = number
  default     = 60
}

variable "transform_number_of_retries" {
  description = "Retries of a failed transform invocation before its records go to the error output (firehose-s3: lambda_number_of_retries)."
  type        = number
  default     = 3
}

variable "transform_package_path" {
  description = "Deployment zip of the transform, relative to the repository root or absolute; the default is what `make build` writes (lambda-function: package_path)."
  type        = string
  default     = "target/lambda/firehose-transform/bootstrap.zip"
}

variable "transform_template" {
  description = "Handlebars template applied to every record, with the (JSON) record as context. A bare {{field}} is written as JSON (a string keeps its quotes: \"a\": {{data}} gives \"a\":\"some string\"); inside quotes, \"{{'reading date'}}\", the text is escaped for the string. Default: the stock-ticker record of `kstream produce`, reshaped. null: no template (each record is re-written as compact JSON). At most 3500 characters (Lambda environment variables total at most 4 KB)."
  type        = string
  default     = "{\"ticker\": {{ticker}}, \"price\": {{price}}, \"event_time\": {{event_time}}}"

  validation {
    condition     = var.transform_template == null || (length(coalesce(var.transform_template, "x")) >= 1 && length(coalesce(var.transform_template, "x")) <= 3500)
    error_message = "transform_template must be null or 1 to 3500 characters."
  }
}

variable "transform_output_format" {
  description = "What the template produces: json (the default: each output is validated as JSON and compacted to one line; invalid output fails the record as ProcessingFailed) or text (written as rendered)."
  type        = string
  default     = "json"

  validation {
    condition     = contains(["json", "text"], var.transform_output_format)
    error_message = "transform_output_format must be json or text."
  }
}

variable "transform_flatten" {
  description = "Whether the transform flattens nested objects to dotted keys (a.b.c; arrays indexed) before the template. Default false."
  type        = bool
  default     = false

  validation {
    condition     = var.transform_flatten != null
    error_message = "transform_flatten must be true or false, not null."
  }
}

variable "transform_filter" {
  description = "Filter of the transform: a Handlebars template over the record, e.g. {{eq ticker \"AMZN\"}} or {{gt price 50}}; a record whose filter renders empty, false, 0 or null is answered Dropped. Default null: keep every record. At most 1000 characters."
  type        = string
  default     = null

  validation {
    condition     = var.transform_filter == null || length(coalesce(var.transform_filter, " ")) <= 1000
    error_message = "transform_filter must be null or at most 1000 characters."
  }
}

variable "transform_partition_keys" {
  description = "Dynamic partition keys the transform returns in metadata.partitionKeys: key => Handlebars template over the record (e.g. { ticker = \"{{ticker}}\" }), used as !{partitionKeyFromLambda:<key>} in data_prefix. Default none. At most 10 keys."
  type        = map(string)
  default     = {}

  validation {
    condition     = length(var.transform_partition_keys) <= 10 && alltrue([for k in keys(var.transform_partition_keys) : can(regex("^[a-zA-Z0-9_]{1,64}$", k))])
    error_message = "transform_partition_keys may hold at most 10 keys of 1 to 64 characters from [a-zA-Z0-9_]."
  }
}

variable "transform_newline" {
  description = "Whether the transform ends every output record with a newline (newline-delimited JSON for Athena). Default true."
  type        = bool
  default     = true

  validation {
    condition     = var.transform_newline != null
    error_message = "transform_newline must be true or false, not null."
  }
}

variable "transform_memory_mb" {
  description = "Memory of the transform (lambda-function: memory_size_mb)."
  type        = number
  default     = 256
}

variable "transform_timeout_seconds" {
  description = "Timeout of one transform invocation, in seconds: an integer from 1 to 300, since Firehose waits at most 5 minutes for a processor (checked here; the lambda-function module allows Lambda's 900)."
  type        = number
  default     = 60

  validation {
    condition     = var.transform_timeout_seconds >= 1 && var.transform_timeout_seconds <= 300 && floor(var.transform_timeout_seconds) == var.transform_timeout_seconds
    error_message = "transform_timeout_seconds must be an integer from 1 to 300 (Firehose's processor limit is 5 minutes)."
  }
}

variable "transform_log_level" {
  description = "Lowest level of the transform's own log lines kept (lambda-function: application_log_level)."
  type        = string
  default     = "INFO"
}

################################################################################
# Output bucket (secure-bucket module) and Glue table (glue-table module)
################################################################################

variable "force_destroy" {
  description = "Destroy deletes the buckets with their objects; true only for throwaway environments, as the emulator tests pass (secure-bucket: force_destroy)."
  type        = bool
  default     = false
}

variable "bucket_tls_only_policy" {
  description = "The output bucket's policy denies requests without TLS; false only on a local emulator that serves plain HTTP, where moto would refuse every object write (secure-bucket: tls_only_policy)."
  type        = bool
  default     = true
}

variable "bucket_kms_key_arn" {
  description = "Customer-managed KMS key of the output bucket; null: SSE-S3 (secure-bucket: kms_key_arn)."
  type        = string
  default     = null
}

variable "bucket_versioning" {
  description = "The output bucket keeps object versions (secure-bucket: versioning_enabled)."
  type        = bool
  default     = false
}

variable "glue_columns" {
  description = "Columns of the Glue table over the output, the transform's output fields; by default those of transform_template (glue-table: columns)."
  type = list(object({
    name    = string
    type    = string
    comment = optional(string, "")
  }))
  default = [
    { name = "ticker", type = "string" },
    { name = "price", type = "double" },
    { name = "event_time", type = "string" },
  ]
}

variable "glue_partition_keys" {
  description = "Partition keys of the Glue table in data_prefix folder order, with their projection; null (the default): the module's year/month/day/hour keys, those of the default data_prefix (glue-table: partition_keys)."
  type        = any
  default     = null
}

variable "data_freshness_threshold_seconds" {
  description = "Threshold of the DeliveryToS3.DataFreshness alarm; keep it above buffering_interval_seconds + buffer_interval_seconds (firehose-alarms: data_freshness_threshold_seconds)."
  type        = number
  default     = 900
}

################################################################################
# Alarm notifications (alarms module)
################################################################################

variable "create_alarm_topic" {
  description = "Create the KMS-encrypted SNS topic every alarm notifies (the default; about 1 USD a month for its key). false: give alarm_topic_arn, or the alarms notify nobody (alarms: create_sns_topic)."
  type        = bool
  default     = true
}

variable "alarm_topic_arn" {
  description = "An existing SNS topic for the alarms, with create_alarm_topic = false (alarms: sns_topic_arn)."
  type        = string
  default     = null
}

variable "alarm_email" {
  description = "Email address subscribed to the created topic; the recipient confirms by email (alarms: alarm_email)."
  type        = string
  default     = null
}
