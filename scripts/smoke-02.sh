#!/usr/bin/env bash
# Smoke test for pattern 02 (producer -> Kinesis -> windowed analytics Lambda -> S3, Glue tables) applied
# to the emulator.
#
#   scripts/smoke-02.sh [pattern]     (default 02-kpl-kds-analytics; KSTREAM_LOCAL_STATE picks the deployment)
#
# Checks with the aws CLI (--endpoint-url) what `scripts/local-apply.sh apply` created: the stream, the
# analytics function (configuration, permissions), its event source mapping (the tumbling window and
# every setting read back), the failure queue, the scheduled producer with its schedule, role and
# dead-letter queue, the output bucket's hardening, both Glue tables (location, partition projection,
# columns), the alarms and the dashboard; then puts ticker records into the stream and reads them back.
# Expected values come from `terraform output` and from the pattern's variables as Terraform evaluates
# them (`scripts/local-apply.sh vars`), so a -var given to the apply is what is checked. The emulator
# stores the mapping and the schedule but runs neither: records through the function to S3 are
# `kstream local up`'s job, checked by tests/e2e-02.sh.
# Prints one PASS/FAIL line per check; exits 1 if any failed.
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=scripts/lib/smoke.sh
. "$(dirname "$0")/lib/smoke.sh"

pattern=${1:-02-kpl-kds-analytics}
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
# An inline role policy's document (the CLI may return it URL-decoded JSON or as a string).
role_policy() { awse iam get-role-policy --role-name "$1" --policy-name "$2" | jq -c '.PolicyDocument | if type == "string" then fromjson else . end'; }
# A policy document has no "*" resource.
no_wildcards='[.Statement[] | .Resource | if type == "array" then .[] else . end | select(. == "*")] | length == 0'

section "Outputs"
for k in stream_name stream_arn function_name function_arn event_source_mapping_uuid tumbling_window_in_seconds \
  failure_queue_url failure_queue_arn bucket_name rows_prefix aggregates_prefix glue_database_name \
  glue_filtered_table_name glue_aggregates_table_name dashboard_name alarm_names region; do
  if [ -n "$(out "$k")" ]; then pass "output $k" "$(out "$k" | cut -c1-100)"; else fail "output $k exists"; fi
done
stream_name=$(out stream_name)
stream_arn=$(out stream_arn)
function_name=$(out function_name)
function_arn=$(out function_arn)
queue_url=$(out failure_queue_url)
queue_arn=$(out failure_queue_arn)
bucket=$(out bucket_name)
bucket_arn="arn:aws:s3:::$bucket"
rows_prefix=$(out rows_prefix)
aggregates_prefix=$(out aggregates_prefix)
producer_enabled=$(var scheduled_producer_enabled)

# ---------------------------------------------------------------------------------------------------
section "Kinesis stream $stream_name"
if summary=$(awse kinesis describe-stream-summary --stream-name "$stream_name" 2>&1); then
  s() { jq -r "$1" <<<"$summary"; }
  check_eq "stream ARN matches the output" "$stream_arn" "$(s .StreamDescriptionSummary.StreamARN)"
  check_eq "stream status" ACTIVE "$(s .StreamDescriptionSummary.StreamStatus)"
  check_eq "stream encryption (security default)" KMS "$(s .StreamDescriptionSummary.EncryptionType)"
  if [ "$(var stream_mode)" = PROVISIONED ]; then
    check_num "open shard count (var.shard_count)" "$(var shard_count)" "$(s .StreamDescriptionSummary.OpenShardCount)"
  fi
  check_num "retention hours (var.retention_period_hours)" "$(var retention_period_hours)" "$(s .StreamDescriptionSummary.RetentionPeriodHours)"
else
  fail "stream $stream_name exists" "$summary"
fi

