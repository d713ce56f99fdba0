################################################################################
# Names and notification
################################################################################

variable "name_prefix" {
  description = "Prefix of every alarm name (<prefix>-<alarm>) and of the SNS topic and its key alias. 1 to 40 characters: letters, digits, '-' and '_'."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9_-]{1,40}$", var.name_prefix))
    error_message = "name_prefix must be 1 to 40 characters from [a-zA-Z0-9_-]."
  }
}

variable "create_sns_topic" {
  description = "Create an SNS topic for the alarms, encrypted with a customer-managed KMS key whose policy lets CloudWatch publish (CloudWatch cannot use the AWS-managed alias/aws/sns key). Mutually exclusive with sns_topic_arn."
  type        = bool
  default     = false
}

variable "sns_topic_arn" {
  description = "ARN of an existing SNS topic to notify. null with create_sns_topic = false: alarms have no actions."
  type        = string
  default     = null

  validation {
    condition     = var.sns_topic_arn == null || can(regex("^arn:aws[a-zA-Z-]*:sns:", var.sns_topic_arn))
    error_message = "sns_topic_arn must be null or an SNS topic ARN."
  }
}

variable "sns_kms_key_arn" {
  description = "ARN of an existing KMS key for the created topic (its policy must allow cloudwatch.amazonaws.com kms:GenerateDataKey* and kms:Decrypt). null creates one (about 1 USD a month)."
  type        = string
  default     = null

  validation {
    condition     = var.sns_kms_key_arn == null || can(regex("^arn:aws[a-zA-Z-]*:kms:", var.sns_kms_key_arn))
    error_message = "sns_kms_key_arn must be null or a KMS key ARN."
  }
}

variable "alarm_email" {
  description = "Email address subscribed to the created topic (the recipient must confirm). null: no subscription."
  type        = string
  default     = null

  validation {
    condition     = var.alarm_email == null || can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", var.alarm_email))
    error_message = "alarm_email must be null or an email address."
  }
}

################################################################################
# Kinesis stream alarms (AWS/Kinesis, dimension StreamName)
################################################################################

variable "kinesis_stream_name" {
  description = "Name of the stream to watch (IteratorAge, Read/WriteProvisionedThroughputExceeded, PutRecord(s)/GetRecords success). null: no stream alarms."
  type        = string
  default     = null

  validation {
    condition     = var.kinesis_stream_name == null || can(regex("^[a-zA-Z0-9_.-]{1,128}$", var.kinesis_stream_name))
    error_message = "kinesis_stream_name must be null or 1 to 128 characters from [a-zA-Z0-9_.-]."
  }
}

