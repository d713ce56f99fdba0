#!/usr/bin/env bash
# `make demo`: pattern 1 (API Gateway -> Kinesis -> Rust Lambda, failures to SQS) on the local emulator.
#
# Steps (each a function below, run in order; `make demo` runs `make venv` first):
#   emulator    start moto on 127.0.0.1:4566, or reuse the emulator already there
#   build       cargo lambda build --release --arm64 --output-format zip (make build)
#   deploy      terraform apply of patterns/01-apigw-kds-lambda to the emulator (scripts/local-apply.sh)
#   produce     put a few JSON records into the stream with the aws CLI, read them back from their shards
#   data_plane  API -> stream -> function -> failure queue: scripts/demo-data-plane.sh when it exists
#               (the local data plane, `kstream local`); otherwise a note on what it will show
#   summary     what was deployed and where the records landed
# Leaves the emulator running with the pattern deployed; `make emulator-stop` stops it.
# Safe to run again: the apply finds nothing to change, and new records are added.
#
#   DEMO_RECORDS=<n>   how many records to put (default 5)
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
cd "$KSTREAM_ROOT"

pattern=01-apigw-kds-lambda
records=${DEMO_RECORDS:-5}
if ! [[ "$records" =~ ^[1-9][0-9]*$ ]] || [ "$records" -gt 500 ]; then
  die "DEMO_RECORDS must be 1..500 (got '$records')"
fi

kstream_require_venv
kstream_require_terraform
kstream_default_tf_mirror
kstream_emulator_env
mkdir -p "$KSTREAM_STATE_DIR"

demo_start=$(date +%s)
step_times=()
run_step() {
  local name=$1 t0
  t0=$(date +%s)
  "step_$name"
  step_times+=("$name $(($(date +%s) - t0))s")
}

step_emulator() {
  scripts/emulator.sh start
}

step_build() {
  log "building the functions for Lambda (arm64): make build"
  make --no-print-directory -s build
}

step_deploy() {
  local logf=$KSTREAM_STATE_DIR/demo-apply.log
  log "applying patterns/$pattern to the emulator (terraform log: ${logf#"$KSTREAM_ROOT"/})"
  if ! scripts/local-apply.sh apply "$pattern" >"$logf"; then
    # local-apply.sh has said why on stderr (one message when the names are taken).
    die "terraform apply failed (full log: $logf)"
  fi
  grep -E '^(Apply complete|No changes)' "$logf" | sed 's/^/    /' >&2 || true
  outputs=$(scripts/local-apply.sh output "$pattern")
}

out() { jq -r --arg k "$1" '.[$k].value // empty | if type == "string" then . else tojson end' <<<"$outputs"; }

