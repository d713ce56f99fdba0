################################################################################
# State machine
################################################################################

output "state_machine_arn" {
  description = "ARN of the state machine (aws stepfunctions start-execution --state-machine-arn <this>)."
  value       = aws_sfn_state_machine.this.arn
}

output "state_machine_name" {
  description = "Name of the state machine."
  value       = aws_sfn_state_machine.this.name
}

output "definition" {
  description = "The state machine's definition (Amazon States Language), decoded."
  value       = local.definition
}

output "role_arn" {
  description = "ARN of the state machine's role."
  value       = aws_iam_role.this.arn
}

output "log_group_name" {
  description = "Name of the state machine's log group."
  value       = aws_cloudwatch_log_group.this.name
}

output "log_kms_key_arn" {
  description = "ARN of the KMS key of both log groups (created or given)."
  value       = local.log_kms_key_arn
}

################################################################################
# Function and schedule
################################################################################

output "function_name" {
  description = "Name of the redrive function."
  value       = module.function.function_name
}

output "function_arn" {
  description = "ARN of the redrive function."
  value       = module.function.function_arn
}

output "function_policy_statements" {
  description = "The statements the function's role gets beyond writing its logs (sid, actions, resources), for review and tests."
  value       = local.function_statements
}

output "function_role_name" {
  description = "Name of the redrive function's execution role."
  value       = module.function.role_name
}

output "schedule_arn" {
  description = "ARN of the schedule, or null when the workflow runs on demand only."
  value       = try(aws_scheduler_schedule.this[0].arn, null)
}
