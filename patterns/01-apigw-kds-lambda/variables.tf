# The pattern skeleton (patterns/README.md): the shared names first (region, name_prefix, tags,
# stream_arn, the function package, the alarm topic), then this pattern's knobs.
# A variable that only hands a value to a module says which (module: variable) and has no
# validation of its own: the module's description documents the value and its validation rejects a
# bad one (tests/rejected/ proves it for this pattern). Only the pattern's own values are checked here.

################################################################################
# General
################################################################################

variable "region" {
  description = "AWS region to deploy to, e.g. us-east-1. null (the default): the provider's environment (AWS_REGION, AWS_DEFAULT_REGION or the profile's region)."
  type        = string
  default     = null

  validation {
    condition     = var.region == null || can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]+$", coalesce(var.region, "us-east-1")))
    error_message = "region must be null or an AWS region name such as us-east-1."
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
  description = "ARN of an existing Kinesis data stream to use instead of creating one. null (the default): the pattern creates <prefix>-stream. With an existing stream the stream_* settings below are not used, except stream_kms_key_arn (its customer-managed key, if any)."
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
  description = "Retention of the created stream. 168 h (7 days) by default: a batch the consumer gives up can be read back with `kstream redrive` for days after (kinesis-stream: retention_period_hours)."
  type        = number
  default     = 168
}

variable "stream_kms_key_arn" {
  description = "Customer-managed KMS key of the stream, created or existing; null: alias/aws/kinesis (kinesis-stream: kms_key_arn; the API and the consumer are granted its use)."
  type        = string
  default     = null
}

variable "enhanced_monitoring" {
  description = "Shard-level metrics on the created stream (kinesis-stream: enhanced_monitoring)."
  type        = bool
  default     = false
}

################################################################################
# REST API (apigw-kinesis-proxy module)
################################################################################

variable "authorization" {
  description = "How API callers authenticate (apigw-kinesis-proxy: authorization)."
  type        = string
  default     = "COGNITO"
}

variable "cognito_advanced_security_mode" {
  description = "Cognito threat protection (apigw-kinesis-proxy: cognito_advanced_security_mode)."
  type        = string
  default     = "ENFORCED"
}

variable "api_stage_name" {
  description = "Stage of the REST API, part of its URL (apigw-kinesis-proxy: stage_name)."
  type        = string
  default     = "prod"
}

variable "api_endpoint_type" {
  description = "Endpoint type of the REST API (apigw-kinesis-proxy: endpoint_type)."
  type        = string
  default     = "REGIONAL"
}

variable "throttling_rate_limit" {
  description = "Steady requests per second of every API method (apigw-kinesis-proxy: throttling_rate_limit)."
  type        = number
  default     = 100
}

variable "throttling_burst_limit" {
  description = "Request burst of every API method (apigw-kinesis-proxy: throttling_burst_limit)."
  type        = number
  default     = 50
}

variable "api_execution_logging_level" {
  description = "API Gateway execution logging (apigw-kinesis-proxy: execution_logging_level)."
  type        = string
  default     = "INFO"
}

variable "waf_web_acl_arn" {
  description = "A regional WAFv2 web ACL to associate with the public API's stage; null: none (apigw-kinesis-proxy: waf_web_acl_arn)."
  type        = string
  default     = null
}

variable "manage_api_gateway_account" {
  description = "Set the account's API Gateway CloudWatch role, region-wide; false when something else manages it (apigw-kinesis-proxy: manage_account_cloudwatch_role)."
  type        = bool
  default     = true
}

################################################################################
# Consumer function (lambda-function module; code: functions/kds-consumer)
################################################################################

variable "consumer_package_path" {
  description = "Deployment zip of the consumer, relative to the repository root or absolute; the default is what `make build` writes (lambda-function: package_path)."
  type        = string
  default     = "target/lambda/kds-consumer/bootstrap.zip"
}

variable "consumer_timeout_seconds" {
  description = "Timeout of one consumer invocation; the reference uses 300 (lambda-function: timeout_seconds)."
  type        = number
  default     = 300
}

