#!/usr/bin/env bash
# Smoke test for pattern 03 (Kinesis -> Firehose with the Rust transform Lambda -> S3) applied to the emulator.
#
#   scripts/smoke-03.sh [pattern]     (default 03-kds-firehose-s3; KSTREAM_LOCAL_STATE picks the deployment)
#
# Checks with the aws CLI (--endpoint-url) what `scripts/local-apply.sh apply` created: the source stream,
# the delivery stream (KDS source, S3 destination, buffering, compression, prefixes, error logging, the
# transform as Lambda processor with its buffer hints, dynamic partitioning, backup), the Firehose role's
# policy, the output bucket's hardening and its access-log bucket, the Glue table, the transform
# function, the alarms (dimensions are NAMES, not ARNs) and the dashboard; then puts a record into the
# stream and reads it back. Expected values come from `terraform output` and from the pattern's variables
# as Terraform evaluates them (`scripts/local-apply.sh vars`), so a -var given to the apply is what is
# checked. The emulator stores the delivery stream but does not move data: delivery to S3 is
# `kstream local up`'s job (crates/local-firehose), checked by the end-to-end tests.
# Prints one PASS/FAIL line per check; exits 1 if any failed.
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=scripts/lib/smoke.sh
. "$(dirname "$0")/lib/smoke.sh"

pattern=${1:-03-kds-firehose-s3}
kstream_emulator_env
kstream_require_venv
kstream_require_emulator

outputs=$("$KSTREAM_ROOT/scripts/local-apply.sh" output "$pattern") ||
  die "no outputs for $pattern: apply it first (scripts/local-apply.sh apply $pattern)"
vars=$("$KSTREAM_ROOT/scripts/local-apply.sh" vars "$pattern" 2>/dev/null) ||
  die "cannot evaluate the variables of $pattern"

out() { jq -r --arg k "$1" '.[$k].value // empty | if type == "string" then . else tojson end' <<<"$outputs"; }
# A variable's effective value (JSON scalars printed raw; null prints nothing).
var() { jq -r --arg k "$1" '.[$k] | if . == null then empty elif type == "string" or type == "number" or type == "boolean" then tostring else tojson end' <<<"$vars"; }

section "Outputs"
for k in stream_name stream_arn delivery_stream_name delivery_stream_arn function_name bucket_name \
  data_prefix error_output_prefix glue_database_name glue_table_name dashboard_name alarm_names; do
  if [ -n "$(out "$k")" ]; then pass "output $k" "$(out "$k" | cut -c1-100)"; else fail "output $k exists"; fi
done
stream_name=$(out stream_name)
stream_arn=$(out stream_arn)
delivery_name=$(out delivery_stream_name)
delivery_arn=$(out delivery_stream_arn)
function_name=$(out function_name)
bucket=$(out bucket_name)
bucket_arn="arn:aws:s3:::$bucket"
prefix=$(var name_prefix)

# ---------------------------------------------------------------------------------------------------
section "Kinesis stream $stream_name"
if summary=$(awse kinesis describe-stream-summary --stream-name "$stream_name" 2>&1); then
  check_eq "stream ARN matches the output" "$stream_arn" "$(jq -r .StreamDescriptionSummary.StreamARN <<<"$summary")"
  check_eq "stream status" ACTIVE "$(jq -r .StreamDescriptionSummary.StreamStatus <<<"$summary")"
  check_eq "stream encryption (security default)" KMS "$(jq -r .StreamDescriptionSummary.EncryptionType <<<"$summary")"
  if [ "$(var stream_mode)" = PROVISIONED ]; then
    check_num "open shard count (var.shard_count)" "$(var shard_count)" "$(jq -r .StreamDescriptionSummary.OpenShardCount <<<"$summary")"
  fi
  check_num "retention hours (var.retention_period_hours)" "$(var retention_period_hours)" "$(jq -r .StreamDescriptionSummary.RetentionPeriodHours <<<"$summary")"
