# The redrive workflow: a Step Functions state machine that runs one redrive pass after another
# (functions/redrive) over a Kinesis event source mapping's on-failure queue, on demand or on an
# EventBridge Scheduler schedule, retries Lambda's service errors and throttles with backoff,
# and notifies an SNS topic when a run fails ("redrive failed") or leaves records ("records
# left"). Logs go to log groups encrypted with a customer-managed KMS key; every statement of
# every role names the ARNs it acts on (except where AWS has no resource-level permissions,
# said at each).

locals {
  # arn:<partition>:sqs:<region>:<account>:<name>: the deployment's partition, region and
  # account, without data sources (terraform test with a mocked provider sees real values).
  queue_arn_parts = split(":", var.queue_arn)
  partition       = local.queue_arn_parts[1]
  region          = local.queue_arn_parts[3]
  account_id      = local.queue_arn_parts[4]
  account_root    = "arn:${local.partition}:iam::${local.account_id}:root"

  function_name = var.name
  # Vended-logs prefix: Step Functions' log deliveries then need no log group resource policy
  # of their own (the CloudWatch Logs resource policy size limit).
  log_group_name      = "/aws/vendedlogs/states/${var.name}"
  log_group_arn       = "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:${local.log_group_name}"
  function_log_arn    = "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:/aws/lambda/${local.function_name}"
  state_machine_arn   = "arn:${local.partition}:states:${local.region}:${local.account_id}:stateMachine:${var.name}"
  create_log_key      = var.log_kms_key_arn == null
  log_kms_key_arn     = local.create_log_key ? one(aws_kms_key.logs[*].arn) : var.log_kms_key_arn
  s3_object_arn       = var.s3_bucket_name == null ? null : "arn:${local.partition}:s3:::${var.s3_bucket_name}/${var.s3_prefix}*"
  retryable_lambda    = ["Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException", "Lambda.TooManyRequestsException"]
  notification_retry  = [{ ErrorEquals = ["SNS.SnsException", "SNS.ThrottledException", "SNS.InternalErrorException", "States.Timeout"], IntervalSeconds = 2, MaxAttempts = 3, BackoffRate = 2 }]
  queue_name          = local.queue_arn_parts[5]
  stream_name         = regex("[^/]+$", var.stream_arn)
  notification_prefix = "kstream redrive of ${local.queue_name}"

  # The function's permissions beyond its own logs: each names the ARNs it acts on.
  function_statements = concat(
    [
      {
        sid       = "ReadAndDeleteFailureMessages"
        actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"]
        resources = [var.queue_arn]
      },
      {
        sid       = "ReadRangesBack"
        actions   = ["kinesis:GetShardIterator", "kinesis:GetRecords"]
        resources = [var.stream_arn]
      },
    ],
    var.mode == "reput" ? [{
      sid       = "PutRecordsAgain"
      actions   = ["kinesis:PutRecords"]
      resources = [var.stream_arn]
    }] : [],
    var.mode == "invoke" ? [{
      sid       = "InvokeTheConsumer"
      actions   = ["lambda:InvokeFunction", "lambda:GetFunctionConfiguration"]
      resources = [var.function_arn]
    }] : [],
    var.mode == "s3" ? [{
      sid       = "WriteRecordsUnderPrefix"
      actions   = ["s3:PutObject"]
      resources = [local.s3_object_arn]
    }] : [],
    var.queue_kms_key_arn == null ? [] : [{
      sid       = "DecryptFailureMessages"
      actions   = ["kms:Decrypt"]
      resources = [var.queue_kms_key_arn]
    }],
    var.stream_kms_key_arn == null ? [] : [{
      sid       = "UseStreamKey"
      actions   = var.mode == "reput" ? ["kms:Decrypt", "kms:GenerateDataKey"] : ["kms:Decrypt"]
      resources = [var.stream_kms_key_arn]
    }],
    var.mode == "s3" && var.s3_kms_key_arn != null ? [{
      sid       = "EncryptRecordObjects"
      actions   = ["kms:GenerateDataKey"]
      resources = [var.s3_kms_key_arn]
    }] : [],
  )

  # The task's payload: the event functions/redrive takes (its tests/fixtures/sfn-*.json).
  payload = merge(
    {
      queue_url                  = var.queue_url
      mode                       = var.mode
      delete_unrecoverable       = var.delete_unrecoverable
      visibility_timeout_seconds = var.visibility_timeout_seconds
    },
    var.mode == "invoke" ? { function_name = var.function_arn } : {},
    var.mode == "s3" ? { s3_uri = "s3://${var.s3_bucket_name}/${var.s3_prefix}" } : {},
    var.max_messages == null ? {} : { max_messages = var.max_messages },
  )

  definition = {
    Comment = "Redrive of ${local.queue_name} (stream ${local.stream_name}, mode ${var.mode}): passes of ${local.function_name} until the queue is drained; notifies ${var.notification_topic_arn} of failures and of records left."
    StartAt = "Redrive"
    States = {
      Redrive = {
        Type           = "Task"
        Comment        = "One redrive pass (functions/redrive)."
        Resource       = "arn:${local.partition}:states:::lambda:invoke"
        Parameters     = { FunctionName = module.function.function_arn, Payload = local.payload }
        ResultSelector = { "summary.$" = "$.Payload" }
        ResultPath     = "$.pass"
        Retry = [
          {
            ErrorEquals     = local.retryable_lambda
            IntervalSeconds = var.retry.interval_seconds
            MaxAttempts     = var.retry.max_attempts
            BackoffRate     = var.retry.backoff_rate
            JitterStrategy  = "FULL"
          },
          {
            # The queue could not be read, or a handled message not deleted: worth another go.
            ErrorEquals     = ["RedriveFailed"]
            IntervalSeconds = var.retry.interval_seconds
            MaxAttempts     = var.retry.max_attempts
            BackoffRate     = var.retry.backoff_rate
            JitterStrategy  = "FULL"
          },
        ]
        Catch = [{ ErrorEquals = ["States.ALL"], ResultPath = "$.error", Next = "NotifyFailed" }]
        Next  = "Decide"
      }
      Decide = {
        Type = "Choice"
        Choices = [
          {
            # The pass stopped early (its deadline or max_messages) and deleted something: the
            # next pass goes on. A pass that deleted nothing would read the same messages again.
            And = [
              { Variable = "$.pass.summary.more", BooleanEquals = true },
              {
                Or = [
                  { Variable = "$.pass.summary.handled", NumericGreaterThan = 0 },
                  { Variable = "$.pass.summary.unrecoverable_deleted", NumericGreaterThan = 0 },
                ]
              },
            ]
            Next = "Redrive"
          },
          {
            Or = [
              { Variable = "$.pass.summary.left", NumericGreaterThan = 0 },
              { Variable = "$.pass.summary.unrecoverable", NumericGreaterThan = 0 },
              { Variable = "$.pass.summary.more", BooleanEquals = true },
            ]
            Next = "NotifyRecordsLeft"
          },
        ]
        Default = "Drained"
      }
      NotifyRecordsLeft = {
        Type     = "Task"
        Resource = "arn:${local.partition}:states:::sns:publish"
        Parameters = {
          TopicArn    = var.notification_topic_arn
          Subject     = substr("${local.notification_prefix}: records left", 0, 100)
          "Message.$" = "States.Format('The redrive of ${var.queue_url} left records: {} message(s) left in the queue, {} range(s) no longer in the stream (see the function log /aws/lambda/${local.function_name}). Summary of the last pass: {}', $.pass.summary.left, $.pass.summary.unrecoverable, States.JsonToString($.pass.summary))"
        }
        Retry      = local.notification_retry
        ResultPath = null
        Next       = "RecordsLeft"
      }
      RecordsLeft = {
        Type  = "Fail"
        Error = "RecordsLeft"
        Cause = "The pass left messages in the queue or found ranges the stream no longer holds; the topic was notified."
      }
      NotifyFailed = {
        Type     = "Task"
        Resource = "arn:${local.partition}:states:::sns:publish"
        Parameters = {
          TopicArn    = var.notification_topic_arn
          Subject     = substr("${local.notification_prefix}: redrive failed", 0, 100)
          "Message.$" = "States.Format('The redrive of ${var.queue_url} failed after its retries: {}: {}', $.error.Error, $.error.Cause)"
        }
        Retry      = local.notification_retry
        ResultPath = null
        Next       = "RedriveFailed"
      }
      RedriveFailed = {
        Type  = "Fail"
        Error = "RedriveFailed"
        Cause = "The redrive pass failed after its retries; the topic was notified with the error."
      }
      Drained = {
        Type    = "Succeed"
        Comment = "Every message read was handled."
      }
    }
  }
}

