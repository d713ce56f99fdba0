# The module with a mocked provider: the resource, its auth and backend (Lambda or HTTP), the
# usage plan, where the key is kept, the stage's logs, tracing and WAF, and rejected values.
mock_provider "aws" {
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
  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::123456789012:role/kstream-test-api-apigw-cloudwatch"
    }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = {
      arn = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/apigateway/kstream-test-api/prod/access"
    }
  }
  mock_resource "aws_ssm_parameter" {
    defaults = {
      arn = "arn:aws:ssm:us-east-1:123456789012:parameter/kstream-test-api/api-key"
    }
  }
  mock_resource "aws_secretsmanager_secret" {
    defaults = {
      arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:kstream-test-api-api-key-AbCdEf"
      id  = "arn:aws:secretsmanager:us-east-1:123456789012:secret:kstream-test-api-api-key-AbCdEf"
    }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_data "aws_region" {
    defaults = { name = "us-east-1" }
  }
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
}

variables {
  name                 = "kstream-test-api"
  lambda_function_name = "kstream-test-fare"
  lambda_invoke_arn    = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:kstream-test-fare/invocations"
}

run "get_resource_with_iam_and_a_required_key" {
  command = plan

  assert {
    condition     = aws_api_gateway_resource.this.path_part == "predictFare" && aws_api_gateway_method.get.http_method == "GET"
    error_message = "the resource is GET /predictFare by default"
  }
  assert {
    condition     = aws_api_gateway_method.get.authorization == "AWS_IAM" && aws_api_gateway_method.get.api_key_required
    error_message = "the method needs SigV4 (AWS_IAM) and an API key"
  }
  assert {
    condition     = aws_api_gateway_rest_api.this.api_key_source == "HEADER" && aws_api_gateway_rest_api.this.endpoint_configuration[0].types == tolist(["REGIONAL"])
    error_message = "the key comes in the x-api-key header; a REGIONAL endpoint by default"
  }
}

run "lambda_backend" {
  command = apply

  assert {
    condition = (
      aws_api_gateway_integration.this.type == "AWS_PROXY" &&
      aws_api_gateway_integration.this.integration_http_method == "POST" &&
      aws_api_gateway_integration.this.uri == var.lambda_invoke_arn &&
      aws_api_gateway_integration.this.timeout_milliseconds == 29000
    )
    error_message = "a Lambda proxy integration (POST to Lambda's Invoke) with the function's invoke ARN, 29 s timeout"
  }
  assert {
    condition = (
      length(aws_lambda_permission.api) == 1 &&
      aws_lambda_permission.api[0].function_name == "kstream-test-fare" &&
      aws_lambda_permission.api[0].principal == "apigateway.amazonaws.com" &&
      aws_lambda_permission.api[0].action == "lambda:InvokeFunction" &&
      aws_lambda_permission.api[0].source_arn == "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/prod/GET/predictFare"
    )
    error_message = "API Gateway may invoke the function from GET /predictFare of the stage only"
  }
  assert {
    condition     = output.invoke_arn_for_get == "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/prod/GET/predictFare" && output.execution_arn == "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5"
    error_message = "invoke_arn_for_get is <execution_arn>/<stage>/GET/<resource_path>"
  }
  assert {
    condition     = output.resource_url == "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/prod/predictFare" && output.invoke_url == "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/prod"
    error_message = "resource_url is invoke_url/<resource_path>"
  }
  assert {
    condition     = output.integration_type == "AWS_PROXY" && output.rest_api_id == "a1b2c3d4e5" && output.stage_name == "prod"
    error_message = "integration, id and stage outputs"
  }
}

