# CloudWatch alarms and dashboard widgets for a Firehose delivery stream with a KDS source and an
# optional transform Lambda.
#
# Every AWS/Firehose metric uses the delivery stream NAME as the DeliveryStreamName dimension. (The
# reference solution passes the ARN, so its widgets stay empty and its freshness alarm, which
# treats missing data as breaching, sits in ALARM forever.)
#
# Missing data is "notBreaching" everywhere: Firehose publishes DeliveryToS3.* and
# ExecuteProcessing.* only while it has data to deliver, so an idle stream would otherwise alarm.
# A stalled delivery is not missed by this: while records wait, DataFreshness keeps being
# published and grows; and if Firehose stops reading altogether, the stream's
# GetRecords.IteratorAgeMilliseconds alarm (kinesis-stream alarms) fires.

data "aws_region" "current" {}

locals {
  firehose_dimensions = { DeliveryStreamName = var.delivery_stream_name }
  lambda_dimensions   = var.lambda_function_name == null ? {} : { FunctionName = var.lambda_function_name }
  has_lambda          = var.lambda_function_name != null
  lambda_name         = local.has_lambda ? var.lambda_function_name : ""

  alarms = merge(
    {
      "firehose-data-freshness" = {
        description         = "Oldest record in ${var.delivery_stream_name} is older than ${var.data_freshness_threshold_seconds} s: delivery to S3 is falling behind or failing (check the error log group and the errors/ prefix)."
        namespace           = "AWS/Firehose"
        metric_name         = "DeliveryToS3.DataFreshness"
        dimensions          = local.firehose_dimensions
        statistic           = "Maximum"
        comparison_operator = "GreaterThanThreshold"
        threshold           = var.data_freshness_threshold_seconds
        evaluation_periods  = 1
      }
      "firehose-delivery-success" = {
        description         = "S3 puts of ${var.delivery_stream_name} are failing (DeliveryToS3.Success below ${var.success_rate_threshold}): check the bucket policy, KMS key and the Firehose role."
        namespace           = "AWS/Firehose"
        metric_name         = "DeliveryToS3.Success"
        dimensions          = local.firehose_dimensions
        statistic           = "Average"
        comparison_operator = "LessThanThreshold"
        threshold           = var.success_rate_threshold
        evaluation_periods  = var.success_evaluation_periods
      }
      "firehose-throttled-get-records" = {
        description         = "${var.delivery_stream_name} is throttled reading its source stream (ThrottledGetRecords): add shards or move other consumers to enhanced fan-out."
        namespace           = "AWS/Firehose"
        metric_name         = "ThrottledGetRecords"
        dimensions          = local.firehose_dimensions
        statistic           = "Sum"
        comparison_operator = "GreaterThanThreshold"
        threshold           = var.throttled_get_records_threshold
        evaluation_periods  = var.throttled_evaluation_periods
      }
    },
    local.has_lambda ? {
      "firehose-processing-success" = {
        description         = "Invocations of the transform by ${var.delivery_stream_name} are failing (ExecuteProcessing.Success below ${var.success_rate_threshold}); failed batches go to the processing-failed error prefix."
        namespace           = "AWS/Firehose"
        metric_name         = "ExecuteProcessing.Success"
        dimensions          = local.firehose_dimensions
        statistic           = "Average"
        comparison_operator = "LessThanThreshold"
        threshold           = var.success_rate_threshold
        evaluation_periods  = var.success_evaluation_periods
      }
      "transform-errors" = {
        description         = "The transform Lambda ${local.lambda_name} returned errors (timeouts, crashes, bad responses)."
        namespace           = "AWS/Lambda"
        metric_name         = "Errors"
        dimensions          = local.lambda_dimensions
        statistic           = "Sum"
        comparison_operator = "GreaterThanThreshold"
        threshold           = var.lambda_errors_threshold
        evaluation_periods  = 1
      }
      "transform-throttles" = {
        description         = "The transform Lambda ${local.lambda_name} is throttled: raise its reserved or account concurrency."
        namespace           = "AWS/Lambda"
        metric_name         = "Throttles"
        dimensions          = local.lambda_dimensions
        statistic           = "Sum"
        comparison_operator = "GreaterThanThreshold"
        threshold           = var.lambda_throttles_threshold
        evaluation_periods  = 1
      }
    } : {},
  )
}

resource "aws_cloudwatch_metric_alarm" "this" {
  for_each = local.alarms

  alarm_name          = "${var.name_prefix}-${each.key}"
  alarm_description   = each.value.description
  namespace           = each.value.namespace
  metric_name         = each.value.metric_name
  dimensions          = each.value.dimensions
  statistic           = each.value.statistic
  comparison_operator = each.value.comparison_operator
  threshold           = each.value.threshold
  period              = var.period_seconds
  evaluation_periods  = each.value.evaluation_periods
  treat_missing_data  = "notBreaching"

  alarm_actions = var.alarm_actions
  ok_actions    = var.alarm_actions

  tags = var.tags
}

