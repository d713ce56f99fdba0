#!/usr/bin/env bash
# End to end, pattern 3 through `kstream local`: the same Terraform as for AWS applied to the emulator,
# the real firehose-transform binary (built for this machine) run by the local Firehose delivery.
#
#   1. apply patterns/03-kds-firehose-s3 under a unique prefix, with the emulator-only settings
#      bucket_tls_only_policy=false (moto refuses object writes under a policy with a conditional Deny)
#      and force_destroy=true, one shard and the shortest buffering the variables allow (60 s);
#   2. start `kstream local up --no-api --firehose-max-buffer-interval 2` (local cap, so no 60 s wait);
#   3. put good records (the stock-ticker JSON of the default template) and poison records (not JSON,
#      and JSON without the template's fields: firehose-transform answers ProcessingFailed) into the
#      stream with the aws CLI;
#   4. check with the aws CLI: the good records, transformed, in gzip objects under the data prefix;
#      the poison records (rawData = the original bytes) under the error prefix, processing-failed;
#      none lost (counts), and the status file's Firehose counters agree;
#   5. Ctrl-C (SIGINT) flushes and checkpoints; a restart reads nothing twice; destroy.
#
# Needs the emulator (started if none answers) and the venv. Prints "ok"/"FAIL" lines; exits 1 on failure.
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
. "$(dirname "$0")/../scripts/lib/common.sh"
cd "$KSTREAM_ROOT"

# shellcheck source=scripts/lib/e2e.sh
. scripts/lib/e2e.sh
e2e_init 03-kds-firehose-s3 kse3

e2e_build firehose-transform

log "applying patterns/$pattern (prefix $prefix)"
if ! scripts/local-apply.sh apply "$pattern" -var "name_prefix=$prefix" -var "transform_package_path=$KSTREAM_ROOT/$zip" \
  -var bucket_tls_only_policy=false -var force_destroy=true -var shard_count=1 \
  -var buffering_interval_seconds=60 -var buffering_size_mb=1 -var buffer_interval_seconds=60 \
  >"$work/apply.log" 2>&1; then
  tail -n 30 "$work/apply.log" >&2
  die "terraform apply failed (log: $work/apply.log)"
fi
outputs=$(scripts/local-apply.sh output "$pattern")
out() { jq -r --arg k "$1" '.[$k].value // empty' <<<"$outputs"; }
stream=$(out stream_name)
delivery=$(out delivery_stream_name)
bucket=$(out bucket_name)
data_static=$(out data_prefix | sed 's/!{.*//')
error_static=$(out error_output_prefix | sed 's/!{.*//')

start_up() {
  "$bin/kstream" local up --state-dir "$state_dir" --functions-dir "$bin" --no-api --no-status-line --log-format JSON \
    --name-prefix "$prefix-" --firehose-max-buffer-interval 2 \
    >>"$work/up.log" 2>&1 &
  up_pid=$!
  local i
  for i in $(seq 1 100); do
    if [ -f "$state_dir/status.json" ] && [ "$(jq -r '.pid' "$state_dir/status.json")" = "$up_pid" ]; then
      return 0
    fi
    kill -0 "$up_pid" 2>/dev/null || { cat "$work/up.log" >&2; die "kstream local up exited"; }
    sleep 0.2
  done
  die "kstream local up did not start (log: $work/up.log)"
}

stop_up() {
  kill -INT "$up_pid"
  local status=0
  wait "$up_pid" || status=$?
  up_pid=""
  return $status
}

fh() { jq -r ".firehose$1 // empty" "$state_dir/status.json"; }

start_up
check "kstream local up delivers $delivery (status.json firehose.deliveryStreams)" \
  test "$(fh '.deliveryStreams | join(",")')" = "$delivery"

# Good records: the default template reshapes them ({"ticker": .., "price": .., "event_time": ..}).
good=()
expected=()
for i in 1 2 3 4 5; do
  good+=("{\"event_time\":\"2026-11-22T07:00:0${i}Z\",\"price\":$i.25,\"ticker\":\"T$id$i\",\"extra\":\"dropped by the template\"}")
  expected+=("{\"ticker\":\"T$id$i\",\"price\":$i.25,\"event_time\":\"2026-11-22T07:00:0${i}Z\"}")
done
# Poison records: not JSON, and JSON without the template's fields (an invalid rendering): ProcessingFailed.
poison=("not json $id" "{\"poison\":\"$id\"}")
for r in "${good[@]}" "${poison[@]}"; do
  awse kinesis put-record --stream-name "$stream" --partition-key "k-$RANDOM" --data "$r" >/dev/null
