# Pattern 3: Kinesis Data Stream → Kinesis Data Firehose (transform Lambda in Rust) → S3,
# with a Glue table over the output, alarms and one dashboard.

locals {
  # The function package: relative to the repository root, or absolute.
  package_path = startswith(var.transform_package_path, "/") ? var.transform_package_path : "${path.module}/../../${var.transform_package_path}"

  # The stream: the one created below, or the existing one named by var.stream_arn.
  stream_arn  = var.stream_arn == null ? one(module.stream[*].arn) : var.stream_arn
  stream_name = var.stream_arn == null ? one(module.stream[*].name) : regex("[^/]+$", var.stream_arn)

  # The static start of the data prefix (before the first !{...}, cut at its last /) is where the
  # Glue table's partition folders begin: "data/year=!{timestamp:yyyy}/..." → "data/".
  data_prefix_static   = split("!{", var.data_prefix)[0]
  data_prefix_segments = split("/", local.data_prefix_static)
  glue_location_prefix = length(local.data_prefix_segments) > 1 ? "${join("/", slice(local.data_prefix_segments, 0, length(local.data_prefix_segments) - 1))}/" : ""

  # Configuration of functions/firehose-transform (the transform engine in crates/transform reads it),
  # read once per cold start.
  transform_environment = merge(
    {
      OUTPUT_FORMAT     = var.transform_output_format
      FLATTEN           = tostring(var.transform_flatten)
      NEWLINE_DELIMITER = tostring(var.transform_newline)
    },
    var.transform_template == null ? {} : { TEMPLATE = var.transform_template },
    var.transform_filter == null ? {} : { FILTER = var.transform_filter },
    length(var.transform_partition_keys) == 0 ? {} : { PARTITION_KEYS = jsonencode(var.transform_partition_keys) },
  )
}

################################################################################
# Source stream (unless var.stream_arn names an existing one)
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
# Transform Lambda
################################################################################

module "transform" {
  source = "../../infra/modules/lambda-function"

  function_name         = "${var.name_prefix}-transform"
  description           = "kstream pattern 3: Firehose record transform (Handlebars template, flatten, filter, partition keys)"
  package_path          = local.package_path
  architecture          = "arm64"
  memory_size_mb        = var.transform_memory_mb
  timeout_seconds       = var.transform_timeout_seconds
  environment_variables = local.transform_environment
  application_log_level = var.transform_log_level
  log_kms_key_arn       = var.log_kms_key_arn

  # Names the cargo package that builds this function; `kstream local` runs that binary.
  tags = { "kstream:package" = "firehose-transform" }
}

################################################################################
# Delivery stream
################################################################################

module "firehose" {
  source = "../../infra/modules/firehose-s3"

  name_prefix                = var.name_prefix
  kinesis_stream_arn         = local.stream_arn
  kinesis_stream_kms_key_arn = var.stream_kms_key_arn

  bucket_arn                 = module.bucket.bucket_arn
  bucket_kms_key_arn         = module.bucket.kms_key_arn
  buffering_size_mb          = var.buffering_size_mb
  buffering_interval_seconds = var.buffering_interval_seconds
  compression_format         = var.compression_format
  prefix                     = var.data_prefix
  error_output_prefix        = var.error_output_prefix
  file_extension             = var.file_extension
  custom_time_zone           = var.custom_time_zone

  dynamic_partitioning_enabled       = var.dynamic_partitioning_enabled
  dynamic_partitioning_retry_seconds = var.dynamic_partitioning_retry_seconds
  metadata_extraction_query          = var.metadata_extraction_query
  append_newline_delimiter           = var.append_newline_delimiter

  lambda_function_arn            = module.transform.function_arn
  lambda_buffer_size_mb          = var.buffer_size_mb
  lambda_buffer_interval_seconds = var.buffer_interval_seconds
  lambda_number_of_retries       = var.transform_number_of_retries

  error_logging_enabled = true
  log_retention_in_days = var.error_log_retention_days
  log_kms_key_arn       = var.log_kms_key_arn
  s3_backup_enabled     = var.s3_backup_enabled

  parquet_conversion_enabled = var.parquet_conversion_enabled
  glue_database_name         = module.glue.database_name
  glue_table_name            = module.glue.table_name
}

################################################################################
# Glue table over the output (Athena, partition projection, no crawler)
################################################################################

module "glue" {
  source = "../../infra/modules/glue-table"

  name_prefix     = var.name_prefix
  bucket_name     = module.bucket.bucket_name
  location_prefix = local.glue_location_prefix
  columns         = var.glue_columns
  partition_keys  = var.glue_partition_keys
  format          = var.parquet_conversion_enabled ? "parquet" : "json"
}

################################################################################
# Alarms: the stream's (shared alarms module, with the SNS topic) and Firehose's
################################################################################

module "alarms" {
  source = "../../infra/modules/alarms"

  name_prefix         = var.name_prefix
  create_sns_topic    = var.create_alarm_topic
  sns_topic_arn       = var.alarm_topic_arn
  alarm_email         = var.alarm_email
  kinesis_stream_name = local.stream_name
}

module "firehose_alarms" {
  source = "../../infra/modules/firehose-alarms"

  name_prefix                      = var.name_prefix
  delivery_stream_name             = module.firehose.delivery_stream_name
  lambda_function_name             = module.transform.function_name
  alarm_actions                    = module.alarms.sns_topic_arn == null ? [] : [module.alarms.sns_topic_arn]
  data_freshness_threshold_seconds = var.data_freshness_threshold_seconds
}
