# The whole pattern with a mocked provider (tests/mocks): wiring between modules, names from the
# prefix, the dashboard, a created or an existing stream, and the pattern's own variable
# validation. A value the pattern only hands to a module is rejected by that module's
# validation: tests/rejected/ (run by scripts/test-terraform.sh, which expects each to fail).
mock_provider "aws" {
  source = "./tests/mocks"
}

# Processor parameters are a set in the provider schema; the assertions turn them into a
# name => value map: { for x in <processor>.parameters : x.parameter_name => x.parameter_value }.

run "defaults" {
  command = apply

  assert {
    condition     = output.stream_name == "kstream-p3-stream" && output.delivery_stream_name == "kstream-p3-delivery" && output.function_name == "kstream-p3-transform"
    error_message = "names come from name_prefix"
  }
  assert {
    condition     = length(module.stream) == 1 && output.stream_arn == "arn:aws:kinesis:us-east-1:123456789012:stream/kstream-p3-stream" && module.firehose.source_stream_arn == output.stream_arn
    error_message = "without stream_arn the pattern creates its stream and the delivery stream reads it"
  }
  assert {
    condition     = output.bucket_name == "kstream-p3-123456789012-us-east-1"
    error_message = "the bucket name is unique per account and region"
  }
  assert {
    condition     = output.error_output_prefix == "errors/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/!{firehose:error-output-type}"
    error_message = "the reference's error prefix"
  }
  assert {
    condition     = output.data_prefix == "data/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/"
    error_message = "the reference's data prefix"
  }
  assert {
    condition     = output.glue_database_name == "kstream_p3" && output.glue_table_name == "records" && output.dashboard_name == "kstream-p3-dashboard"
    error_message = "glue database/table and dashboard outputs"
  }
  assert {
    condition     = module.firehose.processors[0].type == "Lambda" && toset(keys(module.firehose.lambda_processor_settings)) == toset(["LambdaArn", "NumberOfRetries", "RoleArn", "BufferSizeInMBs", "BufferIntervalInSeconds"])
    error_message = "the transform is the Lambda processor with all five parameters"
  }
  assert {
    condition = (
      module.firehose.lambda_processor_settings.LambdaArn == "arn:aws:lambda:us-east-1:123456789012:function:kstream-p3-transform:$LATEST" &&
      module.firehose.lambda_processor_settings.BufferSizeInMBs == "1" &&
      module.firehose.lambda_processor_settings.BufferIntervalInSeconds == "60" &&
      module.firehose.lambda_processor_settings.NumberOfRetries == "3"
    )
    error_message = "processor defaults: the transform's ARN, 1 MB, 60 s, 3 retries"
  }
  assert {
    condition     = module.firehose.role_name == "kstream-p3-firehose"
    error_message = "the Firehose role"
  }
}

run "transform_configuration_reaches_the_function" {
  command = apply

  variables {
    transform_template       = "{ \"reading date\":  \"{{'reading date'}}\", \"a\": {{data}}, \"b\": {{b}}, \"c\": {{c}} }"
    transform_flatten        = true
    transform_filter         = "{{eq ticker \"AMZN\"}}"
    transform_partition_keys = { ticker = "{{ticker}}" }
  }

  assert {
    condition = local.transform_environment == {
      TEMPLATE          = "{ \"reading date\":  \"{{'reading date'}}\", \"a\": {{data}}, \"b\": {{b}}, \"c\": {{c}} }"
      OUTPUT_FORMAT     = "json"
      FLATTEN           = "true"
      FILTER            = "{{eq ticker \"AMZN\"}}"
      PARTITION_KEYS    = "{\"ticker\":\"{{ticker}}\"}"
      NEWLINE_DELIMITER = "true"
    }
    error_message = "template, flatten, filter, partition keys and newline are passed as environment variables"
  }
}

run "no_template_passes_records_through" {
  command = plan

  variables {
    transform_template = null
    transform_newline  = false
  }

  assert {
    condition     = !contains(keys(local.transform_environment), "TEMPLATE") && local.transform_environment.NEWLINE_DELIMITER == "false"
    error_message = "without a template no TEMPLATE variable is set (records are re-written as compact JSON)"
  }
}

run "seed_buffer_size_lower_bound_accepted" {
  command = apply
  variables {
    buffer_size_mb          = 0.2
    buffer_interval_seconds = 60
  }
  assert {
    condition     = module.firehose.processors[0].parameters.BufferSizeInMBs == "0.2" && module.firehose.lambda_processor_settings.BufferIntervalInSeconds == "60"
    error_message = "0.2 MB / 60 s reach the processor"
  }
}

run "seed_buffer_size_upper_bound_accepted" {
  command = apply
  variables {
    buffer_size_mb          = 3
    buffer_interval_seconds = 900
  }
  assert {
    condition     = module.firehose.processors[0].parameters.BufferSizeInMBs == "3" && module.firehose.processors[0].parameters.BufferIntervalInSeconds == "900"
    error_message = "3 MB / 900 s reach the processor"
  }
}

run "transform_timeout_over_firehose_limit" {
  command = plan
  variables {
    transform_timeout_seconds = 301
  }
  expect_failures = [var.transform_timeout_seconds]
}

# buffering_size_mb below 64 with dynamic partitioning is rejected by a precondition on the
# delivery stream in infra/modules/firehose-s3 (tested there: "dynamic_partitioning_needs_64_mb";
# `expect_failures` cannot name a resource inside a child module).

