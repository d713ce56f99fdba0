################################################################################
# Function
################################################################################

output "function_name" {
  description = "Name of the function (the FunctionName dimension of its CloudWatch metrics)."
  value       = aws_lambda_function.this.function_name
}

output "function_arn" {
  description = "Unqualified ARN of the function."
  value       = aws_lambda_function.this.arn
}

output "invoke_arn" {
  description = "ARN to use in an API Gateway Lambda integration uri."
  value       = aws_lambda_function.this.invoke_arn
}

output "timeout_seconds" {
  description = "Timeout of the function, in seconds."
  value       = aws_lambda_function.this.timeout
}

################################################################################
# IAM and logs
################################################################################

output "role_name" {
  description = "Name of the execution role (attach more inline policies to it)."
  value       = aws_iam_role.this.name
}

output "role_arn" {
  description = "ARN of the execution role."
  value       = aws_iam_role.this.arn
}

output "log_group_name" {
  description = "Name of the function's log group (/aws/lambda/<name>)."
  value       = aws_cloudwatch_log_group.this.name
}

output "log_group_arn" {
  description = "ARN of the function's log group."
  value       = aws_cloudwatch_log_group.this.arn
}

output "source_code_hash" {
  description = "Base64 SHA-256 of the deployment package, or null when package_path does not exist yet (not built)."
  value       = local.source_code_hash
}
