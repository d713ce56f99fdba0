terraform {
  # 1.9: validations that name other variables (mode and its target)
  required_version = ">= 1.9"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0"
    }
  }
}
