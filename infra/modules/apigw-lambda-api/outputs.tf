# Names and ARNs only: the API key's value is never an output (read it from the parameter or the
# secret, with ssm:GetParameter / secretsmanager:GetSecretValue).

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
  description = "Base URL of the stage: https://<id>.execute-api.<region>.amazonaws.com/<stage>."
  value       = aws_api_gateway_stage.this.invoke_url
}

output "resource_url" {
  description = "URL of the resource: invoke_url/<resource_path> (call it with GET, SigV4 for execute-api and the x-api-key header)."
  value       = "${aws_api_gateway_stage.this.invoke_url}/${var.resource_path}"
}

output "resource_path" {
  description = "Path part of the resource (GET /<resource_path>)."
  value       = aws_api_gateway_resource.this.path_part
}

output "execution_arn" {
  description = "Execution ARN of the REST API (arn:<partition>:execute-api:<region>:<account>:<api id>)."
  value       = aws_api_gateway_rest_api.this.execution_arn
}

output "invoke_arn_for_get" {
  description = "The method's ARN, <execution_arn>/<stage>/GET/<resource_path>: the resource of a caller's execute-api:Invoke permission."
  value       = local.method_arn
}

output "integration_type" {
  description = "The backend's integration: AWS_PROXY (Lambda) or HTTP_PROXY (HTTP endpoint)."
  value       = aws_api_gateway_integration.this.type
}

################################################################################
# API key and usage plan
################################################################################

output "api_key_id" {
  description = "ID of the API key (not its value)."
  value       = aws_api_gateway_api_key.this.id
}

output "usage_plan_id" {
  description = "ID of the usage plan."
  value       = aws_api_gateway_usage_plan.this.id
}

output "api_key_store" {
  description = "Where the key's value is kept: ssm or secretsmanager."
  value       = var.api_key_store
}

output "api_key_parameter_name" {
  description = "Name of the SSM SecureString parameter holding the key (null with api_key_store = secretsmanager)."
  value       = one(aws_ssm_parameter.api_key[*].name)
}

output "api_key_parameter_arn" {
  description = "ARN of that parameter, for ssm:GetParameter (null with api_key_store = secretsmanager)."
  value       = one(aws_ssm_parameter.api_key[*].arn)
}

output "api_key_secret_arn" {
  description = "ARN of the Secrets Manager secret holding the key, for secretsmanager:GetSecretValue (null with api_key_store = ssm)."
  value       = one(aws_secretsmanager_secret.api_key[*].arn)
}

output "api_key_kms_key_arn" {
  description = "Customer-managed key encrypting the stored key (readers need kms:Decrypt on it), or null for the AWS-managed key."
  value       = var.api_key_kms_key_arn
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
  value       = one(aws_cloudwatch_log_group.execution[*].name)
}

output "web_acl_association_id" {
  description = "ID of the WAF web ACL association (null without waf_web_acl_arn)."
  value       = one(aws_wafv2_web_acl_association.this[*].id)
}