variable "kinesis_thresholds" {
  description = <<-EOT
    Stream alarm thresholds (the reference solution's values are the defaults; period 60 s, 1 evaluation period):
    iterator_age_ms: GetRecords.IteratorAgeMilliseconds Maximum >= this, in ms (1 to 604800000; default 60000);
    throughput_exceeded: Read/WriteProvisionedThroughputExceeded Average >= this, a fraction (0 to 1; default 0.01);
    put_success_min: PutRecord.Success and PutRecords.Success Average <= this, a fraction (0 to 1; default 0.95);
    get_records_success_min: GetRecords.Success Average <= this, a fraction (0 to 1; default 0.98).
  EOT
  type = object({
    iterator_age_ms         = optional(number, 60000)
    throughput_exceeded     = optional(number, 0.01)
    put_success_min         = optional(number, 0.95)
    get_records_success_min = optional(number, 0.98)
  })
  default = {}

  validation {
    condition = (
      var.kinesis_thresholds.iterator_age_ms >= 1 && var.kinesis_thresholds.iterator_age_ms <= 604800000 &&
      var.kinesis_thresholds.throughput_exceeded >= 0 && var.kinesis_thresholds.throughput_exceeded <= 1 &&
      var.kinesis_thresholds.put_success_min >= 0 && var.kinesis_thresholds.put_success_min <= 1 &&
      var.kinesis_thresholds.get_records_success_min >= 0 && var.kinesis_thresholds.get_records_success_min <= 1
    )
    error_message = "kinesis_thresholds: iterator_age_ms 1 to 604800000; the others are fractions from 0 to 1."
  }
}

################################################################################
# Lambda alarms (AWS/Lambda, dimension FunctionName)
################################################################################

variable "lambda_functions" {
  description = "Functions to watch, keyed by a short static label used in alarm names (e.g. consumer). kinesis_consumer = true adds an IteratorAge alarm (the function reads a stream through an event source mapping)."
  type = map(object({
    function_name    = string
    kinesis_consumer = optional(bool, false)
  }))
  default = {}

  validation {
    condition     = alltrue([for k in keys(var.lambda_functions) : can(regex("^[a-z0-9-]{1,20}$", k))])
    error_message = "lambda_functions keys must be 1 to 20 characters from [a-z0-9-]."
  }
}

variable "lambda_thresholds" {
  description = <<-EOT
    Lambda alarm thresholds (period 60 s, 1 evaluation period, missing data not breaching):
    errors: Errors Sum >= this per minute (invocations that crashed or timed out; partial batch failures are not errors), 1 to 100000, default 1;
    throttles: Throttles Sum >= this per minute, 1 to 100000, default 1;
    iterator_age_ms: IteratorAge Maximum >= this, in ms (age of the last record of a batch when it was read), 1 to 604800000, default 60000.
  EOT
  type = object({
    errors          = optional(number, 1)
    throttles       = optional(number, 1)
    iterator_age_ms = optional(number, 60000)
  })
  default = {}

  validation {
    condition = (
      var.lambda_thresholds.errors >= 1 && var.lambda_thresholds.errors <= 100000 &&
      var.lambda_thresholds.throttles >= 1 && var.lambda_thresholds.throttles <= 100000 &&
      var.lambda_thresholds.iterator_age_ms >= 1 && var.lambda_thresholds.iterator_age_ms <= 604800000
    )
    error_message = "lambda_thresholds: errors and throttles 1 to 100000, iterator_age_ms 1 to 604800000."
  }
}

################################################################################
# API Gateway alarms (AWS/ApiGateway, dimensions ApiName and Stage)
################################################################################

variable "api" {
  description = "REST API stage to watch: its name (the ApiName dimension, not the id) and stage. null: no API alarms."
  type = object({
    name  = string
    stage = string
  })
  default = null

  validation {
    condition     = var.api == null || try(length(var.api.name) >= 1 && length(var.api.name) <= 1024 && can(regex("^[a-zA-Z0-9_-]{1,128}$", var.api.stage)), false)
    error_message = "api must be null or { name = 1 to 1024 characters, stage = 1 to 128 characters from [a-zA-Z0-9_-] }."
  }
}

variable "api_thresholds" {
  description = <<-EOT
    API alarm thresholds (period 60 s, alarm when 3 of the last 5 minutes breach, missing data not breaching):
    server_error_rate: 5XXError Average >= this, the fraction of requests answered 5xx (0 to 1; default 0.01);
    client_error_rate: 4XXError Average >= this, the fraction answered 4xx, throttling (429) included (0 to 1; default 0.1);
    latency_p99_ms: Latency p99 >= this, in ms (1 to 30000; default 1000).
  EOT
  type = object({
    server_error_rate = optional(number, 0.01)
    client_error_rate = optional(number, 0.1)
    latency_p99_ms    = optional(number, 1000)
  })
  default = {}

  validation {
    condition = (
      var.api_thresholds.server_error_rate >= 0 && var.api_thresholds.server_error_rate <= 1 &&
      var.api_thresholds.client_error_rate >= 0 && var.api_thresholds.client_error_rate <= 1 &&
      var.api_thresholds.latency_p99_ms >= 1 && var.api_thresholds.latency_p99_ms <= 30000
    )
    error_message = "api_thresholds: error rates are fractions from 0 to 1; latency_p99_ms 1 to 30000."
  }
}

################################################################################
# SQS queue depth alarms (AWS/SQS, dimension QueueName)
################################################################################

variable "queues" {
  description = "Failure/dead-letter queues to watch, keyed by a short static label (e.g. failures) => queue name. Alarm: ApproximateNumberOfMessagesVisible Sum over 300 s >= depth_threshold, 1 period, missing data not breaching."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k in keys(var.queues) : can(regex("^[a-z0-9-]{1,20}$", k))])
    error_message = "queues keys must be 1 to 20 characters from [a-z0-9-]."
  }
}

variable "queue_depth_threshold" {
  description = "Messages visible in a watched queue that raise its alarm. An integer from 1 to 1000000; default 1 (any failed batch)."
  type        = number
  default     = 1

  validation {
    condition     = var.queue_depth_threshold >= 1 && var.queue_depth_threshold <= 1000000 && floor(var.queue_depth_threshold) == var.queue_depth_threshold
    error_message = "queue_depth_threshold must be an integer from 1 to 1000000."
  }
}

################################################################################
# Alarms on the pattern's own metrics (a function's EMF metrics, ...)
################################################################################

