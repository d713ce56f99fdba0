# The optional redrive workflow (redrive_workflow, infra/modules/redrive-workflow): off by
# default; on demand or scheduled when enabled, wired to this pattern's failure queue, stream,
# consumer and alarm topic; and the pattern's own checks of the option. Values the pattern only
# hands to the module are rejected by the module: tests/rejected/redrive_*.
mock_provider "aws" {
  source = "./tests/mocks"
}

# The pattern's shared mocks have no state machine; the schedule's target must be an ARN.
override_resource {
  target = module.redrive[0].aws_sfn_state_machine.this
  values = {
    arn = "arn:aws:states:us-east-1:123456789012:stateMachine:kstream-p4-redrive"
  }
}

run "redrive_workflow_is_off_by_default" {
  command = plan

  assert {
    condition     = length(module.redrive) == 0 && output.redrive_state_machine_arn == null && output.redrive_function_name == null
    error_message = "no redrive workflow unless redrive_workflow.enabled"
  }
}

run "redrive_workflow_on_demand" {
  command = apply

  variables {
    redrive_workflow = { enabled = true }
  }

  assert {
    condition = (
      module.redrive[0].state_machine_name == "kstream-p4-redrive" &&
      output.redrive_state_machine_arn == module.redrive[0].state_machine_arn &&
      module.redrive[0].schedule_arn == null
    )
    error_message = "enabled: the state machine <prefix>-redrive, on demand only"
  }
  assert {
    condition = (
      module.redrive[0].definition.States.Redrive.Parameters.Payload.queue_url == "https://sqs.us-east-1.amazonaws.com/123456789012/kstream-p4-failures" &&
      module.redrive[0].function_policy_statements[0].resources == ["arn:aws:sqs:us-east-1:123456789012:kstream-p4-failures"] &&
      module.redrive[0].function_policy_statements[1].resources == ["arn:aws:kinesis:us-east-1:123456789012:stream/kstream-p4-stream"]
    )
    error_message = "the workflow redrives this pattern's failure queue from its stream"
  }
  assert {
    condition = (
      output.redrive_function_name == "kstream-p4-redrive" &&
      module.redrive[0].definition.States.Redrive.Parameters.Payload.mode == "invoke" &&
      module.redrive[0].definition.States.Redrive.Parameters.Payload.function_name == module.consumer_function.function_arn &&
      module.redrive[0].definition.States.Redrive.Parameters.Payload.visibility_timeout_seconds == max(300, var.consumer_timeout_seconds + 60)
    )
    error_message = "by default the workflow invokes the consumer again, hiding a message longer than one invocation"
  }
  assert {
    condition = (
      module.redrive[0].definition.States.NotifyFailed.Parameters.TopicArn == module.alarms.sns_topic_arn &&
      module.redrive[0].definition.States.NotifyRecordsLeft.Parameters.TopicArn == module.alarms.sns_topic_arn
    )
    error_message = "failures and records left notify the alarm topic"
  }
}

run "redrive_workflow_scheduled" {
  command = apply

  variables {
    redrive_workflow = {
      enabled              = true
      mode                 = "reput"
      schedule_expression  = "rate(6 hours)"
      max_messages         = 100
      delete_unrecoverable = true
    }
  }

  assert {
    condition = (
      module.redrive[0].schedule_arn != null &&
      module.redrive[0].definition.States.Redrive.Parameters.Payload.mode == "reput" &&
      module.redrive[0].definition.States.Redrive.Parameters.Payload.max_messages == 100 &&
      module.redrive[0].definition.States.Redrive.Parameters.Payload.delete_unrecoverable == true &&
      module.redrive[0].function_policy_statements[2].actions == ["kinesis:PutRecords"]
    )
    error_message = "a scheduled reput workflow, with the pass's limits"
  }
}

run "redrive_workflow_to_the_bucket" {
  command = apply

  variables {
    redrive_workflow = { enabled = true, mode = "s3" }
  }

  assert {
    condition = (
      module.redrive[0].definition.States.Redrive.Parameters.Payload.s3_uri == "s3://${module.bucket.bucket_name}/redrive/" &&
      module.redrive[0].function_policy_statements[2].resources == ["arn:aws:s3:::${module.bucket.bucket_name}/redrive/*"]
    )
    error_message = "s3 mode writes under redrive/ in the pattern's bucket, PutObject there only"
  }
}

run "redrive_workflow_rejects_a_mode_of_another_pattern" {
  command = plan

  variables {
    redrive_workflow = { enabled = true, mode = "file" }
  }

  # not a mode
  expect_failures = [var.redrive_workflow]
}

run "redrive_workflow_needs_the_alarm_topic" {
  command = plan

  variables {
    create_alarm_topic = false
    redrive_workflow   = { enabled = true }
  }

  expect_failures = [var.redrive_workflow]
}