else
  fail "stream $stream_name exists" "$summary"
fi

# ---------------------------------------------------------------------------------------------------
section "Transform function $function_name"
function_arn=""
if fn=$(awse lambda get-function-configuration --function-name "$function_name" 2>&1); then
  function_arn=$(jq -r .FunctionArn <<<"$fn")
  check_eq "runtime (Rust custom runtime)" provided.al2023 "$(jq -r .Runtime <<<"$fn")"
  check_eq "architecture (Graviton)" '["arm64"]' "$(jq -c .Architectures <<<"$fn")"
  check_true "code package uploaded (CodeSize > 0)" test "$(jq -r .CodeSize <<<"$fn")" -gt 0
  check_num "timeout (var.transform_timeout_seconds)" "$(var transform_timeout_seconds)" "$(jq -r .Timeout <<<"$fn")"
  check_num "memory (var.transform_memory_mb)" "$(var transform_memory_mb)" "$(jq -r .MemorySize <<<"$fn")"
  envv() { jq -r --arg k "$1" '.Environment.Variables[$k] // empty' <<<"$fn"; }
  check_eq "TEMPLATE (var.transform_template)" "$(var transform_template)" "$(envv TEMPLATE)"
  check_eq "OUTPUT_FORMAT (var.transform_output_format)" "$(var transform_output_format)" "$(envv OUTPUT_FORMAT)"
  check_eq "FLATTEN (var.transform_flatten)" "$(var transform_flatten)" "$(envv FLATTEN)"
  check_eq "NEWLINE_DELIMITER (var.transform_newline)" "$(var transform_newline)" "$(envv NEWLINE_DELIMITER)"
  check_eq "FILTER (var.transform_filter)" "$(var transform_filter)" "$(envv FILTER)"
  keys_var=$(jq -c '.transform_partition_keys // {}' <<<"$vars")
  if [ "$keys_var" = '{}' ]; then
    check_eq "no PARTITION_KEYS (var.transform_partition_keys empty)" "" "$(envv PARTITION_KEYS)"
  else
    check_eq "PARTITION_KEYS (var.transform_partition_keys)" "$keys_var" "$(envv PARTITION_KEYS | jq -c .)"
  fi
else
  fail "function $function_name exists" "$fn"
fi

