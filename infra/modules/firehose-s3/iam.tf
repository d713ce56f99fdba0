################################################################################
# Firehose role: least privilege, every statement scoped to resource ARNs
################################################################################

locals {
  log_stream_arns = [
    for s in values(aws_cloudwatch_log_stream.this) :
    "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:${local.log_group_name}:log-stream:${s.name}"
  ]

  glue_resources = var.parquet_conversion_enabled ? [
    "arn:${local.partition}:glue:${local.region}:${local.account_id}:catalog",
    "arn:${local.partition}:glue:${local.region}:${local.account_id}:database/${coalesce(var.glue_database_name, "-")}",
    "arn:${local.partition}:glue:${local.region}:${local.account_id}:table/${coalesce(var.glue_database_name, "-")}/${coalesce(var.glue_table_name, "-")}",
  ] : []

  bucket_kms_key_arns = distinct(compact([var.bucket_kms_key_arn]))

  policy_statements = concat(
    [
      {
        Sid    = "ReadSourceStream"
        Effect = "Allow"
        Action = [
          "kinesis:DescribeStream",
          "kinesis:DescribeStreamSummary",
          "kinesis:GetShardIterator",
          "kinesis:GetRecords",
          "kinesis:ListShards",
        ]
        Resource = [var.kinesis_stream_arn]
      },
      {
        Sid    = "WriteDestinationBucket"
        Effect = "Allow"
        Action = [
          "s3:AbortMultipartUpload",
          "s3:GetBucketLocation",
          "s3:GetObject",
          "s3:ListBucket",
          "s3:ListBucketMultipartUploads",
          "s3:PutObject",
        ]
        Resource = flatten([for b in local.bucket_arns : [b, "${b}/*"]])
      },
    ],
    var.kinesis_stream_kms_key_arn != null ? [{
      Sid       = "DecryptSourceStream"
      Effect    = "Allow"
      Action    = ["kms:Decrypt"]
      Resource  = [var.kinesis_stream_kms_key_arn]
      Condition = { StringEquals = { "kms:ViaService" = "kinesis.${local.region}.amazonaws.com" } }
    }] : [],
    length(local.bucket_kms_key_arns) > 0 ? [{
      Sid       = "EncryptDestinationObjects"
      Effect    = "Allow"
      Action    = ["kms:GenerateDataKey", "kms:Decrypt"]
      Resource  = local.bucket_kms_key_arns
      Condition = { StringEquals = { "kms:ViaService" = "s3.${local.region}.amazonaws.com" } }
    }] : [],
    local.lambda_enabled ? [{
      Sid      = "InvokeTransform"
      Effect   = "Allow"
      Action   = ["lambda:InvokeFunction", "lambda:GetFunctionConfiguration"]
      Resource = [local.lambda_unqualified, "${local.lambda_unqualified}:*"]
    }] : [],
    var.error_logging_enabled ? [{
      Sid      = "WriteErrorLogs"
      Effect   = "Allow"
      Action   = ["logs:PutLogEvents"]
      Resource = local.log_stream_arns
    }] : [],
    var.parquet_conversion_enabled ? [{
      Sid      = "ReadParquetSchema"
      Effect   = "Allow"
      Action   = ["glue:GetTable", "glue:GetTableVersion", "glue:GetTableVersions"]
      Resource = local.glue_resources
    }] : [],
  )
}

resource "aws_iam_role" "this" {
  name        = "${var.name_prefix}-firehose"
  description = "Role of the Firehose delivery stream ${local.name}"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "FirehoseAssumeRole"
      Effect    = "Allow"
      Action    = "sts:AssumeRole"
      Principal = { Service = "firehose.amazonaws.com" }
      # Only Firehose acting for this account may use the role (confused-deputy protection).
      Condition = { StringEquals = { "sts:ExternalId" = local.account_id } }
    }]
  })

  tags = var.tags
}

resource "aws_iam_role_policy" "this" {
  name = "${var.name_prefix}-firehose-policy"
  role = aws_iam_role.this.id
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = local.policy_statements
  })
}
