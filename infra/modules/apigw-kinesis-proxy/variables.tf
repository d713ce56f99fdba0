################################################################################
# API
################################################################################

variable "name" {
  description = "Name of the REST API; also prefixes its roles, log groups, models' owner and Cognito pool. 1 to 40 characters: letters, digits, '-' and '_'."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9_-]{1,40}$", var.name))
    error_message = "name must be 1 to 40 characters from [a-zA-Z0-9_-]."
  }
}

variable "description" {
  description = "Description of the REST API. Up to 1024 characters."
  type        = string
  default     = "Kinesis Data Streams proxy: POST /record (PutRecord) and POST /records (PutRecords)"

  validation {
    condition     = length(var.description) <= 1024
    error_message = "description must be at most 1024 characters."
  }
}

variable "endpoint_type" {
  description = "API endpoint type: REGIONAL (the default) or EDGE (through CloudFront; the reference's choice, adds a hop for clients in the same region)."
  type        = string
  default     = "REGIONAL"

  validation {
    condition     = contains(["REGIONAL", "EDGE"], var.endpoint_type)
    error_message = "endpoint_type must be REGIONAL or EDGE."
  }
}

variable "stage_name" {
  description = "Name of the deployment stage (part of the invoke URL and the Stage dimension of the API's metrics). 1 to 64 characters: letters, digits, '-' and '_'."
  type        = string
  default     = "prod"

  validation {
    condition     = can(regex("^[a-zA-Z0-9_-]{1,64}$", var.stage_name))
    error_message = "stage_name must be 1 to 64 characters from [a-zA-Z0-9_-]."
  }
}

################################################################################
# Stream
################################################################################

variable "stream_name" {
  description = "Name of the Kinesis data stream the API writes to."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9_.-]{1,128}$", var.stream_name))
    error_message = "stream_name must be 1 to 128 characters from [a-zA-Z0-9_.-]."
  }
}

variable "stream_arn" {
  description = "ARN of the stream. The API's integration role may write only to it; its region is the integration's region."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-zA-Z-]*:kinesis:[a-z0-9-]+:[0-9]{12}:stream/", var.stream_arn))
    error_message = "stream_arn must be a Kinesis stream ARN (arn:<partition>:kinesis:<region>:<account>:stream/<name>)."
  }
}

variable "stream_kms_key_arn" {
  description = "ARN of the stream's customer-managed KMS key, so the integration role gets kms:GenerateDataKey on it. null when the stream uses the AWS-managed key."
  type        = string
  default     = null

  validation {
    condition     = var.stream_kms_key_arn == null || can(regex("^arn:aws[a-zA-Z-]*:kms:", var.stream_kms_key_arn))
    error_message = "stream_kms_key_arn must be null or a KMS key ARN."
  }
}

################################################################################
# Authorization
################################################################################

variable "authorization" {
  description = "How callers authenticate: COGNITO (a Cognito user pool JWT in the Authorization header; the module creates the pool and an app client) or AWS_IAM (SigV4-signed requests; callers need execute-api:Invoke)."
  type        = string
  default     = "COGNITO"

  validation {
    condition     = contains(["COGNITO", "AWS_IAM"], var.authorization)
    error_message = "authorization must be COGNITO or AWS_IAM."
  }
}

variable "cognito_advanced_security_mode" {
  description = "Cognito threat protection (advanced security): ENFORCED (the reference's setting; blocks risky sign-ins), AUDIT (log only) or OFF. Anything but OFF puts the pool on the PLUS feature plan, billed per monthly active user."
  type        = string
  default     = "ENFORCED"

  validation {
    condition     = contains(["OFF", "AUDIT", "ENFORCED"], var.cognito_advanced_security_mode)
    error_message = "cognito_advanced_security_mode must be OFF, AUDIT or ENFORCED."
  }
}

variable "cognito_deletion_protection" {
  description = "Protect the user pool from deletion (the reference retains it). false (the default) lets `terraform destroy` remove it."
  type        = bool
  default     = false
}

variable "cognito_explicit_auth_flows" {
  description = "Authentication flows of the app client. The default allows SRP sign-in, refresh tokens and ADMIN_USER_PASSWORD_AUTH (an administrator with IAM credentials gets a token for a user, as in the README's test)."
  type        = list(string)
  default     = ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_ADMIN_USER_PASSWORD_AUTH"]

  validation {
    condition     = length(var.cognito_explicit_auth_flows) > 0 && alltrue([for f in var.cognito_explicit_auth_flows : contains(["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_CUSTOM_AUTH", "ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_AUTH"], f)])
    error_message = "cognito_explicit_auth_flows must be a non-empty list of ALLOW_* Cognito auth flows."
  }
}