################################################################################
# Log encryption key (unless log_kms_key_arn is given)
################################################################################

resource "aws_kms_key" "logs" {
  count = local.create_log_key ? 1 : 0

  description         = "Encrypts the log groups of the ${var.name} redrive workflow"
  enable_key_rotation = true
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        # Key policies name the key itself as "*". The account administers the key.
        Sid       = "AccountAdministersKey"
        Effect    = "Allow"
        Principal = { AWS = local.account_root }
        Action = [
          "kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*", "kms:Update*",
          "kms:Revoke*", "kms:Disable*", "kms:Get*", "kms:Delete*", "kms:TagResource",
          "kms:UntagResource", "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion",
        ]
        Resource = "*"
      },
      {
        # CloudWatch Logs of this region uses the key for these two log groups only.
        Sid       = "LogsUseKeyForTheseLogGroups"
        Effect    = "Allow"
        Principal = { Service = "logs.${local.region}.amazonaws.com" }
        Action    = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
        Resource  = "*"
        Condition = {
          ArnEquals = { "kms:EncryptionContext:aws:logs:arn" = [local.log_group_arn, local.function_log_arn] }
        }
      },
    ]
  })

  tags = var.tags
}

resource "aws_kms_alias" "logs" {
  count = local.create_log_key ? 1 : 0

  name          = "alias/${var.name}-logs"
  target_key_id = aws_kms_key.logs[0].key_id
}