# ---------------------------------------------------------------------------------------------------
section "Delivery stream $delivery_name"
if ds=$(awse firehose describe-delivery-stream --delivery-stream-name "$delivery_name" 2>&1); then
  d() { jq -r ".DeliveryStreamDescription$1" <<<"$ds"; }
  check_eq "delivery stream ARN matches the output" "$delivery_arn" "$(d .DeliveryStreamARN)"
  check_eq "status" ACTIVE "$(d .DeliveryStreamStatus)"
  check_eq "type" KinesisStreamAsSource "$(d .DeliveryStreamType)"
  check_eq "source is the stream" "$stream_arn" "$(d .Source.KinesisStreamSourceDescription.KinesisStreamARN)"
  role_arn=$(d .Source.KinesisStreamSourceDescription.RoleARN)
  check_eq "source role is the pattern's Firehose role" "${prefix}-firehose" "${role_arn##*/}"
  x() { jq -r ".DeliveryStreamDescription.Destinations[0].ExtendedS3DestinationDescription$1" <<<"$ds"; }
  check_eq "destination bucket" "$bucket_arn" "$(x .BucketARN)"
  check_eq "data prefix (var.data_prefix)" "$(var data_prefix)" "$(x .Prefix)"
  check_eq "error output prefix (var.error_output_prefix)" "$(var error_output_prefix)" "$(x .ErrorOutputPrefix)"
  check_num "buffering size MB (var.buffering_size_mb)" "$(var buffering_size_mb)" "$(x .BufferingHints.SizeInMBs)"
  check_num "buffering interval s (var.buffering_interval_seconds)" "$(var buffering_interval_seconds)" "$(x .BufferingHints.IntervalInSeconds)"
  check_eq "compression (var.compression_format)" "$(var compression_format)" "$(x .CompressionFormat)"
  check_eq "error logging on (the reference has none)" true "$(x .CloudWatchLoggingOptions.Enabled)"
  log_group=$(x .CloudWatchLoggingOptions.LogGroupName)
  log_stream=$(x .CloudWatchLoggingOptions.LogStreamName)
  check_eq "error log group" "/aws/kinesisfirehose/$delivery_name" "$log_group"
  if streams=$(awse logs describe-log-streams --log-group-name "$log_group" 2>&1); then
    check_json "log stream $log_stream exists" "$streams" "[.logStreams[].logStreamName] | index(\"$log_stream\") != null"
  else
    fail "log group $log_group exists" "$streams"
  fi
  check_eq "processing enabled" true "$(x .ProcessingConfiguration.Enabled)"
  lambda=$(x '.ProcessingConfiguration.Processors[] | select(.Type == "Lambda") | [.Parameters[] | {key: .ParameterName, value: .ParameterValue}] | from_entries | tojson')
  if [ -n "$lambda" ]; then
    p() { jq -r --arg k "$1" --arg d "$2" '.[$k] // $d' <<<"$lambda"; }
    check_eq "Lambda processor invokes the transform" "$function_arn:\$LATEST" "$(p LambdaArn '')"
    # Parameters left out take Firehose's defaults (NumberOfRetries 3, BufferSizeInMBs 1,
    # BufferIntervalInSeconds 60): the module writes only values that differ.
    check_num "processor BufferSizeInMBs (var.buffer_size_mb, 0.2-3)" "$(var buffer_size_mb)" "$(p BufferSizeInMBs 1)"
    check_num "processor BufferIntervalInSeconds (var.buffer_interval_seconds, 60-900)" "$(var buffer_interval_seconds)" "$(p BufferIntervalInSeconds 60)"
    check_num "processor NumberOfRetries (var.transform_number_of_retries)" "$(var transform_number_of_retries)" "$(p NumberOfRetries 3)"
    check_eq "processor role (the delivery stream's role)" "$role_arn" "$(p RoleArn "$role_arn")"
  else
    fail "a Lambda processor is configured"
  fi
  if [ "$(var dynamic_partitioning_enabled)" = true ]; then
    check_eq "dynamic partitioning on" true "$(x '.DynamicPartitioningConfiguration.Enabled')"
    check_num "dynamic partitioning retry s" "$(var dynamic_partitioning_retry_seconds)" "$(x '.DynamicPartitioningConfiguration.RetryOptions.DurationInSeconds')"
  else
    check_eq "dynamic partitioning off (default)" false "$(x '.DynamicPartitioningConfiguration.Enabled // false')"
  fi
  if [ "$(var append_newline_delimiter)" = true ]; then
    check_eq "AppendDelimiterToRecord processor" 1 "$(x '[.ProcessingConfiguration.Processors[] | select(.Type == "AppendDelimiterToRecord")] | length')"
  fi
  want_backup=Disabled
  [ "$(var s3_backup_enabled)" = true ] && want_backup=Enabled
  check_eq "S3 backup mode (var.s3_backup_enabled)" "$want_backup" "$(x .S3BackupMode)"
else
  fail "delivery stream $delivery_name exists" "$ds"
fi

