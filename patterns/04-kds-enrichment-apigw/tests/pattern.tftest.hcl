# The whole pattern with a mocked provider (tests/mocks): wiring between modules, names from the
# prefix, the consumer's configuration and permissions, the fare API, the Glue table, the alarms,
# the dashboard, a created or an existing stream, and the pattern's own variable validation.
# A value the pattern only hands to a module is rejected by that module's validation:
# tests/rejected/ (run by scripts/test-terraform.sh, which expects each to fail).
mock_provider "aws" {
  source = "./tests/mocks"
}

# The mocks give every function the fare function's ARN; the consumer's own.
override_resource {
  target = module.consumer_function.aws_lambda_function.this
  values = {
    arn        = "arn:aws:lambda:us-east-1:123456789012:function:kstream-p4-consumer"
    invoke_arn = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:kstream-p4-consumer/invocations"
  }
}

run "names_come_from_the_prefix" {
  command = plan

  variables {
    name_prefix = "acme-fares"
  }

  assert {
    condition     = output.stream_name == "acme-fares-stream"
    error_message = "stream name must be <prefix>-stream"
  }
  assert {
    condition     = output.consumer_function_name == "acme-fares-consumer" && output.fare_function_name == "acme-fares-fare-api"
    error_message = "functions must be <prefix>-consumer and <prefix>-fare-api"
  }
  assert {
    condition     = output.rest_api_name == "acme-fares-fare-api" && output.api_key_parameter_name == "/acme-fares-fare-api/api-key"
    error_message = "API <prefix>-fare-api, key parameter /<prefix>-fare-api/api-key"
  }
  assert {
    condition     = output.failure_queue_name == "acme-fares-failures" && output.glue_database_name == "acme_fares" && output.glue_table_name == "enriched"
    error_message = "failure queue <prefix>-failures, Glue database <prefix> with '_', table enriched"
  }
  assert {
    condition     = output.dashboard_name == "acme-fares" && alltrue([for k, n in output.alarm_names : startswith(n, "acme-fares-")])
    error_message = "dashboard and alarm names come from the prefix"
  }
}

