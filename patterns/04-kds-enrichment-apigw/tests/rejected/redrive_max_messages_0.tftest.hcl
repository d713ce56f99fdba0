# expect: max_messages must be null or an integer from 1 to 120000.
mock_provider "aws" {
  source = "./tests/mocks"
}

run "rejected" {
  command = plan
  variables {
    redrive_workflow = { enabled = true, max_messages = 0 }
  }
}
