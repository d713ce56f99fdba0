################################################################################
# Workflow
################################################################################

variable "name" {
  description = "Name of the state machine and the redrive function; also names their roles (<name>-sfn, <name>-role), log groups (/aws/vendedlogs/states/<name>, /aws/lambda/<name>) and schedule. 1 to 50 characters: letters, digits, '-' and '_' (IAM role names take 64)."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9_-]{1,50}$", var.name))
    error_message = "name must be 1 to 50 characters from [a-zA-Z0-9_-]."
  }
}

variable "queue_arn" {
  description = "ARN of the on-failure queue of the event source mapping (arn:<partition>:sqs:<region>:<account>:<name>): the messages the pass reads and deletes."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-zA-Z-]*:sqs:[a-z0-9-]+:[0-9]{12}:[a-zA-Z0-9_-]{1,80}$", var.queue_arn))
    error_message = "queue_arn must be an SQS queue ARN (arn:<partition>:sqs:<region>:<account>:<name>)."
  }
}

variable "queue_url" {
  description = "URL of that queue (https://sqs.<region>.amazonaws.com/<account>/<name>, or an emulator's http:// URL)."
  type        = string

  validation {
    condition     = can(regex("^https?://[^/]+/[0-9]{12}/[a-zA-Z0-9_-]{1,80}$", var.queue_url))
    error_message = "queue_url must be a queue URL such as https://sqs.us-east-1.amazonaws.com/123456789012/name."
  }
}

variable "queue_kms_key_arn" {
  description = "Customer-managed KMS key of the queue, or null (alias/aws/sqs or SQS-managed). With a key the function gets kms:Decrypt on it."
  type        = string
  default     = null

  validation {
    condition     = var.queue_kms_key_arn == null || can(regex("^arn:aws[a-zA-Z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[a-zA-Z0-9-]+$", coalesce(var.queue_kms_key_arn, "x")))
    error_message = "queue_kms_key_arn must be null or a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<id>)."
  }
}

variable "stream_arn" {
  description = "ARN of the Kinesis stream the mapping reads (arn:<partition>:kinesis:<region>:<account>:stream/<name>): the ranges are read back from it (and, in reput mode, put into it)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-zA-Z-]*:kinesis:[a-z0-9-]+:[0-9]{12}:stream/[a-zA-Z0-9_.-]{1,128}$", var.stream_arn))
    error_message = "stream_arn must be a Kinesis stream ARN (arn:<partition>:kinesis:<region>:<account>:stream/<name>)."
  }
}

variable "stream_kms_key_arn" {
  description = "Customer-managed KMS key of the stream, or null (alias/aws/kinesis). With a key the function gets kms:Decrypt on it (and kms:GenerateDataKey in reput mode)."
  type        = string
  default     = null

  validation {
    condition     = var.stream_kms_key_arn == null || can(regex("^arn:aws[a-zA-Z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[a-zA-Z0-9-]+$", coalesce(var.stream_kms_key_arn, "x")))
    error_message = "stream_kms_key_arn must be null or a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<id>)."
  }
}

################################################################################
# What a pass does with the records
################################################################################

variable "mode" {
  description = "What a pass does with a range's records: invoke (the consumer function again, with Kinesis events as the mapping builds them), reput (into the stream again: every consumer of the stream reads them again, and a record that keeps failing comes back to the queue), or s3 (JSON lines under s3_uri, for inspection)."
  type        = string

  validation {
    condition     = contains(["invoke", "reput", "s3"], var.mode)
    error_message = "mode must be invoke, reput or s3."
  }
  validation {
    condition     = (var.mode == "invoke") == (var.function_arn != null)
    error_message = "function_arn goes with mode = invoke, and mode = invoke needs it."
  }
  validation {
    condition     = (var.mode == "s3") == (var.s3_bucket_name != null)
    error_message = "s3_bucket_name goes with mode = s3, and mode = s3 needs it."
  }
}

variable "function_arn" {
  description = "With mode = invoke: unqualified ARN of the function invoked with the records (the mapping's consumer). The redrive function gets lambda:InvokeFunction and lambda:GetFunctionConfiguration on it only."
  type        = string
  default     = null

  validation {
    condition     = var.function_arn == null || can(regex("^arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:[0-9]{12}:function:[a-zA-Z0-9_-]{1,64}$", coalesce(var.function_arn, "x")))
    error_message = "function_arn must be null or an unqualified Lambda function ARN (arn:<partition>:lambda:<region>:<account>:function:<name>)."
  }
}

