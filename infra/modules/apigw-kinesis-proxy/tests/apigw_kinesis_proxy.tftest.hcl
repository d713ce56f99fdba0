mock_provider "aws" {
  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::123456789012:role/kstream-test-api-kinesis-put"
    }
  }
  mock_resource "aws_cognito_user_pool" {
    defaults = {
      arn = "arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_test"
    }
  }
  mock_resource "aws_api_gateway_stage" {
    defaults = {
      arn = "arn:aws:apigateway:us-east-1::/restapis/a1b2c3d4e5/stages/prod"
    }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = {
      arn = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/apigateway/kstream-test-api/prod/access"
    }
  }
}

variables {
  name        = "kstream-test-api"
  stream_name = "kstream-test-stream"
  stream_arn  = "arn:aws:kinesis:us-east-1:123456789012:stream/kstream-test-stream"
}

run "routes_are_aws_integrations_to_kinesis" {
  command = plan

  assert {
    condition     = aws_api_gateway_resource.route["record"].path_part == "record" && aws_api_gateway_resource.route["records"].path_part == "records"
    error_message = "the API must have /record and /records"
  }
  assert {
    condition     = alltrue([for m in aws_api_gateway_method.route : m.http_method == "POST"])
    error_message = "both routes are POST"
  }
  assert {
    condition     = aws_api_gateway_integration.kinesis["record"].uri == "arn:aws:apigateway:us-east-1:kinesis:action/PutRecord"
    error_message = "/record must call Kinesis PutRecord in the stream's region"
  }
  assert {
    condition     = aws_api_gateway_integration.kinesis["records"].uri == "arn:aws:apigateway:us-east-1:kinesis:action/PutRecords"
    error_message = "/records must call Kinesis PutRecords"
  }
  assert {
    condition     = alltrue([for i in aws_api_gateway_integration.kinesis : i.type == "AWS" && i.integration_http_method == "POST"])
    error_message = "integrations must be AWS service integrations called with POST"
  }
  assert {
    condition     = alltrue([for i in aws_api_gateway_integration.kinesis : i.passthrough_behavior == "NEVER"])
    error_message = "unmapped content types must be rejected (passthrough NEVER)"
  }
  assert {
    condition     = alltrue([for i in aws_api_gateway_integration.kinesis : i.request_parameters["integration.request.header.Content-Type"] == "'application/x-amz-json-1.1'"])
    error_message = "Kinesis must be called with Content-Type application/x-amz-json-1.1"
  }
}

run "request_templates_fix_the_reference" {
  command = plan

  assert {
    condition     = strcontains(aws_api_gateway_integration.kinesis["record"].request_templates["application/json"], "\"Data\": \"$util.base64Encode($input.path('$.data'))\"")
    error_message = "PutRecord must base64 the raw data string ($input.path), not its JSON with quotes"
  }
  assert {
    condition     = !strcontains(aws_api_gateway_integration.kinesis["record"].request_templates["application/json"], "base64Encode($input.json")
    error_message = "the reference's $input.json bug must not come back"
  }
  assert {
    condition     = strcontains(aws_api_gateway_integration.kinesis["record"].request_templates["application/json"], "\"StreamName\": \"kstream-test-stream\"")
    error_message = "the template must name the stream"
  }
  assert {
    condition     = strcontains(aws_api_gateway_integration.kinesis["record"].request_templates["application/json"], "\"PartitionKey\": $input.json('$.partitionKey')")
    error_message = "the partition key must be JSON-encoded (no injection through quotes)"
  }
  assert {
    condition     = strcontains(aws_api_gateway_integration.kinesis["records"].request_templates["application/json"], "#foreach($elem in $input.path('$.records'))")
    error_message = "PutRecords must iterate over records"
  }
  assert {
    condition     = strcontains(aws_api_gateway_integration.kinesis["records"].request_templates["application/json"], "\"Data\": \"$util.base64Encode($elem.data)\"")
    error_message = "PutRecords must base64 each record's data"
  }
}

