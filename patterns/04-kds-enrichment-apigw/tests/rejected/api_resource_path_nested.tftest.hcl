# expect: resource_path must be 1 to 128 characters from [a-zA-Z0-9._-] (one path segment, no braces).
mock_provider "aws" {
  source = "./tests/mocks"
}

run "rejected" {
  command = plan
  variables { api_resource_path = "fares/{id}" }
}
