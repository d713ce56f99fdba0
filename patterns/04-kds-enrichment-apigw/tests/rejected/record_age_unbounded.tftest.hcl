# expect: maximum_record_age_in_seconds must stay at least an hour below the stream's retention
mock_provider "aws" {
  source = "./tests/mocks"
}

run "rejected" {
  command = plan
  variables {
    maximum_record_age_in_seconds = -1
  }
}
