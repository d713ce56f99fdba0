#!/usr/bin/env bash
# `make demo PATTERN=02-kpl-kds-analytics`: pattern 2 (KPL producer -> Kinesis -> windowed analytics in
# Rust -> S3) on the local emulator, moving data through `kstream local`.
#
# Steps:
#   emulator    start moto on 127.0.0.1:4566, or reuse the emulator already there
#   build       the functions for Lambda (make build: the zips Terraform deploys) and, for this
#               machine, stream-analytics, scheduled-producer and kstream (what kstream local runs)
#   deploy      terraform apply of patterns/02-kpl-kds-analytics to the emulator, with a
#               DEMO_WINDOW-second tumbling window (default 20; the pattern's default is 60) and
#               the emulator-only bucket settings (no TLS-only policy over plain HTTP, force_destroy)
#   data plane  `kstream local up` runs the windowed mapping and the producer's EventBridge schedule;
#               `kstream produce` puts 100 ticker records/s, KPL-aggregated, until two windows of
#               every shard have closed (their aggregates are in S3)
#   summary     what was deployed; the aggregates and a few filtered rows as read back from S3, with
#               their keys; the Glue tables' locations, and an Athena query to run on AWS
# Leaves the emulator running with the pattern deployed; `make emulator-stop` stops it.
# Safe to run again: the apply finds nothing to change, new records make new windows.
#
#   DEMO_WINDOW=<s>    tumbling window in seconds (5..900, default 20)
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
cd "$KSTREAM_ROOT"

pattern=02-kpl-kds-analytics
window=${DEMO_WINDOW:-20}
if ! [[ "$window" =~ ^[1-9][0-9]*$ ]] || [ "$window" -lt 5 ] || [ "$window" -gt 900 ]; then
  die "DEMO_WINDOW must be 5..900 seconds (got '$window')"
fi

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
  log "building stream-analytics, scheduled-producer and kstream for this machine (the tests' build)"
  kstream_build
  bin=target/debug
}

step_deploy() {
  local logf=$KSTREAM_STATE_DIR/demo-02-apply.log
  log "applying patterns/$pattern to the emulator, $window s windows (terraform log: ${logf#"$KSTREAM_ROOT"/})"
  # Emulator-only settings, as in the end-to-end test: moto refuses object writes under the bucket's
  # TLS-only policy (plain HTTP here), and force_destroy lets `make emulator-destroy` empty the bucket.
  if ! scripts/local-apply.sh apply "$pattern" -var "tumbling_window_in_seconds=$window" \
    -var bucket_tls_only_policy=false -var force_destroy=true >"$logf"; then
    # local-apply.sh has said why on stderr (one message when the names are taken).
    die "terraform apply failed (full log: $logf)"
  fi
  grep -E '^(Apply complete|No changes)' "$logf" | sed 's/^/    /' >&2 || true
  outputs=$(scripts/local-apply.sh output "$pattern")
}

out() { jq -r --arg k "$1" '.[$k].value // empty | if type == "string" then . else tojson end' <<<"$outputs"; }

# Aggregate lines in S3 whose window started at or after $1 (epoch s): "<key>\t<line>" each.
aggregate_lines() {
  local key
  awse s3api list-objects-v2 --bucket "$bucket" --prefix "$agg_prefix" | jq -r '.Contents // [] | .[].Key' |
    while IFS= read -r key; do
      awse s3 cp "s3://$bucket/$key" - 2>/dev/null |
        jq -c --argjson since "$1" 'select((.window_start[0:19] | strptime("%Y-%m-%d %H:%M:%S") | mktime) >= $since)' |
        sed "s|^|$key\t|"
    done
}

