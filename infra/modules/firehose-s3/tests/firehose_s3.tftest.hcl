mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "123456789012"
    }
  }
  mock_data "aws_region" {
    defaults = {
      name = "us-east-1"
    }
  }
  mock_data "aws_partition" {
    defaults = {
      partition = "aws"
    }
  }
  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::123456789012:role/kstream-p3-firehose"
    }
  }
  mock_resource "aws_kinesis_firehose_delivery_stream" {
    defaults = {
      arn = "arn:aws:firehose:us-east-1:123456789012:deliverystream/kstream-p3-delivery"
    }
  }
}

variables {
  name_prefix         = "kstream-p3"
  kinesis_stream_arn  = "arn:aws:kinesis:us-east-1:123456789012:stream/kstream-p3-stream"
  bucket_arn          = "arn:aws:s3:::kstream-p3-123456789012-us-east-1"
  lambda_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:kstream-p3-transform"
}

# Processor parameters are a set in the provider schema; the assertions turn them into a
# name => value map: { for x in <processor>.parameters : x.parameter_name => x.parameter_value }.

run "defaults_match_the_reference_and_add_error_logging" {
  command = apply

  assert {
    condition     = aws_kinesis_firehose_delivery_stream.this.name == "kstream-p3-delivery" && aws_kinesis_firehose_delivery_stream.this.destination == "extended_s3"
    error_message = "an extended_s3 delivery stream named <prefix>-delivery"
  }
  assert {
    condition     = aws_kinesis_firehose_delivery_stream.this.kinesis_source_configuration[0].kinesis_stream_arn == "arn:aws:kinesis:us-east-1:123456789012:stream/kstream-p3-stream"
    error_message = "the source is the Kinesis stream"
  }
  assert {
    condition     = aws_kinesis_firehose_delivery_stream.this.extended_s3_configuration[0].buffering_size == 5 && aws_kinesis_firehose_delivery_stream.this.extended_s3_configuration[0].buffering_interval == 300
    error_message = "buffering defaults are 5 MB / 300 s"
  }
  assert {
    condition     = aws_kinesis_firehose_delivery_stream.this.extended_s3_configuration[0].compression_format == "GZIP"
    error_message = "compression defaults to GZIP"
  }
  assert {
    condition     = aws_kinesis_firehose_delivery_stream.this.extended_s3_configuration[0].prefix == "data/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/"
    error_message = "the data prefix is the reference's Hive-style default"
  }
  assert {
    condition     = aws_kinesis_firehose_delivery_stream.this.extended_s3_configuration[0].error_output_prefix == "errors/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/!{firehose:error-output-type}"
    error_message = "the error prefix is the reference's default"
  }
  assert {
    condition     = length(aws_kinesis_firehose_delivery_stream.this.extended_s3_configuration[0].dynamic_partitioning_configuration) == 0
    error_message = "dynamic partitioning is off by default"
  }
  assert {
    condition     = aws_kinesis_firehose_delivery_stream.this.extended_s3_configuration[0].s3_backup_mode == "Disabled" && length(aws_kinesis_firehose_delivery_stream.this.extended_s3_configuration[0].data_format_conversion_configuration) == 0
    error_message = "no backup and no format conversion by default"
  }
  assert {
    condition = (
      aws_kinesis_firehose_delivery_stream.this.extended_s3_configuration[0].cloudwatch_logging_options[0].enabled &&
      aws_kinesis_firehose_delivery_stream.this.extended_s3_configuration[0].cloudwatch_logging_options[0].log_group_name == "/aws/kinesisfirehose/kstream-p3-delivery" &&
      aws_kinesis_firehose_delivery_stream.this.extended_s3_configuration[0].cloudwatch_logging_options[0].log_stream_name == "DestinationDelivery"
    )
    error_message = "error logging goes to /aws/kinesisfirehose/<name>, stream DestinationDelivery"
  }
  assert {
    condition     = aws_cloudwatch_log_group.this[0].retention_in_days == 30
    error_message = "the error log group keeps 30 days"
  }
}

