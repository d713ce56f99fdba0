################################################################################
# Names and wiring
################################################################################

variable "name" {
  description = "Prefix for the resources this module names: the failure queue <name>-failures and the role policy <name>-kinesis-consumer. 1 to 60 characters: letters, digits, '-' and '_'."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9_-]{1,60}$", var.name))
    error_message = "name must be 1 to 60 characters from [a-zA-Z0-9_-]."
  }
}

variable "function_name" {
  description = "Name (or ARN) of the Lambda function that consumes the stream. 1 to 140 characters."
  type        = string

  validation {
    condition     = length(var.function_name) >= 1 && length(var.function_name) <= 140
    error_message = "function_name must be a function name or ARN, 1 to 140 characters."
  }
}

variable "function_role_name" {
  description = "Name of the function's execution role (1 to 64 characters); the module attaches the stream-read, failure-queue and KMS permissions the mapping needs to it."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9_+=,.@-]{1,64}$", var.function_role_name))
    error_message = "function_role_name must be an IAM role name: 1 to 64 characters from [a-zA-Z0-9_+=,.@-]."
  }
}

variable "stream_arn" {
  description = "ARN of the Kinesis data stream to read."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-zA-Z-]*:kinesis:[a-z0-9-]+:[0-9]{12}:stream/", var.stream_arn))
    error_message = "stream_arn must be a Kinesis stream ARN (arn:<partition>:kinesis:<region>:<account>:stream/<name>)."
  }
}

variable "stream_kms_key_arn" {
  description = "ARN of the stream's customer-managed KMS key, so the role gets kms:Decrypt on it. null when the stream uses the AWS-managed key."
  type        = string
  default     = null

  validation {
    condition     = var.stream_kms_key_arn == null || can(regex("^arn:aws[a-zA-Z-]*:kms:", var.stream_kms_key_arn))
    error_message = "stream_kms_key_arn must be null or a KMS key ARN."
  }
}

variable "enhanced_fan_out" {
  description = "Read through a registered stream consumer (enhanced fan-out: a dedicated 2 MB/s per shard pushed over HTTP/2, about 50 ms latency, priced per consumer-shard hour and GB) instead of the shared 2 MB/s per shard polled by every reader. Default false."
  type        = bool
  default     = false
  nullable    = false
}

variable "enhanced_fan_out_consumer_name" {
  description = "Name of the registered stream consumer with enhanced_fan_out; null (the default): <name>-consumer. 1 to 128 characters: letters, digits, '_', '.' and '-'."
  type        = string
  default     = null

  validation {
    condition     = var.enhanced_fan_out_consumer_name == null || can(regex("^[a-zA-Z0-9_.-]{1,128}$", coalesce(var.enhanced_fan_out_consumer_name, "x")))
    error_message = "enhanced_fan_out_consumer_name must be null or 1 to 128 characters from [a-zA-Z0-9_.-]."
  }
}

variable "enabled" {
  description = "Whether the mapping polls the stream (false pauses it without losing its position)."
  type        = bool
  default     = true
}

################################################################################
# Event source mapping
################################################################################

variable "batch_size" {
  description = "Largest number of records in one invocation. An integer from 1 to 10000."
  type        = number
  default     = 100

  validation {
    condition     = var.batch_size >= 1 && var.batch_size <= 10000 && floor(var.batch_size) == var.batch_size
    error_message = "batch_size must be an integer from 1 to 10000."
  }
}

variable "parallelization_factor" {
  description = "Number of batches processed concurrently per shard (records with the same partition key stay in order). An integer from 1 to 10; 1 when tumbling_window_in_seconds is on (the window state is kept per shard)."
  type        = number
  default     = 1

  validation {
    condition     = var.parallelization_factor >= 1 && var.parallelization_factor <= 10 && floor(var.parallelization_factor) == var.parallelization_factor
    error_message = "parallelization_factor must be an integer from 1 to 10."
  }
  validation {
    condition     = var.tumbling_window_in_seconds == 0 || var.parallelization_factor == 1
    error_message = "parallelization_factor must be 1 with a tumbling window (tumbling_window_in_seconds > 0): Lambda keeps one window state per shard."
  }
}

variable "tumbling_window_in_seconds" {
  description = "Tumbling window of the mapping, in seconds: Lambda groups records into windows by arrival time per shard and passes the state the function returned to the window's next invoke, with isFinalInvokeForWindow on the last. 0 (the default) turns windows off; on, an integer from 1 to 900, with parallelization_factor 1."
  type        = number
  default     = 0
  nullable    = false

  validation {
    condition     = var.tumbling_window_in_seconds >= 0 && var.tumbling_window_in_seconds <= 900 && floor(var.tumbling_window_in_seconds) == var.tumbling_window_in_seconds
    error_message = "tumbling_window_in_seconds must be 0 (off) or an integer from 1 to 900."
  }
}

