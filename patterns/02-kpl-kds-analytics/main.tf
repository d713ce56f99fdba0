# Pattern 2: producer (KPL-aggregated ticker records; here the serverless one on a schedule) →
# Kinesis Data Stream → windowed analytics in Rust (Lambda tumbling windows) → S3, with Glue tables
# over both outputs, alarms and one dashboard.

locals {
  # The function packages: relative to the repository root, or absolute.
  analytics_package_path = startswith(var.analytics_package_path, "/") ? var.analytics_package_path : "${path.module}/../../${var.analytics_package_path}"
  producer_package_path  = startswith(var.scheduled_producer_package_path, "/") ? var.scheduled_producer_package_path : "${path.module}/../../${var.scheduled_producer_package_path}"

  # The stream: the one created below, or the existing one named by var.stream_arn.
  stream_arn  = var.stream_arn == null ? one(module.stream[*].arn) : var.stream_arn
  stream_name = var.stream_arn == null ? one(module.stream[*].name) : regex("[^/]+$", var.stream_arn)

  # The output freshness alarm looks at whole windows (CloudWatch periods are whole minutes).
  window_period_seconds = max(60, ceil(var.tumbling_window_in_seconds / 60) * 60)

  # The analytics function's whole configuration (functions/stream-analytics/src/lib.rs).
  analytics_environment = {
    OUTPUT_BUCKET                = module.bucket.bucket_name
    ROWS_PREFIX                  = var.rows_prefix
    AGGREGATES_PREFIX            = var.aggregates_prefix
    PRICE_THRESHOLD              = tostring(var.price_threshold)
    POWERTOOLS_SERVICE_NAME      = "${var.name_prefix}-analytics"
    POWERTOOLS_METRICS_NAMESPACE = var.metrics_namespace
  }
  # It writes under its two prefixes only: no read, list or delete.
  analytics_policy_statements = concat(
    [{
      sid       = "WriteRowsAndAggregates"
      actions   = ["s3:PutObject"]
      resources = ["${module.bucket.bucket_arn}/${var.rows_prefix}*", "${module.bucket.bucket_arn}/${var.aggregates_prefix}*"]
    }],
    var.bucket_kms_key_arn == null ? [] : [{
      sid       = "EncryptOutput"
      actions   = ["kms:GenerateDataKey"]
      resources = [var.bucket_kms_key_arn]
    }],
  )

  # The scheduled producer's configuration (functions/scheduled-producer).
  producer_environment = {
    STREAM_NAME                  = local.stream_name
    RECORDS_PER_RUN              = tostring(var.scheduled_producer_records_per_run)
    RATE                         = tostring(var.scheduled_producer_rate)
    EVENT_TIME_FORMAT            = "sql" # yyyy-MM-dd HH:mm:ss.SSS, as the reference's Flink table reads it
    POWERTOOLS_SERVICE_NAME      = "${var.name_prefix}-producer"
    POWERTOOLS_METRICS_NAMESPACE = var.metrics_namespace
  }
  # It writes the stream, nothing else (KMS only with a customer-managed stream key).
  producer_policy_statements = concat(
    [{
      sid       = "WriteStream"
      actions   = ["kinesis:PutRecord", "kinesis:PutRecords"]
      resources = [local.stream_arn]
    }],
    var.stream_kms_key_arn == null ? [] : [{
      sid       = "EncryptStream"
      actions   = ["kms:GenerateDataKey"]
      resources = [var.stream_kms_key_arn]
    }],
  )

  # Partition projection of both tables (Athena computes the partitions: no crawler).
  dt_partition = { name = "dt", projection = { type = "date", format = "yyyy-MM-dd", range = "2024-01-01,NOW", interval = "1", "interval.unit" = "DAYS" } }
  hr_partition = { name = "hr", projection = { type = "integer", range = "0,23", digits = "2" } }
}

################################################################################
# Kinesis data stream (unless var.stream_arn names an existing one)
################################################################################

module "stream" {
  source = "../../infra/modules/kinesis-stream"
  count  = var.stream_arn == null ? 1 : 0

  name                   = "${var.name_prefix}-stream"
  stream_mode            = var.stream_mode
  shard_count            = var.shard_count
  retention_period_hours = var.retention_period_hours
  kms_key_arn            = var.stream_kms_key_arn
  enhanced_monitoring    = var.enhanced_monitoring
}

