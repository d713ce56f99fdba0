################################################################################
# Naming
################################################################################

variable "name_prefix" {
  description = "Prefix of the bucket names. The data bucket is named <name_prefix>-<account id>-<region> and the access-log bucket <name_prefix>-logs-<account id>-<region>, so names are globally unique. 3 to 28 characters: lowercase letters, digits and hyphens, starting and ending with a letter or digit."
  type        = string

  validation {
    condition     = length(var.name_prefix) >= 3 && length(var.name_prefix) <= 28 && can(regex("^[a-z0-9][a-z0-9-]*[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 3 to 28 characters of lowercase letters, digits and hyphens, starting and ending with a letter or digit (S3 bucket names are at most 63 characters and the module appends -logs-<account id>-<region>)."
  }
}

variable "tags" {
  description = "Tags added to every resource of the module. At most 40 tags (S3 allows 50 per bucket; the rest are left for the caller's default_tags)."
  type        = map(string)
  default     = {}

  validation {
    condition     = length(var.tags) <= 40
    error_message = "tags may hold at most 40 entries."
  }
}

################################################################################
# Data bucket
################################################################################

variable "force_destroy" {
  description = "Whether `terraform destroy` deletes the buckets even when they hold objects. Default false (a bucket with data is never deleted by accident); set true only for throwaway environments such as the local emulator."
  type        = bool
  default     = false

  validation {
    condition     = var.force_destroy != null
    error_message = "force_destroy must be true or false, not null."
  }
}

variable "versioning_enabled" {
  description = "Whether object versioning is enabled on the data bucket. Default false, decided: the writers (Firehose, the functions) write each object once under a unique key and never overwrite, and the lifecycle expires objects; versioning would only keep deleted objects (and pay for them). Enable it to keep overwritten or deleted objects (a bucket other writers share, an audit requirement)."
  type        = bool
  default     = false

  validation {
    condition     = var.versioning_enabled != null
    error_message = "versioning_enabled must be true or false, not null."
  }
}

variable "tls_only_policy" {
  description = "Whether the data bucket policy denies every request that does not use TLS (aws:SecureTransport = false). Default true; set false only for a local emulator that serves plain HTTP and evaluates the deny (moto then refuses every object write). The access-log bucket always keeps its TLS-only policy."
  type        = bool
  default     = true

  validation {
    condition     = var.tls_only_policy != null
    error_message = "tls_only_policy must be true or false, not null."
  }

  # Only an emulator may go without it: they answer with fixed documentation accounts (moto
  # 123456789012, LocalStack 000000000000) that AWS never issues.
  validation {
    condition     = var.tls_only_policy != false || contains(["123456789012", "000000000000"], data.aws_caller_identity.current.account_id)
    error_message = "tls_only_policy = false is for a local emulator only (account 123456789012 or 000000000000), not for account ${data.aws_caller_identity.current.account_id}: keep the TLS-only bucket policy on AWS."
  }
}

variable "kms_key_arn" {
  description = "ARN of a customer managed KMS key for SSE-KMS default encryption of the data bucket (with an S3 Bucket Key to cut KMS request costs). Default null: SSE-S3 (AES256). The access-log bucket always uses SSE-S3, because S3 server access logging cannot deliver to an SSE-KMS bucket."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-zA-Z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be null or a KMS key ARN such as arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab."
  }
}

variable "abort_incomplete_multipart_upload_days" {
  description = "Days after which incomplete multipart uploads are aborted and their parts deleted, on both buckets. Default 7 (the reference solution). 1 to 365 days."
  type        = number
  default     = 7

  validation {
    condition     = var.abort_incomplete_multipart_upload_days >= 1 && var.abort_incomplete_multipart_upload_days <= 365 && floor(var.abort_incomplete_multipart_upload_days) == var.abort_incomplete_multipart_upload_days
    error_message = "abort_incomplete_multipart_upload_days must be a whole number of days from 1 to 365."
  }
}

variable "enable_intelligent_tiering" {
  description = "Whether objects of the data bucket move to the INTELLIGENT_TIERING storage class after intelligent_tiering_days. Default false; pattern 3 sets it (as the reference solution does for patterns 2 and 3)."
  type        = bool
  default     = false

  validation {
    condition     = var.enable_intelligent_tiering != null
    error_message = "enable_intelligent_tiering must be true or false, not null."
  }
}

variable "intelligent_tiering_days" {
  description = "Days after object creation for the transition to INTELLIGENT_TIERING, when enable_intelligent_tiering is true. Default 1 (the reference solution). 0 to 3650 days."
  type        = number
  default     = 1

  validation {
    condition     = var.intelligent_tiering_days >= 0 && var.intelligent_tiering_days <= 3650 && floor(var.intelligent_tiering_days) == var.intelligent_tiering_days
    error_message = "intelligent_tiering_days must be a whole number of days from 0 to 3650."
  }
}

variable "expiration_days" {
  description = "Days after object creation when objects of the data bucket expire (are deleted). Default null: they never expire. 1 to 3650 days (the failed-record archive sets it)."
  type        = number
  default     = null

  validation {
    condition     = var.expiration_days == null || try(var.expiration_days >= 1 && var.expiration_days <= 3650 && floor(var.expiration_days) == var.expiration_days, false)
    error_message = "expiration_days must be null or a whole number of days from 1 to 3650."
  }
}

variable "policy_statements_json" {
  description = "Extra bucket policy documents (JSON strings, each a full policy document with a Statement list) whose statements are merged into the data bucket policy after the TLS-only deny. Default none. At most 20 documents; the bucket policy limit of 20 KB applies to the result."
  type        = list(string)
  default     = []

  validation {
    condition     = length(var.policy_statements_json) <= 20 && alltrue([for d in var.policy_statements_json : can(jsondecode(d).Statement)])
    error_message = "policy_statements_json must be at most 20 JSON policy documents, each with a Statement list."
  }

  # Least privilege: an Allow names its principals, actions and resources ("*" only in a Deny).
  validation {
    condition = alltrue(flatten([for d in var.policy_statements_json : [
      for st in try(flatten([jsondecode(d).Statement]), []) : try(st.Effect, "Allow") != "Allow" || !(
        try(st.Principal == "*", false) || try(contains(flatten([st.Principal.AWS]), "*"), false) ||
        contains(flatten([try(st.Action, [])]), "*") || anytrue([for a in flatten([try(st.Action, [])]) : endswith(a, ":*")]) ||
        contains(flatten([try(st.Resource, [])]), "*") || can(st.NotAction) || can(st.NotResource) || can(st.NotPrincipal)
      )
    ]]))
    error_message = "policy_statements_json: an Allow statement may not use \"*\" as its principal, action (or \"service:*\") or resource, nor NotAction/NotResource/NotPrincipal: name them (\"*\" is fine in a Deny)."
  }
}

################################################################################
# Access-log bucket
################################################################################

variable "access_log_prefix" {
  description = "Key prefix under which S3 server access logs of the data bucket are written in the access-log bucket. Default \"s3-access-logs/\". 1 to 512 characters, ending with /."
  type        = string
  default     = "s3-access-logs/"

  validation {
    condition     = length(var.access_log_prefix) >= 1 && length(var.access_log_prefix) <= 512 && endswith(var.access_log_prefix, "/")
    error_message = "access_log_prefix must be 1 to 512 characters and end with /."
  }
}

variable "access_log_retention_days" {
  description = "Days after which access-log objects expire. Default 365. 1 to 3650 days."
  type        = number
  default     = 365

  validation {
    condition     = var.access_log_retention_days >= 1 && var.access_log_retention_days <= 3650 && floor(var.access_log_retention_days) == var.access_log_retention_days
    error_message = "access_log_retention_days must be a whole number of days from 1 to 3650."
  }
}
