# expect: quota_limit must be null or an integer from 1 to 2000000000.
mock_provider "aws" {
  source = "./tests/mocks"
}

run "rejected" {
  command = plan
  variables { api_quota_limit = 0 }
}
