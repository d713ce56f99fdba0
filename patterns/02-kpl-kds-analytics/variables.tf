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
  description = "Prefix of every resource name (stream <prefix>-stream, functions <prefix>-analytics and <prefix>-producer, bucket <prefix>-<account>-<region>, Glue database <prefix> with '_', ...). 3 to 24 characters: lowercase letters, digits and '-', starting with a letter and not ending with '-' (it also names the S3 buckets)."
  type        = string
  default     = "kstream-p2"

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
  description = "ARN of an existing Kinesis data stream to read (and, with the scheduled producer, write) instead of creating one. null (the default): the pattern creates <prefix>-stream. With an existing stream the stream_* settings below are not used, except stream_kms_key_arn (its customer-managed key, if any)."
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
  description = "Customer-managed KMS key of the stream, created or existing; null: alias/aws/kinesis (kinesis-stream: kms_key_arn; the producer and the analytics mapping are granted its use)."
  type        = string
  default     = null
}

variable "enhanced_monitoring" {
  description = "Shard-level metrics on the created stream (kinesis-stream: enhanced_monitoring)."
  type        = bool
  default     = false
}

################################################################################
# Analytics function (lambda-function module; code: functions/stream-analytics)
################################################################################

variable "analytics_package_path" {
  description = "Deployment zip of the analytics function, relative to the repository root or absolute; the default is what `make build` writes (lambda-function: package_path)."
  type        = string
  default     = "target/lambda/stream-analytics/bootstrap.zip"
}

variable "analytics_timeout_seconds" {
  description = "Timeout of one analytics invocation (lambda-function: timeout_seconds)."
  type        = number
  default     = 60
}

variable "analytics_memory_size_mb" {
  description = "Memory of the analytics function (lambda-function: memory_size_mb)."
  type        = number
  default     = 256
}

variable "analytics_log_level" {
  description = "Lowest level of the analytics function's own log lines kept (lambda-function: application_log_level)."
  type        = string
  default     = "INFO"
}

variable "price_threshold" {
  description = "PRICE_THRESHOLD of the analytics function: the records with a price strictly above it are written as filtered rows (the reference's query keeps price > 50). A finite number; default 50."
  type        = number
  default     = 50

  validation {
    condition     = var.price_threshold != null && abs(var.price_threshold) < 1e15
    error_message = "price_threshold must be a finite number (its absolute value below 1e15)."
  }
}

variable "rows_prefix" {
  description = "ROWS_PREFIX of the analytics function: key prefix of the filtered rows, under which it writes ticker=<ticker>/dt=<yyyy-MM-dd>/hr=<HH>/ (the Glue table filtered reads there). Empty or ending with '/', not starting with '/', no '//', at most 256 characters; distinct from aggregates_prefix and neither inside the other. Default filtered/."
  type        = string
  default     = "filtered/"

  validation {
    condition     = var.rows_prefix == "" || (length(var.rows_prefix) <= 256 && endswith(var.rows_prefix, "/") && !startswith(var.rows_prefix, "/") && !strcontains(var.rows_prefix, "//") && !strcontains(var.rows_prefix, "!{"))
    error_message = "rows_prefix must be empty or at most 256 characters ending with '/', not starting with '/', without '//'."
  }
  validation {
    condition     = !startswith(var.rows_prefix, var.aggregates_prefix) && !startswith(var.aggregates_prefix, var.rows_prefix)
    error_message = "rows_prefix and aggregates_prefix must differ and neither may be inside the other: each Glue table reads everything under its prefix."
  }
}

variable "aggregates_prefix" {
  description = "AGGREGATES_PREFIX of the analytics function: key prefix of the window aggregates, under which it writes dt=<yyyy-MM-dd>/hr=<HH>/ of the window start (the Glue table aggregates reads there). Same rules as rows_prefix. Default aggregates/."
  type        = string
  default     = "aggregates/"

  validation {
    condition     = var.aggregates_prefix == "" || (length(var.aggregates_prefix) <= 256 && endswith(var.aggregates_prefix, "/") && !startswith(var.aggregates_prefix, "/") && !strcontains(var.aggregates_prefix, "//") && !strcontains(var.aggregates_prefix, "!{"))
    error_message = "aggregates_prefix must be empty or at most 256 characters ending with '/', not starting with '/', without '//'."
  }
}

