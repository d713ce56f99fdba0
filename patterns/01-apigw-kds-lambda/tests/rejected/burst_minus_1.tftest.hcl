# expect: throttling_burst_limit must be an integer from 0 to 5000.
mock_provider "aws" {
  source = "./tests/mocks"
}

run "rejected" {
  command = plan
  variables { throttling_burst_limit = -1 }
}
