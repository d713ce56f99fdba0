# Names, URLs and ARNs only: the API key's value is never an output (the consumer reads it from
# api_key_parameter_name or api_key_secret_arn at cold start).

################################################################################
# Fare API
################################################################################

output "api_url" {
  description = "URL of the fare resource, https://<id>.execute-api.<region>.amazonaws.com/<stage>/predictFare: GET ?ride_request_id=N, signed with SigV4 (execute-api) and the x-api-key header."
  value       = module.api.resource_url
}

output "api_invoke_url" {
  description = "Base URL of the API stage."
  value       = module.api.invoke_url
}

output "rest_api_id" {
  description = "ID of the REST API."
  value       = module.api.rest_api_id
}

output "rest_api_name" {
  description = "Name of the REST API (the ApiName dimension of its metrics)."
  value       = module.api.rest_api_name
}

output "api_stage_name" {
  description = "Stage of the REST API."
  value       = module.api.stage_name
}

output "api_invoke_arn_for_get" {
  description = "ARN callers need execute-api:Invoke on (<execution_arn>/<stage>/GET/<resource_path>)."
  value       = module.api.invoke_arn_for_get
}

output "api_key_id" {
  description = "ID of the API key (not its value)."
  value       = module.api.api_key_id
}

output "api_key_parameter_name" {
  description = "SSM SecureString parameter holding the API key (null with api_key_store = secretsmanager): aws ssm get-parameter --with-decryption --name <this>."
  value       = module.api.api_key_parameter_name
}

output "api_key_secret_arn" {
  description = "Secrets Manager secret holding the API key (null with api_key_store = ssm)."
  value       = module.api.api_key_secret_arn
}

output "fare_function_name" {
  description = "Name of the fare Lambda function (functions/fare-api); null with fare_api_http_integration_uri."
  value       = one(module.fare_function[*].function_name)
}

output "fare_function_log_group_name" {
  description = "Log group of the fare function (null with an HTTP backend)."
  value       = one(module.fare_function[*].log_group_name)
}

output "api_access_log_group_name" {
  description = "Log group of the API's JSON access logs."
  value       = module.api.access_log_group_name
}

################################################################################
# Stream and consumer
################################################################################

output "stream_name" {
  description = "Name of the Kinesis data stream (created, or the existing one of var.stream_arn); kstream replay writes trips here."
  value       = local.stream_name
}

output "stream_arn" {
  description = "ARN of the Kinesis data stream."
  value       = local.stream_arn
}

output "consumer_function_name" {
  description = "Name of the enrichment consumer Lambda function (functions/enrichment-consumer)."
  value       = module.consumer_function.function_name
}

output "consumer_function_arn" {
  description = "ARN of the enrichment consumer."
  value       = module.consumer_function.function_arn
}

output "consumer_log_group_name" {
  description = "Log group of the enrichment consumer."
  value       = module.consumer_function.log_group_name
}

output "event_source_mapping_uuid" {
  description = "UUID of the stream -> consumer event source mapping."
  value       = module.consumer.event_source_mapping_uuid
}

output "failure_queue_url" {
  description = "URL of the SQS queue that receives the metadata (shard, sequence range) of batches that failed all retries."
  value       = module.consumer.failure_queue_url
}

output "failure_queue_name" {
  description = "Name of the failure queue."
  value       = module.consumer.failure_queue_name
}

output "failure_queue_arn" {
  description = "ARN of the failure queue."
  value       = module.consumer.failure_queue_arn
}

################################################################################
# Output
################################################################################

output "bucket_name" {
  description = "Name of the output bucket."
  value       = module.bucket.bucket_name
}

output "output_prefix" {
  description = "Key prefix of the enriched rows (dt=<yyyy-MM-dd>/hr=<HH>/ of the pickup time below it)."
  value       = var.output_prefix
}

output "error_prefix" {
  description = "Key prefix of the records the consumer could not parse (dt=<yyyy-MM-dd>/ below it)."
  value       = var.error_prefix
}

output "glue_database_name" {
  description = "Glue database of the enriched table."
  value       = module.glue_enriched.database_name
}

output "glue_table_name" {
  description = "Glue table over the enriched rows (partition projection on dt and hr)."
  value       = module.glue_enriched.table_name
}

output "glue_errors_table_name" {
  description = "Glue table over the records the consumer could not parse (partition projection on dt)."
  value       = module.glue_errors.table_name
}

################################################################################
# Monitoring
################################################################################

output "dashboard_name" {
  description = "Name of the CloudWatch dashboard."
  value       = aws_cloudwatch_dashboard.this.dashboard_name
}

output "alarm_names" {
  description = "Names of the CloudWatch alarms by key."
  value       = module.alarms.alarm_names
}

output "alarm_topic_arn" {
  description = "SNS topic the alarms notify (null when none)."
  value       = module.alarms.sns_topic_arn
}

output "region" {
  description = "Region of the deployment."
  value       = data.aws_region.current.name
}

################################################################################
# Redrive workflow (null when redrive_workflow.enabled is false)
################################################################################

output "redrive_state_machine_arn" {
  description = "ARN of the redrive workflow's state machine (aws stepfunctions start-execution --state-machine-arn <this>), or null when redrive_workflow.enabled is false."
  value       = one(module.redrive[*].state_machine_arn)
}

output "redrive_function_name" {
  description = "Name of the redrive function, or null when redrive_workflow.enabled is false."
  value       = one(module.redrive[*].function_name)
}

output "failed_record_archive_bucket" {
  description = "Bucket of the failed-record archive (null when failed_record_archive is off)."
  value       = one(module.failed_record_archive[*].bucket_name)
}

output "failed_record_archive_prefix" {
  description = "Key prefix of the archived records (null when failed_record_archive is off)."
  value       = one(module.failed_record_archive[*].prefix)
}
