#!/usr/bin/env bash
# Smoke test for pattern 04 (trips -> Kinesis -> enrichment consumer calling the fare API (API Gateway
# REST, AWS_IAM + API key, Lambda) -> S3, Glue tables) applied to the emulator.
#
#   scripts/smoke-04.sh [pattern]     (default 04-kds-enrichment-apigw; KSTREAM_LOCAL_STATE picks the deployment)
#
# Checks with the aws CLI (--endpoint-url) what `scripts/local-apply.sh apply` created: the stream, the
# fare function and its REST API (GET /predictFare with AWS_IAM and a required API key, Lambda proxy,
# the usage plan's throttle and the key in it, the stage's logs and tracing), the API key's value
# kept in SSM Parameter Store as a SecureString and nowhere in the outputs, the enrichment consumer
# (configuration, least-privilege role), its event source mapping and failure queue, the output
# bucket's hardening, the Glue tables, the alarms and the dashboard; then puts a trip into the
# stream and reads it back. Expected values come from `terraform output` and from the pattern's
# variables as Terraform evaluates them (`scripts/local-apply.sh vars`). The emulator stores the API
# and the mapping but runs neither: records through the consumer and the API are `kstream local
# up`'s job, checked by tests/e2e-04.sh.
# Prints one PASS/FAIL line per check; exits 1 if any failed.
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=scripts/lib/smoke.sh
. "$(dirname "$0")/lib/smoke.sh"

pattern=${1:-04-kds-enrichment-apigw}
kstream_emulator_env
kstream_require_venv
kstream_require_emulator

outputs=$("$KSTREAM_ROOT/scripts/local-apply.sh" output "$pattern") ||
  die "no outputs for $pattern: apply it first (scripts/local-apply.sh apply $pattern)"
vars=$("$KSTREAM_ROOT/scripts/local-apply.sh" vars "$pattern" 2>/dev/null) ||
  die "cannot evaluate the variables of $pattern"

out() { jq -r --arg k "$1" '.[$k].value // empty | if type == "string" then . else tojson end' <<<"$outputs"; }
var() { jq -r --arg k "$1" '.[$k] | if . == null then empty elif type == "string" or type == "number" or type == "boolean" then tostring else tojson end' <<<"$vars"; }
role_policy() { awse iam get-role-policy --role-name "$1" --policy-name "$2" | jq -c '.PolicyDocument | if type == "string" then fromjson else . end'; }
no_wildcards='[.Statement[] | .Resource | if type == "array" then .[] else . end | select(. == "*")] | length == 0'

section "Outputs"
for k in api_url rest_api_id api_stage_name api_invoke_arn_for_get api_key_id api_key_parameter_name \
  fare_function_name stream_name stream_arn consumer_function_name consumer_function_arn \
  event_source_mapping_uuid failure_queue_url failure_queue_arn bucket_name output_prefix error_prefix \
  glue_database_name glue_table_name glue_errors_table_name dashboard_name alarm_names region; do
  if [ -n "$(out "$k")" ]; then pass "output $k" "$(out "$k" | cut -c1-100)"; else fail "output $k exists"; fi
done
stream_name=$(out stream_name)
stream_arn=$(out stream_arn)
api_id=$(out rest_api_id)
stage=$(out api_stage_name)
fare_fn=$(out fare_function_name)
consumer=$(out consumer_function_name)
queue_url=$(out failure_queue_url)
queue_arn=$(out failure_queue_arn)
bucket=$(out bucket_name)
bucket_arn="arn:aws:s3:::$bucket"
output_prefix=$(out output_prefix)
error_prefix=$(out error_prefix)
parameter=$(out api_key_parameter_name)
resource_path=$(var api_resource_path)

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
else
  fail "stream $stream_name exists" "$summary"
fi

