locals {
  # arn:<partition>:kinesis:<region>:<account>:stream/<name>: the application runs where its stream is.
  stream_arn_parts = split(":", var.input_stream_arn)
  partition        = local.stream_arn_parts[1]
  region           = local.stream_arn_parts[3]
  account_id       = local.stream_arn_parts[4]
  stream_name      = trimprefix(local.stream_arn_parts[5], "stream/")
  application_arn  = "arn:${local.partition}:kinesisanalytics:${local.region}:${local.account_id}:application/${var.application_name}"

  output_bucket = trimprefix(var.output_bucket_arn, "arn:${local.partition}:s3:::")
  code_bucket   = trimprefix(var.code_bucket_arn, "arn:${local.partition}:s3:::")

  # What the Python reads from /etc/flink/application_properties.json (group "kstream"); the
  # names are documented in flink/ticker-analytics/README.md.
  properties = {
    "input.stream.arn"         = var.input_stream_arn
    "aws.region"               = local.region
    "source.init.position"     = var.source_init_position
    "output.bucket"            = local.output_bucket
    "output.rows.prefix"       = var.rows_prefix
    "output.aggregates.prefix" = var.aggregates_prefix
    "price.threshold"          = tostring(var.price_threshold)
    "window.seconds"           = tostring(var.window_seconds)
    "watermark.delay.seconds"  = tostring(var.watermark_delay_seconds)
  }
}

################################################################################
# Logging: a log group with retention (and optional KMS) and the stream the service writes to
################################################################################

resource "aws_cloudwatch_log_group" "this" {
  name              = "/aws/kinesis-analytics/${var.application_name}"
  retention_in_days = var.log_retention_in_days
  kms_key_id        = var.log_kms_key_arn

  tags = var.tags
}

resource "aws_cloudwatch_log_stream" "this" {
  name           = "application"
  log_group_name = aws_cloudwatch_log_group.this.name
}

################################################################################
# Service execution role: least privilege, every statement on named ARNs
################################################################################

# Policies are written with jsonencode (not aws_iam_policy_document) so that
# `terraform test` with a mocked provider can assert on the real documents.
resource "aws_iam_role" "this" {
  name        = "${var.application_name}-role"
  description = "Service execution role of the Managed Flink application ${var.application_name}"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "ManagedFlinkAssumeRole"
      Effect    = "Allow"
      Action    = "sts:AssumeRole"
      Principal = { Service = "kinesisanalytics.amazonaws.com" }
      # Confused-deputy guard: only this account's application of this name.
      Condition = {
        StringEquals = { "aws:SourceAccount" = local.account_id }
        ArnEquals    = { "aws:SourceArn" = local.application_arn }
      }
    }]
  })

  tags = var.tags
}

