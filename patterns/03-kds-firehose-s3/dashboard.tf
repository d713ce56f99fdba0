################################################################################
# One dashboard for the pattern: Kinesis stream, Firehose delivery, transform Lambda
################################################################################

data "aws_region" "current" {}

locals {
  stream_name = module.stream.name

  kinesis_widgets = [
    {
      type       = "text", width = 24, height = 1
      properties = { markdown = "# Kinesis Data Stream: ${local.stream_name}" }
    },
    {
      type = "metric", width = 8, height = 6
      properties = {
        title = "Incoming (records, bytes)", region = data.aws_region.current.name, view = "timeSeries", stat = "Sum", period = 60
        metrics = [
          ["AWS/Kinesis", "IncomingRecords", "StreamName", local.stream_name],
          ["AWS/Kinesis", "IncomingBytes", "StreamName", local.stream_name, { yAxis = "right" }],
        ]
      }
    },
    {
      type = "metric", width = 8, height = 6
      properties = {
        title = "Iterator age (ms)", region = data.aws_region.current.name, view = "timeSeries", stat = "Maximum", period = 60
        metrics = [
          ["AWS/Kinesis", "GetRecords.IteratorAgeMilliseconds", "StreamName", local.stream_name],
        ]
      }
    },
    {
      type = "metric", width = 8, height = 6
      properties = {
        title = "Throughput exceeded", region = data.aws_region.current.name, view = "timeSeries", stat = "Average", period = 60
        metrics = [
          ["AWS/Kinesis", "ReadProvisionedThroughputExceeded", "StreamName", local.stream_name],
          ["AWS/Kinesis", "WriteProvisionedThroughputExceeded", "StreamName", local.stream_name],
        ]
      }
    },
    {
      type = "metric", width = 12, height = 6
      properties = {
        title = "PutRecord(s) / GetRecords success", region = data.aws_region.current.name, view = "timeSeries", stat = "Average", period = 60
        yAxis = { left = { min = 0, max = 1 } }
        metrics = [
          ["AWS/Kinesis", "PutRecord.Success", "StreamName", local.stream_name],
          ["AWS/Kinesis", "PutRecords.Success", "StreamName", local.stream_name],
          ["AWS/Kinesis", "GetRecords.Success", "StreamName", local.stream_name],
        ]
      }
    },
    {
      type = "alarm", width = 12, height = 6
      properties = {
        title  = "Stream alarms"
        alarms = values(module.alarms.alarm_arns)
      }
    },
  ]
}

resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = "${var.name_prefix}-dashboard"
  dashboard_body = jsonencode({
    widgets = concat(local.kinesis_widgets, module.firehose_alarms.dashboard_widgets)
  })
}
