mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "123456789012"
    }
  }
  mock_data "aws_region" {
    defaults = {
      name = "us-east-1"
    }
  }
  mock_data "aws_partition" {
    defaults = {
      partition = "aws"
    }
  }
}

variables {
  name_prefix = "kstream-test"
}

run "defaults_are_hardened" {
  command = plan

  assert {
    condition     = aws_s3_bucket.this.bucket == "kstream-test-123456789012-us-east-1"
    error_message = "data bucket name must be <prefix>-<account>-<region>"
  }
  assert {
    condition     = aws_s3_bucket.access_logs.bucket == "kstream-test-logs-123456789012-us-east-1"
    error_message = "log bucket name must be <prefix>-logs-<account>-<region>"
  }
  assert {
    condition     = aws_s3_bucket.this.force_destroy == false && aws_s3_bucket.access_logs.force_destroy == false
    error_message = "force_destroy must default to false"
  }
  assert {
    condition = alltrue([
      aws_s3_bucket_public_access_block.this.block_public_acls,
      aws_s3_bucket_public_access_block.this.block_public_policy,
      aws_s3_bucket_public_access_block.this.ignore_public_acls,
      aws_s3_bucket_public_access_block.this.restrict_public_buckets,
      aws_s3_bucket_public_access_block.access_logs.block_public_acls,
      aws_s3_bucket_public_access_block.access_logs.block_public_policy,
      aws_s3_bucket_public_access_block.access_logs.ignore_public_acls,
      aws_s3_bucket_public_access_block.access_logs.restrict_public_buckets,
    ])
    error_message = "all four public access blocks must be on for both buckets"
  }
  assert {
    condition     = aws_s3_bucket_ownership_controls.this.rule[0].object_ownership == "BucketOwnerEnforced" && aws_s3_bucket_ownership_controls.access_logs.rule[0].object_ownership == "BucketOwnerEnforced"
    error_message = "ACLs must be disabled (BucketOwnerEnforced)"
  }
  assert {
    condition     = one(aws_s3_bucket_server_side_encryption_configuration.this.rule).apply_server_side_encryption_by_default[0].sse_algorithm == "AES256"
    error_message = "default encryption must be SSE-S3"
  }
  assert {
    condition     = one(aws_s3_bucket_server_side_encryption_configuration.access_logs.rule).apply_server_side_encryption_by_default[0].sse_algorithm == "AES256"
    error_message = "the log bucket must use SSE-S3"
  }
  assert {
    condition     = length(aws_s3_bucket_versioning.this) == 0
    error_message = "versioning is off by default"
  }
  assert {
    condition     = length(aws_s3_bucket_lifecycle_configuration.this.rule) == 1
    error_message = "without tiering the data bucket has only the multipart rule"
  }
  assert {
    condition     = aws_s3_bucket_lifecycle_configuration.this.rule[0].abort_incomplete_multipart_upload[0].days_after_initiation == 7
    error_message = "incomplete multipart uploads must be aborted after 7 days"
  }
  assert {
    condition     = aws_s3_bucket_logging.this.target_prefix == "s3-access-logs/"
    error_message = "server access logs go under s3-access-logs/"
  }
}

run "tls_only_policies" {
  command = plan

  assert {
    condition = jsondecode(aws_s3_bucket_policy.this[0].policy).Statement[0] == {
      Sid       = "DenyInsecureTransport"
      Effect    = "Deny"
      Principal = "*"
      Action    = "s3:*"
      Resource  = ["arn:aws:s3:::kstream-test-123456789012-us-east-1", "arn:aws:s3:::kstream-test-123456789012-us-east-1/*"]
      Condition = { Bool = { "aws:SecureTransport" = "false" } }
    }
    error_message = "the data bucket policy must deny aws:SecureTransport=false on the bucket and its objects"
  }
  assert {
    condition     = length(jsondecode(aws_s3_bucket_policy.this[0].policy).Statement) == 1
    error_message = "no extra statements by default"
  }
  assert {
    condition     = jsondecode(aws_s3_bucket_policy.access_logs.policy).Statement[1].Condition.Bool["aws:SecureTransport"] == "false" && jsondecode(aws_s3_bucket_policy.access_logs.policy).Statement[1].Effect == "Deny"
    error_message = "the log bucket policy must be TLS-only too"
  }
  assert {
    condition = jsondecode(aws_s3_bucket_policy.access_logs.policy).Statement[0] == {
      Sid       = "S3ServerAccessLogsPolicy"
      Effect    = "Allow"
      Principal = { Service = "logging.s3.amazonaws.com" }
      Action    = "s3:PutObject"
      Resource  = "arn:aws:s3:::kstream-test-logs-123456789012-us-east-1/s3-access-logs/*"
      Condition = {
        ArnLike      = { "aws:SourceArn" = "arn:aws:s3:::kstream-test-123456789012-us-east-1" }
        StringEquals = { "aws:SourceAccount" = "123456789012" }
      }
    }
    error_message = "only the S3 logging service may write logs, for this data bucket and account"
  }
}

