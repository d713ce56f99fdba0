################################################################################
# Event source mapping
################################################################################

output "event_source_mapping_uuid" {
  description = "UUID of the event source mapping."
  value       = aws_lambda_event_source_mapping.this.uuid
}

output "event_source_mapping_arn" {
  description = "ARN of the event source mapping."
  value       = aws_lambda_event_source_mapping.this.arn
}

output "stream_consumer_arn" {
  description = "ARN of the enhanced fan-out stream consumer the mapping reads through, or null without enhanced_fan_out."
  value       = local.consumer_arn
}

output "stream_consumer_name" {
  description = "Name of the enhanced fan-out stream consumer, or null without enhanced_fan_out."
  value       = one(aws_kinesis_stream_consumer.this[*].name)
}

################################################################################
# Failure queue
################################################################################

output "failure_queue_name" {
  description = "Name of the on-failure SQS queue (the QueueName dimension of its metrics)."
  value       = module.failure_queue.name
}

output "failure_queue_arn" {
  description = "ARN of the on-failure SQS queue."
  value       = module.failure_queue.arn
}

output "failure_queue_url" {
  description = "URL of the on-failure SQS queue."
  value       = module.failure_queue.url
}

output "settings" {
  description = "The mapping's settings as planned/applied (read back from the resource, for tests and for the local data plane)."
  value = {
    batch_size                         = aws_lambda_event_source_mapping.this.batch_size
    parallelization_factor             = aws_lambda_event_source_mapping.this.parallelization_factor
    maximum_retry_attempts             = aws_lambda_event_source_mapping.this.maximum_retry_attempts
    maximum_record_age_in_seconds      = aws_lambda_event_source_mapping.this.maximum_record_age_in_seconds
    bisect_batch_on_function_error     = aws_lambda_event_source_mapping.this.bisect_batch_on_function_error
    starting_position                  = aws_lambda_event_source_mapping.this.starting_position
    maximum_batching_window_in_seconds = aws_lambda_event_source_mapping.this.maximum_batching_window_in_seconds
    function_response_types            = aws_lambda_event_source_mapping.this.function_response_types
    tumbling_window_in_seconds         = aws_lambda_event_source_mapping.this.tumbling_window_in_seconds
    event_source_arn                   = aws_lambda_event_source_mapping.this.event_source_arn
    on_failure_destination_arn         = one(one(aws_lambda_event_source_mapping.this.destination_config).on_failure).destination_arn
  }
}
