################################################################################
# Deployment and stage: throttling, X-Ray, JSON access logs, execution logs
################################################################################

resource "aws_api_gateway_deployment" "this" {
  rest_api_id = aws_api_gateway_rest_api.this.id
  description = "Managed by Terraform"

  # Redeploy whenever what the stage serves changes: the configuration that
  # defines it (routes, templates, models, auth) and the ids of the objects
  # (new ids when they are replaced). Computed attributes are left out, so a
  # refresh never triggers a redeployment.
  triggers = {
    redeployment = sha1(jsonencode({
      routes                = local.routes
      integration_responses = local.route_integration_responses
      method_status_codes   = local.method_status_codes
      schemas               = local.schemas
      authorization         = var.authorization
      request_templates     = { for k, i in aws_api_gateway_integration.kinesis : k => i.request_templates }
      response_templates    = { for f in fileset("${path.module}/templates", "*.vtl") : f => filesha1("${path.module}/templates/${f}") }
      ids = [
        [for r in aws_api_gateway_resource.route : r.id],
        [for m in aws_api_gateway_method.route : m.id],
        [for i in aws_api_gateway_integration.kinesis : i.id],
        [for a in aws_api_gateway_authorizer.cognito : a.id],
        aws_api_gateway_request_validator.body.id,
      ]
    }))
  }

  lifecycle {
    create_before_destroy = true
  }

  depends_on = [
    aws_api_gateway_integration.kinesis,
    aws_api_gateway_integration_response.kinesis,
  ]
}

resource "aws_cloudwatch_log_group" "access" {
  name              = "/aws/apigateway/${var.name}/${var.stage_name}/access"
  retention_in_days = var.log_retention_in_days
  kms_key_id        = var.log_kms_key_arn

  tags = var.tags
}

# Created here so execution logs get a retention (API Gateway would create the
# group itself, never expiring).
resource "aws_cloudwatch_log_group" "execution" {
  count = var.execution_logging_level == "OFF" ? 0 : 1

  name              = "API-Gateway-Execution-Logs_${aws_api_gateway_rest_api.this.id}/${var.stage_name}"
  retention_in_days = var.log_retention_in_days
  kms_key_id        = var.log_kms_key_arn

  tags = var.tags
}

resource "aws_api_gateway_stage" "this" {
  rest_api_id          = aws_api_gateway_rest_api.this.id
  deployment_id        = aws_api_gateway_deployment.this.id
  stage_name           = var.stage_name
  xray_tracing_enabled = var.xray_tracing_enabled

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.access.arn
    format = jsonencode({
      requestId          = "$context.requestId"
      extendedRequestId  = "$context.extendedRequestId"
      ip                 = "$context.identity.sourceIp"
      caller             = "$context.identity.caller"
      user               = "$context.identity.user"
      cognitoSub         = "$context.authorizer.claims.sub"
      requestTime        = "$context.requestTime"
      httpMethod         = "$context.httpMethod"
      resourcePath       = "$context.resourcePath"
      status             = "$context.status"
      protocol           = "$context.protocol"
      responseLength     = "$context.responseLength"
      responseLatency    = "$context.responseLatency"
      integrationStatus  = "$context.integration.status"
      integrationLatency = "$context.integration.latency"
      integrationError   = "$context.integration.error"
      errorMessage       = "$context.error.message"
      xrayTraceId        = "$context.xrayTraceId"
    })
  }

  tags = var.tags

  # Logging needs the account's CloudWatch role; execution logs need their group first.
  depends_on = [aws_api_gateway_account.this, aws_cloudwatch_log_group.execution]
}

resource "aws_api_gateway_method_settings" "this" {
  rest_api_id = aws_api_gateway_rest_api.this.id
  stage_name  = aws_api_gateway_stage.this.stage_name
  method_path = "*/*"

  settings {
    throttling_rate_limit  = var.throttling_rate_limit
    throttling_burst_limit = var.throttling_burst_limit
    metrics_enabled        = var.detailed_metrics_enabled
    logging_level          = var.execution_logging_level
    data_trace_enabled     = false
  }

  depends_on = [aws_api_gateway_account.this]
}

# The public API behind a WAF web ACL, when one is given.
resource "aws_wafv2_web_acl_association" "this" {
  count = var.waf_web_acl_arn == null ? 0 : 1

  resource_arn = aws_api_gateway_stage.this.arn
  web_acl_arn  = var.waf_web_acl_arn
}