variable "metric_alarms" {
  description = <<-EOT
    Alarms on metrics the sections above do not know, such as a function's embedded-metric-format
    metrics, keyed by a short static label used in the alarm name (<prefix>-<key>; 1 to 40 of [a-z0-9-],
    not starting with a built-in section's kinesis-, lambda-, api- or sqs-). Each: namespace, metric_name,
    dimensions (1 to 30), statistic (SampleCount, Average, Sum, Minimum or Maximum), comparison_operator
    (GreaterThanOrEqualToThreshold, GreaterThanThreshold, LessThanThreshold or LessThanOrEqualToThreshold),
    threshold, period (60 or a multiple of 60, up to 86400; default 60), evaluation_periods (default 1),
    datapoints_to_alarm (default evaluation_periods), treat_missing_data (default notBreaching; breaching
    makes "no data" an alarm, e.g. for output that stopped) and description.
  EOT
  type = map(object({
    namespace           = string
    metric_name         = string
    dimensions          = map(string)
    statistic           = string
    comparison_operator = string
    threshold           = number
    period              = optional(number, 60)
    evaluation_periods  = optional(number, 1)
    datapoints_to_alarm = optional(number)
    treat_missing_data  = optional(string, "notBreaching")
    description         = string
  }))
  default  = {}
  nullable = false

  validation {
    condition     = alltrue([for k in keys(var.metric_alarms) : can(regex("^[a-z0-9-]{1,40}$", k)) && !can(regex("^(kinesis|lambda|api|sqs)-", k))])
    error_message = "metric_alarms keys must be 1 to 40 characters from [a-z0-9-] and not start with kinesis-, lambda-, api- or sqs- (the built-in sections' keys)."
  }
  validation {
    condition = alltrue([for a in values(var.metric_alarms) : (
      length(a.namespace) >= 1 && length(a.namespace) <= 255 && length(a.metric_name) >= 1 && length(a.metric_name) <= 255 &&
      length(a.dimensions) >= 1 && length(a.dimensions) <= 30 &&
      contains(["SampleCount", "Average", "Sum", "Minimum", "Maximum"], a.statistic) &&
      contains(["GreaterThanOrEqualToThreshold", "GreaterThanThreshold", "LessThanThreshold", "LessThanOrEqualToThreshold"], a.comparison_operator) &&
      a.period >= 60 && a.period <= 86400 && a.period % 60 == 0 &&
      a.evaluation_periods >= 1 && floor(a.evaluation_periods) == a.evaluation_periods && a.evaluation_periods * a.period <= 86400 &&
      (a.datapoints_to_alarm == null || try(a.datapoints_to_alarm >= 1 && a.datapoints_to_alarm <= a.evaluation_periods, false)) &&
      contains(["breaching", "notBreaching", "ignore", "missing"], a.treat_missing_data) &&
      length(a.description) <= 1024
    )])
    error_message = "metric_alarms: namespace and metric_name 1 to 255 characters, 1 to 30 dimensions, a statistic of SampleCount/Average/Sum/Minimum/Maximum, a comparison_operator of GreaterThan(OrEqualTo)Threshold or LessThan(OrEqualTo)Threshold, period a multiple of 60 up to 86400, evaluation_periods >= 1 with period x evaluation_periods <= 86400, datapoints_to_alarm from 1 to evaluation_periods, treat_missing_data breaching/notBreaching/ignore/missing, description up to 1024 characters."
  }
}

################################################################################
# Overrides
################################################################################

variable "treat_missing_data_overrides" {
  description = "Per-alarm override of how missing data is treated, keyed by alarm key (e.g. kinesis-write-throughput-exceeded) => breaching, notBreaching, ignore or missing."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for v in values(var.treat_missing_data_overrides) : contains(["breaching", "notBreaching", "ignore", "missing"], v)])
    error_message = "treat_missing_data_overrides values must be breaching, notBreaching, ignore or missing."
  }
}

variable "tags" {
  description = "Tags for the alarms, topic and key (merged with the provider's default_tags). At most 45 entries, keys 1 to 128 and values up to 256 characters."
  type        = map(string)
  default     = {}

  validation {
    condition     = length(var.tags) <= 45 && alltrue([for k, v in var.tags : length(k) >= 1 && length(k) <= 128 && length(v) <= 256 && !startswith(lower(k), "aws:")])
    error_message = "tags: at most 45 (AWS allows 50, the provider's default_tags take some), keys 1 to 128 characters not starting with aws:, values up to 256."
  }
}