variable "consumer_memory_size_mb" {
  description = "Memory of the consumer (lambda-function: memory_size_mb)."
  type        = number
  default     = 256
}

variable "consumer_log_level" {
  description = "Lowest level of the consumer's own log lines kept (lambda-function: application_log_level)."
  type        = string
  default     = "INFO"
}

variable "consumer_environment" {
  description = "Extra environment variables of the consumer, added to POWERTOOLS_SERVICE_NAME and POWERTOOLS_METRICS_NAMESPACE (lambda-function: environment_variables)."
  type        = map(string)
  default     = {}
}

variable "metrics_namespace" {
  description = "CloudWatch namespace of the consumer's embedded-metric-format metrics (Records, UserRecords, FailedRecords, Bytes, ...) and of their dashboard widgets. 1 to 255 characters, not starting with AWS/."
  type        = string
  default     = "kstream"

  validation {
    condition     = length(var.metrics_namespace) >= 1 && length(var.metrics_namespace) <= 255 && !startswith(var.metrics_namespace, "AWS/")
    error_message = "metrics_namespace must be 1 to 255 characters and not start with AWS/."
  }
}

################################################################################
# Event source mapping (kinesis-lambda-consumer module; same variable names)
################################################################################

variable "batch_size" {
  description = "Records per consumer invocation at most (kinesis-lambda-consumer: batch_size)."
  type        = number
  default     = 100
}

variable "parallelization_factor" {
  description = "Concurrent batches per shard (kinesis-lambda-consumer: parallelization_factor)."
  type        = number
  default     = 1
}

variable "maximum_retry_attempts" {
  description = "Retries of a failing batch before its metadata goes to the failure queue (kinesis-lambda-consumer: maximum_retry_attempts)."
  type        = number
  default     = 3
}

variable "maximum_record_age_in_seconds" {
  description = "Age after which records go to the failure queue unprocessed (kinesis-lambda-consumer: maximum_record_age_in_seconds). It stays at least an hour below the created stream's retention, so that a batch given up is still in the stream for `kstream redrive` (not checked with stream_arn: the existing stream's retention is not known here)."
  type        = number
  default     = 86400
  validation {
    condition     = var.stream_arn != null || (var.maximum_record_age_in_seconds != -1 && var.maximum_record_age_in_seconds <= var.retention_period_hours * 3600 - 3600)
    error_message = "maximum_record_age_in_seconds must stay at least an hour below the stream's retention (at most retention_period_hours * 3600 - 3600, and not -1, which keeps retrying until the records expire): a batch given up must still be in the stream for kstream redrive."
  }
}

variable "starting_position" {
  description = "Where the mapping starts reading (kinesis-lambda-consumer: starting_position)."
  type        = string
  default     = "LATEST"
}

variable "starting_position_timestamp" {
  description = "Start time with AT_TIMESTAMP (kinesis-lambda-consumer: starting_position_timestamp)."
  type        = string
  default     = null
}

variable "maximum_batching_window_in_seconds" {
  description = "Time to gather records before invoking; null: Lambda's default (kinesis-lambda-consumer: maximum_batching_window_in_seconds)."
  type        = number
  default     = null
}

variable "filter_patterns" {
  description = "Event-filter JSON patterns; empty: every record is processed (kinesis-lambda-consumer: filter_patterns)."
  type        = list(string)
  default     = []
}

variable "failure_queue_kms_key_arn" {
  description = "Customer-managed KMS key of the failure queue; null: alias/aws/sqs (kinesis-lambda-consumer: failure_queue_kms_key_arn)."
  type        = string
  default     = null
}

################################################################################
# Logs (lambda-function and apigw-kinesis-proxy modules, same variable names)
################################################################################

variable "log_retention_in_days" {
  description = "Retention of the consumer's and the API's log groups (lambda-function and apigw-kinesis-proxy: log_retention_in_days)."
  type        = number
  default     = 365
}