variable "s3_bucket_name" {
  description = "With mode = s3: the bucket the records are written to, at <s3_prefix><stream>/<shard>/<start>-<end>.jsonl. The function gets s3:PutObject on that prefix only."
  type        = string
  default     = null

  validation {
    condition     = var.s3_bucket_name == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", coalesce(var.s3_bucket_name, "x")))
    error_message = "s3_bucket_name must be null or a bucket name (3 to 63 lowercase letters, digits, '.' and '-')."
  }
}

variable "s3_prefix" {
  description = "With mode = s3: the key prefix, ending in '/'. Default redrive/."
  type        = string
  default     = "redrive/"
  nullable    = false

  validation {
    condition     = can(regex("^([a-zA-Z0-9!_.*'()-]+/)+$", var.s3_prefix)) && length(var.s3_prefix) <= 256
    error_message = "s3_prefix must be up to 256 characters of path segments ([a-zA-Z0-9!_.*'()-]) each ending in '/', such as redrive/."
  }
}

variable "s3_kms_key_arn" {
  description = "With mode = s3: the bucket's customer-managed KMS key, or null (SSE-S3 or alias/aws/s3). With a key the function gets kms:GenerateDataKey on it."
  type        = string
  default     = null

  validation {
    condition     = var.s3_kms_key_arn == null || can(regex("^arn:aws[a-zA-Z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[a-zA-Z0-9-]+$", coalesce(var.s3_kms_key_arn, "x")))
    error_message = "s3_kms_key_arn must be null or a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<id>)."
  }
}

variable "max_messages" {
  description = "Messages one pass takes at most; null (the default): as many as its time allows. The state machine runs passes while each one stops early and deletes something, so this bounds a pass, not the run. An integer from 1 to 120000 (SQS's in-flight limit)."
  type        = number
  default     = null

  validation {
    condition     = var.max_messages == null || try(var.max_messages >= 1 && var.max_messages <= 120000 && floor(var.max_messages) == var.max_messages, false)
    error_message = "max_messages must be null or an integer from 1 to 120000."
  }
}

variable "delete_unrecoverable" {
  description = "Delete the messages whose range the stream no longer holds (trimmed by retention). Default false: they stay in the queue and every run notifies about them until a person gives them up."
  type        = bool
  default     = false
  nullable    = false
}

variable "visibility_timeout_seconds" {
  description = "How long a message being handled stays hidden from other readers, in seconds: longer than one range takes (in invoke mode, the consumer's timeout). An integer from 1 to 43200; default 300."
  type        = number
  default     = 300

  validation {
    condition     = var.visibility_timeout_seconds >= 1 && var.visibility_timeout_seconds <= 43200 && floor(var.visibility_timeout_seconds) == var.visibility_timeout_seconds
    error_message = "visibility_timeout_seconds must be an integer from 1 to 43200."
  }
}

################################################################################
# The redrive function (functions/redrive)
################################################################################

variable "package_path" {
  description = "Path of the redrive function's package (cargo lambda build --release --arm64 --output-format zip: target/lambda/redrive/bootstrap.zip)."
  type        = string

  validation {
    condition     = endswith(var.package_path, ".zip")
    error_message = "package_path must name a .zip package."
  }
}

variable "function_timeout_seconds" {
  description = "Timeout of the redrive function, in seconds: one pass stops taking messages a minute (or half its time) before it. An integer from 30 to 900; default 900."
  type        = number
  default     = 900

  validation {
    condition     = var.function_timeout_seconds >= 30 && var.function_timeout_seconds <= 900 && floor(var.function_timeout_seconds) == var.function_timeout_seconds
    error_message = "function_timeout_seconds must be an integer from 30 to 900."
  }
}

variable "function_memory_size_mb" {
  description = "Memory of the redrive function, in MB (a range of up to 10,000 records of 1 MB is held at once). An integer from 128 to 10240; default 512."
  type        = number
  default     = 512

  validation {
    condition     = var.function_memory_size_mb >= 128 && var.function_memory_size_mb <= 10240 && floor(var.function_memory_size_mb) == var.function_memory_size_mb
    error_message = "function_memory_size_mb must be an integer from 128 to 10240."
  }
}

################################################################################
# Retries, schedule, notifications
################################################################################

variable "retry" {
  description = "Retry of the redrive task on Lambda service errors and throttles (Lambda.ServiceException, Lambda.AWSLambdaException, Lambda.SdkClientException, Lambda.TooManyRequestsException) and on a failed pass (RedriveFailed): attempts (0 to 10), first interval in seconds (1 to 300), backoff rate (1 to 10). Default 3 attempts, 2 s, rate 2."
  type = object({
    max_attempts     = optional(number, 3)
    interval_seconds = optional(number, 2)
    backoff_rate     = optional(number, 2)
  })
  default  = {}
  nullable = false

  validation {
    condition = (
      var.retry.max_attempts >= 0 && var.retry.max_attempts <= 10 && floor(var.retry.max_attempts) == var.retry.max_attempts &&
      var.retry.interval_seconds >= 1 && var.retry.interval_seconds <= 300 && floor(var.retry.interval_seconds) == var.retry.interval_seconds &&
      var.retry.backoff_rate >= 1 && var.retry.backoff_rate <= 10
    )
    error_message = "retry: max_attempts an integer from 0 to 10, interval_seconds an integer from 1 to 300, backoff_rate from 1 to 10."
  }
}

