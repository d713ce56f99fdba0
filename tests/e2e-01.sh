#!/usr/bin/env bash
# End to end, pattern 1 through `kstream local`: the same Terraform as for AWS applied to the emulator,
# the real kds-consumer binary (built for this machine) run by the local data plane.
#
#   1. apply patterns/01-apigw-kds-lambda under a unique prefix with maximum_retry_attempts=1
#   2. start `kstream local up` (REST API executor on a free port, mappings, function host)
#   3. through the API, with a Cognito token from the emulator's user pool:
#      - good records (POST /record and POST /records) reach the consumer;
#      - a poison record ({"poison": true}, kds-consumer's convention) lands in the failure queue with
#        its metadata (shard, start = end = its sequence number, batch size 1, stream ARN, invoke count 2);
#      - malformed requests get API Gateway's answers (400 Invalid request body, 403, 401);
#   4. change maximum_retry_attempts to 3 in the Terraform variables, re-apply, restart the data plane:
#      the next poison record is invoked 4 times before its metadata reaches the queue;
#   5. Ctrl-C (SIGINT) stops it cleanly; the restart read nothing twice;
#   6. the redrive workflow on (Step Functions state machine and the redrive function, applied to
#      the emulator): a new poison record's metadata in the failure queue; the redrive function,
#      invoked through kstream local's Lambda endpoint (status.json "lambda") in invoke mode, reads
#      the range back and invokes the consumer (GetFunctionConfiguration passed to the emulator),
#      which fails it again: the message stays;
#   7. the fault run (scripts/soak.sh --deployed, tests/soak/README.md) with 10,000 records on this
#      deployment, re-applied with batch_size=100 and parallelization_factor=10 as `make soak` does:
#      1 % poison, the function killed mid-batch, PutRecords throttled and 5xx'd, an outage, a
#      data-plane restart; every record processed or in the failure queue's ranges; destroy.
#
# Needs the emulator (started if none answers) and the venv. Prints "ok"/"FAIL" lines; exits 1 on failure.
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
. "$(dirname "$0")/../scripts/lib/common.sh"
cd "$KSTREAM_ROOT"

# shellcheck source=scripts/lib/e2e.sh
. scripts/lib/e2e.sh
e2e_init 01-apigw-kds-lambda kse

e2e_build kds-consumer

# apply <maximum_retry_attempts> [more -var ...]
apply() {
  if ! scripts/local-apply.sh apply "$pattern" -var "name_prefix=$prefix" -var "consumer_package_path=$zip" \
    -var "maximum_retry_attempts=$1" -var "batch_size=10" "${@:2}" >"$work/apply-$1.log" 2>&1; then
    tail -n 30 "$work/apply-$1.log" >&2
    die "terraform apply failed (log: $work/apply-$1.log)"
  fi
  outputs=$(scripts/local-apply.sh output "$pattern")
}
out() { jq -r --arg k "$1" '.[$k].value // empty' <<<"$outputs"; }

start_up() {
  e2e_up --api-port 0
  api=$(jq -r '.api' "$state_dir/status.json")
  base=http://$api/restapis/$api_id/$stage/_user_request_
}

log "applying patterns/$pattern (prefix $prefix, maximum_retry_attempts=1)"
apply 1
api_id=$(out rest_api_id)
stage=$(out api_stage_name)
queue_url=$(out failure_queue_url)
stream_arn=$(out stream_arn)
fn=$(out consumer_function_name)
pool=$(out user_pool_id)
client=$(out user_pool_client_id)

# A user of the pattern's pool, and a token for it from the emulator's Cognito.
user=e2e-$id@example.com
password="E2e!$id-Passw0rd"
awse cognito-idp admin-create-user --user-pool-id "$pool" --username "$user" --message-action SUPPRESS \
  --user-attributes Name=email,Value="$user" Name=given_name,Value=E2E >/dev/null
awse cognito-idp admin-set-user-password --user-pool-id "$pool" --username "$user" --password "$password" --permanent
token=$(awse cognito-idp admin-initiate-auth --user-pool-id "$pool" --client-id "$client" \
  --auth-flow ADMIN_USER_PASSWORD_AUTH --auth-parameters USERNAME="$user",PASSWORD="$password" \
  --query AuthenticationResult.IdToken --output text)

start_up
pass "kstream local up serves the API on $api and polls the stream"

post() { # post <path> <json> [auth header] -> prints "<status> <body>"
  local auth=${3-"Authorization: $token"}
  curl -s -o "$work/body" -w '%{http_code}' -X POST "$base$1" -H 'Content-Type: application/json' ${auth:+-H "$auth"} -d "$2"
  printf ' %s' "$(jq -c . "$work/body" 2>/dev/null || tr -d '\n' <"$work/body")"
}