run "dynamic_partitioning_by_ticker_from_the_transform" {
  command = apply

  variables {
    dynamic_partitioning_enabled = true
    buffering_size_mb            = 64
    data_prefix                  = "tickers/ticker=!{partitionKeyFromLambda:ticker}/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/"
    transform_partition_keys     = { ticker = "{{ticker}}" }
    glue_partition_keys = [
      { name = "ticker", projection = { type = "injected" } },
      { name = "year", projection = { type = "integer", range = "2024,2099" } },
      { name = "month", projection = { type = "integer", range = "1,12", digits = "2" } },
      { name = "day", projection = { type = "integer", range = "1,31", digits = "2" } },
      { name = "hour", projection = { type = "integer", range = "0,23", digits = "2" } },
    ]
    glue_columns = [{ name = "price", type = "double" }, { name = "event_time", type = "string" }]
  }

  assert {
    condition     = module.glue.storage_location_template == "s3://kstream-p3-123456789012-us-east-1/tickers/ticker=$${ticker}/year=$${year}/month=$${month}/day=$${day}/hour=$${hour}/"
    error_message = "the Glue location template follows the partitioned data prefix"
  }
  assert {
    condition     = local.transform_environment.PARTITION_KEYS == "{\"ticker\":\"{{ticker}}\"}"
    error_message = "the transform is told which keys to return"
  }
}

run "alarms_notify_the_created_topic_and_use_names" {
  command = apply

  assert {
    condition     = output.alarm_topic_arn == "arn:aws:sns:us-east-1:123456789012:kstream-p3-alarms" && module.alarms.sns_kms_key_arn != null
    error_message = "by default a KMS-encrypted topic is created"
  }
  assert {
    condition     = toset(keys(module.firehose_alarms.alarm_names)) == toset(["firehose-data-freshness", "firehose-delivery-success", "firehose-throttled-get-records", "firehose-processing-success", "transform-errors", "transform-throttles"])
    error_message = "Firehose and transform alarms"
  }
  assert {
    condition     = contains(keys(output.alarm_names), "kinesis-iterator-age") && contains(keys(output.alarm_names), "firehose-data-freshness")
    error_message = "the stream's alarms are part of the pattern"
  }
}

run "existing_topic_and_no_topic" {
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
    condition     = module.firehose.source_stream_arn == "arn:aws:kinesis:us-east-1:123456789012:stream/orders"
    error_message = "the delivery stream must read the existing stream"
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
        for m in try(w.properties.metrics, []) : m[3] == "orders" if length(m) > 3 && m[0] == "AWS/Kinesis"
      ]
    ]))
    error_message = "the dashboard's stream widgets must show the existing stream"
  }
}

run "dashboard_uses_names_not_arns" {
  command = apply

  assert {
    condition = alltrue(flatten([
      for w in jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets : [
        for m in try(w.properties.metrics, []) : m[3] == "kstream-p3-delivery" if length(m) > 3 && m[0] == "AWS/Firehose"
      ]
    ]))
    error_message = "Firehose widgets use DeliveryStreamName = the name"
  }
  assert {
    condition = alltrue(flatten([
      for w in jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets : [
        for m in try(w.properties.metrics, []) : m[2] == "StreamName" && m[3] == "kstream-p3-stream" if length(m) > 3 && m[0] == "AWS/Kinesis"
      ]
    ]))
    error_message = "Kinesis widgets use StreamName"
  }
  assert {
    condition = alltrue(flatten([
      for w in jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets : [
        for m in try(w.properties.metrics, []) : m[3] == "kstream-p3-transform" if length(m) > 3 && m[0] == "AWS/Lambda"
      ]
    ]))
    error_message = "Lambda widgets use the function name"
  }
  assert {
    condition     = length([for w in jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets : w if w.type == "text"]) == 3
    error_message = "three sections: Kinesis, Firehose, transform"
  }
  assert {
    condition     = !strcontains(aws_cloudwatch_dashboard.this.dashboard_body, "deliverystream/")
    error_message = "no delivery stream ARN anywhere in the dashboard"
  }
}

run "bucket_is_hardened_and_tiered" {
  command = apply

  assert {
    condition     = module.bucket.policy_json != null && jsondecode(module.bucket.policy_json).Statement[0].Condition.Bool["aws:SecureTransport"] == "false"
    error_message = "TLS-only bucket policy"
  }
}

run "emulator_may_leave_out_the_tls_policy" {
  command = plan

  variables {
    bucket_tls_only_policy = false
    force_destroy          = true
  }

  assert {
    condition     = module.bucket.policy_json == null
    error_message = "no data bucket policy when the TLS deny is switched off"
  }
}

run "name_prefix_rules" {
  command = plan
  variables {
    name_prefix = "KStream"
  }
  expect_failures = [var.name_prefix]
}

################################################################################
# Object names: file extension and time zone reach the delivery stream
################################################################################

run "file_extension_and_time_zone_defaults" {
  command = plan
  assert {
    condition     = module.firehose.file_extension == null && module.firehose.custom_time_zone == "UTC"
    error_message = "by default Firehose names the extension (.gz) and the keys use UTC"
  }
}

run "file_extension_and_time_zone_pass_through" {
  command = apply
  variables {
    file_extension   = ".json.gz"
    custom_time_zone = "Asia/Tokyo"
  }
  assert {
    condition     = module.firehose.file_extension == ".json.gz" && module.firehose.custom_time_zone == "Asia/Tokyo"
    error_message = "file_extension and custom_time_zone reach the extended S3 destination"
  }
}

run "file_extension_upper_bound_accepted" {
  command = plan
  variables {
    file_extension   = ".abcdefghijklmnopqrstuvwxyz0123456789!-_.*'()xxxxx"
    custom_time_zone = "America/Argentina/Buenos_Aires"
  }
  assert {
    condition     = length(module.firehose.file_extension) == 50 && module.firehose.custom_time_zone == "America/Argentina/Buenos_Aires"
    error_message = "a 50-character extension and a three-part zone name are accepted"
  }
}

