locals {
  topic_arn     = var.create_sns_topic ? aws_sns_topic.alarms[0].arn : var.sns_topic_arn
  alarm_actions = local.topic_arn == null ? [] : [local.topic_arn]
  create_key    = var.create_sns_topic && var.sns_kms_key_arn == null

  stream   = coalesce(var.kinesis_stream_name, "-")
  api_name = try(var.api.name, "-")
  api_path = "${try(var.api.name, "-")}/${try(var.api.stage, "-")}"

  # The reference solution's stream alarms (monitoring-base.ts), each with the
  # StreamName dimension (its construct alarms had none and never got data).
  # One change: WriteProvisionedThroughputExceeded treats missing data as not
  # breaching. Kinesis publishes it only for minutes with writes, so "breaching"
  # put every idle stream in ALARM; throttled writes always produce datapoints.
  # GetRecords.Success keeps "breaching", as in the reference: a consumer that
  # stops polling (mapping disabled, function deleted) produces no datapoints,
  # which is what the alarm is for. On a stream with no consumer at all it will
  # be in ALARM; override it with treat_missing_data_overrides there.
  # key = [metric, statistic, comparison, threshold, missing data, description]
  kinesis_alarm_defs = {
    "kinesis-iterator-age" = ["GetRecords.IteratorAgeMilliseconds", "Maximum", "GreaterThanOrEqualToThreshold", var.kinesis_thresholds.iterator_age_ms, "breaching",
    "Records wait in ${local.stream} too long before being read (consumers fall behind)."]
    "kinesis-read-throughput-exceeded" = ["ReadProvisionedThroughputExceeded", "Average", "GreaterThanOrEqualToThreshold", var.kinesis_thresholds.throughput_exceeded, "breaching",
    "GetRecords calls on ${local.stream} are throttled (too many consumers or reads per shard)."]
    "kinesis-write-throughput-exceeded" = ["WriteProvisionedThroughputExceeded", "Average", "GreaterThanOrEqualToThreshold", var.kinesis_thresholds.throughput_exceeded, "notBreaching",
    "Writes to ${local.stream} are throttled (add shards, or spread partition keys)."]
    "kinesis-put-record-success" = ["PutRecord.Success", "Average", "LessThanOrEqualToThreshold", var.kinesis_thresholds.put_success_min, "notBreaching",
    "Too many PutRecord calls to ${local.stream} fail."]
    "kinesis-put-records-success" = ["PutRecords.Success", "Average", "LessThanOrEqualToThreshold", var.kinesis_thresholds.put_success_min, "notBreaching",
    "Too many PutRecords calls to ${local.stream} fail."]
    "kinesis-get-records-success" = ["GetRecords.Success", "Average", "LessThanOrEqualToThreshold", var.kinesis_thresholds.get_records_success_min, "breaching",
    "GetRecords calls on ${local.stream} fail, or nothing reads the stream."]
  }
  kinesis_alarms = {
    for key, d in local.kinesis_alarm_defs : key => {
      namespace           = "AWS/Kinesis"
      metric_name         = d[0]
      statistic           = d[1]
      extended_statistic  = null
      comparison_operator = d[2]
      threshold           = d[3]
      treat_missing_data  = d[4]
      description         = d[5]
      period              = 60
      evaluation_periods  = 1
      datapoints_to_alarm = 1
      dimensions          = { StreamName = local.stream }
    } if var.kinesis_stream_name != null
  }

  # Consumer-side alarms; thresholds are documented in variables.tf.
  # key = [function, metric, statistic, threshold (>=), description]
  lambda_alarm_defs = merge([
    for key, fn in var.lambda_functions : merge(
      {
        "lambda-${key}-errors" = [fn.function_name, "Errors", "Sum", var.lambda_thresholds.errors,
        "Invocations of ${fn.function_name} crash or time out (a stream consumer then retries the whole batch)."]
        "lambda-${key}-throttles" = [fn.function_name, "Throttles", "Sum", var.lambda_thresholds.throttles,
        "Invocations of ${fn.function_name} are throttled (concurrency limit)."]
      },
      fn.kinesis_consumer ? {
        "lambda-${key}-iterator-age" = [fn.function_name, "IteratorAge", "Maximum", var.lambda_thresholds.iterator_age_ms,
        "${fn.function_name} processes records long after they were written (it falls behind the stream)."]
      } : {},
    )
  ]...)
  lambda_alarms = {
    for key, d in local.lambda_alarm_defs : key => {
      namespace           = "AWS/Lambda"
      metric_name         = d[1]
      statistic           = d[2]
      extended_statistic  = null
      comparison_operator = "GreaterThanOrEqualToThreshold"
      threshold           = d[3]
      treat_missing_data  = "notBreaching"
      description         = d[4]
      period              = 60
      evaluation_periods  = 1
      datapoints_to_alarm = 1
      dimensions          = { FunctionName = d[0] }
    }
  }

  # API alarms: error rates (the metrics are 0/1 per request, so Average is the
  # rate) and p99 latency; 3 of 5 one-minute periods to ride out single spikes.
  # key = [metric, statistic, extended statistic, threshold (>=), description]
  api_alarm_defs = {
    "api-5xx-errors" = ["5XXError", "Average", null, var.api_thresholds.server_error_rate,
    "Too many requests to ${local.api_path} end in 5xx (the backend failed or is unavailable, or the API is misconfigured)."]
    "api-4xx-errors" = ["4XXError", "Average", null, var.api_thresholds.client_error_rate,
    "Too many requests to ${local.api_path} end in 4xx (invalid requests, failed auth or API key, or throttling)."]
    "api-latency" = ["Latency", null, "p99", var.api_thresholds.latency_p99_ms,
    "The 99th percentile latency of ${local.api_path} is high."]
  }
  api_alarms = {
    for key, d in local.api_alarm_defs : key => {
      namespace           = "AWS/ApiGateway"
      metric_name         = d[0]
      statistic           = d[1]
      extended_statistic  = d[2]
      comparison_operator = "GreaterThanOrEqualToThreshold"
      threshold           = d[3]
      treat_missing_data  = "notBreaching"
      description         = d[4]
      period              = 60
      evaluation_periods  = 5
      datapoints_to_alarm = 3
      dimensions          = { ApiName = local.api_name, Stage = try(var.api.stage, "-") }
    } if var.api != null
  }

  # The reference v1.0.0's DLQDepthAlarm, dropped in later versions.
  queue_alarms = {
    for key, queue_name in var.queues : "sqs-${key}-depth" => {
      namespace           = "AWS/SQS"
      metric_name         = "ApproximateNumberOfMessagesVisible"
      statistic           = "Sum"
      extended_statistic  = null
      comparison_operator = "GreaterThanOrEqualToThreshold"
      threshold           = var.queue_depth_threshold
      treat_missing_data  = "notBreaching"
      description         = "Failed-record metadata is waiting in ${queue_name}: inspect and redrive it."
      period              = 300
      evaluation_periods  = 1
      datapoints_to_alarm = 1
      dimensions          = { QueueName = queue_name }
    }
  }

  # The caller's alarms on its own metrics, as given.
  metric_alarms = {
    for key, a in var.metric_alarms : key => {
      namespace           = a.namespace
      metric_name         = a.metric_name
      statistic           = a.statistic
      extended_statistic  = null
      comparison_operator = a.comparison_operator
      threshold           = a.threshold
      treat_missing_data  = a.treat_missing_data
      description         = a.description
      period              = a.period
      evaluation_periods  = a.evaluation_periods
      datapoints_to_alarm = coalesce(a.datapoints_to_alarm, a.evaluation_periods)
      dimensions          = a.dimensions
    }
  }

  alarms = merge(local.kinesis_alarms, local.lambda_alarms, local.api_alarms, local.queue_alarms, local.metric_alarms)
}

