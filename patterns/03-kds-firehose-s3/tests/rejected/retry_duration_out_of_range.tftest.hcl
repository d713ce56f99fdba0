# expect: dynamic_partitioning_retry_seconds must be a whole number of seconds from 0 to 7200.
mock_provider "aws" {
  source = "./tests/mocks"
}

run "rejected" {
  command = plan
  variables { dynamic_partitioning_retry_seconds = 7201 }
}