# ---------------------------------------------------------------------------------------------------
section "Analytics function $function_name"
if fn=$(awse lambda get-function-configuration --function-name "$function_name" 2>&1); then
  check_eq "function ARN matches the output" "$function_arn" "$(jq -r .FunctionArn <<<"$fn")"
  check_eq "runtime (Rust custom runtime)" provided.al2023 "$(jq -r .Runtime <<<"$fn")"
  check_eq "architecture (Graviton)" '["arm64"]' "$(jq -c .Architectures <<<"$fn")"
  check_true "code package uploaded (CodeSize > 0)" test "$(jq -r .CodeSize <<<"$fn")" -gt 0
  check_num "timeout (var.analytics_timeout_seconds)" "$(var analytics_timeout_seconds)" "$(jq -r .Timeout <<<"$fn")"
  check_num "memory (var.analytics_memory_size_mb)" "$(var analytics_memory_size_mb)" "$(jq -r .MemorySize <<<"$fn")"
  envv() { jq -r --arg k "$1" '.Environment.Variables[$k] // empty' <<<"$fn"; }
  check_eq "OUTPUT_BUCKET is the output bucket" "$bucket" "$(envv OUTPUT_BUCKET)"
  check_eq "ROWS_PREFIX (var.rows_prefix)" "$(var rows_prefix)" "$(envv ROWS_PREFIX)"
  check_eq "AGGREGATES_PREFIX (var.aggregates_prefix)" "$(var aggregates_prefix)" "$(envv AGGREGATES_PREFIX)"
  check_num "PRICE_THRESHOLD (var.price_threshold)" "$(var price_threshold)" "$(envv PRICE_THRESHOLD)"
  check_eq "POWERTOOLS_METRICS_NAMESPACE (var.metrics_namespace)" "$(var metrics_namespace)" "$(envv POWERTOOLS_METRICS_NAMESPACE)"
  tags=$(awse lambda list-tags --resource "$function_arn" 2>/dev/null || echo '{}')
  check_eq "tag kstream:package (the binary kstream local runs)" stream-analytics "$(jq -r '.Tags["kstream:package"] // empty' <<<"$tags")"
else
  fail "function $function_name exists" "$fn"
fi
if doc=$(role_policy "$function_name-role" "$function_name-policy" 2>&1); then
  check_json "analytics role: no wildcard resource but X-Ray's" "$doc" \
    '[.Statement[] | select(.Sid != "XRayTraces") | .Resource | if type == "array" then .[] else . end | select(. == "*")] | length == 0'
  check_json "analytics role: s3:PutObject only, on the two prefixes only" "$doc" \
    "[.Statement[] | select([.Action | if type == \"array\" then .[] else . end] | any(startswith(\"s3:\")))] | length == 1 and .[0].Action == [\"s3:PutObject\"] and .[0].Resource == [\"$bucket_arn/$rows_prefix*\", \"$bucket_arn/$aggregates_prefix*\"]"
else
  fail "analytics role policy exists" "$doc"
fi
if doc=$(role_policy "$function_name-role" "$(var name_prefix)-kinesis-consumer" 2>&1); then
  check_json "mapping permissions: kinesis read on this stream only" "$doc" \
    "[.Statement[] | select([.Action[]] | any(startswith(\"kinesis:\")))] | all(.Resource == [\"$stream_arn\"] or (.Resource[0] | startswith(\"$stream_arn/consumer/\")))"
  check_json "mapping permissions: sqs:SendMessage on the failure queue only" "$doc" \
    "[.Statement[] | select([.Action[]] | any(startswith(\"sqs:\")))] | length == 1 and .[0].Action == [\"sqs:SendMessage\"] and .[0].Resource == [\"$queue_arn\"]"
  check_json "mapping permissions: no wildcard resources" "$doc" "$no_wildcards"
else
  fail "mapping role policy exists" "$doc"
fi

