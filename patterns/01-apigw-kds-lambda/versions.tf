terraform {
  # 1.9: the kinesis-lambda-consumer module's cross-variable validation.
  required_version = ">= 1.9"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0, < 6.0"
    }
  }
}
