################################################################################
# Event source mapping
################################################################################

output "event_source_mapping_uuid" {
  description = "UUID of the event source mapping."
  value       = aws_lambda_event_source_mapping.this.uuid
}

output "event_source_mapping_arn" {
  description = "ARN of the event source mapping."
  value       = aws_lambda_event_source_mapping.this.arn
}

################################################################################
# Failure queue
################################################################################

output "failure_queue_name" {
  description = "Name of the on-failure SQS queue (the QueueName dimension of its metrics)."
  value       = module.failure_queue.name
}

output "failure_queue_arn" {
  description = "ARN of the on-failure SQS queue."
  value       = module.failure_queue.arn
}

output "failure_queue_url" {
  description = "URL of the on-failure SQS queue."
  value       = module.failure_queue.url
}
