################################################################################
# Application
################################################################################

variable "application_name" {
  description = "Name of the Managed Service for Apache Flink application (also names its role <name>-role, log group /aws/kinesis-analytics/<name> and alarms <name>-<alarm>). 1 to 56 characters: letters, digits, '-' and '_' (the role name keeps 8 for its suffix)."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9_-]{1,56}$", var.application_name))
    error_message = "application_name must be 1 to 56 characters from [a-zA-Z0-9_-]."
  }
}

variable "description" {
  description = "Description of the application. Up to 1024 characters."
  type        = string
  default     = "kstream pattern 2 on Managed Flink: the reference's ticker filter and one-minute windows per ticker, PyFlink SQL"

  validation {
    condition     = length(var.description) <= 1024
    error_message = "description must be at most 1024 characters."
  }
}

variable "runtime_environment" {
  description = "Flink runtime: FLINK-1_20 (the default, the one the application and its Kinesis connector 5.0.0-1.20 are built for), FLINK-1_19 or FLINK-1_18 (then package the connector built for that Flink version: see flink/ticker-analytics/README.md)."
  type        = string
  default     = "FLINK-1_20"

  validation {
    condition     = contains(["FLINK-1_18", "FLINK-1_19", "FLINK-1_20"], var.runtime_environment)
    error_message = "runtime_environment must be one of FLINK-1_18, FLINK-1_19, FLINK-1_20."
  }
}

variable "start_application" {
  description = "Start the application on apply (it then runs, and is billed per KPU-hour, until stopped). false (the default) deploys it stopped: upload the code first, then start it (README). The downtime and millisBehindLatest alarms treat missing data as breaching only when this is true."
  type        = bool
  default     = false
}

variable "snapshots_enabled" {
  description = "Take a snapshot when the application is stopped or updated and restore from the latest one on start (exactly-once output across restarts)."
  type        = bool
  default     = true
}

################################################################################
# Code (a ZIP in S3: the Python, the SQL files and the Kinesis connector jar)
################################################################################

variable "code_bucket_arn" {
  description = "ARN of the S3 bucket holding the application ZIP (arn:<partition>:s3:::<bucket>)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-zA-Z-]*:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.code_bucket_arn))
    error_message = "code_bucket_arn must be an S3 bucket ARN (arn:<partition>:s3:::<bucket>)."
  }
}

variable "code_object_key" {
  description = "Key of the application ZIP in code_bucket_arn (e.g. flink/ticker-analytics.zip). 1 to 1024 characters, ending in .zip, no leading '/'."
  type        = string

  validation {
    condition     = length(var.code_object_key) >= 5 && length(var.code_object_key) <= 1024 && endswith(var.code_object_key, ".zip") && !startswith(var.code_object_key, "/")
    error_message = "code_object_key must be 5 to 1024 characters, end in .zip and not start with '/'."
  }
}

variable "code_object_version" {
  description = "S3 version id of the ZIP to run (a versioned bucket; changing it redeploys). null: the latest version."
  type        = string
  default     = null

  validation {
    condition     = var.code_object_version == null || try(length(var.code_object_version) >= 1 && length(var.code_object_version) <= 1024, false)
    error_message = "code_object_version must be null or 1 to 1024 characters."
  }
}

variable "code_kms_key_arn" {
  description = "ARN of the KMS key encrypting the code bucket, for kms:Decrypt on the role. null: the bucket uses SSE-S3 (or the key needs no grant)."
  type        = string
  default     = null

  validation {
    condition     = var.code_kms_key_arn == null || can(regex("^arn:aws[a-zA-Z-]*:kms:", var.code_kms_key_arn))
    error_message = "code_kms_key_arn must be null or a KMS key ARN."
  }
}

variable "python_entry" {
  description = "Path of the PyFlink entry point inside the ZIP (kinesis.analytics.flink.run.options python)."
  type        = string
  default     = "main.py"

  validation {
    condition     = can(regex("^[a-zA-Z0-9_./-]{1,256}\\.py$", var.python_entry)) && !startswith(var.python_entry, "/") && !strcontains(var.python_entry, "..")
    error_message = "python_entry must be a relative path inside the ZIP ending in .py (no '..', up to 256 characters)."
  }
}

