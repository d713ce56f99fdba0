# expect: parallelization_factor must be an integer from 1 to 10.
mock_provider "aws" {
  source = "./tests/mocks"
}

run "rejected" {
  command = plan
  variables { parallelization_factor = 11 }
}
