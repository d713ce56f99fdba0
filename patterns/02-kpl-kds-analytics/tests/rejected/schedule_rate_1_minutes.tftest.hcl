# expect: schedule_expression must be rate(1 minute), rate(<n> minutes|hours|days) (also 1 hour, 1 day), cron(<6 fields>) or at(yyyy-mm-ddThh:mm:ss).
mock_provider "aws" {
  source = "./tests/mocks"
}

run "rejected" {
  command = plan
  variables { scheduled_producer_schedule_expression = "rate(1 minutes)" }
}