# ---------------------------------------------------------------------------------------------------
section "Event source mapping $stream_name -> $function_name (tumbling window)"
source_arn=$stream_arn
[ "$(var enhanced_fan_out)" = true ] && source_arn=$(out stream_consumer_arn)
if esms=$(awse lambda list-event-source-mappings --function-name "$function_name" --event-source-arn "$source_arn" 2>&1); then
  check_num "exactly one mapping from the stream" 1 "$(jq '.EventSourceMappings | length' <<<"$esms")"
  m() { jq -r ".EventSourceMappings[0]$1" <<<"$esms"; }
  check_eq "mapping UUID matches the output" "$(out event_source_mapping_uuid)" "$(m .UUID)"
  check_eq "mapping enabled" Enabled "$(m .State)"
  check_num "tumbling window s (var.tumbling_window_in_seconds)" "$(var tumbling_window_in_seconds)" "$(m .TumblingWindowInSeconds)"
  check_num "tumbling window output reads the mapping back" "$(out tumbling_window_in_seconds)" "$(m .TumblingWindowInSeconds)"
  check_num "parallelization factor (1 with a window; var.parallelization_factor)" "$(var parallelization_factor)" "$(m .ParallelizationFactor)"
  check_num "parallelization factor is 1 (tumbling windows)" 1 "$(m .ParallelizationFactor)"
  check_num "batch size (var.batch_size)" "$(var batch_size)" "$(m .BatchSize)"
  check_num "maximum retry attempts (var.maximum_retry_attempts)" "$(var maximum_retry_attempts)" "$(m .MaximumRetryAttempts)"
  check_num "maximum record age s (var.maximum_record_age_in_seconds)" "$(var maximum_record_age_in_seconds)" "$(m .MaximumRecordAgeInSeconds)"
  check_eq "bisect batch on function error" true "$(m .BisectBatchOnFunctionError)"
  check_eq "function response types" '["ReportBatchItemFailures"]' "$(jq -c '.EventSourceMappings[0].FunctionResponseTypes' <<<"$esms")"
  check_eq "on-failure destination is the failure queue" "$queue_arn" "$(m '.DestinationConfig.OnFailure.Destination')"
  check_eq "starting position (var.starting_position)" "$(var starting_position)" "$(m .StartingPosition)"
else
  fail "event source mapping listed" "$esms"
fi

section "Failure queue $queue_url"
if attrs=$(awse sqs get-queue-attributes --queue-url "$queue_url" --attribute-names All 2>&1); then
  check_eq "queue ARN matches the output" "$queue_arn" "$(jq -r .Attributes.QueueArn <<<"$attrs")"
  want_key=$(var failure_queue_kms_key_arn)
  check_eq "queue KMS encryption" "${want_key:-alias/aws/sqs}" "$(jq -r '.Attributes.KmsMasterKeyId // empty' <<<"$attrs")"
  check_json "queue policy denies requests without TLS" "$(jq -r '.Attributes.Policy // "{}"' <<<"$attrs")" \
    '[.Statement[] | select(.Effect == "Deny" and (.Condition.Bool["aws:SecureTransport"] | tostring) == "false")] | length > 0'
else
  fail "failure queue exists" "$attrs"
fi

