mock_provider "aws" {
  mock_data "aws_ssm_parameter" {
    defaults = {
      insecure_value = "ami-0123456789abcdef0"
      value          = "ami-0123456789abcdef0"
    }
  }
  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::123456789012:role/kstream-test-producer-role"
    }
  }
  mock_resource "aws_security_group" {
    defaults = {
      id = "sg-0123456789abcdef0"
    }
  }
}

variables {
  name          = "kstream-test-producer"
  vpc_id        = "vpc-0123456789abcdef0"
  subnet_id     = "subnet-0123456789abcdef0"
  stream_arn    = "arn:aws:kinesis:eu-west-1:123456789012:stream/kstream-test-tickers"
  binary_bucket = "kstream-test-artifacts"
  binary_key    = "bin/aarch64/kstream"
  binary_sha256 = "0000000000000000000000000000000000000000000000000000000000000abc"
}

run "secure_defaults" {
  command = plan

  assert {
    condition     = aws_instance.this.instance_type == "t4g.small" && aws_instance.this.ami == "ami-0123456789abcdef0"
    error_message = "Graviton t4g.small from the SSM parameter's AMI by default"
  }
  assert {
    condition     = data.aws_ssm_parameter.ami.name == "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64"
    error_message = "the AMI must come from the AL2023 arm64 public parameter"
  }
  assert {
    condition = (
      aws_instance.this.metadata_options[0].http_tokens == "required" &&
      aws_instance.this.metadata_options[0].http_put_response_hop_limit == 1 &&
      aws_instance.this.metadata_options[0].http_endpoint == "enabled"
    )
    error_message = "IMDSv2 required with a hop limit of 1"
  }
  assert {
    condition     = aws_instance.this.root_block_device[0].encrypted == true && aws_instance.this.root_block_device[0].volume_type == "gp3"
    error_message = "encrypted gp3 root volume"
  }
  assert {
    condition     = aws_instance.this.associate_public_ip_address == false && aws_instance.this.monitoring == true
    error_message = "no public address; detailed monitoring on"
  }
  assert {
    condition     = aws_vpc_security_group_egress_rule.https.from_port == 443 && aws_vpc_security_group_egress_rule.https.to_port == 443 && aws_vpc_security_group_egress_rule.https.ip_protocol == "tcp"
    error_message = "egress is HTTPS only"
  }
  assert {
    condition     = length(aws_security_group.this.ingress) == 0
    error_message = "the security group must have no ingress rule"
  }
  assert {
    condition     = aws_iam_role_policy_attachment.ssm.policy_arn == "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
    error_message = "Session Manager needs AmazonSSMManagedInstanceCore"
  }
  assert {
    condition     = jsondecode(aws_iam_role.this.assume_role_policy).Statement[0].Principal.Service == "ec2.amazonaws.com"
    error_message = "only EC2 may assume the role"
  }
  assert {
    condition     = aws_instance.this.user_data_replace_on_change == true
    error_message = "a new binary (hash) or new flags must replace the host"
  }
}

run "user_data_runs_kstream_produce" {
  command = plan

  variables {
    records_per_second = 250
  }

  assert {
    condition     = strcontains(local.user_data, "ExecStart=/opt/kstream/kstream produce --stream kstream-test-tickers --region eu-west-1 --rate 250 --event-time-format sql --partition-key random --metrics-level summary --metrics-namespace KinesisProducerLibrary")
    error_message = "the service must run kstream produce with the stream, region, rate and the reference's SQL event time"
  }
  assert {
    condition     = strcontains(local.user_data, "aws s3 cp --region 'eu-west-1' --only-show-errors 's3://kstream-test-artifacts/bin/aarch64/kstream'")
    error_message = "the binary must be fetched from the given object"
  }
  assert {
    condition     = strcontains(local.user_data, "echo '0000000000000000000000000000000000000000000000000000000000000abc  '") && strcontains(local.user_data, "sha256sum --check --strict")
    error_message = "the binary must be checked against binary_sha256 before it runs"
  }
  assert {
    condition     = strcontains(local.user_data, "User=kstream") && strcontains(local.user_data, "NoNewPrivileges=yes") && strcontains(local.user_data, "systemctl enable --now kstream-produce.service")
    error_message = "an unprivileged, hardened systemd service, enabled at boot"
  }
}

