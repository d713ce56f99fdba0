################################################################################
# Stream
################################################################################

output "name" {
  description = "Name of the stream (the StreamName dimension of its CloudWatch metrics)."
  value       = aws_kinesis_stream.this.name
}

output "arn" {
  description = "ARN of the stream."
  value       = aws_kinesis_stream.this.arn
}

output "kms_key_id" {
  description = "KMS key used for server-side encryption: alias/aws/kinesis or the customer key ARN."
  value       = aws_kinesis_stream.this.kms_key_id
}

output "kms_key_arn" {
  description = "ARN of the customer-managed key, or null when the AWS-managed key is used (no IAM grant needed then)."
  value       = var.kms_key_arn
}

output "stream_mode" {
  description = "Capacity mode of the stream."
  value       = var.stream_mode
}
