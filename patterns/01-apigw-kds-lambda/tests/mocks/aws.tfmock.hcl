# Mocked AWS provider of every test of this pattern (tests/*.tftest.hcl and tests/rejected/):
# the values the assertions compare against.
mock_resource "aws_kinesis_stream" {
  defaults = {
    arn = "arn:aws:kinesis:us-east-1:123456789012:stream/kstream-p1-stream"
  }
}
mock_resource "aws_sqs_queue" {
  defaults = {
    arn = "arn:aws:sqs:us-east-1:123456789012:kstream-p1-failures"
    id  = "https://sqs.us-east-1.amazonaws.com/123456789012/kstream-p1-failures"
    url = "https://sqs.us-east-1.amazonaws.com/123456789012/kstream-p1-failures"
  }
}
mock_resource "aws_cloudwatch_metric_alarm" {
  defaults = {
    arn = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:kstream-p1-mock"
  }
}
mock_resource "aws_api_gateway_stage" {
  defaults = {
    invoke_url = "https://abc123.execute-api.us-east-1.amazonaws.com/prod"
    arn        = "arn:aws:apigateway:us-east-1::/restapis/abc123/stages/prod"
  }
}
mock_resource "aws_iam_role" {
  defaults = {
    arn = "arn:aws:iam::123456789012:role/kstream-p1-mock-role"
  }
}
mock_resource "aws_cognito_user_pool" {
  defaults = {
    arn = "arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_mock"
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
    arn = "arn:aws:sns:us-east-1:123456789012:kstream-p1-alarms"
  }
}
mock_resource "aws_lambda_function" {
  defaults = {
    arn = "arn:aws:lambda:us-east-1:123456789012:function:kstream-p1-consumer"
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
