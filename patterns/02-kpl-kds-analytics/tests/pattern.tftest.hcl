# The whole pattern with a mocked provider (tests/mocks): wiring between modules, names from the
# prefix, the analytics' and the producer's configuration and permissions, the Glue tables, the
# alarms, the dashboard, a created or an existing stream, and the pattern's own variable validation.
# A value the pattern only hands to a module is rejected by that module's validation:
# tests/rejected/ (run by scripts/test-terraform.sh, which expects each to fail).
mock_provider "aws" {
  source = "./tests/mocks"
}

# The mocks give every function and queue the same ARN; the producer's and the schedule's own.
override_resource {
  target = module.producer_function[0].aws_lambda_function.this
  values = { arn = "arn:aws:lambda:us-east-1:123456789012:function:kstream-p2-producer" }
}
override_resource {
  target = module.producer_schedule[0].module.dlq.aws_sqs_queue.this
  values = {
    arn = "arn:aws:sqs:us-east-1:123456789012:kstream-p2-producer-schedule-dlq"
    id  = "https://sqs.us-east-1.amazonaws.com/123456789012/kstream-p2-producer-schedule-dlq"
    url = "https://sqs.us-east-1.amazonaws.com/123456789012/kstream-p2-producer-schedule-dlq"
  }
}

run "names_come_from_the_prefix" {
  command = plan

  variables {
    name_prefix = "acme-ticks"
  }

  assert {
    condition     = output.stream_name == "acme-ticks-stream"
    error_message = "stream name must be <prefix>-stream"
  }
  assert {
    condition     = output.function_name == "acme-ticks-analytics" && output.producer_function_name == "acme-ticks-producer"
    error_message = "functions must be <prefix>-analytics and <prefix>-producer"
  }
  assert {
    condition     = output.failure_queue_name == "acme-ticks-failures" && output.schedule_name == "acme-ticks-producer"
    error_message = "failure queue <prefix>-failures, schedule <prefix>-producer"
  }
  assert {
    condition     = output.glue_database_name == "acme_ticks" && output.glue_filtered_table_name == "filtered" && output.glue_aggregates_table_name == "aggregates"
    error_message = "Glue database <prefix> with '_', tables filtered and aggregates"
  }
  assert {
    condition     = output.dashboard_name == "acme-ticks"
    error_message = "dashboard name must be the prefix"
  }
  assert {
    condition     = alltrue([for k, n in output.alarm_names : startswith(n, "acme-ticks-")])
    error_message = "alarm names must start with the prefix"
  }
}

