# expect: throttle_rate_limit must be from 1 to 10000 requests per second.
mock_provider "aws" {
  source = "./tests/mocks"
}

run "rejected" {
  command = plan
  variables { api_throttle_rate_limit = 0 }
}
