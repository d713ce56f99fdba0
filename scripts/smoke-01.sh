#!/usr/bin/env bash
# Smoke test for pattern 01 (API Gateway -> Kinesis -> Lambda, failures to SQS) applied to the emulator.
#
#   scripts/smoke-01.sh [pattern]     (default 01-apigw-kds-lambda; KSTREAM_LOCAL_STATE picks the deployment)
#
# Checks with the aws CLI (--endpoint-url) what `scripts/local-apply.sh apply` created: the stream, the
# failure queue, the consumer function, its event source mapping, the alarms, the dashboard and the REST
# API; then puts a record into the stream and reads it back. Expected values come from `terraform output`
# and from the pattern's variables as Terraform evaluates them (`scripts/local-apply.sh vars`), so a
# changed default or a -var given to the apply is what is checked. The few expectations that are the
# specification rather than a variable (alarm thresholds from the reference solution, runtime, arch)
# are named as such below. Prints one PASS/FAIL line per check; exits 1 if any failed.
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=scripts/lib/smoke.sh
. "$(dirname "$0")/lib/smoke.sh"

pattern=${1:-01-apigw-kds-lambda}
kstream_emulator_env
kstream_require_venv
kstream_require_emulator

outputs=$("$KSTREAM_ROOT/scripts/local-apply.sh" output "$pattern") ||
  die "no outputs for $pattern: apply it first (scripts/local-apply.sh apply $pattern)"
vars=$("$KSTREAM_ROOT/scripts/local-apply.sh" vars "$pattern" 2>/dev/null) ||
  die "cannot evaluate the variables of $pattern"

# First non-empty output among the given names.
out() {
  local k v
  for k in "$@"; do
    v=$(jq -r --arg k "$k" '.[$k].value // empty | if type == "string" then . else tojson end' <<<"$outputs")
    if [ -n "$v" ]; then
      echo "$v"
      return 0
    fi
  done
  return 1
}
# A variable's effective value (JSON scalars printed raw; null/absent prints nothing).
var() { jq -r --arg k "$1" '.[$k] // empty | if type == "string" or type == "number" or type == "boolean" then tostring else tojson end' <<<"$vars"; }
has_var() { jq -e --arg k "$1" 'has($k)' <<<"$vars" >/dev/null; }
# Check a value against a variable when the pattern declares it; otherwise against the documented default.
check_var_num() {
  local what=$1 name=$2 fallback=$3 actual=$4
  if has_var "$name"; then check_num "$what (var.$name)" "$(var "$name")" "$actual"; else check_num "$what" "$fallback" "$actual"; fi
}

# Assign the first non-empty output among the names to the variable $1; a FAIL if there is none.
require_out() {
  local dest=$1 v
  shift
  if v=$(out "$@"); then
    printf -v "$dest" '%s' "$v"
  else
    printf -v "$dest" '%s' ""
    fail "output $1 exists" "terraform output has none of: $*"
  fi
}

section "Outputs"
stream_name="" stream_arn="" function_name="" queue_url="" dashboard_name="" api_endpoint=""
require_out stream_name stream_name
require_out stream_arn stream_arn
require_out function_name function_name consumer_function_name
require_out queue_url failure_queue_url
require_out dashboard_name dashboard_name
require_out api_endpoint api_endpoint
pass "outputs read" "$(jq -r 'keys | join(", ")' <<<"$outputs")"