variable "log_kms_key_arn" {
  description = "KMS key of every log group of the pattern; null: CloudWatch Logs' own encryption (lambda-function and apigw-kinesis-proxy: log_kms_key_arn)."
  type        = string
  default     = null
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

################################################################################
# Redrive workflow (redrive-workflow module): off by default
################################################################################

variable "redrive_workflow" {
  description = "Optional Step Functions workflow that redrives the failure queue (redrive-workflow module): the redrive function (functions/redrive) reads each failed range back from the stream while it is retained, on demand (aws stepfunctions start-execution) or on schedule_expression; Lambda's errors are retried with backoff, and the alarm topic is notified when a run fails or leaves records. enabled (default false); mode: invoke (the consumer function again, with the range as a Kinesis event; a record it keeps failing stays in the queue); reput (the records into the stream again: every consumer reads them again, and one that keeps failing comes back to the queue); default invoke. schedule_expression: null (the default) runs on demand only (redrive-workflow: schedule_expression); max_messages per pass, null: as many as a pass's time allows (redrive-workflow: max_messages); delete_unrecoverable (default false: ranges the stream no longer holds stay in the queue and are notified every run); tracing_enabled (default false); package_path of the function (default target/lambda/redrive/bootstrap.zip, relative to the repository root or absolute). Needs the alarm topic (create_alarm_topic, or alarm_topic_arn)."
  type = object({
    enabled              = optional(bool, false)
    mode                 = optional(string, "invoke")
    schedule_expression  = optional(string)
    max_messages         = optional(number)
    delete_unrecoverable = optional(bool, false)
    tracing_enabled      = optional(bool, false)
    package_path         = optional(string, "target/lambda/redrive/bootstrap.zip")
  })
  default  = {}
  nullable = false

  validation {
    condition     = contains(["invoke", "reput"], var.redrive_workflow.mode)
    error_message = "redrive_workflow.mode must be one of invoke, reput in this pattern."
  }
  validation {
    condition     = !var.redrive_workflow.enabled || var.create_alarm_topic || var.alarm_topic_arn != null
    error_message = "redrive_workflow.enabled needs the alarm topic it notifies: create_alarm_topic = true (the default) or alarm_topic_arn."
  }
}

################################################################################
# Failed-record archive (failed-record-archive module; off by default)
################################################################################

variable "failed_record_archive" {
  description = "Archive every record the consumer reports as a batch item failure to a KMS-encrypted, TLS-only S3 bucket before Lambda gives it up: <prefix><shard-id>/<sequence>[-<sub-sequence>].json (payload base64, reason, shard, sequence numbers, arrival time, function), the same key on every retry. Off by default (enabled = false). expiration_days: 1 to 3650 (default 30); prefix: ending in '/' (default failed-records/); kms_key_arn: null creates a key (about 1 USD a month). force_destroy and tls_only_policy are for the emulator only: secure-bucket refuses tls_only_policy = false on a real account."
  type = object({
    enabled         = optional(bool, false)
    expiration_days = optional(number, 30)
    prefix          = optional(string, "failed-records/")
    kms_key_arn     = optional(string)
    force_destroy   = optional(bool, false)
    tls_only_policy = optional(bool, true)
  })
  default  = {}
  nullable = false

  validation {
    condition     = var.failed_record_archive.enabled != null && var.failed_record_archive.expiration_days != null && var.failed_record_archive.prefix != null
    error_message = "failed_record_archive: enabled, expiration_days and prefix may not be null (leave them out for the defaults)."
  }
  validation {
    condition     = try(var.failed_record_archive.expiration_days >= 1 && var.failed_record_archive.expiration_days <= 3650 && floor(var.failed_record_archive.expiration_days) == var.failed_record_archive.expiration_days, false)
    error_message = "failed_record_archive.expiration_days must be a whole number of days from 1 to 3650."
  }
  validation {
    condition     = try(length(var.failed_record_archive.prefix) >= 1 && length(var.failed_record_archive.prefix) <= 256 && endswith(var.failed_record_archive.prefix, "/") && !startswith(var.failed_record_archive.prefix, "/") && !strcontains(var.failed_record_archive.prefix, "//") && !strcontains(var.failed_record_archive.prefix, "*"), false)
    error_message = "failed_record_archive.prefix must be 1 to 256 characters, end in '/', not start with '/', and hold neither '//' nor '*'."
  }
}
