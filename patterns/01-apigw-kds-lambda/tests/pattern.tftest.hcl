# The whole pattern with a mocked provider (tests/mocks): wiring between modules, names from the
# prefix, the dashboard, a created or an existing stream, and the pattern's own variable
# validation. A value the pattern only hands to a module is rejected by that module's
# validation: tests/rejected/ (run by scripts/test-terraform.sh, which expects each to fail).
mock_provider "aws" {
  source = "./tests/mocks"
}

run "names_come_from_the_prefix" {
  command = plan

  variables {
    name_prefix = "acme-orders"
  }

  assert {
    condition     = output.stream_name == "acme-orders-stream"
    error_message = "stream name must be <prefix>-stream"
  }
  assert {
    condition     = output.consumer_function_name == "acme-orders-consumer"
    error_message = "function name must be <prefix>-consumer"
  }
  assert {
    condition     = output.rest_api_name == "acme-orders-api"
    error_message = "API name must be <prefix>-api"
  }
  assert {
    condition     = output.failure_queue_name == "acme-orders-failures"
    error_message = "queue name must be <prefix>-failures"
  }
  assert {
    condition     = output.dashboard_name == "acme-orders"
    error_message = "dashboard name must be the prefix"
  }
  assert {
    condition     = alltrue([for k, n in output.alarm_names : startswith(n, "acme-orders-")])
    error_message = "alarm names must start with the prefix"
  }
}

run "deploys_with_defaults" {
  command = apply

  assert {
    condition     = output.api_endpoint == "https://abc123.execute-api.us-east-1.amazonaws.com/prod" && output.api_stage_name == "prod"
    error_message = "the API endpoint must be the stage's invoke URL"
  }
  assert {
    condition     = output.authorization == "COGNITO" && output.user_pool_id != null && output.user_pool_client_id != null
    error_message = "Cognito is the default authorization"
  }
  assert {
    condition     = length(module.stream) == 1 && output.stream_arn == "arn:aws:kinesis:us-east-1:123456789012:stream/kstream-p1-stream"
    error_message = "without stream_arn the pattern creates its stream (stream ARN output)"
  }
  assert {
    condition     = output.region == "us-east-1"
    error_message = "the region output is the provider's region"
  }
  assert {
    condition     = output.failure_queue_url == "https://sqs.us-east-1.amazonaws.com/123456789012/kstream-p1-failures"
    error_message = "failure queue URL output"
  }
  assert {
    condition = (
      module.consumer.settings.batch_size == 100 &&
      module.consumer.settings.parallelization_factor == 1 &&
      module.consumer.settings.maximum_retry_attempts == 3 &&
      module.consumer.settings.maximum_record_age_in_seconds == 86400 &&
      module.consumer.settings.bisect_batch_on_function_error &&
      module.consumer.settings.starting_position == "LATEST" &&
      module.consumer.settings.function_response_types == toset(["ReportBatchItemFailures"])
    )
    error_message = "the mapping must have the reference's defaults (without the swap) and partial batch responses"
  }
  assert {
    condition     = module.consumer.settings.event_source_arn == output.stream_arn && module.consumer.settings.on_failure_destination_arn == output.failure_queue_arn
    error_message = "the mapping must read the pattern's stream and fail over to its queue"
  }
  assert {
    condition     = module.api.throttling.rate_limit == 100 && module.api.throttling.burst_limit == 50
    error_message = "the API must be throttled at 100 rps, burst 50"
  }
  assert {
    condition     = length(output.alarm_names) == 13 && output.alarm_topic_arn != null
    error_message = "13 alarms notifying the created topic"
  }
}

run "alarms_watch_the_pattern_resources" {
  command = apply

  assert {
    condition = alltrue([
      for k, a in module.alarms.alarms : a.dimensions == tomap({ StreamName = "kstream-p1-stream" }) if startswith(k, "kinesis-")
    ])
    error_message = "stream alarms must have the pattern's StreamName"
  }
  assert {
    condition = alltrue([
      for k, a in module.alarms.alarms : a.dimensions == tomap({ FunctionName = "kstream-p1-consumer" }) if startswith(k, "lambda-")
    ])
    error_message = "Lambda alarms must have the consumer's FunctionName"
  }
  assert {
    condition = alltrue([
      for k, a in module.alarms.alarms : a.dimensions == tomap({ ApiName = "kstream-p1-api", Stage = "prod" }) if startswith(k, "api-")
    ])
    error_message = "API alarms must have the pattern's ApiName and Stage"
  }
  assert {
    condition     = module.alarms.alarms["sqs-failures-depth"].dimensions == tomap({ QueueName = "kstream-p1-failures" })
    error_message = "queue alarm must watch the failure queue"
  }
}