# ---------------------------------------------------------------------------------------------------
section "Firehose role ${prefix}-firehose (least privilege)"
if pol=$(awse iam get-role-policy --role-name "${prefix}-firehose" --policy-name "${prefix}-firehose-policy" 2>&1); then
  doc=$(jq -c '.PolicyDocument | if type == "string" then fromjson else . end' <<<"$pol")
  check_json "no wildcard resources" "$doc" '[.Statement[].Resource | if type == "array" then .[] else . end | select(. == "*")] | length == 0'
  check_json "kinesis read only on the stream" "$doc" \
    "[.Statement[] | select([.Action[]] | any(startswith(\"kinesis:\")))] | length == 1 and (.[0].Resource == [\"$stream_arn\"]) and ([.[0].Action[]] | sort == [\"kinesis:DescribeStream\",\"kinesis:DescribeStreamSummary\",\"kinesis:GetRecords\",\"kinesis:GetShardIterator\",\"kinesis:ListShards\"])"
  check_json "s3 write only on the bucket and its objects" "$doc" \
    "[.Statement[] | select([.Action[]] | any(startswith(\"s3:\")))] | .[0].Resource == [\"$bucket_arn\", \"$bucket_arn/*\"] and ([.[0].Action[]] | sort == [\"s3:AbortMultipartUpload\",\"s3:GetBucketLocation\",\"s3:GetObject\",\"s3:ListBucket\",\"s3:ListBucketMultipartUploads\",\"s3:PutObject\"])"
  check_json "lambda invoke only on the transform" "$doc" \
    "[.Statement[] | select([.Action[]] | any(startswith(\"lambda:\")))] | .[0].Resource == [\"$function_arn\", \"$function_arn:*\"]"
  check_json "logs:PutLogEvents only on its log stream" "$doc" \
    "[.Statement[] | select([.Action[]] | any(startswith(\"logs:\")))] | .[0].Action == [\"logs:PutLogEvents\"] and (.[0].Resource | all(endswith(\":log-group:/aws/kinesisfirehose/$delivery_name:log-stream:DestinationDelivery\") or endswith(\":log-stream:BackupDelivery\")))"
else
  fail "Firehose role policy exists" "$pol"
fi

# ---------------------------------------------------------------------------------------------------
section "Output bucket $bucket"
check_bucket_secure "$bucket" "$bucket_arn"
if own=$(awse s3api get-bucket-ownership-controls --bucket "$bucket" 2>&1); then
  check_eq "ACLs disabled" BucketOwnerEnforced "$(jq -r '.OwnershipControls.Rules[0].ObjectOwnership' <<<"$own")"
else
  fail "ownership controls set" "$own"
fi
if lc=$(awse s3api get-bucket-lifecycle-configuration --bucket "$bucket" 2>&1); then
  check_json "incomplete multipart uploads aborted after 7 days" "$lc" '[.Rules[] | select(.AbortIncompleteMultipartUpload.DaysAfterInitiation == 7)] | length == 1'
  check_json "intelligent tiering after 1 day (pattern 3, as the reference)" "$lc" '[.Rules[] | select(.Transitions[]?.StorageClass == "INTELLIGENT_TIERING" and .Transitions[0].Days == 1)] | length == 1'
else
  fail "lifecycle set" "$lc"
fi
log_bucket=""
if lg=$(awse s3api get-bucket-logging --bucket "$bucket" 2>&1); then
  log_bucket=$(jq -r '.LoggingEnabled.TargetBucket // empty' <<<"$lg")
  check_eq "server access logs go to the log bucket" "${prefix}-logs-${bucket#"${prefix}"-}" "$log_bucket"
else
  fail "access logging set" "$lg"
fi
if [ -n "$log_bucket" ] && lbp=$(awse s3api get-bucket-policy --bucket "$log_bucket" --query Policy --output text 2>&1); then
  check_json "log bucket: only logging.s3.amazonaws.com for this bucket and account may write" "$lbp" \
    "[.Statement[] | select(.Effect == \"Allow\")] | length == 1 and .[0].Principal.Service == \"logging.s3.amazonaws.com\" and .[0].Condition.ArnLike[\"aws:SourceArn\"] == \"$bucket_arn\" and (.[0].Condition.StringEquals[\"aws:SourceAccount\"] | length == 12)"
  check_json "log bucket policy denies requests without TLS" "$lbp" '[.Statement[] | select(.Effect == "Deny" and .Condition.Bool["aws:SecureTransport"] == "false")] | length == 1'
  check_eq "log bucket encryption" AES256 "$(awse s3api get-bucket-encryption --bucket "$log_bucket" | jq -r '.ServerSideEncryptionConfiguration.Rules[0].ApplyServerSideEncryptionByDefault.SSEAlgorithm')"
