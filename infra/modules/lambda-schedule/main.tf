# An EventBridge Scheduler schedule that invokes one Lambda function: its own least-privilege role
# (lambda:InvokeFunction on that function only), a retry policy, and a KMS-encrypted dead-letter
# queue for the invocations that fail every retry or grow too old.

locals {
  # The schedule's role may invoke the function and its versions/aliases, nothing else.
  function_arns = [var.function_arn, "${var.function_arn}:*"]
  # arn:<partition>:lambda:<region>:<account>:function:<name>
  account_id = split(":", var.function_arn)[4]
}

################################################################################
# Dead-letter queue: the events of invocations that failed every retry
################################################################################

module "dlq" {
  source = "../sqs-queue"

  name                      = "${var.name}-schedule-dlq"
  kms_key_arn               = var.dlq_kms_key_arn
  message_retention_seconds = var.dlq_message_retention_seconds
  tags                      = var.tags
}

################################################################################
# Execution role of the schedule
################################################################################

resource "aws_iam_role" "this" {
  name        = "${var.name}-scheduler"
  description = "EventBridge Scheduler role of ${var.name}: invokes ${var.function_arn}"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "SchedulerAssumeRole"
      Effect    = "Allow"
      Action    = "sts:AssumeRole"
      Principal = { Service = "scheduler.amazonaws.com" }
      # Only schedules of this account (confused-deputy guard, as the Scheduler guide shows).
      Condition = { StringEquals = { "aws:SourceAccount" = local.account_id } }
    }]
  })

  tags = var.tags
}

resource "aws_iam_role_policy" "this" {
  name = "${var.name}-scheduler"
  role = aws_iam_role.this.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat(
      [
        {
          Sid      = "InvokeTheFunction"
          Effect   = "Allow"
          Action   = ["lambda:InvokeFunction"]
          Resource = local.function_arns
        },
        {
          Sid      = "SendToDeadLetterQueue"
          Effect   = "Allow"
          Action   = ["sqs:SendMessage"]
          Resource = [module.dlq.arn]
        },
      ],
      var.dlq_kms_key_arn == null ? [] : [{
        Sid      = "EncryptDeadLetters"
        Effect   = "Allow"
        Action   = ["kms:GenerateDataKey", "kms:Decrypt"]
        Resource = [var.dlq_kms_key_arn]
      }],
    )
  })
}

################################################################################
# Schedule
################################################################################

resource "aws_scheduler_schedule" "this" {
  name        = var.name
  group_name  = "default"
  description = var.description
  state       = var.enabled ? "ENABLED" : "DISABLED"

  schedule_expression          = var.schedule_expression
  schedule_expression_timezone = var.schedule_expression_timezone

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = var.function_arn
    role_arn = aws_iam_role.this.arn
    input    = var.input

    retry_policy {
      maximum_event_age_in_seconds = var.maximum_event_age_in_seconds
      maximum_retry_attempts       = var.maximum_retry_attempts
    }

    dead_letter_config {
      arn = module.dlq.arn
    }
  }

  # The role must be able to invoke before the first run.
  depends_on = [aws_iam_role_policy.this]
}