resource "aws_iam_role_policy" "this" {
  name = "${var.application_name}-policy"
  role = aws_iam_role.this.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat(
      [
        {
          Sid      = "ReadApplicationCode"
          Effect   = "Allow"
          Action   = ["s3:GetObject", "s3:GetObjectVersion"]
          Resource = ["${var.code_bucket_arn}/${var.code_object_key}"]
        },
        {
          # The Kinesis source (polling, not enhanced fan-out): shard discovery and reads.
          Sid    = "ReadInputStream"
          Effect = "Allow"
          Action = [
            "kinesis:DescribeStream",
            "kinesis:DescribeStreamSummary",
            "kinesis:GetRecords",
            "kinesis:GetShardIterator",
            "kinesis:ListShards",
          ]
          Resource = [var.input_stream_arn]
        },
        {
          # Flink's S3 file sink writes part files as multipart uploads, checks them with
          # HEAD/GET on recovery and may delete an uncommitted part: objects under the two
          # output prefixes only.
          Sid    = "WriteOutputPrefixes"
          Effect = "Allow"
          Action = [
            "s3:PutObject",
            "s3:GetObject",
            "s3:DeleteObject",
            "s3:AbortMultipartUpload",
            "s3:ListMultipartUploadParts",
          ]
          Resource = [
            "${var.output_bucket_arn}/${var.rows_prefix}*",
            "${var.output_bucket_arn}/${var.aggregates_prefix}*",
          ]
        },
        {
          # The S3 filesystem lists a path before it creates it: only below the output prefixes.
          Sid      = "ListOutputPrefixes"
          Effect   = "Allow"
          Action   = ["s3:ListBucket"]
          Resource = [var.output_bucket_arn]
          Condition = {
            StringLike = { "s3:prefix" = ["${var.rows_prefix}*", "${var.aggregates_prefix}*"] }
          }
        },
        {
          Sid      = "FindLogGroup"
          Effect   = "Allow"
          Action   = ["logs:DescribeLogGroups"]
          Resource = ["arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:*"]
        },
        {
          Sid      = "FindLogStream"
          Effect   = "Allow"
          Action   = ["logs:DescribeLogStreams"]
          Resource = ["${aws_cloudwatch_log_group.this.arn}:*"]
        },
        {
          Sid      = "WriteLogStream"
          Effect   = "Allow"
          Action   = ["logs:PutLogEvents"]
          Resource = [aws_cloudwatch_log_stream.this.arn]
        },
      ],
      var.input_stream_kms_key_arn == null ? [] : [{
        Sid      = "DecryptInputStream"
        Effect   = "Allow"
        Action   = ["kms:Decrypt"]
        Resource = [var.input_stream_kms_key_arn]
      }],
      var.output_kms_key_arn == null ? [] : [{
        Sid      = "EncryptOutput"
        Effect   = "Allow"
        Action   = ["kms:GenerateDataKey", "kms:Decrypt"]
        Resource = [var.output_kms_key_arn]
      }],
      var.code_kms_key_arn == null ? [] : [{
        Sid      = "DecryptApplicationCode"
        Effect   = "Allow"
        Action   = ["kms:Decrypt"]
        Resource = [var.code_kms_key_arn]
      }],
    )
  })
}

################################################################################
# Application
################################################################################

resource "aws_kinesisanalyticsv2_application" "this" {
  name                   = var.application_name
  description            = var.description
  runtime_environment    = var.runtime_environment
  service_execution_role = aws_iam_role.this.arn
  start_application      = var.start_application

  application_configuration {
    application_code_configuration {
      code_content_type = "ZIPFILE"
      code_content {
        s3_content_location {
          bucket_arn     = var.code_bucket_arn
          file_key       = var.code_object_key
          object_version = var.code_object_version
        }
      }
    }

    application_snapshot_configuration {
      snapshots_enabled = var.snapshots_enabled
    }

    environment_properties {
      # How the service starts a PyFlink job: the entry point and the connector jar in the ZIP.
      property_group {
        property_group_id = "kinesis.analytics.flink.run.options"
        property_map = {
          python  = var.python_entry
          jarfile = var.connector_jar_path
        }
      }
      property_group {
        property_group_id = "kstream"
        property_map      = local.properties
      }
    }

    flink_application_configuration {
      # Checkpoints on (CUSTOM, so the interval is ours): the S3 sink only commits files on a
      # checkpoint, and exactly-once output needs them.
      checkpoint_configuration {
        configuration_type            = "CUSTOM"
        checkpointing_enabled         = true
        checkpoint_interval           = var.checkpoint_interval_ms
        min_pause_between_checkpoints = var.min_pause_between_checkpoints_ms
      }

      monitoring_configuration {
        configuration_type = "CUSTOM"
        log_level          = var.log_level
        metrics_level      = var.metrics_level
      }

      parallelism_configuration {
        configuration_type   = "CUSTOM"
        auto_scaling_enabled = var.auto_scaling_enabled
        parallelism          = var.parallelism
        parallelism_per_kpu  = var.parallelism_per_kpu
      }
    }

    run_configuration {
      application_restore_configuration {
        application_restore_type = var.snapshots_enabled ? "RESTORE_FROM_LATEST_SNAPSHOT" : "SKIP_RESTORE_FROM_SNAPSHOT"
      }
      flink_run_configuration {
        allow_non_restored_state = false
      }
    }
  }

  cloudwatch_logging_options {
    log_stream_arn = aws_cloudwatch_log_stream.this.arn
  }

  tags = var.tags

  lifecycle {
    precondition {
      condition     = var.min_pause_between_checkpoints_ms <= var.checkpoint_interval_ms
      error_message = "min_pause_between_checkpoints_ms must not exceed checkpoint_interval_ms."
    }
    precondition {
      condition     = !startswith(var.rows_prefix, var.aggregates_prefix) && !startswith(var.aggregates_prefix, var.rows_prefix)
      error_message = "rows_prefix and aggregates_prefix must not contain one another: each is its own Glue table location."
    }
  }

  # The role must be able to read the code and write logs before the application starts.
  depends_on = [aws_iam_role_policy.this]
}

