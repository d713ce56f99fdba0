# The failed-record archive of a Kinesis consumer function: a hardened bucket (secure-bucket:
# public access blocked, TLS-only policy, SSE-KMS with a customer managed key, access logs) whose
# objects expire, and the function's permission to put objects under the archive prefix only.
# The function writes each record it reports as a batch item failure there
# (kstream_pipeline::archive; FAILED_RECORD_ARCHIVE_BUCKET and FAILED_RECORD_ARCHIVE_PREFIX, the
# `environment` output).

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  account_id  = data.aws_caller_identity.current.account_id
  region      = data.aws_region.current.name
  partition   = data.aws_partition.current.partition
  create_key  = var.kms_key_arn == null
  kms_key_arn = local.create_key ? aws_kms_key.this[0].arn : var.kms_key_arn
}

resource "aws_kms_key" "this" {
  count = local.create_key ? 1 : 0

  description         = "Encrypts the ${var.name_prefix} failed-record archive"
  enable_key_rotation = true
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        # Key policies name the key itself as "*". The account administers the key; using it to
        # encrypt or decrypt is granted below, through S3 only.
        Sid       = "AccountAdministersKey"
        Effect    = "Allow"
        Principal = { AWS = "arn:${local.partition}:iam::${local.account_id}:root" }
        Action = [
          "kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*", "kms:Update*",
          "kms:Revoke*", "kms:Disable*", "kms:Get*", "kms:Delete*", "kms:TagResource",
          "kms:UntagResource", "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion",
        ]
        Resource = "*"
      },
      {
        # The function (writing) and the account's readers (inspecting, redriving) use the key
        # only through S3 in this region.
        Sid       = "AccountUsesKeyThroughS3"
        Effect    = "Allow"
        Principal = { AWS = "arn:${local.partition}:iam::${local.account_id}:root" }
        Action    = ["kms:Decrypt", "kms:GenerateDataKey"]
        Resource  = "*"
        Condition = {
          StringEquals = {
            "kms:ViaService"    = "s3.${local.region}.amazonaws.com"
            "kms:CallerAccount" = local.account_id
          }
        }
      },
    ]
  })

  tags = var.tags
}

resource "aws_kms_alias" "this" {
  count = local.create_key ? 1 : 0

  name          = "alias/${var.name_prefix}-failed-records"
  target_key_id = aws_kms_key.this[0].key_id
}

module "bucket" {
  source = "../secure-bucket"

  name_prefix     = "${var.name_prefix}-arc"
  kms_key_arn     = local.kms_key_arn
  expiration_days = var.expiration_days
  force_destroy   = var.force_destroy
  tls_only_policy = var.tls_only_policy
  tags            = var.tags
}

# Least privilege: PutObject under the prefix only (no read, list or delete: the function never
# needs them), and the key only for the data key of those writes, only through S3.
resource "aws_iam_role_policy" "archive" {
  name = "${var.name_prefix}-failed-record-archive"
  role = var.function_role_name
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "PutFailedRecords"
        Effect   = "Allow"
        Action   = ["s3:PutObject"]
        Resource = ["${module.bucket.bucket_arn}/${var.prefix}*"]
      },
      {
        Sid      = "EncryptFailedRecords"
        Effect   = "Allow"
        Action   = ["kms:GenerateDataKey"]
        Resource = [local.kms_key_arn]
        Condition = {
          StringEquals = { "kms:ViaService" = "s3.${local.region}.amazonaws.com" }
        }
      },
    ]
  })
}
