################################################################################
# Queue
################################################################################

output "name" {
  description = "Name of the queue (the QueueName dimension of its CloudWatch metrics)."
  value       = aws_sqs_queue.this.name
}

output "arn" {
  description = "ARN of the queue."
  value       = aws_sqs_queue.this.arn
}

output "url" {
  description = "URL of the queue."
  value       = aws_sqs_queue.this.url
}

output "kms_key_arn" {
  description = "ARN of the customer-managed key, or null when the AWS-managed key alias/aws/sqs is used."
  value       = var.kms_key_arn
}