run "deploys_with_defaults" {
  command = apply

  assert {
    condition     = length(module.stream) == 1 && output.stream_arn == "arn:aws:kinesis:us-east-1:123456789012:stream/kstream-p2-stream"
    error_message = "without stream_arn the pattern creates its stream"
  }
  assert {
    condition     = output.region == "us-east-1" && output.bucket_name == "kstream-p2-123456789012-us-east-1"
    error_message = "region and bucket outputs"
  }
  assert {
    condition = (
      module.analytics.settings.tumbling_window_in_seconds == 60 &&
      module.analytics.settings.parallelization_factor == 1 &&
      module.analytics.settings.batch_size == 100 &&
      module.analytics.settings.maximum_retry_attempts == 3 &&
      module.analytics.settings.maximum_record_age_in_seconds == 86400 &&
      module.analytics.settings.bisect_batch_on_function_error &&
      module.analytics.settings.starting_position == "LATEST" &&
      module.analytics.settings.function_response_types == toset(["ReportBatchItemFailures"])
    )
    error_message = "the mapping: a 60 s tumbling window, parallelization 1, bisect, 3 retries, 24 h record age, partial batch responses"
  }
  assert {
    condition     = output.tumbling_window_in_seconds == 60
    error_message = "the window output reads the mapping back"
  }
  assert {
    condition     = module.analytics.settings.event_source_arn == output.stream_arn && module.analytics.settings.on_failure_destination_arn == output.failure_queue_arn && output.stream_consumer_arn == null
    error_message = "the mapping reads the stream (no enhanced fan-out by default) and fails over to its queue"
  }
  assert {
    condition = local.analytics_environment == {
      OUTPUT_BUCKET                = "kstream-p2-123456789012-us-east-1"
      ROWS_PREFIX                  = "filtered/"
      AGGREGATES_PREFIX            = "aggregates/"
      PRICE_THRESHOLD              = "50"
      POWERTOOLS_SERVICE_NAME      = "kstream-p2-analytics"
      POWERTOOLS_METRICS_NAMESPACE = "kstream"
    }
    error_message = "the analytics function's environment: bucket, prefixes, threshold 50, metrics namespace"
  }
  assert {
    condition = local.analytics_policy_statements == [{
      sid       = "WriteRowsAndAggregates"
      actions   = ["s3:PutObject"]
      resources = ["arn:aws:s3:::kstream-p2-123456789012-us-east-1/filtered/*", "arn:aws:s3:::kstream-p2-123456789012-us-east-1/aggregates/*"]
    }]
    error_message = "the analytics function may only put objects under its two prefixes (no KMS grant with SSE-S3)"
  }
  assert {
    condition = local.producer_environment == {
      STREAM_NAME                  = "kstream-p2-stream"
      RECORDS_PER_RUN              = "6000"
      RATE                         = "100"
      EVENT_TIME_FORMAT            = "sql"
      POWERTOOLS_SERVICE_NAME      = "kstream-p2-producer"
      POWERTOOLS_METRICS_NAMESPACE = "kstream"
    }
    error_message = "the producer's environment: the stream, 6000 records a run at 100/s, SQL event times"
  }
  assert {
    condition = local.producer_policy_statements == [{
      sid       = "WriteStream"
      actions   = ["kinesis:PutRecord", "kinesis:PutRecords"]
      resources = ["arn:aws:kinesis:us-east-1:123456789012:stream/kstream-p2-stream"]
    }]
    error_message = "the producer may only put records into the stream (no KMS grant with the AWS-managed key)"
  }
  assert {
    condition = (
      module.producer_schedule[0].settings.schedule_expression == "rate(1 minute)" &&
      module.producer_schedule[0].settings.state == "ENABLED" &&
      module.producer_schedule[0].settings.target_arn == "arn:aws:lambda:us-east-1:123456789012:function:kstream-p2-producer" &&
      module.producer_schedule[0].settings.maximum_retry_attempts == 2 &&
      module.producer_schedule[0].settings.maximum_event_age_in_seconds == 600 &&
      module.producer_schedule[0].settings.dead_letter_arn == "arn:aws:sqs:us-east-1:123456789012:kstream-p2-producer-schedule-dlq"
    )
    error_message = "the schedule runs the producer every minute, with a retry policy and its dead-letter queue"
  }
  assert {
    condition     = output.schedule_dlq_url == "https://sqs.us-east-1.amazonaws.com/123456789012/kstream-p2-producer-schedule-dlq"
    error_message = "schedule dead-letter queue URL output"
  }
  assert {
    condition = (
      module.glue_filtered.storage_location_template == "s3://kstream-p2-123456789012-us-east-1/filtered/ticker=$${ticker}/dt=$${dt}/hr=$${hr}/" &&
      module.glue_aggregates.storage_location_template == "s3://kstream-p2-123456789012-us-east-1/aggregates/dt=$${dt}/hr=$${hr}/"
    )
    error_message = "the tables' partition folders must be the function's key layout"
  }
  assert {
    condition     = module.glue_aggregates.database_name == module.glue_filtered.database_name
    error_message = "both tables in one database"
  }
  assert {
    condition = (
      local.dt_partition.projection.type == "date" && local.dt_partition.projection.format == "yyyy-MM-dd" &&
      local.hr_partition.projection.type == "integer" && local.hr_partition.projection.range == "0,23" && local.hr_partition.projection.digits == "2"
    )
    error_message = "dt is a yyyy-MM-dd date projection, hr a two-digit 00-23 integer projection"
  }
  assert {
    condition     = length(output.alarm_names) == 18 && output.alarm_topic_arn != null
    error_message = "18 alarms (6 stream, 3 analytics, 2 producer, 2 queues, 5 on the analytics' metrics) notifying the created topic"
  }
  assert {
    condition     = module.bucket.policy_json != null && jsondecode(module.bucket.policy_json).Statement[0].Condition.Bool["aws:SecureTransport"] == "false"
    error_message = "TLS-only bucket policy"
  }
}

