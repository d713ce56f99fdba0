################################################################################
# Function
################################################################################

variable "function_name" {
  description = "Name of the function (also names its role, /aws/lambda/<name> log group and policies). 1 to 56 characters: letters, digits, '-' and '_' (64 is Lambda's limit; 8 are kept for the role suffix)."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9_-]{1,56}$", var.function_name))
    error_message = "function_name must be 1 to 56 characters from [a-zA-Z0-9_-]."
  }
}

variable "description" {
  description = "Description of the function. Up to 256 characters."
  type        = string
  default     = ""

  validation {
    condition     = length(var.description) <= 256
    error_message = "description must be at most 256 characters."
  }
}

variable "package_path" {
  description = "Path of the deployment zip (for Rust: the cargo lambda output, target/lambda/<fn>/bootstrap.zip). The code hash is computed only when the file exists, so plans and `terraform test` work before a build; apply needs the file."
  type        = string

  validation {
    condition     = endswith(var.package_path, ".zip")
    error_message = "package_path must name a .zip file."
  }
}

variable "runtime" {
  description = "Lambda runtime. provided.al2023 (the default) runs a custom-runtime `bootstrap` binary such as a Rust function."
  type        = string
  default     = "provided.al2023"

  validation {
    condition     = can(regex("^(provided(\\.al2|\\.al2023)?|nodejs[0-9.]+x|python3\\.[0-9]+|java[0-9.]+|dotnet[0-9.]+|ruby[0-9.]+)$", var.runtime))
    error_message = "runtime must be a Lambda runtime identifier such as provided.al2023."
  }
}

variable "handler" {
  description = "Handler. For custom runtimes (provided.*) the runtime ignores it; `bootstrap` by convention."
  type        = string
  default     = "bootstrap"

  validation {
    condition     = length(var.handler) >= 1 && length(var.handler) <= 128
    error_message = "handler must be 1 to 128 characters."
  }
}

variable "architecture" {
  description = "Instruction set: arm64 (Graviton, the default: cheaper per GB-second) or x86_64. Must match the binary (cargo lambda build --arm64)."
  type        = string
  default     = "arm64"

  validation {
    condition     = contains(["arm64", "x86_64"], var.architecture)
    error_message = "architecture must be arm64 or x86_64."
  }
}

variable "timeout_seconds" {
  description = "Maximum run time of one invocation, in seconds. An integer from 1 to 900."
  type        = number
  default     = 60

  validation {
    condition     = var.timeout_seconds >= 1 && var.timeout_seconds <= 900 && floor(var.timeout_seconds) == var.timeout_seconds
    error_message = "timeout_seconds must be an integer from 1 to 900."
  }
}

variable "memory_size_mb" {
  description = "Memory in MB (CPU scales with it). An integer from 128 to 10240."
  type        = number
  default     = 256

  validation {
    condition     = var.memory_size_mb >= 128 && var.memory_size_mb <= 10240 && floor(var.memory_size_mb) == var.memory_size_mb
    error_message = "memory_size_mb must be an integer from 128 to 10240."
  }
}

variable "reserved_concurrent_executions" {
  description = "Concurrency reserved for the function: -1 (the default) for none (unreserved account pool), 0 to stop all invocations, or a positive limit."
  type        = number
  default     = -1

  validation {
    condition     = var.reserved_concurrent_executions >= -1 && floor(var.reserved_concurrent_executions) == var.reserved_concurrent_executions
    error_message = "reserved_concurrent_executions must be an integer >= -1."
  }
}

variable "environment_variables" {
  description = "Environment variables of the function (string values; keys must start with a letter, AWS_* names are reserved)."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k in keys(var.environment_variables) : can(regex("^[a-zA-Z][a-zA-Z0-9_]*$", k)) && !startswith(k, "AWS_")])
    error_message = "environment variable names must match [a-zA-Z][a-zA-Z0-9_]* and not start with AWS_."
  }
}

variable "tracing_mode" {
  description = "X-Ray tracing: Active (sample and record traces, the default) or PassThrough (only trace when the caller did)."
  type        = string
  default     = "Active"

  validation {
    condition     = contains(["Active", "PassThrough"], var.tracing_mode)
    error_message = "tracing_mode must be Active or PassThrough."
  }
}

################################################################################
# Logging
################################################################################

variable "log_retention_in_days" {
  description = "Retention of the /aws/lambda/<name> log group, in days. One of the values CloudWatch Logs accepts: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653 (0 = never expire)."
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

variable "application_log_level" {
  description = "Lowest level of the function's own log lines kept by Lambda's JSON log filter (also exported to the function as AWS_LAMBDA_LOG_LEVEL): TRACE, DEBUG, INFO, WARN, ERROR or FATAL."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"], var.application_log_level)
    error_message = "application_log_level must be one of TRACE, DEBUG, INFO, WARN, ERROR, FATAL."
  }
}

variable "system_log_level" {
  description = "Lowest level of the Lambda platform's log lines (START/END/REPORT are INFO): DEBUG, INFO or WARN."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(["DEBUG", "INFO", "WARN"], var.system_log_level)
    error_message = "system_log_level must be DEBUG, INFO or WARN."
  }
}

################################################################################
# IAM
################################################################################

variable "policy_statements" {
  description = "Extra IAM statements for the function's role (least privilege: name resource ARNs). The module itself grants only logs on the function's own log group and X-Ray segment upload."
  type = list(object({
    sid       = string
    actions   = list(string)
    resources = list(string)
  }))
  default = []

  validation {
    condition     = alltrue([for s in var.policy_statements : can(regex("^[A-Za-z0-9]+$", s.sid)) && length(s.actions) > 0 && length(s.resources) > 0])
    error_message = "each statement needs an alphanumeric sid and at least one action and one resource."
  }

  # Least privilege: the module's own statements are the only ones with "*" (X-Ray has no resources).
  validation {
    condition     = alltrue([for s in var.policy_statements : !contains(s.resources, "*") && !contains(s.actions, "*") && !anytrue([for a in s.actions : endswith(a, ":*")])])
    error_message = "policy_statements: name the actions and resource ARNs; \"*\" (or \"service:*\") is refused as an action or a resource."
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
