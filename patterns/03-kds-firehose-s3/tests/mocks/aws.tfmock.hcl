# Mocked AWS provider of every test of this pattern (tests/*.tftest.hcl and tests/rejected/):
# the values the assertions compare against.
mock_data "aws_caller_identity" {
  defaults = {
    account_id = "123456789012"
  }
}
mock_data "aws_region" {
  defaults = {
    name = "us-east-1"
  }
}
mock_data "aws_partition" {
  defaults = {
    partition = "aws"
  }
}
mock_resource "aws_kinesis_stream" {
  defaults = {
    arn = "arn:aws:kinesis:us-east-1:123456789012:stream/kstream-p3-stream"
  }
}
mock_resource "aws_lambda_function" {
  defaults = {
    arn = "arn:aws:lambda:us-east-1:123456789012:function:kstream-p3-transform"
  }
}
mock_resource "aws_iam_role" {
  defaults = {
    arn = "arn:aws:iam::123456789012:role/kstream-p3-role"
  }
}
mock_resource "aws_kinesis_firehose_delivery_stream" {
  defaults = {
    arn = "arn:aws:firehose:us-east-1:123456789012:deliverystream/kstream-p3-delivery"
  }
}
mock_resource "aws_sns_topic" {
  defaults = {
    arn = "arn:aws:sns:us-east-1:123456789012:kstream-p3-alarms"
  }
}
mock_resource "aws_kms_key" {
  defaults = {
    arn = "arn:aws:kms:us-east-1:123456789012:key/mock"
  }
}
mock_resource "aws_cloudwatch_metric_alarm" {
  defaults = {
    arn = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:mock"
  }
}