run "kms_versioning_tiering_and_extra_statements" {
  command = plan

  variables {
    kms_key_arn                = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    versioning_enabled         = true
    enable_intelligent_tiering = true
    force_destroy              = true
    policy_statements_json = [jsonencode({
      Version = "2012-10-17"
      Statement = [{
        Sid       = "AllowReader"
        Effect    = "Allow"
        Principal = { AWS = "arn:aws:iam::123456789012:role/reader" }
        Action    = "s3:GetObject"
        Resource  = "arn:aws:s3:::kstream-test-123456789012-us-east-1/*"
      }]
    })]
  }

  assert {
    condition     = one(aws_s3_bucket_server_side_encryption_configuration.this.rule).apply_server_side_encryption_by_default[0].sse_algorithm == "aws:kms"
    error_message = "a KMS key switches the data bucket to SSE-KMS"
  }
  assert {
    condition     = one(aws_s3_bucket_server_side_encryption_configuration.this.rule).apply_server_side_encryption_by_default[0].kms_master_key_id == "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    error_message = "the given key must be used"
  }
  assert {
    condition     = one(aws_s3_bucket_server_side_encryption_configuration.this.rule).bucket_key_enabled == true
    error_message = "SSE-KMS must use an S3 Bucket Key"
  }
  assert {
    condition     = one(aws_s3_bucket_server_side_encryption_configuration.access_logs.rule).apply_server_side_encryption_by_default[0].sse_algorithm == "AES256"
    error_message = "the log bucket stays on SSE-S3 (server access logging cannot write to SSE-KMS buckets)"
  }
  assert {
    condition     = aws_s3_bucket_versioning.this[0].versioning_configuration[0].status == "Enabled"
    error_message = "versioning must be enabled when asked"
  }
  assert {
    condition     = aws_s3_bucket_lifecycle_configuration.this.rule[1].id == "intelligent-tiering-rule" && one(aws_s3_bucket_lifecycle_configuration.this.rule[1].transition).storage_class == "INTELLIGENT_TIERING"
    error_message = "the tiering rule must transition to INTELLIGENT_TIERING"
  }
  assert {
    condition     = one(aws_s3_bucket_lifecycle_configuration.this.rule[1].transition).days == 1
    error_message = "the tiering rule transitions after 1 day by default"
  }
  assert {
    condition     = aws_s3_bucket.this.force_destroy && aws_s3_bucket.access_logs.force_destroy
    error_message = "force_destroy must pass through to both buckets"
  }
  assert {
    condition     = length(jsondecode(aws_s3_bucket_policy.this[0].policy).Statement) == 2 && jsondecode(aws_s3_bucket_policy.this[0].policy).Statement[0].Sid == "DenyInsecureTransport" && jsondecode(aws_s3_bucket_policy.this[0].policy).Statement[1].Sid == "AllowReader"
    error_message = "extra statements must be merged after the TLS-only deny"
  }
}

run "tls_policy_can_be_left_out_for_an_emulator" {
  command = plan

  variables {
    tls_only_policy = false
  }

  assert {
    condition     = length(aws_s3_bucket_policy.this) == 0
    error_message = "without the TLS deny and extra statements there is no data bucket policy"
  }
  assert {
    condition     = jsondecode(aws_s3_bucket_policy.access_logs.policy).Statement[1].Sid == "DenyInsecureTransport"
    error_message = "the log bucket keeps its TLS-only policy"
  }
}

run "rejects_bad_name_prefix" {
  command = plan
  variables {
    name_prefix = "Bad_Prefix"
  }
  expect_failures = [var.name_prefix]
}

run "rejects_long_name_prefix" {
  command = plan
  variables {
    name_prefix = "a-very-long-prefix-that-is-too-long"
  }
  expect_failures = [var.name_prefix]
}

run "rejects_bad_kms_key" {
  command = plan
  variables {
    kms_key_arn = "alias/aws/s3"
  }
  expect_failures = [var.kms_key_arn]
}

