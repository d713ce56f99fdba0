mock_provider "aws" {
  mock_resource "aws_sqs_queue" {
    defaults = {
      arn = "arn:aws:sqs:us-east-1:123456789012:kstream-test-failures"
      id  = "https://sqs.us-east-1.amazonaws.com/123456789012/kstream-test-failures"
      url = "https://sqs.us-east-1.amazonaws.com/123456789012/kstream-test-failures"
    }
  }
  mock_resource "aws_kinesis_stream_consumer" {
    defaults = {
      arn = "arn:aws:kinesis:us-east-1:123456789012:stream/kstream-test-stream/consumer/kstream-test-consumer:1700000000"
    }
  }
}

variables {
  name               = "kstream-test"
  function_name      = "kstream-test-consumer"
  function_role_name = "kstream-test-consumer-role"
  stream_arn         = "arn:aws:kinesis:us-east-1:123456789012:stream/kstream-test-stream"
}

run "defaults_match_the_reference_without_its_swap" {
  command = plan

  assert {
    condition     = aws_lambda_event_source_mapping.this.batch_size == 100
    error_message = "default batch size must be 100"
  }
  assert {
    condition     = aws_lambda_event_source_mapping.this.parallelization_factor == 1
    error_message = "default parallelization factor must be 1"
  }
  assert {
    condition     = aws_lambda_event_source_mapping.this.maximum_retry_attempts == 3
    error_message = "default retries must be 3"
  }
  assert {
    condition     = aws_lambda_event_source_mapping.this.bisect_batch_on_function_error == true
    error_message = "bisect on error must be on"
  }
  assert {
    condition     = aws_lambda_event_source_mapping.this.maximum_record_age_in_seconds == 86400
    error_message = "records older than 24 h must go to the failure queue"
  }
  assert {
    condition     = aws_lambda_event_source_mapping.this.starting_position == "LATEST"
    error_message = "default starting position must be LATEST"
  }
  assert {
    condition     = aws_lambda_event_source_mapping.this.function_response_types == toset(["ReportBatchItemFailures"])
    error_message = "the mapping must honour partial batch responses"
  }
  assert {
    condition     = aws_lambda_event_source_mapping.this.event_source_arn == "arn:aws:kinesis:us-east-1:123456789012:stream/kstream-test-stream"
    error_message = "the mapping must read the given stream"
  }
  assert {
    condition     = length(aws_lambda_event_source_mapping.this.filter_criteria) == 0
    error_message = "no filter unless patterns are given"
  }
  assert {
    condition     = module.failure_queue.kms_key_arn == null
    error_message = "failure queue uses the AWS-managed key by default"
  }
  assert {
    condition     = aws_lambda_event_source_mapping.this.tumbling_window_in_seconds == 0
    error_message = "no tumbling window by default"
  }
  assert {
    condition     = length(aws_kinesis_stream_consumer.this) == 0 && output.stream_consumer_arn == null
    error_message = "no enhanced fan-out consumer by default"
  }
}

run "each_setting_lands_in_its_own_argument" {
  command = plan

  # Distinct values: a swap of any two would fail one of the assertions.
  variables {
    batch_size                         = 7
    parallelization_factor             = 4
    maximum_retry_attempts             = 9
    maximum_record_age_in_seconds      = 3600
    maximum_batching_window_in_seconds = 5
    starting_position                  = "TRIM_HORIZON"
  }

  assert {
    condition     = aws_lambda_event_source_mapping.this.batch_size == 7
    error_message = "batch_size must come from var.batch_size"
  }
  assert {
    condition     = aws_lambda_event_source_mapping.this.parallelization_factor == 4
    error_message = "parallelization_factor must come from var.parallelization_factor"
  }
  assert {
    condition     = aws_lambda_event_source_mapping.this.maximum_retry_attempts == 9
    error_message = "maximum_retry_attempts must come from var.maximum_retry_attempts"
  }
  assert {
    condition     = aws_lambda_event_source_mapping.this.maximum_record_age_in_seconds == 3600
    error_message = "maximum_record_age_in_seconds must come from its variable"
  }
  assert {
    condition     = aws_lambda_event_source_mapping.this.maximum_batching_window_in_seconds == 5
    error_message = "the batching window must come from its variable"
  }
  assert {
    condition     = aws_lambda_event_source_mapping.this.starting_position == "TRIM_HORIZON"
    error_message = "starting position must come from its variable"
  }
}