# Good records.
r=$(post /record '{"data":"{\"order_id\":\"o-1\",\"amount\":12.5}","partitionKey":"customer-1"}')
check "POST /record puts a good record: $r" grep -q '^200 .*SequenceNumber' <<<"$r"
r=$(post /records '{"records":[{"data":"{\"order_id\":\"o-2\"}","partitionKey":"customer-2"},{"data":"{\"order_id\":\"o-3\"}","partitionKey":"customer-3"}]}')
check "POST /records puts two good records: $r" grep -q '^200 .*"FailedRecordCount":0' <<<"$r"

# Bad requests get API Gateway's answers.
r=$(post /record '{"data":"x"}')
check "a body without partitionKey: 400 Invalid request body ($r)" grep -q '^400 .*Invalid request body' <<<"$r"
r=$(post /record 'not json')
check "a body that is not JSON: 400 ($r)" grep -q '^400 ' <<<"$r"
r=$(post /nope '{"data":"x","partitionKey":"k"}')
check "an unknown resource: 403 Missing Authentication Token ($r)" grep -q '^403 .*Missing Authentication Token' <<<"$r"
r=$(post /record '{"data":"x","partitionKey":"k"}' "")
check "no token: 401 Unauthorized ($r)" grep -q '^401 .*Unauthorized' <<<"$r"

# A malformed record (valid request, data not JSON) and a poison record: both fail in the consumer.
r=$(post /record '{"data":"{\"order_id\":\"o-4\",\"poison\":true}","partitionKey":"customer-4"}')
poison_seq=$(sed 's/^200 //' <<<"$r" | jq -r .SequenceNumber)
poison_shard=$(sed 's/^200 //' <<<"$r" | jq -r .ShardId)
check "POST /record accepts the poison record ($poison_shard $poison_seq)" test -n "$poison_seq"

