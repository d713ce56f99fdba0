################################################################################
# Queue
################################################################################

variable "name" {
  description = "Name of the queue. 1 to 80 characters: letters, digits, '-' and '_' (standard queue; no .fifo)."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9_-]{1,80}$", var.name))
    error_message = "name must be 1 to 80 characters from [a-zA-Z0-9_-]."
  }
}

variable "kms_key_arn" {
  description = "ARN of a customer-managed KMS key for server-side encryption. null (the default) uses the AWS-managed key alias/aws/sqs, which needs no key policy or IAM grants for same-account senders."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-zA-Z-]*:kms:", var.kms_key_arn))
    error_message = "kms_key_arn must be null or a KMS key ARN."
  }
}

variable "kms_data_key_reuse_period_seconds" {
  description = "How long SQS reuses a data key before calling KMS again, in seconds. An integer from 60 to 86400."
  type        = number
  default     = 300

  validation {
    condition     = var.kms_data_key_reuse_period_seconds >= 60 && var.kms_data_key_reuse_period_seconds <= 86400 && floor(var.kms_data_key_reuse_period_seconds) == var.kms_data_key_reuse_period_seconds
    error_message = "kms_data_key_reuse_period_seconds must be an integer from 60 to 86400."
  }
}

variable "message_retention_seconds" {
  description = "How long SQS keeps a message, in seconds. An integer from 60 to 1209600 (14 days, the default: the longest, so failed-record metadata can be redriven)."
  type        = number
  default     = 1209600

  validation {
    condition     = var.message_retention_seconds >= 60 && var.message_retention_seconds <= 1209600 && floor(var.message_retention_seconds) == var.message_retention_seconds
    error_message = "message_retention_seconds must be an integer from 60 to 1209600."
  }
}

variable "visibility_timeout_seconds" {
  description = "How long a received message stays hidden from other consumers, in seconds. An integer from 0 to 43200."
  type        = number
  default     = 30

  validation {
    condition     = var.visibility_timeout_seconds >= 0 && var.visibility_timeout_seconds <= 43200 && floor(var.visibility_timeout_seconds) == var.visibility_timeout_seconds
    error_message = "visibility_timeout_seconds must be an integer from 0 to 43200."
  }
}

variable "tags" {
  description = "Tags for the queue (merged with the provider's default_tags). At most 45 entries, keys 1 to 128 and values up to 256 characters."
  type        = map(string)
  default     = {}

  validation {
    condition     = length(var.tags) <= 45 && alltrue([for k, v in var.tags : length(k) >= 1 && length(k) <= 128 && length(v) <= 256 && !startswith(lower(k), "aws:")])
    error_message = "tags: at most 45 (AWS allows 50, the provider's default_tags take some), keys 1 to 128 characters not starting with aws:, values up to 256."
  }
}
