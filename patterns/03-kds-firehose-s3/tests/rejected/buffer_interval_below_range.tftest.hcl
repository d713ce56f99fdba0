# expect: lambda_buffer_interval_seconds (the buffered record time for the transform Lambda, in seconds) must be between 60 and 900.
mock_provider "aws" {
  source = "./tests/mocks"
}

run "rejected" {
  command = plan
  variables { buffer_interval_seconds = 59 }
}
