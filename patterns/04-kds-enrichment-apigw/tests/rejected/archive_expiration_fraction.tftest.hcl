# expect: failed_record_archive.expiration_days must be a whole number of days from 1 to 3650.
mock_provider "aws" {
  source = "./tests/mocks"
}

run "rejected" {
  command = plan
  variables {
    failed_record_archive = { enabled = true, expiration_days = 2.5 }
  }
}
