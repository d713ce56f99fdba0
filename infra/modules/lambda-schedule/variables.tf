################################################################################
# Schedule
################################################################################

variable "name" {
  description = "Name of the schedule (in the default group); also names its role <name>-scheduler and dead-letter queue <name>-schedule-dlq. 1 to 50 characters: letters, digits, '-' and '_' (the role name's limit is 64)."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9_-]{1,50}$", var.name))
    error_message = "name must be 1 to 50 characters from [a-zA-Z0-9_-]."
  }
}

variable "description" {
  description = "Description of the schedule. Up to 512 characters."
  type        = string
  default     = ""

  validation {
    condition     = length(var.description) <= 512
    error_message = "description must be at most 512 characters."
  }
}

variable "function_arn" {
  description = "Unqualified ARN of the Lambda function the schedule invokes (arn:<partition>:lambda:<region>:<account>:function:<name>)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:[0-9]{12}:function:[a-zA-Z0-9_-]{1,64}$", var.function_arn))
    error_message = "function_arn must be an unqualified Lambda function ARN (arn:<partition>:lambda:<region>:<account>:function:<name>)."
  }
}

variable "schedule_expression" {
  description = "When the function runs: rate(<n> minute|minutes|hour|hours|day|days), cron(<6 fields>) or at(yyyy-mm-ddThh:mm:ss). Default rate(1 minute)."
  type        = string
  default     = "rate(1 minute)"

  validation {
    condition = (
      can(regex("^rate\\((1 (minute|hour|day)|([2-9]|[1-9][0-9]+) (minutes|hours|days))\\)$", var.schedule_expression)) ||
      can(regex("^cron\\(\\S+ \\S+ \\S+ \\S+ \\S+ \\S+\\)$", var.schedule_expression)) ||
      can(regex("^at\\([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\)$", var.schedule_expression))
    )
    error_message = "schedule_expression must be rate(1 minute), rate(<n> minutes|hours|days) (also 1 hour, 1 day), cron(<6 fields>) or at(yyyy-mm-ddThh:mm:ss)."
  }
}

variable "schedule_expression_timezone" {
  description = "Time zone of cron and at expressions (IANA name). Default UTC."
  type        = string
  default     = "UTC"

  validation {
    condition     = can(regex("^[A-Za-z][A-Za-z0-9_+/-]{1,49}$", var.schedule_expression_timezone))
    error_message = "schedule_expression_timezone must be an IANA time zone name such as UTC or Europe/Paris."
  }
}

variable "enabled" {
  description = "Whether the schedule runs (false keeps it, DISABLED). Default true."
  type        = bool
  default     = true
  nullable    = false
}

variable "input" {
  description = "The event the function receives, a JSON text. Default {}."
  type        = string
  default     = "{}"

  validation {
    condition     = can(jsondecode(var.input)) && length(var.input) <= 8192
    error_message = "input must be JSON text of at most 8192 characters."
  }
}

################################################################################
# Retries and dead letters
################################################################################

variable "maximum_retry_attempts" {
  description = "Retries of a failed invocation (throttled or the function failed to start). An integer from 0 to 185; default 2."
  type        = number
  default     = 2

  validation {
    condition     = var.maximum_retry_attempts >= 0 && var.maximum_retry_attempts <= 185 && floor(var.maximum_retry_attempts) == var.maximum_retry_attempts
    error_message = "maximum_retry_attempts must be an integer from 0 to 185."
  }
}

variable "maximum_event_age_in_seconds" {
  description = "How long a failed invocation is retried before its event goes to the dead-letter queue, in seconds. An integer from 60 to 86400; default 600."
  type        = number
  default     = 600

  validation {
    condition     = var.maximum_event_age_in_seconds >= 60 && var.maximum_event_age_in_seconds <= 86400 && floor(var.maximum_event_age_in_seconds) == var.maximum_event_age_in_seconds
    error_message = "maximum_event_age_in_seconds must be an integer from 60 to 86400."
  }
}

variable "dlq_kms_key_arn" {
  description = "Customer-managed KMS key of the dead-letter queue; null (the default): alias/aws/sqs. With a key the role gets kms:GenerateDataKey and kms:Decrypt on it."
  type        = string
  default     = null

  validation {
    condition     = var.dlq_kms_key_arn == null || can(regex("^arn:aws[a-zA-Z-]*:kms:", var.dlq_kms_key_arn))
    error_message = "dlq_kms_key_arn must be null or a KMS key ARN."
  }
}

variable "dlq_message_retention_seconds" {
  description = "How long the dead-letter queue keeps an event, in seconds. An integer from 60 to 1209600 (14 days, the default)."
  type        = number
  default     = 1209600

  validation {
    condition     = var.dlq_message_retention_seconds >= 60 && var.dlq_message_retention_seconds <= 1209600 && floor(var.dlq_message_retention_seconds) == var.dlq_message_retention_seconds
    error_message = "dlq_message_retention_seconds must be an integer from 60 to 1209600."
  }
}

variable "tags" {
  description = "Tags for the role and the queue (schedules take no tags; merged with the provider's default_tags). At most 45 entries, keys 1 to 128 and values up to 256 characters."
  type        = map(string)
  default     = {}

  validation {
    condition     = length(var.tags) <= 45 && alltrue([for k, v in var.tags : length(k) >= 1 && length(k) <= 128 && length(v) <= 256 && !startswith(lower(k), "aws:")])
    error_message = "tags: at most 45 (AWS allows 50, the provider's default_tags take some), keys 1 to 128 characters not starting with aws:, values up to 256."
  }
}