################################################################################
# Alarms
################################################################################

resource "aws_cloudwatch_metric_alarm" "this" {
  for_each = local.alarms

  alarm_name          = "${var.name_prefix}-${each.key}"
  alarm_description   = each.value.description
  namespace           = each.value.namespace
  metric_name         = each.value.metric_name
  dimensions          = each.value.dimensions
  statistic           = each.value.statistic
  extended_statistic  = each.value.extended_statistic
  comparison_operator = each.value.comparison_operator
  threshold           = each.value.threshold
  period              = each.value.period
  evaluation_periods  = each.value.evaluation_periods
  datapoints_to_alarm = each.value.datapoints_to_alarm
  treat_missing_data  = lookup(var.treat_missing_data_overrides, each.key, each.value.treat_missing_data)

  alarm_actions = local.alarm_actions
  ok_actions    = local.alarm_actions

  tags = var.tags
}

################################################################################
# SNS topic (optional), encrypted with a key CloudWatch may use
################################################################################

data "aws_caller_identity" "current" {
  count = var.create_sns_topic ? 1 : 0
}

data "aws_partition" "current" {
  count = var.create_sns_topic ? 1 : 0
}

data "aws_region" "current" {
  count = var.create_sns_topic ? 1 : 0
}

locals {
  account_id   = one(data.aws_caller_identity.current[*].account_id)
  account_root = var.create_sns_topic ? "arn:${data.aws_partition.current[0].partition}:iam::${local.account_id}:root" : null
  # CloudWatch sends the alarm's ARN and account with every publish: only this account's alarms
  # in this region may use the topic (and its key).
  alarm_source = var.create_sns_topic ? {
    ArnLike      = { "aws:SourceArn" = "arn:${data.aws_partition.current[0].partition}:cloudwatch:${data.aws_region.current[0].name}:${local.account_id}:alarm:*" }
    StringEquals = { "aws:SourceAccount" = local.account_id }
  } : null
}

