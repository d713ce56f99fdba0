# expect: integration_timeout_ms must be an integer from 50 to 29000.
mock_provider "aws" {
  source = "./tests/mocks"
}

run "rejected" {
  command = plan
  variables { api_integration_timeout_ms = 29001 }
}
