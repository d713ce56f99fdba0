################################################################################
# API and its one resource
################################################################################

variable "name" {
  description = "Name of the REST API; also prefixes its usage plan, API key, key parameter or secret, roles and log groups. 1 to 40 characters: letters, digits, '-' and '_'."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9_-]{1,40}$", var.name))
    error_message = "name must be 1 to 40 characters from [a-zA-Z0-9_-]."
  }
}

variable "description" {
  description = "Description of the REST API. Up to 1024 characters."
  type        = string
  default     = "One GET resource behind AWS_IAM authorization and a required API key"

  validation {
    condition     = length(var.description) <= 1024
    error_message = "description must be at most 1024 characters."
  }
}

variable "endpoint_type" {
  description = "API endpoint type: REGIONAL (the default) or EDGE (through CloudFront, the reference's choice; an extra hop for callers in the same region)."
  type        = string
  default     = "REGIONAL"

  validation {
    condition     = contains(["REGIONAL", "EDGE"], var.endpoint_type)
    error_message = "endpoint_type must be REGIONAL or EDGE."
  }
}

variable "resource_path" {
  description = "Path part of the one resource under the API root, served as GET /<resource_path> (default predictFare). 1 to 128 characters: letters, digits, '.', '-' and '_' (no '/', no path parameters)."
  type        = string
  default     = "predictFare"

  validation {
    condition     = can(regex("^[a-zA-Z0-9._-]{1,128}$", var.resource_path))
    error_message = "resource_path must be 1 to 128 characters from [a-zA-Z0-9._-] (one path segment, no braces)."
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
# Backend: a Lambda function (AWS_PROXY) or an HTTP endpoint (HTTP_PROXY), exactly one
################################################################################

variable "lambda_function_name" {
  description = "Name of the Lambda function behind the resource (Lambda proxy integration, AWS_PROXY); give lambda_invoke_arn with it. The module lets API Gateway invoke it from this method only. null with http_integration_uri."
  type        = string
  default     = null

  validation {
    condition     = var.lambda_function_name == null || can(regex("^[a-zA-Z0-9_-]{1,64}$", var.lambda_function_name))
    error_message = "lambda_function_name must be null or 1 to 64 characters from [a-zA-Z0-9_-]."
  }
}

variable "lambda_invoke_arn" {
  description = "Invoke ARN of that function (the lambda-function module's invoke_arn: arn:<partition>:apigateway:<region>:lambda:path/2015-03-31/functions/<function ARN>/invocations). null with http_integration_uri."
  type        = string
  default     = null

  validation {
    condition     = var.lambda_invoke_arn == null || can(regex("^arn:aws[a-zA-Z-]*:apigateway:[a-z0-9-]+:lambda:path/", var.lambda_invoke_arn))
    error_message = "lambda_invoke_arn must be null or an API Gateway Lambda invoke ARN (arn:<partition>:apigateway:<region>:lambda:path/2015-03-31/functions/<function ARN>/invocations)."
  }
  validation {
    condition     = (var.lambda_invoke_arn == null) == (var.lambda_function_name == null)
    error_message = "lambda_invoke_arn and lambda_function_name go together: give both (Lambda backend) or neither (HTTP backend)."
  }
}

variable "http_integration_uri" {
  description = "HTTPS URL of an HTTP backend instead of a Lambda function (HTTP proxy integration, HTTP_PROXY, called with GET and the caller's query string), e.g. an endpoint in front of a SageMaker model. null (the default) with a Lambda backend. Exactly one of http_integration_uri and lambda_invoke_arn is set."
  type        = string
  default     = null

  validation {
    condition     = var.http_integration_uri == null || can(regex("^https://[^\\s/]+(/\\S*)?$", var.http_integration_uri))
    error_message = "http_integration_uri must be null or an https:// URL."
  }
  validation {
    condition     = (var.http_integration_uri == null) != (var.lambda_invoke_arn == null)
    error_message = "exactly one backend: lambda_function_name + lambda_invoke_arn (AWS_PROXY) or http_integration_uri (HTTP_PROXY)."
  }
}

variable "integration_timeout_ms" {
  description = "How long API Gateway waits for the backend, in milliseconds. An integer from 50 to 29000 (API Gateway's default and usual maximum); default 29000. Past it the caller gets 504."
  type        = number
  default     = 29000

  validation {
    condition     = var.integration_timeout_ms >= 50 && var.integration_timeout_ms <= 29000 && floor(var.integration_timeout_ms) == var.integration_timeout_ms
    error_message = "integration_timeout_ms must be an integer from 50 to 29000."
  }
}

################################################################################
# Usage plan and API key
################################################################################

variable "throttle_rate_limit" {
  description = "Usage plan throttle: steady-state requests per second allowed to the API key (the reference's 20). A number from 1 to 10000; default 20. Over it callers get 429 (API Gateway applies it on a best-effort basis)."
  type        = number
  default     = 20

  validation {
    condition     = var.throttle_rate_limit >= 1 && var.throttle_rate_limit <= 10000
    error_message = "throttle_rate_limit must be from 1 to 10000 requests per second."
  }
}

variable "throttle_burst_limit" {
  description = "Usage plan throttle: burst (token bucket size) of the API key, in requests (the reference's 100). An integer from 1 to 5000; default 100."
  type        = number
  default     = 100

  validation {
    condition     = var.throttle_burst_limit >= 1 && var.throttle_burst_limit <= 5000 && floor(var.throttle_burst_limit) == var.throttle_burst_limit
    error_message = "throttle_burst_limit must be an integer from 1 to 5000."
  }
}

variable "quota_limit" {
  description = "Usage plan quota: requests the API key may make per quota_period. null (the default): no quota. An integer from 1 to 2000000000; past it callers get 429 until the period ends."
  type        = number
  default     = null

  validation {
    condition     = var.quota_limit == null || try(var.quota_limit >= 1 && var.quota_limit <= 2000000000 && floor(var.quota_limit) == var.quota_limit, false)
    error_message = "quota_limit must be null or an integer from 1 to 2000000000."
  }
}

variable "quota_period" {
  description = "Period of quota_limit: DAY (the default), WEEK or MONTH. Unused without quota_limit."
  type        = string
  default     = "DAY"

  validation {
    condition     = contains(["DAY", "WEEK", "MONTH"], var.quota_period)
    error_message = "quota_period must be DAY, WEEK or MONTH."
  }
}

variable "api_key_store" {
  description = "Where the API key's value (generated by API Gateway) is kept for callers: ssm (the default; an SSM Parameter Store SecureString named api_key_parameter_name) or secretsmanager (a Secrets Manager secret <name>-api-key whose secret string is the key). The value is never an output."
  type        = string
  default     = "ssm"

  validation {
    condition     = contains(["ssm", "secretsmanager"], var.api_key_store)
    error_message = "api_key_store must be ssm or secretsmanager."
  }
}

variable "api_key_parameter_name" {
  description = "Name of the SSM parameter holding the key (api_key_store = ssm). null (the default): /<name>/api-key. A path of 1 to 1011 characters from [a-zA-Z0-9_.-/], starting with '/'."
  type        = string
  default     = null

  validation {
    condition     = var.api_key_parameter_name == null || try(length(var.api_key_parameter_name) <= 1011 && can(regex("^/[a-zA-Z0-9_./-]+$", var.api_key_parameter_name)), false)
    error_message = "api_key_parameter_name must be null or a path of 1 to 1011 characters from [a-zA-Z0-9_./-] starting with '/'."
  }
}

variable "api_key_kms_key_arn" {
  description = "ARN of a customer-managed KMS key encrypting the stored key (the SecureString or the secret). null (the default): the AWS-managed key (alias/aws/ssm or alias/aws/secretsmanager). Readers of the key then also need kms:Decrypt on this key."
  type        = string
  default     = null

  validation {
    condition     = var.api_key_kms_key_arn == null || can(regex("^arn:aws[a-zA-Z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/", var.api_key_kms_key_arn))
    error_message = "api_key_kms_key_arn must be null or a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<id>)."
  }
}

variable "api_key_secret_recovery_window_in_days" {
  description = "With api_key_store = secretsmanager: days a deleted secret can still be restored. 0 (delete at once, so the same name can be created again right away) or an integer from 7 to 30; default 7."
  type        = number
  default     = 7

  validation {
    condition     = var.api_key_secret_recovery_window_in_days == 0 || (var.api_key_secret_recovery_window_in_days >= 7 && var.api_key_secret_recovery_window_in_days <= 30 && floor(var.api_key_secret_recovery_window_in_days) == var.api_key_secret_recovery_window_in_days)
    error_message = "api_key_secret_recovery_window_in_days must be 0 or an integer from 7 to 30."
  }
}

################################################################################
# Stage: tracing, metrics, logging, WAF
################################################################################

variable "xray_tracing_enabled" {
  description = "Trace requests with AWS X-Ray (default true)."
  type        = bool
  default     = true
}

variable "detailed_metrics_enabled" {
  description = "Per-method CloudWatch metrics (billed as custom metrics). The stage-wide metrics (ApiName + Stage) alarms use are always published. Default false."
  type        = bool
  default     = false
}

variable "execution_logging_level" {
  description = "Execution logging to API-Gateway-Execution-Logs_<api id>/<stage>: INFO (the reference's setting, the default), ERROR or OFF. Request and response bodies are never logged."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(["OFF", "ERROR", "INFO"], var.execution_logging_level)
    error_message = "execution_logging_level must be OFF, ERROR or INFO."
  }
}

variable "log_retention_in_days" {
  description = "Retention of the access and execution log groups, in days. One of the values CloudWatch Logs accepts: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653 (0 = never expire); default 365."
  type        = number
  default     = 365

  validation {
    condition     = contains([0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_in_days)
    error_message = "log_retention_in_days must be one of 0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

variable "log_kms_key_arn" {
  description = "ARN of a KMS key for the access and execution log groups (its key policy must allow logs.<region>.amazonaws.com). null (the default): CloudWatch Logs' own encryption."
  type        = string
  default     = null

  validation {
    condition     = var.log_kms_key_arn == null || can(regex("^arn:aws[a-zA-Z-]*:kms:", var.log_kms_key_arn))
    error_message = "log_kms_key_arn must be null or a KMS key ARN."
  }
}

variable "manage_account_cloudwatch_role" {
  description = "Create the role API Gateway writes logs with and set it in the account's API Gateway settings (aws_api_gateway_account), as apigw-kinesis-proxy does. That setting is account- and region-wide: set false when it is already managed elsewhere (another pattern in the same account and region). Access and execution logging need it. Default true."
  type        = bool
  default     = true
}

variable "waf_web_acl_arn" {
  description = "ARN of a regional AWS WAFv2 web ACL to associate with the stage (arn:<partition>:wafv2:<region>:<account>:regional/webacl/<name>/<id>). null (the default): no WAF. EDGE APIs take a regional ACL too (the stage is regional)."
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