# ---------------------------------------------------------------------------------------------------
if [ "$producer_enabled" = true ]; then
  producer=$(out producer_function_name)
  schedule=$(out schedule_name)
  dlq_url=$(out schedule_dlq_url)
  section "Scheduled producer $producer on schedule $schedule"
  producer_arn=""
  if fn=$(awse lambda get-function-configuration --function-name "$producer" 2>&1); then
    producer_arn=$(jq -r .FunctionArn <<<"$fn")
    envv() { jq -r --arg k "$1" '.Environment.Variables[$k] // empty' <<<"$fn"; }
    check_eq "STREAM_NAME is the stream" "$stream_name" "$(envv STREAM_NAME)"
    check_num "RECORDS_PER_RUN (var.scheduled_producer_records_per_run)" "$(var scheduled_producer_records_per_run)" "$(envv RECORDS_PER_RUN)"
    check_num "RATE (var.scheduled_producer_rate)" "$(var scheduled_producer_rate)" "$(envv RATE)"
    check_eq "EVENT_TIME_FORMAT (the reference's SQL timestamps)" sql "$(envv EVENT_TIME_FORMAT)"
    check_num "timeout (var.scheduled_producer_timeout_seconds)" "$(var scheduled_producer_timeout_seconds)" "$(jq -r .Timeout <<<"$fn")"
  else
    fail "producer function $producer exists" "$fn"
  fi
  if doc=$(role_policy "$producer-role" "$producer-policy" 2>&1); then
    check_json "producer role: kinesis:PutRecord(s) on this stream only" "$doc" \
      "[.Statement[] | select([.Action[]] | any(startswith(\"kinesis:\")))] | length == 1 and .[0].Action == [\"kinesis:PutRecord\", \"kinesis:PutRecords\"] and .[0].Resource == [\"$stream_arn\"]"
    check_json "producer role: nothing on S3 or SQS" "$doc" '[.Statement[].Action[] | select(startswith("s3:") or startswith("sqs:"))] | length == 0'
  else
    fail "producer role policy exists" "$doc"
  fi
  dlq_arn=""
  if attrs=$(awse sqs get-queue-attributes --queue-url "$dlq_url" --attribute-names All 2>&1); then
    dlq_arn=$(jq -r .Attributes.QueueArn <<<"$attrs")
    check_eq "schedule dead-letter queue KMS encryption" alias/aws/sqs "$(jq -r '.Attributes.KmsMasterKeyId // empty' <<<"$attrs")"
  else
    fail "schedule dead-letter queue exists" "$attrs"
  fi
  if sch=$(awse scheduler get-schedule --name "$schedule" 2>&1); then
    check_eq "schedule expression (var.scheduled_producer_schedule_expression)" "$(var scheduled_producer_schedule_expression)" "$(jq -r .ScheduleExpression <<<"$sch")"
    check_eq "schedule state" ENABLED "$(jq -r .State <<<"$sch")"
    check_eq "schedule target is the producer" "$producer_arn" "$(jq -r .Target.Arn <<<"$sch")"
    check_num "schedule retries (var.scheduled_producer_maximum_retry_attempts)" "$(var scheduled_producer_maximum_retry_attempts)" "$(jq -r .Target.RetryPolicy.MaximumRetryAttempts <<<"$sch")"
    check_num "schedule event age s (var.scheduled_producer_maximum_event_age_in_seconds)" "$(var scheduled_producer_maximum_event_age_in_seconds)" "$(jq -r .Target.RetryPolicy.MaximumEventAgeInSeconds <<<"$sch")"
    check_eq "schedule dead letters go to its queue" "$dlq_arn" "$(jq -r .Target.DeadLetterConfig.Arn <<<"$sch")"
    role_name=$(jq -r '.Target.RoleArn | sub(".*:role/"; "")' <<<"$sch")
    check_eq "schedule role" "$schedule-scheduler" "$role_name"
    if doc=$(role_policy "$role_name" "$schedule-scheduler" 2>&1); then
      check_json "schedule role: lambda:InvokeFunction on the producer only" "$doc" \
        "[.Statement[] | select([.Action[]] | any(startswith(\"lambda:\")))] | length == 1 and .[0].Action == [\"lambda:InvokeFunction\"] and .[0].Resource == [\"$producer_arn\", \"$producer_arn:*\"]"
      check_json "schedule role: sqs:SendMessage on its dead-letter queue only" "$doc" \
        "[.Statement[] | select([.Action[]] | any(startswith(\"sqs:\")))] | .[0].Resource == [\"$dlq_arn\"]"
      check_json "schedule role: no wildcard resources" "$doc" "$no_wildcards"
    else
      fail "schedule role policy exists" "$doc"
    fi
    if trust=$(awse iam get-role --role-name "$role_name" 2>&1); then
      check_json "schedule role trusts EventBridge Scheduler of this account only" "$trust" \
        '.Role.AssumeRolePolicyDocument | if type == "string" then fromjson else . end | .Statement[0].Principal.Service == "scheduler.amazonaws.com" and (.Statement[0].Condition.StringEquals["aws:SourceAccount"] | length == 12)'
    else
      fail "schedule role exists" "$trust"
    fi
  else
    fail "schedule $schedule exists" "$sch"
  fi
else
  section "Scheduled producer"
  check_eq "no producer (var.scheduled_producer_enabled = false)" "" "$(out producer_function_name)"
fi

# ---------------------------------------------------------------------------------------------------
section "Output bucket $bucket"
check_bucket_secure "$bucket" "$bucket_arn"