################################################################################
# Dashboard widgets (the Firehose and transform sections of a pattern dashboard)
################################################################################

locals {
  region = data.aws_region.current.name
  fh     = ["AWS/Firehose"]

  firehose_widgets = [
    {
      type       = "text", width = 24, height = 1
      properties = { markdown = "# Kinesis Data Firehose: ${var.delivery_stream_name}" }
    },
    {
      type = "metric", width = 8, height = 6
      properties = {
        title = "Read from Kinesis (records, bytes)", region = local.region, view = "timeSeries", stat = "Sum", period = var.period_seconds
        metrics = [
          ["AWS/Firehose", "DataReadFromKinesisStream.Records", "DeliveryStreamName", var.delivery_stream_name],
          ["AWS/Firehose", "DataReadFromKinesisStream.Bytes", "DeliveryStreamName", var.delivery_stream_name, { yAxis = "right" }],
        ]
      }
    },
    {
      type = "metric", width = 8, height = 6
      properties = {
        title = "ThrottledGetRecords", region = local.region, view = "timeSeries", stat = "Sum", period = var.period_seconds
        metrics = [
          ["AWS/Firehose", "ThrottledGetRecords", "DeliveryStreamName", var.delivery_stream_name],
        ]
      }
    },
    {
      type = "alarm", width = 8, height = 6
      properties = {
        title  = "Delivery alarms"
        alarms = [for k, a in aws_cloudwatch_metric_alarm.this : a.arn if a.namespace == "AWS/Firehose"]
      }
    },
    {
      type = "metric", width = 8, height = 6
      properties = {
        title = "Delivery to S3 success (%)", region = local.region, view = "timeSeries", period = var.period_seconds
        yAxis = { left = { min = 0, max = 100 } }
        metrics = [
          [{ expression = "m1 * 100", label = "DeliveryToS3.Success %", id = "e1" }],
          ["AWS/Firehose", "DeliveryToS3.Success", "DeliveryStreamName", var.delivery_stream_name, { id = "m1", stat = "Average", visible = false }],
        ]
      }
    },
    {
      type = "metric", width = 8, height = 6
      properties = {
        title = "Data freshness (s)", region = local.region, view = "timeSeries", stat = "Maximum", period = var.period_seconds
        metrics = [
          ["AWS/Firehose", "DeliveryToS3.DataFreshness", "DeliveryStreamName", var.delivery_stream_name],
        ]
        annotations = { horizontal = [{ label = "alarm", value = var.data_freshness_threshold_seconds }] }
      }
    },
    {
      type = "metric", width = 8, height = 6
      properties = {
        title = "Delivered to S3 (records, bytes)", region = local.region, view = "timeSeries", stat = "Sum", period = var.period_seconds
        metrics = [
          ["AWS/Firehose", "DeliveryToS3.Records", "DeliveryStreamName", var.delivery_stream_name],
          ["AWS/Firehose", "DeliveryToS3.Bytes", "DeliveryStreamName", var.delivery_stream_name, { yAxis = "right" }],
        ]
      }
    },
  ]

  lambda_widgets = [for w in [
    {
      type       = "text", width = 24, height = 1
      properties = { markdown = "# Transform Lambda: ${local.lambda_name}" }
    },
    {
      type = "metric", width = 8, height = 6
      properties = {
        title = "Processing (Firehose view)", region = local.region, view = "timeSeries", period = var.period_seconds
        metrics = [
          ["AWS/Firehose", "ExecuteProcessing.Success", "DeliveryStreamName", var.delivery_stream_name, { stat = "Average" }],
          ["AWS/Firehose", "SucceedProcessing.Records", "DeliveryStreamName", var.delivery_stream_name, { stat = "Sum", yAxis = "right" }],
          ["AWS/Firehose", "ExecuteProcessing.Duration", "DeliveryStreamName", var.delivery_stream_name, { stat = "Average", yAxis = "right" }],
        ]
      }
    },
    {
      type = "metric", width = 8, height = 6
      properties = {
        title = "Invocations, errors, throttles", region = local.region, view = "timeSeries", stat = "Sum", period = var.period_seconds
        metrics = [
          ["AWS/Lambda", "Invocations", "FunctionName", local.lambda_name],
          ["AWS/Lambda", "Errors", "FunctionName", local.lambda_name, { color = "#d62728" }],
          ["AWS/Lambda", "Throttles", "FunctionName", local.lambda_name],
        ]
      }
    },
    {
      type = "metric", width = 8, height = 6
      properties = {
        title = "Duration (ms)", region = local.region, view = "timeSeries", period = var.period_seconds
        metrics = [
          ["AWS/Lambda", "Duration", "FunctionName", local.lambda_name, { stat = "Minimum" }],
          ["AWS/Lambda", "Duration", "FunctionName", local.lambda_name, { stat = "Average" }],
          ["AWS/Lambda", "Duration", "FunctionName", local.lambda_name, { stat = "Maximum" }],
        ]
      }
    },
  ] : w if local.has_lambda]
}