run "validation_against_draft4_models" {
  command = plan

  assert {
    condition     = aws_api_gateway_request_validator.body.validate_request_body == true
    error_message = "request bodies must be validated"
  }
  assert {
    condition     = alltrue([for m in aws_api_gateway_method.route : m.request_models["application/json"] != ""])
    error_message = "each method must have a request model"
  }
  assert {
    condition     = aws_api_gateway_method.route["record"].request_models["application/json"] == "PutRecordModel" && aws_api_gateway_method.route["records"].request_models["application/json"] == "PutRecordsModel"
    error_message = "each route must use its own model"
  }
  assert {
    condition     = jsondecode(aws_api_gateway_model.this["PutRecordModel"].schema)["$schema"] == "http://json-schema.org/draft-04/schema#"
    error_message = "models must be JSON Schema draft-04"
  }
  assert {
    condition     = jsondecode(aws_api_gateway_model.this["PutRecordModel"].schema).required == ["data", "partitionKey"]
    error_message = "PutRecord needs data and partitionKey"
  }
  assert {
    condition     = jsondecode(aws_api_gateway_model.this["PutRecordsModel"].schema).properties.records.items.required == ["data", "partitionKey"]
    error_message = "each PutRecords entry needs data and partitionKey"
  }
  assert {
    condition     = jsondecode(aws_api_gateway_model.this["PutRecordsModel"].schema).properties.records.maxItems == 500 && jsondecode(aws_api_gateway_model.this["PutRecordsModel"].schema).properties.records.minItems == 1
    error_message = "PutRecords takes 1 to 500 records"
  }
}

run "kinesis_errors_are_mapped" {
  command = plan

  assert {
    condition     = aws_api_gateway_integration_response.kinesis["record:400"].selection_pattern == "4\\d{2}" && aws_api_gateway_integration_response.kinesis["records:400"].selection_pattern == "4\\d{2}"
    error_message = "Kinesis 4xx must select the 400 response"
  }
  assert {
    condition     = aws_api_gateway_integration_response.kinesis["record:500"].selection_pattern == "5\\d{2}"
    error_message = "Kinesis 5xx must select the 500 response"
  }
  assert {
    condition     = aws_api_gateway_integration_response.kinesis["record:200"].selection_pattern == null
    error_message = "200 must be the default response"
  }
  assert {
    condition     = strcontains(aws_api_gateway_integration_response.kinesis["record:400"].response_templates["application/json"], "#set($context.responseOverride.status = 429)")
    error_message = "throttling must become 429"
  }
  assert {
    condition     = strcontains(aws_api_gateway_integration_response.kinesis["record:400"].response_templates["application/json"], "#if($type.contains(\"ProvisionedThroughputExceeded\"))#set($throttled = true)#end")
    error_message = "the 429 mapping must recognise ProvisionedThroughputExceededException"
  }
  assert {
    condition     = strcontains(aws_api_gateway_integration_response.kinesis["record:400"].response_templates["application/json"], "$input.json('$.message')")
    error_message = "client errors must carry Kinesis's message"
  }
  assert {
    condition     = strcontains(aws_api_gateway_integration_response.kinesis["records:200"].response_templates["application/json"], "\"FailedRecordCount\": $input.json('$.FailedRecordCount')") && strcontains(aws_api_gateway_integration_response.kinesis["records:200"].response_templates["application/json"], "\"Records\": $input.json('$.Records')")
    error_message = "PutRecords must report FailedRecordCount and per-record results"
  }
  assert {
    condition     = toset([for k, r in aws_api_gateway_method_response.route : r.status_code if startswith(k, "record:")]) == toset(["200", "400", "429", "500"])
    error_message = "methods must declare 200, 400, 429 and 500"
  }
}

