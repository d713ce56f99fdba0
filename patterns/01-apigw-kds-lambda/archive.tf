################################################################################
# Failed-record archive (optional): the consumer writes each record it reports as a batch item
# failure to a KMS-encrypted, TLS-only bucket whose objects expire; its role may only put objects
# under the prefix (infra/modules/failed-record-archive, kstream_pipeline::archive).
################################################################################

module "failed_record_archive" {
  source = "../../infra/modules/failed-record-archive"
  count  = var.failed_record_archive.enabled ? 1 : 0

  name_prefix        = var.name_prefix
  function_role_name = module.consumer_function.role_name
  prefix             = var.failed_record_archive.prefix
  expiration_days    = var.failed_record_archive.expiration_days
  kms_key_arn        = var.failed_record_archive.kms_key_arn
  force_destroy      = var.failed_record_archive.force_destroy
  tls_only_policy    = var.failed_record_archive.tls_only_policy
}

locals {
  # FAILED_RECORD_ARCHIVE_BUCKET and _PREFIX when the archive is on; nothing (off) otherwise.
  failed_record_archive_environment = var.failed_record_archive.enabled ? module.failed_record_archive[0].environment : {}
}
