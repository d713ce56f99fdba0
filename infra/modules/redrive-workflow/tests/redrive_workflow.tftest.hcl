mock_provider "aws" {
  mock_resource "aws_lambda_function" {
    defaults = {
      arn = "arn:aws:lambda:us-east-1:123456789012:function:kstream-p1-redrive"
    }
  }
  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::123456789012:role/kstream-p1-redrive-sfn"
    }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = {
      arn = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/vendedlogs/states/kstream-p1-redrive"
    }
  }
  mock_resource "aws_kms_key" {
    defaults = {
      arn = "arn:aws:kms:us-east-1:123456789012:key/00000000-0000-4000-8000-000000000001"
    }
  }
  mock_resource "aws_sfn_state_machine" {
    defaults = {
      arn = "arn:aws:states:us-east-1:123456789012:stateMachine:kstream-p1-redrive"
    }
  }
  mock_resource "aws_scheduler_schedule" {
    defaults = {
      arn = "arn:aws:scheduler:us-east-1:123456789012:schedule/default/kstream-p1-redrive"
    }
  }
}

variables {
  name                   = "kstream-p1-redrive"
  queue_arn              = "arn:aws:sqs:us-east-1:123456789012:kstream-p1-consumer-failures"
  queue_url              = "https://sqs.us-east-1.amazonaws.com/123456789012/kstream-p1-consumer-failures"
  stream_arn             = "arn:aws:kinesis:us-east-1:123456789012:stream/kstream-p1-stream"
  mode                   = "invoke"
  function_arn           = "arn:aws:lambda:us-east-1:123456789012:function:kstream-p1-consumer"
  package_path           = "target/lambda/redrive/bootstrap.zip"
  notification_topic_arn = "arn:aws:sns:us-east-1:123456789012:kstream-p1-alarms"
}

