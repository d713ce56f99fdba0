################################################################################
# Delivery stream
################################################################################

output "delivery_stream_name" {
  description = "Name of the delivery stream (the DeliveryStreamName dimension of its CloudWatch metrics)."
  value       = aws_kinesis_firehose_delivery_stream.this.name
}

output "delivery_stream_arn" {
  description = "ARN of the delivery stream."
  value       = aws_kinesis_firehose_delivery_stream.this.arn
}

output "source_stream_arn" {
  description = "ARN of the Kinesis data stream the delivery stream reads."
  value       = one(aws_kinesis_firehose_delivery_stream.this.kinesis_source_configuration).kinesis_stream_arn
}

output "prefix" {
  description = "S3 key prefix of delivered objects."
  value       = var.prefix
}

output "error_output_prefix" {
  description = "S3 key prefix of records that failed processing or delivery."
  value       = var.error_output_prefix
}

output "file_extension" {
  description = "File extension of delivered objects as configured (FileExtension), or null when Firehose derives it from the compression or format conversion."
  value       = aws_kinesis_firehose_delivery_stream.this.extended_s3_configuration[0].file_extension
}

output "custom_time_zone" {
  description = "Time zone of the timestamps in object keys (CustomTimeZone): UTC or an IANA name."
  value       = aws_kinesis_firehose_delivery_stream.this.extended_s3_configuration[0].custom_time_zone
}

output "processors" {
  description = "The record processors as configured, in order (type and parameters; parameters equal to Firehose's defaults are left out)."
  value       = local.processors
}

output "lambda_processor_settings" {
  description = "The transform's effective processor settings (LambdaArn, NumberOfRetries, RoleArn, BufferSizeInMBs, BufferIntervalInSeconds), defaults included; empty without a transform."
  value       = local.lambda_settings
}

################################################################################
# IAM and logs
################################################################################

output "role_name" {
  description = "Name of the Firehose role."
  value       = aws_iam_role.this.name
}

output "role_arn" {
  description = "ARN of the Firehose role."
  value       = aws_iam_role.this.arn
}

output "log_group_name" {
  description = "Name of the error log group, or null when error logging is off."
  value       = try(aws_cloudwatch_log_group.this[0].name, null)
}
