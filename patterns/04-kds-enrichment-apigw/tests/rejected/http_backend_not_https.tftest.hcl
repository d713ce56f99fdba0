# expect: http_integration_uri must be null or an https:// URL.
mock_provider "aws" {
  source = "./tests/mocks"
}

run "rejected" {
  command = plan
  variables { fare_api_http_integration_uri = "http://fares.example.com/predict" }
}
