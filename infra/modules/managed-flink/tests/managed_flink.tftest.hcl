mock_provider "aws" {
  mock_resource "aws_cloudwatch_log_group" {
    defaults = {
      arn = "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/kinesis-analytics/kstream-test-flink"
    }
  }
  mock_resource "aws_cloudwatch_log_stream" {
    defaults = {
      arn = "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/kinesis-analytics/kstream-test-flink:log-stream:application"
    }
  }
  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::123456789012:role/kstream-test-flink-role"
    }
  }
}

variables {
  application_name  = "kstream-test-flink"
  code_bucket_arn   = "arn:aws:s3:::kstream-test-code"
  code_object_key   = "flink/ticker-analytics.zip"
  input_stream_arn  = "arn:aws:kinesis:eu-west-1:123456789012:stream/kstream-test-tickers"
  output_bucket_arn = "arn:aws:s3:::kstream-test-data"
}

run "defaults" {
  command = plan

  assert {
    condition     = aws_kinesisanalyticsv2_application.this.runtime_environment == "FLINK-1_20"
    error_message = "the default runtime must be FLINK-1_20"
  }
  assert {
    condition     = aws_kinesisanalyticsv2_application.this.start_application == false
    error_message = "the application must be deployed stopped by default"
  }
  assert {
    condition = (
      aws_kinesisanalyticsv2_application.this.application_configuration[0].application_code_configuration[0].code_content_type == "ZIPFILE" &&
      aws_kinesisanalyticsv2_application.this.application_configuration[0].application_code_configuration[0].code_content[0].s3_content_location[0].bucket_arn == "arn:aws:s3:::kstream-test-code" &&
      aws_kinesisanalyticsv2_application.this.application_configuration[0].application_code_configuration[0].code_content[0].s3_content_location[0].file_key == "flink/ticker-analytics.zip"
    )
    error_message = "the code must be the ZIP from the code bucket"
  }
  assert {
    condition = (
      aws_kinesisanalyticsv2_application.this.application_configuration[0].flink_application_configuration[0].checkpoint_configuration[0].checkpointing_enabled == true &&
      aws_kinesisanalyticsv2_application.this.application_configuration[0].flink_application_configuration[0].checkpoint_configuration[0].configuration_type == "CUSTOM" &&
      aws_kinesisanalyticsv2_application.this.application_configuration[0].flink_application_configuration[0].checkpoint_configuration[0].checkpoint_interval == 60000
    )
    error_message = "checkpointing must be on, every 60 s by default"
  }
  assert {
    condition = (
      aws_kinesisanalyticsv2_application.this.application_configuration[0].flink_application_configuration[0].parallelism_configuration[0].parallelism == 1 &&
      aws_kinesisanalyticsv2_application.this.application_configuration[0].flink_application_configuration[0].parallelism_configuration[0].parallelism_per_kpu == 1 &&
      aws_kinesisanalyticsv2_application.this.application_configuration[0].flink_application_configuration[0].parallelism_configuration[0].auto_scaling_enabled == false
    )
    error_message = "parallelism 1, 1 per KPU, no autoscaling by default"
  }
  assert {
    condition = (
      aws_kinesisanalyticsv2_application.this.application_configuration[0].flink_application_configuration[0].monitoring_configuration[0].log_level == "INFO" &&
      aws_kinesisanalyticsv2_application.this.application_configuration[0].flink_application_configuration[0].monitoring_configuration[0].metrics_level == "APPLICATION"
    )
    error_message = "INFO logs and application-level metrics by default"
  }
  assert {
    condition     = aws_kinesisanalyticsv2_application.this.application_configuration[0].run_configuration[0].application_restore_configuration[0].application_restore_type == "RESTORE_FROM_LATEST_SNAPSHOT"
    error_message = "with snapshots on, a start restores from the latest snapshot"
  }
  assert {
    condition     = aws_cloudwatch_log_group.this.name == "/aws/kinesis-analytics/kstream-test-flink" && aws_cloudwatch_log_group.this.retention_in_days == 30 && aws_cloudwatch_log_group.this.kms_key_id == null
    error_message = "log group /aws/kinesis-analytics/<name>, 30 days, no KMS key unless given"
  }
  assert {
    condition     = aws_cloudwatch_log_stream.this.log_group_name == "/aws/kinesis-analytics/kstream-test-flink"
    error_message = "the log stream must be in the module's log group"
  }
  assert {
    condition = alltrue([
      for g in aws_kinesisanalyticsv2_application.this.application_configuration[0].environment_properties[0].property_group :
      g.property_map == tomap({ python = "main.py", jarfile = "lib/flink-sql-connector-kinesis-5.0.0-1.20.jar" })
      if g.property_group_id == "kinesis.analytics.flink.run.options"
    ])
    error_message = "the run options must name main.py and the Flink 1.20 Kinesis connector jar"
  }
  assert {
    condition = one([
      for g in aws_kinesisanalyticsv2_application.this.application_configuration[0].environment_properties[0].property_group :
      g.property_map if g.property_group_id == "kstream"
      ]) == tomap({
      "input.stream.arn"         = "arn:aws:kinesis:eu-west-1:123456789012:stream/kstream-test-tickers"
      "aws.region"               = "eu-west-1"
      "source.init.position"     = "LATEST"
      "output.bucket"            = "kstream-test-data"
      "output.rows.prefix"       = "flink/filtered/"
      "output.aggregates.prefix" = "flink/aggregates/"
      "price.threshold"          = "50"
      "window.seconds"           = "60"
      "watermark.delay.seconds"  = "5"
    })
    error_message = "the kstream property group must carry the stream, region, output, threshold, window and watermark"
  }
  assert {
    condition     = jsondecode(aws_iam_role.this.assume_role_policy).Statement[0].Principal.Service == "kinesisanalytics.amazonaws.com"
    error_message = "only Managed Flink may assume the role"
  }
  assert {
    condition     = jsondecode(aws_iam_role.this.assume_role_policy).Statement[0].Condition.ArnEquals["aws:SourceArn"] == "arn:aws:kinesisanalytics:eu-west-1:123456789012:application/kstream-test-flink"
    error_message = "the trust policy must be limited to this application (confused deputy)"
  }
  assert {
    condition     = length(aws_cloudwatch_metric_alarm.this) == 4
    error_message = "four alarms: KPUs, downtime, failed checkpoints, millisBehindLatest"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.this["flink-downtime"].treat_missing_data == "notBreaching"
    error_message = "a stopped application (the default) must not put the downtime alarm in ALARM"
  }
}

