################################################################################
# Subjects
################################################################################

variable "name_prefix" {
  description = "Prefix of the alarm names (<name_prefix>-firehose-data-freshness, ...). 1 to 200 characters: letters, digits, '_', '-' and '.'."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9_.-]{1,200}$", var.name_prefix))
    error_message = "name_prefix must be 1 to 200 characters from [a-zA-Z0-9_.-]."
  }
}

variable "delivery_stream_name" {
  description = "NAME (not ARN) of the Firehose delivery stream: the DeliveryStreamName dimension of every AWS/Firehose metric. 1 to 64 characters: letters, digits, '_', '-' and '.'."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9_.-]{1,64}$", var.delivery_stream_name))
    error_message = "delivery_stream_name must be the delivery stream's name (1 to 64 characters from [a-zA-Z0-9_.-]), not its ARN: CloudWatch publishes Firehose metrics under the name."
  }
}

variable "lambda_function_name" {
  description = "Name of the transform Lambda function (the FunctionName dimension), or null when the delivery stream has no transform: then the ExecuteProcessing and Lambda alarms and widgets are left out. 1 to 64 characters."
  type        = string
  default     = null

  validation {
    condition     = var.lambda_function_name == null || can(regex("^[a-zA-Z0-9_-]{1,64}$", coalesce(var.lambda_function_name, "x")))
    error_message = "lambda_function_name must be null or a function name (1 to 64 characters from [a-zA-Z0-9_-]), not an ARN."
  }
}

################################################################################
# Actions
################################################################################

variable "alarm_actions" {
  description = "ARNs notified when an alarm fires and when it recovers (typically one SNS topic). Default none. At most 5 (the CloudWatch limit per state)."
  type        = list(string)
  default     = []

  validation {
    condition     = length(var.alarm_actions) <= 5 && alltrue([for a in var.alarm_actions : can(regex("^arn:", a))])
    error_message = "alarm_actions must hold at most 5 ARNs."
  }
}

################################################################################
# Thresholds
################################################################################

variable "period_seconds" {
  description = "Period of every alarm, in seconds. Default 300 (the reference's Firehose period; Firehose publishes most metrics every 5 minutes at best). One of 60, 300, 900, 3600."
  type        = number
  default     = 300

  validation {
    condition     = contains([60, 300, 900, 3600], var.period_seconds)
    error_message = "period_seconds must be 60, 300, 900 or 3600."
  }
}

variable "data_freshness_threshold_seconds" {
  description = "Alarm when the oldest record in Firehose (DeliveryToS3.DataFreshness, Maximum) is older than this, in seconds. Default 900 (the reference's). An integer from 60 to 86400; keep it above the S3 buffering interval or the alarm fires on normal buffering."
  type        = number
  default     = 900

  validation {
    condition     = var.data_freshness_threshold_seconds >= 60 && var.data_freshness_threshold_seconds <= 86400 && floor(var.data_freshness_threshold_seconds) == var.data_freshness_threshold_seconds
    error_message = "data_freshness_threshold_seconds must be a whole number of seconds from 60 to 86400."
  }
}

variable "success_rate_threshold" {
  description = "Alarm when DeliveryToS3.Success or ExecuteProcessing.Success (Average: successful calls / all calls) falls below this ratio. Default 1 (any failed S3 put or Lambda invocation). From 0.5 to 1."
  type        = number
  default     = 1

  validation {
    condition     = var.success_rate_threshold >= 0.5 && var.success_rate_threshold <= 1
    error_message = "success_rate_threshold must be a ratio from 0.5 to 1."
  }
}

variable "success_evaluation_periods" {
  description = "Consecutive periods the success ratio must stay below the threshold before DeliveryToS3.Success or ExecuteProcessing.Success alarms. Default 2 (a single retried failure does not page). An integer from 1 to 12."
  type        = number
  default     = 2

  validation {
    condition     = var.success_evaluation_periods >= 1 && var.success_evaluation_periods <= 12 && floor(var.success_evaluation_periods) == var.success_evaluation_periods
    error_message = "success_evaluation_periods must be a whole number from 1 to 12."
  }
}

variable "throttled_get_records_threshold" {
  description = "Alarm when ThrottledGetRecords (Sum per period) exceeds this many throttled GetRecords calls for throttled_evaluation_periods periods in a row. Default 0. An integer from 0 to 100000."
  type        = number
  default     = 0

  validation {
    condition     = var.throttled_get_records_threshold >= 0 && var.throttled_get_records_threshold <= 100000 && floor(var.throttled_get_records_threshold) == var.throttled_get_records_threshold
    error_message = "throttled_get_records_threshold must be a whole number from 0 to 100000."
  }
}

variable "throttled_evaluation_periods" {
  description = "Consecutive periods of throttled GetRecords before the alarm fires. Default 3 (Firehose retries throttled reads; only sustained throttling means the stream's read capacity is short). An integer from 1 to 12."
  type        = number
  default     = 3

  validation {
    condition     = var.throttled_evaluation_periods >= 1 && var.throttled_evaluation_periods <= 12 && floor(var.throttled_evaluation_periods) == var.throttled_evaluation_periods
    error_message = "throttled_evaluation_periods must be a whole number from 1 to 12."
  }
}

variable "lambda_errors_threshold" {
  description = "Alarm when the transform's Errors (Sum per period) exceed this count. Default 0 (any failed invocation; Firehose retries it, then sends the batch to the error output). An integer from 0 to 100000."
  type        = number
  default     = 0

  validation {
    condition     = var.lambda_errors_threshold >= 0 && var.lambda_errors_threshold <= 100000 && floor(var.lambda_errors_threshold) == var.lambda_errors_threshold
    error_message = "lambda_errors_threshold must be a whole number from 0 to 100000."
  }
}

variable "lambda_throttles_threshold" {
  description = "Alarm when the transform's Throttles (Sum per period) exceed this count. Default 0. An integer from 0 to 100000."
  type        = number
  default     = 0

  validation {
    condition     = var.lambda_throttles_threshold >= 0 && var.lambda_throttles_threshold <= 100000 && floor(var.lambda_throttles_threshold) == var.lambda_throttles_threshold
    error_message = "lambda_throttles_threshold must be a whole number from 0 to 100000."
  }
}

variable "tags" {
  description = "Tags for every alarm (merged with the provider's default_tags). At most 40 entries."
  type        = map(string)
  default     = {}

  validation {
    condition     = length(var.tags) <= 40
    error_message = "tags may hold at most 40 entries."
  }
}