################################################################################
# Alarms (the house alarms module's conventions: <name>-<key>, 60 s, SNS actions)
################################################################################

locals {
  alarm_actions = var.sns_topic_arn == null ? [] : [var.sns_topic_arn]
  # A stopped application publishes nothing: missing data is only an outage while it should run.
  missing_when_running = var.start_application ? "breaching" : "notBreaching"

  # key = [metric, statistic, comparison, threshold, missing data, description]
  # numberOfFailedCheckpoints counts failures since the job started, so the alarm reads its
  # RATE (the reference alarmed on the raw Average > 0, which stays in ALARM after one failure).
  alarm_defs = {
    "flink-kpus" = ["KPUs", "Maximum", "GreaterThanOrEqualToThreshold", var.alarm_thresholds.kpus, "notBreaching",
    "${var.application_name} runs on more KPUs than expected (autoscaling grew it): cost."]
    "flink-downtime" = ["downtime", "Average", "GreaterThanThreshold", 0, local.missing_when_running,
    "${var.application_name} is down (failing or restarting): no output is written."]
    "flink-failed-checkpoints" = ["numberOfFailedCheckpoints", null, "GreaterThanThreshold", 0, "notBreaching",
    "Checkpoints of ${var.application_name} fail: the S3 sink commits nothing until one succeeds."]
    "flink-millis-behind-latest" = ["millisBehindLatest", "Maximum", "GreaterThanThreshold", var.alarm_thresholds.millis_behind_latest_ms, local.missing_when_running,
    "${var.application_name} reads ${local.stream_name} too far behind its tip (it falls behind)."]
  }
}

resource "aws_cloudwatch_metric_alarm" "this" {
  for_each = local.alarm_defs

  alarm_name          = "${var.application_name}-${each.key}"
  alarm_description   = each.value[5]
  comparison_operator = each.value[2]
  threshold           = each.value[3]
  evaluation_periods  = 1
  datapoints_to_alarm = 1
  treat_missing_data  = each.value[4]

  # A plain metric, except the failed-checkpoint counter, read through RATE().
  namespace   = each.value[1] == null ? null : "AWS/KinesisAnalytics"
  metric_name = each.value[1] == null ? null : each.value[0]
  statistic   = each.value[1]
  period      = each.value[1] == null ? null : 60
  dimensions  = each.value[1] == null ? null : { Application = var.application_name }

  dynamic "metric_query" {
    for_each = each.value[1] == null ? [each.value[0]] : []
    content {
      id = "m1"
      metric {
        namespace   = "AWS/KinesisAnalytics"
        metric_name = metric_query.value
        dimensions  = { Application = var.application_name }
        stat        = "Maximum"
        period      = 60
      }
    }
  }
  dynamic "metric_query" {
    for_each = each.value[1] == null ? ["RATE(m1)"] : []
    content {
      id          = "e1"
      expression  = metric_query.value
      label       = "Failed checkpoints per second"
      return_data = true
    }
  }

  alarm_actions = local.alarm_actions
  ok_actions    = local.alarm_actions

  tags = var.tags
}
