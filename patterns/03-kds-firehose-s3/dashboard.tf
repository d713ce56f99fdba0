################################################################################
# One dashboard for the pattern: its body is dashboards/03-kds-firehose-s3.json.tftpl (the stream),
# followed by the delivery stream's and the transform's widgets from the firehose-alarms module
################################################################################

data "aws_region" "current" {}

resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = "${var.name_prefix}-dashboard"
  dashboard_body = templatefile("${path.module}/../../dashboards/03-kds-firehose-s3.json.tftpl", {
    region           = data.aws_region.current.name
    stream_name      = local.stream_name
    alarm_arns       = values(module.alarms.alarm_arns)
    firehose_widgets = module.firehose_alarms.dashboard_widgets
  })
}
