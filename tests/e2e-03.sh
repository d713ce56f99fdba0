#!/usr/bin/env bash
# End to end, pattern 3 through `kstream local`: the same Terraform as for AWS applied to the emulator,
# the real firehose-transform binary (built for this machine) run by the local Firehose delivery.
#
#   1. apply patterns/03-kds-firehose-s3 under a unique prefix, with the emulator-only settings
#      bucket_tls_only_policy=false (moto refuses object writes under a policy with a conditional Deny)
#      and force_destroy=true, one shard and the shortest buffering the variables allow (60 s);
#   2. JSON phase: start `kstream local up --no-api --firehose-max-buffer-interval 2` (local cap, so
#      no 60 s wait); put good records (the stock-ticker JSON of the default template) and poison
#      records (not JSON, and JSON without the template's fields: firehose-transform answers
#      ProcessingFailed) into the stream with the aws CLI; check with the aws CLI: the good records,
#      transformed, in gzip objects under the data prefix's year=/month=/day=/hour= partitions; the
#      poison records (rawData = the original bytes) under the error prefix, processing-failed; none
#      lost (counts), and the status file's Firehose counters agree; Ctrl-C (SIGINT) flushes and
#      checkpoints; a restart reads nothing twice;
#   3. Parquet phase: re-apply the same deployment with parquet_conversion_enabled=true (and what it
#      needs: compression_format=UNCOMPRESSED, buffering_size_mb=64; the pattern's Glue table takes the
#      Parquet SerDe), restart `kstream local up` (it resumes after the checkpoint) and put good
#      records, the same kinds of poison records and one record the transform passes but whose price
#      ("n/a") does not convert to the table's double column; check with pyarrow that every good
#      record is one row of the .parquet objects under the hour partitions of the run, with the Glue
#      table's columns as schema; the poison records under processing-failed, the unconvertible one
#      under format-conversion-failed with Firehose's documented fields (ErrorCode, ErrorMessage,
#      rawData = the transformed record, sequenceNumber, dataCatalogTable); none lost;
#   4. destroy, and check that the state and the emulator hold nothing of the deployment.
#
# Needs the emulator (scripts/test-e2e.sh starts one if none answers; alone: `make emulator`, or
# AWS_ENDPOINT_URL) and the venv. Prints "ok"/"FAIL" lines; exits 1 on failure.
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
. "$(dirname "$0")/../scripts/lib/common.sh"
cd "$KSTREAM_ROOT"

# shellcheck source=scripts/lib/e2e.sh
. scripts/lib/e2e.sh
e2e_init 03-kds-firehose-s3 kse3

e2e_build firehose-transform

# apply <phase> [-var k=v ...]: applies (or re-applies) the deployment with the variables every
# phase shares plus the phase's, and reads its outputs.
apply() {
  local phase=$1
  shift
  log "applying patterns/$pattern (prefix $prefix, $phase phase)"
  if ! scripts/local-apply.sh apply "$pattern" -var "name_prefix=$prefix" -var "transform_package_path=$zip" \
    -var bucket_tls_only_policy=false -var force_destroy=true -var shard_count=1 \
    -var buffering_interval_seconds=60 -var buffer_interval_seconds=60 "$@" \
    >"$work/apply-$phase.log" 2>&1; then
    tail -n 30 "$work/apply-$phase.log" >&2
    die "terraform apply failed (log: $work/apply-$phase.log)"
  fi
  outputs=$(scripts/local-apply.sh output "$pattern")
  stream=$(out stream_name)
  delivery=$(out delivery_stream_name)
  bucket=$(out bucket_name)
  data_static=$(out data_prefix | sed 's/!{.*//')
  error_static=$(out error_output_prefix | sed 's/!{.*//')
}
out() { jq -r --arg k "$1" '.[$k].value // empty' <<<"$outputs"; }

start_up() { e2e_up --no-api --firehose-max-buffer-interval 2; }

fh() { jq -r ".firehose$1 // empty" "$state_dir/status.json"; }

# put_records <record...>: into the stream, each with a random partition key; remembers the hours
# (UTC) the records arrive in (put_hours), for the partition checks.
put_records() {
  local r
  put_hours=$(date -u +year=%Y/month=%m/day=%d/hour=%H/)
  for r in "$@"; do
    awse kinesis put-record --stream-name "$stream" --partition-key "k-$RANDOM" --data "$r" >/dev/null
  done
}