variable "metrics_namespace" {
  description = "CloudWatch namespace of the functions' embedded-metric-format metrics (Records, UserRecords, FailedRecords, FilteredRows, ObjectsWritten, StateBytes, WindowsClosed, WindowsTerminatedEarly), of their alarms and dashboard widgets. 1 to 255 characters, not starting with AWS/."
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

variable "tumbling_window_in_seconds" {
  description = "Tumbling window of the analytics mapping, in seconds: the aggregates are per shard and window of arrival time. An integer from 1 to 900; default 60 (checked here: the pattern is the windowed analytics, so the module's 0, no window, is refused)."
  type        = number
  default     = 60

  validation {
    condition     = var.tumbling_window_in_seconds >= 1 && var.tumbling_window_in_seconds <= 900 && floor(var.tumbling_window_in_seconds) == var.tumbling_window_in_seconds
    error_message = "tumbling_window_in_seconds must be an integer from 1 to 900 (Lambda's tumbling windows last at most 15 minutes)."
  }
}

variable "batch_size" {
  description = "Records per analytics invocation at most (kinesis-lambda-consumer: batch_size)."
  type        = number
  default     = 100
}

variable "parallelization_factor" {
  description = "Concurrent batches per shard; 1 with a tumbling window (kinesis-lambda-consumer: parallelization_factor)."
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
# Serverless producer (lambda-function and lambda-schedule modules; code: functions/scheduled-producer)
################################################################################

variable "scheduled_producer_enabled" {
  description = "Deploy the serverless producer: functions/scheduled-producer on an EventBridge Scheduler schedule, writing KPL-aggregated ticker records to the stream. Default true; false when another producer (kstream produce, the KPL on a host) writes the stream."
  type        = bool
  default     = true
  nullable    = false
}

variable "scheduled_producer_package_path" {
  description = "Deployment zip of the scheduled producer, relative to the repository root or absolute; the default is what `make build` writes (lambda-function: package_path)."
  type        = string
  default     = "target/lambda/scheduled-producer/bootstrap.zip"
}

variable "scheduled_producer_schedule_expression" {
  description = "When the producer runs (lambda-schedule: schedule_expression)."
  type        = string
  default     = "rate(1 minute)"
}

variable "scheduled_producer_records_per_run" {
  description = "RECORDS_PER_RUN of the producer: ticker records one run writes. An integer from 1 to 1000000; default 6000 (a minute at 100 records/s, the reference's KPL demo), and it must fit the run's timeout at scheduled_producer_rate."
  type        = number
  default     = 6000

  validation {
    condition     = var.scheduled_producer_records_per_run >= 1 && var.scheduled_producer_records_per_run <= 1000000 && floor(var.scheduled_producer_records_per_run) == var.scheduled_producer_records_per_run
    error_message = "scheduled_producer_records_per_run must be an integer from 1 to 1000000."
  }
  validation {
    condition     = var.scheduled_producer_records_per_run / var.scheduled_producer_rate <= var.scheduled_producer_timeout_seconds - 10
    error_message = "scheduled_producer_records_per_run / scheduled_producer_rate (the seconds one run takes) must stay 10 s below scheduled_producer_timeout_seconds."
  }
}

variable "scheduled_producer_rate" {
  description = "RATE of the producer: records per second it writes at. A number from 1 to 10000; default 100 (the reference's KPL demo)."
  type        = number
  default     = 100

  validation {
    condition     = var.scheduled_producer_rate >= 1 && var.scheduled_producer_rate <= 10000
    error_message = "scheduled_producer_rate must be from 1 to 10000 records per second."
  }
}

variable "scheduled_producer_timeout_seconds" {
  description = "Timeout of one producer run (lambda-function: timeout_seconds)."
  type        = number
  default     = 90
}

variable "scheduled_producer_memory_size_mb" {
  description = "Memory of the producer (lambda-function: memory_size_mb)."
  type        = number
  default     = 128
}

variable "scheduled_producer_maximum_retry_attempts" {
  description = "Retries of a producer invocation the scheduler could not make (lambda-schedule: maximum_retry_attempts)."
  type        = number
  default     = 2
}

variable "scheduled_producer_maximum_event_age_in_seconds" {
  description = "How long the scheduler retries an invocation before it goes to the schedule's dead-letter queue (lambda-schedule: maximum_event_age_in_seconds)."
  type        = number
  default     = 600
}

################################################################################
# Output bucket (secure-bucket module) and Glue tables (glue-table module)
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
  description = "Customer-managed KMS key of the output bucket; null: SSE-S3; the analytics function is granted kms:GenerateDataKey on it (secure-bucket: kms_key_arn)."
  type        = string
  default     = null
}

variable "bucket_versioning" {
  description = "The output bucket keeps object versions (secure-bucket: versioning_enabled)."
  type        = bool
  default     = false
}

################################################################################
# Alarms on the analytics (alarms module: metric_alarms, on the function's EMF metrics)
################################################################################

variable "window_state_alarm_bytes" {
  description = "Alarm when a window's state (the StateBytes metric, Maximum over a minute) reaches this many bytes: Lambda ends a window early at 1 MB. An integer from 1024 to 1048576; default 838861 (80 % of 1 MiB)."
  type        = number
  default     = 838861

  validation {
    condition     = var.window_state_alarm_bytes >= 1024 && var.window_state_alarm_bytes <= 1048576 && floor(var.window_state_alarm_bytes) == var.window_state_alarm_bytes
    error_message = "window_state_alarm_bytes must be an integer from 1024 to 1048576 (Lambda's 1 MB state limit)."
  }
}

variable "output_freshness_windows" {
  description = "Alarm when the analytics function wrote no object (ObjectsWritten) for this many windows in a row, no data counting as none written. An integer from 1 to 96 (the alarm looks back at most a day); default 3."
  type        = number
  default     = 3

  validation {
    condition     = var.output_freshness_windows >= 1 && var.output_freshness_windows <= 96 && floor(var.output_freshness_windows) == var.output_freshness_windows && var.output_freshness_windows * max(60, ceil(var.tumbling_window_in_seconds / 60) * 60) <= 86400
    error_message = "output_freshness_windows must be an integer from 1 to 96, and output_freshness_windows x the window (rounded up to whole minutes) at most a day (86400 s)."
  }
}

################################################################################
# Logs (lambda-function module, same variable names)
################################################################################

variable "log_retention_in_days" {
  description = "Retention of the functions' log groups (lambda-function: log_retention_in_days)."
  type        = number
  default     = 365
}

variable "log_kms_key_arn" {
  description = "KMS key of the functions' log groups; null: CloudWatch Logs' own encryption (lambda-function: log_kms_key_arn)."
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
# Managed Service for Apache Flink option (managed-flink module), off by default
################################################################################

variable "flink_enabled" {
  description = "Also run the analytics as a PyFlink application on Managed Service for Apache Flink (flink/ticker-analytics: package and upload its ZIP first, see its README). It writes under flink_rows_prefix and flink_aggregates_prefix of the same bucket. Billed per KPU-hour while running. Default false."
  type        = bool
  default     = false
}

variable "flink_start_application" {
  description = "Start the Flink application on apply (managed-flink: start_application). false: deployed stopped; start it with aws kinesisanalyticsv2 start-application."
  type        = bool
  default     = false
}

variable "flink_runtime_environment" {
  description = "Flink runtime (managed-flink: runtime_environment)."
  type        = string
  default     = "FLINK-1_20"
}

variable "flink_code_bucket_arn" {
  description = "ARN of the bucket holding the application ZIP. null (the default): the pattern's output bucket (managed-flink: code_bucket_arn)."
  type        = string
  default     = null
}

variable "flink_code_object_key" {
  description = "Key of the application ZIP (managed-flink: code_object_key)."
  type        = string
  default     = "artifacts/flink/ticker-analytics.zip"
}

variable "flink_code_object_version" {
  description = "S3 version id of the ZIP; null: the latest (managed-flink: code_object_version)."
  type        = string
  default     = null
}

variable "flink_code_kms_key_arn" {
  description = "KMS key of flink_code_bucket_arn, when that is given and uses one (managed-flink: code_kms_key_arn). With the output bucket, bucket_kms_key_arn is used."
  type        = string
  default     = null
}

variable "flink_rows_prefix" {
  description = "Key prefix of the Flink application's filtered rows (managed-flink: rows_prefix). Must not be inside, or contain, rows_prefix or aggregates_prefix (the Lambda's): each Glue table reads everything under its prefix."
  type        = string
  default     = "flink/filtered/"

  validation {
    condition     = alltrue([for p in [var.rows_prefix, var.aggregates_prefix] : !startswith(var.flink_rows_prefix, p) && !startswith(p, var.flink_rows_prefix)])
    error_message = "flink_rows_prefix must not be inside, or contain, rows_prefix or aggregates_prefix."
  }
}

variable "flink_aggregates_prefix" {
  description = "Key prefix of the Flink application's window aggregates (managed-flink: aggregates_prefix). Same rule as flink_rows_prefix."
  type        = string
  default     = "flink/aggregates/"

  validation {
    condition     = alltrue([for p in [var.rows_prefix, var.aggregates_prefix] : !startswith(var.flink_aggregates_prefix, p) && !startswith(p, var.flink_aggregates_prefix)])
    error_message = "flink_aggregates_prefix must not be inside, or contain, rows_prefix or aggregates_prefix."
  }
}

variable "flink_parallelism" {
  description = "Parallelism of the Flink job (managed-flink: parallelism)."
  type        = number
  default     = 1
}

variable "flink_parallelism_per_kpu" {
  description = "Parallel tasks per KPU (managed-flink: parallelism_per_kpu)."
  type        = number
  default     = 1
}

variable "flink_auto_scaling_enabled" {
  description = "Let the service scale the Flink job (managed-flink: auto_scaling_enabled)."
  type        = bool
  default     = false
}

################################################################################
# EC2 producer host (ec2-producer-host module), off by default
################################################################################

variable "producer_host_enabled" {
  description = "Run kstream produce on an EC2 host (the reference's KPL host, SSM-only), in addition to or instead of the scheduled producer. Needs producer_host_vpc_id, producer_host_subnet_id and the uploaded binary (producer_host_binary_*). Default false."
  type        = bool
  default     = false

  validation {
    condition     = !var.producer_host_enabled || (var.producer_host_vpc_id != null && var.producer_host_subnet_id != null && var.producer_host_binary_bucket != null && var.producer_host_binary_key != null && var.producer_host_binary_sha256 != null)
    error_message = "producer_host_enabled needs producer_host_vpc_id, producer_host_subnet_id, producer_host_binary_bucket, producer_host_binary_key and producer_host_binary_sha256."
  }
}

variable "producer_host_vpc_id" {
  description = "VPC of the host (ec2-producer-host: vpc_id)."
  type        = string
  default     = null
}

variable "producer_host_subnet_id" {
  description = "Subnet of the host, with outbound HTTPS through NAT or VPC endpoints (ec2-producer-host: subnet_id)."
  type        = string
  default     = null
}

variable "producer_host_public_ip" {
  description = "Give the host a public IP, for a public subnet without NAT (ec2-producer-host: associate_public_ip_address)."
  type        = bool
  default     = false
}

variable "producer_host_instance_type" {
  description = "Graviton instance type of the host (ec2-producer-host: instance_type)."
  type        = string
  default     = "t4g.small"
}

variable "producer_host_binary_bucket" {
  description = "Bucket holding the aarch64 kstream binary (ec2-producer-host: binary_bucket)."
  type        = string
  default     = null
}

variable "producer_host_binary_key" {
  description = "Key of the kstream binary (ec2-producer-host: binary_key)."
  type        = string
  default     = null
}

variable "producer_host_binary_sha256" {
  description = "SHA-256 of the kstream binary (ec2-producer-host: binary_sha256)."
  type        = string
  default     = null
}

variable "producer_host_binary_kms_key_arn" {
  description = "KMS key of the binary's bucket, if any (ec2-producer-host: binary_kms_key_arn)."
  type        = string
  default     = null
}

variable "producer_host_records_per_second" {
  description = "Records per second the host produces (ec2-producer-host: records_per_second)."
  type        = number
  default     = 100
}

################################################################################
# Redrive workflow (redrive-workflow module): off by default
################################################################################

variable "redrive_workflow" {
  description = "Optional Step Functions workflow that redrives the failure queue (redrive-workflow module): the redrive function (functions/redrive) reads each failed range back from the stream while it is retained, on demand (aws stepfunctions start-execution) or on schedule_expression; Lambda's errors are retried with backoff, and the alarm topic is notified when a run fails or leaves records. enabled (default false); mode: s3 (the records as JSON lines under redrive/ in the pattern's bucket, for inspection); reput (the records into the stream again: every consumer reads them again, and one that keeps failing comes back to the queue); default s3 (invoke is refused: stream-analytics takes tumbling-window events with their state, which a redrive does not rebuild). schedule_expression: null (the default) runs on demand only (redrive-workflow: schedule_expression); max_messages per pass, null: as many as a pass's time allows (redrive-workflow: max_messages); delete_unrecoverable (default false: ranges the stream no longer holds stay in the queue and are notified every run); tracing_enabled (default false); package_path of the function (default target/lambda/redrive/bootstrap.zip, relative to the repository root or absolute). Needs the alarm topic (create_alarm_topic, or alarm_topic_arn)."
  type = object({
    enabled              = optional(bool, false)
    mode                 = optional(string, "s3")
    schedule_expression  = optional(string)
    max_messages         = optional(number)
    delete_unrecoverable = optional(bool, false)
    tracing_enabled      = optional(bool, false)
    package_path         = optional(string, "target/lambda/redrive/bootstrap.zip")
  })
  default  = {}
  nullable = false

  validation {
    condition     = contains(["s3", "reput"], var.redrive_workflow.mode)
    error_message = "redrive_workflow.mode must be one of s3, reput in this pattern (stream-analytics takes tumbling-window events, which a redrive does not rebuild)."
  }
  validation {
    condition     = !var.redrive_workflow.enabled || var.create_alarm_topic || var.alarm_topic_arn != null
    error_message = "redrive_workflow.enabled needs the alarm topic it notifies: create_alarm_topic = true (the default) or alarm_topic_arn."
  }
}
