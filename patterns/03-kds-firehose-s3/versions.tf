terraform {
  required_version = ">= 1.7"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0, < 6.0"
    }
  }
}

# Region and credentials come from the environment (AWS_REGION / AWS_PROFILE ...) unless aws_region
# is set. The same configuration applies to the local emulator: scripts/local-apply.sh sets
# AWS_ENDPOINT_URL, which the provider honours; nothing here is emulator-specific.
provider "aws" {
  region = var.aws_region

  default_tags {
    tags = merge({ Project = "kstream", Pattern = "03-kds-firehose-s3" }, var.tags)
  }
}
