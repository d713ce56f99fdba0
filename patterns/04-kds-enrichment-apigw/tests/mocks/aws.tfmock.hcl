# Mocked AWS provider of every test of this pattern (tests/*.tftest.hcl and tests/rejected/):
# the values the assertions compare against.
mock_resource "aws_kinesis_stream" {
  defaults = {
    arn = "arn:aws:kinesis:us-east-1:123456789012:stream/kstream-p4-stream"
  }
}
mock_resource "aws_sqs_queue" {
  defaults = {
    arn = "arn:aws:sqs:us-east-1:123456789012:kstream-p4-failures"
    id  = "https://sqs.us-east-1.amazonaws.com/123456789012/kstream-p4-failures"
    url = "https://sqs.us-east-1.amazonaws.com/123456789012/kstream-p4-failures"
  }
}
mock_resource "aws_cloudwatch_metric_alarm" {
  defaults = {
    arn = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:kstream-p4-mock"
  }
}
mock_resource "aws_iam_role" {
  defaults = {
    arn = "arn:aws:iam::123456789012:role/kstream-p4-mock-role"
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
    arn = "arn:aws:sns:us-east-1:123456789012:kstream-p4-alarms"
  }
}
mock_resource "aws_lambda_function" {
  defaults = {
    arn        = "arn:aws:lambda:us-east-1:123456789012:function:kstream-p4-fare-api"
    invoke_arn = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:kstream-p4-fare-api/invocations"
  }
}
mock_resource "aws_kinesis_stream_consumer" {
  defaults = {
    arn = "arn:aws:kinesis:us-east-1:123456789012:stream/kstream-p4-stream/consumer/kstream-p4-consumer:1700000000"
  }
}
mock_resource "aws_api_gateway_rest_api" {
  defaults = {
    id               = "a1b2c3d4e5"
    root_resource_id = "r00t"
    execution_arn    = "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5"
  }
}
mock_resource "aws_api_gateway_stage" {
  defaults = {
    arn        = "arn:aws:apigateway:us-east-1::/restapis/a1b2c3d4e5/stages/prod"
    invoke_url = "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/prod"
  }
}
# The generated key's value: no output may carry it.
mock_resource "aws_api_gateway_api_key" {
  defaults = {
    id    = "k3y1d"
    value = "GeneratedKeyValue0123456789abcdefGHIJ"
  }
}
mock_resource "aws_ssm_parameter" {
  defaults = {
    arn = "arn:aws:ssm:us-east-1:123456789012:parameter/kstream-p4-fare-api/api-key"
  }
}
mock_resource "aws_secretsmanager_secret" {
  defaults = {
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:kstream-p4-fare-api-api-key-AbCdEf"
    id  = "arn:aws:secretsmanager:us-east-1:123456789012:secret:kstream-p4-fare-api-api-key-AbCdEf"
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
