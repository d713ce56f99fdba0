# The pattern skeleton (patterns/README.md): the shared names first (region, name_prefix, tags,
# stream_arn, the function packages, the alarm topic), then this pattern's knobs.
# A variable that only hands a value to a module says which (module: variable) and has no
# validation of its own: the module's description documents the value and its validation rejects a
# bad one (tests/rejected/ proves it for this pattern). Only the pattern's own values are checked
# here: the prefix, region, tags and what it writes into the functions' environment.

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
  description = "Prefix of every resource name (stream <prefix>-stream, functions <prefix>-consumer and <prefix>-fare-api, API <prefix>-fare-api, key parameter /<prefix>-fare-api/api-key, bucket <prefix>-<account>-<region>, Glue database <prefix> with '_', ...). 3 to 24 characters: lowercase letters, digits and '-', starting with a letter and not ending with '-' (it also names the S3 buckets)."
  type        = string
  default     = "kstream-p4"

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
  description = "ARN of an existing Kinesis data stream of trip events to read instead of creating one. null (the default): the pattern creates <prefix>-stream. With an existing stream the stream_* settings below are not used, except stream_kms_key_arn (its customer-managed key, if any) (kinesis-lambda-consumer: stream_arn)."
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
  description = "Retention of the created stream; a batch can be retried until its records expire. 168 h (7 days) by default: a batch the consumer gives up can be read back with `kstream redrive` for days after (kinesis-stream: retention_period_hours)."
  type        = number
  default     = 168
}

variable "stream_kms_key_arn" {
  description = "Customer-managed KMS key of the stream, created or existing; null: alias/aws/kinesis (kinesis-stream: kms_key_arn; the consumer's mapping is granted its use)."
  type        = string
  default     = null
}

variable "enhanced_monitoring" {
  description = "Shard-level metrics on the created stream (kinesis-stream: enhanced_monitoring)."
  type        = bool
  default     = false
}

################################################################################
# Fare function (lambda-function module; code: functions/fare-api)
################################################################################

variable "fare_api_package_path" {
  description = "Deployment zip of the fare function, relative to the repository root or absolute; the default is what `make build` writes. Unused with fare_api_http_integration_uri (lambda-function: package_path)."
  type        = string
  default     = "target/lambda/fare-api/bootstrap.zip"
}

variable "fare_api_timeout_seconds" {
  description = "Timeout of one fare function invocation; API Gateway gives up after api_integration_timeout_ms anyway (lambda-function: timeout_seconds)."
  type        = number
  default     = 10
}

variable "fare_api_memory_size_mb" {
  description = "Memory of the fare function (lambda-function: memory_size_mb)."
  type        = number
  default     = 128
}

variable "fare_api_log_level" {
  description = "Lowest level of the fare function's own log lines kept (lambda-function: application_log_level)."
  type        = string
  default     = "INFO"
}

variable "fare_api_faults" {
  description = "TESTS ONLY: FARE_FAULTS of the fare function, its fault-injection mode, comma-separated key=value with keys error_rate, throttle_rate, slow_rate (fractions 0 to 1: share of 503, 429 and slow answers), slow_ms (delay of a slow answer) and until (RFC 3339 instant after which faults stop), e.g. \"error_rate=0.2,throttle_rate=0.05\". null (the default): no faults, the variable is not set. The function rejects a bad value at cold start; the pattern checks the shape. Never set it in production."
  type        = string
  default     = null

  validation {
    condition     = var.fare_api_faults == null || can(regex("^(error_rate|throttle_rate|slow_rate|slow_ms|until)=[^,=\\s]+(,(error_rate|throttle_rate|slow_rate|slow_ms|until)=[^,=\\s]+)*$", coalesce(var.fare_api_faults, "-")))
    error_message = "fare_api_faults must be null or comma-separated key=value pairs with keys error_rate, throttle_rate, slow_rate, slow_ms or until (e.g. \"error_rate=0.2,throttle_rate=0.05\")."
  }
}