################################################################################
# The redrive function (functions/redrive)
################################################################################

module "function" {
  source = "../lambda-function"

  function_name   = local.function_name
  description     = "Redrive passes over ${local.queue_name} (${var.mode}) for the ${var.name} workflow"
  package_path    = var.package_path
  timeout_seconds = var.function_timeout_seconds
  memory_size_mb  = var.function_memory_size_mb
  tracing_mode    = var.tracing_enabled ? "Active" : "PassThrough"

  log_retention_in_days = var.log_retention_in_days
  log_kms_key_arn       = local.log_kms_key_arn

  policy_statements = local.function_statements

  # Names the cargo package that builds this function; `kstream local` runs that binary.
  tags = merge(var.tags, { "kstream:package" = "redrive" })
}

################################################################################
# State machine
################################################################################

resource "aws_cloudwatch_log_group" "this" {
  name              = local.log_group_name
  retention_in_days = var.log_retention_in_days
  kms_key_id        = local.log_kms_key_arn

  tags = var.tags
}

resource "aws_iam_role" "this" {
  name        = "${var.name}-sfn"
  description = "Role of the ${var.name} redrive state machine: invokes ${local.function_name}, publishes to ${var.notification_topic_arn}"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "StatesAssumeRole"
      Effect    = "Allow"
      Action    = "sts:AssumeRole"
      Principal = { Service = "states.amazonaws.com" }
      # Only this state machine of this account (confused-deputy guard).
      Condition = {
        StringEquals = { "aws:SourceAccount" = local.account_id }
        ArnLike      = { "aws:SourceArn" = local.state_machine_arn }
      }
    }]
  })

  tags = var.tags
}

