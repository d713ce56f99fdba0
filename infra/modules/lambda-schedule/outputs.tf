################################################################################
# Schedule
################################################################################

output "schedule_name" {
  description = "Name of the schedule (group default)."
  value       = aws_scheduler_schedule.this.name
}

output "schedule_arn" {
  description = "ARN of the schedule."
  value       = aws_scheduler_schedule.this.arn
}

output "settings" {
  description = "The schedule's settings as planned/applied (read back from the resource, for tests and for the local data plane)."
  value = {
    schedule_expression          = aws_scheduler_schedule.this.schedule_expression
    schedule_expression_timezone = aws_scheduler_schedule.this.schedule_expression_timezone
    state                        = aws_scheduler_schedule.this.state
    target_arn                   = one(aws_scheduler_schedule.this.target).arn
    input                        = one(aws_scheduler_schedule.this.target).input
    maximum_retry_attempts       = one(one(aws_scheduler_schedule.this.target).retry_policy).maximum_retry_attempts
    maximum_event_age_in_seconds = one(one(aws_scheduler_schedule.this.target).retry_policy).maximum_event_age_in_seconds
    dead_letter_arn              = one(one(aws_scheduler_schedule.this.target).dead_letter_config).arn
  }
}

################################################################################
# Role and dead-letter queue
################################################################################

output "role_name" {
  description = "Name of the schedule's execution role."
  value       = aws_iam_role.this.name
}

output "role_arn" {
  description = "ARN of the schedule's execution role."
  value       = aws_iam_role.this.arn
}

output "dlq_name" {
  description = "Name of the dead-letter queue (the QueueName dimension of its metrics)."
  value       = module.dlq.name
}

output "dlq_arn" {
  description = "ARN of the dead-letter queue."
  value       = module.dlq.arn
}

output "dlq_url" {
  description = "URL of the dead-letter queue."
  value       = module.dlq.url
}