else
  fail "log bucket policy set" "${lbp:-no log bucket}"
fi

# ---------------------------------------------------------------------------------------------------
section "Glue table $(out glue_database_name).$(out glue_table_name)"
if tbl=$(awse glue get-table --database-name "$(out glue_database_name)" --name "$(out glue_table_name)" 2>&1); then
  t() { jq -r ".Table$1" <<<"$tbl"; }
  check_eq "external table" EXTERNAL_TABLE "$(t .TableType)"
  check_json "location is under the data prefix" "$tbl" ".Table.StorageDescriptor.Location | startswith(\"s3://$bucket/\")"
  serde=org.openx.data.jsonserde.JsonSerDe
  [ "$(var parquet_conversion_enabled)" = true ] && serde=org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe
  check_eq "SerDe" "$serde" "$(t .StorageDescriptor.SerdeInfo.SerializationLibrary)"
  check_eq "partition projection on (no crawler)" true "$(t '.Parameters["projection.enabled"]')"
  check_json "projection location template matches the partition keys" "$tbl" \
    '.Table as $t | $t.Parameters["storage.location.template"] | endswith(([$t.PartitionKeys[].Name | "\(.)=${\(.)}/"] | join("")))'
  check_eq "columns (var.glue_columns)" "$(jq -c '[.glue_columns[].name]' <<<"$vars")" "$(jq -c '[.Table.StorageDescriptor.Columns[].Name]' <<<"$tbl")"
else
  fail "Glue table exists" "$tbl"
fi

# ---------------------------------------------------------------------------------------------------
section "Alarms"
alarms=$(awse cloudwatch describe-alarms --alarm-name-prefix "$prefix-" --max-records 100)
mine=$(jq '[.MetricAlarms[]]' <<<"$alarms")
check_json "Firehose alarms use the delivery stream NAME as DeliveryStreamName (not the ARN)" "$mine" \
  "[.[] | select(.Namespace == \"AWS/Firehose\")] | length == 4 and all(.Dimensions == [{\"Name\": \"DeliveryStreamName\", \"Value\": \"$delivery_name\"}])"
while IFS='|' read -r ns metric stat op threshold; do
  a=$(jq -c --arg ns "$ns" --arg m "$metric" '[.[] | select(.Namespace == $ns and .MetricName == $m)] | first // empty' <<<"$mine")
  if [ -z "$a" ]; then
    fail "alarm on $ns $metric exists"
    continue
  fi
  check_eq "alarm $metric: statistic/operator/threshold" "$stat $op $threshold" \
    "$(jq -r '"\(.Statistic) \(.ComparisonOperator) \(.Threshold)"' <<<"$a" | sed 's/\.0$//')"
done <<SPEC
AWS/Firehose|DeliveryToS3.DataFreshness|Maximum|GreaterThanThreshold|$(var data_freshness_threshold_seconds)
AWS/Firehose|DeliveryToS3.Success|Average|LessThanThreshold|1
AWS/Firehose|ExecuteProcessing.Success|Average|LessThanThreshold|1
AWS/Firehose|ThrottledGetRecords|Sum|GreaterThanThreshold|0
AWS/Lambda|Errors|Sum|GreaterThanThreshold|0
AWS/Lambda|Throttles|Sum|GreaterThanThreshold|0
AWS/Kinesis|GetRecords.IteratorAgeMilliseconds|Maximum|GreaterThanOrEqualToThreshold|60000
AWS/Kinesis|GetRecords.Success|Average|LessThanOrEqualToThreshold|0.98
SPEC
check_json "transform alarms use FunctionName = $function_name" "$mine" \
  "[.[] | select(.Namespace == \"AWS/Lambda\")] | all(.Dimensions == [{\"Name\": \"FunctionName\", \"Value\": \"$function_name\"}])"