# wait_counters <read> <delivered> <failed>: until the status file's Firehose counters say so (60 s
# at most), then checks them and the `kstream local status` line; adds the hour the delivery ended
# in to put_hours.
wait_counters() {
  local deadline=$(($(date +%s) + 60)) status_out
  while [ "$(date +%s)" -lt "$deadline" ]; do
    if [ "$(fh .recordsDelivered)" = "$2" ] && [ "$(fh .recordsFailed)" = "$3" ]; then break; fi
    sleep 0.5
  done
  local hour
  hour=$(date -u +year=%Y/month=%m/day=%d/hour=%H/)
  [ "$hour" = "$put_hours" ] || put_hours+=" $hour"
  check "status.json: read $1, delivered $2, error output $3 (got $(fh .recordsRead)/$(fh .recordsDelivered)/$(fh .recordsFailed))" \
    test "$(fh .recordsRead)/$(fh .recordsDelivered)/$(fh .recordsFailed)" = "$1/$2/$3"
  status_out=$("$bin/kstream" local status --state-dir "$state_dir")
  printf '%s\n' "$status_out" | sed 's/^/    /'
  check "kstream local status shows the Firehose counters" grep -q "firehose $delivery: read $1, delivered $2" <<<"$status_out"
}

# The keys of the bucket under a prefix that no earlier phase has seen (earlier phases' objects stay).
seen=$work/seen-keys
: >"$seen"
new_keys() { # new_keys <key prefix>
  awse s3api list-objects-v2 --bucket "$bucket" --prefix "$1" | jq -r '.Contents // [] | .[].Key' | grep -vxFf "$seen" || true
}
end_phase() { awse s3api list-objects-v2 --bucket "$bucket" | jq -r '.Contents // [] | .[].Key' >>"$seen"; }

# Every new object under a prefix, fetched (gunzipped when .gz): "<key>\t<line>" for each line.
fetch_lines() { # fetch_lines <key prefix>
  local key
  new_keys "$1" | while IFS= read -r key; do
    awse s3 cp "s3://$bucket/$key" "$work/object" >/dev/null
    case $key in
      *.gz) gzip -dc "$work/object" ;;
      *) cat "$work/object" ;;
    esac | sed "s|^|$key\t|"
  done
}

# check_keys <what> <regex> <"key\t..." lines>: every key matches the regex and lies in a partition
# (year=/month=/day=/hour=) of the hours the records arrived in.
check_keys() {
  local keys off bad="" key
  keys=$(cut -f1 <<<"$3" | grep -v '^$' | sort -u)
  off=$(grep -v -- "$2" <<<"$keys" || true)
  [ -n "$keys" ] || off="(no object)"
  check "$1${off:+, not: $off}" test -z "$off"
  while IFS= read -r key; do
    [[ " $put_hours " == *" $(grep -o 'year=[0-9]*/month=[0-9]*/day=[0-9]*/hour=[0-9]*/' <<<"$key") "* ]] || bad+=" $key"
  done <<<"$keys"
  check "... each under the partition of the hour the records arrived in (${put_hours// / or })${bad:+, not:$bad}" test -z "$bad"
}

# check_processing_failed <error lines> <poison record...>: the poison records, as they were put, in
# the error output with the transform's why.
check_processing_failed() {
  local lines=$1 got want
  shift
  got=$(cut -f2- <<<"$lines" | grep -v '^$' | jq -r '.rawData | @base64d' | sort)
  want=$(printf '%s\n' "$@" | sort)
  check "the $# poison records are in the error output with their original data, each once" test "$got" = "$want"
  check "each error record says ProcessingFailed-style why (errorCode, errorMessage, attemptsMade, lambdaArn)" \
    test "$(cut -f2- <<<"$lines" | grep -v '^$' | jq -s --arg f "$prefix-transform" \
      'length > 0 and all(.[]; (.errorCode | length) > 0 and (.errorMessage | length) > 0 and .attemptsMade >= 1 and (.lambdaArn | contains($f)))')" = true
}

count_lines() { cut -f2- <<<"$1" | grep -c . || true; }

################################################################################
# JSON phase: the pattern's defaults (gzip JSON lines)
################################################################################

apply json -var buffering_size_mb=1
object_name="$delivery-[0-9]*-[0-9-]*-[0-9a-f-]*"
start_up
check "kstream local up delivers $delivery (status.json firehose.deliveryStreams)" \
  test "$(fh '.deliveryStreams | join(",")')" = "$delivery"