# ---------------------------------------------------------------------------------------------------
section "Kinesis stream $stream_name"
if summary=$(awse kinesis describe-stream-summary --stream-name "$stream_name" 2>&1); then
  s() { jq -r "$1" <<<"$summary"; }
  check_eq "stream ARN matches the output" "$stream_arn" "$(s .StreamDescriptionSummary.StreamARN)"
  check_eq "stream status" ACTIVE "$(s .StreamDescriptionSummary.StreamStatus)"
  check_eq "stream encryption (security default)" KMS "$(s .StreamDescriptionSummary.EncryptionType)"
  if [ -n "$(var stream_kms_key_arn)" ]; then
    check_eq "stream KMS key (var.stream_kms_key_arn)" "$(var stream_kms_key_arn)" "$(s .StreamDescriptionSummary.KeyId)"
  else
    check_eq "stream KMS key (AWS-managed by default)" alias/aws/kinesis "$(s .StreamDescriptionSummary.KeyId)"
  fi
  mode=$(var stream_mode)
  mode=${mode:-PROVISIONED}
  check_eq "stream mode (var.stream_mode)" "${mode^^}" "$(s '.StreamDescriptionSummary.StreamModeDetails.StreamMode')"
  if [ "${mode^^}" = PROVISIONED ]; then
    check_var_num "open shard count" shard_count 2 "$(s .StreamDescriptionSummary.OpenShardCount)"
  fi
  retention_var=retention_period_hours
  has_var "$retention_var" || retention_var=retention_hours
  check_var_num "retention hours" "$retention_var" 24 "$(s .StreamDescriptionSummary.RetentionPeriodHours)"
  metrics=$(s '[.StreamDescriptionSummary.EnhancedMonitoring[]?.ShardLevelMetrics[]?] | length')
  if [ "$(var enhanced_monitoring)" = true ] || [ "$(var enable_enhanced_monitoring)" = true ]; then
    check_true "enhanced shard-level metrics on" test "$metrics" -gt 0
  else
    check_num "enhanced shard-level metrics off (default)" 0 "$metrics"
  fi
else
  fail "stream $stream_name exists" "$summary"
fi

# ---------------------------------------------------------------------------------------------------
section "Failure queue $queue_url"
queue_arn=""
if attrs=$(awse sqs get-queue-attributes --queue-url "$queue_url" --attribute-names All 2>&1); then
  queue_arn=$(jq -r .Attributes.QueueArn <<<"$attrs")
  pass "failure queue exists" "$queue_arn"
  kms=$(jq -r '.Attributes.KmsMasterKeyId // empty' <<<"$attrs")
  if [ -n "$(var failure_queue_kms_key_arn)" ]; then
    check_eq "queue KMS key (var.failure_queue_kms_key_arn)" "$(var failure_queue_kms_key_arn)" "$kms"
  else
    check_eq "queue KMS encryption (AWS-managed key by default)" alias/aws/sqs "$kms"
  fi
  policy=$(jq -r '.Attributes.Policy // "{}"' <<<"$attrs")
  check_json "queue policy denies requests without TLS" "$policy" \
    '[.Statement[] | select(.Effect == "Deny" and (.Condition.Bool["aws:SecureTransport"] | tostring) == "false")] | length > 0'
  check_json "queue policy grants nothing to anonymous principals" "$policy" \
    '[.Statement[] | select(.Effect == "Allow" and (.Principal == "*" or .Principal.AWS == "*"))] | length == 0'
else
  fail "failure queue exists" "$attrs"
fi

# ---------------------------------------------------------------------------------------------------
section "Consumer function $function_name"
if fn=$(awse lambda get-function-configuration --function-name "$function_name" 2>&1); then
  check_eq "runtime (Rust custom runtime)" provided.al2023 "$(jq -r .Runtime <<<"$fn")"
  check_eq "architecture (Graviton)" '["arm64"]' "$(jq -c .Architectures <<<"$fn")"
  check_eq "handler" bootstrap "$(jq -r .Handler <<<"$fn")"
  check_true "code package uploaded (CodeSize > 0)" test "$(jq -r .CodeSize <<<"$fn")" -gt 0
  env_keys=$(jq -r '.Environment.Variables // {} | keys | join(",")' <<<"$fn")
  check_true "environment set ($env_keys)" test -n "$env_keys"
  if has_var consumer_timeout_seconds; then
    check_num "timeout (var.consumer_timeout_seconds)" "$(var consumer_timeout_seconds)" "$(jq -r .Timeout <<<"$fn")"
  fi
  if has_var consumer_memory_size_mb; then
    check_num "memory (var.consumer_memory_size_mb)" "$(var consumer_memory_size_mb)" "$(jq -r .MemorySize <<<"$fn")"
  fi
  # Every variable of var.consumer_environment reaches the function.
  if has_var consumer_environment; then
    check_json "environment includes var.consumer_environment" "$fn" \
      "(.Environment.Variables // {}) as \$e | $(var consumer_environment) | to_entries | all(\$e[.key] == .value)"
  fi
