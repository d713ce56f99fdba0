################################################################################
# General
################################################################################

variable "name_prefix" {
  description = "Prefix of every resource name (stream <prefix>-stream, delivery stream <prefix>-delivery, function <prefix>-transform, bucket <prefix>-<account>-<region>, ...). 3 to 24 characters: lowercase letters, digits and '-', starting with a letter and ending with a letter or digit (it also names the S3 buckets)."
  type        = string
  default     = "kstream-p3"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,22}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 3 to 24 characters of lowercase letters, digits and '-', starting with a letter and ending with a letter or digit."
  }
}

variable "aws_region" {
  description = "AWS region to deploy to, e.g. eu-west-1. Default null: the provider's environment (AWS_REGION or the profile's region)."
  type        = string
  default     = null

  validation {
    condition     = var.aws_region == null || can(regex("^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]$", coalesce(var.aws_region, "us-east-1")))
    error_message = "aws_region must be null or a region name such as us-east-1."
  }
}

variable "tags" {
  description = "Extra tags for every resource (added to Project and Pattern). At most 30 entries."
  type        = map(string)
  default     = {}

  validation {
    condition     = length(var.tags) <= 30
    error_message = "tags may hold at most 30 entries."
  }
}

################################################################################
# Kinesis data stream
################################################################################

variable "stream_mode" {
  description = "Capacity mode of the source stream: PROVISIONED (shard_count shards) or ON_DEMAND."
  type        = string
  default     = "PROVISIONED"

  validation {
    condition     = contains(["PROVISIONED", "ON_DEMAND"], var.stream_mode)
    error_message = "stream_mode must be PROVISIONED or ON_DEMAND."
  }
}

variable "shard_count" {
  description = "Shards of the source stream when PROVISIONED (1 MiB/s or 1000 records/s in per shard). Default 2. An integer from 1 to 200."
  type        = number
  default     = 2

  validation {
    condition     = var.shard_count >= 1 && var.shard_count <= 200 && floor(var.shard_count) == var.shard_count
    error_message = "shard_count must be an integer from 1 to 200."
  }
}

variable "retention_period_hours" {
  description = "Retention of the source stream, in hours. Default 24. An integer from 24 to 8760."
  type        = number
  default     = 24

  validation {
    condition     = var.retention_period_hours >= 24 && var.retention_period_hours <= 8760 && floor(var.retention_period_hours) == var.retention_period_hours
    error_message = "retention_period_hours must be an integer from 24 to 8760."
  }
}

variable "stream_kms_key_arn" {
  description = "Customer managed KMS key for the source stream. Default null: the AWS-managed key alias/aws/kinesis."
  type        = string
  default     = null

  validation {
    condition     = var.stream_kms_key_arn == null || can(regex("^arn:aws[a-zA-Z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", coalesce(var.stream_kms_key_arn, "arn:aws:kms:us-east-1:123456789012:key/x")))
    error_message = "stream_kms_key_arn must be null or a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<id>)."
  }
}

variable "enhanced_monitoring" {
  description = "Enable enhanced shard-level metrics on the source stream (billed per shard and metric). Default false."
  type        = bool
  default     = false

  validation {
    condition     = var.enhanced_monitoring != null
    error_message = "enhanced_monitoring must be true or false, not null."
  }
}

################################################################################
# Firehose: S3 destination
################################################################################

variable "buffering_size_mb" {
  description = "Firehose S3 buffer size hint, in MiB. Default 5. An integer from 1 to 128; 64 to 128 with dynamic partitioning or Parquet."
  type        = number
  default     = 5

  validation {
    condition     = var.buffering_size_mb >= 1 && var.buffering_size_mb <= 128 && floor(var.buffering_size_mb) == var.buffering_size_mb
    error_message = "buffering_size_mb must be a whole number of MiB from 1 to 128 (64 to 128 with dynamic partitioning or Parquet conversion)."
  }
}

variable "buffering_interval_seconds" {
  description = "Firehose S3 buffer interval hint, in seconds. Default 300. An integer from 60 to 900."
  type        = number
  default     = 300

  validation {
    condition     = var.buffering_interval_seconds >= 60 && var.buffering_interval_seconds <= 900 && floor(var.buffering_interval_seconds) == var.buffering_interval_seconds
    error_message = "buffering_interval_seconds must be a whole number of seconds from 60 to 900."
  }
}

