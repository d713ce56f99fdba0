# expect: log_kms_key_arn must be null or a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<id>).
mock_provider "aws" {
  source = "./tests/mocks"
}

run "rejected" {
  command = plan
  variables { log_kms_key_arn = "alias/my-logs" }
}