run "iam_is_scoped" {
  command = apply

  variables {
    stream_kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/stream"
  }

  assert {
    condition = one([for s in jsondecode(aws_iam_role_policy.this.policy).Statement : s.Resource if s.Sid == "ProduceToStream"]) == [
      "arn:aws:kinesis:eu-west-1:123456789012:stream/kstream-test-tickers"
    ]
    error_message = "Kinesis on the stream only"
  }
  assert {
    condition = one([for s in jsondecode(aws_iam_role_policy.this.policy).Statement : s.Action if s.Sid == "ProduceToStream"]) == [
      "kinesis:DescribeStream", "kinesis:DescribeStreamSummary", "kinesis:ListShards", "kinesis:PutRecord", "kinesis:PutRecords",
    ]
    error_message = "the producer may only describe, list shards and put"
  }
  assert {
    condition = one([for s in jsondecode(aws_iam_role_policy.this.policy).Statement : s.Resource if s.Sid == "FetchBinary"]) == [
      "arn:aws:s3:::kstream-test-artifacts/bin/aarch64/kstream"
    ]
    error_message = "S3 read on the binary object only"
  }
  assert {
    condition     = one([for s in jsondecode(aws_iam_role_policy.this.policy).Statement : s.Condition.StringEquals["cloudwatch:namespace"] if s.Sid == "PublishProducerMetrics"]) == "KinesisProducerLibrary"
    error_message = "PutMetricData must be limited to the producer's namespace"
  }
  assert {
    condition = alltrue([
      for s in jsondecode(aws_iam_role_policy.this.policy).Statement : s.Sid == "PublishProducerMetrics" || alltrue([for r in s.Resource : !strcontains(r, "*")])
    ])
    error_message = "no wildcard resource except PutMetricData (which has no resource-level permissions)"
  }
  assert {
    condition     = one([for s in jsondecode(aws_iam_role_policy.this.policy).Statement : s.Action if s.Sid == "EncryptStreamRecords"]) == ["kms:GenerateDataKey"] && length([for s in jsondecode(aws_iam_role_policy.this.policy).Statement : s if s.Sid == "DecryptBinary"]) == 0
    error_message = "KMS grants exactly for the keys given"
  }
}

run "customer_keys_and_type" {
  command = plan

  variables {
    instance_type   = "m7g.medium"
    ebs_kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/ebs"
  }

  assert {
    condition     = aws_instance.this.instance_type == "m7g.medium" && aws_instance.this.root_block_device[0].kms_key_id == "arn:aws:kms:eu-west-1:123456789012:key/ebs"
    error_message = "instance type and EBS key from the variables"
  }
}

# Rejected values.

run "rejects_an_x86_instance_type" {
  command = plan
  variables {
    instance_type = "t3.small"
  }
  expect_failures = [var.instance_type]
}

run "rejects_an_x86_ami_parameter" {
  command = plan
  variables {
    ami_ssm_parameter = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
  }
  expect_failures = [var.ami_ssm_parameter]
}

run "rejects_a_short_hash" {
  command = plan
  variables {
    binary_sha256 = "abc123"
  }
  expect_failures = [var.binary_sha256]
}

run "rejects_a_quote_in_the_key" {
  command = plan
  variables {
    binary_key = "bin/k'stream"
  }
  expect_failures = [var.binary_key]
}

run "rejects_rate_0" {
  command = plan
  variables {
    records_per_second = 0
  }
  expect_failures = [var.records_per_second]
}

run "rejects_an_unknown_time_format" {
  command = plan
  variables {
    event_time_format = "epoch"
  }
  expect_failures = [var.event_time_format]
}

run "rejects_an_aws_namespace" {
  command = plan
  variables {
    metrics_namespace = "AWS/Kinesis"
  }
  expect_failures = [var.metrics_namespace]
}

run "rejects_a_volume_of_4_gb" {
  command = plan
  variables {
    root_volume_size_gb = 4
  }
  expect_failures = [var.root_volume_size_gb]
}

run "rejects_a_bad_subnet" {
  command = plan
  variables {
    subnet_id = "my-subnet"
  }
  expect_failures = [var.subnet_id]
}