run "deploys_with_defaults" {
  command = apply

  assert {
    condition     = length(module.stream) == 1 && output.stream_arn == "arn:aws:kinesis:us-east-1:123456789012:stream/kstream-p4-stream"
    error_message = "without stream_arn the pattern creates its stream"
  }
  assert {
    condition     = output.region == "us-east-1" && output.bucket_name == "kstream-p4-123456789012-us-east-1"
    error_message = "region and bucket outputs"
  }
  assert {
    condition     = output.api_url == "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/prod/predictFare"
    error_message = "api_url is the fare resource's URL"
  }
  assert {
    condition = local.consumer_environment == {
      FARE_API_URL                 = "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/prod/predictFare"
      API_KEY_PARAMETER            = "/kstream-p4-fare-api/api-key"
      SAMPLE_EVERY                 = "20"
      MAX_IN_FLIGHT                = "20"
      MAX_CALLS_PER_SECOND         = "10"
      CALL_TIMEOUT_MS              = "3000"
      MAX_ATTEMPTS                 = "4"
      RETRY_BUDGET_PERCENT         = "20"
      OUTPUT_BUCKET                = "kstream-p4-123456789012-us-east-1"
      OUTPUT_PREFIX                = "enriched/"
      ERROR_PREFIX                 = "errors/"
      WRITE_UNSAMPLED              = "false"
      POWERTOOLS_SERVICE_NAME      = "kstream-p4-consumer"
      POWERTOOLS_METRICS_NAMESPACE = "kstream"
    }
    error_message = "the consumer's environment: the contract's variables with their defaults, the key in SSM"
  }
  assert {
    condition = local.consumer_policy_statements == [
      {
        sid       = "WriteRowsAndErrors"
        actions   = ["s3:PutObject"]
        resources = ["arn:aws:s3:::kstream-p4-123456789012-us-east-1/enriched/*", "arn:aws:s3:::kstream-p4-123456789012-us-east-1/errors/*"]
      },
      {
        sid       = "ReadApiKey"
        actions   = ["ssm:GetParameter"]
        resources = ["arn:aws:ssm:us-east-1:123456789012:parameter/kstream-p4-fare-api/api-key"]
      },
      {
        sid       = "CallFareApi"
        actions   = ["execute-api:Invoke"]
        resources = ["arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/prod/GET/predictFare"]
      },
    ]
    error_message = "least privilege: put under the two prefixes, read the one parameter, invoke the one method (no KMS with AWS-managed keys)"
  }
  assert {
    condition = local.fare_api_environment == {
      POWERTOOLS_SERVICE_NAME      = "kstream-p4-fare-api"
      POWERTOOLS_METRICS_NAMESPACE = "kstream"
    }
    error_message = "the fare function runs without FARE_FAULTS by default"
  }
  assert {
    condition = (
      module.api.integration_type == "AWS_PROXY" &&
      module.api.invoke_arn_for_get == "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/prod/GET/predictFare" &&
      module.api.api_key_secret_arn == null && output.api_key_secret_arn == null
    )
    error_message = "the fare function is the API's Lambda proxy backend; the key is in SSM"
  }
  assert {
    condition = (
      module.consumer.settings.batch_size == 100 &&
      module.consumer.settings.parallelization_factor == 1 &&
      module.consumer.settings.maximum_retry_attempts == 5 &&
      module.consumer.settings.maximum_record_age_in_seconds == 3600 &&
      module.consumer.settings.bisect_batch_on_function_error &&
      module.consumer.settings.starting_position == "LATEST" &&
      module.consumer.settings.function_response_types == toset(["ReportBatchItemFailures"]) &&
      module.consumer.settings.tumbling_window_in_seconds == 0
    )
    error_message = "the mapping: batches of 100, bisect, 5 retries, 1 h record age, partial batch responses, no window"
  }
  assert {
    condition     = module.consumer.settings.event_source_arn == output.stream_arn && module.consumer.settings.on_failure_destination_arn == output.failure_queue_arn
    error_message = "the mapping reads the stream and fails over to its queue"
  }
  assert {
    condition     = output.failure_queue_url == "https://sqs.us-east-1.amazonaws.com/123456789012/kstream-p4-failures"
    error_message = "failure queue URL output"
  }
  assert {
    condition     = module.glue_enriched.storage_location_template == "s3://kstream-p4-123456789012-us-east-1/enriched/dt=$${dt}/hr=$${hr}/"
    error_message = "the table's partition folders must be the consumer's key layout"
  }
  assert {
    condition     = module.glue_errors.storage_location_template == "s3://kstream-p4-123456789012-us-east-1/errors/dt=$${dt}/" && module.glue_errors.database_name == module.glue_enriched.database_name && output.glue_errors_table_name == "errors"
    error_message = "the errors table reads the error prefix by date, in the same database"
  }
  assert {
    condition = (
      local.dt_partition.projection.type == "date" && local.dt_partition.projection.format == "yyyy-MM-dd" && startswith(local.dt_partition.projection.range, "2009-01-01,") &&
      local.hr_partition.projection.type == "integer" && local.hr_partition.projection.range == "0,23" && local.hr_partition.projection.digits == "2"
    )
    error_message = "dt is a yyyy-MM-dd date projection reaching back to the TLC data, hr a two-digit 00-23 integer projection"
  }
  assert {
    condition     = module.bucket.policy_json != null && jsondecode(module.bucket.policy_json).Statement[0].Condition.Bool["aws:SecureTransport"] == "false"
    error_message = "TLS-only bucket policy"
  }
  assert {
    condition = !strcontains(jsonencode([
      output.api_url, output.api_invoke_url, output.rest_api_id, output.rest_api_name, output.api_stage_name,
      output.api_invoke_arn_for_get, output.api_key_id, output.api_key_parameter_name, output.api_key_secret_arn,
      output.fare_function_name, output.fare_function_log_group_name, output.api_access_log_group_name,
      output.stream_name, output.stream_arn, output.consumer_function_name, output.consumer_function_arn,
      output.consumer_log_group_name, output.event_source_mapping_uuid, output.failure_queue_url,
      output.failure_queue_name, output.failure_queue_arn, output.bucket_name, output.output_prefix,
      output.error_prefix, output.glue_database_name, output.glue_table_name, output.glue_errors_table_name, output.dashboard_name,
      output.alarm_names, output.alarm_topic_arn, output.region,
    ]), "GeneratedKeyValue0123456789abcdefGHIJ")
    error_message = "no output may carry the API key's value"
  }
  assert {
    condition     = !strcontains(jsonencode(local.consumer_environment), "GeneratedKeyValue0123456789abcdefGHIJ")
    error_message = "the key's value is not in the consumer's environment (it reads the parameter at cold start)"
  }
}

