# expect: memory_size_mb must be an integer from 128 to 10240.
mock_provider "aws" {
  source = "./tests/mocks"
}

run "rejected" {
  command = plan
  variables { fare_api_memory_size_mb = 64 }
}
