# expect: maximum_event_age_in_seconds must be an integer from 60 to 86400.
mock_provider "aws" {
  source = "./tests/mocks"
}

run "rejected" {
  command = plan
  variables { scheduled_producer_maximum_event_age_in_seconds = 59 }
}
