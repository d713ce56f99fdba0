################################################################################
# General
################################################################################

variable "region" {
  description = "AWS region to deploy to, e.g. us-east-1."
  type        = string
  default     = "us-east-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]+$", var.region))
    error_message = "region must be an AWS region name such as us-east-1."
  }
}

variable "name_prefix" {
  description = "Prefix of every resource name (<prefix>-stream, <prefix>-consumer, <prefix>-api, ...). 3 to 24 characters: lowercase letters, digits and '-', starting with a letter and not ending with '-'."
  type        = string
  default     = "kstream-p1"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,22}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 3 to 24 characters of [a-z0-9-], start with a letter and not end with '-'."
  }
}

variable "tags" {
  description = "Tags added to every resource through the provider's default_tags (Project, Pattern and Name are set already). At most 45 entries, keys 1 to 128 and values up to 256 characters."
  type        = map(string)
  default     = {}

  validation {
    condition     = length(var.tags) <= 45 && alltrue([for k, v in var.tags : length(k) >= 1 && length(k) <= 128 && length(v) <= 256 && !startswith(lower(k), "aws:")])
    error_message = "tags: at most 45 (AWS allows 50, the provider's default_tags take some), keys 1 to 128 characters not starting with aws:, values up to 256."
  }
}

################################################################################
# Stream
################################################################################

variable "stream_mode" {
  description = "Capacity mode of the stream: PROVISIONED (shard_count shards) or ON_DEMAND."
  type        = string
  default     = "PROVISIONED"

  validation {
    condition     = contains(["PROVISIONED", "ON_DEMAND"], var.stream_mode)
    error_message = "stream_mode must be PROVISIONED or ON_DEMAND."
  }
}

variable "shard_count" {
  description = "Shards of a PROVISIONED stream (1 MiB/s or 1000 records/s in per shard). An integer from 1 to 200."
  type        = number
  default     = 2

  validation {
    condition     = var.shard_count >= 1 && var.shard_count <= 200 && floor(var.shard_count) == var.shard_count
    error_message = "shard_count must be an integer from 1 to 200."
  }
}

variable "retention_period_hours" {
  description = "Stream retention in hours. An integer from 24 to 8760."
  type        = number
  default     = 24

  validation {
    condition     = var.retention_period_hours >= 24 && var.retention_period_hours <= 8760 && floor(var.retention_period_hours) == var.retention_period_hours
    error_message = "retention_period_hours must be an integer from 24 to 8760."
  }
}

variable "stream_kms_key_arn" {
  description = "ARN of a customer-managed KMS key for the stream. null (the default) uses alias/aws/kinesis."
  type        = string
  default     = null

  validation {
    condition     = var.stream_kms_key_arn == null || can(regex("^arn:aws[a-zA-Z-]*:kms:", var.stream_kms_key_arn))
    error_message = "stream_kms_key_arn must be null or a KMS key ARN."
  }
}

variable "enhanced_monitoring" {
  description = "Turn on enhanced shard-level metrics for the stream (billed per shard and metric)."
  type        = bool
  default     = false
}

################################################################################
# REST API
################################################################################

variable "authorization" {
  description = "How API callers authenticate: COGNITO (user pool JWT, the default) or AWS_IAM (SigV4)."
  type        = string
  default     = "COGNITO"

  validation {
    condition     = contains(["COGNITO", "AWS_IAM"], var.authorization)
    error_message = "authorization must be COGNITO or AWS_IAM."
  }
}

variable "cognito_advanced_security_mode" {
  description = "Cognito threat protection: ENFORCED (the reference's setting; PLUS plan, billed per monthly active user), AUDIT or OFF."
  type        = string
  default     = "ENFORCED"

  validation {
    condition     = contains(["OFF", "AUDIT", "ENFORCED"], var.cognito_advanced_security_mode)
    error_message = "cognito_advanced_security_mode must be OFF, AUDIT or ENFORCED."
  }
}

variable "api_stage_name" {
  description = "Stage of the REST API (part of the URL). 1 to 64 characters: letters, digits, '-' and '_'."
  type        = string
  default     = "prod"

  validation {
    condition     = can(regex("^[a-zA-Z0-9_-]{1,64}$", var.api_stage_name))
    error_message = "api_stage_name must be 1 to 64 characters from [a-zA-Z0-9_-]."
  }
}

variable "api_endpoint_type" {
  description = "REST API endpoint type: REGIONAL (the default) or EDGE."
  type        = string
  default     = "REGIONAL"

  validation {
    condition     = contains(["REGIONAL", "EDGE"], var.api_endpoint_type)
    error_message = "api_endpoint_type must be REGIONAL or EDGE."
  }
}

variable "throttling_rate_limit" {
  description = "Steady-state requests per second for every API method. A number from 1 to 10000."
  type        = number
  default     = 100

  validation {
    condition     = var.throttling_rate_limit >= 1 && var.throttling_rate_limit <= 10000
    error_message = "throttling_rate_limit must be from 1 to 10000."
  }
}

