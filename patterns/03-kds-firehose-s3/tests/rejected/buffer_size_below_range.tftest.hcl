# expect: lambda_buffer_size_mb (the buffered record size for the transform Lambda, in MB) must be between 0.2 and 3.
mock_provider "aws" {
  source = "./tests/mocks"
}

run "rejected" {
  command = plan
  variables { buffer_size_mb = 0.19 }
}
