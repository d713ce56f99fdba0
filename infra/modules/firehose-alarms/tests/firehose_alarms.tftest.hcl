mock_provider "aws" {
  mock_data "aws_region" {
    defaults = {
      name = "us-east-1"
    }
  }
}

variables {
  name_prefix          = "kstream-p3"
  delivery_stream_name = "kstream-p3-delivery"
  lambda_function_name = "kstream-p3-transform"
  alarm_actions        = ["arn:aws:sns:us-east-1:123456789012:kstream-p3-alarms"]
}

run "alarms_use_the_delivery_stream_name" {
  command = plan

  assert {
    condition     = toset(keys(aws_cloudwatch_metric_alarm.this)) == toset(["firehose-data-freshness", "firehose-delivery-success", "firehose-throttled-get-records", "firehose-processing-success", "transform-errors", "transform-throttles"])
    error_message = "six alarms with a transform"
  }
  assert {
    condition     = alltrue([for a in aws_cloudwatch_metric_alarm.this : length(a.dimensions) == 1 && a.dimensions["DeliveryStreamName"] == "kstream-p3-delivery" if a.namespace == "AWS/Firehose"])
    error_message = "every Firehose alarm has DeliveryStreamName = the stream NAME (not the ARN)"
  }
  assert {
    condition     = alltrue([for a in aws_cloudwatch_metric_alarm.this : length(a.dimensions) == 1 && a.dimensions["FunctionName"] == "kstream-p3-transform" if a.namespace == "AWS/Lambda"])
    error_message = "Lambda alarms have FunctionName"
  }
  assert {
    condition     = alltrue([for a in aws_cloudwatch_metric_alarm.this : a.alarm_actions == toset(["arn:aws:sns:us-east-1:123456789012:kstream-p3-alarms"]) && a.ok_actions == toset(["arn:aws:sns:us-east-1:123456789012:kstream-p3-alarms"])])
    error_message = "every alarm notifies the topic on alarm and recovery"
  }
  assert {
    condition     = alltrue([for a in aws_cloudwatch_metric_alarm.this : a.treat_missing_data == "notBreaching" && a.period == 300])
    error_message = "missing data is not breaching; period 300 s"
  }
}

run "thresholds" {
  command = plan

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.this["firehose-data-freshness"].metric_name == "DeliveryToS3.DataFreshness" &&
      aws_cloudwatch_metric_alarm.this["firehose-data-freshness"].statistic == "Maximum" &&
      aws_cloudwatch_metric_alarm.this["firehose-data-freshness"].comparison_operator == "GreaterThanThreshold" &&
      aws_cloudwatch_metric_alarm.this["firehose-data-freshness"].threshold == 900
    )
    error_message = "DataFreshness Maximum > 900 s"
  }
  assert {
    condition = (
      aws_cloudwatch_metric_alarm.this["firehose-delivery-success"].metric_name == "DeliveryToS3.Success" &&
      aws_cloudwatch_metric_alarm.this["firehose-delivery-success"].statistic == "Average" &&
      aws_cloudwatch_metric_alarm.this["firehose-delivery-success"].comparison_operator == "LessThanThreshold" &&
      aws_cloudwatch_metric_alarm.this["firehose-delivery-success"].threshold == 1 &&
      aws_cloudwatch_metric_alarm.this["firehose-delivery-success"].evaluation_periods == 2
    )
    error_message = "DeliveryToS3.Success Average < 1 for 2 periods"
  }
  assert {
    condition = (
      aws_cloudwatch_metric_alarm.this["firehose-processing-success"].metric_name == "ExecuteProcessing.Success" &&
      aws_cloudwatch_metric_alarm.this["firehose-processing-success"].comparison_operator == "LessThanThreshold"
    )
    error_message = "ExecuteProcessing.Success below 1"
  }
  assert {
    condition = (
      aws_cloudwatch_metric_alarm.this["firehose-throttled-get-records"].metric_name == "ThrottledGetRecords" &&
      aws_cloudwatch_metric_alarm.this["firehose-throttled-get-records"].statistic == "Sum" &&
      aws_cloudwatch_metric_alarm.this["firehose-throttled-get-records"].threshold == 0 &&
      aws_cloudwatch_metric_alarm.this["firehose-throttled-get-records"].evaluation_periods == 3
    )
    error_message = "ThrottledGetRecords Sum > 0 for 3 periods"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.this["transform-errors"].metric_name == "Errors" && aws_cloudwatch_metric_alarm.this["transform-throttles"].metric_name == "Throttles"
    error_message = "transform Errors and Throttles"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.this["firehose-data-freshness"].alarm_name == "kstream-p3-firehose-data-freshness"
    error_message = "alarm names come from the prefix"
  }
}

run "widgets_use_the_delivery_stream_name" {
  command = plan

  assert {
    condition = alltrue(flatten([
      for w in output.dashboard_widgets : [
        for m in try(w.properties.metrics, []) : m[3] == "kstream-p3-delivery" if length(m) > 3 && m[0] == "AWS/Firehose"
      ]
    ]))
    error_message = "every Firehose widget metric uses the delivery stream name"
  }
  assert {
    condition = length(flatten([
      for w in output.dashboard_widgets : [
        for m in try(w.properties.metrics, []) : m if length(m) > 3 && m[0] == "AWS/Firehose"
      ]
    ])) >= 9
    error_message = "the Firehose section charts reads, throttles, success, freshness, deliveries and processing"
  }
  assert {
    condition = alltrue(flatten([
      for w in output.dashboard_widgets : [
        for m in try(w.properties.metrics, []) : m[2] == "FunctionName" && m[3] == "kstream-p3-transform" if length(m) > 3 && m[0] == "AWS/Lambda"
      ]
    ]))
    error_message = "Lambda widgets use FunctionName"
  }
}

run "without_a_transform" {
  command = plan

  variables {
    lambda_function_name = null
    alarm_actions        = []
  }

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.this) == 3
    error_message = "only the three Firehose delivery alarms"
  }
  assert {
    condition     = length([for w in output.dashboard_widgets : w if strcontains(jsonencode(w), "AWS/Lambda")]) == 0
    error_message = "no Lambda widgets"
  }
}

run "rejects_an_arn_as_the_stream_name" {
  command = plan
  variables {
    delivery_stream_name = "arn:aws:firehose:us-east-1:123456789012:deliverystream/kstream-p3-delivery"
  }
  expect_failures = [var.delivery_stream_name]
}

run "rejects_freshness_out_of_range" {
  command = plan
  variables {
    data_freshness_threshold_seconds = 59
  }
  expect_failures = [var.data_freshness_threshold_seconds]
}

run "rejects_success_ratio_out_of_range" {
  command = plan
  variables {
    success_rate_threshold = 1.01
  }
  expect_failures = [var.success_rate_threshold]
}

run "rejects_bad_period" {
  command = plan
  variables {
    period_seconds = 120
  }
  expect_failures = [var.period_seconds]
}

run "rejects_too_many_actions" {
  command = plan
  variables {
    alarm_actions = ["arn:1", "arn:2", "arn:3", "arn:4", "arn:5", "arn:6"]
  }
  expect_failures = [var.alarm_actions]
}