# ---------------------------------------------------------------------------------------------------
section "Fare function $fare_fn"
fare_arn=""
if fn=$(awse lambda get-function-configuration --function-name "$fare_fn" 2>&1); then
  fare_arn=$(jq -r .FunctionArn <<<"$fn")
  check_eq "runtime (Rust custom runtime)" provided.al2023 "$(jq -r .Runtime <<<"$fn")"
  check_eq "architecture (Graviton)" '["arm64"]' "$(jq -c .Architectures <<<"$fn")"
  check_num "timeout (var.fare_api_timeout_seconds)" "$(var fare_api_timeout_seconds)" "$(jq -r .Timeout <<<"$fn")"
  check_num "memory (var.fare_api_memory_size_mb)" "$(var fare_api_memory_size_mb)" "$(jq -r .MemorySize <<<"$fn")"
  check_eq "FARE_FAULTS only when var.fare_api_faults is set (tests only)" "$(var fare_api_faults)" \
    "$(jq -r '.Environment.Variables.FARE_FAULTS // empty' <<<"$fn")"
  tags=$(awse lambda list-tags --resource "$fare_arn" 2>/dev/null || echo '{}')
  check_eq "tag kstream:package (the binary kstream local runs)" fare-api "$(jq -r '.Tags["kstream:package"] // empty' <<<"$tags")"
  if pol=$(awse lambda get-policy --function-name "$fare_fn" 2>&1); then
    check_json "only API Gateway may invoke it, from this API's GET method" "$(jq -r .Policy <<<"$pol")" \
      "[.Statement[] | select(.Principal.Service == \"apigateway.amazonaws.com\")] | length == 1 and (.[0].Condition.ArnLike[\"AWS:SourceArn\"] | test(\":$api_id/\"))"
  else
    fail "the fare function has a resource policy" "$pol"
  fi
else
  fail "function $fare_fn exists" "$fn"
fi

# ---------------------------------------------------------------------------------------------------
section "REST API $api_id (stage $stage)"
if api=$(awse apigateway get-rest-api --rest-api-id "$api_id" 2>&1); then
  check_eq "API keys come from the x-api-key header" HEADER "$(jq -r .apiKeySource <<<"$api")"
  check_eq "endpoint type (var.api_endpoint_type)" "$(var api_endpoint_type)" "$(jq -r '.endpointConfiguration.types[0]' <<<"$api")"
else
  fail "REST API $api_id exists" "$api"
fi
resources=$(awse apigateway get-resources --rest-api-id "$api_id")
rid=$(jq -r --arg p "/$resource_path" '.items[] | select(.path == $p) | .id' <<<"$resources")
if [ -n "$rid" ]; then
  pass "resource /$resource_path"
  m=$(awse apigateway get-method --rest-api-id "$api_id" --resource-id "$rid" --http-method GET)
  check_eq "GET /$resource_path: AWS_IAM authorization" AWS_IAM "$(jq -r .authorizationType <<<"$m")"
  check_eq "GET /$resource_path: API key required" true "$(jq -r .apiKeyRequired <<<"$m")"
  i=$(jq -c .methodIntegration <<<"$m")
  check_eq "integration: Lambda proxy" AWS_PROXY "$(jq -r .type <<<"$i")"
  check_true "integration URI invokes the fare function" grep -q "functions/$fare_arn/invocations" <<<"$(jq -r .uri <<<"$i")"
  check_num "integration timeout ms (var.api_integration_timeout_ms)" "$(var api_integration_timeout_ms)" "$(jq -r .timeoutInMillis <<<"$i")"
else
  fail "resource /$resource_path exists" "$(jq -c '[.items[].path]' <<<"$resources")"
fi
if st=$(awse apigateway get-stage --rest-api-id "$api_id" --stage-name "$stage" 2>&1); then
  check_eq "stage X-Ray tracing (var.api_xray_tracing_enabled)" "$(var api_xray_tracing_enabled)" "$(jq -r '.tracingEnabled // false' <<<"$st")"
  check_true "stage access logs go to a log group" grep -q ":log-group:" <<<"$(jq -r '.accessLogSettings.destinationArn // empty' <<<"$st")"
else
  fail "stage $stage exists" "$st"
