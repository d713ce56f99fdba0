################################################################################
# Stream and delivery
################################################################################

output "stream_name" {
  description = "Name of the source Kinesis data stream, created or the existing one of var.stream_arn (put records here)."
  value       = local.stream_name
}

output "stream_arn" {
  description = "ARN of the source Kinesis data stream."
  value       = local.stream_arn
}

output "delivery_stream_name" {
  description = "Name of the Firehose delivery stream."
  value       = module.firehose.delivery_stream_name
}

output "delivery_stream_arn" {
  description = "ARN of the Firehose delivery stream."
  value       = module.firehose.delivery_stream_arn
}

output "function_name" {
  description = "Name of the transform Lambda function."
  value       = module.transform.function_name
}

################################################################################
# Output
################################################################################

output "bucket_name" {
  description = "Name of the output bucket."
  value       = module.bucket.bucket_name
}

output "data_prefix" {
  description = "S3 key prefix of delivered objects."
  value       = module.firehose.prefix
}

output "error_output_prefix" {
  description = "S3 key prefix of failed records (processing-failed, ...)."
  value       = module.firehose.error_output_prefix
}

output "glue_database_name" {
  description = "Glue database of the output table."
  value       = module.glue.database_name
}

output "glue_table_name" {
  description = "Glue table over the output (query it with Athena; partition projection, no crawler)."
  value       = module.glue.table_name
}

################################################################################
# Monitoring
################################################################################

output "dashboard_name" {
  description = "Name of the CloudWatch dashboard."
  value       = aws_cloudwatch_dashboard.this.dashboard_name
}

output "alarm_names" {
  description = "Every alarm of the pattern by key: the stream's and the delivery stream's."
  value       = merge(module.alarms.alarm_names, module.firehose_alarms.alarm_names)
}

output "alarm_topic_arn" {
  description = "SNS topic the alarms notify (null when none)."
  value       = module.alarms.sns_topic_arn
}

output "region" {
  description = "Region of the deployment."
  value       = data.aws_region.current.name
}