run "stage_throttling_tracing_logging" {
  command = apply

  assert {
    condition     = aws_api_gateway_method_settings.this.method_path == "*/*"
    error_message = "settings must apply to every method"
  }
  assert {
    condition     = aws_api_gateway_method_settings.this.settings[0].throttling_rate_limit == 100 && aws_api_gateway_method_settings.this.settings[0].throttling_burst_limit == 50
    error_message = "default throttling must be 100 rps, burst 50"
  }
  assert {
    condition     = aws_api_gateway_method_settings.this.settings[0].logging_level == "INFO" && aws_api_gateway_method_settings.this.settings[0].data_trace_enabled == false
    error_message = "INFO execution logs without bodies"
  }
  assert {
    condition     = aws_api_gateway_stage.this.xray_tracing_enabled == true && aws_api_gateway_stage.this.stage_name == "prod"
    error_message = "X-Ray must be on; stage prod by default"
  }
  assert {
    condition     = jsondecode(aws_api_gateway_stage.this.access_log_settings[0].format).requestId == "$context.requestId" && jsondecode(aws_api_gateway_stage.this.access_log_settings[0].format).status == "$context.status"
    error_message = "access logs must be JSON"
  }
  assert {
    condition     = aws_api_gateway_stage.this.access_log_settings[0].destination_arn == aws_cloudwatch_log_group.access.arn && aws_cloudwatch_log_group.access.retention_in_days == 365
    error_message = "access logs must go to the module's log group, kept 365 days by default"
  }
  assert {
    condition     = aws_cloudwatch_log_group.execution[0].name == "API-Gateway-Execution-Logs_${aws_api_gateway_rest_api.this.id}/prod" && aws_cloudwatch_log_group.execution[0].retention_in_days == 365
    error_message = "the execution log group must be pre-created with retention"
  }
  assert {
    condition     = length(aws_api_gateway_account.this) == 1
    error_message = "the account CloudWatch role is managed by default"
  }
  assert {
    condition     = jsondecode(aws_iam_role_policy.cloudwatch[0].policy).Statement[0].Resource == ["arn:aws:logs:us-east-1:123456789012:*"]
    error_message = "the logging role must be scoped to the region's log groups"
  }
}

run "integration_role_is_least_privilege" {
  command = apply

  assert {
    condition     = jsondecode(aws_iam_role_policy.integration.policy).Statement[0].Action == ["kinesis:PutRecord", "kinesis:PutRecords"]
    error_message = "the integration role may only put records"
  }
  assert {
    condition     = jsondecode(aws_iam_role_policy.integration.policy).Statement[0].Resource == ["arn:aws:kinesis:us-east-1:123456789012:stream/kstream-test-stream"]
    error_message = "the integration role must be scoped to the stream"
  }
  assert {
    condition     = length(jsondecode(aws_iam_role_policy.integration.policy).Statement) == 1
    error_message = "no KMS grant with the AWS-managed key"
  }
  assert {
    condition     = jsondecode(aws_iam_role.integration.assume_role_policy).Statement[0].Principal.Service == "apigateway.amazonaws.com"
    error_message = "only API Gateway may assume the integration role"
  }
  assert {
    condition     = alltrue([for i in aws_api_gateway_integration.kinesis : i.credentials == aws_iam_role.integration.arn])
    error_message = "integrations must use the integration role"
  }
}

run "cognito_is_the_default_authorizer" {
  command = apply

  assert {
    condition     = alltrue([for m in aws_api_gateway_method.route : m.authorization == "COGNITO_USER_POOLS" && m.authorizer_id == aws_api_gateway_authorizer.cognito[0].id])
    error_message = "methods must use the Cognito authorizer"
  }
  assert {
    condition     = aws_api_gateway_authorizer.cognito[0].provider_arns == toset(["arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_test"]) && aws_api_gateway_authorizer.cognito[0].identity_source == "method.request.header.Authorization"
    error_message = "the authorizer must trust the module's pool and read Authorization"
  }
  assert {
    condition = (
      aws_cognito_user_pool.this[0].password_policy[0].minimum_length == 8 &&
      aws_cognito_user_pool.this[0].password_policy[0].require_symbols &&
      aws_cognito_user_pool.this[0].password_policy[0].require_numbers &&
      aws_cognito_user_pool.this[0].password_policy[0].require_uppercase &&
      aws_cognito_user_pool.this[0].password_policy[0].require_lowercase &&
      aws_cognito_user_pool.this[0].password_policy[0].temporary_password_validity_days == 1
    )
    error_message = "password policy must match the reference"
  }
  assert {
    condition     = aws_cognito_user_pool.this[0].user_pool_add_ons[0].advanced_security_mode == "ENFORCED" && aws_cognito_user_pool.this[0].user_pool_tier == "PLUS"
    error_message = "threat protection must be ENFORCED (PLUS plan) by default"
  }
  assert {
    condition     = aws_cognito_user_pool.this[0].admin_create_user_config[0].allow_admin_create_user_only
    error_message = "no self sign-up"
  }
  assert {
    condition     = aws_cognito_user_pool_client.this[0].generate_secret == false && output.user_pool_client_id != null
    error_message = "a public app client must exist"
  }
}

