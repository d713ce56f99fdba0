# expect: schedule_expression must be null, rate(1 minute), rate(<n> minutes|hours|days)
mock_provider "aws" {
  source = "./tests/mocks"
}

run "rejected" {
  command = plan
  variables {
    redrive_workflow = { enabled = true, schedule_expression = "every hour" }
  }
}
