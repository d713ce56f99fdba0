################################################################################
# Stream
################################################################################

variable "name" {
  description = "Name of the Kinesis data stream. 1 to 128 characters: letters, digits, '_', '-' and '.'."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9_.-]{1,128}$", var.name))
    error_message = "name must be 1 to 128 characters from [a-zA-Z0-9_.-]."
  }
}

variable "stream_mode" {
  description = "Capacity mode: PROVISIONED (fixed shard_count, billed per shard-hour) or ON_DEMAND (scales automatically, billed per GB)."
  type        = string
  default     = "PROVISIONED"

  validation {
    condition     = contains(["PROVISIONED", "ON_DEMAND"], var.stream_mode)
    error_message = "stream_mode must be PROVISIONED or ON_DEMAND."
  }
}

variable "shard_count" {
  description = "Number of shards when stream_mode is PROVISIONED (ignored for ON_DEMAND). Each shard takes 1 MiB/s or 1000 records/s in and gives 2 MiB/s out. An integer from 1 to 200."
  type        = number
  default     = 2

  validation {
    condition     = var.shard_count >= 1 && var.shard_count <= 200 && floor(var.shard_count) == var.shard_count
    error_message = "shard_count must be an integer from 1 to 200."
  }
}

variable "retention_period_hours" {
  description = "How long records stay readable, in hours. An integer from 24 (1 day) to 8760 (365 days); above 24 h extended retention is billed."
  type        = number
  default     = 24

  validation {
    condition     = var.retention_period_hours >= 24 && var.retention_period_hours <= 8760 && floor(var.retention_period_hours) == var.retention_period_hours
    error_message = "retention_period_hours must be an integer from 24 to 8760."
  }
}

variable "kms_key_arn" {
  description = "ARN of a customer-managed KMS key for server-side encryption. null (the default) uses the AWS-managed key alias/aws/kinesis, which needs no key policy or IAM grants."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-zA-Z-]*:kms:", var.kms_key_arn))
    error_message = "kms_key_arn must be null or a KMS key ARN (arn:<partition>:kms:...)."
  }
}

variable "enhanced_monitoring" {
  description = "Turn on enhanced shard-level CloudWatch metrics (all seven shard-level metrics, billed per shard and metric). false keeps the free stream-level metrics only."
  type        = bool
  default     = false
}

variable "enforce_consumer_deletion" {
  description = "Deregister enhanced fan-out consumers when the stream is destroyed, so destroy does not fail on a registered consumer."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags for the stream (merged with the provider's default_tags). At most 45 entries, keys 1 to 128 and values up to 256 characters."
  type        = map(string)
  default     = {}

  validation {
    condition     = length(var.tags) <= 45 && alltrue([for k, v in var.tags : length(k) >= 1 && length(k) <= 128 && length(v) <= 256 && !startswith(lower(k), "aws:")])
    error_message = "tags: at most 45 (AWS allows 50, the provider's default_tags take some), keys 1 to 128 characters not starting with aws:, values up to 256."
  }
}