variable "connector_jar_path" {
  description = "Path of the Kinesis SQL connector jar inside the ZIP (kinesis.analytics.flink.run.options jarfile). The default is the connector for Flink 1.20."
  type        = string
  default     = "lib/flink-sql-connector-kinesis-5.0.0-1.20.jar"

  validation {
    condition     = can(regex("^[a-zA-Z0-9_./-]{1,256}\\.jar$", var.connector_jar_path)) && !startswith(var.connector_jar_path, "/") && !strcontains(var.connector_jar_path, "..")
    error_message = "connector_jar_path must be a relative path inside the ZIP ending in .jar (no '..', up to 256 characters)."
  }
}

################################################################################
# Input stream and output bucket (the application's properties)
################################################################################

variable "input_stream_arn" {
  description = "ARN of the Kinesis data stream of ticker records (arn:<partition>:kinesis:<region>:<account>:stream/<name>). The application runs in its region."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-zA-Z-]*:kinesis:[a-z0-9-]+:[0-9]{12}:stream/[a-zA-Z0-9_.-]{1,128}$", var.input_stream_arn))
    error_message = "input_stream_arn must be a Kinesis stream ARN (arn:<partition>:kinesis:<region>:<account>:stream/<name>)."
  }
}

variable "input_stream_kms_key_arn" {
  description = "ARN of the customer-managed KMS key of the stream, for kms:Decrypt. null: the stream uses alias/aws/kinesis (no grant needed)."
  type        = string
  default     = null

  validation {
    condition     = var.input_stream_kms_key_arn == null || can(regex("^arn:aws[a-zA-Z-]*:kms:", var.input_stream_kms_key_arn))
    error_message = "input_stream_kms_key_arn must be null or a KMS key ARN."
  }
}

variable "source_init_position" {
  description = "Where a fresh start (no snapshot) begins reading: LATEST (the reference's scan.stream.initpos) or TRIM_HORIZON (everything the stream retains)."
  type        = string
  default     = "LATEST"

  validation {
    condition     = contains(["LATEST", "TRIM_HORIZON"], var.source_init_position)
    error_message = "source_init_position must be LATEST or TRIM_HORIZON."
  }
}

variable "output_bucket_arn" {
  description = "ARN of the S3 bucket the results go to (arn:<partition>:s3:::<bucket>): the pattern's secure-bucket."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-zA-Z-]*:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.output_bucket_arn))
    error_message = "output_bucket_arn must be an S3 bucket ARN (arn:<partition>:s3:::<bucket>)."
  }
}

variable "output_kms_key_arn" {
  description = "ARN of the KMS key encrypting the output bucket, for kms:GenerateDataKey and kms:Decrypt (multipart uploads need both). null: SSE-S3."
  type        = string
  default     = null

  validation {
    condition     = var.output_kms_key_arn == null || can(regex("^arn:aws[a-zA-Z-]*:kms:", var.output_kms_key_arn))
    error_message = "output_kms_key_arn must be null or a KMS key ARN."
  }
}

variable "rows_prefix" {
  description = "Key prefix of the filtered rows (ticker=…/dt=…/hr=… below it). Must differ from the Lambda's ROWS_PREFIX when both run, so the two engines never write into one table. 1 to 256 characters from [a-zA-Z0-9!_.*'()/-], ending in '/', not starting with '/'."
  type        = string
  default     = "flink/filtered/"

  validation {
    condition     = can(regex("^[a-zA-Z0-9!_.*'()-][a-zA-Z0-9!_.*'()/-]{0,254}/$", var.rows_prefix)) && !strcontains(var.rows_prefix, "//")
    error_message = "rows_prefix must be 1 to 256 characters from [a-zA-Z0-9!_.*'()/-], end in '/', and neither start with '/' nor contain '//'."
  }
}