run "transform_lambda_processor_parameters" {
  command = apply

  assert {
    condition     = aws_kinesis_firehose_delivery_stream.this.extended_s3_configuration[0].processing_configuration[0].enabled
    error_message = "processing must be enabled with a Lambda"
  }
  assert {
    condition     = [for p in aws_kinesis_firehose_delivery_stream.this.extended_s3_configuration[0].processing_configuration[0].processors : p.type] == ["Lambda"]
    error_message = "only the Lambda processor by default"
  }
  assert {
    condition = {
      for x in aws_kinesis_firehose_delivery_stream.this.extended_s3_configuration[0].processing_configuration[0].processors[0].parameters : x.parameter_name => x.parameter_value
    } == { LambdaArn = "arn:aws:lambda:us-east-1:123456789012:function:kstream-p3-transform:$LATEST" }
    error_message = "with default settings only the qualified LambdaArn is written (the provider drops Firehose's defaults when it reads back)"
  }
  assert {
    condition = output.lambda_processor_settings == tomap({
      LambdaArn               = "arn:aws:lambda:us-east-1:123456789012:function:kstream-p3-transform:$LATEST"
      NumberOfRetries         = "3"
      RoleArn                 = "arn:aws:iam::123456789012:role/kstream-p3-firehose"
      BufferSizeInMBs         = "1"
      BufferIntervalInSeconds = "60"
    })
    error_message = "effective settings: qualified ARN, 3 retries, the role, 1 MB / 60 s"
  }
}

run "seed_lower_bounds_accepted" {
  command = apply

  variables {
    lambda_buffer_size_mb          = 0.2
    lambda_buffer_interval_seconds = 60
    lambda_number_of_retries       = 0
  }

  assert {
    condition = {
      for x in aws_kinesis_firehose_delivery_stream.this.extended_s3_configuration[0].processing_configuration[0].processors[0].parameters : x.parameter_name => x.parameter_value
      } == {
      LambdaArn       = "arn:aws:lambda:us-east-1:123456789012:function:kstream-p3-transform:$LATEST"
      BufferSizeInMBs = "0.2"
      NumberOfRetries = "0"
    }
    error_message = "0.2 MB must pass through with its decimal, and 0 retries"
  }
}

run "seed_upper_bounds_accepted" {
  command = apply

  variables {
    lambda_buffer_size_mb          = 3
    lambda_buffer_interval_seconds = 900
    lambda_number_of_retries       = 300
    lambda_function_arn            = "arn:aws:lambda:us-east-1:123456789012:function:kstream-p3-transform:live"
  }

  assert {
    condition = {
      for x in aws_kinesis_firehose_delivery_stream.this.extended_s3_configuration[0].processing_configuration[0].processors[0].parameters : x.parameter_name => x.parameter_value
      } == {
      LambdaArn               = "arn:aws:lambda:us-east-1:123456789012:function:kstream-p3-transform:live"
      NumberOfRetries         = "300"
      BufferSizeInMBs         = "3"
      BufferIntervalInSeconds = "900"
    }
    error_message = "3 MB / 900 s / 300 retries and a qualified ARN pass through unchanged"
  }
  assert {
    condition     = jsondecode(aws_iam_role_policy.this.policy).Statement[2].Resource == ["arn:aws:lambda:us-east-1:123456789012:function:kstream-p3-transform", "arn:aws:lambda:us-east-1:123456789012:function:kstream-p3-transform:*"]
    error_message = "the invoke grant names the unqualified function and its versions/aliases"
  }
}

run "lambda_buffer_size_below_seed_range" {
  command = plan
  variables {
    lambda_buffer_size_mb = 0.19
  }
  expect_failures = [var.lambda_buffer_size_mb]
}

run "lambda_buffer_size_above_seed_range" {
  command = plan
  variables {
    lambda_buffer_size_mb = 3.01
  }
  expect_failures = [var.lambda_buffer_size_mb]
}

run "lambda_buffer_interval_below_range" {
  command = plan
  variables {
    lambda_buffer_interval_seconds = 59
  }
  expect_failures = [var.lambda_buffer_interval_seconds]
}

