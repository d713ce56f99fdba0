# A plain provider: credentials and endpoints come from the environment, the region too unless
# var.region is set.
# (scripts/local-apply.sh reaches the emulator by exporting AWS_ENDPOINT_URL; nothing here changes.)
provider "aws" {
  region = var.region

  default_tags {
    tags = merge(
      {
        Project = "kstream"
        Pattern = "04-kds-enrichment-apigw"
        Name    = var.name_prefix
      },
      var.tags,
    )
  }
}