run "http_backend" {
  command = apply

  variables {
    lambda_function_name   = null
    lambda_invoke_arn      = null
    http_integration_uri   = "https://fares.example.com/v1/predict"
    integration_timeout_ms = 5000
    resource_path          = "fare"
    stage_name             = "v1"
  }

  assert {
    condition = (
      aws_api_gateway_integration.this.type == "HTTP_PROXY" &&
      aws_api_gateway_integration.this.integration_http_method == "GET" &&
      aws_api_gateway_integration.this.uri == "https://fares.example.com/v1/predict" &&
      aws_api_gateway_integration.this.timeout_milliseconds == 5000
    )
    error_message = "an HTTP proxy integration passes the GET on to the URI"
  }
  assert {
    condition     = length(aws_lambda_permission.api) == 0 && output.integration_type == "HTTP_PROXY"
    error_message = "no Lambda permission with an HTTP backend"
  }
  assert {
    condition     = aws_api_gateway_resource.this.path_part == "fare" && output.invoke_arn_for_get == "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/v1/GET/fare"
    error_message = "the resource path and stage reach the method ARN"
  }
  assert {
    condition     = aws_api_gateway_method.get.authorization == "AWS_IAM" && aws_api_gateway_method.get.api_key_required
    error_message = "the HTTP backend keeps IAM and the key"
  }
}

run "usage_plan_throttles_the_key_without_quota" {
  command = apply

  assert {
    condition = (
      aws_api_gateway_usage_plan.this.throttle_settings[0].rate_limit == 20 &&
      aws_api_gateway_usage_plan.this.throttle_settings[0].burst_limit == 100 &&
      length(aws_api_gateway_usage_plan.this.quota_settings) == 0
    )
    error_message = "the usage plan throttles at 20 rps, burst 100, and has no quota by default"
  }
  assert {
    condition     = one(aws_api_gateway_usage_plan.this.api_stages).api_id == "a1b2c3d4e5" && one(aws_api_gateway_usage_plan.this.api_stages).stage == "prod"
    error_message = "the plan covers the API's stage"
  }
  assert {
    condition     = aws_api_gateway_usage_plan_key.this.key_id == "k3y1d" && aws_api_gateway_usage_plan_key.this.key_type == "API_KEY" && aws_api_gateway_usage_plan_key.this.usage_plan_id == aws_api_gateway_usage_plan.this.id
    error_message = "the key is in the plan"
  }
  assert {
    condition     = output.api_key_id == "k3y1d" && output.usage_plan_id == aws_api_gateway_usage_plan.this.id
    error_message = "key id and plan id outputs"
  }
}

run "quota_when_asked" {
  command = apply

  variables {
    quota_limit          = 100000
    quota_period         = "WEEK"
    throttle_rate_limit  = 5.5
    throttle_burst_limit = 10
  }

  assert {
    condition     = aws_api_gateway_usage_plan.this.quota_settings[0].limit == 100000 && aws_api_gateway_usage_plan.this.quota_settings[0].period == "WEEK"
    error_message = "the quota reaches the plan"
  }
  assert {
    condition     = aws_api_gateway_usage_plan.this.throttle_settings[0].rate_limit == 5.5 && aws_api_gateway_usage_plan.this.throttle_settings[0].burst_limit == 10
    error_message = "the throttle settings reach the plan"
  }
}

run "key_generated_by_api_gateway_and_kept_in_ssm" {
  command = apply

  assert {
    condition     = aws_api_gateway_api_key.this.enabled && aws_api_gateway_api_key.this.name == "kstream-test-api-key"
    error_message = "an enabled key whose value API Gateway generates"
  }
  assert {
    condition = (
      length(aws_ssm_parameter.api_key) == 1 && length(aws_secretsmanager_secret.api_key) == 0 &&
      aws_ssm_parameter.api_key[0].name == "/kstream-test-api/api-key" &&
      aws_ssm_parameter.api_key[0].type == "SecureString" &&
      nonsensitive(aws_ssm_parameter.api_key[0].value) == "GeneratedKeyValue0123456789abcdefGHIJ"
    )
    error_message = "the generated key is kept in a SecureString /<name>/api-key (AWS-managed key)"
  }
  assert {
    condition     = output.api_key_parameter_name == "/kstream-test-api/api-key" && output.api_key_parameter_arn == "arn:aws:ssm:us-east-1:123456789012:parameter/kstream-test-api/api-key" && output.api_key_secret_arn == null && output.api_key_kms_key_arn == null
    error_message = "the parameter's name and ARN are outputs; no secret"
  }
  assert {
    condition = !strcontains(jsonencode([
      output.rest_api_id, output.rest_api_name, output.stage_name, output.invoke_url, output.resource_url,
      output.resource_path, output.execution_arn, output.invoke_arn_for_get, output.integration_type,
      output.api_key_id, output.usage_plan_id, output.api_key_store, output.api_key_parameter_name,
      output.api_key_parameter_arn, output.api_key_secret_arn, output.api_key_kms_key_arn,
      output.access_log_group_name, output.execution_log_group_name, output.web_acl_association_id,
    ]), "GeneratedKeyValue0123456789abcdefGHIJ")
    error_message = "no output may carry the key's value"
  }
}

