# expect: throttling_rate_limit must be from 1 to 10000 requests per second.
mock_provider "aws" {
  source = "./tests/mocks"
}

run "rejected" {
  command = plan
  variables { throttling_rate_limit = 10001 }
}
