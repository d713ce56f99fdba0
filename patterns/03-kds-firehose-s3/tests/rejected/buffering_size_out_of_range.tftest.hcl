# expect: buffering_size_mb must be a whole number of MiB from 1 to 128 (64 to 128 with dynamic partitioning or Parquet conversion).
mock_provider "aws" {
  source = "./tests/mocks"
}

run "rejected" {
  command = plan
  variables { buffering_size_mb = 129 }
}