run "lambda_buffer_interval_above_range" {
  command = plan
  variables {
    lambda_buffer_interval_seconds = 901
  }
  expect_failures = [var.lambda_buffer_interval_seconds]
}

run "lambda_retries_above_range" {
  command = plan
  variables {
    lambda_number_of_retries = 301
  }
  expect_failures = [var.lambda_number_of_retries]
}

run "buffering_size_bounds" {
  command = plan
  variables {
    buffering_size_mb = 129
  }
  expect_failures = [var.buffering_size_mb]
}

run "buffering_size_zero" {
  command = plan
  variables {
    buffering_size_mb = 0
  }
  expect_failures = [var.buffering_size_mb]
}

run "buffering_interval_below_range" {
  command = plan
  variables {
    buffering_interval_seconds = 59
  }
  expect_failures = [var.buffering_interval_seconds]
}

run "buffering_interval_above_range" {
  command = plan
  variables {
    buffering_interval_seconds = 901
  }
  expect_failures = [var.buffering_interval_seconds]
}

run "buffering_bounds_accepted" {
  command = plan
  variables {
    buffering_size_mb          = 128
    buffering_interval_seconds = 60
  }
  assert {
    condition     = aws_kinesis_firehose_delivery_stream.this.extended_s3_configuration[0].buffering_size == 128 && aws_kinesis_firehose_delivery_stream.this.extended_s3_configuration[0].buffering_interval == 60
    error_message = "128 MB and 60 s are valid"
  }
}

run "compression_enum" {
  command = plan
  variables {
    compression_format = "gzip"
  }
  expect_failures = [var.compression_format]
}

run "compression_snappy_accepted" {
  command = plan
  variables {
    compression_format = "HADOOP_SNAPPY"
  }
  assert {
    condition     = aws_kinesis_firehose_delivery_stream.this.extended_s3_configuration[0].compression_format == "HADOOP_SNAPPY"
    error_message = "HADOOP_SNAPPY passes through"
  }
}

run "dynamic_partitioning_needs_64_mb" {
  command = plan
  variables {
    dynamic_partitioning_enabled = true
    buffering_size_mb            = 63
    prefix                       = "data/ticker=!{partitionKeyFromLambda:ticker}/"
  }
  expect_failures = [aws_kinesis_firehose_delivery_stream.this]
}

run "dynamic_partitioning_retry_above_range" {
  command = plan
  variables {
    dynamic_partitioning_retry_seconds = 7201
  }
  expect_failures = [var.dynamic_partitioning_retry_seconds]
}

run "dynamic_partitioning_with_lambda_keys" {
  command = apply

  variables {
    dynamic_partitioning_enabled       = true
    dynamic_partitioning_retry_seconds = 7200
    buffering_size_mb                  = 64
    prefix                             = "data/ticker=!{partitionKeyFromLambda:ticker}/year=!{timestamp:yyyy}/"
    append_newline_delimiter           = true
  }

  assert {
    condition     = aws_kinesis_firehose_delivery_stream.this.extended_s3_configuration[0].dynamic_partitioning_configuration[0].enabled && aws_kinesis_firehose_delivery_stream.this.extended_s3_configuration[0].dynamic_partitioning_configuration[0].retry_duration == 7200
    error_message = "dynamic partitioning on with the retry duration"
  }
  assert {
    condition     = [for p in aws_kinesis_firehose_delivery_stream.this.extended_s3_configuration[0].processing_configuration[0].processors : p.type] == ["Lambda", "AppendDelimiterToRecord"]
    error_message = "Lambda (keys in metadata) then the newline delimiter"
  }
  assert {
    condition = {
      for x in aws_kinesis_firehose_delivery_stream.this.extended_s3_configuration[0].processing_configuration[0].processors[1].parameters : x.parameter_name => x.parameter_value
    } == { Delimiter = "\\n" }
    error_message = "the delimiter is the escaped newline"
  }
}