variable "fare_api_http_integration_uri" {
  description = "HTTPS URL of an HTTP fare backend (e.g. an endpoint in front of a SageMaker model) to put behind the API instead of the fare function, which is then not created. It answers GET ?ride_request_id=N like functions/fare-api. null (the default): the fare function (apigw-lambda-api: http_integration_uri)."
  type        = string
  default     = null
}

################################################################################
# Fare API (apigw-lambda-api module)
################################################################################

variable "api_resource_path" {
  description = "Path of the fare resource, GET /<path> (apigw-lambda-api: resource_path)."
  type        = string
  default     = "predictFare"
}

variable "api_stage_name" {
  description = "Stage of the REST API, part of its URL (apigw-lambda-api: stage_name)."
  type        = string
  default     = "prod"
}

variable "api_endpoint_type" {
  description = "Endpoint type of the REST API (apigw-lambda-api: endpoint_type)."
  type        = string
  default     = "REGIONAL"
}

variable "api_integration_timeout_ms" {
  description = "How long API Gateway waits for the fare backend, in ms (apigw-lambda-api: integration_timeout_ms)."
  type        = number
  default     = 29000
}

variable "api_throttle_rate_limit" {
  description = "Usage plan rate of the API key, requests per second; the reference's 20 (apigw-lambda-api: throttle_rate_limit)."
  type        = number
  default     = 20
}

variable "api_throttle_burst_limit" {
  description = "Usage plan burst of the API key, requests; the reference's 100 (apigw-lambda-api: throttle_burst_limit)."
  type        = number
  default     = 100
}

variable "api_quota_limit" {
  description = "Usage plan quota of the API key, requests per api_quota_period; null: no quota (apigw-lambda-api: quota_limit)."
  type        = number
  default     = null
}

variable "api_quota_period" {
  description = "Period of the quota: DAY, WEEK or MONTH (apigw-lambda-api: quota_period)."
  type        = string
  default     = "DAY"
}

variable "api_key_store" {
  description = "Where the generated API key is kept and the consumer reads it at cold start: ssm (SecureString; API_KEY_PARAMETER) or secretsmanager (API_KEY_SECRET_ID) (apigw-lambda-api: api_key_store)."
  type        = string
  default     = "ssm"
}

variable "api_key_kms_key_arn" {
  description = "Customer-managed KMS key of the stored API key; null: the AWS-managed key; the consumer is granted kms:Decrypt on it (apigw-lambda-api: api_key_kms_key_arn)."
  type        = string
  default     = null
}

variable "api_key_secret_recovery_window_in_days" {
  description = "Recovery window of the secret with api_key_store = secretsmanager, days (apigw-lambda-api: api_key_secret_recovery_window_in_days)."
  type        = number
  default     = 7
}

variable "api_xray_tracing_enabled" {
  description = "Trace API requests with X-Ray (apigw-lambda-api: xray_tracing_enabled)."
  type        = bool
  default     = true
}

variable "api_detailed_metrics_enabled" {
  description = "Per-method API metrics, billed as custom metrics (apigw-lambda-api: detailed_metrics_enabled)."
  type        = bool
  default     = false
}

variable "api_execution_logging_level" {
  description = "API Gateway execution logging (apigw-lambda-api: execution_logging_level)."
  type        = string
  default     = "INFO"
}

variable "waf_web_acl_arn" {
  description = "A regional WAFv2 web ACL to associate with the API stage; null: none (apigw-lambda-api: waf_web_acl_arn)."
  type        = string
  default     = null
}

variable "manage_api_gateway_account" {
  description = "Set the account's API Gateway CloudWatch role, region-wide; false when something else (pattern 1 in the same account and region) manages it (apigw-lambda-api: manage_account_cloudwatch_role)."
  type        = bool
  default     = true
}

################################################################################
# Enrichment consumer (lambda-function module; code: functions/enrichment-consumer)
################################################################################