################################################################################
# Output bucket (and its access-log bucket)
################################################################################

module "bucket" {
  source = "../../infra/modules/secure-bucket"

  name_prefix                = var.name_prefix
  kms_key_arn                = var.bucket_kms_key_arn
  versioning_enabled         = var.bucket_versioning
  enable_intelligent_tiering = true
  force_destroy              = var.force_destroy
  tls_only_policy            = var.bucket_tls_only_policy
}

################################################################################
# Analytics: Rust function (functions/stream-analytics) on a windowed event source mapping
################################################################################

module "analytics_function" {
  source = "../../infra/modules/lambda-function"

  function_name   = "${var.name_prefix}-analytics"
  description     = "Windowed analytics of ${local.stream_name}: per-ticker aggregates per shard and window, rows with price > ${var.price_threshold} to S3"
  package_path    = local.analytics_package_path
  timeout_seconds = var.analytics_timeout_seconds
  memory_size_mb  = var.analytics_memory_size_mb

  application_log_level = var.analytics_log_level
  log_retention_in_days = var.log_retention_in_days
  log_kms_key_arn       = var.log_kms_key_arn

  environment_variables = local.analytics_environment
  policy_statements     = local.analytics_policy_statements

  # Names the cargo package that builds this function; `kstream local` runs that binary.
  tags = { "kstream:package" = "stream-analytics" }
}

module "analytics" {
  source = "../../infra/modules/kinesis-lambda-consumer"

  name               = var.name_prefix
  function_name      = module.analytics_function.function_name
  function_role_name = module.analytics_function.role_name
  stream_arn         = local.stream_arn
  stream_kms_key_arn = var.stream_kms_key_arn

  tumbling_window_in_seconds         = var.tumbling_window_in_seconds
  batch_size                         = var.batch_size
  parallelization_factor             = var.parallelization_factor
  maximum_retry_attempts             = var.maximum_retry_attempts
  maximum_record_age_in_seconds      = var.maximum_record_age_in_seconds
  bisect_batch_on_function_error     = true
  starting_position                  = var.starting_position
  maximum_batching_window_in_seconds = var.maximum_batching_window_in_seconds
  enhanced_fan_out                   = var.enhanced_fan_out

  failure_queue_kms_key_arn = var.failure_queue_kms_key_arn
}

################################################################################
# Serverless producer: functions/scheduled-producer on an EventBridge Scheduler schedule
################################################################################

module "producer_function" {
  source = "../../infra/modules/lambda-function"
  count  = var.scheduled_producer_enabled ? 1 : 0

  function_name   = "${var.name_prefix}-producer"
  description     = "Writes ${var.scheduled_producer_records_per_run} KPL-aggregated ticker records a run to ${local.stream_name}"
  package_path    = local.producer_package_path
  timeout_seconds = var.scheduled_producer_timeout_seconds
  memory_size_mb  = var.scheduled_producer_memory_size_mb

  log_retention_in_days = var.log_retention_in_days
  log_kms_key_arn       = var.log_kms_key_arn

  environment_variables = local.producer_environment
  policy_statements     = local.producer_policy_statements

  tags = { "kstream:package" = "scheduled-producer" }
}

module "producer_schedule" {
  source = "../../infra/modules/lambda-schedule"
  count  = var.scheduled_producer_enabled ? 1 : 0

  name                         = "${var.name_prefix}-producer"
  description                  = "Runs ${var.name_prefix}-producer: ticker records into ${local.stream_name}"
  function_arn                 = module.producer_function[0].function_arn
  schedule_expression          = var.scheduled_producer_schedule_expression
  maximum_retry_attempts       = var.scheduled_producer_maximum_retry_attempts
  maximum_event_age_in_seconds = var.scheduled_producer_maximum_event_age_in_seconds
}

################################################################################
# Glue database and tables over both outputs (Athena, partition projection, no crawler)
################################################################################

# The reference's query result: every record with price > threshold, JSON lines
# {"event_time":"2026-12-04 10:00:00.123","price":51.2} under <rows_prefix>ticker=/dt=/hr=/.
module "glue_filtered" {
  source = "../../infra/modules/glue-table"

