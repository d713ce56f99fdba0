# The two optional parts, off by default: the Managed Flink application (managed-flink module) and
# the EC2 producer host (ec2-producer-host module). Their own settings are tested in their modules.
mock_provider "aws" {
  source = "./tests/mocks"
}

# The application's logging option must be an ARN (the provider checks it even when mocked).
override_resource {
  target = module.flink[0].aws_cloudwatch_log_stream.this
  values = { arn = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/kinesis-analytics/kstream-p2-flink:log-stream:application" }
}

run "both_off_by_default" {
  command = plan

  assert {
    condition     = length(module.flink) == 0 && length(module.producer_host) == 0
    error_message = "neither the Flink application nor the producer host is deployed by default"
  }
  assert {
    condition     = output.flink_application_name == null && output.producer_host_instance_id == null
    error_message = "their outputs are null when off"
  }
}

run "flink_runs_the_lambdas_query_on_its_own_prefixes" {
  command = apply

  variables {
    flink_enabled              = true
    price_threshold            = 42.5
    tumbling_window_in_seconds = 120
  }

  assert {
    condition     = output.flink_application_name == "kstream-p2-flink"
    error_message = "the application is <prefix>-flink"
  }
  assert {
    condition = (
      module.flink[0].properties["input.stream.arn"] == "arn:aws:kinesis:us-east-1:123456789012:stream/kstream-p2-stream" &&
      module.flink[0].properties["output.bucket"] == module.bucket.bucket_name &&
      module.flink[0].properties["output.rows.prefix"] == "flink/filtered/" &&
      module.flink[0].properties["output.aggregates.prefix"] == "flink/aggregates/"
    )
    error_message = "Flink reads the pattern's stream and writes its own prefixes of the pattern's bucket"
  }
  assert {
    condition     = module.flink[0].properties["price.threshold"] == "42.5" && module.flink[0].properties["window.seconds"] == "120"
    error_message = "Flink runs the Lambda's threshold and window, so the two can be compared"
  }
}

run "producer_host_writes_the_stream" {
  command = apply

  variables {
    producer_host_enabled       = true
    producer_host_vpc_id        = "vpc-0123456789abcdef0"
    producer_host_subnet_id     = "subnet-0123456789abcdef0"
    producer_host_binary_bucket = "acme-artifacts"
    producer_host_binary_key    = "bin/aarch64/kstream"
    producer_host_binary_sha256 = "0000000000000000000000000000000000000000000000000000000000000abc"
  }

  assert {
    condition     = output.producer_host_instance_id == module.producer_host[0].instance_id && output.producer_host_instance_id != null
    error_message = "the host is deployed when enabled, its id an output"
  }
  assert {
    condition     = strcontains(module.producer_host[0].produce_command, "--stream kstream-p2-stream --region us-east-1") && strcontains(module.producer_host[0].produce_command, "--event-time-format sql")
    error_message = "the host produces into the pattern's stream, event_time in the form the Flink table reads"
  }
}

run "rejects_an_enabled_host_without_a_subnet" {
  command = plan
  variables {
    producer_host_enabled = true
  }
  expect_failures = [var.producer_host_enabled]
}

run "rejects_a_flink_prefix_inside_the_lambdas" {
  command = plan
  variables {
    flink_rows_prefix = "filtered/flink/"
  }
  expect_failures = [var.flink_rows_prefix]
}
