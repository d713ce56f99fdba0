################################################################################
# One dashboard for the pattern: its body is dashboards/01-apigw-kds-lambda.json.tftpl
################################################################################

data "aws_region" "current" {}

resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = var.name_prefix
  dashboard_body = templatefile("${path.module}/../../dashboards/01-apigw-kds-lambda.json.tftpl", {
    name              = var.name_prefix
    region            = data.aws_region.current.name
    stream_name       = local.stream_name
    function_name     = module.consumer_function.function_name
    api_name          = module.api.rest_api_name
    stage_name        = module.api.stage_name
    queue_name        = module.consumer.failure_queue_name
    metrics_namespace = var.metrics_namespace
    thresholds        = module.alarms.thresholds
    alarm_arns        = values(module.alarms.alarm_arns)
  })
}
