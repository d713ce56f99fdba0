# expect: compression_format must be one of GZIP, UNCOMPRESSED, ZIP, Snappy, HADOOP_SNAPPY (case-sensitive).
mock_provider "aws" {
  source = "./tests/mocks"
}

run "rejected" {
  command = plan
  variables { compression_format = "BZIP2" }
}
