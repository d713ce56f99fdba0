# expect: quota_period must be DAY, WEEK or MONTH.
mock_provider "aws" {
  source = "./tests/mocks"
}

run "rejected" {
  command = plan
  variables { api_quota_period = "YEAR" }
}