run "dynamic_partitioning_with_jq_keys" {
  command = apply

  variables {
    lambda_function_arn          = null
    dynamic_partitioning_enabled = true
    buffering_size_mb            = 128
    metadata_extraction_query    = "{ticker: .ticker}"
    prefix                       = "data/ticker=!{partitionKeyFromQuery:ticker}/"
  }

  assert {
    condition     = [for p in aws_kinesis_firehose_delivery_stream.this.extended_s3_configuration[0].processing_configuration[0].processors : p.type] == ["MetadataExtraction"]
    error_message = "JQ extraction only"
  }
  assert {
    condition = {
      for x in aws_kinesis_firehose_delivery_stream.this.extended_s3_configuration[0].processing_configuration[0].processors[0].parameters : x.parameter_name => x.parameter_value
    } == { MetadataExtractionQuery = "{ticker: .ticker}", JsonParsingEngine = "JQ-1.6" }
    error_message = "MetadataExtraction with the query and JQ-1.6"
  }
  assert {
    condition     = !contains([for s in jsondecode(aws_iam_role_policy.this.policy).Statement : s.Sid], "InvokeTransform")
    error_message = "no Lambda grant without a Lambda"
  }
}

run "dynamic_partitioning_needs_a_key_in_the_prefix" {
  command = plan
  variables {
    dynamic_partitioning_enabled = true
    buffering_size_mb            = 64
  }
  expect_failures = [aws_kinesis_firehose_delivery_stream.this]
}

run "query_keys_need_a_query" {
  command = plan
  variables {
    dynamic_partitioning_enabled = true
    buffering_size_mb            = 64
    prefix                       = "data/ticker=!{partitionKeyFromQuery:ticker}/"
  }
  expect_failures = [aws_kinesis_firehose_delivery_stream.this]
}

run "partition_keys_need_dynamic_partitioning" {
  command = plan
  variables {
    prefix = "data/ticker=!{partitionKeyFromLambda:ticker}/"
  }
  expect_failures = [aws_kinesis_firehose_delivery_stream.this]
}

run "error_prefix_needs_error_output_type" {
  command = plan
  variables {
    error_output_prefix = "errors/"
  }
  expect_failures = [var.error_output_prefix]
}

run "least_privilege_policy" {
  command = apply

  assert {
    condition = jsondecode(aws_iam_role.this.assume_role_policy).Statement[0] == {
      Sid       = "FirehoseAssumeRole"
      Effect    = "Allow"
      Action    = "sts:AssumeRole"
      Principal = { Service = "firehose.amazonaws.com" }
      Condition = { StringEquals = { "sts:ExternalId" = "123456789012" } }
    }
    error_message = "only Firehose for this account may assume the role"
  }
  assert {
    condition = jsondecode(aws_iam_role_policy.this.policy).Statement == [
      {
        Sid      = "ReadSourceStream"
        Effect   = "Allow"
        Action   = ["kinesis:DescribeStream", "kinesis:DescribeStreamSummary", "kinesis:GetShardIterator", "kinesis:GetRecords", "kinesis:ListShards"]
        Resource = ["arn:aws:kinesis:us-east-1:123456789012:stream/kstream-p3-stream"]
      },
      {
        Sid      = "WriteDestinationBucket"
        Effect   = "Allow"
        Action   = ["s3:AbortMultipartUpload", "s3:GetBucketLocation", "s3:GetObject", "s3:ListBucket", "s3:ListBucketMultipartUploads", "s3:PutObject"]
        Resource = ["arn:aws:s3:::kstream-p3-123456789012-us-east-1", "arn:aws:s3:::kstream-p3-123456789012-us-east-1/*"]
      },
      {
        Sid      = "InvokeTransform"
        Effect   = "Allow"
        Action   = ["lambda:InvokeFunction", "lambda:GetFunctionConfiguration"]
        Resource = ["arn:aws:lambda:us-east-1:123456789012:function:kstream-p3-transform", "arn:aws:lambda:us-east-1:123456789012:function:kstream-p3-transform:*"]
      },
      {
        Sid      = "WriteErrorLogs"
        Effect   = "Allow"
        Action   = ["logs:PutLogEvents"]
        Resource = ["arn:aws:logs:us-east-1:123456789012:log-group:/aws/kinesisfirehose/kstream-p3-delivery:log-stream:DestinationDelivery"]
      },
    ]
    error_message = "exactly: read the stream, write the bucket, invoke the transform, write its own log stream"
  }
}

