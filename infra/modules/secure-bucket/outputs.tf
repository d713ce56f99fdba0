################################################################################
# Data bucket
################################################################################

output "bucket_name" {
  description = "Name of the data bucket."
  value       = aws_s3_bucket.this.bucket
}

output "bucket_arn" {
  description = "ARN of the data bucket (known at plan time: built from the name)."
  value       = "arn:${local.partition}:s3:::${aws_s3_bucket.this.bucket}"
}

output "kms_key_arn" {
  description = "ARN of the KMS key that encrypts the data bucket, or null when it uses SSE-S3."
  value       = var.kms_key_arn
}

output "policy_json" {
  description = "The data bucket policy as applied (TLS-only deny plus the extra statements), or null when it has no statement."
  value       = try(aws_s3_bucket_policy.this[0].policy, null)
}

################################################################################
# Access-log bucket
################################################################################

output "access_log_bucket_name" {
  description = "Name of the server access-log bucket."
  value       = aws_s3_bucket.access_logs.bucket
}

output "access_log_bucket_arn" {
  description = "ARN of the server access-log bucket."
  value       = "arn:${local.partition}:s3:::${aws_s3_bucket.access_logs.bucket}"
}
