output "bucket_name" {
  description = "Name of the archive bucket."
  value       = module.bucket.bucket_name
}

output "bucket_arn" {
  description = "ARN of the archive bucket."
  value       = module.bucket.bucket_arn
}

output "prefix" {
  description = "Key prefix of the archived records."
  value       = var.prefix
}

output "kms_key_arn" {
  description = "ARN of the KMS key that encrypts the bucket (created by the module unless kms_key_arn was given)."
  value       = local.kms_key_arn
}

output "expiration_days" {
  description = "Days after which an archived record is deleted."
  value       = var.expiration_days
}

output "environment" {
  description = "The function's environment variables that turn the archive on: merge them into its environment."
  value = {
    FAILED_RECORD_ARCHIVE_BUCKET = module.bucket.bucket_name
    FAILED_RECORD_ARCHIVE_PREFIX = var.prefix
  }
}

output "policy_json" {
  description = "The function role's archive policy as applied."
  value       = aws_iam_role_policy.archive.policy
}