run "kms_keys_are_granted_only_when_given" {
  command = apply

  variables {
    kinesis_stream_kms_key_arn = "arn:aws:kms:us-east-1:123456789012:key/stream-key"
    bucket_kms_key_arn         = "arn:aws:kms:us-east-1:123456789012:key/bucket-key"
  }

  assert {
    condition     = [for s in jsondecode(aws_iam_role_policy.this.policy).Statement : s if s.Sid == "DecryptSourceStream"][0].Resource == ["arn:aws:kms:us-east-1:123456789012:key/stream-key"]
    error_message = "kms:Decrypt on the stream key"
  }
  assert {
    condition     = [for s in jsondecode(aws_iam_role_policy.this.policy).Statement : s if s.Sid == "DecryptSourceStream"][0].Condition.StringEquals["kms:ViaService"] == "kinesis.us-east-1.amazonaws.com"
    error_message = "the stream key may only be used through Kinesis"
  }
  assert {
    condition     = [for s in jsondecode(aws_iam_role_policy.this.policy).Statement : s if s.Sid == "EncryptDestinationObjects"][0].Action == ["kms:GenerateDataKey", "kms:Decrypt"]
    error_message = "data keys from the bucket key"
  }
  assert {
    condition     = aws_kinesis_firehose_delivery_stream.this.extended_s3_configuration[0].kms_key_arn == "arn:aws:kms:us-east-1:123456789012:key/bucket-key"
    error_message = "Firehose encrypts objects with the bucket key"
  }
}

run "s3_backup" {
  command = apply

  variables {
    s3_backup_enabled    = true
    s3_backup_bucket_arn = "arn:aws:s3:::kstream-p3-backup"
  }

  assert {
    condition     = aws_kinesis_firehose_delivery_stream.this.extended_s3_configuration[0].s3_backup_mode == "Enabled"
    error_message = "backup mode Enabled"
  }
  assert {
    condition = (
      aws_kinesis_firehose_delivery_stream.this.extended_s3_configuration[0].s3_backup_configuration[0].bucket_arn == "arn:aws:s3:::kstream-p3-backup" &&
      aws_kinesis_firehose_delivery_stream.this.extended_s3_configuration[0].s3_backup_configuration[0].prefix == "source/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/" &&
      aws_kinesis_firehose_delivery_stream.this.extended_s3_configuration[0].s3_backup_configuration[0].cloudwatch_logging_options[0].log_stream_name == "BackupDelivery"
    )
    error_message = "backup bucket, prefix and its own log stream"
  }
  assert {
    condition     = contains([for s in jsondecode(aws_iam_role_policy.this.policy).Statement : s if s.Sid == "WriteDestinationBucket"][0].Resource, "arn:aws:s3:::kstream-p3-backup/*")
    error_message = "the role may write the backup bucket"
  }
  assert {
    condition     = length([for s in jsondecode(aws_iam_role_policy.this.policy).Statement : s if s.Sid == "WriteErrorLogs"][0].Resource) == 2
    error_message = "the role may write both log streams"
  }
}