run "alarms_watch_the_pattern_resources" {
  command = apply

  assert {
    condition     = length(output.alarm_names) == 18 && output.alarm_topic_arn != null
    error_message = "18 alarms (6 stream, 3 consumer, 2 fare function, 3 API, 1 queue, 3 on the consumer's metrics) notifying the created topic"
  }
  assert {
    condition     = alltrue([for k, a in module.alarms.alarms : a.dimensions == tomap({ StreamName = "kstream-p4-stream" }) if startswith(k, "kinesis-")])
    error_message = "stream alarms must have the pattern's StreamName"
  }
  assert {
    condition = (
      module.alarms.alarms["lambda-consumer-errors"].dimensions == tomap({ FunctionName = "kstream-p4-consumer" }) &&
      module.alarms.alarms["lambda-consumer-iterator-age"].metric_name == "IteratorAge" &&
      module.alarms.alarms["lambda-fare-api-errors"].dimensions == tomap({ FunctionName = "kstream-p4-fare-api" }) &&
      module.alarms.alarms["lambda-fare-api-throttles"].metric_name == "Throttles"
    )
    error_message = "consumer errors and iterator age; fare function errors and throttles"
  }
  assert {
    condition = alltrue([for k in ["api-4xx-errors", "api-5xx-errors", "api-latency"] :
    module.alarms.alarms[k].dimensions == tomap({ ApiName = "kstream-p4-fare-api", Stage = "prod" })])
    error_message = "API 4xx (429 included), 5xx and latency alarms on the fare API's stage"
  }
  assert {
    condition     = module.alarms.alarms["sqs-failures-depth"].dimensions == tomap({ QueueName = "kstream-p4-failures" })
    error_message = "failure-queue depth alarm"
  }
  assert {
    condition = alltrue([for k, m in { "call-failures" = "CallFailures", "parse-failures" = "ParseFailures", "fare-api-throttles" = "Throttles" } : (
      module.alarms.alarms[k].metric_name == m &&
      module.alarms.alarms[k].namespace == "kstream" &&
      module.alarms.alarms[k].statistic == "Sum" &&
      module.alarms.alarms[k].comparison_operator == "GreaterThanOrEqualToThreshold" &&
      module.alarms.alarms[k].dimensions == tomap({ FunctionName = "kstream-p4-consumer" })
    )])
    error_message = "alarms on the consumer's CallFailures, ParseFailures and Throttles (EMF, its FunctionName)"
  }
  assert {
    condition     = module.alarms.thresholds["call-failures"] == 1 && module.alarms.thresholds["parse-failures"] == 1 && module.alarms.thresholds["fare-api-throttles"] == 10
    error_message = "any call or parse failure alarms; throttles from 10 a minute"
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
          m[0] == "AWS/Kinesis" ? (m[2] == "StreamName" && m[3] == "kstream-p4-stream") :
          m[0] == "AWS/Lambda" ? (m[2] == "FunctionName" && contains(["kstream-p4-consumer", "kstream-p4-fare-api"], m[3])) :
          m[0] == "AWS/ApiGateway" ? (m[2] == "ApiName" && m[3] == "kstream-p4-fare-api" && m[4] == "Stage" && m[5] == "prod") :
          m[0] == "kstream" ? (m[2] == "FunctionName" && m[3] == "kstream-p4-consumer") :
          m[0] == "AWS/SQS" ? (m[2] == "QueueName" && m[3] == "kstream-p4-failures") :
          false
        )
      ] if w.type == "metric"
    ]))
    error_message = "every metric must carry its resource's dimensions"
  }
  assert {
    condition     = length([for w in jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets : w if w.type == "metric"]) == 18
    error_message = "3 API, 3 fare function, 3 consumer, 4 enrichment, 3 stream and 2 queue widgets"
  }
  assert {
    condition     = length(one([for w in jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets : w if w.type == "alarm"]).properties.alarms) == 18
    error_message = "the alarm widget must list every alarm"
  }
  assert {
    condition = alltrue([for metric in ["CallLatency", "Retries", "Throttles", "CallFailures", "ParseFailures", "RowsWritten", "Sampled"] : anytrue(flatten([
      for w in jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets : [for m in w.properties.metrics : m[1] == metric] if w.type == "metric"
    ]))])
    error_message = "the dashboard shows the consumer's call latency, retries, throttles, failures and rows"
  }
}