run "iam_is_scoped" {
  command = apply

  variables {
    input_stream_kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/stream"
    output_kms_key_arn       = "arn:aws:kms:eu-west-1:123456789012:key/output"
  }

  assert {
    condition = alltrue([
      for s in jsondecode(aws_iam_role_policy.this.policy).Statement :
      alltrue([for r in s.Resource : !strcontains(r, "*") || endswith(r, "/flink/filtered/*") || endswith(r, "/flink/aggregates/*") || endswith(r, ":log-group:*") || endswith(r, "kstream-test-flink:*")])
    ])
    error_message = "every resource must be an ARN; wildcards only below the output prefixes and for log-group lookups"
  }
  assert {
    condition = one([for s in jsondecode(aws_iam_role_policy.this.policy).Statement : s.Resource if s.Sid == "ReadInputStream"]) == [
      "arn:aws:kinesis:eu-west-1:123456789012:stream/kstream-test-tickers"
    ]
    error_message = "stream reads must be on the input stream only"
  }
  assert {
    condition = one([for s in jsondecode(aws_iam_role_policy.this.policy).Statement : s.Action if s.Sid == "ReadInputStream"]) == [
      "kinesis:DescribeStream", "kinesis:DescribeStreamSummary", "kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:ListShards",
    ]
    error_message = "the stream statement must only read"
  }
  assert {
    condition = one([for s in jsondecode(aws_iam_role_policy.this.policy).Statement : s.Resource if s.Sid == "ReadApplicationCode"]) == [
      "arn:aws:s3:::kstream-test-code/flink/ticker-analytics.zip"
    ]
    error_message = "code reads must be on the code object only"
  }
  assert {
    condition = one([for s in jsondecode(aws_iam_role_policy.this.policy).Statement : s.Resource if s.Sid == "WriteOutputPrefixes"]) == [
      "arn:aws:s3:::kstream-test-data/flink/filtered/*", "arn:aws:s3:::kstream-test-data/flink/aggregates/*",
    ]
    error_message = "writes must be under the two output prefixes only"
  }
  assert {
    condition = one([for s in jsondecode(aws_iam_role_policy.this.policy).Statement : s.Condition.StringLike["s3:prefix"] if s.Sid == "ListOutputPrefixes"]) == [
      "flink/filtered/*", "flink/aggregates/*",
    ]
    error_message = "listing must be limited to the output prefixes"
  }
  assert {
    condition = one([for s in jsondecode(aws_iam_role_policy.this.policy).Statement : s.Resource if s.Sid == "WriteLogStream"]) == [
      "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/kinesis-analytics/kstream-test-flink:log-stream:application"
    ]
    error_message = "PutLogEvents must be on the application's log stream only"
  }
  assert {
    condition = (
      one([for s in jsondecode(aws_iam_role_policy.this.policy).Statement : s.Resource if s.Sid == "DecryptInputStream"]) == ["arn:aws:kms:eu-west-1:123456789012:key/stream"] &&
      one([for s in jsondecode(aws_iam_role_policy.this.policy).Statement : s.Action if s.Sid == "EncryptOutput"]) == ["kms:GenerateDataKey", "kms:Decrypt"] &&
      length([for s in jsondecode(aws_iam_role_policy.this.policy).Statement : s if s.Sid == "DecryptApplicationCode"]) == 0
    )
    error_message = "KMS grants exactly for the keys given"
  }
  assert {
    condition     = aws_kinesisanalyticsv2_application.this.cloudwatch_logging_options[0].log_stream_arn == aws_cloudwatch_log_stream.this.arn
    error_message = "the application must log to the module's log stream"
  }
}