check_json "stream alarms use StreamName = $stream_name" "$mine" \
  "[.[] | select(.Namespace == \"AWS/Kinesis\")] | length >= 6 and all(.Dimensions == [{\"Name\": \"StreamName\", \"Value\": \"$stream_name\"}])"
check_eq "alarms in the emulator are those named by output alarm_names" \
  "$(out alarm_names | jq -r '[.[]] | sort | join(" ")')" "$(jq -r '[.[].AlarmName] | sort | join(" ")' <<<"$mine")"
topic=$(out alarm_topic_arn)
if [ -n "$topic" ]; then
  check_json "every alarm notifies $topic" "$mine" "all(.[]; .AlarmActions | index(\"$topic\") != null)"
  check_topic_encrypted "$topic"
elif [ "$(var create_alarm_topic)" = true ] || [ -n "$(var alarm_topic_arn)" ]; then
  fail "alarm topic output set" "create_alarm_topic/alarm_topic_arn given but output alarm_topic_arn is empty"
else
  check_json "no alarm actions without a topic (create_alarm_topic=false, no alarm_topic_arn)" "$mine" 'all(.[]; (.AlarmActions | length) == 0)'
fi

# ---------------------------------------------------------------------------------------------------
dashboard=$(out dashboard_name)
section "Dashboard $dashboard"
if db=$(awse cloudwatch get-dashboard --dashboard-name "$dashboard" 2>&1); then
  body=$(jq -r .DashboardBody <<<"$db")
  pass "dashboard exists"
  check_json "three sections (Kinesis, Firehose, transform)" "$body" '[.widgets[] | select(.type == "text")] | length == 3'
  check_json "every Firehose metric has DeliveryStreamName = $delivery_name" "$body" \
    "[.widgets[].properties.metrics? // [] | .[] | select(type == \"array\" and .[0] == \"AWS/Firehose\")] | length >= 9 and all(.[2] == \"DeliveryStreamName\" and .[3] == \"$delivery_name\")"
  check_json "every Kinesis metric has StreamName = $stream_name" "$body" \
    "[.widgets[].properties.metrics? // [] | .[] | select(type == \"array\" and .[0] == \"AWS/Kinesis\")] | length > 0 and all(.[2] == \"StreamName\" and .[3] == \"$stream_name\")"
  check_json "every Lambda metric has FunctionName = $function_name" "$body" \
    "[.widgets[].properties.metrics? // [] | .[] | select(type == \"array\" and .[0] == \"AWS/Lambda\")] | length > 0 and all(.[2] == \"FunctionName\" and .[3] == \"$function_name\")"
  check_json "no delivery stream ARN in the dashboard" "$body" 'tostring | contains("deliverystream/") | not'
else
  fail "dashboard exists" "$db"
fi

# ---------------------------------------------------------------------------------------------------
section "Put a record into the source stream and read it back"
payload=$(jq -cn --arg t "SMOKE" '{ticker: $t, price: 42.5, event_time: "2026-01-01T00:00:00Z"}')
if put=$(awse kinesis put-record --stream-name "$stream_name" --partition-key "smoke-$$" --data "$payload" 2>&1); then
  shard=$(jq -r .ShardId <<<"$put")
  seq=$(jq -r .SequenceNumber <<<"$put")
  pass "put-record" "$shard, sequence $seq"
  iterator=$(awse kinesis get-shard-iterator --stream-name "$stream_name" --shard-id "$shard" \
    --shard-iterator-type AT_SEQUENCE_NUMBER --starting-sequence-number "$seq" --query ShardIterator --output text)
  got=$(awse kinesis get-records --shard-iterator "$iterator" --limit 1 | jq -r '.Records[0].Data // empty')
  check_eq "record read back equals what was put" "$payload" "$(base64 -d <<<"$got" 2>/dev/null)"
else
  fail "put-record" "$put"
fi

smoke_summary "smoke-03 ($pattern)"