run "parquet_conversion" {
  command = apply

  variables {
    parquet_conversion_enabled = true
    buffering_size_mb          = 64
    compression_format         = "UNCOMPRESSED"
    glue_database_name         = "kstream_p3"
    glue_table_name            = "records"
  }

  assert {
    condition     = aws_kinesis_firehose_delivery_stream.this.extended_s3_configuration[0].data_format_conversion_configuration[0].output_format_configuration[0].serializer[0].parquet_ser_de[0].compression == "SNAPPY"
    error_message = "Parquet with SNAPPY"
  }
  assert {
    condition     = length(aws_kinesis_firehose_delivery_stream.this.extended_s3_configuration[0].data_format_conversion_configuration[0].input_format_configuration[0].deserializer[0].open_x_json_ser_de) == 1
    error_message = "OpenX JSON deserializer"
  }
  assert {
    condition = (
      aws_kinesis_firehose_delivery_stream.this.extended_s3_configuration[0].data_format_conversion_configuration[0].schema_configuration[0].database_name == "kstream_p3" &&
      aws_kinesis_firehose_delivery_stream.this.extended_s3_configuration[0].data_format_conversion_configuration[0].schema_configuration[0].table_name == "records"
    )
    error_message = "schema from the Glue table"
  }
  assert {
    condition = [for s in jsondecode(aws_iam_role_policy.this.policy).Statement : s if s.Sid == "ReadParquetSchema"][0].Resource == [
      "arn:aws:glue:us-east-1:123456789012:catalog",
      "arn:aws:glue:us-east-1:123456789012:database/kstream_p3",
      "arn:aws:glue:us-east-1:123456789012:table/kstream_p3/records",
    ]
    error_message = "glue:GetTable* on the catalog, database and table only"
  }
}

run "parquet_needs_64_mb" {
  command = plan
  variables {
    parquet_conversion_enabled = true
    compression_format         = "UNCOMPRESSED"
    glue_database_name         = "kstream_p3"
    glue_table_name            = "records"
  }
  expect_failures = [aws_kinesis_firehose_delivery_stream.this]
}

run "parquet_needs_uncompressed" {
  command = plan
  variables {
    parquet_conversion_enabled = true
    buffering_size_mb          = 64
    glue_database_name         = "kstream_p3"
    glue_table_name            = "records"
  }
  expect_failures = [aws_kinesis_firehose_delivery_stream.this]
}

run "parquet_needs_a_table" {
  command = plan
  variables {
    parquet_conversion_enabled = true
    buffering_size_mb          = 64
    compression_format         = "UNCOMPRESSED"
  }
  expect_failures = [aws_kinesis_firehose_delivery_stream.this]
}

run "error_logging_off" {
  command = apply

  variables {
    error_logging_enabled = false
  }

  assert {
    condition     = length(aws_cloudwatch_log_group.this) == 0 && !aws_kinesis_firehose_delivery_stream.this.extended_s3_configuration[0].cloudwatch_logging_options[0].enabled
    error_message = "no log group and logging disabled"
  }
  assert {
    condition     = !contains([for s in jsondecode(aws_iam_role_policy.this.policy).Statement : s.Sid], "WriteErrorLogs")
    error_message = "no logs grant without logging"
  }
}

run "rejects_bad_stream_arn" {
  command = plan
  variables {
    kinesis_stream_arn = "kstream-p3-stream"
  }
  expect_failures = [var.kinesis_stream_arn]
}

run "rejects_bad_log_retention" {
  command = plan
  variables {
    log_retention_in_days = 2
  }
  expect_failures = [var.log_retention_in_days]
}

################################################################################
# Object names: file extension and time zone
################################################################################

run "file_extension_and_time_zone_defaults" {
  command = plan

  assert {
    condition     = aws_kinesis_firehose_delivery_stream.this.extended_s3_configuration[0].file_extension == null
    error_message = "no file_extension by default: Firehose derives it from the compression (.gz)"
  }
  assert {
    condition     = aws_kinesis_firehose_delivery_stream.this.extended_s3_configuration[0].custom_time_zone == "UTC"
    error_message = "custom_time_zone defaults to UTC"
  }
}

run "file_extension_and_time_zone_pass_through" {
  command = apply

  variables {
    file_extension   = ".json.gz"
    custom_time_zone = "America/New_York"
  }

  assert {
    condition     = aws_kinesis_firehose_delivery_stream.this.extended_s3_configuration[0].file_extension == ".json.gz"
    error_message = "file_extension is written to the extended S3 destination"
  }
  assert {
    condition     = aws_kinesis_firehose_delivery_stream.this.extended_s3_configuration[0].custom_time_zone == "America/New_York"
    error_message = "custom_time_zone is written to the extended S3 destination"
  }
}

