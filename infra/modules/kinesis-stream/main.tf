locals {
  # Every shard-level metric Kinesis publishes when enhanced monitoring is on
  # (the reference's custom resource passes ShardLevelMetrics=['ALL']).
  shard_level_metrics = [
    "IncomingBytes",
    "IncomingRecords",
    "IteratorAgeMilliseconds",
    "OutgoingBytes",
    "OutgoingRecords",
    "ReadProvisionedThroughputExceeded",
    "WriteProvisionedThroughputExceeded",
  ]
}

resource "aws_kinesis_stream" "this" {
  name             = var.name
  shard_count      = var.stream_mode == "PROVISIONED" ? var.shard_count : null
  retention_period = var.retention_period_hours

  # Encryption at rest is always on: the AWS-managed key unless a customer key is given.
  encryption_type = "KMS"
  kms_key_id      = coalesce(var.kms_key_arn, "alias/aws/kinesis")

  shard_level_metrics       = var.enhanced_monitoring ? local.shard_level_metrics : []
  enforce_consumer_deletion = var.enforce_consumer_deletion

  stream_mode_details {
    stream_mode = var.stream_mode
  }

  tags = var.tags
}
