output "application_name" {
  description = "Name of the application (the Application dimension of its metrics; aws kinesisanalyticsv2 start-application --application-name)."
  value       = aws_kinesisanalyticsv2_application.this.name
}

output "application_arn" {
  description = "ARN of the application."
  value       = aws_kinesisanalyticsv2_application.this.arn
}

output "role_name" {
  description = "Name of the service execution role."
  value       = aws_iam_role.this.name
}

output "role_arn" {
  description = "ARN of the service execution role."
  value       = aws_iam_role.this.arn
}

output "log_group_name" {
  description = "Name of the application's log group."
  value       = aws_cloudwatch_log_group.this.name
}

output "log_stream_arn" {
  description = "ARN of the log stream the application writes to."
  value       = aws_cloudwatch_log_stream.this.arn
}

output "rows_prefix" {
  description = "Key prefix of the filtered rows (ticker=…/dt=…/hr=…/ below it)."
  value       = var.rows_prefix
}

output "aggregates_prefix" {
  description = "Key prefix of the window aggregates (dt=…/hr=…/ below it)."
  value       = var.aggregates_prefix
}

output "alarm_names" {
  description = "Names of the alarms, keyed by alarm key (flink-kpus, flink-downtime, flink-failed-checkpoints, flink-millis-behind-latest)."
  value       = { for k, a in aws_cloudwatch_metric_alarm.this : k => a.alarm_name }
}

output "alarm_arns" {
  description = "ARNs of the alarms, keyed by alarm key."
  value       = { for k, a in aws_cloudwatch_metric_alarm.this : k => a.arn }
}

output "properties" {
  description = "The kstream property group the application reads (input stream, region, output bucket and prefixes, threshold, window, watermark delay), as deployed."
  value       = local.properties
}