fi
key_id=$(out api_key_id)
plans=$(awse apigateway get-usage-plans --key-id "$key_id")
check_num "the API key is in one usage plan" 1 "$(jq '.items | length' <<<"$plans")"
plan=$(jq -c '.items[0] // {}' <<<"$plans")
check_num "usage plan rate rps (var.api_throttle_rate_limit)" "$(var api_throttle_rate_limit)" "$(jq -r '.throttle.rateLimit' <<<"$plan")"
check_num "usage plan burst (var.api_throttle_burst_limit)" "$(var api_throttle_burst_limit)" "$(jq -r '.throttle.burstLimit' <<<"$plan")"
check_json "usage plan covers this API's stage" "$plan" "[.apiStages[] | select(.apiId == \"$api_id\" and .stage == \"$stage\")] | length == 1"
if key=$(awse apigateway get-api-key --api-key "$key_id" --include-value 2>&1); then
  check_eq "API key enabled" true "$(jq -r .enabled <<<"$key")"
  key_value=$(jq -r .value <<<"$key")
  check_true "API key value generated (20+ characters)" test "${#key_value}" -ge 20
  if [ "$(var api_key_store)" = ssm ]; then
    if p=$(awse ssm get-parameter --name "$parameter" --with-decryption 2>&1); then
      check_eq "SSM parameter $parameter is a SecureString" SecureString "$(jq -r .Parameter.Type <<<"$p")"
      # Compared, never printed.
      check_true "the parameter holds the API key's value" test "$(jq -r .Parameter.Value <<<"$p")" = "$key_value"
    else
      fail "SSM parameter $parameter exists" "$p"
    fi
  fi
  check_true "no output holds the API key's value" test "$(grep -c -F "$key_value" <<<"$outputs" || true)" = 0
else
  fail "API key $key_id exists" "$key"
fi

# ---------------------------------------------------------------------------------------------------
section "Enrichment consumer $consumer"
if fn=$(awse lambda get-function-configuration --function-name "$consumer" 2>&1); then
  check_eq "runtime (Rust custom runtime)" provided.al2023 "$(jq -r .Runtime <<<"$fn")"
  check_eq "architecture (Graviton)" '["arm64"]' "$(jq -c .Architectures <<<"$fn")"
  check_num "timeout (var.consumer_timeout_seconds)" "$(var consumer_timeout_seconds)" "$(jq -r .Timeout <<<"$fn")"
  envv() { jq -r --arg k "$1" '.Environment.Variables[$k] // empty' <<<"$fn"; }
  check_eq "FARE_API_URL is the API's resource URL (output api_url)" "$(out api_url)" "$(envv FARE_API_URL)"
  check_true "FARE_API_URL names the API and the stage" grep -q "^https://$api_id\.execute-api\..*/$stage/$resource_path\$" <<<"$(envv FARE_API_URL)"
  check_eq "API_KEY_PARAMETER is the key's parameter" "$parameter" "$(envv API_KEY_PARAMETER)"
  check_true "no environment variable holds the API key's value" test "$(jq -c .Environment <<<"$fn" | grep -c -F "${key_value:-none}" || true)" = 0
  check_num "SAMPLE_EVERY (var.sample_every)" "$(var sample_every)" "$(envv SAMPLE_EVERY)"
  check_num "MAX_IN_FLIGHT (var.max_in_flight)" "$(var max_in_flight)" "$(envv MAX_IN_FLIGHT)"
  check_num "CALL_TIMEOUT_MS (var.call_timeout_ms)" "$(var call_timeout_ms)" "$(envv CALL_TIMEOUT_MS)"
  check_num "MAX_ATTEMPTS (var.max_attempts)" "$(var max_attempts)" "$(envv MAX_ATTEMPTS)"
  check_num "RETRY_BUDGET_PERCENT (var.retry_budget_percent)" "$(var retry_budget_percent)" "$(envv RETRY_BUDGET_PERCENT)"
  check_eq "OUTPUT_BUCKET is the output bucket" "$bucket" "$(envv OUTPUT_BUCKET)"
  check_eq "OUTPUT_PREFIX (var.output_prefix)" "$output_prefix" "$(envv OUTPUT_PREFIX)"
  check_eq "ERROR_PREFIX (var.error_prefix)" "$error_prefix" "$(envv ERROR_PREFIX)"
  check_eq "WRITE_UNSAMPLED (var.write_unsampled)" "$(var write_unsampled)" "$(envv WRITE_UNSAMPLED)"
  tags=$(awse lambda list-tags --resource "$(out consumer_function_arn)" 2>/dev/null || echo '{}')
  check_eq "tag kstream:package (the binary kstream local runs)" enrichment-consumer "$(jq -r '.Tags["kstream:package"] // empty' <<<"$tags")"
else
  fail "function $consumer exists" "$fn"
