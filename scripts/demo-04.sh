#!/usr/bin/env bash
# `make demo PATTERN=04-kds-enrichment-apigw`: pattern 4 (trip replay -> Kinesis -> enrichment consumer
# in Rust calling the fare API (API Gateway, IAM + API key, Lambda) -> S3) on the local emulator,
# moving data through `kstream local`.
#
# Steps:
#   emulator    start moto on 127.0.0.1:4566, or reuse the emulator already there
#   build       the functions for Lambda (make build: the zips Terraform deploys) and, for this
#               machine, enrichment-consumer, fare-api and kstream (what kstream local runs)
#   deploy      terraform apply of patterns/04-kds-enrichment-apigw to the emulator, with the
#               emulator-only bucket settings (no TLS-only policy over plain HTTP, force_destroy) and
#               the fare function's test-only fault mode at DEMO_FAULTS (default 10 % 503 and 5 %
#               429, so that the retries show; DEMO_FAULTS= turns it off)
#   data plane  `kstream local up` runs the consumer's mapping and serves the fare API (Lambda proxy,
#               AWS_IAM, API key and usage plan); `kstream replay` plays the committed trip sample
#               (data/taxi-trips-sample.json.gz) at DEMO_SPEEDUP (default 20000: six hours in about
#               a second) until every sampled trip is in S3
#   summary     sampled trips with their fares as read back from S3, the calls, retries and
#               throttles the consumer counted, and where every record landed
# Leaves the emulator running with the pattern deployed; `make emulator-stop` stops it.
# Safe to run again: the apply finds nothing to change; a replay writes the same trips again under
# new sequence numbers (new objects: the stream has them twice).
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
cd "$KSTREAM_ROOT"

pattern=04-kds-enrichment-apigw
faults=${DEMO_FAULTS-error_rate=0.1,throttle_rate=0.05}
speedup=${DEMO_SPEEDUP:-20000}
sample=data/taxi-trips-sample.json.gz
[[ "$speedup" =~ ^[1-9][0-9]*$ ]] || die "DEMO_SPEEDUP must be a positive integer (got '$speedup')"

kstream_require_venv
kstream_require_terraform
kstream_default_tf_mirror
kstream_emulator_env
export PATH="$KSTREAM_VENV/bin:$PATH"
mkdir -p "$KSTREAM_STATE_DIR"
strip() { sed 's/\x1b\[[0-9;]*m//g'; }

demo_start=$(date +%s)
step_times=()
run_step() {
  local name=$1 t0
  t0=$(date +%s)
  "step_$name"
  step_times+=("$name $(($(date +%s) - t0))s")
}

step_emulator() { scripts/emulator.sh start; }

step_build() {
  log "building the functions for Lambda (arm64): make build"
  make --no-print-directory -s build
  log "building enrichment-consumer, fare-api and kstream for this machine (the tests' build)"
  kstream_build
  bin=target/debug
}

step_deploy() {
  local logf=$KSTREAM_STATE_DIR/demo-04-apply.log fault_var=()
  [ -z "$faults" ] || fault_var=(-var "fare_api_faults=$faults")
  log "applying patterns/$pattern to the emulator (fare API faults: ${faults:-off}; terraform log: ${logf#"$KSTREAM_ROOT"/})"
  # Emulator-only settings, as in the end-to-end test: moto refuses object writes under the bucket's
  # TLS-only policy (plain HTTP here), and force_destroy lets `make emulator-destroy` empty the bucket.
  if ! scripts/local-apply.sh apply "$pattern" -var bucket_tls_only_policy=false -var force_destroy=true \
    "${fault_var[@]}" >"$logf"; then
    # local-apply.sh has said why on stderr (one message when the names are taken).
    die "terraform apply failed (full log: $logf)"
  fi
  grep -E '^(Apply complete|No changes)' "$logf" | sed 's/^/    /' >&2 || true
  outputs=$(scripts/local-apply.sh output "$pattern")
}

out() { jq -r --arg k "$1" '.[$k].value // empty | if type == "string" then . else tojson end' <<<"$outputs"; }

# Enriched rows in S3 written since this run's start: one JSON per line, "_key" added.
rows() {
  "$KSTREAM_VENV/bin/python3" - "$bucket" "$rows_prefix" "$since" <<'PY'
import json, sys, boto3
bucket, prefix, since = sys.argv[1], sys.argv[2], float(sys.argv[3])
s3 = boto3.client("s3")
for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
    for o in page.get("Contents", []):
        if o["LastModified"].timestamp() + 1 < since:
            continue
        for line in s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read().decode().splitlines():
            print(json.dumps(dict(json.loads(line), _key=o["Key"])))
PY
}

