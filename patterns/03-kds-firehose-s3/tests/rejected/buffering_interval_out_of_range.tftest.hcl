# expect: buffering_interval_seconds must be a whole number of seconds from 60 to 900.
mock_provider "aws" {
  source = "./tests/mocks"
}

run "rejected" {
  command = plan
  variables { buffering_interval_seconds = 901 }
}
