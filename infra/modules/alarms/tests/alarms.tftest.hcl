mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "123456789012"
    }
  }
  mock_data "aws_partition" {
    defaults = {
      partition = "aws"
    }
  }
  mock_data "aws_region" {
    defaults = {
      name = "us-east-1"
    }
  }
  mock_resource "aws_sns_topic" {
    defaults = {
      arn = "arn:aws:sns:us-east-1:123456789012:kstream-test-alarms"
    }
  }
  mock_resource "aws_kms_key" {
    defaults = {
      arn = "arn:aws:kms:us-east-1:123456789012:key/sns-key"
    }
  }
}

variables {
  name_prefix         = "kstream-test"
  kinesis_stream_name = "kstream-test-stream"
  lambda_functions = {
    consumer = { function_name = "kstream-test-consumer", kinesis_consumer = true }
  }
  api    = { name = "kstream-test-api", stage = "prod" }
  queues = { failures = "kstream-test-failures" }
}

run "reference_stream_alarms_with_stream_dimension" {
  command = plan

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.this["kinesis-iterator-age"].metric_name == "GetRecords.IteratorAgeMilliseconds" &&
      aws_cloudwatch_metric_alarm.this["kinesis-iterator-age"].statistic == "Maximum" &&
      aws_cloudwatch_metric_alarm.this["kinesis-iterator-age"].comparison_operator == "GreaterThanOrEqualToThreshold" &&
      aws_cloudwatch_metric_alarm.this["kinesis-iterator-age"].threshold == 60000 &&
      aws_cloudwatch_metric_alarm.this["kinesis-iterator-age"].treat_missing_data == "breaching"
    )
    error_message = "iterator age: Maximum >= 60000 ms, missing data breaching"
  }
  assert {
    condition = alltrue([
      for k in ["kinesis-read-throughput-exceeded", "kinesis-write-throughput-exceeded"] :
      aws_cloudwatch_metric_alarm.this[k].statistic == "Average" &&
      aws_cloudwatch_metric_alarm.this[k].comparison_operator == "GreaterThanOrEqualToThreshold" &&
      aws_cloudwatch_metric_alarm.this[k].threshold == 0.01
    ])
    error_message = "throughput exceeded: Average >= 0.01"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.this["kinesis-read-throughput-exceeded"].treat_missing_data == "breaching" && aws_cloudwatch_metric_alarm.this["kinesis-write-throughput-exceeded"].treat_missing_data == "notBreaching"
    error_message = "read throttling breaching on missing data; write throttling not (idle streams publish no write metrics)"
  }
  assert {
    condition = alltrue([
      for k in ["kinesis-put-record-success", "kinesis-put-records-success"] :
      aws_cloudwatch_metric_alarm.this[k].statistic == "Average" &&
      aws_cloudwatch_metric_alarm.this[k].comparison_operator == "LessThanOrEqualToThreshold" &&
      aws_cloudwatch_metric_alarm.this[k].threshold == 0.95 &&
      aws_cloudwatch_metric_alarm.this[k].treat_missing_data == "notBreaching"
    ])
    error_message = "put success: Average <= 0.95, not breaching"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.this["kinesis-put-record-success"].metric_name == "PutRecord.Success" && aws_cloudwatch_metric_alarm.this["kinesis-put-records-success"].metric_name == "PutRecords.Success"
    error_message = "put success metric names"
  }
  assert {
    condition = (
      aws_cloudwatch_metric_alarm.this["kinesis-get-records-success"].metric_name == "GetRecords.Success" &&
      aws_cloudwatch_metric_alarm.this["kinesis-get-records-success"].comparison_operator == "LessThanOrEqualToThreshold" &&
      aws_cloudwatch_metric_alarm.this["kinesis-get-records-success"].threshold == 0.98 &&
      aws_cloudwatch_metric_alarm.this["kinesis-get-records-success"].treat_missing_data == "breaching"
    )
    error_message = "GetRecords success: Average <= 0.98, breaching"
  }
  assert {
    condition = alltrue([
      for k, a in aws_cloudwatch_metric_alarm.this : a.namespace == "AWS/Kinesis" && a.dimensions == tomap({ StreamName = "kstream-test-stream" }) && a.period == 60 && a.evaluation_periods == 1
      if startswith(k, "kinesis-")
    ])
    error_message = "every stream alarm: AWS/Kinesis, StreamName dimension, 60 s, 1 period"
  }
  assert {
    condition     = length([for k, a in aws_cloudwatch_metric_alarm.this : k if startswith(k, "kinesis-")]) == 6
    error_message = "six stream alarms"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.this["kinesis-iterator-age"].alarm_name == "kstream-test-kinesis-iterator-age"
    error_message = "alarm names come from the prefix"
  }
}

