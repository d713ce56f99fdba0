################################################################################
# Naming
################################################################################

variable "name_prefix" {
  description = "Prefix of every name: the delivery stream is <name_prefix>-delivery, its role <name_prefix>-firehose and its log group /aws/kinesisfirehose/<name_prefix>-delivery. 1 to 50 characters: letters, digits, '_', '-' and '.'."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9_.-]{1,50}$", var.name_prefix))
    error_message = "name_prefix must be 1 to 50 characters from [a-zA-Z0-9_.-]."
  }
}

variable "tags" {
  description = "Tags for every resource of the module (merged with the provider's default_tags). At most 40 entries."
  type        = map(string)
  default     = {}

  validation {
    condition     = length(var.tags) <= 40
    error_message = "tags may hold at most 40 entries."
  }
}

################################################################################
# Source: Kinesis data stream
################################################################################

variable "kinesis_stream_arn" {
  description = "ARN of the Kinesis data stream the delivery stream reads (KinesisStreamAsSource)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-zA-Z-]*:kinesis:[a-z0-9-]+:[0-9]{12}:stream/[a-zA-Z0-9_.-]{1,128}$", var.kinesis_stream_arn))
    error_message = "kinesis_stream_arn must be a Kinesis stream ARN (arn:<partition>:kinesis:<region>:<account>:stream/<name>)."
  }
}

