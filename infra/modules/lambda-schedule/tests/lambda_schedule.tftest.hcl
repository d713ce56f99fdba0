mock_provider "aws" {
  mock_resource "aws_sqs_queue" {
    defaults = {
      arn = "arn:aws:sqs:us-east-1:123456789012:kstream-test-producer-schedule-dlq"
      id  = "https://sqs.us-east-1.amazonaws.com/123456789012/kstream-test-producer-schedule-dlq"
      url = "https://sqs.us-east-1.amazonaws.com/123456789012/kstream-test-producer-schedule-dlq"
    }
  }
  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::123456789012:role/kstream-test-producer-scheduler"
    }
  }
  mock_resource "aws_scheduler_schedule" {
    defaults = {
      arn = "arn:aws:scheduler:us-east-1:123456789012:schedule/default/kstream-test-producer"
    }
  }
}

variables {
  name         = "kstream-test-producer"
  function_arn = "arn:aws:lambda:us-east-1:123456789012:function:kstream-test-producer"
}

run "defaults" {
  command = apply

  assert {
    condition = (
      output.settings.schedule_expression == "rate(1 minute)" &&
      output.settings.schedule_expression_timezone == "UTC" &&
      output.settings.state == "ENABLED" &&
      output.settings.target_arn == "arn:aws:lambda:us-east-1:123456789012:function:kstream-test-producer" &&
      output.settings.input == "{}"
    )
    error_message = "every minute, enabled, the function as target, an empty event"
  }
  assert {
    condition     = one(aws_scheduler_schedule.this.flexible_time_window).mode == "OFF"
    error_message = "the schedule runs on time (no flexible window)"
  }
  assert {
    condition     = output.settings.maximum_retry_attempts == 2 && output.settings.maximum_event_age_in_seconds == 600
    error_message = "retry policy defaults: 2 retries within 10 minutes"
  }
  assert {
    condition     = output.settings.dead_letter_arn == output.dlq_arn && output.dlq_name == "kstream-test-producer-schedule-dlq"
    error_message = "failed invocations go to the module's dead-letter queue"
  }
  assert {
    condition     = module.dlq.kms_key_arn == null
    error_message = "the dead-letter queue is encrypted with alias/aws/sqs by default"
  }
  assert {
    condition     = one(aws_scheduler_schedule.this.target).role_arn == aws_iam_role.this.arn && aws_iam_role.this.name == "kstream-test-producer-scheduler"
    error_message = "the schedule runs with its own role"
  }
}

run "least_privilege" {
  command = apply

  assert {
    condition = (
      jsondecode(aws_iam_role.this.assume_role_policy).Statement[0].Principal.Service == "scheduler.amazonaws.com" &&
      jsondecode(aws_iam_role.this.assume_role_policy).Statement[0].Condition.StringEquals["aws:SourceAccount"] == "123456789012"
    )
    error_message = "only EventBridge Scheduler of this account may assume the role"
  }
  assert {
    condition = (
      jsondecode(aws_iam_role_policy.this.policy).Statement[0].Action == ["lambda:InvokeFunction"] &&
      jsondecode(aws_iam_role_policy.this.policy).Statement[0].Resource == [
        "arn:aws:lambda:us-east-1:123456789012:function:kstream-test-producer",
        "arn:aws:lambda:us-east-1:123456789012:function:kstream-test-producer:*",
      ]
    )
    error_message = "lambda:InvokeFunction on the function (and its versions) only"
  }
  assert {
    condition = (
      jsondecode(aws_iam_role_policy.this.policy).Statement[1].Action == ["sqs:SendMessage"] &&
      jsondecode(aws_iam_role_policy.this.policy).Statement[1].Resource == [output.dlq_arn]
    )
    error_message = "sqs:SendMessage on the dead-letter queue only"
  }
  assert {
    condition     = length(jsondecode(aws_iam_role_policy.this.policy).Statement) == 2
    error_message = "no KMS statement with the AWS-managed key"
  }
  assert {
    condition     = alltrue([for s in jsondecode(aws_iam_role_policy.this.policy).Statement : !contains(s.Resource, "*")])
    error_message = "no wildcard resources"
  }
}

run "each_setting_reaches_the_schedule" {
  command = plan

  variables {
    schedule_expression           = "cron(0/5 * * * ? *)"
    schedule_expression_timezone  = "Europe/Paris"
    enabled                       = false
    input                         = "{\"records\":10}"
    maximum_retry_attempts        = 7
    maximum_event_age_in_seconds  = 120
    dlq_kms_key_arn               = "arn:aws:kms:us-east-1:123456789012:key/dlq"
    dlq_message_retention_seconds = 3600
  }

  assert {
    condition = (
      aws_scheduler_schedule.this.schedule_expression == "cron(0/5 * * * ? *)" &&
      aws_scheduler_schedule.this.schedule_expression_timezone == "Europe/Paris" &&
      aws_scheduler_schedule.this.state == "DISABLED" &&
      one(aws_scheduler_schedule.this.target).input == "{\"records\":10}"
    )
    error_message = "expression, time zone, state and input must come from their variables"
  }
  assert {
    condition = (
      one(one(aws_scheduler_schedule.this.target).retry_policy).maximum_retry_attempts == 7 &&
      one(one(aws_scheduler_schedule.this.target).retry_policy).maximum_event_age_in_seconds == 120
    )
    error_message = "retry policy must come from its variables"
  }
  assert {
    condition     = module.dlq.kms_key_arn == "arn:aws:kms:us-east-1:123456789012:key/dlq"
    error_message = "the dead-letter queue takes the given key"
  }
}

run "customer_key_adds_a_scoped_kms_grant" {
  command = apply
  variables { dlq_kms_key_arn = "arn:aws:kms:us-east-1:123456789012:key/dlq" }
  assert {
    condition = (
      jsondecode(aws_iam_role_policy.this.policy).Statement[2].Action == ["kms:GenerateDataKey", "kms:Decrypt"] &&
      jsondecode(aws_iam_role_policy.this.policy).Statement[2].Resource == ["arn:aws:kms:us-east-1:123456789012:key/dlq"]
    )
    error_message = "a customer key needs GenerateDataKey and Decrypt on that key only"
  }
}

run "accepts_rate_hours_and_at" {
  command = plan
  variables { schedule_expression = "rate(2 hours)" }
  assert {
    condition     = aws_scheduler_schedule.this.schedule_expression == "rate(2 hours)"
    error_message = "rate(2 hours) is valid"
  }
}

run "rejects_rate_1_minutes" {
  command = plan
  variables { schedule_expression = "rate(1 minutes)" }
  expect_failures = [var.schedule_expression]
}

run "rejects_rate_0" {
  command = plan
  variables { schedule_expression = "rate(0 minutes)" }
  expect_failures = [var.schedule_expression]
}

run "rejects_five_field_cron" {
  command = plan
  variables { schedule_expression = "cron(* * * * *)" }
  expect_failures = [var.schedule_expression]
}

run "rejects_retries_186" {
  command = plan
  variables { maximum_retry_attempts = 186 }
  expect_failures = [var.maximum_retry_attempts]
}

run "rejects_event_age_59" {
  command = plan
  variables { maximum_event_age_in_seconds = 59 }
  expect_failures = [var.maximum_event_age_in_seconds]
}

run "rejects_input_that_is_not_json" {
  command = plan
  variables { input = "{records" }
  expect_failures = [var.input]
}

run "rejects_qualified_function_arn" {
  command = plan
  variables { function_arn = "arn:aws:lambda:us-east-1:123456789012:function:f:prod" }
  expect_failures = [var.function_arn]
}