else
  fail "function $function_name exists" "$fn"
fi

# ---------------------------------------------------------------------------------------------------
section "Event source mapping $stream_name -> $function_name"
if esms=$(awse lambda list-event-source-mappings --function-name "$function_name" --event-source-arn "$stream_arn" 2>&1); then
  check_num "exactly one mapping from the stream" 1 "$(jq '.EventSourceMappings | length' <<<"$esms")"
  m() { jq -r ".EventSourceMappings[0]$1" <<<"$esms"; }
  check_eq "mapping enabled" Enabled "$(m .State)"
  check_var_num "batch size" batch_size 100 "$(m .BatchSize)"
  check_var_num "parallelization factor" parallelization_factor 1 "$(m .ParallelizationFactor)"
  check_var_num "maximum retry attempts" maximum_retry_attempts 3 "$(m .MaximumRetryAttempts)"
  check_var_num "maximum record age (s)" maximum_record_age_in_seconds 86400 "$(m .MaximumRecordAgeInSeconds)"
  check_eq "bisect batch on function error" true "$(m .BisectBatchOnFunctionError)"
  check_eq "function response types" '["ReportBatchItemFailures"]' "$(jq -c '.EventSourceMappings[0].FunctionResponseTypes' <<<"$esms")"
  check_eq "on-failure destination is the failure queue" "$queue_arn" "$(m '.DestinationConfig.OnFailure.Destination')"
  sp=$(var starting_position)
  check_eq "starting position (var.starting_position)" "${sp:-LATEST}" "$(m .StartingPosition)"
  if has_var maximum_batching_window_in_seconds; then
    check_num "batching window (var.maximum_batching_window_in_seconds)" \
      "$(var maximum_batching_window_in_seconds)" "$(m '.MaximumBatchingWindowInSeconds // 0')"
  fi
else
  fail "event source mapping listed" "$esms"
fi

# ---------------------------------------------------------------------------------------------------
section "REST API $api_endpoint"
api_id=$(out rest_api_id api_id || sed -nE 's#^https?://([a-z0-9]+)\.execute-api\..*#\1#p' <<<"$api_endpoint")
stage=$(out api_stage_name stage_name || sed -nE 's#^https?://[^/]+/([^/]+).*#\1#p' <<<"$api_endpoint")
api_name=""
if [ -n "$api_id" ] && api=$(awse apigateway get-rest-api --rest-api-id "$api_id" 2>&1); then
  api_name=$(jq -r .name <<<"$api")
  pass "REST API exists" "$api_id, $api_name"
  resources=$(awse apigateway get-resources --rest-api-id "$api_id" --embed methods)
  for route in /record:PutRecord /records:PutRecords; do
    path=${route%%:*} action=${route#*:}
    rid=$(jq -r --arg p "$path" '.items[] | select(.path == $p) | .id' <<<"$resources")
    if [ -z "$rid" ]; then
      fail "resource $path exists"
      continue
    fi
    if ! method=$(awse apigateway get-method --rest-api-id "$api_id" --resource-id "$rid" --http-method POST 2>&1); then
      fail "POST $path exists" "$method"
      continue
    fi
    pass "POST $path exists"
    auth=$(jq -r .authorizationType <<<"$method")
    check_true "POST $path requires authorization ($auth)" test "$auth" != NONE
    if has_var authorization; then
      case $(var authorization) in
        COGNITO* | cognito*) want=COGNITO_USER_POOLS ;;
        IAM | iam | AWS_IAM) want=AWS_IAM ;;
        *) want=$(var authorization) ;;
      esac
      check_eq "POST $path authorization (var.authorization)" "$want" "$auth"
    fi
    check_json "POST $path validates the request body" "$method" '.requestValidatorId != null and (.requestModels["application/json"] // "") != ""'
    integ=$(jq '.methodIntegration // {}' <<<"$method")
    check_eq "POST $path integration type" AWS "$(jq -r .type <<<"$integ")"
    check_json "POST $path integration calls Kinesis $action" "$integ" "(.uri // \"\") | endswith(\":kinesis:action/$action\")"
    check_eq "POST $path passthrough behaviour" NEVER "$(jq -r .passthroughBehavior <<<"$integ")"
  done
  if [ -n "$stage" ] && st=$(awse apigateway get-stage --rest-api-id "$api_id" --stage-name "$stage" 2>&1); then
    pass "stage $stage deployed"
    check_var_num "stage throttling rate (req/s)" throttling_rate_limit 100 "$(jq -r '.methodSettings["*/*"].throttlingRateLimit // empty' <<<"$st")"
    check_var_num "stage throttling burst" throttling_burst_limit 50 "$(jq -r '.methodSettings["*/*"].throttlingBurstLimit // empty' <<<"$st")"
    check_eq "stage X-Ray tracing" true "$(jq -r '.tracingEnabled // false' <<<"$st")"
    check_json "stage JSON access logs" "$st" '(.accessLogSettings.destinationArn // "") != "" and ((.accessLogSettings.format // "") | startswith("{"))'
  else
    fail "stage '$stage' deployed" "${st:-no stage name in the outputs}"
  fi