variable "kinesis_stream_kms_key_arn" {
  description = "ARN of the customer managed KMS key that encrypts the source stream, so the Firehose role may kms:Decrypt with it. Default null: the stream uses the AWS-managed key alias/aws/kinesis, which needs no grant."
  type        = string
  default     = null

  validation {
    condition     = var.kinesis_stream_kms_key_arn == null || can(regex("^arn:aws[a-zA-Z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kinesis_stream_kms_key_arn))
    error_message = "kinesis_stream_kms_key_arn must be null or a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<id>)."
  }
}

################################################################################
# Destination: S3
################################################################################

variable "bucket_arn" {
  description = "ARN of the destination S3 bucket (arn:<partition>:s3:::<name>)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-zA-Z-]*:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_arn))
    error_message = "bucket_arn must be an S3 bucket ARN (arn:<partition>:s3:::<bucket name>)."
  }
}

variable "bucket_kms_key_arn" {
  description = "ARN of the customer managed KMS key of the destination bucket (SSE-KMS), so the Firehose role may generate data keys with it and Firehose encrypts objects with it. Default null: the bucket's own default encryption (SSE-S3) applies."
  type        = string
  default     = null

  validation {
    condition     = var.bucket_kms_key_arn == null || can(regex("^arn:aws[a-zA-Z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.bucket_kms_key_arn))
    error_message = "bucket_kms_key_arn must be null or a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<id>)."
  }
}

variable "buffering_size_mb" {
  description = "Buffer size hint of the S3 destination, in MiB: Firehose writes an object when this much data is buffered (or the interval passes). Default 5. An integer from 1 to 128; 64 to 128 when dynamic partitioning or Parquet conversion is on."
  type        = number
  default     = 5

  validation {
    condition     = var.buffering_size_mb >= 1 && var.buffering_size_mb <= 128 && floor(var.buffering_size_mb) == var.buffering_size_mb
    error_message = "buffering_size_mb must be a whole number of MiB from 1 to 128 (64 to 128 with dynamic partitioning or Parquet conversion)."
  }
}

variable "buffering_interval_seconds" {
  description = "Buffer interval hint of the S3 destination, in seconds: Firehose writes an object at least this often while data arrives. Default 300. An integer from 60 to 900."
  type        = number
  default     = 300

  validation {
    condition     = var.buffering_interval_seconds >= 60 && var.buffering_interval_seconds <= 900 && floor(var.buffering_interval_seconds) == var.buffering_interval_seconds
    error_message = "buffering_interval_seconds must be a whole number of seconds from 60 to 900."
  }
}

variable "compression_format" {
  description = "Compression of the delivered objects: GZIP (the default), UNCOMPRESSED, ZIP, Snappy or HADOOP_SNAPPY. Must be UNCOMPRESSED with Parquet conversion (Parquet compresses itself, see parquet_compression)."
  type        = string
  default     = "GZIP"

  validation {
    condition     = contains(["GZIP", "UNCOMPRESSED", "ZIP", "Snappy", "HADOOP_SNAPPY"], var.compression_format)
    error_message = "compression_format must be one of GZIP, UNCOMPRESSED, ZIP, Snappy, HADOOP_SNAPPY (case-sensitive)."
  }
}

variable "prefix" {
  description = "S3 key prefix of the delivered objects, with Firehose expressions (!{timestamp:<Java DateTimeFormatter pattern>}, !{firehose:random-string}, !{partitionKeyFromLambda:<key>}, !{partitionKeyFromQuery:<key>}). Default: the reference's Hive-style hourly layout data/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/. 1 to 1024 characters."
  type        = string
  default     = "data/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/"

  validation {
    condition     = length(var.prefix) >= 1 && length(var.prefix) <= 1024
    error_message = "prefix must be 1 to 1024 characters."
  }
}

variable "error_output_prefix" {
  description = "S3 key prefix of records Firehose could not process or deliver (error output), with the same expressions as prefix plus !{firehose:error-output-type} (processing-failed, partitioning-failed, format-conversion-failed, ...), which it must contain. Default: errors/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/!{firehose:error-output-type} (the reference's). 1 to 1024 characters."
  type        = string
  default     = "errors/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/!{firehose:error-output-type}"

  validation {
    condition     = length(var.error_output_prefix) >= 1 && length(var.error_output_prefix) <= 1024 && strcontains(var.error_output_prefix, "!{firehose:error-output-type}")
    error_message = "error_output_prefix must be 1 to 1024 characters and contain !{firehose:error-output-type}, so failures of each kind land apart."
  }
}

variable "file_extension" {
  description = "File extension of the delivered objects (FileExtension), replacing the one Firehose derives from the compression or format conversion (.gz, .zip, .snappy, .parquet, none when UNCOMPRESSED), e.g. \".json.gz\" for gzipped JSON lines. Default null: Firehose's own extension. 2 to 50 characters: a dot, then lowercase letters, digits and ! - _ . * ' ( ) (the Firehose API pattern \\.[0-9a-z!\\-_.*'()]+; the API allows 128 characters, the AWS provider 5.x at most 50)."
  type        = string
  default     = null

  validation {
    condition     = var.file_extension == null || (length(coalesce(var.file_extension, ".")) <= 50 && can(regex("^\\.[0-9a-z!_.*'()-]+$", coalesce(var.file_extension, "."))))
    error_message = "file_extension must be null or a dot followed by 1 to 49 characters from [0-9a-z!-_.*'()] (lowercase), e.g. \".json.gz\"; at most 50 characters in all."
  }
}

variable "custom_time_zone" {
  description = "Time zone of the timestamps in the S3 object keys (CustomTimeZone): the !{timestamp:...} expressions of prefix and error_output_prefix, the default yyyy/MM/dd/HH/ prefix and the time in the object name. Default \"UTC\". UTC or an IANA zone name of the form Area/Location (e.g. Asia/Tokyo, America/New_York, America/Argentina/Buenos_Aires); 3-letter abbreviations such as EST are not accepted (Firehose supports UTC and non-3-letter IANA names). At most 50 characters."
  type        = string
  default     = "UTC"

  validation {
    condition     = var.custom_time_zone != null && length(coalesce(var.custom_time_zone, "x")) <= 50 && can(regex("^(UTC|[A-Z][A-Za-z_]+(/[A-Za-z0-9_+-]+){1,2})$", coalesce(var.custom_time_zone, "x")))
    error_message = "custom_time_zone must be UTC or an IANA time zone name such as Asia/Tokyo or America/New_York (Area/Location, at most 50 characters; abbreviations such as EST or CET are not accepted)."
  }
}

################################################################################
# Dynamic partitioning and record processing
################################################################################

variable "dynamic_partitioning_enabled" {
  description = "Whether dynamic partitioning is on: objects are grouped by partition keys from the Lambda's metadata.partitionKeys (!{partitionKeyFromLambda:<key>} in prefix) or from metadata_extraction_query (!{partitionKeyFromQuery:<key>}). Default false. Once on, AWS cannot turn it off on an existing stream (it is recreated), and buffering_size_mb must be 64 to 128."
  type        = bool
  default     = false

  validation {
    condition     = var.dynamic_partitioning_enabled != null
    error_message = "dynamic_partitioning_enabled must be true or false, not null."
  }
}

variable "dynamic_partitioning_retry_seconds" {
  description = "How long Firehose retries delivering a dynamically partitioned object to S3 before it goes to the error output, in seconds. Default 300. An integer from 0 to 7200."
  type        = number
  default     = 300

  validation {
    condition     = var.dynamic_partitioning_retry_seconds >= 0 && var.dynamic_partitioning_retry_seconds <= 7200 && floor(var.dynamic_partitioning_retry_seconds) == var.dynamic_partitioning_retry_seconds
    error_message = "dynamic_partitioning_retry_seconds must be a whole number of seconds from 0 to 7200."
  }
}

variable "metadata_extraction_query" {
  description = "JQ 1.6 query that extracts partition keys from each (JSON) record for dynamic partitioning, e.g. \"{ticker: .ticker}\" for !{partitionKeyFromQuery:ticker}. Default null: no inline parsing (keys, if any, come from the Lambda). 1 to 4096 characters; needs dynamic_partitioning_enabled."
  type        = string
  default     = null

  validation {
    condition     = var.metadata_extraction_query == null || (length(coalesce(var.metadata_extraction_query, " ")) >= 1 && length(coalesce(var.metadata_extraction_query, " ")) <= 4096)
    error_message = "metadata_extraction_query must be null or 1 to 4096 characters."
  }
}

variable "append_newline_delimiter" {
  description = "Whether Firehose appends a newline after every record (AppendDelimiterToRecord), so objects are newline-delimited JSON that Athena reads line by line. Default false (the transform Lambda can add the newline itself)."
  type        = bool
  default     = false

  validation {
    condition     = var.append_newline_delimiter != null
    error_message = "append_newline_delimiter must be true or false, not null."
  }
}

################################################################################
# Transform Lambda (Firehose data transformation)
################################################################################

variable "lambda_function_arn" {
  description = "ARN of the transform Lambda function, unqualified or with a version/alias qualifier (an unqualified ARN is invoked as :$LATEST). Default null: no transformation."
  type        = string
  default     = null

  validation {
    condition     = var.lambda_function_arn == null || can(regex("^arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:[0-9]{12}:function:[a-zA-Z0-9_-]{1,64}(:[a-zA-Z0-9$_-]+)?$", var.lambda_function_arn))
    error_message = "lambda_function_arn must be null or a Lambda function ARN (arn:<partition>:lambda:<region>:<account>:function:<name>[:<qualifier>])."
  }
}

variable "lambda_buffer_size_mb" {
  description = "Buffer size hint for invoking the transform Lambda (processor parameter BufferSizeInMBs), in MB: how much data goes into one invocation. Default 1. From 0.2 to 3 (decimals allowed: 0.2 = 200 KB); the 6 MB Lambda payload limit is why 3 is the maximum."
  type        = number
  default     = 1

  validation {
    condition     = var.lambda_buffer_size_mb >= 0.2 && var.lambda_buffer_size_mb <= 3
    error_message = "lambda_buffer_size_mb (the buffered record size for the transform Lambda, in MB) must be between 0.2 and 3."
  }
}

variable "lambda_buffer_interval_seconds" {
  description = "Buffer interval hint for invoking the transform Lambda (processor parameter BufferIntervalInSeconds), in seconds: the longest a record waits before an invocation. Default 60. A whole number from 60 to 900."
  type        = number
  default     = 60

  validation {
    condition     = var.lambda_buffer_interval_seconds >= 60 && var.lambda_buffer_interval_seconds <= 900 && floor(var.lambda_buffer_interval_seconds) == var.lambda_buffer_interval_seconds
    error_message = "lambda_buffer_interval_seconds (the buffered record time for the transform Lambda, in seconds) must be between 60 and 900."
  }
}

variable "lambda_number_of_retries" {
  description = "How many times Firehose retries a failed invocation of the transform Lambda (processor parameter NumberOfRetries) before the batch goes to the error output as processing-failed. Default 3. A whole number from 0 to 300."
  type        = number
  default     = 3

  validation {
    condition     = var.lambda_number_of_retries >= 0 && var.lambda_number_of_retries <= 300 && floor(var.lambda_number_of_retries) == var.lambda_number_of_retries
    error_message = "lambda_number_of_retries must be a whole number from 0 to 300."
  }
}

################################################################################
# Error logging
################################################################################

variable "error_logging_enabled" {
  description = "Whether Firehose logs delivery and processing errors to CloudWatch Logs (/aws/kinesisfirehose/<name_prefix>-delivery, streams DestinationDelivery and BackupDelivery). Default true (the reference has none)."
  type        = bool
  default     = true

  validation {
    condition     = var.error_logging_enabled != null
    error_message = "error_logging_enabled must be true or false, not null."
  }
}

variable "log_retention_in_days" {
  description = "Retention of the error log group, in days. Default 30. One of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653 (0 = never expire)."
  type        = number
  default     = 30

  validation {
    condition     = contains([0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_in_days)
    error_message = "log_retention_in_days must be one of 0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

variable "log_kms_key_arn" {
  description = "ARN of a customer managed KMS key that encrypts the error log group (its key policy must let logs.<region>.amazonaws.com use it, with a kms:EncryptionContext:aws:logs:arn condition on the log group). Default null: CloudWatch Logs' own encryption."
  type        = string
  default     = null

  validation {
    condition     = var.log_kms_key_arn == null || can(regex("^arn:aws[a-zA-Z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.log_kms_key_arn))
    error_message = "log_kms_key_arn must be null or a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<id>)."
  }
}

################################################################################
# S3 backup of the source records
################################################################################

variable "s3_backup_enabled" {
  description = "Whether Firehose also writes every source record, before transformation, to a backup location (s3_backup_mode Enabled). Default false."
  type        = bool
  default     = false

  validation {
    condition     = var.s3_backup_enabled != null
    error_message = "s3_backup_enabled must be true or false, not null."
  }
}

variable "s3_backup_bucket_arn" {
  description = "ARN of the backup bucket. Default null: the destination bucket (under s3_backup_prefix)."
  type        = string
  default     = null

  validation {
    condition     = var.s3_backup_bucket_arn == null || can(regex("^arn:aws[a-zA-Z-]*:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.s3_backup_bucket_arn))
    error_message = "s3_backup_bucket_arn must be null or an S3 bucket ARN (arn:<partition>:s3:::<bucket name>)."
  }
}

variable "s3_backup_prefix" {
  description = "S3 key prefix of the backup objects (Firehose expressions allowed). Default source/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/. 1 to 1024 characters."
  type        = string
  default     = "source/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/"

  validation {
    condition     = length(var.s3_backup_prefix) >= 1 && length(var.s3_backup_prefix) <= 1024
    error_message = "s3_backup_prefix must be 1 to 1024 characters."
  }
}

variable "s3_backup_error_output_prefix" {
  description = "S3 key prefix of backup delivery failures; must contain !{firehose:error-output-type}. Default source-errors/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/!{firehose:error-output-type}. 1 to 1024 characters."
  type        = string
  default     = "source-errors/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/!{firehose:error-output-type}"

  validation {
    condition     = length(var.s3_backup_error_output_prefix) >= 1 && length(var.s3_backup_error_output_prefix) <= 1024 && strcontains(var.s3_backup_error_output_prefix, "!{firehose:error-output-type}")
    error_message = "s3_backup_error_output_prefix must be 1 to 1024 characters and contain !{firehose:error-output-type}."
  }
}

variable "s3_backup_compression_format" {
  description = "Compression of the backup objects: GZIP (the default), UNCOMPRESSED, ZIP, Snappy or HADOOP_SNAPPY."
  type        = string
  default     = "GZIP"

  validation {
    condition     = contains(["GZIP", "UNCOMPRESSED", "ZIP", "Snappy", "HADOOP_SNAPPY"], var.s3_backup_compression_format)
    error_message = "s3_backup_compression_format must be one of GZIP, UNCOMPRESSED, ZIP, Snappy, HADOOP_SNAPPY (case-sensitive)."
  }
}

################################################################################
# Parquet conversion through a Glue table
################################################################################

variable "parquet_conversion_enabled" {
  description = "Whether Firehose converts JSON records to Apache Parquet (OpenX JSON deserializer → Parquet serializer) with the schema of glue_database_name.glue_table_name. Default false. Needs buffering_size_mb 64 to 128 and compression_format UNCOMPRESSED."
  type        = bool
  default     = false

  validation {
    condition     = var.parquet_conversion_enabled != null
    error_message = "parquet_conversion_enabled must be true or false, not null."
  }
}

variable "glue_database_name" {
  description = "Glue database of the schema table for Parquet conversion. Default null; required when parquet_conversion_enabled. 1 to 255 characters."
  type        = string
  default     = null

  validation {
    condition     = var.glue_database_name == null || can(regex("^[a-z0-9_]{1,255}$", coalesce(var.glue_database_name, "x")))
    error_message = "glue_database_name must be null or 1 to 255 characters of lowercase letters, digits and '_'."
  }
}

variable "glue_table_name" {
  description = "Glue table whose columns are the Parquet schema. Default null; required when parquet_conversion_enabled. 1 to 255 characters."
  type        = string
  default     = null

  validation {
    condition     = var.glue_table_name == null || can(regex("^[a-z0-9_]{1,255}$", coalesce(var.glue_table_name, "x")))
    error_message = "glue_table_name must be null or 1 to 255 characters of lowercase letters, digits and '_'."
  }
}

variable "parquet_compression" {
  description = "Compression inside the Parquet files: SNAPPY (the default: fast, what Athena reads best), GZIP (smaller) or UNCOMPRESSED."
  type        = string
  default     = "SNAPPY"

  validation {
    condition     = contains(["SNAPPY", "GZIP", "UNCOMPRESSED"], var.parquet_compression)
    error_message = "parquet_compression must be SNAPPY, GZIP or UNCOMPRESSED."
  }
}
