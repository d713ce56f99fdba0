# expect: maximum_retry_attempts must be an integer from -1 to 10000.
mock_provider "aws" {
  source = "./tests/mocks"
}

run "rejected" {
  command = plan
  variables { maximum_retry_attempts = 10001 }
}