variable "schedule_expression" {
  description = "When the workflow runs on its own: rate(<n> minutes|hours|days) (also 1 minute/hour/day) or cron(<6 fields>); null (the default): on demand only (aws stepfunctions start-execution)."
  type        = string
  default     = null

  validation {
    condition = var.schedule_expression == null || (
      can(regex("^rate\\((1 (minute|hour|day)|([2-9]|[1-9][0-9]+) (minutes|hours|days))\\)$", coalesce(var.schedule_expression, "x"))) ||
      can(regex("^cron\\(\\S+ \\S+ \\S+ \\S+ \\S+ \\S+\\)$", coalesce(var.schedule_expression, "x")))
    )
    error_message = "schedule_expression must be null, rate(1 minute), rate(<n> minutes|hours|days) (also 1 hour, 1 day) or cron(<6 fields>)."
  }
}

variable "schedule_expression_timezone" {
  description = "Time zone of a cron schedule_expression (IANA name). Default UTC."
  type        = string
  default     = "UTC"
  nullable    = false

  validation {
    condition     = can(regex("^[A-Za-z][A-Za-z0-9_+/-]{1,49}$", var.schedule_expression_timezone))
    error_message = "schedule_expression_timezone must be an IANA time zone name such as UTC or Europe/Paris."
  }
}

variable "notification_topic_arn" {
  description = "SNS topic notified when a run fails (\"redrive failed\", with the error) or leaves records (\"records left\", with the pass's summary). The state machine gets sns:Publish on it only."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-zA-Z-]*:sns:[a-z0-9-]+:[0-9]{12}:[a-zA-Z0-9_-]{1,256}$", var.notification_topic_arn))
    error_message = "notification_topic_arn must be an SNS topic ARN (arn:<partition>:sns:<region>:<account>:<name>)."
  }
}

variable "notification_kms_key_arn" {
  description = "Customer-managed KMS key of the topic, or null. With a key the state machine gets kms:GenerateDataKey* and kms:Decrypt on it, through SNS only."
  type        = string
  default     = null

  validation {
    condition     = var.notification_kms_key_arn == null || can(regex("^arn:aws[a-zA-Z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[a-zA-Z0-9-]+$", coalesce(var.notification_kms_key_arn, "x")))
    error_message = "notification_kms_key_arn must be null or a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<id>)."
  }
}

################################################################################
# Logs, tracing, tags
################################################################################

variable "log_level" {
  description = "What the state machine logs: ALL, ERROR (the default: failed states and executions) or FATAL. Execution data (inputs, outputs) is not logged."
  type        = string
  default     = "ERROR"
  nullable    = false

  validation {
    condition     = contains(["ALL", "ERROR", "FATAL"], var.log_level)
    error_message = "log_level must be ALL, ERROR or FATAL."
  }
}

variable "log_retention_in_days" {
  description = "Retention of the state machine's and the function's log groups, in days: one of CloudWatch Logs' values (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653). Default 365."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_in_days)
    error_message = "log_retention_in_days must be one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

variable "log_kms_key_arn" {
  description = "Customer-managed KMS key of both log groups; null (the default): the module creates one (rotated yearly, about 1 USD a month) whose key policy lets CloudWatch Logs use it for these two log groups only."
  type        = string
  default     = null

  validation {
    condition     = var.log_kms_key_arn == null || can(regex("^arn:aws[a-zA-Z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[a-zA-Z0-9-]+$", coalesce(var.log_kms_key_arn, "x")))
    error_message = "log_kms_key_arn must be null or a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<id>)."
  }
}

variable "tracing_enabled" {
  description = "X-Ray tracing of the state machine and the function. Default false."
  type        = bool
  default     = false
  nullable    = false
}

variable "tags" {
  description = "Tags for every resource that takes them (merged with the provider's default_tags). At most 45 entries, keys 1 to 128 and values up to 256 characters."
  type        = map(string)
  default     = {}
  nullable    = false

  validation {
    condition     = length(var.tags) <= 45 && alltrue([for k, v in var.tags : length(k) >= 1 && length(k) <= 128 && length(v) <= 256 && !startswith(lower(k), "aws:")])
    error_message = "tags: at most 45 (AWS allows 50, the provider's default_tags take some), keys 1 to 128 characters not starting with aws:, values up to 256."
  }
}