run "consumer_api_and_queue_alarms" {
  command = plan

  assert {
    condition = alltrue([
      for k in ["lambda-consumer-errors", "lambda-consumer-throttles", "lambda-consumer-iterator-age"] :
      aws_cloudwatch_metric_alarm.this[k].namespace == "AWS/Lambda" &&
      aws_cloudwatch_metric_alarm.this[k].dimensions == tomap({ FunctionName = "kstream-test-consumer" }) &&
      aws_cloudwatch_metric_alarm.this[k].treat_missing_data == "notBreaching"
    ])
    error_message = "Lambda alarms: AWS/Lambda with the FunctionName dimension"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.this["lambda-consumer-errors"].metric_name == "Errors" && aws_cloudwatch_metric_alarm.this["lambda-consumer-errors"].statistic == "Sum" && aws_cloudwatch_metric_alarm.this["lambda-consumer-errors"].threshold == 1
    error_message = "errors: Sum >= 1"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.this["lambda-consumer-throttles"].metric_name == "Throttles" && aws_cloudwatch_metric_alarm.this["lambda-consumer-throttles"].threshold == 1
    error_message = "throttles: Sum >= 1"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.this["lambda-consumer-iterator-age"].metric_name == "IteratorAge" && aws_cloudwatch_metric_alarm.this["lambda-consumer-iterator-age"].statistic == "Maximum" && aws_cloudwatch_metric_alarm.this["lambda-consumer-iterator-age"].threshold == 60000
    error_message = "consumer iterator age: Maximum >= 60000 ms"
  }
  assert {
    condition = alltrue([
      for k in ["api-5xx-errors", "api-4xx-errors", "api-latency"] :
      aws_cloudwatch_metric_alarm.this[k].namespace == "AWS/ApiGateway" &&
      aws_cloudwatch_metric_alarm.this[k].dimensions == tomap({ ApiName = "kstream-test-api", Stage = "prod" })
    ])
    error_message = "API alarms: AWS/ApiGateway with ApiName and Stage"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.this["api-5xx-errors"].metric_name == "5XXError" && aws_cloudwatch_metric_alarm.this["api-5xx-errors"].statistic == "Average" && aws_cloudwatch_metric_alarm.this["api-5xx-errors"].threshold == 0.01
    error_message = "5XX: Average >= 0.01"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.this["api-4xx-errors"].metric_name == "4XXError" && aws_cloudwatch_metric_alarm.this["api-4xx-errors"].threshold == 0.1
    error_message = "4XX: Average >= 0.1"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.this["api-latency"].extended_statistic == "p99" && aws_cloudwatch_metric_alarm.this["api-latency"].statistic == null && aws_cloudwatch_metric_alarm.this["api-latency"].threshold == 1000
    error_message = "latency: p99 >= 1000 ms"
  }
  assert {
    condition = (
      aws_cloudwatch_metric_alarm.this["sqs-failures-depth"].namespace == "AWS/SQS" &&
      aws_cloudwatch_metric_alarm.this["sqs-failures-depth"].metric_name == "ApproximateNumberOfMessagesVisible" &&
      aws_cloudwatch_metric_alarm.this["sqs-failures-depth"].statistic == "Sum" &&
      aws_cloudwatch_metric_alarm.this["sqs-failures-depth"].period == 300 &&
      aws_cloudwatch_metric_alarm.this["sqs-failures-depth"].evaluation_periods == 1 &&
      aws_cloudwatch_metric_alarm.this["sqs-failures-depth"].comparison_operator == "GreaterThanOrEqualToThreshold" &&
      aws_cloudwatch_metric_alarm.this["sqs-failures-depth"].threshold == 1 &&
      aws_cloudwatch_metric_alarm.this["sqs-failures-depth"].treat_missing_data == "notBreaching" &&
      aws_cloudwatch_metric_alarm.this["sqs-failures-depth"].dimensions == tomap({ QueueName = "kstream-test-failures" })
    )
    error_message = "queue depth: Sum over 300 s >= 1, 1 period, not breaching, QueueName dimension"
  }
  assert {
    condition     = length(aws_cloudwatch_metric_alarm.this) == 13
    error_message = "6 stream + 3 consumer + 3 API + 1 queue alarms"
  }
  assert {
    condition     = alltrue([for a in aws_cloudwatch_metric_alarm.this : length(a.alarm_actions) == 0]) && output.sns_topic_arn == null
    error_message = "no actions without a topic"
  }
}