run "each_setting_reaches_its_argument" {
  command = apply

  variables {
    sample_every                  = 7
    max_in_flight                 = 64
    call_timeout_ms               = 1500
    max_attempts                  = 6
    retry_budget_percent          = 50
    write_unsampled               = true
    output_prefix                 = "trips/enriched/"
    error_prefix                  = "trips/errors/"
    metrics_namespace             = "acme"
    batch_size                    = 250
    maximum_retry_attempts        = 2
    maximum_record_age_in_seconds = 600
    starting_position             = "TRIM_HORIZON"
    api_throttle_rate_limit       = 50
    api_throttle_burst_limit      = 200
    api_stage_name                = "v1"
    throttles_alarm_threshold     = 3
  }

  assert {
    condition = (
      local.consumer_environment.SAMPLE_EVERY == "7" &&
      local.consumer_environment.MAX_IN_FLIGHT == "64" &&
      local.consumer_environment.MAX_CALLS_PER_SECOND == "25" &&
      local.consumer_environment.CALL_TIMEOUT_MS == "1500" &&
      local.consumer_environment.MAX_ATTEMPTS == "6" &&
      local.consumer_environment.RETRY_BUDGET_PERCENT == "50" &&
      local.consumer_environment.WRITE_UNSAMPLED == "true" &&
      local.consumer_environment.OUTPUT_PREFIX == "trips/enriched/" &&
      local.consumer_environment.ERROR_PREFIX == "trips/errors/" &&
      local.consumer_environment.POWERTOOLS_METRICS_NAMESPACE == "acme"
    )
    error_message = "each consumer setting must reach its environment variable"
  }
  assert {
    condition     = local.consumer_policy_statements[0].resources == ["arn:aws:s3:::kstream-p4-123456789012-us-east-1/trips/enriched/*", "arn:aws:s3:::kstream-p4-123456789012-us-east-1/trips/errors/*"]
    error_message = "the write permission must follow the prefixes"
  }
  assert {
    condition     = module.glue_enriched.location == "s3://kstream-p4-123456789012-us-east-1/trips/enriched/" && module.glue_errors.location == "s3://kstream-p4-123456789012-us-east-1/trips/errors/"
    error_message = "the tables must follow the prefixes"
  }
  assert {
    condition = (
      module.consumer.settings.batch_size == 250 &&
      module.consumer.settings.maximum_retry_attempts == 2 &&
      module.consumer.settings.maximum_record_age_in_seconds == 600 &&
      module.consumer.settings.starting_position == "TRIM_HORIZON"
    )
    error_message = "each mapping variable must reach its own argument"
  }
  assert {
    condition     = module.api.stage_name == "v1" && local.consumer_environment.FARE_API_URL == "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/prod/predictFare" && module.api.invoke_arn_for_get == "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/v1/GET/predictFare"
    error_message = "the stage reaches the API and the invoke permission (the mocked invoke URL is fixed)"
  }
  assert {
    condition     = module.alarms.alarms["fare-api-throttles"].threshold == 3 && module.alarms.alarms["call-failures"].namespace == "acme"
    error_message = "the metric alarms use the namespace and the throttles threshold"
  }
}

run "rejects_sample_every_0" {
  command = plan
  variables { sample_every = 0 }
  expect_failures = [var.sample_every]
}

run "rejects_max_in_flight_257" {
  command = plan
  variables { max_in_flight = 257 }
  expect_failures = [var.max_in_flight]
}

run "rejects_call_timeout_at_api_gateways_limit" {
  command = plan
  variables { call_timeout_ms = 29000 }
  expect_failures = [var.call_timeout_ms]
}

run "rejects_call_timeout_longer_than_the_invocation" {
  command = plan
  variables {
    call_timeout_ms          = 10000
    consumer_timeout_seconds = 10
  }
  expect_failures = [var.call_timeout_ms]
}