run "alarms_watch_the_pattern_resources" {
  command = apply

  assert {
    condition     = alltrue([for k, a in module.alarms.alarms : a.dimensions == tomap({ StreamName = "kstream-p2-stream" }) if startswith(k, "kinesis-")])
    error_message = "stream alarms must have the pattern's StreamName"
  }
  assert {
    condition     = alltrue([for k, a in module.alarms.alarms : a.dimensions == tomap({ FunctionName = "kstream-p2-analytics" }) if startswith(k, "lambda-analytics-")])
    error_message = "analytics alarms must have its FunctionName"
  }
  assert {
    condition     = module.alarms.alarms["lambda-analytics-iterator-age"].metric_name == "IteratorAge" && module.alarms.alarms["lambda-producer-errors"].dimensions == tomap({ FunctionName = "kstream-p2-producer" })
    error_message = "iterator age on the mapping; producer errors on the producer"
  }
  assert {
    condition = (
      module.alarms.alarms["sqs-failures-depth"].dimensions == tomap({ QueueName = "kstream-p2-failures" }) &&
      module.alarms.alarms["sqs-schedule-dlq-depth"].dimensions == tomap({ QueueName = "kstream-p2-producer-schedule-dlq" })
    )
    error_message = "queue alarms must watch the failure queue and the schedule's dead-letter queue"
  }
  assert {
    condition = (
      module.alarms.alarms["window-state-size"].namespace == "kstream" &&
      module.alarms.alarms["window-state-size"].metric_name == "StateBytes" &&
      module.alarms.alarms["window-state-size"].statistic == "Maximum" &&
      module.alarms.alarms["window-state-size"].threshold == 838861 &&
      module.alarms.alarms["window-state-size"].dimensions == tomap({ FunctionName = "kstream-p2-analytics" })
    )
    error_message = "window-state alarm: StateBytes Maximum >= 80 % of 1 MiB on the analytics function"
  }
  assert {
    condition = (
      module.alarms.alarms["output-freshness"].metric_name == "ObjectsWritten" &&
      module.alarms.alarms["output-freshness"].comparison_operator == "LessThanThreshold" &&
      aws_cloudwatch_dashboard.this.dashboard_name != "" &&
      module.alarms.thresholds["output-freshness"] == 1
    )
    error_message = "freshness alarm: fewer than 1 object written"
  }
  assert {
    condition     = module.alarms.alarms["failed-records"].metric_name == "FailedRecords" && module.alarms.alarms["windows-terminated-early"].metric_name == "WindowsTerminatedEarly"
    error_message = "alarms on malformed records and windows ended early"
  }
}

run "dashboard_widgets_have_the_right_dimensions" {
  command = apply

  assert {
    condition     = can(jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets)
    error_message = "the dashboard body must be valid JSON"
  }
  assert {
    condition     = alltrue([for w in jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets : w.properties.region == "us-east-1" if w.type == "metric"])
    error_message = "every metric widget must name the region"
  }
  assert {
    condition = alltrue(flatten([
      for w in jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets : [
        for m in w.properties.metrics : (
          m[0] == "AWS/Kinesis" ? (m[2] == "StreamName" && m[3] == "kstream-p2-stream") :
          m[0] == "AWS/Lambda" ? (m[2] == "FunctionName" && contains(["kstream-p2-analytics", "kstream-p2-producer"], m[3])) :
          m[0] == "kstream" ? (m[2] == "FunctionName" && m[3] == "kstream-p2-analytics") :
          m[0] == "AWS/SQS" ? (m[2] == "QueueName" && contains(["kstream-p2-failures", "kstream-p2-producer-schedule-dlq"], m[3])) :
          false
        )
      ] if w.type == "metric"
    ]))
    error_message = "every metric must carry its resource's dimensions"
  }
  assert {
    condition     = length([for w in jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets : w if w.type == "metric"]) == 15
    error_message = "3 stream, 3 analytics, 4 window/output, 2 failure queue and 3 producer widgets"
  }
  assert {
    condition     = length(one([for w in jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets : w if w.type == "alarm"]).properties.alarms) == 18
    error_message = "the alarm widget must list every alarm"
  }
  assert {
    condition = anytrue([
      for w in jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets :
      anytrue([for m in w.properties.metrics : m[1] == "StateBytes"]) && anytrue([for a in try(w.properties.annotations.horizontal, []) : a.value == 838861]) if w.type == "metric"
    ])
    error_message = "the window-state widget must show the alarm threshold"
  }
}