step_data_plane() {
  local prefix
  state_dir=$KSTREAM_STATE_DIR/local
  stream=$(out stream_name)
  bucket=$(out bucket_name)
  rows_prefix=$(out output_prefix)
  consumer=$(out consumer_function_name)
  mkdir -p "$state_dir"
  # A data plane left running by an earlier demo is stopped first (it read an older deployment).
  if [ -f "$state_dir/status.json" ] && [ "$(jq -r .state "$state_dir/status.json")" = running ]; then
    local old
    old=$(jq -r .pid "$state_dir/status.json")
    kill -INT "$old" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$old" 2>/dev/null || break; sleep 0.2; done
  fi
  prefix=${stream%-stream}-
  log "starting kstream local up for ${prefix}* (log: ${state_dir#"$KSTREAM_ROOT"/}/up.log)"
  "$bin/kstream" local up --state-dir "$state_dir" --functions-dir "$bin" --no-status-line \
    --name-prefix "$prefix" >"$state_dir/up.log" 2>&1 &
  up_pid=$!
  # shellcheck disable=SC2064 # the pid is known now
  trap "kill -INT $up_pid 2>/dev/null || true; wait $up_pid 2>/dev/null || true" EXIT
  for _ in $(seq 1 100); do
    [ -f "$state_dir/status.json" ] && [ "$(jq -r .pid "$state_dir/status.json")" = "$up_pid" ] && break
    kill -0 "$up_pid" 2>/dev/null || { cat "$state_dir/up.log" >&2; die "kstream local up exited"; }
    sleep 0.2
  done
  consumer_log=$state_dir/logs/$consumer.log
  log_lines_before=0
  [ ! -f "$consumer_log" ] || log_lines_before=$(wc -l <"$consumer_log")

  since=$(date +%s)
  log "kstream replay: $sample at speedup $speedup into $stream"
  "$bin/kstream" replay --stream "$stream" --speedup "$speedup" "$sample" >"$state_dir/replay.log" 2>&1 ||
    { cat "$state_dir/replay.log" >&2; die "kstream replay failed"; }
  sampled_want=$(gzip -dc "$sample" | jq -s '[.[] | select(.trip_id % 20 == 0)] | length')
  log "waiting for the $sampled_want sampled trips in s3://$bucket/$rows_prefix"
  local deadline got=0
  deadline=$(($(date +%s) + 180))
  while [ "$(date +%s)" -lt "$deadline" ]; do
    got=$(rows | jq -s '[.[] | select(.sampled)] | length')
    [ "$got" -ge "$sampled_want" ] && break
    sleep 2
  done
  [ "$got" -ge "$sampled_want" ] ||
    die "only $got of $sampled_want sampled trips reached S3 in time (see ${state_dir#"$KSTREAM_ROOT"/}/up.log and logs/$consumer.log)"
  "$bin/kstream" local status --state-dir "$state_dir" | strip | sed 's/^/    /' >&2
}

metric_sum() { tail -n +"$((log_lines_before + 1))" "$consumer_log" | jq -Rn --arg m "$1" '[inputs | fromjson? | select(has("_aws")) | .[$m] // 0] | add // 0'; }

step_summary() {
  local esm all
  esm=$(awse lambda list-event-source-mappings --function-name "$consumer" --query 'EventSourceMappings[0]')
  all=$(rows | jq -s .)
  printf '\n%skstream demo: pattern %s on the local emulator (%s at %s)%s\n\n' "$_k_bold" "$pattern" \
    "$(kstream_emulator_kind "$AWS_ENDPOINT_URL")" "$AWS_ENDPOINT_URL" "$_k_reset"
  printf '  %-15s %s\n' \
    "Stream" "$stream" \
    "Fare API" "$(out api_url) (AWS_IAM + API key; key in SSM $(out api_key_parameter_name))" \
    "Consumer" "$consumer" \
    "Mapping" "$(jq -r '"batch \(.BatchSize), retries \(.MaximumRetryAttempts), bisect \(.BisectBatchOnFunctionError), \(.FunctionResponseTypes | join(","))"' <<<"$esm")" \
    "Output" "s3://$bucket/$rows_prefix" \
    "Dashboard" "$(out dashboard_name)"

  printf '\n%sSampled trips with their fares%s, as read back from S3 (1 in 20 by ride_request_id)\n' "$_k_bold" "$_k_reset"
  printf '  %-10s %-21s %6s %6s %9s %13s  %s\n' "trip_id" "pickup" "from" "to" "total" "expected_fare" "object"
  jq -r '[.[] | select(.sampled)] | sort_by(.trip_id) | .[:12][] | [.trip_id, .pickup_datetime, .pickup_location_id, .dropoff_location_id, .total_amount, (.expected_fare * 100 | round / 100), ._key] | @tsv' <<<"$all" |
    while IFS=$'\t' read -r id pu from to total fare key; do
      printf '  %-10s %-21s %6s %6s %9s %13s  %s\n' "$id" "$pu" "$from" "$to" "$total" "$fare" "$key"
    done

  printf '\n%sCalls to the fare API%s (the consumer'"'"'s EMF metrics)\n' "$_k_bold" "$_k_reset"
  printf '  %-12s %s\n' "calls" "$(metric_sum Calls)" "retries" "$(metric_sum Retries)" \
    "throttles" "$(metric_sum Throttles) (429s: usage plan or injected)" "failures" "$(metric_sum CallFailures)"

  printf '\n%sWhere each record landed%s\n' "$_k_bold" "$_k_reset"
  printf '  %-34s %s\n' \
    "s3://$bucket/$rows_prefix" "$(jq '[.[] | select(.sampled)] | length' <<<"$all") sampled trips with a fare, in $(jq '[.[]._key] | unique | length' <<<"$all") objects" \
    "skipped (watermarks, controls)" "$(metric_sum Skipped)" \
    "s3://$bucket/$(out error_prefix)" "$(metric_sum ParseFailures) records that could not be parsed" \
    "failure queue" "$(awse sqs get-queue-attributes --queue-url "$(out failure_queue_url)" --attribute-names ApproximateNumberOfMessages --query Attributes.ApproximateNumberOfMessages --output text) batches given up (this run and earlier ones)" \
    "unsampled trips" "$(($(metric_sum Trips) - $(metric_sum Sampled))) (not written: write_unsampled = false)"

  kill -INT "$up_pid" 2>/dev/null || true
  wait "$up_pid" 2>/dev/null || true
  trap - EXIT
  local times
  times=$(printf '%s, ' "${step_times[@]}")
  printf '\nSteps: %s; total %ss\n' "${times%, }" "$(($(date +%s) - demo_start))"
}

outputs='{}'
for step in emulator build deploy data_plane; do
  run_step "$step"
done
step_summary
