terraform {
  # 1.9: cross-variable validations (here and in the apigw-lambda-api and kinesis-lambda-consumer modules).
  required_version = ">= 1.9"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0, < 6.0"
    }
  }
}