variable "aggregates_prefix" {
  description = "Key prefix of the window aggregates (dt=…/hr=… below it). Same rules as rows_prefix; must not be inside it or contain it."
  type        = string
  default     = "flink/aggregates/"

  validation {
    condition     = can(regex("^[a-zA-Z0-9!_.*'()-][a-zA-Z0-9!_.*'()/-]{0,254}/$", var.aggregates_prefix)) && !strcontains(var.aggregates_prefix, "//")
    error_message = "aggregates_prefix must be 1 to 256 characters from [a-zA-Z0-9!_.*'()/-], end in '/', and neither start with '/' nor contain '//'."
  }
}

variable "price_threshold" {
  description = "Rows with price strictly above this are written (the reference's WHERE price > 50). A finite number from -1e15 to 1e15."
  type        = number
  default     = 50

  validation {
    condition     = var.price_threshold >= -1e15 && var.price_threshold <= 1e15
    error_message = "price_threshold must be a number from -1e15 to 1e15."
  }
}

variable "window_seconds" {
  description = "Length of the tumbling event-time window, in seconds: an integer from 1 to 900 (the Lambda's TumblingWindowInSeconds range; default 60, the issue's one-minute window). Use the Lambda's value to compare the two."
  type        = number
  default     = 60

  validation {
    condition     = var.window_seconds >= 1 && var.window_seconds <= 900 && floor(var.window_seconds) == var.window_seconds
    error_message = "window_seconds must be an integer from 1 to 900."
  }
}

variable "watermark_delay_seconds" {
  description = "Out-of-orderness the watermark allows, in seconds (WATERMARK FOR event_time AS event_time - this; the reference's 5). Records later than this behind the newest event time are dropped from the windows (the filtered rows keep them). An integer from 0 to 3600."
  type        = number
  default     = 5

  validation {
    condition     = var.watermark_delay_seconds >= 0 && var.watermark_delay_seconds <= 3600 && floor(var.watermark_delay_seconds) == var.watermark_delay_seconds
    error_message = "watermark_delay_seconds must be an integer from 0 to 3600."
  }
}

################################################################################
# Checkpoints and parallelism
################################################################################

variable "checkpoint_interval_ms" {
  description = "Interval between checkpoints, in ms (the reference notebook: 1 min). The S3 sink commits files on checkpoints, so this is also the output delay. An integer from 1000 to 3600000; default 60000."
  type        = number
  default     = 60000

  validation {
    condition     = var.checkpoint_interval_ms >= 1000 && var.checkpoint_interval_ms <= 3600000 && floor(var.checkpoint_interval_ms) == var.checkpoint_interval_ms
    error_message = "checkpoint_interval_ms must be an integer from 1000 to 3600000."
  }
}

variable "min_pause_between_checkpoints_ms" {
  description = "Least time between the end of one checkpoint and the start of the next, in ms. An integer from 0 to 3600000, at most checkpoint_interval_ms; default 5000 (AWS's default)."
  type        = number
  default     = 5000

  validation {
    condition     = var.min_pause_between_checkpoints_ms >= 0 && var.min_pause_between_checkpoints_ms <= 3600000 && floor(var.min_pause_between_checkpoints_ms) == var.min_pause_between_checkpoints_ms
    error_message = "min_pause_between_checkpoints_ms must be an integer from 0 to 3600000."
  }
}

variable "parallelism" {
  description = "Parallelism of the job (tasks per operator). KPUs = ceil(parallelism / parallelism_per_kpu), plus one for orchestration. An integer from 1 to 64; default 1."
  type        = number
  default     = 1

  validation {
    condition     = var.parallelism >= 1 && var.parallelism <= 64 && floor(var.parallelism) == var.parallelism
    error_message = "parallelism must be an integer from 1 to 64."
  }
}

variable "parallelism_per_kpu" {
  description = "Parallel tasks per KPU (1 vCPU, 4 GB). An integer from 1 to 8; default 1 (a PyFlink job runs Python workers beside the JVM: keep it low)."
  type        = number
  default     = 1

  validation {
    condition     = var.parallelism_per_kpu >= 1 && var.parallelism_per_kpu <= 8 && floor(var.parallelism_per_kpu) == var.parallelism_per_kpu
    error_message = "parallelism_per_kpu must be an integer from 1 to 8."
  }
}

