terraform {
  # 1.9: the validation of parallelization_factor reads tumbling_window_in_seconds.
  required_version = ">= 1.9"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0"
    }
  }
}
