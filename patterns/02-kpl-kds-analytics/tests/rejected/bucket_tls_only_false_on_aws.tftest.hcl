# expect: tls_only_policy = false is for a local emulator only (account 123456789012 or 000000000000), not for account 210987654321
mock_provider "aws" {
  source = "./tests/mocks"
}

run "rejected" {
  command = plan
  variables { bucket_tls_only_policy = false }
  override_data {
    target = module.bucket.data.aws_caller_identity.current
    values = { account_id = "210987654321", arn = "arn:aws:iam::210987654321:user/test", user_id = "AIDATEST" }
  }
}