variable "consumer_package_path" {
  description = "Deployment zip of the enrichment consumer, relative to the repository root or absolute; the default is what `make build` writes (lambda-function: package_path)."
  type        = string
  default     = "target/lambda/enrichment-consumer/bootstrap.zip"
}

variable "consumer_timeout_seconds" {
  description = "Timeout of one consumer invocation; retries of the fare calls stop in time to write the batch's rows before it (lambda-function: timeout_seconds)."
  type        = number
  default     = 60
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

variable "sample_every" {
  description = "SAMPLE_EVERY of the consumer: a trip is sampled (the fare API called for it) when ride_request_id % N == 0, the reference's rule, so a retried batch samples the same trips. An integer from 1 (every trip) to 1000000; default 20 (the reference's)."
  type        = number
  default     = 20

  validation {
    condition     = var.sample_every >= 1 && var.sample_every <= 1000000 && floor(var.sample_every) == var.sample_every
    error_message = "sample_every must be an integer from 1 to 1000000."
  }
}

variable "max_in_flight" {
  description = "MAX_IN_FLIGHT of the consumer: fare API calls in flight at once per invocation. An integer from 1 to 256; default 20 (the reference's async capacity). Each shard (times parallelization_factor) runs its own invocation, all sharing the usage plan's rate."
  type        = number
  default     = 20

  validation {
    condition     = var.max_in_flight >= 1 && var.max_in_flight <= 256 && floor(var.max_in_flight) == var.max_in_flight
    error_message = "max_in_flight must be an integer from 1 to 256."
  }
}

variable "max_calls_per_second" {
  description = "MAX_CALLS_PER_SECOND of the consumer: fare API call attempts each shard's consumer starts per second, so that all of them together stay under the usage plan instead of being throttled by it. An integer from 1 to 10000; null (default): the plan's api_throttle_rate_limit divided by shard_count times parallelization_factor (a PROVISIONED stream created here), else the whole rate (set it for an ON_DEMAND or existing stream)."
  type        = number
  default     = null

  validation {
    condition     = var.max_calls_per_second == null || try(var.max_calls_per_second >= 1 && var.max_calls_per_second <= 10000 && floor(var.max_calls_per_second) == var.max_calls_per_second, false)
    error_message = "max_calls_per_second must be null or an integer from 1 to 10000."
  }
}

variable "call_timeout_ms" {
  description = "CALL_TIMEOUT_MS of the consumer: timeout of one call attempt, in ms, under API Gateway's 29 s. An integer from 100 to 28000, shorter than the consumer's timeout; default 3000."
  type        = number
  default     = 3000

  validation {
    condition     = var.call_timeout_ms >= 100 && var.call_timeout_ms <= 28000 && floor(var.call_timeout_ms) == var.call_timeout_ms
    error_message = "call_timeout_ms must be an integer from 100 to 28000 (API Gateway answers 504 after 29 s)."
  }
  validation {
    condition     = var.call_timeout_ms < var.consumer_timeout_seconds * 1000
    error_message = "call_timeout_ms must be shorter than consumer_timeout_seconds: one attempt has to fit in an invocation."
  }
}

variable "max_attempts" {
  description = "MAX_ATTEMPTS of the consumer: attempts per sampled trip, the first included; 429, 5xx, timeouts and connection errors are retried with jittered exponential backoff while the invocation's time and the retry budget allow. An integer from 1 to 10; default 4."
  type        = number
  default     = 4

  validation {
    condition     = var.max_attempts >= 1 && var.max_attempts <= 10 && floor(var.max_attempts) == var.max_attempts
    error_message = "max_attempts must be an integer from 1 to 10."
  }
}

variable "retry_budget_percent" {
  description = "RETRY_BUDGET_PERCENT of the consumer: retries allowed per invocation as a share of its first calls (plus a floor of 10), so a failing endpoint is not hammered. An integer from 0 to 100; default 20."
  type        = number
  default     = 20

  validation {
    condition     = var.retry_budget_percent >= 0 && var.retry_budget_percent <= 100 && floor(var.retry_budget_percent) == var.retry_budget_percent
    error_message = "retry_budget_percent must be an integer from 0 to 100."
  }
}

variable "write_unsampled" {
  description = "WRITE_UNSAMPLED of the consumer: also write the trips not sampled (expected_fare null, sampled false), so every trip lands in S3. Default false: only sampled trips, with their fare."
  type        = bool
  default     = false
  nullable    = false
}

variable "output_prefix" {
  description = "OUTPUT_PREFIX of the consumer: key prefix of the enriched rows, under which it writes dt=<pickup yyyy-MM-dd>/hr=<HH>/ (the Glue table enriched reads there). 1 to 256 characters ending with '/', not starting with '/', no '//'; distinct from error_prefix and neither inside the other. Default enriched/."
  type        = string
  default     = "enriched/"

  validation {
    condition     = length(var.output_prefix) >= 1 && length(var.output_prefix) <= 256 && endswith(var.output_prefix, "/") && !startswith(var.output_prefix, "/") && !strcontains(var.output_prefix, "//")
    error_message = "output_prefix must be 1 to 256 characters ending with '/', not starting with '/', without '//'."
  }
  validation {
    condition     = !startswith(var.output_prefix, var.error_prefix) && !startswith(var.error_prefix, var.output_prefix)
    error_message = "output_prefix and error_prefix must differ and neither may be inside the other: the Glue table reads everything under output_prefix."
  }
}

variable "error_prefix" {
  description = "ERROR_PREFIX of the consumer: key prefix of the records it cannot parse (dt=<yyyy-MM-dd>/ below it, one JSON line per record with its reason and base64 data). Same rules as output_prefix. Default errors/."
  type        = string
  default     = "errors/"

  validation {
    condition     = length(var.error_prefix) >= 1 && length(var.error_prefix) <= 256 && endswith(var.error_prefix, "/") && !startswith(var.error_prefix, "/") && !strcontains(var.error_prefix, "//")
    error_message = "error_prefix must be 1 to 256 characters ending with '/', not starting with '/', without '//'."
  }
}

variable "metrics_namespace" {
  description = "CloudWatch namespace of the functions' embedded-metric-format metrics (Records, Trips, Sampled, Calls, CallLatency, Retries, Throttles, CallFailures, Skipped, ParseFailures, RowsWritten, BatchItemFailures), of their alarms and dashboard widgets. 1 to 255 characters, not starting with AWS/."
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
  description = "Retries of a batch with a failed trip before its range goes to the failure queue (kinesis-lambda-consumer: maximum_retry_attempts)."
  type        = number
  default     = 5
}

variable "maximum_record_age_in_seconds" {
  description = "Age after which records go to the failure queue unprocessed; one hour lets a fare API outage of several minutes heal by itself (kinesis-lambda-consumer: maximum_record_age_in_seconds). It stays at least an hour below the created stream's retention, so that a batch given up is still in the stream for `kstream redrive` (not checked with stream_arn: the existing stream's retention is not known here)."
  type        = number
  default     = 3600
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

variable "maximum_batching_window_in_seconds" {
  description = "Time to gather records before invoking; null: Lambda's default (kinesis-lambda-consumer: maximum_batching_window_in_seconds)."
  type        = number
  default     = null
}

variable "enhanced_fan_out" {
  description = "Read through a registered stream consumer with dedicated throughput (kinesis-lambda-consumer: enhanced_fan_out)."
  type        = bool
  default     = false
}

variable "failure_queue_kms_key_arn" {
  description = "Customer-managed KMS key of the failure queue; null: alias/aws/sqs (kinesis-lambda-consumer: failure_queue_kms_key_arn)."
  type        = string
  default     = null
}

################################################################################
# Output bucket (secure-bucket module)
################################################################################

variable "force_destroy" {
  description = "Destroy deletes the buckets with their objects; true only for throwaway environments, as the emulator tests pass (secure-bucket: force_destroy)."
  type        = bool
  default     = false
}

variable "bucket_tls_only_policy" {
  description = "The output bucket's policy denies requests without TLS; false only on a local emulator that serves plain HTTP (secure-bucket: tls_only_policy)."
  type        = bool
  default     = true
}

variable "bucket_kms_key_arn" {
  description = "Customer-managed KMS key of the output bucket; null: SSE-S3; the consumer is granted kms:GenerateDataKey on it (secure-bucket: kms_key_arn)."
  type        = string
  default     = null
}

variable "bucket_versioning" {
  description = "The output bucket keeps object versions (secure-bucket: versioning_enabled)."
  type        = bool
  default     = false
}

################################################################################
# Alarms on the consumer's calls (alarms module: metric_alarms)
################################################################################

variable "throttles_alarm_threshold" {
  description = "Alarm when the fare API answered the consumer 429 (its Throttles metric) this many times in a minute or more. An integer from 1 to 1000000; default 10 (a few 429s are back-pressure the retries absorb)."
  type        = number
  default     = 10

  validation {
    condition     = var.throttles_alarm_threshold >= 1 && var.throttles_alarm_threshold <= 1000000 && floor(var.throttles_alarm_threshold) == var.throttles_alarm_threshold
    error_message = "throttles_alarm_threshold must be an integer from 1 to 1000000."
  }
}

################################################################################
# Logs (lambda-function and apigw-lambda-api modules, same variable names)
################################################################################

variable "log_retention_in_days" {
  description = "Retention of the functions' and the API's log groups (lambda-function and apigw-lambda-api: log_retention_in_days)."
  type        = number
  default     = 365
}

variable "log_kms_key_arn" {
  description = "KMS key of the functions' and the API's log groups; null: CloudWatch Logs' own encryption (lambda-function and apigw-lambda-api: log_kms_key_arn)."
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
  description = "Optional Step Functions workflow that redrives the failure queue (redrive-workflow module): the redrive function (functions/redrive) reads each failed range back from the stream while it is retained, on demand (aws stepfunctions start-execution) or on schedule_expression; Lambda's errors are retried with backoff, and the alarm topic is notified when a run fails or leaves records. enabled (default false); mode: invoke (the consumer function again, with the range as a Kinesis event; a record it keeps failing stays in the queue); reput (the records into the stream again: every consumer reads them again, and one that keeps failing comes back to the queue); s3 (the records as JSON lines under redrive/ in the pattern's bucket, for inspection); default invoke. schedule_expression: null (the default) runs on demand only (redrive-workflow: schedule_expression); max_messages per pass, null: as many as a pass's time allows (redrive-workflow: max_messages); delete_unrecoverable (default false: ranges the stream no longer holds stay in the queue and are notified every run); tracing_enabled (default false); package_path of the function (default target/lambda/redrive/bootstrap.zip, relative to the repository root or absolute). Needs the alarm topic (create_alarm_topic, or alarm_topic_arn)."
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
    condition     = contains(["invoke", "reput", "s3"], var.redrive_workflow.mode)
    error_message = "redrive_workflow.mode must be one of invoke, reput, s3 in this pattern."
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
  description = "Archive every record the consumer reports as a batch item failure to a KMS-encrypted, TLS-only S3 bucket before Lambda gives it up: <prefix><shard-id>/<sequence>[-<sub-sequence>].json (payload base64, reason, shard, sequence numbers, arrival time, function), the same key on every retry. Off by default (enabled = false). expiration_days: 1 to 3650 (default 30); prefix: ending in '/' (default failed-records/); kms_key_arn: null creates a key (about 1 USD a month). The bucket follows force_destroy and bucket_tls_only_policy."
  type = object({
    enabled         = optional(bool, false)
    expiration_days = optional(number, 30)
    prefix          = optional(string, "failed-records/")
    kms_key_arn     = optional(string)
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
