mock_provider "aws" {
  mock_resource "aws_sqs_queue" {
    defaults = {
      arn = "arn:aws:sqs:us-east-1:123456789012:kstream-test-failures"
      id  = "https://sqs.us-east-1.amazonaws.com/123456789012/kstream-test-failures"
      url = "https://sqs.us-east-1.amazonaws.com/123456789012/kstream-test-failures"
    }
  }
}

variables {
  name = "kstream-test-failures"
}

run "encrypted_with_aws_managed_key_and_14_days" {
  command = plan

  assert {
    condition     = aws_sqs_queue.this.kms_master_key_id == "alias/aws/sqs"
    error_message = "queue must be encrypted with alias/aws/sqs by default"
  }
  assert {
    condition     = aws_sqs_queue.this.message_retention_seconds == 1209600
    error_message = "messages must be kept 14 days by default"
  }
}

run "policy_is_owner_only_and_tls_only" {
  command = apply

  assert {
    condition     = jsondecode(aws_sqs_queue_policy.this.policy).Statement[0].Principal.AWS == "arn:aws:iam::123456789012:root"
    error_message = "only the owning account may use the queue"
  }
  assert {
    condition     = jsondecode(aws_sqs_queue_policy.this.policy).Statement[0].Resource == "arn:aws:sqs:us-east-1:123456789012:kstream-test-failures"
    error_message = "the allow statement must be scoped to the queue"
  }
  assert {
    condition = (
      jsondecode(aws_sqs_queue_policy.this.policy).Statement[1].Effect == "Deny" &&
      jsondecode(aws_sqs_queue_policy.this.policy).Statement[1].Condition.Bool["aws:SecureTransport"] == "false" &&
      jsondecode(aws_sqs_queue_policy.this.policy).Statement[1].Action == "sqs:*"
    )
    error_message = "requests without TLS must be denied"
  }
}

run "customer_key" {
  command = plan

  variables {
    kms_key_arn = "arn:aws:kms:us-east-1:123456789012:key/abc"
  }

  assert {
    condition     = aws_sqs_queue.this.kms_master_key_id == "arn:aws:kms:us-east-1:123456789012:key/abc" && output.kms_key_arn == "arn:aws:kms:us-east-1:123456789012:key/abc"
    error_message = "the customer key must be used"
  }
}

run "rejects_retention_59" {
  command = plan
  variables { message_retention_seconds = 59 }
  expect_failures = [var.message_retention_seconds]
}

run "rejects_retention_over_14_days" {
  command = plan
  variables { message_retention_seconds = 1209601 }
  expect_failures = [var.message_retention_seconds]
}

run "rejects_fifo_name" {
  command = plan
  variables { name = "q.fifo" }
  expect_failures = [var.name]
}