run "no_kms_statements_without_keys" {
  command = apply

  assert {
    condition     = length([for s in jsondecode(aws_iam_role_policy.this.policy).Statement : s if startswith(s.Sid, "Decrypt") || s.Sid == "EncryptOutput"]) == 0
    error_message = "no KMS statement when no key is given"
  }
}

run "alarms" {
  command = plan

  variables {
    start_application = true
    sns_topic_arn     = "arn:aws:sns:eu-west-1:123456789012:alarms"
    alarm_thresholds  = { kpus = 3 }
  }

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.this["flink-kpus"].metric_name == "KPUs" &&
      aws_cloudwatch_metric_alarm.this["flink-kpus"].namespace == "AWS/KinesisAnalytics" &&
      aws_cloudwatch_metric_alarm.this["flink-kpus"].threshold == 3 &&
      aws_cloudwatch_metric_alarm.this["flink-kpus"].comparison_operator == "GreaterThanOrEqualToThreshold" &&
      aws_cloudwatch_metric_alarm.this["flink-kpus"].dimensions == tomap({ Application = "kstream-test-flink" })
    )
    error_message = "KPUs Maximum >= threshold, dimension Application"
  }
  assert {
    condition = (
      aws_cloudwatch_metric_alarm.this["flink-downtime"].metric_name == "downtime" &&
      aws_cloudwatch_metric_alarm.this["flink-downtime"].statistic == "Average" &&
      aws_cloudwatch_metric_alarm.this["flink-downtime"].threshold == 0 &&
      aws_cloudwatch_metric_alarm.this["flink-downtime"].comparison_operator == "GreaterThanThreshold" &&
      aws_cloudwatch_metric_alarm.this["flink-downtime"].treat_missing_data == "breaching"
    )
    error_message = "downtime Average > 0; a started application that publishes nothing is down"
  }
  assert {
    condition = (
      aws_cloudwatch_metric_alarm.this["flink-failed-checkpoints"].metric_name == null &&
      length(aws_cloudwatch_metric_alarm.this["flink-failed-checkpoints"].metric_query) == 2 &&
      anytrue([for q in aws_cloudwatch_metric_alarm.this["flink-failed-checkpoints"].metric_query : coalesce(q.expression, "-") == "RATE(m1)" && coalesce(q.return_data, false)]) &&
      anytrue([for q in aws_cloudwatch_metric_alarm.this["flink-failed-checkpoints"].metric_query : try(q.metric[0].metric_name == "numberOfFailedCheckpoints", false)])
    )
    error_message = "failed checkpoints: RATE(numberOfFailedCheckpoints) > 0 (the metric is a counter)"
  }
  assert {
    condition = (
      aws_cloudwatch_metric_alarm.this["flink-millis-behind-latest"].metric_name == "millisBehindLatest" &&
      aws_cloudwatch_metric_alarm.this["flink-millis-behind-latest"].threshold == 60000 &&
      aws_cloudwatch_metric_alarm.this["flink-millis-behind-latest"].statistic == "Maximum"
    )
    error_message = "millisBehindLatest Maximum > 60000 ms by default"
  }
  assert {
    condition     = alltrue([for a in aws_cloudwatch_metric_alarm.this : a.alarm_actions == toset(["arn:aws:sns:eu-west-1:123456789012:alarms"]) && a.ok_actions == toset(["arn:aws:sns:eu-west-1:123456789012:alarms"])])
    error_message = "every alarm notifies the topic on ALARM and OK"
  }
}

