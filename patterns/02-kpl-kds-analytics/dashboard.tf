################################################################################
# One dashboard for the pattern: its body is dashboards/02-kpl-kds-analytics.json.tftpl
################################################################################

data "aws_region" "current" {}

resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = var.name_prefix
  dashboard_body = templatefile("${path.module}/../../dashboards/02-kpl-kds-analytics.json.tftpl", {
    name              = var.name_prefix
    region            = data.aws_region.current.name
    stream_name       = local.stream_name
    function_name     = module.analytics_function.function_name
    producer_name     = one(module.producer_function[*].function_name)
    queue_name        = module.analytics.failure_queue_name
    dlq_name          = one(module.producer_schedule[*].dlq_name)
    bucket_name       = module.bucket.bucket_name
    window_seconds    = var.tumbling_window_in_seconds
    metrics_namespace = var.metrics_namespace
    thresholds        = module.alarms.thresholds
    alarm_arns        = values(module.alarms.alarm_arns)
  })
}
