# expect: failed_record_archive.prefix must be 1 to 256 characters, end in '/'
mock_provider "aws" {
  source = "./tests/mocks"
}

run "rejected" {
  command = plan
  variables {
    failed_record_archive = { enabled = true, prefix = "failed" }
  }
}
