# expect: api_key_store must be ssm or secretsmanager.
mock_provider "aws" {
  source = "./tests/mocks"
}

run "rejected" {
  command = plan
  variables { api_key_store = "plaintext" }
}
