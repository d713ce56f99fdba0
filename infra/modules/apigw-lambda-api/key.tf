################################################################################
# API key, usage plan (throttle, optional quota) and where the key is kept
################################################################################

# No value: API Gateway generates it. It is in the state (the provider reads it back), as the value
# of any stored secret is; the state must be protected like the secret itself.
resource "aws_api_gateway_api_key" "this" {
  name        = "${var.name}-key"
  description = "Key of the ${var.name} API; its value is in ${var.api_key_store == "ssm" ? "SSM parameter ${local.api_key_parameter_name}" : "Secrets Manager secret ${var.name}-api-key"}"
  enabled     = true

  tags = var.tags
}

resource "aws_api_gateway_usage_plan" "this" {
  name        = "${var.name}-plan"
  description = "Throttle${var.quota_limit == null ? "" : " and quota"} of ${var.name}-key on ${var.name}/${var.stage_name}"

  api_stages {
    api_id = aws_api_gateway_rest_api.this.id
    stage  = aws_api_gateway_stage.this.stage_name
  }

  throttle_settings {
    rate_limit  = var.throttle_rate_limit
    burst_limit = var.throttle_burst_limit
  }

  dynamic "quota_settings" {
    for_each = var.quota_limit == null ? [] : [var.quota_limit]
    content {
      limit  = quota_settings.value
      period = var.quota_period
    }
  }

  tags = var.tags
}

resource "aws_api_gateway_usage_plan_key" "this" {
  key_id        = aws_api_gateway_api_key.this.id
  key_type      = "API_KEY"
  usage_plan_id = aws_api_gateway_usage_plan.this.id
}

resource "aws_ssm_parameter" "api_key" {
  count = var.api_key_store == "ssm" ? 1 : 0

  name        = local.api_key_parameter_name
  description = "API key of the ${var.name} API (x-api-key header)"
  type        = "SecureString"
  key_id      = var.api_key_kms_key_arn
  value       = aws_api_gateway_api_key.this.value

  tags = var.tags
}

resource "aws_secretsmanager_secret" "api_key" {
  count = var.api_key_store == "secretsmanager" ? 1 : 0

  name                    = "${var.name}-api-key"
  description             = "API key of the ${var.name} API (x-api-key header); the secret string is the key"
  kms_key_id              = var.api_key_kms_key_arn
  recovery_window_in_days = var.api_key_secret_recovery_window_in_days

  tags = var.tags
}

resource "aws_secretsmanager_secret_version" "api_key" {
  count = var.api_key_store == "secretsmanager" ? 1 : 0

  secret_id     = aws_secretsmanager_secret.api_key[0].id
  secret_string = aws_api_gateway_api_key.this.value
}
