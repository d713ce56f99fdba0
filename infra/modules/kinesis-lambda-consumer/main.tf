################################################################################
# On-failure destination: batches that exhaust their retries or age out leave
# their metadata (shard, sequence-number range, reason) here; the records stay
# in the stream until its retention ends.
################################################################################

module "failure_queue" {
  source = "../sqs-queue"

  name                      = "${var.name}-failures"
  kms_key_arn               = var.failure_queue_kms_key_arn
  message_retention_seconds = var.failure_queue_message_retention_seconds
  tags                      = var.tags
}

################################################################################
# Enhanced fan-out (optional): a registered stream consumer with its own 2 MB/s
# per shard, pushed to Lambda over SubscribeToShard instead of shared polling.
################################################################################

resource "aws_kinesis_stream_consumer" "this" {
  count = var.enhanced_fan_out ? 1 : 0

  name       = coalesce(var.enhanced_fan_out_consumer_name, "${var.name}-consumer")
  stream_arn = var.stream_arn
}

locals {
  consumer_arn = one(aws_kinesis_stream_consumer.this[*].arn)
  # What the mapping reads: the consumer with enhanced fan-out, else the stream.
  event_source_arn = var.enhanced_fan_out ? local.consumer_arn : var.stream_arn
}

################################################################################
# Permissions the mapping needs, on the function's role
################################################################################

resource "aws_iam_role_policy" "consumer" {
  name = "${var.name}-kinesis-consumer"
  role = var.function_role_name
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat(
      [
        {
          # Shared-throughput polling; with enhanced fan-out Lambda still describes the stream
          # and lists its shards (the statement below adds the consumer's actions).
          Sid    = "ReadStream"
          Effect = "Allow"
          Action = [
            "kinesis:DescribeStream",
            "kinesis:DescribeStreamSummary",
            "kinesis:GetRecords",
            "kinesis:GetShardIterator",
            "kinesis:ListShards",
          ]
          Resource = [var.stream_arn]
        },
        {
          Sid      = "SendFailureMetadata"
          Effect   = "Allow"
          Action   = ["sqs:SendMessage"]
          Resource = [module.failure_queue.arn]
        },
      ],
      # Enhanced fan-out (Lambda developer guide, "Kinesis execution role permissions"):
      # SubscribeToShard and DescribeStreamConsumer on the consumer's ARN only.
      var.enhanced_fan_out ? [{
        Sid      = "ReadStreamConsumer"
        Effect   = "Allow"
        Action   = ["kinesis:DescribeStreamConsumer", "kinesis:SubscribeToShard"]
        Resource = [local.consumer_arn]
      }] : [],
      var.stream_kms_key_arn == null ? [] : [{
        Sid      = "DecryptStream"
        Effect   = "Allow"
        Action   = ["kms:Decrypt"]
        Resource = [var.stream_kms_key_arn]
      }],
      var.failure_queue_kms_key_arn == null ? [] : [{
        Sid      = "EncryptFailureMetadata"
        Effect   = "Allow"
        Action   = ["kms:GenerateDataKey", "kms:Decrypt"]
        Resource = [var.failure_queue_kms_key_arn]
      }],
    )
  })
}

################################################################################
# Event source mapping
################################################################################

resource "aws_lambda_event_source_mapping" "this" {
  function_name    = var.function_name
  event_source_arn = local.event_source_arn
  enabled          = var.enabled

  # Each setting from its own variable (the reference solution swapped
  # parallelization factor and retry attempts).
  batch_size                         = var.batch_size
  parallelization_factor             = var.parallelization_factor
  maximum_retry_attempts             = var.maximum_retry_attempts
  maximum_record_age_in_seconds      = var.maximum_record_age_in_seconds
  bisect_batch_on_function_error     = var.bisect_batch_on_function_error
  maximum_batching_window_in_seconds = var.maximum_batching_window_in_seconds

  # Tumbling windows: the function gets the window and the state it returned on the previous
  # invoke of the window; 0 (the default) turns them off.
  tumbling_window_in_seconds = var.tumbling_window_in_seconds

  starting_position           = var.starting_position
  starting_position_timestamp = var.starting_position == "AT_TIMESTAMP" ? var.starting_position_timestamp : null

  # The function returns {"batchItemFailures":[{"itemIdentifier":"<sequence number>"}]};
  # Lambda then retries from the first failed record only.
  function_response_types = ["ReportBatchItemFailures"]

  destination_config {
    on_failure {
      destination_arn = module.failure_queue.arn
    }
  }

  dynamic "filter_criteria" {
    for_each = length(var.filter_patterns) > 0 ? [var.filter_patterns] : []
    content {
      dynamic "filter" {
        for_each = filter_criteria.value
        content {
          pattern = filter.value
        }
      }
    }
  }

  tags = var.tags

  # Lambda checks the role can read the stream when the mapping is created.
  depends_on = [aws_iam_role_policy.consumer]

  lifecycle {
    precondition {
      condition     = var.starting_position != "AT_TIMESTAMP" || var.starting_position_timestamp != null
      error_message = "starting_position AT_TIMESTAMP needs starting_position_timestamp."
    }
  }
}
