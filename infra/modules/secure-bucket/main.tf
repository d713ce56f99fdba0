# A hardened S3 bucket pair: the data bucket (`this`) and its server access-log bucket.
#
# Both: public access blocked, ACLs disabled (BucketOwnerEnforced), default encryption, a TLS-only
# bucket policy and a lifecycle that aborts incomplete multipart uploads. The data bucket adds
# optional SSE-KMS (with a Bucket Key), versioning and intelligent tiering; the log bucket lets only
# the S3 logging service write, and only for the data bucket of this account.

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.name
  partition  = data.aws_partition.current.partition

  bucket_name      = "${var.name_prefix}-${local.account_id}-${local.region}"
  log_bucket_name  = "${var.name_prefix}-logs-${local.account_id}-${local.region}"
  bucket_arn       = "arn:${local.partition}:s3:::${local.bucket_name}"
  log_bucket_arn   = "arn:${local.partition}:s3:::${local.log_bucket_name}"
  sse_algorithm    = var.kms_key_arn == null ? "AES256" : "aws:kms"
  extra_statements = flatten([for d in var.policy_statements_json : jsondecode(d).Statement])
  data_statements  = concat(var.tls_only_policy ? [local.tls_only_statement.data] : [], local.extra_statements)

  # Deny every request that does not use TLS (aws:SecureTransport is false for plain HTTP).
  tls_only_statement = {
    for name, arn in { data = local.bucket_arn, logs = local.log_bucket_arn } : name => {
      Sid                   = "DenyInsecureTransport"
      Effect                = "Deny"
      Principal             = "*"
      Action                = "s3:*"
      Resource              = [arn, "${arn}/*"]
      Condition             = { Bool = { "aws:SecureTransport" = "false" } }
    }
  }
}

################################################################################
# Data bucket
################################################################################

resource "aws_s3_bucket" "this" {
  bucket        = local.bucket_name
  force_destroy = var.force_destroy
  tags          = var.tags
}

resource "aws_s3_bucket_public_access_block" "this" {
  bucket = aws_s3_bucket.this.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = local.sse_algorithm
      kms_master_key_id = var.kms_key_arn
    }
    bucket_key_enabled = var.kms_key_arn != null
  }
}

resource "aws_s3_bucket_versioning" "this" {
  count  = var.versioning_enabled ? 1 : 0
  bucket = aws_s3_bucket.this.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    id     = "multipart-upload-rule"
    status = "Enabled"

    filter {}

    abort_incomplete_multipart_upload {
      days_after_initiation = var.abort_incomplete_multipart_upload_days
    }
  }

  dynamic "rule" {
    for_each = var.enable_intelligent_tiering ? [1] : []
    content {
      id     = "intelligent-tiering-rule"
      status = "Enabled"

      filter {}

      transition {
        days          = var.intelligent_tiering_days
        storage_class = "INTELLIGENT_TIERING"
      }
    }
  }

  dynamic "rule" {
    for_each = var.expiration_days == null ? [] : [var.expiration_days]
    content {
      id     = "expiration-rule"
      status = "Enabled"

      filter {}

      expiration {
        days = rule.value
      }
    }
  }
}

resource "aws_s3_bucket_policy" "this" {
  count = length(local.data_statements) > 0 ? 1 : 0

  bucket = aws_s3_bucket.this.id
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = local.data_statements
  })

  # The public access block must exist first, or a broad extra statement could be applied unchecked.
  depends_on = [aws_s3_bucket_public_access_block.this]
}

resource "aws_s3_bucket_logging" "this" {
  bucket        = aws_s3_bucket.this.id
  target_bucket = aws_s3_bucket.access_logs.id
  target_prefix = var.access_log_prefix

  # S3 checks that the log bucket policy lets the logging service write before it accepts this.
  depends_on = [aws_s3_bucket_policy.access_logs]
}

################################################################################
# Access-log bucket
################################################################################

resource "aws_s3_bucket" "access_logs" {
  bucket        = local.log_bucket_name
  force_destroy = var.force_destroy
  tags          = var.tags
}

resource "aws_s3_bucket_public_access_block" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id

  rule {
    id     = "multipart-upload-rule"
    status = "Enabled"

    filter {}

    abort_incomplete_multipart_upload {
      days_after_initiation = var.abort_incomplete_multipart_upload_days
    }
  }

  rule {
    id     = "expire-access-logs"
    status = "Enabled"

    filter {}

    expiration {
      days = var.access_log_retention_days
    }
  }
}

resource "aws_s3_bucket_policy" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id
  policy = jsonencode({
    Version = "2012-10-17"
    # The logging grant comes first: S3 (and moto, which stops at the first statement it cannot
    # read as a service grant) looks for it when aws_s3_bucket_logging is applied.
    Statement = [
      {
        Sid       = "S3ServerAccessLogsPolicy"
        Effect    = "Allow"
        Principal = { Service = "logging.s3.amazonaws.com" }
        Action    = "s3:PutObject"
        Resource  = "${local.log_bucket_arn}/${var.access_log_prefix}*"
        Condition = {
          ArnLike      = { "aws:SourceArn" = local.bucket_arn }
          StringEquals = { "aws:SourceAccount" = local.account_id }
        }
      },
      local.tls_only_statement.logs,
    ]
  })

  depends_on = [aws_s3_bucket_public_access_block.access_logs]
}
