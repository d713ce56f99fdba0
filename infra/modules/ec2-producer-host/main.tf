locals {
  # arn:<partition>:kinesis:<region>:<account>:stream/<name>
  stream_arn_parts = split(":", var.stream_arn)
  partition        = local.stream_arn_parts[1]
  region           = local.stream_arn_parts[3]
  stream_name      = trimprefix(local.stream_arn_parts[5], "stream/")
  binary_arn       = "arn:${local.partition}:s3:::${var.binary_bucket}/${var.binary_key}"

  # Every value is validated to characters that need no quoting in a systemd ExecStart line.
  produce_command = join(" ", [
    "/opt/kstream/kstream produce",
    "--stream ${local.stream_name}",
    "--region ${local.region}",
    "--rate ${var.records_per_second}",
    "--event-time-format ${var.event_time_format}",
    "--partition-key ${var.partition_key}",
    "--metrics-level ${var.metrics_level}",
    "--metrics-namespace ${var.metrics_namespace}",
  ])

  user_data = templatefile("${path.module}/user_data.sh.tftpl", {
    region          = local.region
    stream_name     = local.stream_name
    binary_bucket   = var.binary_bucket
    binary_key      = var.binary_key
    binary_sha256   = var.binary_sha256
    produce_command = local.produce_command
  })
}

data "aws_ssm_parameter" "ami" {
  name = var.ami_ssm_parameter
}

################################################################################
# Network: no ingress at all (Session Manager reaches the host through its agent's
# outbound connection), egress HTTPS only
################################################################################

resource "aws_security_group" "this" {
  name        = "${var.name}-sg"
  description = "kstream producer host ${var.name}: no ingress; HTTPS egress to AWS APIs"
  vpc_id      = var.vpc_id

  # Managed here as "none": an ingress rule added by hand is removed on the next apply.
  # (Egress is the separate rule below; Terraform drops AWS's default allow-all egress on create.)
  ingress = []

  tags = merge(var.tags, { Name = "${var.name}-sg" })
}

# Kinesis, S3, CloudWatch and the SSM endpoints are all HTTPS. (DNS to the VPC resolver and
# the Amazon Time Sync Service are link-local and not filtered by security groups.)
resource "aws_vpc_security_group_egress_rule" "https" {
  security_group_id = aws_security_group.this.id
  description       = "HTTPS to AWS APIs (Kinesis, S3, CloudWatch, SSM)"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"

  tags = var.tags
}

################################################################################
# Role: Session Manager, and least privilege for the producer
################################################################################

resource "aws_iam_role" "this" {
  name        = "${var.name}-role"
  description = "Instance role of the kstream producer host ${var.name}"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "EC2AssumeRole"
      Effect    = "Allow"
      Action    = "sts:AssumeRole"
      Principal = { Service = "ec2.amazonaws.com" }
    }]
  })

  tags = var.tags
}

# Session Manager only (no SSH key, no open port): the AWS managed policy the SSM agent needs.
resource "aws_iam_role_policy_attachment" "ssm" {
  role       = aws_iam_role.this.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/AmazonSSMManagedInstanceCore"
}

resource "aws_iam_role_policy" "this" {
  name = "${var.name}-producer"
  role = aws_iam_role.this.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat(
      [
        {
          # kstream produce: shard map (ListShards, DescribeStreamSummary) and puts.
          Sid    = "ProduceToStream"
          Effect = "Allow"
          Action = [
            "kinesis:DescribeStream",
            "kinesis:DescribeStreamSummary",
            "kinesis:ListShards",
            "kinesis:PutRecord",
            "kinesis:PutRecords",
          ]
          Resource = [var.stream_arn]
        },
        {
          Sid      = "FetchBinary"
          Effect   = "Allow"
          Action   = ["s3:GetObject"]
          Resource = [local.binary_arn]
        },
        {
          # PutMetricData has no resource-level permissions: "*" narrowed by the namespace.
          Sid       = "PublishProducerMetrics"
          Effect    = "Allow"
          Action    = ["cloudwatch:PutMetricData"]
          Resource  = ["*"]
          Condition = { StringEquals = { "cloudwatch:namespace" = var.metrics_namespace } }
        },
      ],
      var.stream_kms_key_arn == null ? [] : [{
        Sid      = "EncryptStreamRecords"
        Effect   = "Allow"
        Action   = ["kms:GenerateDataKey"]
        Resource = [var.stream_kms_key_arn]
      }],
      var.binary_kms_key_arn == null ? [] : [{
        Sid      = "DecryptBinary"
        Effect   = "Allow"
        Action   = ["kms:Decrypt"]
        Resource = [var.binary_kms_key_arn]
      }],
    )
  })
}

resource "aws_iam_instance_profile" "this" {
  name = "${var.name}-profile"
  role = aws_iam_role.this.name

  tags = var.tags
}

################################################################################
# Instance
################################################################################

resource "aws_instance" "this" {
  ami                         = data.aws_ssm_parameter.ami.insecure_value
  instance_type               = var.instance_type
  subnet_id                   = var.subnet_id
  vpc_security_group_ids      = [aws_security_group.this.id]
  iam_instance_profile        = aws_iam_instance_profile.this.name
  associate_public_ip_address = var.associate_public_ip_address
  monitoring                  = var.detailed_monitoring

  # IMDSv2 only, one hop (a container on the host cannot reach the credentials).
  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
    instance_metadata_tags      = "disabled"
  }

  root_block_device {
    volume_type           = "gp3"
    volume_size           = var.root_volume_size_gb
    encrypted             = true
    kms_key_id            = var.ebs_kms_key_arn
    delete_on_termination = true
  }

  user_data                   = local.user_data
  user_data_replace_on_change = true

  tags        = merge(var.tags, { Name = var.name })
  volume_tags = merge(var.tags, { Name = var.name })

  lifecycle {
    # A newer AMI in the SSM parameter does not replace a running host by surprise.
    ignore_changes = [ami]
  }

  # The role must hold its permissions before the user data fetches the binary.
  depends_on = [aws_iam_role_policy.this, aws_iam_role_policy_attachment.ssm]
}
