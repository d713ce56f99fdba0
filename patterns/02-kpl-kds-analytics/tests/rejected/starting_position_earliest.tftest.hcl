# expect: starting_position must be LATEST, TRIM_HORIZON or AT_TIMESTAMP.
mock_provider "aws" {
  source = "./tests/mocks"
}

run "rejected" {
  command = plan
  variables { starting_position = "EARLIEST" }
}
