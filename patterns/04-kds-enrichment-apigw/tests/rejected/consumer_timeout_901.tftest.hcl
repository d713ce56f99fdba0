# expect: timeout_seconds must be an integer from 1 to 900.
mock_provider "aws" {
  source = "./tests/mocks"
}

run "rejected" {
  command = plan
  variables { consumer_timeout_seconds = 901 }
}