resource "aws_kms_key" "sns" {
  count = local.create_key ? 1 : 0

  description         = "Encrypts the ${var.name_prefix} alarm topic"
  enable_key_rotation = true
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        # Key policies name the key itself as "*". The account administers the key; using it to
        # encrypt or decrypt is granted below, through SNS only.
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
        # Principals of the account (publishers, readers of the topic's messages) use the key only
        # through SNS in this region.
        Sid       = "AccountUsesKeyThroughSns"
        Effect    = "Allow"
        Principal = { AWS = local.account_root }
        Action    = ["kms:Decrypt", "kms:GenerateDataKey*"]
        Resource  = "*"
        Condition = {
          StringEquals = {
            "kms:ViaService"    = "sns.${data.aws_region.current[0].name}.amazonaws.com"
            "kms:CallerAccount" = local.account_id
          }
        }
      },
      {
        Sid       = "CloudWatchPublishesToTopic"
        Effect    = "Allow"
        Principal = { Service = "cloudwatch.amazonaws.com" }
        Action    = ["kms:Decrypt", "kms:GenerateDataKey*"]
        Resource  = "*"
        Condition = local.alarm_source
      },
    ]
  })

  tags = var.tags
}

resource "aws_kms_alias" "sns" {
  count = local.create_key ? 1 : 0

  name          = "alias/${var.name_prefix}-alarms"
  target_key_id = aws_kms_key.sns[0].key_id
}

resource "aws_sns_topic" "alarms" {
  count = var.create_sns_topic ? 1 : 0

  name              = "${var.name_prefix}-alarms"
  kms_master_key_id = local.create_key ? aws_kms_key.sns[0].arn : var.sns_kms_key_arn

  tags = var.tags

  lifecycle {
    precondition {
      condition     = var.sns_topic_arn == null
      error_message = "Set either create_sns_topic or sns_topic_arn, not both."
    }
  }
}

# Replaces SNS's default topic policy: the owner account as before, CloudWatch alarms of this
# account and region, and nothing without TLS.
resource "aws_sns_topic_policy" "alarms" {
  count = var.create_sns_topic ? 1 : 0

  arn = aws_sns_topic.alarms[0].arn
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AccountOwnsTopic"
        Effect    = "Allow"
        Principal = { AWS = local.account_root }
        Action = [
          "sns:GetTopicAttributes", "sns:SetTopicAttributes", "sns:AddPermission", "sns:RemovePermission",
          "sns:DeleteTopic", "sns:Subscribe", "sns:ListSubscriptionsByTopic", "sns:Publish",
        ]
        Resource = aws_sns_topic.alarms[0].arn
      },
      {
        Sid       = "CloudWatchAlarmsPublish"
        Effect    = "Allow"
        Principal = { Service = "cloudwatch.amazonaws.com" }
        Action    = "sns:Publish"
        Resource  = aws_sns_topic.alarms[0].arn
        Condition = local.alarm_source
      },
      {
        Sid       = "DenyInsecureTransport"
        Effect    = "Deny"
        Principal = "*"
        Action    = "sns:Publish"
        Resource  = aws_sns_topic.alarms[0].arn
        Condition = { Bool = { "aws:SecureTransport" = "false" } }
      },
    ]
  })
}

resource "aws_sns_topic_subscription" "email" {
  count = var.create_sns_topic && var.alarm_email != null ? 1 : 0

  topic_arn = aws_sns_topic.alarms[0].arn
  protocol  = "email"
  endpoint  = var.alarm_email
}