run "on_failure_goes_to_the_encrypted_queue_and_iam_is_scoped" {
  command = apply

  assert {
    condition     = aws_lambda_event_source_mapping.this.destination_config[0].on_failure[0].destination_arn == "arn:aws:sqs:us-east-1:123456789012:kstream-test-failures"
    error_message = "on-failure destination must be the module's queue"
  }
  assert {
    condition     = output.failure_queue_name == "kstream-test-failures"
    error_message = "failure queue must be named <name>-failures"
  }
  assert {
    condition     = aws_iam_role_policy.consumer.role == "kstream-test-consumer-role"
    error_message = "permissions must go on the function's role"
  }
  assert {
    condition = jsondecode(aws_iam_role_policy.consumer.policy).Statement[0].Action == [
      "kinesis:DescribeStream",
      "kinesis:DescribeStreamSummary",
      "kinesis:GetRecords",
      "kinesis:GetShardIterator",
      "kinesis:ListShards",
    ]
    error_message = "stream read actions must be exactly the polling set"
  }
  assert {
    condition     = jsondecode(aws_iam_role_policy.consumer.policy).Statement[0].Resource == ["arn:aws:kinesis:us-east-1:123456789012:stream/kstream-test-stream"]
    error_message = "stream read must be scoped to the stream ARN"
  }
  assert {
    condition = (
      jsondecode(aws_iam_role_policy.consumer.policy).Statement[1].Action == ["sqs:SendMessage"] &&
      jsondecode(aws_iam_role_policy.consumer.policy).Statement[1].Resource == ["arn:aws:sqs:us-east-1:123456789012:kstream-test-failures"]
    )
    error_message = "only SendMessage, only on the failure queue"
  }
  assert {
    condition     = length(jsondecode(aws_iam_role_policy.consumer.policy).Statement) == 2
    error_message = "no KMS statements with AWS-managed keys"
  }
  assert {
    condition = alltrue([
      for s in jsondecode(aws_iam_role_policy.consumer.policy).Statement : !contains(s.Resource, "*")
    ])
    error_message = "no wildcard resources"
  }
}

run "customer_keys_add_scoped_kms_grants" {
  command = apply

  variables {
    stream_kms_key_arn        = "arn:aws:kms:us-east-1:123456789012:key/stream-key"
    failure_queue_kms_key_arn = "arn:aws:kms:us-east-1:123456789012:key/queue-key"
  }

  assert {
    condition = (
      jsondecode(aws_iam_role_policy.consumer.policy).Statement[2].Action == ["kms:Decrypt"] &&
      jsondecode(aws_iam_role_policy.consumer.policy).Statement[2].Resource == ["arn:aws:kms:us-east-1:123456789012:key/stream-key"]
    )
    error_message = "stream CMK needs kms:Decrypt on that key only"
  }
  assert {
    condition = (
      jsondecode(aws_iam_role_policy.consumer.policy).Statement[3].Action == ["kms:GenerateDataKey", "kms:Decrypt"] &&
      jsondecode(aws_iam_role_policy.consumer.policy).Statement[3].Resource == ["arn:aws:kms:us-east-1:123456789012:key/queue-key"]
    )
    error_message = "queue CMK needs GenerateDataKey and Decrypt on that key only"
  }
}

run "filters_and_timestamp" {
  command = plan

  variables {
    filter_patterns             = [jsonencode({ data = { ticker = ["AMZN"] } })]
    starting_position           = "AT_TIMESTAMP"
    starting_position_timestamp = "2026-01-01T00:00:00Z"
  }

  assert {
    condition     = one(aws_lambda_event_source_mapping.this.filter_criteria[0].filter).pattern == "{\"data\":{\"ticker\":[\"AMZN\"]}}"
    error_message = "filter patterns must be passed as given"
  }
  assert {
    condition     = aws_lambda_event_source_mapping.this.starting_position_timestamp == "2026-01-01T00:00:00Z"
    error_message = "the timestamp must be passed for AT_TIMESTAMP"
  }
}

