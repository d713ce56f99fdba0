# expect: retention_period_hours must be an integer from 24 to 8760.
mock_provider "aws" {
  source = "./tests/mocks"
}

run "rejected" {
  command = plan
  variables { retention_period_hours = 8761 }
}