  name_prefix     = var.name_prefix
  table_name      = "filtered"
  bucket_name     = module.bucket.bucket_name
  location_prefix = var.rows_prefix
  columns = [
    { name = "event_time", type = "timestamp", comment = "event time, yyyy-MM-dd HH:mm:ss[.fraction] (the Flink SQL form)" },
    { name = "price", type = "double" },
  ]
  # ticker: injected (queries name the ticker: WHERE ticker = 'AMZN'); dt and hr from the event time.
  partition_keys = [
    { name = "ticker", projection = { type = "injected" } },
    local.dt_partition,
    local.hr_partition,
  ]
}

# The window aggregates: one JSON line per (shard, window, ticker) under <aggregates_prefix>dt=/hr=/
# of the window start (functions/stream-analytics/src/output.rs).
module "glue_aggregates" {
  source = "../../infra/modules/glue-table"

  name_prefix     = var.name_prefix
  create_database = false
  database_name   = module.glue_filtered.database_name
  table_name      = "aggregates"
  bucket_name     = module.bucket.bucket_name
  location_prefix = var.aggregates_prefix
  columns = [
    { name = "window_start", type = "timestamp" },
    { name = "window_end", type = "timestamp" },
    { name = "stream", type = "string" },
    { name = "shard_id", type = "string" },
    { name = "ticker", type = "string" },
    { name = "count", type = "bigint" },
    { name = "min_price", type = "double" },
    { name = "max_price", type = "double" },
    { name = "avg_price", type = "double" },
    { name = "sum_price", type = "double" },
    { name = "first_event_time", type = "timestamp" },
    { name = "last_event_time", type = "timestamp" },
    { name = "terminated_early", type = "boolean", comment = "Lambda ended the window early (state over 1 MB)" },
  ]
  partition_keys = [local.dt_partition, local.hr_partition]
}

################################################################################
# Alarms (the dashboard is in dashboard.tf)
################################################################################

module "alarms" {
  source = "../../infra/modules/alarms"

  name_prefix      = var.name_prefix
  create_sns_topic = var.create_alarm_topic
  sns_topic_arn    = var.alarm_topic_arn
  alarm_email      = var.alarm_email

  kinesis_stream_name = local.stream_name
  lambda_functions = merge(
    { analytics = { function_name = module.analytics_function.function_name, kinesis_consumer = true } },
    var.scheduled_producer_enabled ? { producer = { function_name = module.producer_function[0].function_name } } : {},
  )
  queues = merge(
    { failures = module.analytics.failure_queue_name },
    var.scheduled_producer_enabled ? { "schedule-dlq" = module.producer_schedule[0].dlq_name } : {},
  )

  # The analytics function's own metrics (EMF, dimension FunctionName): each alarm is a Sum
  # >= 1 unless it says otherwise.
  metric_alarms = { for name, alarm in {
    "window-state-size" = {
      metric_name = "StateBytes"
      statistic   = "Maximum"
      threshold   = var.window_state_alarm_bytes
      description = "A window's state nears Lambda's 1 MB limit, past which the window ends early (more tickers per shard than expected)."
    }
    "windows-terminated-early" = {
      metric_name = "WindowsTerminatedEarly"
      description = "Lambda ended a window early (state over 1 MB): its aggregates cover part of the window."
    }
    "failed-records" = {
      metric_name = "FailedRecords"
      description = "The analytics function reported malformed records (not base64, corrupt KPL aggregate, not a ticker); the shard retries from them, then they go to the failure queue."
    }
    "failed-final-invokes" = {
      metric_name = "FailedFinalInvokes"
      description = "A window's final invoke failed (S3 write, or a record it could not read): the window stays open and Lambda holds the shard until a retry succeeds."
    }
    "output-freshness" = {
      metric_name         = "ObjectsWritten"
      comparison_operator = "LessThanThreshold"
      period              = local.window_period_seconds
      evaluation_periods  = var.output_freshness_windows
      treat_missing_data  = "breaching"
      description         = "The analytics function wrote nothing to S3 for ${var.output_freshness_windows} window(s): no records arrive, or the function cannot write."
    }
    } : name => merge({
      namespace           = var.metrics_namespace
      dimensions          = { FunctionName = module.analytics_function.function_name }
      statistic           = "Sum"
      comparison_operator = "GreaterThanOrEqualToThreshold"
      threshold           = 1
  }, alarm) }
}

################################################################################
# Optional: the same analytics on Managed Service for Apache Flink (flink/ticker-analytics),
# writing under its own prefixes of the output bucket, and the reference's EC2 producer host.
# Both off by default.
################################################################################

