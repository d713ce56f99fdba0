# expect: maximum_retry_attempts must be an integer from 0 to 185.
mock_provider "aws" {
  source = "./tests/mocks"
}

run "rejected" {
  command = plan
  variables { scheduled_producer_maximum_retry_attempts = 186 }
}
