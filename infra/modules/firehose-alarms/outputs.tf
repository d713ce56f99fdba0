################################################################################
# Alarms
################################################################################

output "alarm_names" {
  description = "Alarm names by key (firehose-data-freshness, firehose-delivery-success, firehose-throttled-get-records, and with a transform firehose-processing-success, transform-errors, transform-throttles)."
  value       = { for k, a in aws_cloudwatch_metric_alarm.this : k => a.alarm_name }
}

output "alarm_arns" {
  description = "Alarm ARNs by key."
  value       = { for k, a in aws_cloudwatch_metric_alarm.this : k => a.arn }
}

################################################################################
# Dashboard
################################################################################

output "dashboard_widgets" {
  description = "CloudWatch dashboard widgets (objects to jsonencode into a dashboard body's widgets list): the Firehose section, then the transform Lambda section when there is one."
  value       = concat(local.firehose_widgets, local.lambda_widgets)
}