step_produce() {
  local stream batch
  stream=$(out stream_name)
  batch=$(jq -cn --argjson n "$records" --arg run "$(date -u +%Y-%m-%dT%H:%M:%SZ)" '
    [range(1; $n + 1) as $i | {
      Data: ({order_id: "order-\($i)", customer: "customer-\($i % 3 + 1)", amount: ($i * 1250 / 100),
              currency: "EUR", created_at: $run} | tojson),
      PartitionKey: "order-\($i)"
    }]')
  log "putting $records JSON records into $stream (aws kinesis put-records)"
  put=$(awse kinesis put-records --stream-name "$stream" --records "$batch")
  [ "$(jq .FailedRecordCount <<<"$put")" = 0 ] || die "put-records: $(jq -c '[.Records[] | select(.ErrorCode)]' <<<"$put")"
  # Read the records back: per shard, from the first of ours (AT_SEQUENCE_NUMBER), until all are seen.
  local joined shard first want page it got
  joined=$(jq -c --argjson b "$batch" '[.Records | to_entries[] | {shard: .value.ShardId, seq: .value.SequenceNumber,
    key: $b[.key].PartitionKey, data: $b[.key].Data}]' <<<"$put")
  read_back='[]'
  for shard in $(jq -r '[.[].shard] | unique[]' <<<"$joined"); do
    # Sequence numbers are decimal strings of up to 128 bits: order by length, then text.
    first=$(jq -r --arg s "$shard" '[.[] | select(.shard == $s) | .seq] | sort_by(length, .) | first' <<<"$joined")
    want=$(jq --arg s "$shard" '[.[] | select(.shard == $s)] | length' <<<"$joined")
    it=$(awse kinesis get-shard-iterator --stream-name "$stream" --shard-id "$shard" \
      --shard-iterator-type AT_SEQUENCE_NUMBER --starting-sequence-number "$first" --query ShardIterator --output text)
    got='[]'
    for _ in $(seq 1 10); do
      page=$(awse kinesis get-records --shard-iterator "$it" --limit 1000)
      got=$(jq -c --argjson g "$got" --arg s "$shard" '$g + [.Records[] | {shard: $s, seq: .SequenceNumber, data: (.Data | @base64d)}]' <<<"$page")
      [ "$(jq length <<<"$got")" -ge "$want" ] && break
      it=$(jq -r '.NextShardIterator // empty' <<<"$page")
      [ -n "$it" ] || break
    done
    read_back=$(jq -c --argjson g "$got" '. + $g' <<<"$read_back")
  done
  # Every record put must read back byte for byte.
  local mismatches
  mismatches=$(jq -r --argjson r "$read_back" '.[] | . as $p | ($r | map(select(.shard == $p.shard and .seq == $p.seq)) | first) as $g
    | select($g == null or $g.data != $p.data) | "\($p.shard) \($p.seq): put \($p.data), read \($g.data // "nothing")"' <<<"$joined")
  [ -z "$mismatches" ] || die "records did not read back as put: $mismatches"
  mapfile -t landed < <(jq -r '.[] | [.shard, .seq, .key, .data] | @tsv' <<<"$joined")
}

# The local data plane (issue: `kstream local`) moves data API -> stream -> function -> failure queue.
# When scripts/demo-data-plane.sh exists it runs here, with the outputs in KSTREAM_DEMO_OUTPUTS.
step_data_plane() {
  if [ -x scripts/demo-data-plane.sh ]; then
    KSTREAM_DEMO_OUTPUTS=$outputs scripts/demo-data-plane.sh
  else
    data_plane_note=yes
  fi
}

step_summary() {
  local stream fn queue_url api_id stage summary cfg esm alarms_total topic
  stream=$(out stream_name)
  fn=$(out consumer_function_name)
  queue_url=$(out failure_queue_url)
  api_id=$(out rest_api_id)
  stage=$(out api_stage_name)
  summary=$(awse kinesis describe-stream-summary --stream-name "$stream" --query StreamDescriptionSummary)
  cfg=$(awse lambda get-function-configuration --function-name "$fn")
  esm=$(awse lambda list-event-source-mappings --function-name "$fn" --query 'EventSourceMappings[0]')
  alarms_total=$(jq 'length' <<<"$(out alarm_names)")
  topic=$(out alarm_topic_arn)
  local resources
  resources=$(awse apigateway get-resources --rest-api-id "$api_id" --query 'items[?resourceMethods].path' --output text | tr '\t' '\n' | sort | tr '\n' ' ')
  resources=${resources% }

  printf '\n%skstream demo: pattern %s on the local emulator (%s at %s)%s\n\n' "$_k_bold" "$pattern" \
    "$(kstream_emulator_kind "$AWS_ENDPOINT_URL")" "$AWS_ENDPOINT_URL" "$_k_reset"
  printf '%sDeployed%s (terraform state: %s)\n' "$_k_bold" "$_k_reset" "$(scripts/local-apply.sh state-dir "$pattern" | sed "s#^$KSTREAM_ROOT/##")"
  printf '  %-15s %s\n' \
    "REST API" "$(out api_endpoint)" \
    "" "POST ${resources// / and POST }, auth $(out authorization), stage $stage" \
    "Stream" "$stream" \
    "" "$(jq -r '.StreamARN' <<<"$summary")" \
    "" "$(jq -r '"\(.OpenShardCount) shards, \(.StreamModeDetails.StreamMode | ascii_downcase), \(.RetentionPeriodHours) h retention, \(.EncryptionType) (\(.KeyId))"' <<<"$summary")" \
    "Consumer" "$fn" \
    "" "$(jq -r '"\(.Runtime), \(.Architectures | join(",")), \(.MemorySize) MB, timeout \(.Timeout) s, \(.CodeSize) byte package"' <<<"$cfg")" \
    "Mapping" "$(jq -r '"batch \(.BatchSize), parallelization \(.ParallelizationFactor), retries \(.MaximumRetryAttempts), bisect \(.BisectBatchOnFunctionError), max age \(.MaximumRecordAgeInSeconds) s"' <<<"$esm")" \
    "" "$(jq -r '"from \(.StartingPosition), \(.FunctionResponseTypes | join(",")), on failure -> \(.DestinationConfig.OnFailure.Destination | split(":") | last)"' <<<"$esm")" \
    "Failure queue" "$queue_url" \
    "" "$(awse sqs get-queue-attributes --queue-url "$queue_url" --attribute-names ApproximateNumberOfMessages --query Attributes.ApproximateNumberOfMessages --output text) message(s): batches given up, kept for kstream redrive" \
    "Alarms" "$alarms_total CloudWatch alarms${topic:+, notifying $topic}" \
    "Dashboard" "$(out dashboard_name)"

  printf '\n%sRecords%s put with aws kinesis put-records, read back from their shards with get-records\n' "$_k_bold" "$_k_reset"
  printf '  %-22s %-10s %-12s %s\n' "shard" "sequence" "partition key" "data"
  local line shard seq key data
  for line in "${landed[@]}"; do
    IFS=$'\t' read -r shard seq key data <<<"$line"
    printf '  %-22s %-10s %-12s %s\n' "$shard" "$seq" "$key" "$data"
  done

  if [ -n "${data_plane_note:-}" ]; then
    printf '\n%sNot yet shown%s: the emulator stores what was deployed but moves no data between services.\n' "$_k_bold" "$_k_reset"
    printf '  Sending records through the API, the Rust consumer processing them and poison records reaching\n'
    printf '  the failure queue come with the local data plane (kstream local).\n'
  fi

  printf '\n%sTry it%s\n' "$_k_bold" "$_k_reset"
  # shellcheck disable=SC2016 # printed for the user to run
  printf '  eval "$(scripts/emulator.sh env)"      # AWS_ENDPOINT_URL and test credentials for this shell\n'
  # shellcheck disable=SC2016
  printf '  aws --endpoint-url "$AWS_ENDPOINT_URL" kinesis list-shards --stream-name %s\n' "$stream"
  printf '  scripts/smoke-01.sh                    # the smoke checks of make test, on this deployment\n'
  printf '  make emulator-destroy                  # remove the deployment; make emulator-stop stops the emulator\n'
  printf '\n%sRecover the failed records%s: the failure queue holds only where they are in the stream;\n' "$_k_bold" "$_k_reset"
  printf '  redrive reads them back while the stream retains them (%s h), and deletes a message once handled\n' \
    "$(jq -r .RetentionPeriodHours <<<"$summary")"
  printf '  target/debug/kstream redrive --queue %s --to-file failed-records.jsonl\n' "$queue_url"
  printf '  (or --reput to put them into %s again, or --invoke %s --local --functions-dir target/debug)\n' "$stream" "$fn"
  local times
  times=$(printf '%s, ' "${step_times[@]}")
  printf '\nSteps: %s; total %ss\n' "${times%, }" "$(($(date +%s) - demo_start))"
}

outputs='{}'
landed=()
data_plane_note=""
for step in emulator build deploy produce data_plane; do
  run_step "$step"
done
step_summary
