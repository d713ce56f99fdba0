# expect: waf_web_acl_arn must be null or a regional WAFv2 web ACL ARN
mock_provider "aws" {
  source = "./tests/mocks"
}

run "rejected" {
  command = plan
  variables { waf_web_acl_arn = "arn:aws:wafv2:us-east-1:123456789012:global/webacl/records/0123abcd" }
}
