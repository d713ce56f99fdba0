################################################################################
# One dashboard for the pattern: its body is dashboards/04-kds-enrichment-apigw.json.tftpl
################################################################################

data "aws_region" "current" {}

resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = var.name_prefix
  dashboard_body = templatefile("${path.module}/../../dashboards/04-kds-enrichment-apigw.json.tftpl", {
    name               = var.name_prefix
    region             = data.aws_region.current.name
    stream_name        = local.stream_name
    function_name      = module.consumer_function.function_name
    fare_function_name = one(module.fare_function[*].function_name)
    api_name           = module.api.rest_api_name
    stage_name         = module.api.stage_name
    queue_name         = module.consumer.failure_queue_name
    bucket_name        = module.bucket.bucket_name
    sample_every       = var.sample_every
    metrics_namespace  = var.metrics_namespace
    thresholds         = module.alarms.thresholds
    alarm_arns         = values(module.alarms.alarm_arns)
  })
}