else
  fail "REST API exists" "${api:-no API id in the outputs}"
fi

# ---------------------------------------------------------------------------------------------------
section "Alarms"
queue_name=${queue_arn##*:}
topic_arn=$(out alarm_topic_arn || true)
alarms=$(awse cloudwatch describe-alarms --max-records 100)
# This deployment's alarms: those whose dimensions name one of its resources.
mine=$(jq --arg s "$stream_name" --arg f "$function_name" --arg q "$queue_name" --arg a "$api_name" '
  [.MetricAlarms[] | select([.Dimensions[]?.Value] | any(. == $s or . == $f or . == $q or . == $a))]' <<<"$alarms")
count=$(jq length <<<"$mine")
check_true "alarms created for this deployment ($count)" test "$count" -ge 8
# Every dimension names this deployment's resource of that kind.
check_json "alarm dimensions name this stream/function/queue/API" "$mine" "
  [.[] | .Dimensions[]? | select(
    (.Name == \"StreamName\" and .Value != \"$stream_name\") or
    (.Name == \"FunctionName\" and .Value != \"$function_name\") or
    (.Name == \"QueueName\" and .Value != \"$queue_name\") or
    (.Name == \"ApiName\" and .Value != \"$api_name\"))] | length == 0"
# The reference solution's thresholds (reference-solution.md section 5), plus the failure-queue depth
# alarm the reference dropped (its v1.0.0 DLQDepthAlarm). namespace|metric|statistic|operator|threshold
while IFS='|' read -r ns metric stat op threshold; do
  a=$(jq -c --arg ns "$ns" --arg m "$metric" '[.[] | select(.Namespace == $ns and .MetricName == $m)] | first // empty' <<<"$mine")
  if [ -z "$a" ]; then
    fail "alarm on $ns $metric exists"
    continue
  fi
  check_eq "alarm $metric: statistic/operator/threshold" "$stat $op $threshold" \
    "$(jq -r '"\(.Statistic) \(.ComparisonOperator) \(.Threshold)"' <<<"$a" | sed 's/\.0$//')"
done <<'SPEC'
AWS/Kinesis|GetRecords.IteratorAgeMilliseconds|Maximum|GreaterThanOrEqualToThreshold|60000
AWS/Kinesis|ReadProvisionedThroughputExceeded|Average|GreaterThanOrEqualToThreshold|0.01
AWS/Kinesis|WriteProvisionedThroughputExceeded|Average|GreaterThanOrEqualToThreshold|0.01
AWS/Kinesis|PutRecord.Success|Average|LessThanOrEqualToThreshold|0.95
AWS/Kinesis|PutRecords.Success|Average|LessThanOrEqualToThreshold|0.95
AWS/Kinesis|GetRecords.Success|Average|LessThanOrEqualToThreshold|0.98
AWS/SQS|ApproximateNumberOfMessagesVisible|Sum|GreaterThanOrEqualToThreshold|1
SPEC
check_json "an alarm on the consumer function" "$mine" '[.[] | select(.Namespace == "AWS/Lambda")] | length > 0'
check_json "an alarm on the REST API" "$mine" '[.[] | select(.Namespace == "AWS/ApiGateway")] | length > 0'
if [ -n "$topic_arn" ]; then
  check_json "every alarm notifies $topic_arn" "$mine" "all(.[]; .AlarmActions | index(\"$topic_arn\") != null)"
  check_topic_encrypted "$topic_arn"
elif [ "$(var create_alarm_topic)" = true ] || [ -n "$(var alarm_topic_arn)" ]; then
  fail "alarm topic output set" "create_alarm_topic/alarm_topic_arn given but output alarm_topic_arn is empty"
else
  check_json "no alarm actions without a topic (create_alarm_topic=false, no alarm_topic_arn)" "$mine" 'all(.[]; (.AlarmActions | length) == 0)'
fi
# The alarm_names output names exactly the alarms found in the emulator for this deployment.
if names=$(out alarm_names); then
  check_eq "alarms in the emulator are those named by output alarm_names" \
    "$(jq -r '[.[]] | sort | join(" ")' <<<"$names")" "$(jq -r '[.[].AlarmName] | sort | join(" ")' <<<"$mine")"
fi

# ---------------------------------------------------------------------------------------------------
section "Dashboard $dashboard_name"
if db=$(awse cloudwatch get-dashboard --dashboard-name "$dashboard_name" 2>&1); then
  body=$(jq -r .DashboardBody <<<"$db")
  pass "dashboard exists"
  check_json "dashboard shows the stream" "$body" "tostring | contains(\"$stream_name\")"
  check_json "dashboard shows the function" "$body" "tostring | contains(\"$function_name\")"
  # Every metric's dimensions name this deployment's resources ("." repeats the previous row's value).
  check_json "every dashboard metric dimension names this deployment" "$body" "
    [.widgets[].properties.metrics? // [] | .[] | select(type == \"array\") | .[2:] | map(select(type == \"string\"))
     | . as \$d | range(0; (\$d | length) - 1; 2) | [\$d[.], \$d[. + 1]]
     | select((.[0] == \"StreamName\" and .[1] != \"$stream_name\" and .[1] != \".\") or
              (.[0] == \"FunctionName\" and .[1] != \"$function_name\" and .[1] != \".\") or
              (.[0] == \"QueueName\" and .[1] != \"$queue_name\" and .[1] != \".\") or
              (.[0] == \"ApiName\" and .[1] != \"$api_name\" and .[1] != \".\"))] | length == 0"
else
  fail "dashboard exists" "$db"
fi

# ---------------------------------------------------------------------------------------------------
section "Put a record and read it back"
payload=$(jq -cn --arg id "smoke-$$-$(date +%s%N)" '{id: $id, kind: "smoke", value: 42}')
if put=$(awse kinesis put-record --stream-name "$stream_name" --partition-key "smoke-$$" --data "$payload" 2>&1); then
  shard=$(jq -r .ShardId <<<"$put")
  seq=$(jq -r .SequenceNumber <<<"$put")
  pass "put-record" "$shard, sequence $seq"
  iterator=$(awse kinesis get-shard-iterator --stream-name "$stream_name" --shard-id "$shard" \
    --shard-iterator-type TRIM_HORIZON --query ShardIterator --output text)
  got=""
  for _ in $(seq 1 20); do
    page=$(awse kinesis get-records --shard-iterator "$iterator" --limit 1000)
    got=$(jq -r --arg s "$seq" '.Records[] | select(.SequenceNumber == $s) | .Data' <<<"$page")
    [ -n "$got" ] && break
    iterator=$(jq -r '.NextShardIterator // empty' <<<"$page")
    [ -n "$iterator" ] || break
  done
  if [ -n "$got" ]; then
    check_eq "record read back from $shard (TRIM_HORIZON) equals what was put" "$payload" "$(base64 -d <<<"$got")"
  else
    fail "record $seq found in $shard"
  fi
else
  fail "put-record" "$put"
fi

smoke_summary "smoke-01 ($pattern)"