step_data_plane() {
  local state_dir=$KSTREAM_STATE_DIR/local up_pid fn
  stream=$(out stream_name)
  bucket=$(out bucket_name)
  rows_prefix=$(out rows_prefix)
  agg_prefix=$(out aggregates_prefix)
  fn=$(out function_name)
  mkdir -p "$state_dir"
  # A data plane left running by an earlier demo is stopped first (it read an older deployment).
  if [ -f "$state_dir/status.json" ] && [ "$(jq -r .state "$state_dir/status.json")" = running ]; then
    local old
    old=$(jq -r .pid "$state_dir/status.json")
    kill -INT "$old" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$old" 2>/dev/null || break; sleep 0.2; done
  fi
  local prefix=${stream%-stream}-
  log "starting kstream local up for ${prefix}* (log: ${state_dir#"$KSTREAM_ROOT"/}/up.log)"
  "$bin/kstream" local up --state-dir "$state_dir" --functions-dir "$bin" --no-api --no-status-line \
    --name-prefix "$prefix" >"$state_dir/up.log" 2>&1 &
  up_pid=$!
  # shellcheck disable=SC2064 # the pid is known now
  trap "kill -INT $up_pid 2>/dev/null || true; wait $up_pid 2>/dev/null || true" EXIT
  for _ in $(seq 1 100); do
    [ -f "$state_dir/status.json" ] && [ "$(jq -r .pid "$state_dir/status.json")" = "$up_pid" ] && break
    kill -0 "$up_pid" 2>/dev/null || { cat "$state_dir/up.log" >&2; die "kstream local up exited"; }
    sleep 0.2
  done

  # Two whole windows: from the next window boundary, for two windows and a little.
  local now start duration
  now=$(date +%s)
  start=$(((now / window + 1) * window))
  duration=$((start + 2 * window - now + 1))
  since=$start
  log "kstream produce: 100 ticker records/s for ${duration} s into $stream (KPL-aggregated, event_time as the reference writes it)"
  "$bin/kstream" produce --stream "$stream" --rate 100 --duration "${duration}s" --event-time-format sql \
    >"$state_dir/produce.log" 2>&1 || { cat "$state_dir/produce.log" >&2; die "kstream produce failed"; }
  log "waiting for the two windows from $(date -ud "@$start" +%H:%M:%S) to close on every shard"
  local shards deadline windows
  shards=$(awse kinesis list-shards --stream-name "$stream" --query 'length(Shards)')
  deadline=$(($(date +%s) + 3 * window + 60))
  while [ "$(date +%s)" -lt "$deadline" ]; do
    windows=$(aggregate_lines "$since" | cut -f2 | jq -s 'map("\(.shard_id) \(.window_start)") | unique | length')
    [ "$windows" -ge $((2 * shards)) ] && break
    sleep 2
  done
  [ "${windows:-0}" -ge $((2 * shards)) ] ||
    die "only ${windows:-0} of $((2 * shards)) shard windows closed in time (see ${state_dir#"$KSTREAM_ROOT"/}/up.log and logs/$fn.log)"
  "$bin/kstream" local status --state-dir "$state_dir" | strip | sed 's/^/    /' >&2
  kill -INT "$up_pid" 2>/dev/null || true
  wait "$up_pid" 2>/dev/null || true
  trap - EXIT
  analytics_fn=$fn
}

step_summary() {
  local summary esm
  summary=$(awse kinesis describe-stream-summary --stream-name "$stream" --query StreamDescriptionSummary)
  esm=$(awse lambda list-event-source-mappings --function-name "$analytics_fn" --query 'EventSourceMappings[0]')
  printf '\n%skstream demo: pattern %s on the local emulator (%s at %s)%s\n\n' "$_k_bold" "$pattern" \
    "$(kstream_emulator_kind "$AWS_ENDPOINT_URL")" "$AWS_ENDPOINT_URL" "$_k_reset"
  printf '  %-15s %s\n' \
    "Stream" "$stream, $(jq -r '"\(.OpenShardCount) shards, \(.EncryptionType)"' <<<"$summary")" \
    "Analytics" "$analytics_fn" \
    "Mapping" "$(jq -r '"tumbling window \(.TumblingWindowInSeconds) s, batch \(.BatchSize), parallelization \(.ParallelizationFactor), retries \(.MaximumRetryAttempts), bisect \(.BisectBatchOnFunctionError), \(.FunctionResponseTypes | join(","))"' <<<"$esm")" \
    "Output" "s3://$bucket/$rows_prefix (rows), s3://$bucket/$agg_prefix (aggregates)" \
    "Schedule" "$(out schedule_name)" \
    "Dashboard" "$(out dashboard_name)"

  printf '\n%sWindow aggregates%s from s3://%s/%s (one line per shard, window and ticker)\n' "$_k_bold" "$_k_reset" "$bucket" "$agg_prefix"
  printf '  %-20s %-21s %-6s %6s %8s %8s %8s\n' "window start" "shard" "ticker" "count" "min" "max" "avg"
  aggregate_lines "$since" | cut -f2 | jq -r '[.window_start, .shard_id, .ticker, .count, .min_price, .max_price, (.avg_price * 100 | round / 100)] | @tsv' |
    sort | head -n 24 | while IFS=$'\t' read -r ws sh tk c mn mx av; do
      printf '  %-20s %-21s %-6s %6s %8s %8s %8s\n' "${ws:0:19}" "$sh" "$tk" "$c" "$mn" "$mx" "$av"
    done
  local key
  key=$(aggregate_lines "$since" | cut -f1 | sort -u | head -n 1)
  printf '  (e.g. %s)\n' "$key"

  printf '\n%sFiltered rows%s: the reference query, price > 50, as its Flink sink lays them out\n' "$_k_bold" "$_k_reset"
  awse s3api list-objects-v2 --bucket "$bucket" --prefix "$rows_prefix" | jq -r '.Contents // [] | sort_by(.LastModified) | reverse | .[:3][] | .Key' |
    while IFS= read -r key; do
      printf '  s3://%s/%s\n' "$bucket" "$key"
      awse s3 cp "s3://$bucket/$key" - | head -n 2 | sed 's/^/      /'
    done

  printf '\n%sGlue tables%s (query them with Athena on AWS: see patterns/%s/README.md)\n' "$_k_bold" "$_k_reset" "$pattern"
  local db table
  db=$(out glue_database_name)
  for table in $(out glue_filtered_table_name) $(out glue_aggregates_table_name); do
    printf '  %-32s %s\n' "$db.$table" "$(awse glue get-table --database-name "$db" --name "$table" --query Table.StorageDescriptor.Location --output text)"
  done

  local times
  times=$(printf '%s, ' "${step_times[@]}")
  printf '\nSteps: %s; total %ss\n' "${times%, }" "$(($(date +%s) - demo_start))"
}

outputs='{}'
for step in emulator build deploy data_plane; do
  run_step "$step"
done
step_summary
