# expect: custom_time_zone must be UTC or an IANA time zone name such as Asia/Tokyo or America/New_York (Area/Location, at most 50 characters; abbreviations such as EST or CET are not accepted).
mock_provider "aws" {
  source = "./tests/mocks"
}

run "rejected" {
  command = plan
  variables { custom_time_zone = "JST" }
}