run "iam_authorization" {
  command = plan

  variables {
    authorization                  = "AWS_IAM"
    stream_kms_key_arn             = "arn:aws:kms:us-east-1:123456789012:key/stream-key"
    manage_account_cloudwatch_role = false
    execution_logging_level        = "OFF"
    throttling_rate_limit          = 10000
    throttling_burst_limit         = 0
  }

  assert {
    condition     = alltrue([for m in aws_api_gateway_method.route : m.authorization == "AWS_IAM" && m.authorizer_id == null])
    error_message = "methods must use SigV4"
  }
  assert {
    condition     = length(aws_cognito_user_pool.this) == 0 && length(aws_api_gateway_authorizer.cognito) == 0 && output.user_pool_id == null
    error_message = "no Cognito resources with AWS_IAM"
  }
  assert {
    condition     = length(aws_api_gateway_account.this) == 0 && length(aws_iam_role.cloudwatch) == 0
    error_message = "the account setting must be left alone when not managed"
  }
  assert {
    condition     = length(aws_cloudwatch_log_group.execution) == 0
    error_message = "no execution log group when execution logging is OFF"
  }
  assert {
    condition     = aws_api_gateway_method_settings.this.settings[0].throttling_rate_limit == 10000 && aws_api_gateway_method_settings.this.settings[0].throttling_burst_limit == 0
    error_message = "throttling bounds must be accepted"
  }
}

run "customer_key_grants_generate_data_key" {
  command = apply

  variables {
    stream_kms_key_arn = "arn:aws:kms:us-east-1:123456789012:key/stream-key"
  }

  assert {
    condition = (
      jsondecode(aws_iam_role_policy.integration.policy).Statement[1].Action == ["kms:GenerateDataKey"] &&
      jsondecode(aws_iam_role_policy.integration.policy).Statement[1].Resource == ["arn:aws:kms:us-east-1:123456789012:key/stream-key"]
    )
    error_message = "a stream CMK needs kms:GenerateDataKey on that key only"
  }
}

run "rejects_rate_0" {
  command = plan
  variables { throttling_rate_limit = 0 }
  expect_failures = [var.throttling_rate_limit]
}

run "rejects_rate_10001" {
  command = plan
  variables { throttling_rate_limit = 10001 }
  expect_failures = [var.throttling_rate_limit]
}

run "rejects_burst_minus_1" {
  command = plan
  variables { throttling_burst_limit = -1 }
  expect_failures = [var.throttling_burst_limit]
}

run "rejects_burst_5001" {
  command = plan
  variables { throttling_burst_limit = 5001 }
  expect_failures = [var.throttling_burst_limit]
}

run "rejects_unknown_authorization" {
  command = plan
  variables { authorization = "NONE" }
  expect_failures = [var.authorization]
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

run "no_waf_by_default" {
  command = plan
  assert {
    condition     = length(aws_wafv2_web_acl_association.this) == 0
    error_message = "no web ACL association without waf_web_acl_arn"
  }
}

run "waf_web_acl_is_associated_with_the_stage" {
  command = apply
  variables {
    waf_web_acl_arn = "arn:aws:wafv2:us-east-1:123456789012:regional/webacl/records/0123abcd"
  }
  assert {
    condition     = aws_wafv2_web_acl_association.this[0].web_acl_arn == "arn:aws:wafv2:us-east-1:123456789012:regional/webacl/records/0123abcd" && aws_wafv2_web_acl_association.this[0].resource_arn == "arn:aws:apigateway:us-east-1::/restapis/a1b2c3d4e5/stages/prod"
    error_message = "the web ACL protects the stage"
  }
  assert {
    condition     = output.web_acl_association_id == aws_wafv2_web_acl_association.this[0].id
    error_message = "the association is an output"
  }
}

run "rejects_a_global_web_acl" {
  command = plan
  variables { waf_web_acl_arn = "arn:aws:wafv2:us-east-1:123456789012:global/webacl/records/0123abcd" }
  expect_failures = [var.waf_web_acl_arn]
}