run "each_setting_reaches_its_argument" {
  command = apply

  variables {
    tumbling_window_in_seconds             = 300
    batch_size                             = 7
    maximum_retry_attempts                 = 9
    maximum_record_age_in_seconds          = 7200
    starting_position                      = "TRIM_HORIZON"
    price_threshold                        = 42.5
    rows_prefix                            = "rows/"
    aggregates_prefix                      = "windows/"
    metrics_namespace                      = "acme"
    scheduled_producer_schedule_expression = "rate(5 minutes)"
    scheduled_producer_records_per_run     = 500
    scheduled_producer_rate                = 10
    output_freshness_windows               = 2
    window_state_alarm_bytes               = 500000
  }

  assert {
    condition = (
      module.analytics.settings.tumbling_window_in_seconds == 300 &&
      module.analytics.settings.batch_size == 7 &&
      module.analytics.settings.maximum_retry_attempts == 9 &&
      module.analytics.settings.maximum_record_age_in_seconds == 7200 &&
      module.analytics.settings.starting_position == "TRIM_HORIZON"
    )
    error_message = "each mapping variable must reach its own argument"
  }
  assert {
    condition     = local.analytics_environment.PRICE_THRESHOLD == "42.5" && local.analytics_environment.ROWS_PREFIX == "rows/" && local.analytics_environment.AGGREGATES_PREFIX == "windows/" && local.analytics_environment.POWERTOOLS_METRICS_NAMESPACE == "acme"
    error_message = "threshold, prefixes and namespace must reach the function's environment"
  }
  assert {
    condition     = local.analytics_policy_statements[0].resources == ["arn:aws:s3:::kstream-p2-123456789012-us-east-1/rows/*", "arn:aws:s3:::kstream-p2-123456789012-us-east-1/windows/*"]
    error_message = "the write permission must follow the prefixes"
  }
  assert {
    condition     = module.glue_filtered.location == "s3://kstream-p2-123456789012-us-east-1/rows/" && module.glue_aggregates.location == "s3://kstream-p2-123456789012-us-east-1/windows/"
    error_message = "the tables must follow the prefixes"
  }
  assert {
    condition     = local.producer_environment.RECORDS_PER_RUN == "500" && local.producer_environment.RATE == "10" && module.producer_schedule[0].settings.schedule_expression == "rate(5 minutes)"
    error_message = "the producer's run size, rate and schedule"
  }
  assert {
    condition = (
      module.alarms.alarms["window-state-size"].namespace == "acme" && module.alarms.alarms["window-state-size"].threshold == 500000 &&
      aws_cloudwatch_dashboard.this.dashboard_body != "" &&
      module.alarms.alarms["output-freshness"].namespace == "acme"
    )
    error_message = "the metric alarms use the namespace and the state threshold"
  }
}

run "freshness_looks_at_whole_windows" {
  command = plan

  variables {
    tumbling_window_in_seconds = 90
    output_freshness_windows   = 4
  }

  assert {
    condition     = local.window_period_seconds == 120
    error_message = "a 90 s window is watched in 120 s periods (CloudWatch periods are whole minutes)"
  }
}

run "without_the_scheduled_producer" {
  command = apply

  variables {
    scheduled_producer_enabled = false
  }

  assert {
    condition     = length(module.producer_function) == 0 && length(module.producer_schedule) == 0
    error_message = "no producer function and no schedule"
  }
  assert {
    condition     = output.producer_function_name == null && output.schedule_name == null && output.schedule_dlq_url == null
    error_message = "the producer outputs are null"
  }
  assert {
    condition     = length(output.alarm_names) == 15 && !contains(keys(output.alarm_names), "lambda-producer-errors") && !contains(keys(output.alarm_names), "sqs-schedule-dlq-depth")
    error_message = "no producer alarms"
  }
  assert {
    condition     = length([for w in jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets : w if w.type == "metric"]) == 12
    error_message = "no producer section on the dashboard"
  }
}

run "uses_an_existing_stream_and_customer_keys" {
  command = apply

  variables {
    stream_arn         = "arn:aws:kinesis:us-east-1:123456789012:stream/ticks"
    stream_kms_key_arn = "arn:aws:kms:us-east-1:123456789012:key/ticks"
    bucket_kms_key_arn = "arn:aws:kms:us-east-1:123456789012:key/output"
  }

  assert {
    condition     = length(module.stream) == 0 && output.stream_name == "ticks" && module.analytics.settings.event_source_arn == "arn:aws:kinesis:us-east-1:123456789012:stream/ticks"
    error_message = "with stream_arn no stream is created and the mapping reads the existing one"
  }
  assert {
    condition     = local.producer_environment.STREAM_NAME == "ticks" && local.producer_policy_statements[0].resources == ["arn:aws:kinesis:us-east-1:123456789012:stream/ticks"]
    error_message = "the producer writes the existing stream"
  }
  assert {
    condition     = local.producer_policy_statements[1] == { sid = "EncryptStream", actions = ["kms:GenerateDataKey"], resources = ["arn:aws:kms:us-east-1:123456789012:key/ticks"] }
    error_message = "the producer may encrypt with the stream's key, only that key"
  }
  assert {
    condition     = local.analytics_policy_statements[1] == { sid = "EncryptOutput", actions = ["kms:GenerateDataKey"], resources = ["arn:aws:kms:us-east-1:123456789012:key/output"] }
    error_message = "the analytics function may encrypt with the bucket's key, only that key"
  }
  assert {
    condition     = alltrue([for k, a in module.alarms.alarms : a.dimensions == tomap({ StreamName = "ticks" }) if startswith(k, "kinesis-")])
    error_message = "stream alarms must watch the existing stream"
  }
}

