################################################################################
# Cognito user pool authorizer (authorization = "COGNITO")
################################################################################

resource "aws_cognito_user_pool" "this" {
  count = local.cognito ? 1 : 0

  name                = "${var.name}-users"
  deletion_protection = var.cognito_deletion_protection ? "ACTIVE" : "INACTIVE"
  # Threat protection needs the PLUS plan; without it the default plan is enough.
  user_pool_tier = var.cognito_advanced_security_mode == "OFF" ? null : "PLUS"

  # Administrators create users (no self sign-up), as the reference's pool.
  admin_create_user_config {
    allow_admin_create_user_only = true
  }

  password_policy {
    minimum_length                   = 8
    require_lowercase                = true
    require_uppercase                = true
    require_numbers                  = true
    require_symbols                  = true
    temporary_password_validity_days = 1
  }

  user_pool_add_ons {
    advanced_security_mode = var.cognito_advanced_security_mode
  }

  account_recovery_setting {
    recovery_mechanism {
      name     = "verified_email"
      priority = 1
    }
  }

  schema {
    name                = "email"
    attribute_data_type = "String"
    required            = true
    mutable             = true
    string_attribute_constraints {
      min_length = 0
      max_length = 2048
    }
  }

  schema {
    name                = "given_name"
    attribute_data_type = "String"
    required            = true
    mutable             = true
    string_attribute_constraints {
      min_length = 0
      max_length = 2048
    }
  }

  tags = var.tags

  lifecycle {
    # Cognito cannot change the schema of an existing pool.
    ignore_changes = [schema]
  }
}

resource "aws_cognito_user_pool_client" "this" {
  count = local.cognito ? 1 : 0

  name         = "${var.name}-client"
  user_pool_id = aws_cognito_user_pool.this[0].id

  generate_secret               = false
  explicit_auth_flows           = var.cognito_explicit_auth_flows
  prevent_user_existence_errors = "ENABLED"
  enable_token_revocation       = true
}

resource "aws_api_gateway_authorizer" "cognito" {
  count = local.cognito ? 1 : 0

  name            = "${var.name}-cognito"
  rest_api_id     = aws_api_gateway_rest_api.this.id
  type            = "COGNITO_USER_POOLS"
  provider_arns   = [aws_cognito_user_pool.this[0].arn]
  identity_source = "method.request.header.Authorization"
}
