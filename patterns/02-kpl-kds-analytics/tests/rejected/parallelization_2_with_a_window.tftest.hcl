# expect: parallelization_factor must be 1 with a tumbling window (tumbling_window_in_seconds > 0): Lambda keeps one window state per shard.
mock_provider "aws" {
  source = "./tests/mocks"
}

run "rejected" {
  command = plan
  variables { parallelization_factor = 2 }
}