run "dashboard_widgets_have_the_right_dimensions" {
  command = apply

  assert {
    condition     = can(jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets)
    error_message = "the dashboard body must be valid JSON"
  }
  assert {
    condition = alltrue([
      for w in jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets :
      w.properties.region == "us-east-1" if w.type == "metric"
    ])
    error_message = "every metric widget must name the region"
  }
  assert {
    # Each metric row is [namespace, metric, dim, value, ...]: check the dimension
    # names and values per namespace.
    condition = alltrue(flatten([
      for w in jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets : [
        for m in w.properties.metrics : (
          m[0] == "AWS/Kinesis" ? (m[2] == "StreamName" && m[3] == "kstream-p1-stream") :
          m[0] == "AWS/Lambda" || m[0] == "kstream" ? (m[2] == "FunctionName" && m[3] == "kstream-p1-consumer") :
          m[0] == "AWS/ApiGateway" ? (m[2] == "ApiName" && m[3] == "kstream-p1-api" && m[4] == "Stage" && m[5] == "prod") :
          m[0] == "AWS/SQS" ? (m[2] == "QueueName" && m[3] == "kstream-p1-failures") :
          can(m[0].expression)
        )
      ] if w.type == "metric"
    ]))
    error_message = "every metric must carry its resource's dimensions"
  }
  assert {
    condition     = length([for w in jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets : w if w.type == "metric"]) == 20
    error_message = "7 stream, 7 Lambda, 3 API and 3 queue widgets"
  }
  assert {
    condition = toset([for w in jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets : try(w.properties.markdown, "") if w.type == "text" && startswith(try(w.properties.markdown, ""), "# ") && length(try(w.properties.markdown, "")) < 60]) == toset([
      "# Kinesis Data Stream Metrics", "# Lambda Metrics", "# API Gateway Metrics", "# Failure Queue (failed-batch metadata)"
    ])
    error_message = "the dashboard must have the reference's sections plus API and failure queue"
  }
  assert {
    condition     = length(one([for w in jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets : w if w.type == "alarm"]).properties.alarms) == 13
    error_message = "the alarm widget must list every alarm"
  }
  assert {
    condition = anytrue([
      for w in jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets :
      anytrue([for m in w.properties.metrics : try(m[0].expression, "") == "100 - 100 * errors / MAX([errors, invocations])"]) if w.type == "metric"
    ])
    error_message = "the Lambda section must show the success-rate expression"
  }
}

run "each_mapping_variable_reaches_its_own_argument" {
  command = apply

  variables {
    batch_size                    = 7
    parallelization_factor        = 4
    maximum_retry_attempts        = 9
    maximum_record_age_in_seconds = 7200
    starting_position             = "TRIM_HORIZON"
  }

  assert {
    condition     = module.consumer.settings.batch_size == 7
    error_message = "batch_size"
  }
  assert {
    condition     = module.consumer.settings.parallelization_factor == 4
    error_message = "parallelization_factor must come from var.parallelization_factor"
  }
  assert {
    condition     = module.consumer.settings.maximum_retry_attempts == 9
    error_message = "maximum_retry_attempts must come from var.maximum_retry_attempts"
  }
  assert {
    condition     = module.consumer.settings.maximum_record_age_in_seconds == 7200 && module.consumer.settings.starting_position == "TRIM_HORIZON"
    error_message = "record age and starting position"
  }
}

run "iam_auth_and_existing_topic" {
  command = plan

  variables {
    authorization         = "AWS_IAM"
    create_alarm_topic    = false
    alarm_topic_arn       = "arn:aws:sns:us-east-1:123456789012:ops"
    throttling_rate_limit = 250
    stream_mode           = "ON_DEMAND"
  }

  assert {
    condition     = output.user_pool_id == null && output.user_pool_client_id == null && output.authorization == "AWS_IAM"
    error_message = "no Cognito with AWS_IAM"
  }
  assert {
    condition     = output.alarm_topic_arn == "arn:aws:sns:us-east-1:123456789012:ops"
    error_message = "alarms must notify the given topic"
  }
}