module "flink" {
  source = "../../infra/modules/managed-flink"
  count  = var.flink_enabled ? 1 : 0

  application_name    = "${var.name_prefix}-flink"
  runtime_environment = var.flink_runtime_environment
  start_application   = var.flink_start_application

  code_bucket_arn     = coalesce(var.flink_code_bucket_arn, module.bucket.bucket_arn)
  code_object_key     = var.flink_code_object_key
  code_object_version = var.flink_code_object_version
  code_kms_key_arn    = var.flink_code_bucket_arn == null ? var.bucket_kms_key_arn : var.flink_code_kms_key_arn

  input_stream_arn         = local.stream_arn
  input_stream_kms_key_arn = var.stream_kms_key_arn
  output_bucket_arn        = module.bucket.bucket_arn
  output_kms_key_arn       = var.bucket_kms_key_arn
  rows_prefix              = var.flink_rows_prefix
  aggregates_prefix        = var.flink_aggregates_prefix

  # The same query as the Lambda's, so the two can be compared (scripts/flink-compare.sh).
  price_threshold = var.price_threshold
  window_seconds  = var.tumbling_window_in_seconds

  parallelism          = var.flink_parallelism
  parallelism_per_kpu  = var.flink_parallelism_per_kpu
  auto_scaling_enabled = var.flink_auto_scaling_enabled

  log_retention_in_days = var.log_retention_in_days
  log_kms_key_arn       = var.log_kms_key_arn
  sns_topic_arn         = module.alarms.sns_topic_arn
}

module "producer_host" {
  source = "../../infra/modules/ec2-producer-host"
  count  = var.producer_host_enabled ? 1 : 0

  name                        = "${var.name_prefix}-producer-host"
  vpc_id                      = var.producer_host_vpc_id
  subnet_id                   = var.producer_host_subnet_id
  associate_public_ip_address = var.producer_host_public_ip
  instance_type               = var.producer_host_instance_type

  binary_bucket      = var.producer_host_binary_bucket
  binary_key         = var.producer_host_binary_key
  binary_sha256      = var.producer_host_binary_sha256
  binary_kms_key_arn = var.producer_host_binary_kms_key_arn

  stream_arn         = local.stream_arn
  stream_kms_key_arn = var.stream_kms_key_arn
  records_per_second = var.producer_host_records_per_second
  # yyyy-MM-dd HH:mm:ss.SSS, as the reference's Flink table (and flink/ticker-analytics) reads it.
  event_time_format = "sql"
}

################################################################################
# Redrive workflow (optional, off by default): functions/redrive run by a Step Functions state
# machine over the failure queue, on demand or on a schedule
################################################################################

module "redrive" {
  source = "../../infra/modules/redrive-workflow"
  count  = var.redrive_workflow.enabled ? 1 : 0

  name               = "${var.name_prefix}-redrive"
  queue_arn          = module.analytics.failure_queue_arn
  queue_url          = module.analytics.failure_queue_url
  queue_kms_key_arn  = var.failure_queue_kms_key_arn
  stream_arn         = local.stream_arn
  stream_kms_key_arn = var.stream_kms_key_arn

  mode                 = var.redrive_workflow.mode
  function_arn         = null
  s3_bucket_name       = var.redrive_workflow.mode == "s3" ? module.bucket.bucket_name : null
  s3_kms_key_arn       = var.redrive_workflow.mode == "s3" ? module.bucket.kms_key_arn : null
  max_messages         = var.redrive_workflow.max_messages
  delete_unrecoverable = var.redrive_workflow.delete_unrecoverable
  # Longer than one range takes: in invoke mode, one invocation of the consumer and a minute.
  visibility_timeout_seconds = 300

  package_path        = startswith(var.redrive_workflow.package_path, "/") ? var.redrive_workflow.package_path : "${path.module}/../../${var.redrive_workflow.package_path}"
  schedule_expression = var.redrive_workflow.schedule_expression

  notification_topic_arn   = module.alarms.sns_topic_arn
  notification_kms_key_arn = module.alarms.sns_kms_key_arn

  log_retention_in_days = var.log_retention_in_days
  log_kms_key_arn       = var.log_kms_key_arn
  tracing_enabled       = var.redrive_workflow.tracing_enabled
}