run "enhanced_fan_out" {
  command = apply

  variables {
    enhanced_fan_out = true
  }

  assert {
    condition     = output.stream_consumer_arn == "arn:aws:kinesis:us-east-1:123456789012:stream/kstream-p2-stream/consumer/kstream-p2-consumer:1700000000" && module.analytics.settings.event_source_arn == output.stream_consumer_arn
    error_message = "with enhanced fan-out the mapping reads through the registered consumer"
  }
}

run "existing_topic" {
  command = plan

  variables {
    create_alarm_topic = false
    alarm_topic_arn    = "arn:aws:sns:us-east-1:123456789012:ops"
  }

  assert {
    condition     = output.alarm_topic_arn == "arn:aws:sns:us-east-1:123456789012:ops"
    error_message = "alarms must notify the given topic"
  }
}

run "rejects_window_0" {
  command = plan
  variables { tumbling_window_in_seconds = 0 }
  expect_failures = [var.tumbling_window_in_seconds]
}

run "rejects_window_901" {
  command = plan
  variables { tumbling_window_in_seconds = 901 }
  expect_failures = [var.tumbling_window_in_seconds]
}

run "rejects_fractional_window" {
  command = plan
  variables { tumbling_window_in_seconds = 30.5 }
  expect_failures = [var.tumbling_window_in_seconds]
}

run "rejects_a_prefix_without_a_slash" {
  command = plan
  variables { rows_prefix = "filtered" }
  expect_failures = [var.rows_prefix]
}

run "rejects_a_leading_slash" {
  command = plan
  variables { aggregates_prefix = "/aggregates/" }
  expect_failures = [var.aggregates_prefix]
}

run "rejects_the_same_prefix_twice" {
  command = plan
  variables {
    rows_prefix       = "out/"
    aggregates_prefix = "out/"
  }
  expect_failures = [var.rows_prefix]
}

run "rejects_a_prefix_inside_the_other" {
  command = plan
  variables {
    rows_prefix       = "out/"
    aggregates_prefix = "out/aggregates/"
  }
  expect_failures = [var.rows_prefix]
}

run "rejects_a_run_longer_than_the_timeout" {
  command = plan
  variables {
    scheduled_producer_records_per_run = 10000
    scheduled_producer_rate            = 100
  }
  expect_failures = [var.scheduled_producer_records_per_run]
}

run "rejects_rate_0" {
  command = plan
  variables { scheduled_producer_rate = 0 }
  expect_failures = [var.scheduled_producer_rate]
}

run "rejects_state_alarm_above_1_mib" {
  command = plan
  variables { window_state_alarm_bytes = 1048577 }
  expect_failures = [var.window_state_alarm_bytes]
}

run "rejects_freshness_longer_than_a_day" {
  command = plan
  variables {
    tumbling_window_in_seconds = 900
    output_freshness_windows   = 97
  }
  expect_failures = [var.output_freshness_windows]
}

run "rejects_uppercase_prefix" {
  command = plan
  variables { name_prefix = "Kstream" }
  expect_failures = [var.name_prefix]
}

# The record age stays an hour below the retention (tests/rejected/record_age_*): the boundary is
# accepted, and an existing stream (whose retention is unknown here) is not checked.
run "record_age_up_to_an_hour_below_the_retention_is_accepted" {
  command = plan

  variables {
    retention_period_hours        = 24
    maximum_record_age_in_seconds = 82800
  }

  assert {
    condition     = module.analytics.settings.maximum_record_age_in_seconds == 82800
    error_message = "a record age an hour below the retention reaches the mapping"
  }
}

run "record_age_of_an_existing_stream_is_not_checked" {
  command = plan

  variables {
    stream_arn                    = "arn:aws:kinesis:us-east-1:123456789012:stream/orders"
    retention_period_hours        = 24
    maximum_record_age_in_seconds = -1
  }

  assert {
    condition     = module.analytics.settings.maximum_record_age_in_seconds == -1
    error_message = "with stream_arn the record age is the caller's choice"
  }
}