run "key_in_ssm_with_a_customer_key_and_a_given_name" {
  command = apply

  variables {
    api_key_parameter_name = "/acme/fares/key"
    api_key_kms_key_arn    = "arn:aws:kms:us-east-1:123456789012:key/api-key"
  }

  assert {
    condition     = aws_ssm_parameter.api_key[0].name == "/acme/fares/key" && aws_ssm_parameter.api_key[0].key_id == "arn:aws:kms:us-east-1:123456789012:key/api-key"
    error_message = "the parameter takes the given name and customer key"
  }
  assert {
    condition     = output.api_key_kms_key_arn == "arn:aws:kms:us-east-1:123456789012:key/api-key"
    error_message = "readers learn which key to decrypt with"
  }
}

run "key_in_secrets_manager" {
  command = apply

  variables {
    api_key_store                          = "secretsmanager"
    api_key_kms_key_arn                    = "arn:aws:kms:us-east-1:123456789012:key/api-key"
    api_key_secret_recovery_window_in_days = 0
  }

  assert {
    condition = (
      length(aws_ssm_parameter.api_key) == 0 && length(aws_secretsmanager_secret.api_key) == 1 &&
      aws_secretsmanager_secret.api_key[0].name == "kstream-test-api-api-key" &&
      aws_secretsmanager_secret.api_key[0].kms_key_id == "arn:aws:kms:us-east-1:123456789012:key/api-key" &&
      aws_secretsmanager_secret.api_key[0].recovery_window_in_days == 0
    )
    error_message = "the key is kept in a secret <name>-api-key with the customer key"
  }
  assert {
    condition     = nonsensitive(aws_secretsmanager_secret_version.api_key[0].secret_string) == "GeneratedKeyValue0123456789abcdefGHIJ" && aws_secretsmanager_secret_version.api_key[0].secret_id == aws_secretsmanager_secret.api_key[0].id
    error_message = "the secret string is the generated key"
  }
  assert {
    condition     = output.api_key_secret_arn == "arn:aws:secretsmanager:us-east-1:123456789012:secret:kstream-test-api-api-key-AbCdEf" && output.api_key_parameter_name == null && output.api_key_parameter_arn == null && output.api_key_store == "secretsmanager"
    error_message = "the secret's ARN is an output; no parameter"
  }
  assert {
    condition = !strcontains(jsonencode([
      output.rest_api_id, output.invoke_url, output.resource_url, output.execution_arn, output.invoke_arn_for_get,
      output.api_key_id, output.usage_plan_id, output.api_key_secret_arn, output.api_key_kms_key_arn,
    ]), "GeneratedKeyValue0123456789abcdefGHIJ")
    error_message = "no output may carry the key's value"
  }
}