resource "aws_iam_role_policy" "this" {
  name = "${var.name}-sfn"
  role = aws_iam_role.this.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat(
      [
        {
          Sid    = "InvokeRedriveFunction"
          Effect = "Allow"
          # The unqualified ARN: the state machine invokes $LATEST, no other version or alias.
          Action   = ["lambda:InvokeFunction"]
          Resource = [module.function.function_arn]
        },
        {
          Sid      = "Notify"
          Effect   = "Allow"
          Action   = ["sns:Publish"]
          Resource = [var.notification_topic_arn]
        },
        {
          # Step Functions' log delivery API has no resource-level permissions: "*" is the only
          # valid resource (Step Functions developer guide, "IAM policies for logging to
          # CloudWatch Logs"). The delivery goes to the log group below only.
          Sid    = "DeliverLogs"
          Effect = "Allow"
          Action = [
            "logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery",
            "logs:DeleteLogDelivery", "logs:ListLogDeliveries", "logs:PutResourcePolicy",
            "logs:DescribeResourcePolicies", "logs:DescribeLogGroups",
          ]
          Resource = ["*"]
        },
      ],
      var.notification_kms_key_arn == null ? [] : [{
        Sid      = "EncryptNotifications"
        Effect   = "Allow"
        Action   = ["kms:GenerateDataKey*", "kms:Decrypt"]
        Resource = [var.notification_kms_key_arn]
        Condition = {
          StringEquals = { "kms:ViaService" = "sns.${local.region}.amazonaws.com" }
        }
      }],
      var.tracing_enabled ? [{
        # X-Ray segment upload has no resource-level permissions: "*" is the only valid resource.
        Sid      = "XRayTraces"
        Effect   = "Allow"
        Action   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets"]
        Resource = ["*"]
      }] : [],
    )
  })
}

resource "aws_sfn_state_machine" "this" {
  name       = var.name
  role_arn   = aws_iam_role.this.arn
  type       = "STANDARD"
  definition = jsonencode(local.definition)

  logging_configuration {
    log_destination        = "${aws_cloudwatch_log_group.this.arn}:*"
    include_execution_data = false
    level                  = var.log_level
  }

  tracing_configuration {
    enabled = var.tracing_enabled
  }

  tags = var.tags

  # The role must be able to deliver logs and invoke before the first execution.
  depends_on = [aws_iam_role_policy.this]
}

################################################################################
# Schedule (optional): EventBridge Scheduler starts an execution
################################################################################

resource "aws_iam_role" "schedule" {
  count = var.schedule_expression == null ? 0 : 1

  name        = "${var.name}-scheduler"
  description = "EventBridge Scheduler role of ${var.name}: starts executions of that state machine only"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "SchedulerAssumeRole"
      Effect    = "Allow"
      Action    = "sts:AssumeRole"
      Principal = { Service = "scheduler.amazonaws.com" }
      Condition = { StringEquals = { "aws:SourceAccount" = local.account_id } }
    }]
  })

  tags = var.tags
}

resource "aws_iam_role_policy" "schedule" {
  count = var.schedule_expression == null ? 0 : 1

  name = "${var.name}-scheduler"
  role = aws_iam_role.schedule[0].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid      = "StartTheStateMachine"
      Effect   = "Allow"
      Action   = ["states:StartExecution"]
      Resource = [aws_sfn_state_machine.this.arn]
    }]
  })
}

resource "aws_scheduler_schedule" "this" {
  count = var.schedule_expression == null ? 0 : 1

  name        = var.name
  group_name  = "default"
  description = "Starts the ${var.name} redrive workflow"

  schedule_expression          = var.schedule_expression
  schedule_expression_timezone = var.schedule_expression_timezone

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = aws_sfn_state_machine.this.arn
    role_arn = aws_iam_role.schedule[0].arn
    input    = "{}"

    retry_policy {
      maximum_event_age_in_seconds = 3600
      maximum_retry_attempts       = 3
    }
  }

  depends_on = [aws_iam_role_policy.schedule]
}