variable "throttling_burst_limit" {
  description = "Burst of requests for every API method. An integer from 0 to 5000."
  type        = number
  default     = 50

  validation {
    condition     = var.throttling_burst_limit >= 0 && var.throttling_burst_limit <= 5000 && floor(var.throttling_burst_limit) == var.throttling_burst_limit
    error_message = "throttling_burst_limit must be an integer from 0 to 5000."
  }
}

variable "api_execution_logging_level" {
  description = "API Gateway execution logging: INFO (the default), ERROR or OFF."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(["OFF", "ERROR", "INFO"], var.api_execution_logging_level)
    error_message = "api_execution_logging_level must be OFF, ERROR or INFO."
  }
}

variable "manage_api_gateway_account" {
  description = "Create the API Gateway CloudWatch role and set it in the account's API Gateway settings (account- and region-wide; needed for access and execution logs). Set false when something else manages it."
  type        = bool
  default     = true
}

################################################################################
# Consumer function
################################################################################

variable "consumer_package_path" {
  description = "Deployment zip of the consumer: relative to the repository root (the default is `make build`'s output) or absolute."
  type        = string
  default     = "target/lambda/kds-consumer/bootstrap.zip"

  validation {
    condition     = endswith(var.consumer_package_path, ".zip")
    error_message = "consumer_package_path must name a .zip file."
  }
}

variable "consumer_timeout_seconds" {
  description = "Timeout of one consumer invocation, in seconds (the reference uses 300). An integer from 1 to 900."
  type        = number
  default     = 300

  validation {
    condition     = var.consumer_timeout_seconds >= 1 && var.consumer_timeout_seconds <= 900 && floor(var.consumer_timeout_seconds) == var.consumer_timeout_seconds
    error_message = "consumer_timeout_seconds must be an integer from 1 to 900."
  }
}

variable "consumer_memory_size_mb" {
  description = "Memory of the consumer in MB. An integer from 128 to 10240."
  type        = number
  default     = 256

  validation {
    condition     = var.consumer_memory_size_mb >= 128 && var.consumer_memory_size_mb <= 10240 && floor(var.consumer_memory_size_mb) == var.consumer_memory_size_mb
    error_message = "consumer_memory_size_mb must be an integer from 128 to 10240."
  }
}

variable "consumer_log_level" {
  description = "Lowest level of the consumer's own log lines kept (JSON logs): TRACE, DEBUG, INFO, WARN, ERROR or FATAL."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"], var.consumer_log_level)
    error_message = "consumer_log_level must be one of TRACE, DEBUG, INFO, WARN, ERROR, FATAL."
  }
}

variable "consumer_environment" {
  description = "Extra environment variables of the consumer (POWERTOOLS_SERVICE_NAME and POWERTOOLS_METRICS_NAMESPACE are set by the pattern)."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k in keys(var.consumer_environment) : can(regex("^[a-zA-Z][a-zA-Z0-9_]*$", k)) && !startswith(k, "AWS_")])
    error_message = "consumer_environment names must match [a-zA-Z][a-zA-Z0-9_]* and not start with AWS_."
  }
}

variable "metrics_namespace" {
  description = "CloudWatch namespace of the consumer's embedded-metric-format metrics (Records, UserRecords, FailedRecords, Bytes, ...). 1 to 255 characters, not starting with AWS/."
  type        = string
  default     = "kstream"

  validation {
    condition     = length(var.metrics_namespace) >= 1 && length(var.metrics_namespace) <= 255 && !startswith(var.metrics_namespace, "AWS/")
    error_message = "metrics_namespace must be 1 to 255 characters and not start with AWS/."
  }
}

################################################################################
# Event source mapping
################################################################################

variable "batch_size" {
  description = "Largest number of records per consumer invocation. An integer from 1 to 10000."
  type        = number
  default     = 100

  validation {
    condition     = var.batch_size >= 1 && var.batch_size <= 10000 && floor(var.batch_size) == var.batch_size
    error_message = "batch_size must be an integer from 1 to 10000."
  }
}

variable "parallelization_factor" {
  description = "Concurrent batches per shard. An integer from 1 to 10."
  type        = number
  default     = 1

  validation {
    condition     = var.parallelization_factor >= 1 && var.parallelization_factor <= 10 && floor(var.parallelization_factor) == var.parallelization_factor
    error_message = "parallelization_factor must be an integer from 1 to 10."
  }
}

variable "maximum_retry_attempts" {
  description = "Retries of a failing batch before its metadata goes to the failure queue. An integer from -1 (until the record expires) to 10000."
  type        = number
  default     = 3

  validation {
    condition     = var.maximum_retry_attempts >= -1 && var.maximum_retry_attempts <= 10000 && floor(var.maximum_retry_attempts) == var.maximum_retry_attempts
    error_message = "maximum_retry_attempts must be an integer from -1 to 10000."
  }
}