variable "maximum_retry_attempts" {
  description = "How many times a failing batch is retried before its metadata goes to the failure queue. An integer from -1 (retry until the record expires) to 10000."
  type        = number
  default     = 3

  validation {
    condition     = var.maximum_retry_attempts >= -1 && var.maximum_retry_attempts <= 10000 && floor(var.maximum_retry_attempts) == var.maximum_retry_attempts
    error_message = "maximum_retry_attempts must be an integer from -1 to 10000."
  }
}

variable "maximum_record_age_in_seconds" {
  description = "Records older than this are not processed and go to the failure queue, in seconds. -1 (no limit) or an integer from 60 to 604800; default 86400 (24 h)."
  type        = number
  default     = 86400

  validation {
    condition     = floor(var.maximum_record_age_in_seconds) == var.maximum_record_age_in_seconds && (var.maximum_record_age_in_seconds == -1 || (var.maximum_record_age_in_seconds >= 60 && var.maximum_record_age_in_seconds <= 604800))
    error_message = "maximum_record_age_in_seconds must be -1 or an integer from 60 to 604800."
  }
}

variable "bisect_batch_on_function_error" {
  description = "Split a failing batch in two and retry each half, to isolate poison records."
  type        = bool
  default     = true
}

variable "starting_position" {
  description = "Where a new mapping starts reading: LATEST (new records only, the default), TRIM_HORIZON (oldest retained) or AT_TIMESTAMP (starting_position_timestamp)."
  type        = string
  default     = "LATEST"

  validation {
    condition     = contains(["LATEST", "TRIM_HORIZON", "AT_TIMESTAMP"], var.starting_position)
    error_message = "starting_position must be LATEST, TRIM_HORIZON or AT_TIMESTAMP."
  }
}

variable "starting_position_timestamp" {
  description = "RFC 3339 time to start reading from when starting_position is AT_TIMESTAMP (e.g. 2026-01-01T00:00:00Z); null otherwise."
  type        = string
  default     = null

  validation {
    condition     = var.starting_position_timestamp == null || can(timecmp(var.starting_position_timestamp, "2000-01-01T00:00:00Z"))
    error_message = "starting_position_timestamp must be null or an RFC 3339 timestamp."
  }
}

variable "maximum_batching_window_in_seconds" {
  description = "How long to gather records before invoking, in seconds: an integer from 0 to 300, or null for Lambda's default (0: invoke as soon as records arrive)."
  type        = number
  default     = null

  validation {
    condition     = var.maximum_batching_window_in_seconds == null || try(var.maximum_batching_window_in_seconds >= 0 && var.maximum_batching_window_in_seconds <= 300 && floor(var.maximum_batching_window_in_seconds) == var.maximum_batching_window_in_seconds, false)
    error_message = "maximum_batching_window_in_seconds must be null or an integer from 0 to 300."
  }
}

variable "filter_patterns" {
  description = "Event filtering: up to 5 JSON patterns (as strings, e.g. jsonencode({ data = { ticker = [\"AMZN\"] } })); a record is processed if any matches. Filtered-out records are dropped, not sent to the failure queue. Empty (the default) processes every record."
  type        = list(string)
  default     = []

  validation {
    condition     = length(var.filter_patterns) <= 5 && alltrue([for p in var.filter_patterns : can(jsondecode(p))])
    error_message = "filter_patterns must be at most 5 valid JSON strings."
  }
}

################################################################################
# Failure queue
################################################################################

variable "failure_queue_kms_key_arn" {
  description = "ARN of a customer-managed KMS key for the failure queue. null (the default) uses alias/aws/sqs."
  type        = string
  default     = null

  validation {
    condition     = var.failure_queue_kms_key_arn == null || can(regex("^arn:aws[a-zA-Z-]*:kms:", var.failure_queue_kms_key_arn))
    error_message = "failure_queue_kms_key_arn must be null or a KMS key ARN."
  }
}

variable "failure_queue_message_retention_seconds" {
  description = "How long the failure queue keeps failed-batch metadata, in seconds. An integer from 60 to 1209600 (14 days, the default)."
  type        = number
  default     = 1209600

  validation {
    condition     = var.failure_queue_message_retention_seconds >= 60 && var.failure_queue_message_retention_seconds <= 1209600 && floor(var.failure_queue_message_retention_seconds) == var.failure_queue_message_retention_seconds
    error_message = "failure_queue_message_retention_seconds must be an integer from 60 to 1209600."
  }
}

variable "tags" {
  description = "Tags for the mapping and the queue (merged with the provider's default_tags). At most 45 entries, keys 1 to 128 and values up to 256 characters."
  type        = map(string)
  default     = {}

  validation {
    condition     = length(var.tags) <= 45 && alltrue([for k, v in var.tags : length(k) >= 1 && length(k) <= 128 && length(v) <= 256 && !startswith(lower(k), "aws:")])
    error_message = "tags: at most 45 (AWS allows 50, the provider's default_tags take some), keys 1 to 128 characters not starting with aws:, values up to 256."
  }
}
