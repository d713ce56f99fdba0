mock_provider "aws" {
  mock_resource "aws_cloudwatch_log_group" {
    defaults = {
      arn = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/kstream-test-fn"
    }
  }
  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::123456789012:role/kstream-test-fn-role"
    }
  }
}

variables {
  function_name = "kstream-test-fn"
  # Does not exist: the module must still plan (no hash) so tests need no build.
  package_path = "does-not-exist/bootstrap.zip"
}

run "rust_defaults" {
  command = plan

  assert {
    condition     = aws_lambda_function.this.runtime == "provided.al2023" && aws_lambda_function.this.handler == "bootstrap"
    error_message = "a Rust function runs on provided.al2023 with the bootstrap handler"
  }
  assert {
    condition     = aws_lambda_function.this.architectures == tolist(["arm64"])
    error_message = "default architecture must be arm64"
  }
  assert {
    condition     = output.source_code_hash == null
    error_message = "no hash when the package does not exist"
  }
  assert {
    condition     = aws_lambda_function.this.tracing_config[0].mode == "Active"
    error_message = "X-Ray tracing must be Active by default"
  }
  assert {
    condition     = aws_lambda_function.this.logging_config[0].log_format == "JSON" && aws_lambda_function.this.logging_config[0].log_group == "/aws/lambda/kstream-test-fn"
    error_message = "logs must be JSON, in the module's own log group"
  }
  assert {
    condition     = aws_cloudwatch_log_group.this.name == "/aws/lambda/kstream-test-fn" && aws_cloudwatch_log_group.this.retention_in_days == 30
    error_message = "log group must be /aws/lambda/<name> with 30 days retention by default"
  }
  assert {
    condition     = aws_cloudwatch_log_group.this.kms_key_id == null
    error_message = "no log KMS key unless given"
  }
  assert {
    condition     = length(aws_lambda_function.this.environment) == 0
    error_message = "no environment block when no variables are given"
  }
  assert {
    condition     = jsondecode(aws_iam_role.this.assume_role_policy).Statement[0].Principal.Service == "lambda.amazonaws.com"
    error_message = "only Lambda may assume the role"
  }
}

run "hash_when_package_exists" {
  command = plan

  variables {
    package_path = "tests/fixtures/bootstrap.zip"
  }

  assert {
    condition     = aws_lambda_function.this.source_code_hash == filebase64sha256("tests/fixtures/bootstrap.zip")
    error_message = "the code hash must be the package's base64 sha256"
  }
}

run "iam_is_scoped" {
  command = apply

  variables {
    policy_statements = [{
      sid       = "ReadStream"
      actions   = ["kinesis:GetRecords"]
      resources = ["arn:aws:kinesis:us-east-1:123456789012:stream/s"]
    }]
  }

  assert {
    condition = jsondecode(aws_iam_role_policy.this.policy).Statement[0].Resource == [
      "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/kstream-test-fn:*"
    ]
    error_message = "logs permissions must be scoped to the function's own log group"
  }
  assert {
    condition     = !contains(flatten([for s in jsondecode(aws_iam_role_policy.this.policy).Statement : s.Action]), "logs:CreateLogGroup")
    error_message = "the function must not create log groups (the module creates it with retention)"
  }
  assert {
    condition = alltrue([
      for s in jsondecode(aws_iam_role_policy.this.policy).Statement :
      s.Sid == "XRayTraces" || !contains(s.Resource, "*")
    ])
    error_message = "only the X-Ray statement may use Resource *"
  }
  assert {
    condition     = jsondecode(aws_iam_role_policy.this.policy).Statement[1].Action == ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    error_message = "X-Ray statement must only allow segment upload"
  }
  assert {
    condition     = jsondecode(aws_iam_role_policy.this.policy).Statement[2].Sid == "ReadStream" && jsondecode(aws_iam_role_policy.this.policy).Statement[2].Resource == ["arn:aws:kinesis:us-east-1:123456789012:stream/s"]
    error_message = "caller statements must be appended as given"
  }
}

run "settings_pass_through" {
  command = plan

  variables {
    timeout_seconds       = 300
    memory_size_mb        = 1024
    architecture          = "x86_64"
    log_retention_in_days = 365
    log_kms_key_arn       = "arn:aws:kms:us-east-1:123456789012:key/abc"
    environment_variables = { RUST_LOG = "info" }
  }

  assert {
    condition     = aws_lambda_function.this.timeout == 300 && aws_lambda_function.this.memory_size == 1024
    error_message = "timeout and memory must come from their variables"
  }
  assert {
    condition     = aws_lambda_function.this.architectures == tolist(["x86_64"])
    error_message = "architecture must come from its variable"
  }
  assert {
    condition     = aws_lambda_function.this.environment[0].variables == tomap({ RUST_LOG = "info" })
    error_message = "environment variables must be passed"
  }
  assert {
    condition     = aws_cloudwatch_log_group.this.retention_in_days == 365 && aws_cloudwatch_log_group.this.kms_key_id == "arn:aws:kms:us-east-1:123456789012:key/abc"
    error_message = "log retention and key must come from their variables"
  }
}

run "rejects_timeout_0" {
  command = plan
  variables { timeout_seconds = 0 }
  expect_failures = [var.timeout_seconds]
}

run "rejects_timeout_901" {
  command = plan
  variables { timeout_seconds = 901 }
  expect_failures = [var.timeout_seconds]
}

run "rejects_memory_127" {
  command = plan
  variables { memory_size_mb = 127 }
  expect_failures = [var.memory_size_mb]
}

run "rejects_memory_10241" {
  command = plan
  variables { memory_size_mb = 10241 }
  expect_failures = [var.memory_size_mb]
}

run "rejects_unsupported_retention" {
  command = plan
  variables { log_retention_in_days = 10 }
  expect_failures = [var.log_retention_in_days]
}

run "rejects_reserved_env_names" {
  command = plan
  variables { environment_variables = { AWS_REGION = "x" } }
  expect_failures = [var.environment_variables]
}

run "rejects_non_zip_package" {
  command = plan
  variables { package_path = "target/bootstrap" }
  expect_failures = [var.package_path]
}

run "rejects_unknown_architecture" {
  command = plan
  variables { architecture = "arm" }
  expect_failures = [var.architecture]
}

run "rejects_wildcard_resource_in_statements" {
  command = plan
  variables {
    policy_statements = [{ sid = "ReadAll", actions = ["s3:GetObject"], resources = ["*"] }]
  }
  expect_failures = [var.policy_statements]
}

run "rejects_wildcard_action_in_statements" {
  command = plan
  variables {
    policy_statements = [{ sid = "AllS3", actions = ["s3:*"], resources = ["arn:aws:s3:::b/*"] }]
  }
  expect_failures = [var.policy_statements]
}

run "rejects_star_action_in_statements" {
  command = plan
  variables {
    policy_statements = [{ sid = "Everything", actions = ["*"], resources = ["arn:aws:s3:::b/*"] }]
  }
  expect_failures = [var.policy_statements]
}
