################################################################################
# Entry point
################################################################################

output "api_endpoint" {
  description = "Invoke URL of the API stage (https://<id>.execute-api.<region>.amazonaws.com/<stage>); POST to <api_endpoint>/record and <api_endpoint>/records."
  value       = module.api.invoke_url
}

output "rest_api_id" {
  description = "ID of the REST API."
  value       = module.api.rest_api_id
}

output "rest_api_name" {
  description = "Name of the REST API."
  value       = module.api.rest_api_name
}

output "api_stage_name" {
  description = "Stage of the REST API."
  value       = module.api.stage_name
}

output "authorization" {
  description = "How API callers authenticate: COGNITO or AWS_IAM."
  value       = module.api.authorization
}

output "user_pool_id" {
  description = "Cognito user pool ID (null with AWS_IAM)."
  value       = module.api.user_pool_id
}

output "user_pool_client_id" {
  description = "Cognito app client ID (null with AWS_IAM)."
  value       = module.api.user_pool_client_id
}

################################################################################
# Stream and consumer
################################################################################

output "stream_name" {
  description = "Name of the Kinesis data stream (created, or the existing one of var.stream_arn)."
  value       = local.stream_name
}

output "stream_arn" {
  description = "ARN of the Kinesis data stream."
  value       = local.stream_arn
}

output "consumer_function_name" {
  description = "Name of the consumer Lambda function (cargo lambda deploy <name>)."
  value       = module.consumer_function.function_name
}

output "consumer_function_arn" {
  description = "ARN of the consumer Lambda function."
  value       = module.consumer_function.function_arn
}

output "consumer_log_group_name" {
  description = "Log group of the consumer."
  value       = module.consumer_function.log_group_name
}

output "event_source_mapping_uuid" {
  description = "UUID of the stream -> consumer event source mapping."
  value       = module.consumer.event_source_mapping_uuid
}

output "failure_queue_url" {
  description = "URL of the SQS queue that receives the metadata of batches that failed all retries."
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