################################################################################
# Stage: throttling, tracing, logging
################################################################################

variable "throttling_rate_limit" {
  description = "Steady-state request rate for every method of the stage, in requests per second. A number from 1 to 10000."
  type        = number
  default     = 100

  validation {
    condition     = var.throttling_rate_limit >= 1 && var.throttling_rate_limit <= 10000
    error_message = "throttling_rate_limit must be from 1 to 10000 requests per second."
  }
}

variable "throttling_burst_limit" {
  description = "Burst (token bucket size) for every method of the stage, in requests. An integer from 0 to 5000."
  type        = number
  default     = 50

  validation {
    condition     = var.throttling_burst_limit >= 0 && var.throttling_burst_limit <= 5000 && floor(var.throttling_burst_limit) == var.throttling_burst_limit
    error_message = "throttling_burst_limit must be an integer from 0 to 5000."
  }
}

variable "xray_tracing_enabled" {
  description = "Trace requests with AWS X-Ray."
  type        = bool
  default     = true
}

variable "detailed_metrics_enabled" {
  description = "Per-method CloudWatch metrics (billed as custom metrics). The stage-wide metrics (ApiName + Stage) the alarms use are always published."
  type        = bool
  default     = false
}

variable "execution_logging_level" {
  description = "Execution logging to API-Gateway-Execution-Logs_<api id>/<stage>: INFO (the reference's setting), ERROR or OFF. Request and response bodies are never logged."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(["OFF", "ERROR", "INFO"], var.execution_logging_level)
    error_message = "execution_logging_level must be OFF, ERROR or INFO."
  }
}

variable "log_retention_in_days" {
  description = "Retention of the access and execution log groups, in days. One of the values CloudWatch Logs accepts: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653 (0 = never expire)."
  type        = number
  default     = 365

  validation {
    condition     = contains([0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_in_days)
    error_message = "log_retention_in_days must be one of 0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

variable "log_kms_key_arn" {
  description = "ARN of a KMS key for the access and execution log groups (its key policy must allow logs.<region>.amazonaws.com). null uses CloudWatch Logs' own encryption."
  type        = string
  default     = null

  validation {
    condition     = var.log_kms_key_arn == null || can(regex("^arn:aws[a-zA-Z-]*:kms:", var.log_kms_key_arn))
    error_message = "log_kms_key_arn must be null or a KMS key ARN."
  }
}

variable "manage_account_cloudwatch_role" {
  description = "Create the role API Gateway uses to write logs and set it in the account's API Gateway settings (aws_api_gateway_account). That setting is account- and region-wide: set false when it is already managed elsewhere. Access and execution logging need it."
  type        = bool
  default     = true
}

variable "waf_web_acl_arn" {
  description = "ARN of a regional AWS WAFv2 web ACL to associate with the stage (arn:<partition>:wafv2:<region>:<account>:regional/webacl/<name>/<id>), as apigw-lambda-api does. null (the default): no WAF. EDGE APIs take a regional ACL too (the stage is regional)."
  type        = string
  default     = null

  validation {
    condition     = var.waf_web_acl_arn == null || can(regex("^arn:aws[a-zA-Z-]*:wafv2:[a-z0-9-]+:[0-9]{12}:regional/webacl/", var.waf_web_acl_arn))
    error_message = "waf_web_acl_arn must be null or a regional WAFv2 web ACL ARN (arn:<partition>:wafv2:<region>:<account>:regional/webacl/<name>/<id>)."
  }
}

variable "tags" {
  description = "Tags for every taggable resource of the module (merged with the provider's default_tags). At most 45 entries, keys 1 to 128 and values up to 256 characters."
  type        = map(string)
  default     = {}

  validation {
    condition     = length(var.tags) <= 45 && alltrue([for k, v in var.tags : length(k) >= 1 && length(k) <= 128 && length(v) <= 256 && !startswith(lower(k), "aws:")])
    error_message = "tags: at most 45 (AWS allows 50, the provider's default_tags take some), keys 1 to 128 characters not starting with aws:, values up to 256."
  }
}
