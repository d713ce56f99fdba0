# Pattern 4: trips (the replay) → Kinesis Data Stream → enrichment consumer in Rust (Lambda) that
# samples 1 in N trips and calls a fare API (API Gateway REST, AWS_IAM + API key, a Rust Lambda or
# an HTTP backend) → S3 as JSON lines, with a Glue table over them, alarms and one dashboard.

locals {
  # The function packages: relative to the repository root, or absolute.
  fare_api_package_path = startswith(var.fare_api_package_path, "/") ? var.fare_api_package_path : "${path.module}/../../${var.fare_api_package_path}"
  consumer_package_path = startswith(var.consumer_package_path, "/") ? var.consumer_package_path : "${path.module}/../../${var.consumer_package_path}"

  # The stream: the one created below, or the existing one named by var.stream_arn.
  stream_arn  = var.stream_arn == null ? one(module.stream[*].arn) : var.stream_arn
  stream_name = var.stream_arn == null ? one(module.stream[*].name) : regex("[^/]+$", var.stream_arn)

  # The fare API's backend: the Rust fare function, unless an HTTP backend is given.
  fare_function_enabled = var.fare_api_http_integration_uri == null

  # The fare function's configuration (functions/fare-api). FARE_FAULTS only when asked (tests).
  fare_api_environment = merge(
    {
      POWERTOOLS_SERVICE_NAME      = "${var.name_prefix}-fare-api"
      POWERTOOLS_METRICS_NAMESPACE = var.metrics_namespace
    },
    var.fare_api_faults == null ? {} : { FARE_FAULTS = var.fare_api_faults },
  )

  # Each shard's consumer (times the parallelization factor) paces its calls to its share of the
  # usage plan's rate; with an ON_DEMAND or existing stream the shard count is unknown here.
  consumer_instances   = var.stream_arn == null && var.stream_mode == "PROVISIONED" ? var.shard_count * var.parallelization_factor : 1
  max_calls_per_second = coalesce(var.max_calls_per_second, max(1, floor(var.api_throttle_rate_limit / local.consumer_instances)))

  # The enrichment consumer's whole configuration (functions/enrichment-consumer; the contract's
  # table of variables). The key is read at cold start from where the API module keeps it.
  consumer_environment = merge(
    {
      FARE_API_URL                 = module.api.resource_url
      SAMPLE_EVERY                 = tostring(var.sample_every)
      MAX_IN_FLIGHT                = tostring(var.max_in_flight)
      MAX_CALLS_PER_SECOND         = tostring(local.max_calls_per_second)
      CALL_TIMEOUT_MS              = tostring(var.call_timeout_ms)
      MAX_ATTEMPTS                 = tostring(var.max_attempts)
      RETRY_BUDGET_PERCENT         = tostring(var.retry_budget_percent)
      OUTPUT_BUCKET                = module.bucket.bucket_name
      OUTPUT_PREFIX                = var.output_prefix
      ERROR_PREFIX                 = var.error_prefix
      WRITE_UNSAMPLED              = tostring(var.write_unsampled)
      POWERTOOLS_SERVICE_NAME      = "${var.name_prefix}-consumer"
      POWERTOOLS_METRICS_NAMESPACE = var.metrics_namespace
    },
    var.api_key_store == "ssm" ? { API_KEY_PARAMETER = module.api.api_key_parameter_name } : { API_KEY_SECRET_ID = module.api.api_key_secret_arn },
    local.failed_record_archive_environment,
  )

  # Least privilege: write under its two prefixes (no read, list or delete), read the one key,
  # call the one method. KMS only with customer-managed keys.
  consumer_policy_statements = concat(
    [{
      sid       = "WriteRowsAndErrors"
      actions   = ["s3:PutObject"]
      resources = ["${module.bucket.bucket_arn}/${var.output_prefix}*", "${module.bucket.bucket_arn}/${var.error_prefix}*"]
    }],
    var.bucket_kms_key_arn == null ? [] : [{
      sid       = "EncryptOutput"
      actions   = ["kms:GenerateDataKey"]
      resources = [var.bucket_kms_key_arn]
    }],
    var.api_key_store == "ssm" ? [{
      sid       = "ReadApiKey"
      actions   = ["ssm:GetParameter"]
      resources = [module.api.api_key_parameter_arn]
      }] : [{
      sid       = "ReadApiKey"
      actions   = ["secretsmanager:GetSecretValue"]
      resources = [module.api.api_key_secret_arn]
    }],
    var.api_key_kms_key_arn == null ? [] : [{
      sid       = "DecryptApiKey"
      actions   = ["kms:Decrypt"]
      resources = [var.api_key_kms_key_arn]
    }],
    [{
      sid       = "CallFareApi"
      actions   = ["execute-api:Invoke"]
      resources = [module.api.invoke_arn_for_get]
    }],
  )

  # Partition projection of the enriched rows (Athena computes the partitions: no crawler). dt is
  # the trip's pickup date, so the range starts with the oldest TLC data (2009), not the deployment.
  dt_partition = { name = "dt", projection = { type = "date", format = "yyyy-MM-dd", range = "2009-01-01,NOW", interval = "1", "interval.unit" = "DAYS" } }
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
# Fare API: Rust function (functions/fare-api) behind a REST API with AWS_IAM and an API key
################################################################################

module "fare_function" {
  source = "../../infra/modules/lambda-function"
  count  = local.fare_function_enabled ? 1 : 0

  function_name   = "${var.name_prefix}-fare-api"
  description     = "GET /${var.api_resource_path}?ride_request_id=N: the reference's deterministic fare prediction"
  package_path    = local.fare_api_package_path
  timeout_seconds = var.fare_api_timeout_seconds
  memory_size_mb  = var.fare_api_memory_size_mb

  application_log_level = var.fare_api_log_level
  log_retention_in_days = var.log_retention_in_days
  log_kms_key_arn       = var.log_kms_key_arn

  environment_variables = local.fare_api_environment

  # Names the cargo package that builds this function; `kstream local` runs that binary.
  tags = { "kstream:package" = "fare-api" }
}

module "api" {
  source = "../../infra/modules/apigw-lambda-api"

  name          = "${var.name_prefix}-fare-api"
  description   = "Fare prediction for ${var.name_prefix}: GET /${var.api_resource_path}?ride_request_id=N (AWS_IAM + API key)"
  resource_path = var.api_resource_path
  stage_name    = var.api_stage_name
  endpoint_type = var.api_endpoint_type

  lambda_function_name   = one(module.fare_function[*].function_name)
  lambda_invoke_arn      = one(module.fare_function[*].invoke_arn)
  http_integration_uri   = var.fare_api_http_integration_uri
  integration_timeout_ms = var.api_integration_timeout_ms

  throttle_rate_limit  = var.api_throttle_rate_limit
  throttle_burst_limit = var.api_throttle_burst_limit
  quota_limit          = var.api_quota_limit
  quota_period         = var.api_quota_period

  api_key_store                          = var.api_key_store
  api_key_kms_key_arn                    = var.api_key_kms_key_arn
  api_key_secret_recovery_window_in_days = var.api_key_secret_recovery_window_in_days

  xray_tracing_enabled           = var.api_xray_tracing_enabled
  detailed_metrics_enabled       = var.api_detailed_metrics_enabled
  execution_logging_level        = var.api_execution_logging_level
  waf_web_acl_arn                = var.waf_web_acl_arn
  manage_account_cloudwatch_role = var.manage_api_gateway_account
  log_retention_in_days          = var.log_retention_in_days
  log_kms_key_arn                = var.log_kms_key_arn
}

################################################################################
# Enrichment consumer: Rust function (functions/enrichment-consumer) on the stream
################################################################################

module "consumer_function" {
  source = "../../infra/modules/lambda-function"

  function_name   = "${var.name_prefix}-consumer"
  description     = "Reads trips from ${local.stream_name}, samples 1 in ${var.sample_every}, adds the fare from ${var.name_prefix}-fare-api, writes JSON lines to S3"
  package_path    = local.consumer_package_path
  timeout_seconds = var.consumer_timeout_seconds
  memory_size_mb  = var.consumer_memory_size_mb

  application_log_level = var.consumer_log_level
  log_retention_in_days = var.log_retention_in_days
  log_kms_key_arn       = var.log_kms_key_arn

  environment_variables = local.consumer_environment
  policy_statements     = local.consumer_policy_statements

  tags = { "kstream:package" = "enrichment-consumer" }
}

# Bisect, bounded retries and record age, the on-failure queue, ReportBatchItemFailures (the module
# always sets it): a trip whose call finally failed becomes a batch item failure, Lambda retries from
# it, and after maximum_retry_attempts its range goes to the failure queue.
module "consumer" {
  source = "../../infra/modules/kinesis-lambda-consumer"

  name               = var.name_prefix
  function_name      = module.consumer_function.function_name
  function_role_name = module.consumer_function.role_name
  stream_arn         = local.stream_arn
  stream_kms_key_arn = var.stream_kms_key_arn

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
# Glue database and table over the enriched rows (Athena, partition projection, no crawler)
################################################################################

# One JSON line per trip (sampled ones with their fare; unsampled ones too with write_unsampled)
# under <output_prefix>dt=<pickup date>/hr=<pickup hour>/ (functions/enrichment-consumer).
module "glue_enriched" {
  source = "../../infra/modules/glue-table"

  name_prefix     = var.name_prefix
  table_name      = "enriched"
  bucket_name     = module.bucket.bucket_name
  location_prefix = var.output_prefix
  columns = [
    { name = "trip_id", type = "bigint" },
    { name = "ride_request_id", type = "bigint", comment = "the id the fare API was called with (trip_id unless the event carries one)" },
    { name = "pickup_datetime", type = "string", comment = "ISO-8601 UTC instant, e.g. 2018-01-01T00:03:12Z (from_iso8601_timestamp() in Athena)" },
    { name = "dropoff_datetime", type = "string", comment = "ISO-8601 UTC instant" },
    { name = "pickup_location_id", type = "int" },
    { name = "dropoff_location_id", type = "int" },
    { name = "passenger_count", type = "int" },
    { name = "trip_distance", type = "double" },
    { name = "total_amount", type = "double" },
    { name = "expected_fare", type = "double", comment = "the fare API's prediction; null for unsampled trips" },
    { name = "sampled", type = "boolean", comment = "ride_request_id % sample_every == 0" },
    { name = "shard_id", type = "string" },
    { name = "sequence_number", type = "string" },
  ]
  partition_keys = [local.dt_partition, local.hr_partition]
}

# The records the consumer could not parse, one JSON line each under <error_prefix>dt=<invocation
# date>/ (functions/enrichment-consumer): what went wrong and the record's bytes, to look at or replay.
module "glue_errors" {
  source = "../../infra/modules/glue-table"

  name_prefix     = var.name_prefix
  create_database = false
  database_name   = module.glue_enriched.database_name
  table_name      = "errors"
  bucket_name     = module.bucket.bucket_name
  location_prefix = var.error_prefix
  columns = [
    { name = "shard_id", type = "string" },
    { name = "sequence_number", type = "string" },
    { name = "partition_key", type = "string" },
    { name = "approximate_arrival_timestamp", type = "string", comment = "when Kinesis received the record, as the consumer writes it" },
    { name = "reason", type = "string", comment = "why the record is not a trip event" },
    { name = "data_base64", type = "string", comment = "the record's bytes, base64 (from_base64() in Athena)" },
  ]
  partition_keys = [local.dt_partition]
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
    { consumer = { function_name = module.consumer_function.function_name, kinesis_consumer = true } },
    local.fare_function_enabled ? { "fare-api" = { function_name = module.fare_function[0].function_name } } : {},
  )
  # 4xx (throttling included), 5xx and p99 latency of the fare API's stage.
  api    = { name = module.api.rest_api_name, stage = module.api.stage_name }
  queues = { failures = module.consumer.failure_queue_name }

  # The consumer's own metrics (EMF, dimension FunctionName): each a Sum per minute.
  metric_alarms = { for name, alarm in {
    "call-failures" = {
      metric_name = "CallFailures"
      threshold   = 1
      description = "Trips whose fare API calls still failed after the retries the invocation and its budget allowed: their records are batch item failures, retried by the mapping, then sent to the failure queue."
    }
    "parse-failures" = {
      metric_name = "ParseFailures"
      threshold   = 1
      description = "Records the consumer could not parse as trip events (not UTF-8, not JSON, no trip_id, bad datetimes): written under the error prefix, not retried."
    }
    "fare-api-throttles" = {
      metric_name = "Throttles"
      threshold   = var.throttles_alarm_threshold
      description = "The fare API answered 429 to the consumer ${var.throttles_alarm_threshold} time(s) or more in a minute: the usage plan's rate or burst (or the quota) is too low for the stream's sampled trips."
    }
    "archive-failures" = {
      metric_name = "ArchiveFailures"
      threshold   = 1
      description = "Failed records whose copy to the failed-record archive could not be written (S3 refused or timed out): they are still reported as failed and reach the failure queue, but without their payload once the stream's retention ends."
    }
    } : name => merge({
      namespace           = var.metrics_namespace
      dimensions          = { FunctionName = module.consumer_function.function_name }
      statistic           = "Sum"
      comparison_operator = "GreaterThanOrEqualToThreshold"
  }, alarm) if name != "archive-failures" || var.failed_record_archive.enabled }
}

################################################################################
# Redrive workflow (optional, off by default): functions/redrive run by a Step Functions state
# machine over the failure queue, on demand or on a schedule
################################################################################

module "redrive" {
  source = "../../infra/modules/redrive-workflow"
  count  = var.redrive_workflow.enabled ? 1 : 0

  name               = "${var.name_prefix}-redrive"
  queue_arn          = module.consumer.failure_queue_arn
  queue_url          = module.consumer.failure_queue_url
  queue_kms_key_arn  = var.failure_queue_kms_key_arn
  stream_arn         = local.stream_arn
  stream_kms_key_arn = var.stream_kms_key_arn

  mode                 = var.redrive_workflow.mode
  function_arn         = var.redrive_workflow.mode == "invoke" ? module.consumer_function.function_arn : null
  s3_bucket_name       = var.redrive_workflow.mode == "s3" ? module.bucket.bucket_name : null
  s3_kms_key_arn       = var.redrive_workflow.mode == "s3" ? module.bucket.kms_key_arn : null
  max_messages         = var.redrive_workflow.max_messages
  delete_unrecoverable = var.redrive_workflow.delete_unrecoverable
  # Longer than one range takes: in invoke mode, one invocation of the consumer and a minute.
  visibility_timeout_seconds = var.redrive_workflow.mode == "invoke" ? max(300, var.consumer_timeout_seconds + 60) : 300

  package_path        = startswith(var.redrive_workflow.package_path, "/") ? var.redrive_workflow.package_path : "${path.module}/../../${var.redrive_workflow.package_path}"
  schedule_expression = var.redrive_workflow.schedule_expression

  notification_topic_arn   = module.alarms.sns_topic_arn
  notification_kms_key_arn = module.alarms.sns_kms_key_arn

  log_retention_in_days = var.log_retention_in_days
  log_kms_key_arn       = var.log_kms_key_arn
  tracing_enabled       = var.redrive_workflow.tracing_enabled
}

################################################################################
# Failed-record archive (optional): the consumer writes each record it reports as a batch item
# failure to a KMS-encrypted, TLS-only bucket whose objects expire; its role may only put objects
# under the prefix (infra/modules/failed-record-archive, kstream_pipeline::archive).
################################################################################

module "failed_record_archive" {
  source = "../../infra/modules/failed-record-archive"
  count  = var.failed_record_archive.enabled ? 1 : 0

  name_prefix        = var.name_prefix
  function_role_name = module.consumer_function.role_name
  prefix             = var.failed_record_archive.prefix
  expiration_days    = var.failed_record_archive.expiration_days
  kms_key_arn        = var.failed_record_archive.kms_key_arn
  force_destroy      = var.force_destroy
  tls_only_policy    = var.bucket_tls_only_policy
}

locals {
  # FAILED_RECORD_ARCHIVE_BUCKET and _PREFIX when the archive is on; nothing (off) otherwise.
  failed_record_archive_environment = var.failed_record_archive.enabled ? module.failed_record_archive[0].environment : {}
}
