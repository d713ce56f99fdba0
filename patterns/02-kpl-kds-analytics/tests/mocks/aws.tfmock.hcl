# Mocked AWS provider of every test of this pattern (tests/*.tftest.hcl and tests/rejected/):
# the values the assertions compare against.
mock_resource "aws_kinesis_stream" {
  defaults = {
    arn = "arn:aws:kinesis:us-east-1:123456789012:stream/kstream-p2-stream"
  }
}
mock_resource "aws_sqs_queue" {
  defaults = {
    arn = "arn:aws:sqs:us-east-1:123456789012:kstream-p2-failures"
    id  = "https://sqs.us-east-1.amazonaws.com/123456789012/kstream-p2-failures"
    url = "https://sqs.us-east-1.amazonaws.com/123456789012/kstream-p2-failures"
  }
}
mock_resource "aws_cloudwatch_metric_alarm" {
  defaults = {
    arn = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:kstream-p2-mock"
  }
}
mock_resource "aws_iam_role" {
  defaults = {
    arn = "arn:aws:iam::123456789012:role/kstream-p2-mock-role"
  }
}
mock_resource "aws_cloudwatch_log_group" {
  defaults = {
    arn = "arn:aws:logs:us-east-1:123456789012:log-group:mock"
  }
}
mock_resource "aws_kms_key" {
  defaults = {
    arn = "arn:aws:kms:us-east-1:123456789012:key/mock"
  }
}
mock_resource "aws_sns_topic" {
  defaults = {
    arn = "arn:aws:sns:us-east-1:123456789012:kstream-p2-alarms"
  }
}
mock_resource "aws_lambda_function" {
  defaults = {
    arn = "arn:aws:lambda:us-east-1:123456789012:function:kstream-p2-analytics"
  }
}
mock_data "aws_caller_identity" {
  defaults = {
    account_id = "123456789012"
  }
}
mock_data "aws_partition" {
  defaults = {
    partition = "aws"
  }
}
mock_data "aws_region" {
  defaults = {
    name = "us-east-1"
  }
}
mock_resource "aws_scheduler_schedule" {
  defaults = {
    arn = "arn:aws:scheduler:us-east-1:123456789012:schedule/default/kstream-p2-producer"
  }
}
mock_resource "aws_kinesis_stream_consumer" {
  defaults = {
    arn = "arn:aws:kinesis:us-east-1:123456789012:stream/kstream-p2-stream/consumer/kstream-p2-consumer:1700000000"
  }
}
