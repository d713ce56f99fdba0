# expect: shard_count must be an integer from 1 to 200.
mock_provider "aws" {
  source = "./tests/mocks"
}

run "rejected" {
  command = plan
  variables { shard_count = 0 }
}