# Good records: the default template reshapes them ({"ticker": .., "price": .., "event_time": ..}).
# good_records <tag>: sets good (what is put) and expected (what the template makes of it).
good_records() {
  good=()
  expected=()
  local i
  for i in 1 2 3 4 5; do
    good+=("{\"event_time\":\"2026-11-22T07:00:0${i}Z\",\"price\":$i.25,\"ticker\":\"$1$id$i\",\"extra\":\"dropped by the template\"}")
    expected+=("{\"ticker\":\"$1$id$i\",\"price\":$i.25,\"event_time\":\"2026-11-22T07:00:0${i}Z\"}")
  done
}
good_records T
# Poison records: not JSON, and JSON without the template's fields (an invalid rendering): ProcessingFailed.
poison=("not json $id" "{\"poison\":\"$id\"}")
put_records "${good[@]}" "${poison[@]}"
total=$((${#good[@]} + ${#poison[@]}))
pass "put ${#good[@]} good and ${#poison[@]} poison records into $stream"
wait_counters "$total" "${#good[@]}" "${#poison[@]}"

data_lines=$(fetch_lines "$data_static")
printf '%s\n' "$data_lines" | sed 's/^/    /'
check_keys "the data objects are gzip, named <prefix><stream>-<version>-<time>-<uuid>.gz" "^$data_static.*/$object_name\.gz$" "$data_lines"
got=$(cut -f2- <<<"$data_lines" | grep -v '^$' | sort)
want=$(printf '%s\n' "${expected[@]}" | sort)
check "the ${#good[@]} good records landed under $data_static, transformed by the template, each once" test "$got" = "$want"

error_lines=$(fetch_lines "$error_static")
printf '%s\n' "$error_lines" | sed 's/^/    /'
# The pattern's error_output_prefix ends with !{firehose:error-output-type}: the object name follows it.
check_keys "the error objects are gzip, under $error_static...processing-failed" "^$error_static.*/processing-failed$object_name\.gz$" "$error_lines"
check_processing_failed "$error_lines" "${poison[@]}"
check "none lost: $total records in, ${#good[@]} data + ${#poison[@]} error lines out" \
  test "$(($(count_lines "$data_lines") + $(count_lines "$error_lines")))" = "$total"

check "Ctrl-C stops kstream local up cleanly" e2e_down
check "the status file says stopped" test "$(jq -r .state "$state_dir/status.json")" = stopped
check "the delivery stream's shard checkpoint is saved" test -s "$state_dir/checkpoints/firehose-$delivery.json"

# A restart resumes after the checkpoint: nothing is read (or written) twice.
start_up
sleep 3
check "the restart read nothing twice (records read $(fh .recordsRead), objects $(fh .objectsWritten))" \
  test "$(fh .recordsRead)/$(fh .objectsWritten)" = 0/0
check "Ctrl-C stops it again" e2e_down
check "10,000 records through faults, none lost (scripts/soak.sh)" scripts/soak.sh --deployed "$pattern" --prefix "$prefix" --state-dir "$state_dir" --work "$work/soak"
end_phase

################################################################################
# Parquet phase: the same deployment switched to Parquet through the Glue table
################################################################################

apply parquet -var buffering_size_mb=64 -var compression_format=UNCOMPRESSED -var parquet_conversion_enabled=true
database=$(out glue_database_name)
table=$(out glue_table_name)
start_up
check "kstream local up converts $delivery to Parquet" grep -q "delivery stream $delivery: .*, Parquet" "$work/up.log"

good_records P
poison=("not json $id in the Parquet phase" "{\"poison\":\"$id-parquet\"}")
# The transform renders it (a bare {{price}} keeps the string), but "n/a" is no double.
unconvertible="{\"event_time\":\"2026-11-22T07:00:09Z\",\"price\":\"n/a\",\"ticker\":\"P${id}x\"}"
unconvertible_out="{\"ticker\":\"P${id}x\",\"price\":\"n/a\",\"event_time\":\"2026-11-22T07:00:09Z\"}"
put_records "${good[@]}" "${poison[@]}" "$unconvertible"
total=$((${#good[@]} + ${#poison[@]} + 1))
pass "put ${#good[@]} good, ${#poison[@]} poison and 1 unconvertible record into $stream"
wait_counters "$total" "${#good[@]}" "$((${#poison[@]} + 1))"

# The Parquet objects, fetched under their keys, read with pyarrow: one JSON line per row,
# "<key>\t<row>", and one "<key>\tschema\t<columns>" line per object.
rm -rf "$work/parquet"
new_keys "$data_static" | while IFS= read -r key; do
  awse s3 cp "s3://$bucket/$key" "$work/parquet/$key" >/dev/null
done
parquet_lines=$("$KSTREAM_VENV/bin/python3" - "$work/parquet" <<'PY'
import json, pathlib, sys
import pyarrow.parquet as pq

root = pathlib.Path(sys.argv[1])
for path in sorted(p for p in root.rglob("*") if p.is_file()):
    key = path.relative_to(root).as_posix()
    table = pq.read_table(path)
    print(f"{key}\tschema\t" + ",".join(f"{f.name}:{f.type}" for f in table.schema))
    for row in table.to_pylist():
        print(f"{key}\t" + json.dumps(row, separators=(",", ":")))
PY
)
printf '%s\n' "$parquet_lines" | sed 's/^/    /'
rows=$(grep -v "$(printf '\tschema\t')" <<<"$parquet_lines" || true)
check_keys "the data objects are Parquet, named <prefix><stream>-<version>-<time>-<uuid>.parquet" "^$data_static.*/$object_name\.parquet$" "$parquet_lines"
# The Glue types as pyarrow names them.
columns=$(awse glue get-table --database-name "$database" --name "$table" |
  jq -r '{string: "string", double: "double", float: "float", bigint: "int64", int: "int32", boolean: "bool"} as $pa
    | [.Table.StorageDescriptor.Columns[] | "\(.Name):\($pa[.Type] // .Type)"] | join(",")')
check "each Parquet object's schema is the Glue table $database.$table's columns ($columns), no partition key" \
  test -z "$(grep "$(printf '\tschema\t')" <<<"$parquet_lines" | cut -f3 | grep -vxF "$columns" || true)"
got=$(cut -f2- <<<"$rows" | grep -v '^$' | sort)
want=$(printf '%s\n' "${expected[@]}" | sort)
check "the ${#good[@]} good records are rows of the Parquet objects, transformed by the template, each once" test "$got" = "$want"

error_lines=$(fetch_lines "$error_static")
printf '%s\n' "$error_lines" | sed 's/^/    /'
failed_lines=$(grep "/processing-failed$delivery-" <<<"$error_lines" || true)
conversion_lines=$(grep "/format-conversion-failed$delivery-" <<<"$error_lines" || true)
check_keys "the processing-failed objects are under $error_static...processing-failed (uncompressed)" "^$error_static.*/processing-failed$object_name$" "$failed_lines"
check_processing_failed "$failed_lines" "${poison[@]}"
check_keys "the format-conversion-failed objects are under $error_static...format-conversion-failed (uncompressed)" "^$error_static.*/format-conversion-failed$object_name$" "$conversion_lines"
check "the unconvertible record is in the error output once, as the transform made it (rawData)" \
  test "$(cut -f2- <<<"$conversion_lines" | grep -v '^$' | jq -r '.rawData | @base64d')" = "$unconvertible_out"
check "its error record has Firehose's fields (ErrorCode, ErrorMessage naming the column, sequenceNumber, dataCatalogTable $database.$table)" \
  test "$(cut -f2- <<<"$conversion_lines" | grep -v '^$' | jq -s --arg db "$database" --arg t "$table" --arg r "$AWS_REGION" \
    'length == 1 and all(.[]; .ErrorCode == "DataFormatConversion.MalformedData" and (.ErrorMessage | test("price")) and
       .attemptsMade >= 1 and .arrivalTimestamp > 0 and (.sequenceNumber | length) > 0 and .subSequenceNumber == 0 and
       .dataCatalogTable.databaseName == $db and .dataCatalogTable.tableName == $t and .dataCatalogTable.region == $r and
       .dataCatalogTable.versionId == "LATEST" and (.dataCatalogTable.catalogId | length) > 0)')" = true
check "none lost: $total records in, ${#good[@]} rows + $((${#poison[@]} + 1)) error lines out" \
  test "$(($(count_lines "$rows") + $(count_lines "$error_lines")))" = "$total"
check "Ctrl-C stops kstream local up cleanly" e2e_down

e2e_destroy

if [ "$failures" -gt 0 ]; then
  printf '%d check(s) failed; logs in %s\n' "$failures" "${work#"$KSTREAM_ROOT"/}"
  exit 1
fi
log "pattern 3 end to end (JSON and Parquet): all checks passed"