run "at_timestamp_without_timestamp_fails" {
  command = plan
  variables { starting_position = "AT_TIMESTAMP" }
  expect_failures = [aws_lambda_event_source_mapping.this]
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

run "rejects_retries_minus_2" {
  command = plan
  variables { maximum_retry_attempts = -2 }
  expect_failures = [var.maximum_retry_attempts]
}

run "rejects_retries_10001" {
  command = plan
  variables { maximum_retry_attempts = 10001 }
  expect_failures = [var.maximum_retry_attempts]
}

run "accepts_infinite_retries" {
  command = plan
  variables { maximum_retry_attempts = -1 }
  assert {
    condition     = aws_lambda_event_source_mapping.this.maximum_retry_attempts == -1
    error_message = "-1 (until expiry) must be accepted"
  }
}

run "rejects_record_age_59" {
  command = plan
  variables { maximum_record_age_in_seconds = 59 }
  expect_failures = [var.maximum_record_age_in_seconds]
}

run "rejects_record_age_over_a_week" {
  command = plan
  variables { maximum_record_age_in_seconds = 604801 }
  expect_failures = [var.maximum_record_age_in_seconds]
}

run "rejects_batching_window_301" {
  command = plan
  variables { maximum_batching_window_in_seconds = 301 }
  expect_failures = [var.maximum_batching_window_in_seconds]
}

run "rejects_bad_starting_position" {
  command = plan
  variables { starting_position = "EARLIEST" }
  expect_failures = [var.starting_position]
}

run "rejects_invalid_filter_json" {
  command = plan
  variables { filter_patterns = ["{not json"] }
  expect_failures = [var.filter_patterns]
}

run "rejects_non_stream_arn" {
  command = plan
  variables { stream_arn = "arn:aws:sqs:us-east-1:123456789012:q" }
  expect_failures = [var.stream_arn]
}

run "tumbling_window_reaches_the_mapping" {
  command = plan

  variables {
    tumbling_window_in_seconds = 60
  }

  assert {
    condition     = aws_lambda_event_source_mapping.this.tumbling_window_in_seconds == 60
    error_message = "tumbling_window_in_seconds must come from its variable"
  }
  assert {
    condition     = aws_lambda_event_source_mapping.this.parallelization_factor == 1
    error_message = "a windowed mapping keeps parallelization 1"
  }
}

run "accepts_window_bounds" {
  command = plan
  variables { tumbling_window_in_seconds = 900 }
  assert {
    condition     = aws_lambda_event_source_mapping.this.tumbling_window_in_seconds == 900
    error_message = "900 s (15 minutes, Lambda's maximum) must be accepted"
  }
}

run "rejects_window_901" {
  command = plan
  variables { tumbling_window_in_seconds = 901 }
  expect_failures = [var.tumbling_window_in_seconds]
}

run "rejects_window_minus_1" {
  command = plan
  variables { tumbling_window_in_seconds = -1 }
  expect_failures = [var.tumbling_window_in_seconds]
}

run "rejects_fractional_window" {
  command = plan
  variables { tumbling_window_in_seconds = 1.5 }
  expect_failures = [var.tumbling_window_in_seconds]
}

run "rejects_parallelization_2_with_a_window" {
  command = plan
  variables {
    tumbling_window_in_seconds = 60
    parallelization_factor     = 2
  }
  expect_failures = [var.parallelization_factor]
}

run "accepts_parallelization_2_without_a_window" {
  command = plan
  variables { parallelization_factor = 2 }
  assert {
    condition     = aws_lambda_event_source_mapping.this.parallelization_factor == 2
    error_message = "parallelization above 1 is fine without a window"
  }
}

run "enhanced_fan_out_reads_through_a_consumer" {
  command = apply

  variables {
    enhanced_fan_out = true
  }

  assert {
    condition     = aws_kinesis_stream_consumer.this[0].name == "kstream-test-consumer" && aws_kinesis_stream_consumer.this[0].stream_arn == "arn:aws:kinesis:us-east-1:123456789012:stream/kstream-test-stream"
    error_message = "the consumer must be <name>-consumer, registered on the stream"
  }
  assert {
    condition     = aws_lambda_event_source_mapping.this.event_source_arn == output.stream_consumer_arn && output.stream_consumer_arn == "arn:aws:kinesis:us-east-1:123456789012:stream/kstream-test-stream/consumer/kstream-test-consumer:1700000000"
    error_message = "the mapping must read the consumer's ARN"
  }
  assert {
    condition     = output.settings.event_source_arn == output.stream_consumer_arn
    error_message = "the settings output must show the consumer as the source"
  }
  assert {
    condition = (
      jsondecode(aws_iam_role_policy.consumer.policy).Statement[2].Sid == "ReadStreamConsumer" &&
      jsondecode(aws_iam_role_policy.consumer.policy).Statement[2].Action == ["kinesis:DescribeStreamConsumer", "kinesis:SubscribeToShard"] &&
      jsondecode(aws_iam_role_policy.consumer.policy).Statement[2].Resource == [output.stream_consumer_arn]
    )
    error_message = "SubscribeToShard and DescribeStreamConsumer on the consumer ARN only"
  }
  assert {
    condition     = jsondecode(aws_iam_role_policy.consumer.policy).Statement[0].Resource == ["arn:aws:kinesis:us-east-1:123456789012:stream/kstream-test-stream"]
    error_message = "the stream actions stay scoped to the stream"
  }
}

run "enhanced_fan_out_consumer_name" {
  command = plan
  variables {
    enhanced_fan_out               = true
    enhanced_fan_out_consumer_name = "analytics"
  }
  assert {
    condition     = aws_kinesis_stream_consumer.this[0].name == "analytics"
    error_message = "the consumer name must come from its variable"
  }
}

run "rejects_bad_consumer_name" {
  command = plan
  variables { enhanced_fan_out_consumer_name = "a b" }
  expect_failures = [var.enhanced_fan_out_consumer_name]
}