run "uses_an_existing_stream" {
  command = apply

  variables {
    stream_arn         = "arn:aws:kinesis:us-east-1:123456789012:stream/orders"
    stream_kms_key_arn = "arn:aws:kms:us-east-1:123456789012:key/orders"
  }

  assert {
    condition     = length(module.stream) == 0 && output.stream_name == "orders" && output.stream_arn == "arn:aws:kinesis:us-east-1:123456789012:stream/orders"
    error_message = "with stream_arn no stream is created and the outputs name the existing one"
  }
  assert {
    condition     = module.consumer.settings.event_source_arn == "arn:aws:kinesis:us-east-1:123456789012:stream/orders"
    error_message = "the mapping must read the existing stream"
  }
  assert {
    condition = alltrue([
      for k, a in module.alarms.alarms : a.dimensions == tomap({ StreamName = "orders" }) if startswith(k, "kinesis-")
    ])
    error_message = "stream alarms must watch the existing stream"
  }
  assert {
    condition = alltrue(flatten([
      for w in jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets : [
        for m in w.properties.metrics : m[3] == "orders" if m[0] == "AWS/Kinesis"
      ] if w.type == "metric"
    ]))
    error_message = "the dashboard's stream widgets must show the existing stream"
  }
}

run "rejects_uppercase_prefix" {
  command = plan
  variables { name_prefix = "Kstream" }
  expect_failures = [var.name_prefix]
}

run "rejects_long_prefix" {
  command = plan
  variables { name_prefix = "a-prefix-that-is-far-too-long" }
  expect_failures = [var.name_prefix]
}

run "waf_web_acl_reaches_the_api" {
  command = apply
  variables {
    waf_web_acl_arn = "arn:aws:wafv2:us-east-1:123456789012:regional/webacl/records/0123abcd"
  }
  assert {
    condition     = module.api.web_acl_association_id != null
    error_message = "waf_web_acl_arn associates the web ACL with the public API's stage"
  }
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
    condition     = module.consumer.settings.maximum_record_age_in_seconds == 82800
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
    condition     = module.consumer.settings.maximum_record_age_in_seconds == -1
    error_message = "with stream_arn the record age is the caller's choice"
  }
}

run "failed_record_archive_is_off_by_default" {
  command = plan

  assert {
    condition     = length(module.failed_record_archive) == 0 && output.failed_record_archive_bucket == null && output.failed_record_archive_prefix == null
    error_message = "no archive bucket unless failed_record_archive.enabled"
  }
  assert {
    condition     = !contains(keys(module.alarms.thresholds), "archive-failures")
    error_message = "no ArchiveFailures alarm without the archive"
  }
  assert {
    condition     = !contains(keys(local.failed_record_archive_environment), "FAILED_RECORD_ARCHIVE_BUCKET")
    error_message = "the consumer's archive is off (no FAILED_RECORD_ARCHIVE_BUCKET)"
  }
}

run "failed_record_archive_on" {
  command = apply

  variables {
    failed_record_archive = {
      enabled         = true
      expiration_days = 14
      force_destroy   = true
      tls_only_policy = true
    }
  }

  assert {
    condition     = module.alarms.alarms["archive-failures"].metric_name == "ArchiveFailures" && module.alarms.alarms["archive-failures"].statistic == "Sum" && module.alarms.alarms["archive-failures"].threshold == 1 && module.alarms.alarms["archive-failures"].dimensions.FunctionName == module.consumer_function.function_name
    error_message = "an alarm on the consumer's ArchiveFailures (Sum >= 1 a minute) when the archive is on"
  }
  assert {
    condition     = output.failed_record_archive_bucket == "kstream-p1-arc-123456789012-us-east-1" && output.failed_record_archive_prefix == "failed-records/"
    error_message = "the archive bucket is <prefix>-arc-<account>-<region>, the prefix failed-records/"
  }
  assert {
    condition     = local.failed_record_archive_environment.FAILED_RECORD_ARCHIVE_BUCKET == output.failed_record_archive_bucket && local.failed_record_archive_environment.FAILED_RECORD_ARCHIVE_PREFIX == "failed-records/"
    error_message = "the consumer is told the bucket and the prefix"
  }
  assert {
    condition     = module.failed_record_archive[0].expiration_days == 14 && module.failed_record_archive[0].kms_key_arn == "arn:aws:kms:us-east-1:123456789012:key/mock"
    error_message = "objects expire as asked; the bucket has its own KMS key"
  }
  assert {
    condition     = jsondecode(module.failed_record_archive[0].policy_json).Statement[0].Action == ["s3:PutObject"] && jsondecode(module.failed_record_archive[0].policy_json).Statement[0].Resource == ["arn:aws:s3:::kstream-p1-arc-123456789012-us-east-1/failed-records/*"]
    error_message = "the consumer's role may only put objects under the prefix"
  }
}