run "created_topic_is_encrypted_and_notified" {
  command = apply

  variables {
    create_sns_topic = true
    alarm_email      = "ops@example.com"
  }

  assert {
    condition     = alltrue([for a in aws_cloudwatch_metric_alarm.this : a.alarm_actions == toset(["arn:aws:sns:us-east-1:123456789012:kstream-test-alarms"]) && a.ok_actions == toset(["arn:aws:sns:us-east-1:123456789012:kstream-test-alarms"])])
    error_message = "every alarm must notify the topic on ALARM and OK"
  }
  assert {
    condition     = aws_sns_topic.alarms[0].kms_master_key_id == "arn:aws:kms:us-east-1:123456789012:key/sns-key"
    error_message = "the topic must be encrypted with the module's key"
  }
  assert {
    condition     = jsondecode(aws_kms_key.sns[0].policy).Statement[2].Principal.Service == "cloudwatch.amazonaws.com" && contains(jsondecode(aws_kms_key.sns[0].policy).Statement[2].Action, "kms:GenerateDataKey*")
    error_message = "CloudWatch must be allowed to use the topic key"
  }
  assert {
    condition = jsondecode(aws_kms_key.sns[0].policy).Statement[2].Condition == {
      ArnLike      = { "aws:SourceArn" = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:*" }
      StringEquals = { "aws:SourceAccount" = "123456789012" }
    }
    error_message = "CloudWatch may use the key only for this account's alarms (aws:SourceArn, aws:SourceAccount)"
  }
  assert {
    condition     = !contains(jsondecode(aws_kms_key.sns[0].policy).Statement[0].Action, "kms:*") && !contains(jsondecode(aws_kms_key.sns[0].policy).Statement[0].Action, "kms:Decrypt") && contains(jsondecode(aws_kms_key.sns[0].policy).Statement[0].Action, "kms:ScheduleKeyDeletion")
    error_message = "the account administers the key without a blanket kms:* (no direct Decrypt)"
  }
  assert {
    condition     = jsondecode(aws_kms_key.sns[0].policy).Statement[1].Condition.StringEquals == { "kms:ViaService" = "sns.us-east-1.amazonaws.com", "kms:CallerAccount" = "123456789012" }
    error_message = "the account uses the key through SNS only (kms:ViaService)"
  }
  assert {
    condition     = aws_sns_topic_policy.alarms[0].arn == "arn:aws:sns:us-east-1:123456789012:kstream-test-alarms"
    error_message = "the topic gets its own policy"
  }
  assert {
    condition = jsondecode(aws_sns_topic_policy.alarms[0].policy).Statement[2] == {
      Sid       = "DenyInsecureTransport"
      Effect    = "Deny"
      Principal = "*"
      Action    = "sns:Publish"
      Resource  = "arn:aws:sns:us-east-1:123456789012:kstream-test-alarms"
      Condition = { Bool = { "aws:SecureTransport" = "false" } }
    }
    error_message = "the topic refuses publishing without TLS"
  }
  assert {
    condition = (
      jsondecode(aws_sns_topic_policy.alarms[0].policy).Statement[1].Principal.Service == "cloudwatch.amazonaws.com" &&
      jsondecode(aws_sns_topic_policy.alarms[0].policy).Statement[1].Condition.ArnLike["aws:SourceArn"] == "arn:aws:cloudwatch:us-east-1:123456789012:alarm:*" &&
      jsondecode(aws_sns_topic_policy.alarms[0].policy).Statement[1].Condition.StringEquals["aws:SourceAccount"] == "123456789012"
    )
    error_message = "CloudWatch publishes for this account's alarms only"
  }
  assert {
    condition     = jsondecode(aws_sns_topic_policy.alarms[0].policy).Statement[0].Principal.AWS == "arn:aws:iam::123456789012:root" && !contains(jsondecode(aws_sns_topic_policy.alarms[0].policy).Statement[0].Action, "sns:*")
    error_message = "the owner account keeps the default topic permissions, named"
  }
  assert {
    condition     = aws_kms_key.sns[0].enable_key_rotation
    error_message = "key rotation must be on"
  }
  assert {
    condition     = aws_sns_topic_subscription.email[0].endpoint == "ops@example.com" && aws_sns_topic_subscription.email[0].protocol == "email"
    error_message = "the email subscription must be created"
  }
}

run "existing_topic" {
  command = plan

  variables {
    sns_topic_arn = "arn:aws:sns:us-east-1:123456789012:ops"
  }

  assert {
    condition     = alltrue([for a in aws_cloudwatch_metric_alarm.this : a.alarm_actions == toset(["arn:aws:sns:us-east-1:123456789012:ops"])])
    error_message = "alarms must notify the given topic"
  }
  assert {
    condition     = length(aws_sns_topic.alarms) == 0 && length(aws_kms_key.sns) == 0 && length(aws_sns_topic_policy.alarms) == 0
    error_message = "no topic or key is created for a given topic"
  }
}

run "topic_both_ways_is_rejected" {
  command = plan

  variables {
    create_sns_topic = true
    sns_topic_arn    = "arn:aws:sns:us-east-1:123456789012:ops"
  }

  expect_failures = [aws_sns_topic.alarms]
}

run "sections_are_optional_and_overridable" {
  command = plan

  variables {
    kinesis_stream_name          = "s"
    lambda_functions             = {}
    api                          = null
    queues                       = {}
    kinesis_thresholds           = { iterator_age_ms = 300000 }
    treat_missing_data_overrides = { "kinesis-get-records-success" = "notBreaching" }
  }

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.this) == 6
    error_message = "only stream alarms when nothing else is given"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.this["kinesis-iterator-age"].threshold == 300000 && aws_cloudwatch_metric_alarm.this["kinesis-read-throughput-exceeded"].threshold == 0.01
    error_message = "a threshold override must keep the other defaults"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.this["kinesis-get-records-success"].treat_missing_data == "notBreaching"
    error_message = "missing-data overrides must apply"
  }
}