run "invoke_on_demand" {
  command = apply

  # The task, its retries and its catch.
  assert {
    condition = (
      output.definition.StartAt == "Redrive" &&
      output.definition.States.Redrive.Type == "Task" &&
      output.definition.States.Redrive.Resource == "arn:aws:states:::lambda:invoke" &&
      output.definition.States.Redrive.Parameters.FunctionName == output.function_arn
    )
    error_message = "the workflow starts by invoking the redrive function"
  }
  assert {
    # The payload of tests/fixtures/sfn-invoke.json in functions/redrive, less max_messages.
    condition = jsonencode(output.definition.States.Redrive.Parameters.Payload) == jsonencode({
      delete_unrecoverable       = false
      function_name              = "arn:aws:lambda:us-east-1:123456789012:function:kstream-p1-consumer"
      mode                       = "invoke"
      queue_url                  = "https://sqs.us-east-1.amazonaws.com/123456789012/kstream-p1-consumer-failures"
      visibility_timeout_seconds = 300
    })
    error_message = "the task's payload is the function's event for invoke mode"
  }
  assert {
    condition = (
      output.definition.States.Redrive.Retry[0].ErrorEquals == ["Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException", "Lambda.TooManyRequestsException"] &&
      output.definition.States.Redrive.Retry[0].MaxAttempts == 3 &&
      output.definition.States.Redrive.Retry[0].IntervalSeconds == 2 &&
      output.definition.States.Redrive.Retry[0].BackoffRate == 2 &&
      output.definition.States.Redrive.Retry[1].ErrorEquals == ["RedriveFailed"]
    )
    error_message = "Lambda's service errors and throttles, and a failed pass, are retried with backoff"
  }
  assert {
    condition = (
      output.definition.States.Redrive.Catch[0].ErrorEquals == ["States.ALL"] &&
      output.definition.States.Redrive.Catch[0].Next == "NotifyFailed" &&
      output.definition.States.NotifyFailed.Resource == "arn:aws:states:::sns:publish" &&
      output.definition.States.NotifyFailed.Parameters.TopicArn == var.notification_topic_arn &&
      strcontains(output.definition.States.NotifyFailed.Parameters.Subject, "redrive failed") &&
      strcontains(output.definition.States.NotifyFailed.Parameters["Message.$"], "$.error.Error, $.error.Cause") &&
      output.definition.States.NotifyFailed.Next == "RedriveFailed" &&
      output.definition.States.RedriveFailed.Type == "Fail"
    )
    error_message = "a failure after the retries notifies the topic with the error and fails the execution"
  }
  # The choice on the summary.
  assert {
    condition = (
      output.definition.States.Redrive.Next == "Decide" &&
      output.definition.States.Decide.Choices[0].Next == "Redrive" &&
      output.definition.States.Decide.Choices[0].And[0].Variable == "$.pass.summary.more" &&
      output.definition.States.Decide.Choices[1].Next == "NotifyRecordsLeft" &&
      [for c in output.definition.States.Decide.Choices[1].Or : c.Variable] == ["$.pass.summary.left", "$.pass.summary.unrecoverable", "$.pass.summary.more"] &&
      output.definition.States.Decide.Default == "Drained" &&
      output.definition.States.Drained.Type == "Succeed" &&
      strcontains(output.definition.States.NotifyRecordsLeft.Parameters.Subject, "records left") &&
      output.definition.States.NotifyRecordsLeft.Next == "RecordsLeft"
    )
    error_message = "another pass while one stops early having deleted something; records left notify; else the run succeeds"
  }
  assert {
    condition     = length(output.definition.States.NotifyRecordsLeft.Parameters.Subject) <= 100 && length(output.definition.States.NotifyFailed.Parameters.Subject) <= 100
    error_message = "SNS subjects are at most 100 characters"
  }
  # Logs: a created KMS key for both log groups, no execution data.
  assert {
    condition = (
      aws_cloudwatch_log_group.this.name == "/aws/vendedlogs/states/kstream-p1-redrive" &&
      aws_cloudwatch_log_group.this.kms_key_id == aws_kms_key.logs[0].arn &&
      aws_cloudwatch_log_group.this.retention_in_days == 365 &&
      output.log_kms_key_arn == aws_kms_key.logs[0].arn &&
      aws_kms_key.logs[0].enable_key_rotation
    )
    error_message = "the state machine logs to a log group encrypted with the module's rotated key"
  }
  assert {
    condition = (
      jsondecode(aws_kms_key.logs[0].policy).Statement[1].Principal.Service == "logs.us-east-1.amazonaws.com" &&
      jsondecode(aws_kms_key.logs[0].policy).Statement[1].Condition.ArnEquals["kms:EncryptionContext:aws:logs:arn"] == [
        "arn:aws:logs:us-east-1:123456789012:log-group:/aws/vendedlogs/states/kstream-p1-redrive",
        "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/kstream-p1-redrive",
      ]
    )
    error_message = "CloudWatch Logs may use the key for the two log groups only"
  }
  assert {
    condition = (
      one(aws_sfn_state_machine.this.logging_configuration).level == "ERROR" &&
      one(aws_sfn_state_machine.this.logging_configuration).include_execution_data == false &&
      one(aws_sfn_state_machine.this.logging_configuration).log_destination == "${aws_cloudwatch_log_group.this.arn}:*" &&
      one(aws_sfn_state_machine.this.tracing_configuration).enabled == false &&
      aws_sfn_state_machine.this.type == "STANDARD"
    )
    error_message = "errors are logged without execution data; X-Ray is off by default"
  }
  # Least privilege.
  assert {
    condition = (
      jsondecode(aws_iam_role.this.assume_role_policy).Statement[0].Principal.Service == "states.amazonaws.com" &&
      jsondecode(aws_iam_role.this.assume_role_policy).Statement[0].Condition.ArnLike["aws:SourceArn"] == "arn:aws:states:us-east-1:123456789012:stateMachine:kstream-p1-redrive" &&
      jsondecode(aws_iam_role.this.assume_role_policy).Statement[0].Condition.StringEquals["aws:SourceAccount"] == "123456789012"
    )
    error_message = "only this state machine of this account may assume its role"
  }
  assert {
    condition = (
      jsondecode(aws_iam_role_policy.this.policy).Statement[0].Action == ["lambda:InvokeFunction"] &&
      jsondecode(aws_iam_role_policy.this.policy).Statement[0].Resource == [output.function_arn] &&
      jsondecode(aws_iam_role_policy.this.policy).Statement[1].Action == ["sns:Publish"] &&
      jsondecode(aws_iam_role_policy.this.policy).Statement[1].Resource == [var.notification_topic_arn] &&
      length(jsondecode(aws_iam_role_policy.this.policy).Statement) == 3
    )
    error_message = "the state machine invokes the redrive function and publishes to the topic, nothing else (but log delivery)"
  }
  assert {
    condition = jsonencode(output.function_policy_statements) == jsonencode([
      { sid = "ReadAndDeleteFailureMessages", actions = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"], resources = [var.queue_arn] },
      { sid = "ReadRangesBack", actions = ["kinesis:GetShardIterator", "kinesis:GetRecords"], resources = [var.stream_arn] },
      { sid = "InvokeTheConsumer", actions = ["lambda:InvokeFunction", "lambda:GetFunctionConfiguration"], resources = [var.function_arn] },
    ])
    error_message = "the function reads and deletes the queue's messages, reads the stream, invokes the consumer: each on its ARN only"
  }
  assert {
    condition     = output.schedule_arn == null && length(aws_scheduler_schedule.this) == 0 && length(aws_iam_role.schedule) == 0
    error_message = "no schedule by default: on demand only"
  }
  assert {
    condition     = module.function.function_name == "kstream-p1-redrive" && module.function.timeout_seconds == 900
    error_message = "the redrive function is <name>, with a 15-minute timeout"
  }
}

run "reput_scheduled_with_keys" {
  command = apply

  variables {
    mode                     = "reput"
    function_arn             = null
    max_messages             = 500
    delete_unrecoverable     = true
    schedule_expression      = "rate(1 hour)"
    queue_kms_key_arn        = "arn:aws:kms:us-east-1:123456789012:key/00000000-0000-4000-8000-00000000000a"
    stream_kms_key_arn       = "arn:aws:kms:us-east-1:123456789012:key/00000000-0000-4000-8000-00000000000b"
    notification_kms_key_arn = "arn:aws:kms:us-east-1:123456789012:key/00000000-0000-4000-8000-00000000000c"
    log_kms_key_arn          = "arn:aws:kms:us-east-1:123456789012:key/00000000-0000-4000-8000-00000000000d"
    tracing_enabled          = true
    log_level                = "ALL"
  }

  assert {
    condition = jsonencode(output.definition.States.Redrive.Parameters.Payload) == jsonencode({
      delete_unrecoverable       = true
      max_messages               = 500
      mode                       = "reput"
      queue_url                  = "https://sqs.us-east-1.amazonaws.com/123456789012/kstream-p1-consumer-failures"
      visibility_timeout_seconds = 300
    })
    error_message = "the payload for reput mode carries the pass's limits"
  }
  assert {
    condition = (
      aws_scheduler_schedule.this[0].schedule_expression == "rate(1 hour)" &&
      one(aws_scheduler_schedule.this[0].target).arn == aws_sfn_state_machine.this.arn &&
      one(aws_scheduler_schedule.this[0].target).role_arn == aws_iam_role.schedule[0].arn &&
      output.schedule_arn == aws_scheduler_schedule.this[0].arn
    )
    error_message = "the schedule starts the state machine with its own role"
  }
  assert {
    condition = (
      jsondecode(aws_iam_role_policy.schedule[0].policy).Statement[0].Action == ["states:StartExecution"] &&
      jsondecode(aws_iam_role_policy.schedule[0].policy).Statement[0].Resource == [aws_sfn_state_machine.this.arn] &&
      length(jsondecode(aws_iam_role_policy.schedule[0].policy).Statement) == 1 &&
      jsondecode(aws_iam_role.schedule[0].assume_role_policy).Statement[0].Condition.StringEquals["aws:SourceAccount"] == "123456789012"
    )
    error_message = "the schedule's role starts that state machine only"
  }
  assert {
    condition = jsonencode(output.function_policy_statements) == jsonencode([
      { sid = "ReadAndDeleteFailureMessages", actions = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"], resources = [var.queue_arn] },
      { sid = "ReadRangesBack", actions = ["kinesis:GetShardIterator", "kinesis:GetRecords"], resources = [var.stream_arn] },
      { sid = "PutRecordsAgain", actions = ["kinesis:PutRecords"], resources = [var.stream_arn] },
      { sid = "DecryptFailureMessages", actions = ["kms:Decrypt"], resources = [var.queue_kms_key_arn] },
      { sid = "UseStreamKey", actions = ["kms:Decrypt", "kms:GenerateDataKey"], resources = [var.stream_kms_key_arn] },
    ])
    error_message = "reput: PutRecords on the stream, and each key on its ARN"
  }
  assert {
    condition = (
      jsondecode(aws_iam_role_policy.this.policy).Statement[3].Resource == [var.notification_kms_key_arn] &&
      jsondecode(aws_iam_role_policy.this.policy).Statement[3].Condition.StringEquals["kms:ViaService"] == "sns.us-east-1.amazonaws.com" &&
      jsondecode(aws_iam_role_policy.this.policy).Statement[4].Sid == "XRayTraces"
    )
    error_message = "the topic's key through SNS only; X-Ray when tracing"
  }
  assert {
    condition = (
      length(aws_kms_key.logs) == 0 &&
      aws_cloudwatch_log_group.this.kms_key_id == var.log_kms_key_arn &&
      one(aws_sfn_state_machine.this.tracing_configuration).enabled &&
      one(aws_sfn_state_machine.this.logging_configuration).level == "ALL"
    )
    error_message = "a given log key is used instead of a created one; tracing and log level as asked"
  }
}

run "s3" {
  command = plan

  variables {
    mode           = "s3"
    function_arn   = null
    s3_bucket_name = "kstream-p1-inspection"
    s3_kms_key_arn = "arn:aws:kms:us-east-1:123456789012:key/00000000-0000-4000-8000-00000000000e"
  }

  assert {
    condition     = output.definition.States.Redrive.Parameters.Payload.s3_uri == "s3://kstream-p1-inspection/redrive/"
    error_message = "the payload names the bucket and prefix as an s3:// URI"
  }
  assert {
    condition = (
      output.function_policy_statements[2].actions == ["s3:PutObject"] &&
      output.function_policy_statements[2].resources == ["arn:aws:s3:::kstream-p1-inspection/redrive/*"] &&
      output.function_policy_statements[3].actions == ["kms:GenerateDataKey"] &&
      output.function_policy_statements[3].resources == [var.s3_kms_key_arn]
    )
    error_message = "s3: PutObject under the prefix only, and the bucket's key"
  }
}

run "rejects_an_unknown_mode" {
  command = plan
  variables {
    mode = "file"
  }
  expect_failures = [var.mode]
}

run "rejects_invoke_without_a_function" {
  command = plan
  variables {
    function_arn = null
  }
  expect_failures = [var.mode]
}

run "rejects_a_function_outside_invoke" {
  command = plan
  variables {
    mode = "reput"
  }
  expect_failures = [var.mode]
}

run "rejects_s3_without_a_bucket" {
  command = plan
  variables {
    mode         = "s3"
    function_arn = null
  }
  expect_failures = [var.mode]
}

run "rejects_out_of_range_values" {
  command = plan
  variables {
    max_messages               = 0
    visibility_timeout_seconds = 43201
    function_timeout_seconds   = 901
    schedule_expression        = "every hour"
    log_level                  = "DEBUG"
    log_retention_in_days      = 2
    s3_prefix                  = "no-slash"
    retry                      = { max_attempts = 11 }
    queue_arn                  = "arn:aws:sns:us-east-1:123456789012:x"
    stream_arn                 = "kstream-p1-stream"
    notification_topic_arn     = "kstream-p1-alarms"
    name                       = "has space"
  }
  expect_failures = [
    var.max_messages, var.visibility_timeout_seconds, var.function_timeout_seconds,
    var.schedule_expression, var.log_level, var.log_retention_in_days, var.s3_prefix, var.retry,
    var.queue_arn, var.stream_arn, var.notification_topic_arn, var.name,
  ]
}