variable "maximum_record_age_in_seconds" {
  description = "Records older than this go to the failure queue unprocessed, in seconds. -1 (no limit) or an integer from 60 to 604800; default 86400 (24 h)."
  type        = number
  default     = 86400

  validation {
    condition     = floor(var.maximum_record_age_in_seconds) == var.maximum_record_age_in_seconds && (var.maximum_record_age_in_seconds == -1 || (var.maximum_record_age_in_seconds >= 60 && var.maximum_record_age_in_seconds <= 604800))
    error_message = "maximum_record_age_in_seconds must be -1 or an integer from 60 to 604800."
  }
}

variable "starting_position" {
  description = "Where the mapping starts reading: LATEST (the default), TRIM_HORIZON or AT_TIMESTAMP (with starting_position_timestamp)."
  type        = string
  default     = "LATEST"

  validation {
    condition     = contains(["LATEST", "TRIM_HORIZON", "AT_TIMESTAMP"], var.starting_position)
    error_message = "starting_position must be LATEST, TRIM_HORIZON or AT_TIMESTAMP."
  }
}

variable "starting_position_timestamp" {
  description = "RFC 3339 start time for AT_TIMESTAMP; null otherwise."
  type        = string
  default     = null

  validation {
    condition     = var.starting_position_timestamp == null || can(timecmp(var.starting_position_timestamp, "2000-01-01T00:00:00Z"))
    error_message = "starting_position_timestamp must be null or an RFC 3339 timestamp."
  }
}

variable "maximum_batching_window_in_seconds" {
  description = "Seconds to gather records before invoking: an integer from 0 to 300, or null for Lambda's default (0)."
  type        = number
  default     = null

  validation {
    condition     = var.maximum_batching_window_in_seconds == null || try(var.maximum_batching_window_in_seconds >= 0 && var.maximum_batching_window_in_seconds <= 300 && floor(var.maximum_batching_window_in_seconds) == var.maximum_batching_window_in_seconds, false)
    error_message = "maximum_batching_window_in_seconds must be null or an integer from 0 to 300."
  }
}

variable "filter_patterns" {
  description = "Up to 5 event-filter JSON patterns (strings); records matching none are dropped. Empty (the default): every record is processed."
  type        = list(string)
  default     = []

  validation {
    condition     = length(var.filter_patterns) <= 5 && alltrue([for p in var.filter_patterns : can(jsondecode(p))])
    error_message = "filter_patterns must be at most 5 valid JSON strings."
  }
}

variable "failure_queue_kms_key_arn" {
  description = "ARN of a customer-managed KMS key for the failure queue. null (the default) uses alias/aws/sqs."
  type        = string
  default     = null

  validation {
    condition     = var.failure_queue_kms_key_arn == null || can(regex("^arn:aws[a-zA-Z-]*:kms:", var.failure_queue_kms_key_arn))
    error_message = "failure_queue_kms_key_arn must be null or a KMS key ARN."
  }
}

################################################################################
# Logs
################################################################################

variable "log_retention_in_days" {
  description = "Retention of the consumer's and the API's log groups, in days: one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653 (0 = never expire)."
  type        = number
  default     = 365

  validation {
    condition     = contains([0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_in_days)
    error_message = "log_retention_in_days must be one of 0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

variable "log_kms_key_arn" {
  description = "ARN of a KMS key for all log groups of the pattern (its policy must allow logs.<region>.amazonaws.com). null uses CloudWatch Logs' own encryption."
  type        = string
  default     = null

  validation {
    condition     = var.log_kms_key_arn == null || can(regex("^arn:aws[a-zA-Z-]*:kms:", var.log_kms_key_arn))
    error_message = "log_kms_key_arn must be null or a KMS key ARN."
  }
}

################################################################################
# Alarms
################################################################################

variable "create_alarm_topic" {
  description = "Create an SNS topic (with its own KMS key, about 1 USD a month) that every alarm notifies. Set false and give alarm_topic_arn to use an existing topic, or neither for alarms without actions."
  type        = bool
  default     = true
}

variable "alarm_topic_arn" {
  description = "ARN of an existing SNS topic for the alarms (with create_alarm_topic = false)."
  type        = string
  default     = null

  validation {
    condition     = var.alarm_topic_arn == null || can(regex("^arn:aws[a-zA-Z-]*:sns:", var.alarm_topic_arn))
    error_message = "alarm_topic_arn must be null or an SNS topic ARN."
  }
}

variable "alarm_email" {
  description = "Email address subscribed to the created alarm topic (the recipient confirms by email). null: none."
  type        = string
  default     = null

  validation {
    condition     = var.alarm_email == null || can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", var.alarm_email))
    error_message = "alarm_email must be null or an email address."
  }
}
