# expect: parallelism must be an integer from 1 to 64.
mock_provider "aws" {
  source = "./tests/mocks"
}

run "rejected" {
  command = plan
  variables {
    flink_enabled     = true
    flink_parallelism = 0
  }
}
