# expect: instance_type must be a Graviton (arm64) type such as t4g.small or m7g.large
mock_provider "aws" {
  source = "./tests/mocks"
}

run "rejected" {
  command = plan
  variables {
    producer_host_enabled       = true
    producer_host_instance_type = "t3.small"
    producer_host_vpc_id        = "vpc-0123456789abcdef0"
    producer_host_subnet_id     = "subnet-0123456789abcdef0"
    producer_host_binary_bucket = "acme-artifacts"
    producer_host_binary_key    = "bin/aarch64/kstream"
    producer_host_binary_sha256 = "0000000000000000000000000000000000000000000000000000000000000abc"
  }
}