fi
if doc=$(role_policy "$consumer-role" "$consumer-policy" 2>&1); then
  check_json "consumer role: no wildcard resource but X-Ray's" "$doc" \
    '[.Statement[] | select(.Sid != "XRayTraces") | .Resource | if type == "array" then .[] else . end | select(. == "*")] | length == 0'
  check_json "consumer role: s3:PutObject only, on its two prefixes only" "$doc" \
    "[.Statement[] | select([.Action | if type == \"array\" then .[] else . end] | any(startswith(\"s3:\")))] | length == 1 and .[0].Action == [\"s3:PutObject\"] and (.[0].Resource | sort) == ([\"$bucket_arn/$output_prefix*\", \"$bucket_arn/$error_prefix*\"] | sort)"
  check_json "consumer role: ssm:GetParameter on the key's parameter only" "$doc" \
    "[.Statement[] | select([.Action | if type == \"array\" then .[] else . end] | any(startswith(\"ssm:\")))] | length == 1 and .[0].Action == [\"ssm:GetParameter\"] and (.[0].Resource | if type == \"array\" then . else [.] end | length == 1 and (.[0] | endswith(\"parameter$parameter\")))"
  check_json "consumer role: execute-api:Invoke on GET /$resource_path of this API only" "$doc" \
    "[.Statement[] | select([.Action | if type == \"array\" then .[] else . end] | any(startswith(\"execute-api:\")))] | length == 1 and (.[0].Resource | if type == \"array\" then . else [.] end) == [\"$(out api_invoke_arn_for_get)\"]"
  check_true "the invoke ARN is this API's stage and method" grep -q ":$api_id/$stage/GET/$resource_path\$" <<<"$(out api_invoke_arn_for_get)"
else
  fail "consumer role policy exists" "$doc"
fi

if doc=$(role_policy "$consumer-role" "$(var name_prefix)-kinesis-consumer" 2>&1); then
  check_json "mapping permissions: kinesis read on this stream only" "$doc" \
    "[.Statement[] | select([.Action[]] | any(startswith(\"kinesis:\")))] | all(.Resource == [\"$stream_arn\"] or (.Resource[0] | startswith(\"$stream_arn/consumer/\")))"
  check_json "mapping permissions: sqs:SendMessage on the failure queue only" "$doc" \
    "[.Statement[] | select([.Action[]] | any(startswith(\"sqs:\")))] | length == 1 and .[0].Action == [\"sqs:SendMessage\"] and .[0].Resource == [\"$queue_arn\"]"
  check_json "mapping permissions: no wildcard resources" "$doc" "$no_wildcards"
else
  fail "mapping role policy exists" "$doc"
fi

# ---------------------------------------------------------------------------------------------------
section "Event source mapping $stream_name -> $consumer"
if esms=$(awse lambda list-event-source-mappings --function-name "$consumer" --event-source-arn "$stream_arn" 2>&1); then
  check_num "exactly one mapping from the stream" 1 "$(jq '.EventSourceMappings | length' <<<"$esms")"
  m() { jq -r ".EventSourceMappings[0]$1" <<<"$esms"; }
  check_eq "mapping UUID matches the output" "$(out event_source_mapping_uuid)" "$(m .UUID)"
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
if attrs=$(awse sqs get-queue-attributes --queue-url "$queue_url" --attribute-names All 2>&1); then
  check_eq "failure queue ARN matches the output" "$queue_arn" "$(jq -r .Attributes.QueueArn <<<"$attrs")"
  want_key=$(var failure_queue_kms_key_arn)
  check_eq "failure queue KMS encryption" "${want_key:-alias/aws/sqs}" "$(jq -r '.Attributes.KmsMasterKeyId // empty' <<<"$attrs")"
else
  fail "failure queue exists" "$attrs"
fi

# ---------------------------------------------------------------------------------------------------
section "Output bucket $bucket"
check_bucket_secure "$bucket" "$bucket_arn"

