################################################################################
# API
################################################################################

output "rest_api_id" {
  description = "ID of the REST API."
  value       = aws_api_gateway_rest_api.this.id
}

output "rest_api_name" {
  description = "Name of the REST API (the ApiName dimension of its CloudWatch metrics)."
  value       = aws_api_gateway_rest_api.this.name
}

output "stage_name" {
  description = "Name of the stage (the Stage dimension of its CloudWatch metrics)."
  value       = aws_api_gateway_stage.this.stage_name
}

output "invoke_url" {
  description = "Base URL of the stage, e.g. https://<id>.execute-api.<region>.amazonaws.com/prod (append /record or /records)."
  value       = aws_api_gateway_stage.this.invoke_url
}

output "execution_arn" {
  description = "Execution ARN of the stage (for execute-api:Invoke policies with AWS_IAM authorization)."
  value       = aws_api_gateway_stage.this.execution_arn
}

output "authorization" {
  description = "How callers authenticate: COGNITO or AWS_IAM."
  value       = var.authorization
}

output "integration_role_arn" {
  description = "ARN of the role API Gateway uses to call Kinesis."
  value       = aws_iam_role.integration.arn
}

################################################################################
# Cognito
################################################################################

output "user_pool_id" {
  description = "ID of the Cognito user pool (null with AWS_IAM authorization)."
  value       = try(aws_cognito_user_pool.this[0].id, null)
}

output "user_pool_arn" {
  description = "ARN of the Cognito user pool (null with AWS_IAM authorization)."
  value       = try(aws_cognito_user_pool.this[0].arn, null)
}

output "user_pool_client_id" {
  description = "ID of the Cognito app client (null with AWS_IAM authorization)."
  value       = try(aws_cognito_user_pool_client.this[0].id, null)
}

################################################################################
# Logs
################################################################################

output "access_log_group_name" {
  description = "Log group of the JSON access logs."
  value       = aws_cloudwatch_log_group.access.name
}

output "execution_log_group_name" {
  description = "Log group of the execution logs (null when execution logging is OFF)."
  value       = try(aws_cloudwatch_log_group.execution[0].name, null)
}

output "throttling" {
  description = "Stage-wide throttling as set on the stage's */* method settings: rate_limit (requests/s) and burst_limit (requests)."
  value = {
    rate_limit  = aws_api_gateway_method_settings.this.settings[0].throttling_rate_limit
    burst_limit = aws_api_gateway_method_settings.this.settings[0].throttling_burst_limit
  }
}

output "web_acl_association_id" {
  description = "ID of the WAF web ACL association (null without waf_web_acl_arn)."
  value       = one(aws_wafv2_web_acl_association.this[*].id)
}
