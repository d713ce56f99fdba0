################################################################################
# Host
################################################################################

variable "name" {
  description = "Name of the host (its Name tag, and the prefix of its role <name>-role, instance profile and security group). 1 to 50 characters: letters, digits, '-' and '_'."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9_-]{1,50}$", var.name))
    error_message = "name must be 1 to 50 characters from [a-zA-Z0-9_-]."
  }
}

variable "vpc_id" {
  description = "VPC of the host's security group (vpc-…)."
  type        = string

  validation {
    condition     = can(regex("^vpc-[0-9a-f]{8,17}$", var.vpc_id))
    error_message = "vpc_id must be a VPC id (vpc- and 8 or 17 hex digits)."
  }
}

variable "subnet_id" {
  description = "Subnet of the host (subnet-…). It needs outbound HTTPS to Kinesis, S3, CloudWatch and SSM (ssm, ssmmessages, ec2messages): a NAT gateway or VPC endpoints. A private subnet is the intent; nothing listens on the host."
  type        = string

  validation {
    condition     = can(regex("^subnet-[0-9a-f]{8,17}$", var.subnet_id))
    error_message = "subnet_id must be a subnet id (subnet- and 8 or 17 hex digits)."
  }
}

variable "associate_public_ip_address" {
  description = "Give the host a public IPv4 address (only for a public subnet without NAT: outbound traffic then needs it; inbound stays closed, the security group has no ingress rule). Default false."
  type        = bool
  default     = false
}

variable "instance_type" {
  description = "Graviton (arm64) instance type, matching the AL2023 arm64 AMI and the aarch64 kstream binary: a family with 'g' after its generation (t4g, m7g, c7gn, ...). Default t4g.small (the reference's t3.small, on Graviton)."
  type        = string
  default     = "t4g.small"

  validation {
    condition     = can(regex("^[a-z]+[0-9]+g[a-z0-9-]*\\.[a-z0-9]+$", var.instance_type))
    error_message = "instance_type must be a Graviton (arm64) type such as t4g.small or m7g.large: the AMI and the binary are arm64."
  }
}

variable "ami_ssm_parameter" {
  description = "SSM public parameter naming the AMI: the latest Amazon Linux 2023 for arm64 by default. The AMI is read at plan time and then kept (ignore_changes): replace the instance (terraform apply -replace) to move to a newer one."
  type        = string
  default     = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64"

  validation {
    condition     = startswith(var.ami_ssm_parameter, "/aws/service/") && endswith(var.ami_ssm_parameter, "arm64")
    error_message = "ami_ssm_parameter must be an /aws/service/… public parameter of an arm64 AMI."
  }
}

variable "detailed_monitoring" {
  description = "EC2 detailed monitoring (1-minute instance metrics, as the reference; billed per metric). Default true."
  type        = bool
  default     = true
}

variable "root_volume_size_gb" {
  description = "Size of the encrypted gp3 root volume, in GiB. An integer from 8 (the AMI's snapshot) to 100; default 8."
  type        = number
  default     = 8

  validation {
    condition     = var.root_volume_size_gb >= 8 && var.root_volume_size_gb <= 100 && floor(var.root_volume_size_gb) == var.root_volume_size_gb
    error_message = "root_volume_size_gb must be an integer from 8 to 100."
  }
}

variable "ebs_kms_key_arn" {
  description = "ARN of a customer-managed KMS key for the root volume. null (the default): the account's EBS default key (alias/aws/ebs). The volume is encrypted either way."
  type        = string
  default     = null

  validation {
    condition     = var.ebs_kms_key_arn == null || can(regex("^arn:aws[a-zA-Z-]*:kms:", var.ebs_kms_key_arn))
    error_message = "ebs_kms_key_arn must be null or a KMS key ARN."
  }
}

################################################################################
# The kstream binary (aarch64 Linux, uploaded to S3 beforehand: README)
################################################################################

variable "binary_bucket" {
  description = "Name of the S3 bucket holding the kstream binary."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.binary_bucket))
    error_message = "binary_bucket must be an S3 bucket name (3 to 63 characters from [a-z0-9.-])."
  }
}

variable "binary_key" {
  description = "Key of the kstream binary in binary_bucket (e.g. bin/aarch64/kstream). 1 to 1024 characters from [a-zA-Z0-9_./-] (it is quoted into the user data script), no leading '/'."
  type        = string

  validation {
    condition     = length(var.binary_key) <= 1024 && can(regex("^[a-zA-Z0-9_.-][a-zA-Z0-9_./-]*$", var.binary_key))
    error_message = "binary_key must be 1 to 1024 characters from [a-zA-Z0-9_./-] and not start with '/'."
  }
}