# ---------------------------------------------------------------------------------------------------
database=$(out glue_database_name)
# table <name> <prefix> <partition keys, space-separated> <columns, space-separated>
table() {
  local name=$1 prefix=$2 keys=$3 columns=$4 tbl template
  section "Glue table $database.$name"
  if ! tbl=$(awse glue get-table --database-name "$database" --name "$name" 2>&1); then
    fail "Glue table $name exists" "$tbl"
    return
  fi
  t() { jq -r ".Table$1" <<<"$tbl"; }
  check_eq "$name: external table" EXTERNAL_TABLE "$(t .TableType)"
  check_eq "$name: location is the function's prefix" "s3://$bucket/$prefix" "$(t .StorageDescriptor.Location)"
  check_eq "$name: OpenX JSON SerDe" org.openx.data.jsonserde.JsonSerDe "$(t .StorageDescriptor.SerdeInfo.SerializationLibrary)"
  check_eq "$name: partition projection on (no crawler)" true "$(t '.Parameters["projection.enabled"]')"
  check_eq "$name: partition keys (the function's key layout)" "$keys" "$(jq -r '[.Table.PartitionKeys[].Name] | join(" ")' <<<"$tbl")"
  template="s3://$bucket/$prefix"
  for k in $keys; do template+="$k=\${$k}/"; done
  check_eq "$name: projection location template" "$template" "$(t '.Parameters["storage.location.template"]')"
  check_eq "$name: dt is a yyyy-MM-dd date projection" "date yyyy-MM-dd" "$(jq -r '.Table.Parameters | "\(.["projection.dt.type"]) \(.["projection.dt.format"])"' <<<"$tbl")"
  check_eq "$name: hr is a two-digit 0-23 integer projection" "integer 0,23 2" "$(jq -r '.Table.Parameters | "\(.["projection.hr.type"]) \(.["projection.hr.range"]) \(.["projection.hr.digits"])"' <<<"$tbl")"
  check_eq "$name: columns (the function's JSON fields)" "$columns" "$(jq -r '[.Table.StorageDescriptor.Columns[].Name] | join(" ")' <<<"$tbl")"
}
table "$(out glue_filtered_table_name)" "$rows_prefix" "ticker dt hr" "event_time price"
check_eq "filtered: ticker is an injected projection" injected \
  "$(awse glue get-table --database-name "$database" --name "$(out glue_filtered_table_name)" | jq -r '.Table.Parameters["projection.ticker.type"]')"
table "$(out glue_aggregates_table_name)" "$aggregates_prefix" "dt hr" \
  "window_start window_end stream shard_id ticker count min_price max_price avg_price sum_price first_event_time last_event_time terminated_early"

# ---------------------------------------------------------------------------------------------------
section "Alarms"
prefix=$(var name_prefix)
mine=$(awse cloudwatch describe-alarms --alarm-name-prefix "$prefix-" --max-records 100 | jq '[.MetricAlarms[]]')
check_eq "alarms in the emulator are those named by output alarm_names" \
  "$(out alarm_names | jq -r '[.[]] | sort | join(" ")')" "$(jq -r '[.[].AlarmName] | sort | join(" ")' <<<"$mine")"
want_alarms=15
[ "$producer_enabled" = true ] && want_alarms=18
check_num "alarm count (6 stream, 3 analytics, 5 on its metrics, failure queue$([ "$producer_enabled" = true ] && echo ', 2 producer, dead-letter queue'))" "$want_alarms" "$(jq length <<<"$mine")"
check_json "stream alarms use StreamName = $stream_name" "$mine" \
  "[.[] | select(.Namespace == \"AWS/Kinesis\")] | length == 6 and all(.Dimensions == [{\"Name\": \"StreamName\", \"Value\": \"$stream_name\"}])"
check_json "analytics iterator-age alarm (the mapping)" "$mine" \
  "[.[] | select(.Namespace == \"AWS/Lambda\" and .MetricName == \"IteratorAge\" and .Dimensions == [{\"Name\": \"FunctionName\", \"Value\": \"$function_name\"}])] | length == 1"
ns=$(var metrics_namespace)
# The analytics function's own metrics. namespace|metric|statistic|operator|threshold|missing data
while IFS='|' read -r metric stat op threshold missing; do
  a=$(jq -c --arg ns "$ns" --arg m "$metric" '[.[] | select(.Namespace == $ns and .MetricName == $m)] | first // empty' <<<"$mine")
  if [ -z "$a" ]; then
    fail "alarm on $ns $metric exists"
    continue
  fi
  check_eq "alarm $metric: statistic/operator/threshold/missing data" "$stat $op $threshold $missing" \
    "$(jq -r '"\(.Statistic) \(.ComparisonOperator) \(.Threshold | tostring | sub("\\.0$"; "")) \(.TreatMissingData)"' <<<"$a")"
  check_json "alarm $metric: FunctionName = $function_name" "$a" ".Dimensions == [{\"Name\": \"FunctionName\", \"Value\": \"$function_name\"}]"