run "rejects_fraction_above_one" {
  command = plan
  variables { kinesis_thresholds = { put_success_min = 1.5 } }
  expect_failures = [var.kinesis_thresholds]
}

run "rejects_zero_queue_threshold" {
  command = plan
  variables { queue_depth_threshold = 0 }
  expect_failures = [var.queue_depth_threshold]
}

run "rejects_bad_missing_data_value" {
  command = plan
  variables { treat_missing_data_overrides = { "api-latency" = "ok" } }
  expect_failures = [var.treat_missing_data_overrides]
}

run "rejects_bad_stage" {
  command = plan
  variables { api = { name = "a", stage = "bad stage" } }
  expect_failures = [var.api]
}

run "metric_alarms_on_the_pattern_s_own_metrics" {
  command = plan

  variables {
    metric_alarms = {
      "window-state-size" = {
        namespace           = "kstream"
        metric_name         = "StateBytes"
        dimensions          = { FunctionName = "kstream-test-analytics" }
        statistic           = "Maximum"
        comparison_operator = "GreaterThanOrEqualToThreshold"
        threshold           = 838861
        description         = "state near 1 MB"
      }
      "output-freshness" = {
        namespace           = "kstream"
        metric_name         = "ObjectsWritten"
        dimensions          = { FunctionName = "kstream-test-analytics" }
        statistic           = "Sum"
        comparison_operator = "LessThanThreshold"
        threshold           = 1
        period              = 300
        evaluation_periods  = 3
        treat_missing_data  = "breaching"
        description         = "no output"
      }
    }
  }

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.this["window-state-size"].alarm_name == "kstream-test-window-state-size" &&
      aws_cloudwatch_metric_alarm.this["window-state-size"].namespace == "kstream" &&
      aws_cloudwatch_metric_alarm.this["window-state-size"].metric_name == "StateBytes" &&
      aws_cloudwatch_metric_alarm.this["window-state-size"].dimensions == tomap({ FunctionName = "kstream-test-analytics" }) &&
      aws_cloudwatch_metric_alarm.this["window-state-size"].statistic == "Maximum" &&
      aws_cloudwatch_metric_alarm.this["window-state-size"].threshold == 838861 &&
      aws_cloudwatch_metric_alarm.this["window-state-size"].period == 60 &&
      aws_cloudwatch_metric_alarm.this["window-state-size"].evaluation_periods == 1 &&
      aws_cloudwatch_metric_alarm.this["window-state-size"].datapoints_to_alarm == 1 &&
      aws_cloudwatch_metric_alarm.this["window-state-size"].treat_missing_data == "notBreaching"
    )
    error_message = "a metric alarm takes its fields, with the defaults for those left out"
  }
  assert {
    condition = (
      aws_cloudwatch_metric_alarm.this["output-freshness"].comparison_operator == "LessThanThreshold" &&
      aws_cloudwatch_metric_alarm.this["output-freshness"].period == 300 &&
      aws_cloudwatch_metric_alarm.this["output-freshness"].evaluation_periods == 3 &&
      aws_cloudwatch_metric_alarm.this["output-freshness"].datapoints_to_alarm == 3 &&
      aws_cloudwatch_metric_alarm.this["output-freshness"].treat_missing_data == "breaching"
    )
    error_message = "period, evaluations and missing data must come from the alarm's fields"
  }
  assert {
    condition     = length(aws_cloudwatch_metric_alarm.this) == 13 + 2
    error_message = "metric alarms come on top of the sections' alarms"
  }
}

run "rejects_a_metric_alarm_key_of_a_section" {
  command = plan
  variables {
    metric_alarms = {
      "lambda-x" = { namespace = "n", metric_name = "m", dimensions = { A = "b" }, statistic = "Sum", comparison_operator = "GreaterThanThreshold", threshold = 1, description = "" }
    }
  }
  expect_failures = [var.metric_alarms]
}

run "rejects_a_metric_alarm_period_of_90" {
  command = plan
  variables {
    metric_alarms = {
      "x" = { namespace = "n", metric_name = "m", dimensions = { A = "b" }, statistic = "Sum", comparison_operator = "GreaterThanThreshold", threshold = 1, period = 90, description = "" }
    }
  }
  expect_failures = [var.metric_alarms]
}

run "rejects_a_metric_alarm_percentile_statistic" {
  command = plan
  variables {
    metric_alarms = {
      "x" = { namespace = "n", metric_name = "m", dimensions = { A = "b" }, statistic = "p99", comparison_operator = "GreaterThanThreshold", threshold = 1, description = "" }
    }
  }
  expect_failures = [var.metric_alarms]
}
