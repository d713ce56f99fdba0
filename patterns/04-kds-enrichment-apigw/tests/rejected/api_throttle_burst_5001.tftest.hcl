# expect: throttle_burst_limit must be an integer from 1 to 5000.
mock_provider "aws" {
  source = "./tests/mocks"
}

run "rejected" {
  command = plan
  variables { api_throttle_burst_limit = 5001 }
}
