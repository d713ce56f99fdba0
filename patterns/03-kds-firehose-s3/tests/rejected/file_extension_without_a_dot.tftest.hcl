# expect: file_extension must be null or a dot followed by 1 to 49 characters from [0-9a-z!-_.*'()] (lowercase), e.g. ".json.gz"; at most 50 characters in all.
mock_provider "aws" {
  source = "./tests/mocks"
}

run "rejected" {
  command = plan
  variables { file_extension = "json.gz" }
}
