################################################################################
# Alarms
################################################################################

output "alarm_names" {
  description = "Alarm names by key (kinesis-iterator-age, lambda-<fn>-errors, api-5xx-errors, sqs-<queue>-depth, ...)."
  value       = { for k, a in aws_cloudwatch_metric_alarm.this : k => a.alarm_name }
}

output "alarm_arns" {
  description = "Alarm ARNs by key."
  value       = { for k, a in aws_cloudwatch_metric_alarm.this : k => a.arn }
}

output "thresholds" {
  description = "Threshold of each alarm by key (for dashboard annotations)."
  value       = { for k, a in local.alarms : k => a.threshold }
}

################################################################################
# Notification
################################################################################

output "sns_topic_arn" {
  description = "ARN of the topic the alarms notify (created or given), or null when they have no actions."
  value       = local.topic_arn
}

output "sns_kms_key_arn" {
  description = "ARN of the KMS key of the created topic, or null."
  value       = try(aws_kms_key.sns[0].arn, var.sns_kms_key_arn)
}

output "alarms" {
  description = "Each alarm's namespace, metric, dimensions, statistic, comparison and threshold by key (read back from the resources)."
  value = {
    for k, a in aws_cloudwatch_metric_alarm.this : k => {
      namespace           = a.namespace
      metric_name         = a.metric_name
      dimensions          = a.dimensions
      statistic           = coalesce(a.statistic, a.extended_statistic)
      comparison_operator = a.comparison_operator
      threshold           = a.threshold
    }
  }
}