section "Glue tables"
database=$(out glue_database_name)
for entry in "$(out glue_table_name) $output_prefix dt,hr" "$(out glue_errors_table_name) $error_prefix dt"; do
  read -r name prefix keys <<<"$entry"
  if tbl=$(awse glue get-table --database-name "$database" --name "$name" 2>&1); then
    check_eq "$name: location" "s3://$bucket/$prefix" "$(jq -r .Table.StorageDescriptor.Location <<<"$tbl")"
    check_eq "$name: partition projection on (no crawler)" true "$(jq -r '.Table.Parameters["projection.enabled"]' <<<"$tbl")"
    check_eq "$name: partition keys" "$keys" "$(jq -r '[.Table.PartitionKeys[].Name] | join(",")' <<<"$tbl")"
  else
    fail "Glue table $name exists" "$tbl"
  fi
done

# ---------------------------------------------------------------------------------------------------
section "Alarms"
prefix=$(var name_prefix)
mine=$(awse cloudwatch describe-alarms --alarm-name-prefix "$prefix-" --max-records 100 | jq '[.MetricAlarms[]]')
check_eq "alarms in the emulator are those named by output alarm_names" \
  "$(out alarm_names | jq -r '[.[]] | sort | join(" ")')" "$(jq -r '[.[].AlarmName] | sort | join(" ")' <<<"$mine")"
for spec in "AWS/ApiGateway 4XXError" "AWS/ApiGateway 5XXError" "AWS/ApiGateway Latency" \
  "AWS/Lambda Errors $consumer" "AWS/Lambda IteratorAge $consumer" "AWS/Lambda Errors $fare_fn" \
  "AWS/SQS ApproximateNumberOfMessagesVisible" "$(var metrics_namespace) CallFailures $consumer" \
  "$(var metrics_namespace) ParseFailures $consumer" "$(var metrics_namespace) Throttles $consumer"; do
  read -r ns metric fn_dim <<<"$spec"
  check_json "alarm on $ns $metric${fn_dim:+ ($fn_dim)}" "$mine" \
    "[.[] | select(.Namespace == \"$ns\" and .MetricName == \"$metric\") | select(\"$fn_dim\" == \"\" or (.Dimensions | any(.Value == \"$fn_dim\")))] | length >= 1"
done
check_json "the API alarms name this API and stage" "$mine" \
  "[.[] | select(.Namespace == \"AWS/ApiGateway\")] | all(.Dimensions | any(.Name == \"ApiName\") and any(.Name == \"Stage\" and .Value == \"$stage\"))"
topic=$(out alarm_topic_arn)
if [ -n "$topic" ]; then
  check_json "every alarm notifies $topic" "$mine" "all(.[]; .AlarmActions | index(\"$topic\") != null)"
  check_topic_encrypted "$topic"
fi

dashboard=$(out dashboard_name)
section "Dashboard $dashboard"
if db=$(awse cloudwatch get-dashboard --dashboard-name "$dashboard" 2>&1); then
  body=$(jq -r .DashboardBody <<<"$db")
  pass "dashboard exists"
  check_json "the consumer's EMF call metrics are on it" "$body" \
    "[.. | arrays | select(length > 3 and .[0] == \"$(var metrics_namespace)\") | .[1]] | (index(\"CallLatency\") != null) and (index(\"Retries\") != null)"
  check_json "the API's metrics are on it" "$body" "[.. | arrays | select(length > 1 and .[0] == \"AWS/ApiGateway\")] | length > 0"
else
  fail "dashboard exists" "$db"
fi

# ---------------------------------------------------------------------------------------------------
section "Put a trip into the stream and read it back"
trip='{"type":"trip","trip_id":20,"pickup_datetime":"2018-01-01T00:03:12Z","dropoff_datetime":"2018-01-01T00:14:40Z","pickup_location_id":132,"dropoff_location_id":236,"total_amount":52.8}'
if put=$(awse kinesis put-record --stream-name "$stream_name" --partition-key smoke --data "$trip" 2>&1); then
  iterator=$(awse kinesis get-shard-iterator --stream-name "$stream_name" --shard-id "$(jq -r .ShardId <<<"$put")" \
    --shard-iterator-type AT_SEQUENCE_NUMBER --starting-sequence-number "$(jq -r .SequenceNumber <<<"$put")" --query ShardIterator --output text)
  got=$(awse kinesis get-records --shard-iterator "$iterator" --limit 1 | jq -r '.Records[0].Data // empty')
  check_eq "trip read back equals what was put" "$trip" "$(base64 -d <<<"$got" 2>/dev/null)"
else
  fail "put-record" "$put"
fi

smoke_summary "smoke-04 ($pattern)"
