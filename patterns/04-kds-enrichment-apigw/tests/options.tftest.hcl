# The options: an HTTP backend instead of the fare function, the key in Secrets Manager and
# customer-managed keys, the fault mode (tests only), quota and WAF, an existing stream and topic.
mock_provider "aws" {
  source = "./tests/mocks"
}

override_resource {
  target = module.consumer_function.aws_lambda_function.this
  values = {
    arn        = "arn:aws:lambda:us-east-1:123456789012:function:kstream-p4-consumer"
    invoke_arn = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:kstream-p4-consumer/invocations"
  }
}

run "an_http_backend_replaces_the_fare_function" {
  command = apply

  variables {
    fare_api_http_integration_uri = "https://fares.example.com/predict"
  }

  assert {
    condition     = length(module.fare_function) == 0 && output.fare_function_name == null && output.fare_function_log_group_name == null
    error_message = "no fare function with an HTTP backend"
  }
  assert {
    condition     = module.api.integration_type == "HTTP_PROXY" && local.consumer_environment.FARE_API_URL == "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/prod/predictFare"
    error_message = "the API proxies to the HTTP backend; the consumer still calls the API"
  }
  assert {
    condition     = length(output.alarm_names) == 16 && !contains(keys(output.alarm_names), "lambda-fare-api-errors")
    error_message = "no fare function alarms"
  }
  assert {
    condition     = length([for w in jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets : w if w.type == "metric"]) == 15
    error_message = "no fare function section on the dashboard"
  }
}

run "key_in_secrets_manager_with_customer_keys" {
  command = apply

  variables {
    api_key_store       = "secretsmanager"
    api_key_kms_key_arn = "arn:aws:kms:us-east-1:123456789012:key/api-key"
    bucket_kms_key_arn  = "arn:aws:kms:us-east-1:123456789012:key/output"
  }

  assert {
    condition     = local.consumer_environment.API_KEY_SECRET_ID == "arn:aws:secretsmanager:us-east-1:123456789012:secret:kstream-p4-fare-api-api-key-AbCdEf" && !contains(keys(local.consumer_environment), "API_KEY_PARAMETER")
    error_message = "the consumer reads the key from the secret"
  }
  assert {
    condition     = output.api_key_parameter_name == null && output.api_key_secret_arn == "arn:aws:secretsmanager:us-east-1:123456789012:secret:kstream-p4-fare-api-api-key-AbCdEf"
    error_message = "the secret's ARN is the output, no parameter"
  }
  assert {
    condition = local.consumer_policy_statements == [
      {
        sid       = "WriteRowsAndErrors"
        actions   = ["s3:PutObject"]
        resources = ["arn:aws:s3:::kstream-p4-123456789012-us-east-1/enriched/*", "arn:aws:s3:::kstream-p4-123456789012-us-east-1/errors/*"]
      },
      {
        sid       = "EncryptOutput"
        actions   = ["kms:GenerateDataKey"]
        resources = ["arn:aws:kms:us-east-1:123456789012:key/output"]
      },
      {
        sid       = "ReadApiKey"
        actions   = ["secretsmanager:GetSecretValue"]
        resources = ["arn:aws:secretsmanager:us-east-1:123456789012:secret:kstream-p4-fare-api-api-key-AbCdEf"]
      },
      {
        sid       = "DecryptApiKey"
        actions   = ["kms:Decrypt"]
        resources = ["arn:aws:kms:us-east-1:123456789012:key/api-key"]
      },
      {
        sid       = "CallFareApi"
        actions   = ["execute-api:Invoke"]
        resources = ["arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/prod/GET/predictFare"]
      },
    ]
    error_message = "the secret, the two customer keys (each for its one use) and the one method"
  }
}

run "ssm_key_with_a_customer_key" {
  command = plan

  variables {
    api_key_kms_key_arn = "arn:aws:kms:us-east-1:123456789012:key/api-key"
  }

  assert {
    condition     = contains(local.consumer_policy_statements, { sid = "DecryptApiKey", actions = ["kms:Decrypt"], resources = ["arn:aws:kms:us-east-1:123456789012:key/api-key"] })
    error_message = "a SecureString under a customer key needs kms:Decrypt on that key"
  }
}

run "fault_mode_for_tests" {
  command = apply

  variables {
    fare_api_faults = "error_rate=0.2,throttle_rate=0.05,until=2026-12-04T21:00:00Z"
  }

  assert {
    condition     = local.fare_api_environment.FARE_FAULTS == "error_rate=0.2,throttle_rate=0.05,until=2026-12-04T21:00:00Z"
    error_message = "FARE_FAULTS reaches the fare function when set"
  }
}

run "quota_waf_and_throttle_reach_the_api" {
  command = apply

  variables {
    api_quota_limit          = 100000
    api_quota_period         = "MONTH"
    api_throttle_rate_limit  = 5
    api_throttle_burst_limit = 10
    waf_web_acl_arn          = "arn:aws:wafv2:us-east-1:123456789012:regional/webacl/fares/0123abcd"
  }

  assert {
    condition     = module.api.web_acl_association_id != null
    error_message = "the web ACL is associated with the stage"
  }
  assert {
    condition     = module.api.usage_plan_id != null && output.api_key_id == "k3y1d"
    error_message = "the usage plan and its key"
  }
}

run "uses_an_existing_stream_and_topic" {
  command = apply

  variables {
    stream_arn         = "arn:aws:kinesis:us-east-1:123456789012:stream/trips"
    stream_kms_key_arn = "arn:aws:kms:us-east-1:123456789012:key/trips"
    create_alarm_topic = false
    alarm_topic_arn    = "arn:aws:sns:us-east-1:123456789012:ops"
    enhanced_fan_out   = true
  }

  assert {
    condition     = length(module.stream) == 0 && output.stream_name == "trips" && output.stream_arn == "arn:aws:kinesis:us-east-1:123456789012:stream/trips"
    error_message = "with stream_arn no stream is created"
  }
  assert {
    condition     = module.consumer.settings.event_source_arn == "arn:aws:kinesis:us-east-1:123456789012:stream/kstream-p4-stream/consumer/kstream-p4-consumer:1700000000"
    error_message = "with enhanced fan-out the mapping reads through the registered consumer"
  }
  assert {
    condition     = alltrue([for k, a in module.alarms.alarms : a.dimensions == tomap({ StreamName = "trips" }) if startswith(k, "kinesis-")])
    error_message = "stream alarms must watch the existing stream"
  }
  assert {
    condition     = output.alarm_topic_arn == "arn:aws:sns:us-east-1:123456789012:ops"
    error_message = "alarms must notify the given topic"
  }
}
