# expect: maximum_record_age_in_seconds must be -1 or an integer from 60 to 604800.
mock_provider "aws" {
  source = "./tests/mocks"
}

run "rejected" {
  command = plan
  variables { maximum_record_age_in_seconds = 59 }
}
