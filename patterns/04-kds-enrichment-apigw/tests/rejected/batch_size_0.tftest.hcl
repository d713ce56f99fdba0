# expect: batch_size must be an integer from 1 to 10000.
mock_provider "aws" {
  source = "./tests/mocks"
}

run "rejected" {
  command = plan
  variables { batch_size = 0 }
}
