################################################################################
# Stream, analytics and producer
################################################################################

output "stream_name" {
  description = "Name of the Kinesis data stream (created, or the existing one of var.stream_arn); producers write here."
  value       = local.stream_name
}

output "stream_arn" {
  description = "ARN of the Kinesis data stream."
  value       = local.stream_arn
}

output "function_name" {
  description = "Name of the analytics Lambda function (functions/stream-analytics)."
  value       = module.analytics_function.function_name
}

output "function_arn" {
  description = "ARN of the analytics Lambda function."
  value       = module.analytics_function.function_arn
}

output "function_log_group_name" {
  description = "Log group of the analytics function."
  value       = module.analytics_function.log_group_name
}

output "event_source_mapping_uuid" {
  description = "UUID of the stream -> analytics event source mapping."
  value       = module.analytics.event_source_mapping_uuid
}

output "tumbling_window_in_seconds" {
  description = "Tumbling window of the analytics mapping, in seconds (read back from the mapping)."
  value       = module.analytics.settings.tumbling_window_in_seconds
}

output "stream_consumer_arn" {
  description = "ARN of the enhanced fan-out consumer the mapping reads through (null without enhanced_fan_out)."
  value       = module.analytics.stream_consumer_arn
}

output "failure_queue_url" {
  description = "URL of the SQS queue that receives the metadata of batches that failed all retries."
  value       = module.analytics.failure_queue_url
}

output "failure_queue_name" {
  description = "Name of the failure queue."
  value       = module.analytics.failure_queue_name
}

output "failure_queue_arn" {
  description = "ARN of the failure queue."
  value       = module.analytics.failure_queue_arn
}

output "producer_function_name" {
  description = "Name of the scheduled producer function (null when scheduled_producer_enabled is false)."
  value       = one(module.producer_function[*].function_name)
}

output "schedule_name" {
  description = "Name of the EventBridge Scheduler schedule of the producer, group default (null when scheduled_producer_enabled is false)."
  value       = one(module.producer_schedule[*].schedule_name)
}

output "schedule_dlq_url" {
  description = "URL of the schedule's dead-letter queue (null when scheduled_producer_enabled is false)."
  value       = one(module.producer_schedule[*].dlq_url)
}

################################################################################
# Output
################################################################################

output "bucket_name" {
  description = "Name of the output bucket."
  value       = module.bucket.bucket_name
}

output "rows_prefix" {
  description = "Key prefix of the filtered rows (ticker=<ticker>/dt=<yyyy-MM-dd>/hr=<HH>/ below it)."
  value       = var.rows_prefix
}

output "aggregates_prefix" {
  description = "Key prefix of the window aggregates (dt=<yyyy-MM-dd>/hr=<HH>/ below it)."
  value       = var.aggregates_prefix
}

output "glue_database_name" {
  description = "Glue database of the two tables."
  value       = module.glue_filtered.database_name
}

output "glue_filtered_table_name" {
  description = "Glue table over the filtered rows (partition projection; Athena queries name the ticker)."
  value       = module.glue_filtered.table_name
}

output "glue_aggregates_table_name" {
  description = "Glue table over the window aggregates (partition projection)."
  value       = module.glue_aggregates.table_name
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

output "flink_application_name" {
  description = "Name of the Managed Flink application (aws kinesisanalyticsv2 start-application --application-name), or null when flink_enabled is false."
  value       = one(module.flink[*].application_name)
}

output "flink_log_group_name" {
  description = "Log group of the Managed Flink application, or null."
  value       = one(module.flink[*].log_group_name)
}

output "flink_rows_prefix" {
  description = "Key prefix of the Flink application's filtered rows in bucket_name, or null."
  value       = one(module.flink[*].rows_prefix)
}

output "flink_aggregates_prefix" {
  description = "Key prefix of the Flink application's window aggregates in bucket_name, or null."
  value       = one(module.flink[*].aggregates_prefix)
}

output "producer_host_instance_id" {
  description = "Instance id of the EC2 producer host (aws ssm start-session --target <id>), or null when producer_host_enabled is false."
  value       = one(module.producer_host[*].instance_id)
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