run "rejects_multipart_days_out_of_range" {
  command = plan
  variables {
    abort_incomplete_multipart_upload_days = 0
  }
  expect_failures = [var.abort_incomplete_multipart_upload_days]
}

run "rejects_tiering_days_out_of_range" {
  command = plan
  variables {
    intelligent_tiering_days = 3651
  }
  expect_failures = [var.intelligent_tiering_days]
}

run "rejects_log_retention_out_of_range" {
  command = plan
  variables {
    access_log_retention_days = 0
  }
  expect_failures = [var.access_log_retention_days]
}

run "rejects_log_prefix_without_slash" {
  command = plan
  variables {
    access_log_prefix = "logs"
  }
  expect_failures = [var.access_log_prefix]
}

run "rejects_policy_without_statements" {
  command = plan
  variables {
    policy_statements_json = ["{\"Version\":\"2012-10-17\"}"]
  }
  expect_failures = [var.policy_statements_json]
}

run "rejects_no_tls_policy_on_a_real_account" {
  command = plan
  override_data {
    target = data.aws_caller_identity.current
    values = { account_id = "210987654321", arn = "arn:aws:iam::210987654321:user/test", user_id = "AIDATEST" }
  }
  variables {
    tls_only_policy = false
  }
  expect_failures = [var.tls_only_policy]
}

run "no_tls_policy_on_localstack_account" {
  command = plan
  override_data {
    target = data.aws_caller_identity.current
    values = { account_id = "000000000000", arn = "arn:aws:iam::000000000000:root", user_id = "000000000000" }
  }
  variables {
    tls_only_policy = false
  }
  assert {
    condition     = length(aws_s3_bucket_policy.this) == 0
    error_message = "LocalStack's account may leave the TLS deny out"
  }
}

run "rejects_wildcard_principal_in_an_allow" {
  command = plan
  variables {
    policy_statements_json = [jsonencode({ Version = "2012-10-17", Statement = [{ Sid = "Open", Effect = "Allow", Principal = "*", Action = "s3:GetObject", Resource = "arn:aws:s3:::b/*" }] })]
  }
  expect_failures = [var.policy_statements_json]
}

run "rejects_wildcard_aws_principal_action_or_resource" {
  command = plan
  variables {
    policy_statements_json = [
      jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Principal = { AWS = ["arn:aws:iam::210987654321:root", "*"] }, Action = "s3:GetObject", Resource = "arn:aws:s3:::b/*" }] }),
    ]
  }
  expect_failures = [var.policy_statements_json]
}

run "rejects_wildcard_action" {
  command = plan
  variables {
    policy_statements_json = [jsonencode({ Version = "2012-10-17", Statement = { Effect = "Allow", Principal = { AWS = "arn:aws:iam::210987654321:root" }, Action = ["s3:*"], Resource = "arn:aws:s3:::b/*" } })]
  }
  expect_failures = [var.policy_statements_json]
}

run "rejects_wildcard_resource" {
  command = plan
  variables {
    policy_statements_json = [jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Principal = { AWS = "arn:aws:iam::210987654321:root" }, Action = "s3:GetObject", Resource = "*" }] })]
  }
  expect_failures = [var.policy_statements_json]
}

run "wildcards_are_fine_in_a_deny" {
  command = plan
  variables {
    policy_statements_json = [jsonencode({ Version = "2012-10-17", Statement = [{ Sid = "DenyOldTls", Effect = "Deny", Principal = "*", Action = "s3:*", Resource = "*", Condition = { NumericLessThan = { "s3:TlsVersion" = "1.2" } } }] })]
  }
  assert {
    condition     = jsondecode(aws_s3_bucket_policy.this[0].policy).Statement[1].Sid == "DenyOldTls"
    error_message = "a Deny with wildcards is accepted"
  }
}

run "objects_expire_when_asked" {
  command = plan
  variables {
    expiration_days = 30
  }
  assert {
    condition = anytrue([
      for r in aws_s3_bucket_lifecycle_configuration.this.rule :
      r.id == "expiration-rule" && r.status == "Enabled" && try(r.expiration[0].days, 0) == 30
    ])
    error_message = "expiration_days adds an expiration rule"
  }
}

run "objects_never_expire_by_default" {
  command = plan
  assert {
    condition     = alltrue([for r in aws_s3_bucket_lifecycle_configuration.this.rule : length(r.expiration) == 0])
    error_message = "no expiration rule by default"
  }
}

run "rejects_expiration_days_out_of_range" {
  command = plan
  variables {
    expiration_days = 0
  }
  expect_failures = [var.expiration_days]
}
