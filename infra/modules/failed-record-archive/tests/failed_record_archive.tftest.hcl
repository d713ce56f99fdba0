# The archive with a mocked provider: the bucket hardened and expiring, the key created (or the
# caller's used), the role allowed s3:PutObject under the prefix only, and the values refused.
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
  mock_resource "aws_kms_key" {
    defaults = {
      arn = "arn:aws:kms:us-east-1:123456789012:key/created"
    }
  }
}

variables {
  name_prefix        = "kstream-p1"
  function_role_name = "kstream-p1-consumer-role"
}

run "defaults" {
  command = apply

  assert {
    condition     = output.bucket_name == "kstream-p1-arc-123456789012-us-east-1"
    error_message = "bucket name must be <prefix>-arc-<account>-<region>"
  }
  assert {
    condition     = output.environment == { FAILED_RECORD_ARCHIVE_BUCKET = "kstream-p1-arc-123456789012-us-east-1", FAILED_RECORD_ARCHIVE_PREFIX = "failed-records/" }
    error_message = "the function's environment names the bucket and the prefix"
  }
  assert {
    condition     = length(aws_kms_key.this) == 1 && aws_kms_key.this[0].enable_key_rotation && output.kms_key_arn == "arn:aws:kms:us-east-1:123456789012:key/created"
    error_message = "without kms_key_arn the module creates a rotating key"
  }
  assert {
    condition     = module.bucket.kms_key_arn == output.kms_key_arn
    error_message = "the bucket is encrypted with the archive's key (SSE-KMS)"
  }
  assert {
    condition     = anytrue([for s in jsondecode(module.bucket.policy_json).Statement : s.Effect == "Deny" && s.Condition.Bool["aws:SecureTransport"] == "false"])
    error_message = "the bucket is TLS-only"
  }
  assert {
    condition     = output.expiration_days == 30
    error_message = "objects expire after 30 days by default"
  }
  assert {
    condition = jsondecode(output.policy_json).Statement == [
      {
        Sid      = "PutFailedRecords"
        Effect   = "Allow"
        Action   = ["s3:PutObject"]
        Resource = ["arn:aws:s3:::kstream-p1-arc-123456789012-us-east-1/failed-records/*"]
      },
      {
        Sid       = "EncryptFailedRecords"
        Effect    = "Allow"
        Action    = ["kms:GenerateDataKey"]
        Resource  = ["arn:aws:kms:us-east-1:123456789012:key/created"]
        Condition = { StringEquals = { "kms:ViaService" = "s3.us-east-1.amazonaws.com" } }
      },
    ]
    error_message = "the role may only put objects under the prefix, and use the key through S3"
  }
  assert {
    condition     = aws_iam_role_policy.archive.role == "kstream-p1-consumer-role"
    error_message = "the policy is the function role's"
  }
  assert {
    condition = alltrue([
      for s in jsondecode(aws_kms_key.this[0].policy).Statement :
      s.Principal.AWS == "arn:aws:iam::123456789012:root" &&
      (s.Sid == "AccountAdministersKey" || try(s.Condition.StringEquals["kms:ViaService"], "") == "s3.us-east-1.amazonaws.com")
    ])
    error_message = "the key is the account's, used only through S3"
  }
}

run "caller_key_prefix_and_expiration" {
  command = apply

  variables {
    kms_key_arn     = "arn:aws:kms:us-east-1:123456789012:key/mine"
    prefix          = "p1/failed/"
    expiration_days = 7
  }

  assert {
    condition     = length(aws_kms_key.this) == 0 && output.kms_key_arn == "arn:aws:kms:us-east-1:123456789012:key/mine" && module.bucket.kms_key_arn == output.kms_key_arn
    error_message = "a given key is used, none created"
  }
  assert {
    condition     = jsondecode(output.policy_json).Statement[0].Resource == ["arn:aws:s3:::kstream-p1-arc-123456789012-us-east-1/p1/failed/*"]
    error_message = "PutObject is scoped to the given prefix"
  }
  assert {
    condition     = output.environment.FAILED_RECORD_ARCHIVE_PREFIX == "p1/failed/" && output.expiration_days == 7
    error_message = "prefix and expiration are passed on"
  }
}

run "rejects_expiration_0" {
  command = plan
  variables {
    expiration_days = 0
  }
  expect_failures = [var.expiration_days]
}

run "rejects_expiration_3651" {
  command = plan
  variables {
    expiration_days = 3651
  }
  expect_failures = [var.expiration_days]
}

run "rejects_fractional_expiration" {
  command = plan
  variables {
    expiration_days = 1.5
  }
  expect_failures = [var.expiration_days]
}

run "rejects_prefix_without_slash" {
  command = plan
  variables {
    prefix = "failed"
  }
  expect_failures = [var.prefix]
}

run "rejects_wildcard_prefix" {
  command = plan
  variables {
    prefix = "*/"
  }
  expect_failures = [var.prefix]
}

run "rejects_bad_key" {
  command = plan
  variables {
    kms_key_arn = "alias/mine"
  }
  expect_failures = [var.kms_key_arn]
}

run "rejects_long_name_prefix" {
  command = plan
  variables {
    name_prefix = "abcdefghijklmnopqrstuvwxy"
  }
  expect_failures = [var.name_prefix]
}
