variable "name_prefix" {
  description = "Prefix of the names: the bucket <name_prefix>-arc-<account>-<region> (and its access-log bucket), the key alias alias/<name_prefix>-failed-records and the role policy <name_prefix>-failed-record-archive. 3 to 24 characters: lowercase letters, digits and '-', starting with a letter and not ending with '-'."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,22}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 3 to 24 characters of [a-z0-9-], start with a letter and not end with '-' (the bucket name adds -arc-<account>-<region>)."
  }
}

variable "function_role_name" {
  description = "Name of the consumer function's execution role: the module gives it s3:PutObject on <bucket>/<prefix>* only, and the use of the bucket's key through S3."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9_+=,.@-]{1,64}$", var.function_role_name))
    error_message = "function_role_name must be an IAM role name: 1 to 64 characters from [a-zA-Z0-9_+=,.@-]."
  }
}

variable "prefix" {
  description = "Key prefix of the archived records (FAILED_RECORD_ARCHIVE_PREFIX): each is <prefix><shard-id>/<sequence>[-<sub-sequence>].json. Default \"failed-records/\". 1 to 256 characters ending in '/', not starting with '/', without '//' and without '*'."
  type        = string
  default     = "failed-records/"
  nullable    = false

  validation {
    condition     = length(var.prefix) >= 1 && length(var.prefix) <= 256 && endswith(var.prefix, "/") && !startswith(var.prefix, "/") && !strcontains(var.prefix, "//") && !strcontains(var.prefix, "*")
    error_message = "prefix must be 1 to 256 characters, end in '/', not start with '/', and hold neither '//' nor '*'."
  }
}

variable "expiration_days" {
  description = "Days after which an archived record is deleted. Default 30. A whole number from 1 to 3650; keep it longer than the time you need to inspect or redrive a failure."
  type        = number
  default     = 30
  nullable    = false

  validation {
    condition     = var.expiration_days >= 1 && var.expiration_days <= 3650 && floor(var.expiration_days) == var.expiration_days
    error_message = "expiration_days must be a whole number of days from 1 to 3650."
  }
}

variable "kms_key_arn" {
  description = "ARN of a customer managed KMS key that encrypts the bucket. Default null: the module creates one (with rotation; usable by the account only through S3 in this region)."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-zA-Z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", coalesce(var.kms_key_arn, "x")))
    error_message = "kms_key_arn must be null or a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<id>)."
  }
}

variable "force_destroy" {
  description = "Destroy deletes the buckets with their objects; true only for throwaway environments, as the emulator tests pass (secure-bucket: force_destroy)."
  type        = bool
  default     = false
  nullable    = false
}

variable "tls_only_policy" {
  description = "The bucket's policy denies requests without TLS. Default true; false only on a local emulator that serves plain HTTP (secure-bucket refuses false on a real account)."
  type        = bool
  default     = true
  nullable    = false
}

variable "tags" {
  description = "Tags of the module's resources (the provider's default_tags apply too). At most 40 entries."
  type        = map(string)
  default     = {}

  validation {
    condition     = length(var.tags) <= 40
    error_message = "tags may hold at most 40 entries."
  }
}