variable "compression_format" {
  description = "Compression of delivered objects: GZIP (default), UNCOMPRESSED, ZIP, Snappy or HADOOP_SNAPPY (UNCOMPRESSED with Parquet)."
  type        = string
  default     = "GZIP"

  validation {
    condition     = contains(["GZIP", "UNCOMPRESSED", "ZIP", "Snappy", "HADOOP_SNAPPY"], var.compression_format)
    error_message = "compression_format must be one of GZIP, UNCOMPRESSED, ZIP, Snappy, HADOOP_SNAPPY (case-sensitive)."
  }
}

variable "data_prefix" {
  description = "S3 key prefix of delivered objects (Firehose expressions). Default: data/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/ (the Glue table's partition projection follows it; change glue_partition_keys with it). 1 to 1024 characters."
  type        = string
  default     = "data/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/"

  validation {
    condition     = length(var.data_prefix) >= 1 && length(var.data_prefix) <= 1024
    error_message = "data_prefix must be 1 to 1024 characters."
  }
}

variable "error_output_prefix" {
  description = "S3 key prefix of failed records; must contain !{firehose:error-output-type}. Default: errors/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/!{firehose:error-output-type}. 1 to 1024 characters."
  type        = string
  default     = "errors/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/!{firehose:error-output-type}"

  validation {
    condition     = length(var.error_output_prefix) >= 1 && length(var.error_output_prefix) <= 1024 && strcontains(var.error_output_prefix, "!{firehose:error-output-type}")
    error_message = "error_output_prefix must be 1 to 1024 characters and contain !{firehose:error-output-type}."
  }
}

variable "file_extension" {
  description = "File extension of delivered objects (Firehose FileExtension), replacing the one Firehose derives from compression_format or Parquet (.gz, .zip, .snappy, .parquet, none), e.g. \".json.gz\". Default null: Firehose's own. A dot, then lowercase letters, digits and ! - _ . * ' ( ); 2 to 50 characters (the AWS provider's maximum; the API allows 128)."
  type        = string
  default     = null

  validation {
    condition     = var.file_extension == null || (length(coalesce(var.file_extension, ".")) <= 50 && can(regex("^\\.[0-9a-z!_.*'()-]+$", coalesce(var.file_extension, "."))))
    error_message = "file_extension must be null or a dot followed by 1 to 49 characters from [0-9a-z!-_.*'()] (lowercase), e.g. \".json.gz\"; at most 50 characters in all."
  }
}

variable "custom_time_zone" {
  description = "Time zone of the timestamps in object keys (Firehose CustomTimeZone): the !{timestamp:...} expressions of data_prefix and error_output_prefix (so the year/month/day/hour partitions are local time), the default yyyy/MM/dd/HH/ prefix and the time in object names. Default \"UTC\". UTC or an IANA Area/Location name such as Asia/Tokyo or America/New_York (no 3-letter abbreviations); at most 50 characters."
  type        = string
  default     = "UTC"

  validation {
    condition     = var.custom_time_zone != null && length(coalesce(var.custom_time_zone, "x")) <= 50 && can(regex("^(UTC|[A-Z][A-Za-z_]+(/[A-Za-z0-9_+-]+){1,2})$", coalesce(var.custom_time_zone, "x")))
    error_message = "custom_time_zone must be UTC or an IANA time zone name such as Asia/Tokyo or America/New_York (Area/Location, at most 50 characters; abbreviations such as EST or CET are not accepted)."
  }
}

variable "dynamic_partitioning_enabled" {
  description = "Dynamic partitioning: keys from the transform's metadata (!{partitionKeyFromLambda:<key>} in data_prefix, keys from transform_partition_keys) or from metadata_extraction_query (!{partitionKeyFromQuery:<key>}). Default false; needs buffering_size_mb 64 to 128."
  type        = bool
  default     = false

  validation {
    condition     = var.dynamic_partitioning_enabled != null
    error_message = "dynamic_partitioning_enabled must be true or false, not null."
  }
}

variable "dynamic_partitioning_retry_seconds" {
  description = "Dynamic partitioning S3 retry duration, in seconds. Default 300. An integer from 0 to 7200."
  type        = number
  default     = 300

  validation {
    condition     = var.dynamic_partitioning_retry_seconds >= 0 && var.dynamic_partitioning_retry_seconds <= 7200 && floor(var.dynamic_partitioning_retry_seconds) == var.dynamic_partitioning_retry_seconds
    error_message = "dynamic_partitioning_retry_seconds must be a whole number of seconds from 0 to 7200."
  }
}

variable "metadata_extraction_query" {
  description = "JQ 1.6 query for dynamic partition keys, e.g. \"{ticker: .ticker}\". Default null. At most 4096 characters."
  type        = string
  default     = null

  validation {
    condition     = var.metadata_extraction_query == null || length(coalesce(var.metadata_extraction_query, " ")) <= 4096
    error_message = "metadata_extraction_query must be null or at most 4096 characters."
  }
}

