# A plain provider: credentials and endpoints come from the environment.
# (The emulator is reached through a generated *_override.tf or tflocal, never from here.)
provider "aws" {
  region = var.region

  default_tags {
    tags = merge(
      {
        Project = "kstream"
        Pattern = "01-apigw-kds-lambda"
        Name    = var.name_prefix
      },
      var.tags,
    )
  }
}