run "file_extension_upper_bound_and_every_allowed_character" {
  command = plan

  variables {
    # 50 characters, the AWS provider's maximum, with every character the API pattern allows.
    file_extension   = ".abcdefghijklmnopqrstuvwxyz0123456789!-_.*'()xxxxx"
    custom_time_zone = "America/Argentina/Buenos_Aires"
  }

  assert {
    condition     = length(aws_kinesis_firehose_delivery_stream.this.extended_s3_configuration[0].file_extension) == 50
    error_message = "a 50-character extension is accepted"
  }
  assert {
    condition     = aws_kinesis_firehose_delivery_stream.this.extended_s3_configuration[0].custom_time_zone == "America/Argentina/Buenos_Aires"
    error_message = "three-part IANA names are accepted"
  }
}

run "file_extension_lower_bound_and_zone_with_digits" {
  command = plan

  variables {
    file_extension   = ".j"
    custom_time_zone = "Etc/GMT+5"
  }

  assert {
    condition     = aws_kinesis_firehose_delivery_stream.this.extended_s3_configuration[0].file_extension == ".j" && aws_kinesis_firehose_delivery_stream.this.extended_s3_configuration[0].custom_time_zone == "Etc/GMT+5"
    error_message = "a dot and one character, and Etc/GMT+5, are accepted"
  }
}

run "file_extension_above_range" {
  command = plan
  variables {
    file_extension = ".abcdefghijklmnopqrstuvwxyz0123456789!-_.*'()xxxxxy"
  }
  expect_failures = [var.file_extension]
}

run "file_extension_without_a_dot" {
  command = plan
  variables {
    file_extension = "json"
  }
  expect_failures = [var.file_extension]
}

run "file_extension_only_a_dot" {
  command = plan
  variables {
    file_extension = "."
  }
  expect_failures = [var.file_extension]
}

run "file_extension_uppercase" {
  command = plan
  variables {
    file_extension = ".JSON"
  }
  expect_failures = [var.file_extension]
}

run "file_extension_not_starting_with_a_dot" {
  command = plan
  variables {
    file_extension = "x.json"
  }
  expect_failures = [var.file_extension]
}

run "file_extension_with_a_slash" {
  command = plan
  variables {
    file_extension = ".json/gz"
  }
  expect_failures = [var.file_extension]
}

run "custom_time_zone_abbreviation" {
  command = plan
  variables {
    custom_time_zone = "EST"
  }
  expect_failures = [var.custom_time_zone]
}

run "custom_time_zone_lowercase_utc" {
  command = plan
  variables {
    custom_time_zone = "utc"
  }
  expect_failures = [var.custom_time_zone]
}

run "custom_time_zone_empty" {
  command = plan
  variables {
    custom_time_zone = ""
  }
  expect_failures = [var.custom_time_zone]
}

run "custom_time_zone_offset" {
  command = plan
  variables {
    custom_time_zone = "+05:00"
  }
  expect_failures = [var.custom_time_zone]
}

run "custom_time_zone_above_range" {
  command = plan
  variables {
    custom_time_zone = "America/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
  }
  expect_failures = [var.custom_time_zone]
}

run "error_log_group_with_a_customer_managed_key" {
  command = plan
  variables {
    log_kms_key_arn = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
  }
  assert {
    condition     = aws_cloudwatch_log_group.this[0].kms_key_id == "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    error_message = "the error log group is encrypted with the given key"
  }
}

run "error_log_group_default_encryption" {
  command = plan
  assert {
    condition     = aws_cloudwatch_log_group.this[0].kms_key_id == null
    error_message = "without a key the error log group uses CloudWatch Logs' own encryption"
  }
}

run "rejects_log_kms_key_not_an_arn" {
  command = plan
  variables {
    log_kms_key_arn = "alias/my-logs"
  }
  expect_failures = [var.log_kms_key_arn]
}