variable "append_newline_delimiter" {
  description = "Whether Firehose appends a newline to every record (AppendDelimiterToRecord). Default false: the transform already ends every record with a newline (transform_newline)."
  type        = bool
  default     = false

  validation {
    condition     = var.append_newline_delimiter != null
    error_message = "append_newline_delimiter must be true or false, not null."
  }
}

variable "s3_backup_enabled" {
  description = "Whether every source record is also kept untransformed under source/ in the bucket. Default false."
  type        = bool
  default     = false

  validation {
    condition     = var.s3_backup_enabled != null
    error_message = "s3_backup_enabled must be true or false, not null."
  }
}

variable "parquet_conversion_enabled" {
  description = "Whether Firehose converts records to Parquet with the Glue table's schema (glue_columns). Default false; needs buffering_size_mb 64 to 128 and compression_format UNCOMPRESSED."
  type        = bool
  default     = false

  validation {
    condition     = var.parquet_conversion_enabled != null
    error_message = "parquet_conversion_enabled must be true or false, not null."
  }
}

variable "error_log_retention_days" {
  description = "Retention of the Firehose error log group, in days. Default 30. One of the CloudWatch Logs retention values (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, ...)."
  type        = number
  default     = 30

  validation {
    condition     = contains([0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.error_log_retention_days)
    error_message = "error_log_retention_days must be one of 0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

################################################################################
# Transform Lambda (functions/firehose-transform)
################################################################################

variable "buffer_size_mb" {
  description = "The buffered record size for one invocation of the transform Lambda (Firehose processor BufferSizeInMBs), in MB. Default 1. Must be between 0.2 and 3 (decimals allowed)."
  type        = number
  default     = 1

  validation {
    condition     = var.buffer_size_mb >= 0.2 && var.buffer_size_mb <= 3
    error_message = "buffer_size_mb (the buffered record size for the transform Lambda, in MB) must be between 0.2 and 3."
  }
}

variable "buffer_interval_seconds" {
  description = "The buffered record time before the transform Lambda is invoked (Firehose processor BufferIntervalInSeconds), in seconds. Default 60. Must be between 60 and 900."
  type        = number
  default     = 60

  validation {
    condition     = var.buffer_interval_seconds >= 60 && var.buffer_interval_seconds <= 900 && floor(var.buffer_interval_seconds) == var.buffer_interval_seconds
    error_message = "buffer_interval_seconds (the buffered record time for the transform Lambda, in seconds) must be a whole number between 60 and 900."
  }
}

variable "transform_number_of_retries" {
  description = "Retries of a failed transform invocation before its records go to the error output (processor NumberOfRetries). Default 3. An integer from 0 to 300."
  type        = number
  default     = 3

  validation {
    condition     = var.transform_number_of_retries >= 0 && var.transform_number_of_retries <= 300 && floor(var.transform_number_of_retries) == var.transform_number_of_retries
    error_message = "transform_number_of_retries must be a whole number from 0 to 300."
  }
}

variable "transform_package_path" {
  description = "Deployment zip of the transform (cargo lambda build --release --arm64 --output-format zip -p firehose-transform). Default: target/lambda/firehose-transform/bootstrap.zip in this repository."
  type        = string
  default     = null

  validation {
    condition     = var.transform_package_path == null || endswith(coalesce(var.transform_package_path, "x.zip"), ".zip")
    error_message = "transform_package_path must be null or the path of a .zip file."
  }
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
  description = "Memory of the transform Lambda, in MB. Default 256. An integer from 128 to 10240."
  type        = number
  default     = 256

  validation {
    condition     = var.transform_memory_mb >= 128 && var.transform_memory_mb <= 10240 && floor(var.transform_memory_mb) == var.transform_memory_mb
    error_message = "transform_memory_mb must be an integer from 128 to 10240."
  }
}

variable "transform_timeout_seconds" {
  description = "Timeout of one transform invocation, in seconds. Default 60. An integer from 1 to 300 (Firehose waits at most 5 minutes for a processor)."
  type        = number
  default     = 60

  validation {
    condition     = var.transform_timeout_seconds >= 1 && var.transform_timeout_seconds <= 300 && floor(var.transform_timeout_seconds) == var.transform_timeout_seconds
    error_message = "transform_timeout_seconds must be an integer from 1 to 300 (Firehose's processor limit is 5 minutes)."
  }
}

variable "transform_log_level" {
  description = "Lowest level of the transform's own log lines kept: TRACE, DEBUG, INFO (default), WARN, ERROR or FATAL."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"], var.transform_log_level)
    error_message = "transform_log_level must be one of TRACE, DEBUG, INFO, WARN, ERROR, FATAL."
  }
}

################################################################################
# Output bucket and Glue table
################################################################################

variable "force_destroy" {
  description = "Whether destroy deletes the buckets with their objects. Default false; true only for throwaway environments (the emulator tests pass -var force_destroy=true)."
  type        = bool
  default     = false

  validation {
    condition     = var.force_destroy != null
    error_message = "force_destroy must be true or false, not null."
  }
}

variable "bucket_tls_only_policy" {
  description = "Whether the output bucket's policy denies requests without TLS. Default true; false only on a local emulator that serves plain HTTP and enforces the deny (moto then refuses every object write, so `kstream local` could not deliver)."
  type        = bool
  default     = true

  validation {
    condition     = var.bucket_tls_only_policy != null
    error_message = "bucket_tls_only_policy must be true or false, not null."
  }
}

variable "bucket_kms_key_arn" {
  description = "Customer managed KMS key for the output bucket (SSE-KMS with a Bucket Key). Default null: SSE-S3."
  type        = string
  default     = null

  validation {
    condition     = var.bucket_kms_key_arn == null || can(regex("^arn:aws[a-zA-Z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", coalesce(var.bucket_kms_key_arn, "arn:aws:kms:us-east-1:123456789012:key/x")))
    error_message = "bucket_kms_key_arn must be null or a KMS key ARN."
  }
}

variable "bucket_versioning" {
  description = "Whether the output bucket keeps object versions. Default false."
  type        = bool
  default     = false

  validation {
    condition     = var.bucket_versioning != null
    error_message = "bucket_versioning must be true or false, not null."
  }
}

variable "glue_columns" {
  description = "Columns of the Glue table over the output (the transform's output fields): name and Athena type. Default: ticker string, price double, event_time string. 1 to 1000 columns."
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

  validation {
    condition     = length(var.glue_columns) >= 1 && length(var.glue_columns) <= 1000
    error_message = "glue_columns must hold 1 to 1000 columns."
  }
}

variable "glue_partition_keys" {
  description = "Partition keys of the Glue table in data_prefix folder order, with their projection settings. Default: year/month/day/hour integer projections matching the default data_prefix. 1 to 10 keys."
  type = list(object({
    name       = string
    type       = optional(string, "string")
    projection = map(string)
  }))
  default = [
    { name = "year", projection = { type = "integer", range = "2024,2099" } },
    { name = "month", projection = { type = "integer", range = "1,12", digits = "2" } },
    { name = "day", projection = { type = "integer", range = "1,31", digits = "2" } },
    { name = "hour", projection = { type = "integer", range = "0,23", digits = "2" } },
  ]

  validation {
    condition     = length(var.glue_partition_keys) >= 1 && length(var.glue_partition_keys) <= 10
    error_message = "glue_partition_keys must hold 1 to 10 keys."
  }
}

################################################################################
# Alarms
################################################################################

variable "create_sns_topic" {
  description = "Create an encrypted SNS topic that every alarm notifies. Default false. Mutually exclusive with sns_topic_arn."
  type        = bool
  default     = false

  validation {
    condition     = var.create_sns_topic != null
    error_message = "create_sns_topic must be true or false, not null."
  }
}

variable "sns_topic_arn" {
  description = "Existing SNS topic every alarm notifies. Default null (with create_sns_topic false: alarms have no actions)."
  type        = string
  default     = null

  validation {
    condition     = var.sns_topic_arn == null || can(regex("^arn:aws[a-zA-Z-]*:sns:", coalesce(var.sns_topic_arn, "arn:aws:sns:")))
    error_message = "sns_topic_arn must be null or an SNS topic ARN."
  }
}

variable "alarm_email" {
  description = "Email subscribed to the created topic (must confirm). Default null."
  type        = string
  default     = null

  validation {
    condition     = var.alarm_email == null || can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", coalesce(var.alarm_email, "a@b.c")))
    error_message = "alarm_email must be null or an email address."
  }
}

variable "data_freshness_threshold_seconds" {
  description = "Firehose DeliveryToS3.DataFreshness alarm threshold, in seconds. Default 900 (the reference's). An integer from 60 to 86400; keep it above buffering_interval_seconds + buffer_interval_seconds."
  type        = number
  default     = 900

  validation {
    condition     = var.data_freshness_threshold_seconds >= 60 && var.data_freshness_threshold_seconds <= 86400 && floor(var.data_freshness_threshold_seconds) == var.data_freshness_threshold_seconds
    error_message = "data_freshness_threshold_seconds must be a whole number of seconds from 60 to 86400."
  }
}
