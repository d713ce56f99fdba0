################################################################################
# Queue: KMS-encrypted, owner-only, TLS-only
################################################################################

resource "aws_sqs_queue" "this" {
  name                       = var.name
  message_retention_seconds  = var.message_retention_seconds
  visibility_timeout_seconds = var.visibility_timeout_seconds

  kms_master_key_id                 = coalesce(var.kms_key_arn, "alias/aws/sqs")
  kms_data_key_reuse_period_seconds = var.kms_data_key_reuse_period_seconds

  tags = var.tags
}

locals {
  # The owning account, read from the queue ARN (arn:<partition>:sqs:<region>:<account>:<name>)
  # rather than a data source, so the module needs no extra API calls.
  queue_arn_parts = split(":", aws_sqs_queue.this.arn)
  account_root    = "arn:${local.queue_arn_parts[1]}:iam::${local.queue_arn_parts[4]}:root"
}

resource "aws_sqs_queue_policy" "this" {
  queue_url = aws_sqs_queue.this.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        # Principals of the owning account only (their IAM policies still apply).
        Sid       = "QueueOwnerOnlyAccess"
        Effect    = "Allow"
        Principal = { AWS = local.account_root }
        Action = [
          "sqs:DeleteMessage",
          "sqs:ReceiveMessage",
          "sqs:SendMessage",
          "sqs:GetQueueAttributes",
          "sqs:ChangeMessageVisibility",
          "sqs:PurgeQueue",
        ]
        Resource = aws_sqs_queue.this.arn
      },
      {
        Sid       = "HttpsOnly"
        Effect    = "Deny"
        Principal = "*"
        Action    = "sqs:*"
        Resource  = aws_sqs_queue.this.arn
        Condition = { Bool = { "aws:SecureTransport" = "false" } }
      },
    ]
  })
}