run "rejects_max_attempts_11" {
  command = plan
  variables { max_attempts = 11 }
  expect_failures = [var.max_attempts]
}

run "rejects_retry_budget_101" {
  command = plan
  variables { retry_budget_percent = 101 }
  expect_failures = [var.retry_budget_percent]
}

run "rejects_an_empty_output_prefix" {
  command = plan
  variables { output_prefix = "" }
  expect_failures = [var.output_prefix]
}

run "rejects_an_error_prefix_without_a_slash" {
  command = plan
  variables { error_prefix = "errors" }
  expect_failures = [var.error_prefix]
}

run "rejects_errors_inside_the_table" {
  command = plan
  variables { error_prefix = "enriched/errors/" }
  expect_failures = [var.output_prefix]
}

run "rejects_an_unknown_fault" {
  command = plan
  variables { fare_api_faults = "crash_rate=0.5" }
  expect_failures = [var.fare_api_faults]
}

run "rejects_faults_with_spaces" {
  command = plan
  variables { fare_api_faults = "error_rate=0.2, throttle_rate=0.05" }
  expect_failures = [var.fare_api_faults]
}

run "rejects_throttles_alarm_0" {
  command = plan
  variables { throttles_alarm_threshold = 0 }
  expect_failures = [var.throttles_alarm_threshold]
}

run "rejects_uppercase_prefix" {
  command = plan
  variables { name_prefix = "Kstream" }
  expect_failures = [var.name_prefix]
}

run "calls_are_paced_to_the_usage_plan" {
  command = plan

  variables {
    stream_mode             = "ON_DEMAND"
    api_throttle_rate_limit = 30
  }

  assert {
    condition     = local.consumer_environment.MAX_CALLS_PER_SECOND == "30"
    error_message = "with an ON_DEMAND stream (shard count unknown) each consumer gets the whole rate"
  }
}

run "calls_are_paced_as_asked" {
  command = plan

  variables {
    max_calls_per_second = 7
  }

  assert {
    condition     = local.consumer_environment.MAX_CALLS_PER_SECOND == "7"
    error_message = "max_calls_per_second reaches MAX_CALLS_PER_SECOND"
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
    condition     = !contains(keys(local.consumer_environment), "FAILED_RECORD_ARCHIVE_BUCKET")
    error_message = "the consumer's archive is off (no FAILED_RECORD_ARCHIVE_BUCKET)"
  }
}

run "failed_record_archive_on" {
  command = apply

  variables {
    failed_record_archive = {
      enabled         = true
      expiration_days = 14
    }
  }

  assert {
    condition     = module.alarms.alarms["archive-failures"].metric_name == "ArchiveFailures" && module.alarms.alarms["archive-failures"].statistic == "Sum" && module.alarms.alarms["archive-failures"].threshold == 1 && module.alarms.alarms["archive-failures"].dimensions.FunctionName == module.consumer_function.function_name
    error_message = "an alarm on the consumer's ArchiveFailures (Sum >= 1 a minute) when the archive is on"
  }
  assert {
    condition     = output.failed_record_archive_bucket == "kstream-p4-arc-123456789012-us-east-1" && output.failed_record_archive_prefix == "failed-records/"
    error_message = "the archive bucket is <prefix>-arc-<account>-<region>, the prefix failed-records/"
  }
  assert {
    condition     = local.consumer_environment.FAILED_RECORD_ARCHIVE_BUCKET == output.failed_record_archive_bucket && local.consumer_environment.FAILED_RECORD_ARCHIVE_PREFIX == "failed-records/"
    error_message = "the consumer is told the bucket and the prefix"
  }
  assert {
    condition     = module.failed_record_archive[0].expiration_days == 14 && module.failed_record_archive[0].kms_key_arn == "arn:aws:kms:us-east-1:123456789012:key/mock"
    error_message = "objects expire as asked; the bucket has its own KMS key"
  }
  assert {
    condition     = jsondecode(module.failed_record_archive[0].policy_json).Statement[0].Action == ["s3:PutObject"] && jsondecode(module.failed_record_archive[0].policy_json).Statement[0].Resource == ["arn:aws:s3:::kstream-p4-arc-123456789012-us-east-1/failed-records/*"]
    error_message = "the consumer's role may only put objects under the prefix"
  }
}