run "stage_logs_tracing_and_no_waf_by_default" {
  command = apply

  assert {
    condition     = aws_api_gateway_stage.this.xray_tracing_enabled && aws_api_gateway_stage.this.stage_name == "prod"
    error_message = "X-Ray on; stage prod by default"
  }
  assert {
    condition = (
      aws_api_gateway_stage.this.access_log_settings[0].destination_arn == aws_cloudwatch_log_group.access.arn &&
      aws_cloudwatch_log_group.access.name == "/aws/apigateway/kstream-test-api/prod/access" &&
      aws_cloudwatch_log_group.access.retention_in_days == 365 &&
      jsondecode(aws_api_gateway_stage.this.access_log_settings[0].format).apiKeyId == "$context.identity.apiKeyId" &&
      jsondecode(aws_api_gateway_stage.this.access_log_settings[0].format).status == "$context.status"
    )
    error_message = "JSON access logs (with the key's id) to the module's log group, kept 365 days"
  }
  assert {
    condition     = aws_cloudwatch_log_group.execution[0].name == "API-Gateway-Execution-Logs_a1b2c3d4e5/prod" && aws_cloudwatch_log_group.execution[0].retention_in_days == 365
    error_message = "the execution log group is pre-created with retention"
  }
  assert {
    condition = (
      aws_api_gateway_method_settings.this.method_path == "*/*" &&
      aws_api_gateway_method_settings.this.settings[0].logging_level == "INFO" &&
      aws_api_gateway_method_settings.this.settings[0].data_trace_enabled == false &&
      aws_api_gateway_method_settings.this.settings[0].metrics_enabled == false
    )
    error_message = "INFO execution logs without bodies, no detailed metrics by default"
  }
  assert {
    condition     = length(aws_wafv2_web_acl_association.this) == 0 && output.web_acl_association_id == null
    error_message = "no WAF association by default"
  }
  assert {
    condition     = length(aws_api_gateway_account.this) == 1 && aws_api_gateway_account.this[0].cloudwatch_role_arn == aws_iam_role.cloudwatch[0].arn
    error_message = "the account CloudWatch role is managed by default"
  }
  assert {
    condition     = jsondecode(aws_iam_role_policy.cloudwatch[0].policy).Statement[0].Resource == ["arn:aws:logs:us-east-1:123456789012:*"]
    error_message = "the logging role is scoped to the region's log groups"
  }
  assert {
    condition     = can(regex("^[0-9a-f]{40}$", aws_api_gateway_deployment.this.triggers.redeployment))
    error_message = "the deployment carries a hash of what it serves"
  }
}

run "options_reach_the_stage" {
  command = apply

  variables {
    waf_web_acl_arn                = "arn:aws:wafv2:us-east-1:123456789012:regional/webacl/fares/0123abcd"
    detailed_metrics_enabled       = true
    execution_logging_level        = "OFF"
    xray_tracing_enabled           = false
    manage_account_cloudwatch_role = false
    log_retention_in_days          = 30
    log_kms_key_arn                = "arn:aws:kms:us-east-1:123456789012:key/logs"
    endpoint_type                  = "EDGE"
  }

  assert {
    condition     = aws_wafv2_web_acl_association.this[0].web_acl_arn == "arn:aws:wafv2:us-east-1:123456789012:regional/webacl/fares/0123abcd" && aws_wafv2_web_acl_association.this[0].resource_arn == "arn:aws:apigateway:us-east-1::/restapis/a1b2c3d4e5/stages/prod"
    error_message = "the web ACL is associated with the stage"
  }
  assert {
    condition     = aws_api_gateway_method_settings.this.settings[0].metrics_enabled && aws_api_gateway_method_settings.this.settings[0].logging_level == "OFF"
    error_message = "detailed metrics on, execution logging off"
  }
  assert {
    condition     = length(aws_cloudwatch_log_group.execution) == 0 && output.execution_log_group_name == null
    error_message = "no execution log group when execution logging is OFF"
  }
  assert {
    condition     = aws_cloudwatch_log_group.access.kms_key_id == "arn:aws:kms:us-east-1:123456789012:key/logs" && aws_cloudwatch_log_group.access.retention_in_days == 30
    error_message = "the access log group takes the KMS key and retention"
  }
  assert {
    condition     = !aws_api_gateway_stage.this.xray_tracing_enabled && aws_api_gateway_rest_api.this.endpoint_configuration[0].types == tolist(["EDGE"])
    error_message = "X-Ray off and an EDGE endpoint when asked"
  }
  assert {
    condition     = length(aws_api_gateway_account.this) == 0 && length(aws_iam_role.cloudwatch) == 0
    error_message = "the account setting is left alone when not managed"
  }
}