done
total=$((${#good[@]} + ${#poison[@]}))
pass "put ${#good[@]} good and ${#poison[@]} poison records into $stream"

deadline=$(($(date +%s) + 60))
while [ "$(date +%s)" -lt "$deadline" ]; do
  if [ "$(fh .recordsDelivered)" = "${#good[@]}" ] && [ "$(fh .recordsFailed)" = "${#poison[@]}" ]; then break; fi
  sleep 0.5
done
check "status.json: read $total, delivered ${#good[@]}, error output ${#poison[@]} (got $(fh .recordsRead)/$(fh .recordsDelivered)/$(fh .recordsFailed))" \
  test "$(fh .recordsRead)/$(fh .recordsDelivered)/$(fh .recordsFailed)" = "$total/${#good[@]}/${#poison[@]}"
status_out=$("$bin/kstream" local status --state-dir "$state_dir")
printf '%s\n' "$status_out" | sed 's/^/    /'
check "kstream local status shows the Firehose counters" grep -q "firehose $delivery: read $total, delivered ${#good[@]}" <<<"$status_out"

# Every object of the bucket, fetched (gunzipped when .gz): "<key>\t<line>" for each line.
fetch_lines() { # fetch_lines <key prefix>
  local key
  awse s3api list-objects-v2 --bucket "$bucket" --prefix "$1" | jq -r '.Contents // [] | .[].Key' | while IFS= read -r key; do
    awse s3 cp "s3://$bucket/$key" "$work/object" >/dev/null
    case $key in
      *.gz) gzip -dc "$work/object" ;;
      *) cat "$work/object" ;;
    esac | sed "s|^|$key\t|"
  done
}

data_lines=$(fetch_lines "$data_static")
printf '%s\n' "$data_lines" | sed 's/^/    /'
check "the data objects are gzip, named <prefix><stream>-<version>-<time>-<uuid>.gz" \
  test -z "$(cut -f1 <<<"$data_lines" | grep -v "^$data_static.*/$delivery-[0-9]*-[0-9-]*-[0-9a-f-]*\.gz$" || true)"
got=$(cut -f2- <<<"$data_lines" | grep -v '^$' | sort)
want=$(printf '%s\n' "${expected[@]}" | sort)
check "the ${#good[@]} good records landed under $data_static, transformed by the template, each once" test "$got" = "$want"

error_lines=$(fetch_lines "$error_static")
printf '%s\n' "$error_lines" | sed 's/^/    /'
# The pattern's error_output_prefix ends with !{firehose:error-output-type}: the object name follows it.
check "the error objects are gzip, under $error_static...processing-failed" \
  test -z "$(cut -f1 <<<"$error_lines" | grep -v "^$error_static.*processing-failed$delivery-[0-9]*-[0-9-]*-[0-9a-f-]*\.gz$" || true)"
got=$(cut -f2- <<<"$error_lines" | grep -v '^$' | jq -r '.rawData | @base64d' | sort)
want=$(printf '%s\n' "${poison[@]}" | sort)
check "the ${#poison[@]} poison records are in the error output with their original data, each once" test "$got" = "$want"
check "each error record says ProcessingFailed-style why (errorCode, errorMessage, attemptsMade, lambdaArn)" \
  test "$(cut -f2- <<<"$error_lines" | grep -v '^$' | jq -s --arg f "$prefix-transform" \
    'all(.[]; (.errorCode | length) > 0 and (.errorMessage | length) > 0 and .attemptsMade >= 1 and (.lambdaArn | contains($f)))')" = true
check "none lost: $total records in, ${#good[@]} data + ${#poison[@]} error lines out" \
  test "$(($(grep -c . <<<"$(cut -f2- <<<"$data_lines")") + $(grep -c . <<<"$(cut -f2- <<<"$error_lines")")))" = "$total"

check "Ctrl-C stops kstream local up cleanly" stop_up
check "the status file says stopped" test "$(jq -r .state "$state_dir/status.json")" = stopped
check "the delivery stream's shard checkpoint is saved" test -s "$state_dir/checkpoints/firehose-$delivery.json"

# A restart resumes after the checkpoint: nothing is read (or written) twice.
start_up
sleep 3
check "the restart read nothing twice (records read $(fh .recordsRead), objects $(fh .objectsWritten))" \
  test "$(fh .recordsRead)/$(fh .objectsWritten)" = 0/0
check "Ctrl-C stops it again" stop_up

if [ "$failures" -gt 0 ]; then
  printf '%d check(s) failed; logs in %s\n' "$failures" "${work#"$KSTREAM_ROOT"/}"
  exit 1
fi
log "pattern 3 end to end: all checks passed"
