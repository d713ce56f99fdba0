mock_provider "aws" {}

variables {
  name = "kstream-test-stream"
}

run "defaults_are_provisioned_two_shards_encrypted_24h" {
  command = plan

  assert {
    condition     = aws_kinesis_stream.this.shard_count == 2
    error_message = "default shard count must be 2"
  }
  assert {
    condition     = aws_kinesis_stream.this.stream_mode_details[0].stream_mode == "PROVISIONED"
    error_message = "default mode must be PROVISIONED"
  }
  assert {
    condition     = aws_kinesis_stream.this.retention_period == 24
    error_message = "default retention must be 24 hours"
  }
  assert {
    condition     = aws_kinesis_stream.this.encryption_type == "KMS" && aws_kinesis_stream.this.kms_key_id == "alias/aws/kinesis"
    error_message = "stream must be encrypted with the AWS-managed key by default"
  }
  assert {
    condition     = length(aws_kinesis_stream.this.shard_level_metrics) == 0
    error_message = "enhanced monitoring must be off by default"
  }
  assert {
    condition     = output.kms_key_arn == null
    error_message = "no customer key by default"
  }
}

run "customer_key_enhanced_metrics_long_retention" {
  command = plan

  variables {
    kms_key_arn            = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
    enhanced_monitoring    = true
    retention_period_hours = 8760
    shard_count            = 200
  }

  assert {
    condition     = aws_kinesis_stream.this.kms_key_id == "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
    error_message = "the customer key must be used"
  }
  assert {
    condition     = contains(aws_kinesis_stream.this.shard_level_metrics, "IteratorAgeMilliseconds") && length(aws_kinesis_stream.this.shard_level_metrics) == 7
    error_message = "enhanced monitoring must turn on all seven shard-level metrics"
  }
  assert {
    condition     = aws_kinesis_stream.this.retention_period == 8760 && aws_kinesis_stream.this.shard_count == 200
    error_message = "upper bounds must be accepted"
  }
}

run "on_demand_has_no_shard_count" {
  command = plan

  variables {
    stream_mode = "ON_DEMAND"
  }

  assert {
    condition     = aws_kinesis_stream.this.shard_count == null && aws_kinesis_stream.this.stream_mode_details[0].stream_mode == "ON_DEMAND"
    error_message = "on-demand streams must not set shard_count"
  }
}

run "rejects_zero_shards" {
  command = plan
  variables { shard_count = 0 }
  expect_failures = [var.shard_count]
}

run "rejects_201_shards" {
  command = plan
  variables { shard_count = 201 }
  expect_failures = [var.shard_count]
}

run "rejects_fractional_shards" {
  command = plan
  variables { shard_count = 1.5 }
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

run "rejects_unknown_mode" {
  command = plan
  variables { stream_mode = "provisioned" }
  expect_failures = [var.stream_mode]
}

run "rejects_key_that_is_not_an_arn" {
  command = plan
  variables { kms_key_arn = "alias/my-key" }
  expect_failures = [var.kms_key_arn]
}

run "rejects_bad_name" {
  command = plan
  variables { name = "bad name" }
  expect_failures = [var.name]
}

run "rejects_aws_prefixed_tag" {
  command = plan
  variables { tags = { "aws:owner" = "x" } }
  expect_failures = [var.tags]
}