run "rejects_two_backends" {
  command = plan
  variables { http_integration_uri = "https://fares.example.com/predict" }
  expect_failures = [var.http_integration_uri]
}

run "rejects_no_backend" {
  command = plan
  variables {
    lambda_function_name = null
    lambda_invoke_arn    = null
  }
  expect_failures = [var.http_integration_uri]
}

run "rejects_a_function_name_without_its_invoke_arn" {
  command = plan
  variables {
    lambda_invoke_arn    = null
    http_integration_uri = "https://fares.example.com/predict"
  }
  expect_failures = [var.lambda_invoke_arn]
}

run "rejects_a_plain_http_backend" {
  command = plan
  variables {
    lambda_function_name = null
    lambda_invoke_arn    = null
    http_integration_uri = "http://fares.example.com/predict"
  }
  expect_failures = [var.http_integration_uri]
}

run "rejects_a_function_arn_as_invoke_arn" {
  command = plan
  variables { lambda_invoke_arn = "arn:aws:lambda:us-east-1:123456789012:function:kstream-test-fare" }
  expect_failures = [var.lambda_invoke_arn]
}

run "rejects_a_nested_resource_path" {
  command = plan
  variables { resource_path = "fares/{id}" }
  expect_failures = [var.resource_path]
}

run "rejects_rate_0" {
  command = plan
  variables { throttle_rate_limit = 0 }
  expect_failures = [var.throttle_rate_limit]
}

run "rejects_burst_5001" {
  command = plan
  variables { throttle_burst_limit = 5001 }
  expect_failures = [var.throttle_burst_limit]
}

run "rejects_a_fractional_burst" {
  command = plan
  variables { throttle_burst_limit = 10.5 }
  expect_failures = [var.throttle_burst_limit]
}

run "rejects_quota_0" {
  command = plan
  variables { quota_limit = 0 }
  expect_failures = [var.quota_limit]
}

run "rejects_quota_per_year" {
  command = plan
  variables {
    quota_limit  = 1000
    quota_period = "YEAR"
  }
  expect_failures = [var.quota_period]
}

run "rejects_an_unknown_key_store" {
  command = plan
  variables { api_key_store = "plaintext" }
  expect_failures = [var.api_key_store]
}

run "rejects_a_relative_parameter_name" {
  command = plan
  variables { api_key_parameter_name = "api-key" }
  expect_failures = [var.api_key_parameter_name]
}

run "rejects_a_key_alias_as_cmk" {
  command = plan
  variables { api_key_kms_key_arn = "alias/aws/ssm" }
  expect_failures = [var.api_key_kms_key_arn]
}

run "rejects_recovery_window_3" {
  command = plan
  variables { api_key_secret_recovery_window_in_days = 3 }
  expect_failures = [var.api_key_secret_recovery_window_in_days]
}

run "rejects_a_global_web_acl" {
  command = plan
  variables { waf_web_acl_arn = "arn:aws:wafv2:us-east-1:123456789012:global/webacl/fares/0123abcd" }
  expect_failures = [var.waf_web_acl_arn]
}

run "rejects_integration_timeout_29001" {
  command = plan
  variables { integration_timeout_ms = 29001 }
  expect_failures = [var.integration_timeout_ms]
}

run "rejects_unsupported_log_retention" {
  command = plan
  variables { log_retention_in_days = 2 }
  expect_failures = [var.log_retention_in_days]
}

run "rejects_execution_logging_debug" {
  command = plan
  variables { execution_logging_level = "DEBUG" }
  expect_failures = [var.execution_logging_level]
}
