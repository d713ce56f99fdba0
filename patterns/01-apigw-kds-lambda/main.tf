locals {
  # The function package: relative to the repository root, or absolute.
  package_path = startswith(var.consumer_package_path, "/") ? var.consumer_package_path : "${path.module}/../../${var.consumer_package_path}"

  # The stream: the one created below, or the existing one named by var.stream_arn.
  stream_arn  = var.stream_arn == null ? one(module.stream[*].arn) : var.stream_arn
  stream_name = var.stream_arn == null ? one(module.stream[*].name) : regex("[^/]+$", var.stream_arn)
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

# Deployments made before stream_arn existed keep their stream.
moved {
  from = module.stream
  to   = module.stream[0]
}

################################################################################
# REST API: POST /record and POST /records -> the stream
################################################################################

module "api" {
  source = "../../infra/modules/apigw-kinesis-proxy"

  name               = "${var.name_prefix}-api"
  stream_name        = local.stream_name
  stream_arn         = local.stream_arn
  stream_kms_key_arn = var.stream_kms_key_arn

  authorization                  = var.authorization
  cognito_advanced_security_mode = var.cognito_advanced_security_mode
  stage_name                     = var.api_stage_name
  endpoint_type                  = var.api_endpoint_type
  throttling_rate_limit          = var.throttling_rate_limit
  throttling_burst_limit         = var.throttling_burst_limit
  execution_logging_level        = var.api_execution_logging_level
  manage_account_cloudwatch_role = var.manage_api_gateway_account
  log_retention_in_days          = var.log_retention_in_days
  log_kms_key_arn                = var.log_kms_key_arn
  waf_web_acl_arn                = var.waf_web_acl_arn
}

################################################################################
# Consumer: Rust function (functions/kds-consumer) and its event source mapping
################################################################################

module "consumer_function" {
  source = "../../infra/modules/lambda-function"

  function_name   = "${var.name_prefix}-consumer"
  description     = "Reads ${local.stream_name}: deaggregates KPL records, decodes JSON, reports failed sequence numbers"
  package_path    = local.package_path
  timeout_seconds = var.consumer_timeout_seconds
  memory_size_mb  = var.consumer_memory_size_mb

  application_log_level = var.consumer_log_level
  log_retention_in_days = var.log_retention_in_days
  log_kms_key_arn       = var.log_kms_key_arn

  environment_variables = merge(
    {
      POWERTOOLS_SERVICE_NAME      = "${var.name_prefix}-consumer"
      POWERTOOLS_METRICS_NAMESPACE = var.metrics_namespace
    },
    local.failed_record_archive_environment,
    var.consumer_environment,
  )

  # Names the cargo package that builds this function; `kstream local` runs that binary.
  tags = { "kstream:package" = "kds-consumer" }
}

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
  starting_position_timestamp        = var.starting_position_timestamp
  maximum_batching_window_in_seconds = var.maximum_batching_window_in_seconds
  filter_patterns                    = var.filter_patterns

  failure_queue_kms_key_arn = var.failure_queue_kms_key_arn
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
  lambda_functions = {
    consumer = { function_name = module.consumer_function.function_name, kinesis_consumer = true }
  }
  api    = { name = module.api.rest_api_name, stage = module.api.stage_name }
  queues = { failures = module.consumer.failure_queue_name }

  # The consumer's archive writes that failed (EMF, dimension FunctionName), when the archive is on.
  metric_alarms = var.failed_record_archive.enabled ? {
    "archive-failures" = {
      namespace           = var.metrics_namespace
      metric_name         = "ArchiveFailures"
      dimensions          = { FunctionName = module.consumer_function.function_name }
      statistic           = "Sum"
      comparison_operator = "GreaterThanOrEqualToThreshold"
      threshold           = 1
      description         = "Failed records whose copy to the failed-record archive could not be written (S3 refused or timed out): they are still reported as failed and reach the failure queue, but without their payload once the stream's retention ends."
    }
  } : {}
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
  force_destroy      = var.failed_record_archive.force_destroy
  tls_only_policy    = var.failed_record_archive.tls_only_policy
}

locals {
  # FAILED_RECORD_ARCHIVE_BUCKET and _PREFIX when the archive is on; nothing (off) otherwise.
  failed_record_archive_environment = var.failed_record_archive.enabled ? module.failed_record_archive[0].environment : {}
}