wait_messages() { # wait_messages <n> -> the bodies, one JSON per line
  local deadline=$(($(date +%s) + 60)) got=()
  while [ ${#got[@]} -lt "$1" ] && [ "$(date +%s)" -lt "$deadline" ]; do
    local page
    page=$(awse sqs receive-message --queue-url "$queue_url" --max-number-of-messages 10 --wait-time-seconds 1)
    while IFS= read -r m; do
      [ -n "$m" ] || continue
      got+=("$(jq -r .Body <<<"$m")")
      awse sqs delete-message --queue-url "$queue_url" --receipt-handle "$(jq -r .ReceiptHandle <<<"$m")"
    done < <(jq -c '.Messages // [] | .[]' <<<"$page")
  done
  printf '%s\n' "${got[@]}"
}

msg=$(wait_messages 1 | head -n 1)
check "the poison record's metadata reaches the failure queue" test -n "$msg"
if [ -n "$msg" ]; then
  printf '    %s\n' "$msg"
  check "KinesisBatchInfo names the poison record alone (shard, start = end, batch size 1, stream)" jqt \
    --arg s "$poison_seq" --arg sh "$poison_shard" --arg arn "$stream_arn" \
    '.KinesisBatchInfo | .shardId == $sh and .startSequenceNumber == $s and .endSequenceNumber == $s and .batchSize == 1 and .streamArn == $arn' <<<"$msg"
  check "condition RetryAttemptsExhausted after 1 + 1 retry invocations" jqt \
    '.requestContext.condition == "RetryAttemptsExhausted" and .requestContext.approximateInvokeCount == 2' <<<"$msg"
  check "the function ARN is the deployed consumer's" jqt --arg fn "$fn" '.requestContext.functionArn | endswith(":function:" + $fn)' <<<"$msg"
fi

# The consumer processed the good records (its log: one span per record with the sequence number).
log_file=$state_dir/logs/$fn.log
sleep 1
processed=$(jq -Rn '[inputs | fromjson? | select(.fields.message == "batch processed") | .fields.user_records] | add // 0' "$log_file")
check "the consumer processed the three good records (user records in its JSON log: $processed)" test "$processed" -ge 3
check "the consumer's log shows the poison failure" grep -qi "poison" "$log_file"
status_out=$("$bin/kstream" local status --state-dir "$state_dir")
printf '%s\n' "$status_out" | sed 's/^/    /'
check "kstream local status reports it running" grep -q "running (pid $up_pid)" <<<"$status_out"
uuid=$(out event_source_mapping_uuid)
polled() { jq --arg u "$uuid" '.mappings[] | select(.uuid == $u) | .recordsPolled' "$state_dir/status.json"; }
polled_before=$(polled)

check "Ctrl-C stops kstream local up cleanly" e2e_down
check "the status file says stopped" test "$(jq -r .state "$state_dir/status.json")" = stopped

# The retry count, changed in the Terraform variables, is observed.
log "re-applying with maximum_retry_attempts=3"
apply 3
check "the emulator's mapping now has MaximumRetryAttempts 3" test \
  "$(awse lambda get-event-source-mapping --uuid "$uuid" --query MaximumRetryAttempts)" = 3
start_up
r=$(post /record '{"data":"{\"order_id\":\"o-5\",\"poison\":true}","partitionKey":"customer-5"}')
poison2=$(sed 's/^200 //' <<<"$r" | jq -r .SequenceNumber)
# The message for this record (a message of the first run that the emulator hands out again is skipped).
msg=""
for _ in 1 2 3; do
  m=$(wait_messages 1 | head -n 1)
  if jq -e --arg s "$poison2" '.KinesisBatchInfo.startSequenceNumber == $s' <<<"$m" >/dev/null 2>&1; then
    msg=$m
    break
  fi
  [ -z "$m" ] || printf '    skipped a message for another batch: %s\n' "$m"
done
printf '    %s\n' "$msg"
check "after the change, the poison record is invoked 1 + 3 times before the queue" jqt --arg s "$poison2" \
  '.requestContext.approximateInvokeCount == 4 and .KinesisBatchInfo.startSequenceNumber == $s' <<<"$msg"
sleep 1
polled_after=$(polled)
check "the restart read only the new record (checkpoints kept: polled $polled_after after $polled_before)" test "$polled_after" = 1
check "Ctrl-C stops it again" e2e_down

# The redrive workflow on, its function invoked through kstream local's Lambda endpoint in
# invoke mode: it reads the failure queue, GetFunctionConfiguration of the consumer (passed to
# the emulator), the range back from the stream, and invokes the consumer (run here) with it.
log "re-applying with redrive_workflow enabled (mode invoke)"
apply 3 -var "redrive_workflow={enabled=true, package_path=\"$zip\"}"
redrive_fn=$(out redrive_function_name)
check "the redrive state machine is deployed" test -n "$(awse stepfunctions describe-state-machine \
  --state-machine-arn "$(out redrive_state_machine_arn)" --query name --output text)"
start_up
lambda=$(jq -r '.lambda' "$state_dir/status.json")
check "kstream local up runs the redrive function" jqt --arg f "$redrive_fn" '.functions | index($f) != null' \
  <"$state_dir/status.json"
r=$(post /record '{"data":"{\"order_id\":\"o-6\",\"poison\":true}","partitionKey":"customer-6"}')
poison3=$(sed 's/^200 //' <<<"$r" | jq -r .SequenceNumber)
queued() { awse sqs get-queue-attributes --queue-url "$queue_url" --attribute-names ApproximateNumberOfMessages \
  --query Attributes.ApproximateNumberOfMessages --output text; }
for _ in $(seq 60); do [ "$(queued)" -ge 1 ] && break; sleep 1; done
# The consumer's failure lines for the poison record (its span names the sequence number).
invocations() { grep -c "record failed.*\"sequence_number\":\"$poison3\"" "$state_dir/logs/$fn.log" || true; }
before=$(invocations)
event=$(jq -nc --arg q "$queue_url" --arg f "$fn" '{queue_url: $q, mode: "invoke", function_name: $f}')
aws --endpoint-url "http://$lambda" --output json lambda invoke --function-name "$redrive_fn" \
  --payload "$event" "$work/redrive.json" >"$work/redrive-invoke.json"
printf '    %s\n' "$(cat "$work/redrive.json")"
check "the redrive function ran (no function error)" jqt '.FunctionError == null' <"$work/redrive-invoke.json"
check "it handled the failure queue in invoke mode: the poison range failed again and stays queued" \
  jqt '.messages >= 1 and .failed >= 1 and .left >= 1' <"$work/redrive.json"
check "the consumer was invoked again with the poison record (failed $before times by the mapping, $(invocations) after)" \
  test "$before/$(invocations)" = 4/5
check "the message is still in the queue" test "$(queued)" -ge 1
check "Ctrl-C stops it" e2e_down

# The fault run, 10,000 records, on this deployment with make soak's mapping settings.
log "re-applying with batch_size=100 parallelization_factor=10 for the fault run"
apply 3 -var batch_size=100 -var parallelization_factor=10
check "10,000 records through faults, none lost (scripts/soak.sh)" scripts/soak.sh --deployed "$pattern" \
  --prefix "$prefix" --state-dir "$state_dir" --work "$work/soak"

if [ "$failures" -gt 0 ]; then
  printf '%d check(s) failed; logs in %s\n' "$failures" "${work#"$KSTREAM_ROOT"/}"
  exit 1
fi
log "pattern 1 end to end: all checks passed"