run "settings_reach_the_application" {
  command = plan

  variables {
    runtime_environment  = "FLINK-1_19"
    connector_jar_path   = "lib/flink-sql-connector-kinesis-5.0.0-1.19.jar"
    code_object_version  = "v42"
    parallelism          = 4
    parallelism_per_kpu  = 2
    snapshots_enabled    = false
    source_init_position = "TRIM_HORIZON"
    price_threshold      = 75.5
    log_kms_key_arn      = "arn:aws:kms:eu-west-1:123456789012:key/logs"
  }

  assert {
    condition     = aws_kinesisanalyticsv2_application.this.runtime_environment == "FLINK-1_19"
    error_message = "runtime from the variable"
  }
  assert {
    condition     = aws_kinesisanalyticsv2_application.this.application_configuration[0].application_code_configuration[0].code_content[0].s3_content_location[0].object_version == "v42"
    error_message = "object version from the variable"
  }
  assert {
    condition     = aws_kinesisanalyticsv2_application.this.application_configuration[0].run_configuration[0].application_restore_configuration[0].application_restore_type == "SKIP_RESTORE_FROM_SNAPSHOT"
    error_message = "without snapshots, nothing to restore"
  }
  assert {
    condition = one([
      for g in aws_kinesisanalyticsv2_application.this.application_configuration[0].environment_properties[0].property_group :
      g.property_map["price.threshold"] if g.property_group_id == "kstream"
    ]) == "75.5"
    error_message = "threshold from the variable"
  }
  assert {
    condition     = aws_cloudwatch_log_group.this.kms_key_id == "arn:aws:kms:eu-west-1:123456789012:key/logs"
    error_message = "log group encrypted with the given key"
  }
}

# Rejected values: each a clear validation error.

run "rejects_unknown_runtime" {
  command = plan
  variables {
    runtime_environment = "FLINK-1_15"
  }
  expect_failures = [var.runtime_environment]
}

run "rejects_a_non_zip_code_object" {
  command = plan
  variables {
    code_object_key = "flink/main.py"
  }
  expect_failures = [var.code_object_key]
}

run "rejects_a_stream_name_for_an_arn" {
  command = plan
  variables {
    input_stream_arn = "kstream-test-tickers"
  }
  expect_failures = [var.input_stream_arn]
}

run "rejects_parallelism_0" {
  command = plan
  variables {
    parallelism = 0
  }
  expect_failures = [var.parallelism]
}

run "rejects_parallelism_per_kpu_9" {
  command = plan
  variables {
    parallelism_per_kpu = 9
  }
  expect_failures = [var.parallelism_per_kpu]
}

run "rejects_window_901" {
  command = plan
  variables {
    window_seconds = 901
  }
  expect_failures = [var.window_seconds]
}

run "rejects_checkpoint_interval_999" {
  command = plan
  variables {
    checkpoint_interval_ms = 999
  }
  expect_failures = [var.checkpoint_interval_ms]
}

run "rejects_log_retention_2" {
  command = plan
  variables {
    log_retention_in_days = 2
  }
  expect_failures = [var.log_retention_in_days]
}

run "rejects_a_prefix_without_slash" {
  command = plan
  variables {
    rows_prefix = "flink/filtered"
  }
  expect_failures = [var.rows_prefix]
}

run "rejects_a_jar_outside_the_zip" {
  command = plan
  variables {
    connector_jar_path = "../lib/connector.jar"
  }
  expect_failures = [var.connector_jar_path]
}

run "rejects_nested_prefixes" {
  command = plan
  variables {
    rows_prefix       = "flink/"
    aggregates_prefix = "flink/aggregates/"
  }
  expect_failures = [aws_kinesisanalyticsv2_application.this]
}

run "rejects_a_pause_longer_than_the_interval" {
  command = plan
  variables {
    checkpoint_interval_ms           = 10000
    min_pause_between_checkpoints_ms = 20000
  }
  expect_failures = [aws_kinesisanalyticsv2_application.this]
}