done <<SPEC
StateBytes|Maximum|GreaterThanOrEqualToThreshold|$(var window_state_alarm_bytes)|notBreaching
WindowsTerminatedEarly|Sum|GreaterThanOrEqualToThreshold|1|notBreaching
FailedRecords|Sum|GreaterThanOrEqualToThreshold|1|notBreaching
FailedFinalInvokes|Sum|GreaterThanOrEqualToThreshold|1|notBreaching
ObjectsWritten|Sum|LessThanThreshold|1|breaching
SPEC
check_json "output freshness: $(var output_freshness_windows) window(s)" "$mine" \
  "[.[] | select(.MetricName == \"ObjectsWritten\")] | .[0].EvaluationPeriods == $(var output_freshness_windows) and .[0].Period >= $(var tumbling_window_in_seconds)"
topic=$(out alarm_topic_arn)
if [ -n "$topic" ]; then
  check_json "every alarm notifies $topic" "$mine" "all(.[]; .AlarmActions | index(\"$topic\") != null)"
  check_topic_encrypted "$topic"
elif [ "$(var create_alarm_topic)" = true ] || [ -n "$(var alarm_topic_arn)" ]; then
  fail "alarm topic output set" "create_alarm_topic/alarm_topic_arn given but output alarm_topic_arn is empty"
else
  check_json "no alarm actions without a topic" "$mine" 'all(.[]; (.AlarmActions | length) == 0)'
fi

# ---------------------------------------------------------------------------------------------------
dashboard=$(out dashboard_name)
section "Dashboard $dashboard"
if db=$(awse cloudwatch get-dashboard --dashboard-name "$dashboard" 2>&1); then
  body=$(jq -r .DashboardBody <<<"$db")
  pass "dashboard exists"
  check_json "every Kinesis metric has StreamName = $stream_name" "$body" \
    "[.widgets[].properties.metrics? // [] | .[] | select(type == \"array\" and .[0] == \"AWS/Kinesis\")] | length > 0 and all(.[2] == \"StreamName\" and .[3] == \"$stream_name\")"
  check_json "the window widgets read the analytics function's EMF metrics" "$body" \
    "[.widgets[].properties.metrics? // [] | .[] | select(type == \"array\" and .[0] == \"$ns\")] | length >= 8 and all(.[2] == \"FunctionName\" and .[3] == \"$function_name\")"
  check_json "the failure queue is on the dashboard" "$body" "tostring | contains(\"${queue_arn##*:}\")"
else
  fail "dashboard exists" "$db"
fi

# ---------------------------------------------------------------------------------------------------
section "Put ticker records into the stream and read them back"
# The reference's schema, event time in its SQL form (what the analytics function reads).
now=$(date -u '+%Y-%m-%d %H:%M:%S.000')
seqs=()
for rec in "AMZN 51.2" "AMZN 12.5" "MSFT 77.0"; do
  payload=$(jq -cn --arg t "${rec% *}" --argjson p "${rec#* }" --arg e "$now" '{event_time: $e, ticker: $t, price: $p}')
  if put=$(awse kinesis put-record --stream-name "$stream_name" --partition-key "${rec% *}" --data "$payload" 2>&1); then
    seqs+=("$(jq -r .ShardId <<<"$put") $(jq -r .SequenceNumber <<<"$put") $payload")
  else
    fail "put-record $payload" "$put"
  fi
done
check_num "ticker records put" 3 "${#seqs[@]}"
for entry in "${seqs[@]}"; do
  read -r shard seq payload <<<"$entry"
  iterator=$(awse kinesis get-shard-iterator --stream-name "$stream_name" --shard-id "$shard" \
    --shard-iterator-type AT_SEQUENCE_NUMBER --starting-sequence-number "$seq" --query ShardIterator --output text)
  got=$(awse kinesis get-records --shard-iterator "$iterator" --limit 1 | jq -r '.Records[0].Data // empty')
  check_eq "record read back from $shard equals what was put" "$payload" "$(base64 -d <<<"$got" 2>/dev/null)"
done

smoke_summary "smoke-02 ($pattern)"