variable "auto_scaling_enabled" {
  description = "Let the service raise parallelism under sustained CPU load (and lower it again). Off by default: the KPU alarm then also flags unexpected growth."
  type        = bool
  default     = false
}

################################################################################
# Logging and monitoring
################################################################################

variable "log_level" {
  description = "Level of the application's CloudWatch log: DEBUG, INFO (the default), WARN or ERROR."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(["DEBUG", "INFO", "WARN", "ERROR"], var.log_level)
    error_message = "log_level must be DEBUG, INFO, WARN or ERROR."
  }
}

variable "metrics_level" {
  description = "Granularity of the CloudWatch metrics: APPLICATION (the default; what the alarms read), TASK, OPERATOR or PARALLELISM (more metrics, more cost)."
  type        = string
  default     = "APPLICATION"

  validation {
    condition     = contains(["APPLICATION", "TASK", "OPERATOR", "PARALLELISM"], var.metrics_level)
    error_message = "metrics_level must be APPLICATION, TASK, OPERATOR or PARALLELISM."
  }
}

variable "log_retention_in_days" {
  description = "Retention of the /aws/kinesis-analytics/<name> log group, in days. One of the values CloudWatch Logs accepts: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653 (0 = never expire). Default 30 (the reference keeps a year)."
  type        = number
  default     = 30

  validation {
    condition     = contains([0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_in_days)
    error_message = "log_retention_in_days must be one of 0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

variable "log_kms_key_arn" {
  description = "ARN of a KMS key to encrypt the log group with (its key policy must allow logs.<region>.amazonaws.com). null (the default) uses CloudWatch Logs' own encryption."
  type        = string
  default     = null

  validation {
    condition     = var.log_kms_key_arn == null || can(regex("^arn:aws[a-zA-Z-]*:kms:", var.log_kms_key_arn))
    error_message = "log_kms_key_arn must be null or a KMS key ARN."
  }
}

variable "alarm_thresholds" {
  description = <<-EOT
    Alarm thresholds (namespace AWS/KinesisAnalytics, dimension Application, period 60 s, 1 evaluation period):
    kpus: KPUs Maximum >= this, in KPUs (a cost guard: the application grew, 1 to 1000; default 4);
    millis_behind_latest_ms: millisBehindLatest Maximum > this, in ms (the source falls behind the stream, 1 to 604800000; default 60000, the reference's).
    downtime > 0 (Average) and RATE(numberOfFailedCheckpoints) > 0 have no threshold to set.
  EOT
  type = object({
    kpus                    = optional(number, 4)
    millis_behind_latest_ms = optional(number, 60000)
  })
  default = {}

  validation {
    condition = (
      var.alarm_thresholds.kpus >= 1 && var.alarm_thresholds.kpus <= 1000 &&
      var.alarm_thresholds.millis_behind_latest_ms >= 1 && var.alarm_thresholds.millis_behind_latest_ms <= 604800000
    )
    error_message = "alarm_thresholds: kpus 1 to 1000, millis_behind_latest_ms 1 to 604800000."
  }
}

variable "sns_topic_arn" {
  description = "ARN of the SNS topic the alarms notify (the pattern's alarms module output). null: alarms have no actions."
  type        = string
  default     = null

  validation {
    condition     = var.sns_topic_arn == null || can(regex("^arn:aws[a-zA-Z-]*:sns:", var.sns_topic_arn))
    error_message = "sns_topic_arn must be null or an SNS topic ARN."
  }
}

variable "tags" {
  description = "Tags for every resource of the module (merged with the provider's default_tags). At most 45 entries, keys 1 to 128 and values up to 256 characters."
  type        = map(string)
  default     = {}

  validation {
    condition     = length(var.tags) <= 45 && alltrue([for k, v in var.tags : length(k) >= 1 && length(k) <= 128 && length(v) <= 256 && !startswith(lower(k), "aws:")])
    error_message = "tags: at most 45 (AWS allows 50, the provider's default_tags take some), keys 1 to 128 characters not starting with aws:, values up to 256."
  }
}