variable "binary_sha256" {
  description = "SHA-256 of the binary (64 lowercase hex digits, `sha256sum kstream`). The host refuses to run anything else; changing it replaces the instance."
  type        = string

  validation {
    condition     = can(regex("^[0-9a-f]{64}$", var.binary_sha256))
    error_message = "binary_sha256 must be 64 lowercase hex digits (sha256sum of the binary)."
  }
}

variable "binary_kms_key_arn" {
  description = "ARN of the KMS key encrypting the binary's bucket, for kms:Decrypt. null: SSE-S3."
  type        = string
  default     = null

  validation {
    condition     = var.binary_kms_key_arn == null || can(regex("^arn:aws[a-zA-Z-]*:kms:", var.binary_kms_key_arn))
    error_message = "binary_kms_key_arn must be null or a KMS key ARN."
  }
}

################################################################################
# What the service produces (kstream produce flags)
################################################################################

variable "stream_arn" {
  description = "ARN of the Kinesis stream to produce into (arn:<partition>:kinesis:<region>:<account>:stream/<name>)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-zA-Z-]*:kinesis:[a-z0-9-]+:[0-9]{12}:stream/[a-zA-Z0-9_.-]{1,128}$", var.stream_arn))
    error_message = "stream_arn must be a Kinesis stream ARN (arn:<partition>:kinesis:<region>:<account>:stream/<name>)."
  }
}

variable "stream_kms_key_arn" {
  description = "ARN of the stream's customer-managed KMS key, for kms:GenerateDataKey. null: alias/aws/kinesis (no grant needed)."
  type        = string
  default     = null

  validation {
    condition     = var.stream_kms_key_arn == null || can(regex("^arn:aws[a-zA-Z-]*:kms:", var.stream_kms_key_arn))
    error_message = "stream_kms_key_arn must be null or a KMS key ARN."
  }
}

variable "records_per_second" {
  description = "Ticker records per second (kstream produce --rate; the reference's demo: 100). An integer from 1 to 10000."
  type        = number
  default     = 100

  validation {
    condition     = var.records_per_second >= 1 && var.records_per_second <= 10000 && floor(var.records_per_second) == var.records_per_second
    error_message = "records_per_second must be an integer from 1 to 10000."
  }
}

variable "event_time_format" {
  description = "How event_time is written (--event-time-format): sql (the default: `yyyy-MM-dd HH:mm:ss.SSS`, the reference producer's form, which the Flink application's table reads) or rfc3339."
  type        = string
  default     = "sql"

  validation {
    condition     = contains(["sql", "rfc3339"], var.event_time_format)
    error_message = "event_time_format must be sql or rfc3339."
  }
}

variable "partition_key" {
  description = "Partition key of each record (--partition-key): random (the default; spreads records over every shard, as the reference's random explicit hash key) or ticker (a ticker's records stay in order on one shard)."
  type        = string
  default     = "random"

  validation {
    condition     = contains(["random", "ticker"], var.partition_key)
    error_message = "partition_key must be random or ticker."
  }
}

variable "metrics_level" {
  description = "Producer metrics published to CloudWatch (--metrics-level): none, summary (the default) or detailed."
  type        = string
  default     = "summary"

  validation {
    condition     = contains(["none", "summary", "detailed"], var.metrics_level)
    error_message = "metrics_level must be none, summary or detailed."
  }
}

variable "metrics_namespace" {
  description = "CloudWatch namespace of the producer metrics (--metrics-namespace). The role may put metrics into this namespace only. 1 to 255 characters from [a-zA-Z0-9._/#:-], not starting with AWS/."
  type        = string
  default     = "KinesisProducerLibrary"

  validation {
    condition     = can(regex("^[a-zA-Z0-9._/#:-]{1,255}$", var.metrics_namespace)) && !startswith(var.metrics_namespace, "AWS/")
    error_message = "metrics_namespace must be 1 to 255 characters from [a-zA-Z0-9._/#:-] and not start with AWS/."
  }
}

variable "tags" {
  description = "Tags for every resource of the module (merged with the provider's default_tags). At most 45 entries, keys 1 to 128 and values up to 256 characters."
  type        = map(string)
  default     = {}

  validation {
    condition     = length(var.tags) <= 45 && alltrue([for k, v in var.tags : length(k) >= 1 && length(k) <= 128 && length(v) <= 256 && !startswith(lower(k), "aws:")])
    error_message = "tags: at most 45 (AWS allows 50, the provider's default_tags take some), keys 1 to 128 characters not starting with aws:, values up to 256."
  }
}
