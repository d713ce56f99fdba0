# The whole pattern with a mocked provider: wiring between modules, names from the
# prefix, the dashboard, and the pattern's own variable validation.
mock_provider "aws" {
  mock_resource "aws_kinesis_stream" {
    defaults = {
      arn = "arn:aws:kinesis:us-east-1:123456789012:stream/kstream-p1-stream"
    }
  }
  mock_resource "aws_sqs_queue" {
    defaults = {
      arn = "arn:aws:sqs:us-east-1:123456789012:kstream-p1-failures"
      id  = "https://sqs.us-east-1.amazonaws.com/123456789012/kstream-p1-failures"
      url = "https://sqs.us-east-1.amazonaws.com/123456789012/kstream-p1-failures"
    }
  }
  mock_resource "aws_cloudwatch_metric_alarm" {
    defaults = {
      arn = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:kstream-p1-mock"
    }
  }
  mock_resource "aws_api_gateway_stage" {
    defaults = {
      invoke_url = "https://abc123.execute-api.us-east-1.amazonaws.com/prod"
    }
  }
  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::123456789012:role/kstream-p1-mock-role"
    }
  }
  mock_resource "aws_cognito_user_pool" {
    defaults = {
      arn = "arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_mock"
    }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = {
      arn = "arn:aws:logs:us-east-1:123456789012:log-group:mock"
    }
  }
  mock_resource "aws_kms_key" {
    defaults = {
      arn = "arn:aws:kms:us-east-1:123456789012:key/mock"
    }
  }
  mock_resource "aws_sns_topic" {
    defaults = {
      arn = "arn:aws:sns:us-east-1:123456789012:kstream-p1-alarms"
    }
  }
  mock_resource "aws_lambda_function" {
    defaults = {
      arn = "arn:aws:lambda:us-east-1:123456789012:function:kstream-p1-consumer"
    }
  }
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
    condition     = output.stream_arn == "arn:aws:kinesis:us-east-1:123456789012:stream/kstream-p1-stream"
    error_message = "stream ARN output"
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

run "rejects_shard_count_0" {
  command = plan
  variables { shard_count = 0 }
  expect_failures = [var.shard_count]
}

run "rejects_shard_count_201" {
  command = plan
  variables { shard_count = 201 }
  expect_failures = [var.shard_count]
}

run "rejects_retention_23" {
  command = plan
  variables { retention_period_hours = 23 }
  expect_failures = [var.retention_period_hours]
}

run "rejects_retention_8761" {
  command = plan
  variables { retention_period_hours = 8761 }
  expect_failures = [var.retention_period_hours]
}

run "rejects_batch_size_0" {
  command = plan
  variables { batch_size = 0 }
  expect_failures = [var.batch_size]
}

run "rejects_batch_size_10001" {
  command = plan
  variables { batch_size = 10001 }
  expect_failures = [var.batch_size]
}

run "rejects_parallelization_0" {
  command = plan
  variables { parallelization_factor = 0 }
  expect_failures = [var.parallelization_factor]
}

run "rejects_parallelization_11" {
  command = plan
  variables { parallelization_factor = 11 }
  expect_failures = [var.parallelization_factor]
}

run "rejects_retries_10001" {
  command = plan
  variables { maximum_retry_attempts = 10001 }
  expect_failures = [var.maximum_retry_attempts]
}

run "rejects_rate_0" {
  command = plan
  variables { throttling_rate_limit = 0 }
  expect_failures = [var.throttling_rate_limit]
}

run "rejects_rate_10001" {
  command = plan
  variables { throttling_rate_limit = 10001 }
  expect_failures = [var.throttling_rate_limit]
}

run "rejects_burst_minus_1" {
  command = plan
  variables { throttling_burst_limit = -1 }
  expect_failures = [var.throttling_burst_limit]
}

run "rejects_burst_5001" {
  command = plan
  variables { throttling_burst_limit = 5001 }
  expect_failures = [var.throttling_burst_limit]
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

run "rejects_unsupported_log_retention" {
  command = plan
  variables { log_retention_in_days = 2 }
  expect_failures = [var.log_retention_in_days]
}

run "rejects_bad_starting_position" {
  command = plan
  variables { starting_position = "EARLIEST" }
  expect_failures = [var.starting_position]
}
