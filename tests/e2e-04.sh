#!/usr/bin/env bash
# End to end, pattern 4 through `kstream local`: the same Terraform as for AWS applied to the emulator,
# the real enrichment-consumer and fare-api binaries (built for this machine), the fare API served by
# the local REST API executor (Lambda proxy, AWS_IAM, API key with its usage plan), the API key read
# from SSM Parameter Store on the emulator.
#
#   1. apply patterns/04-kds-enrichment-apigw under a unique prefix with the emulator-only settings
#      bucket_tls_only_policy=false and force_destroy=true, two shards, TRIM_HORIZON, three retries,
#      every trip written (write_unsampled=true, so every record can be accounted for), the fare
#      function's fault mode at 20 % 503 and 5 % 429, and the default usage plan (20 rps, burst
#      100) that the consumers pace their calls to (MAX_CALLS_PER_SECOND: 10 a shard);
#   2. start `kstream local up` (its REST API executor on a free port: --api-port 0; the functions get
#      its URL, so runs beside another `kstream local up` do not collide on the default 4567);
#   3. replay the first part of the committed trip sample (data/) at a high speedup, with the
#      reference replay's watermark events; then check S3 against the sample: every trip exactly
#      once, sampled (ride_request_id % 20 == 0) trips with the fare the reference's formula gives,
#      unsampled ones without; retries and throttles counted in the consumer's EMF metrics; nothing
#      in the failure queue or the error output; the API key's value in no log;
#   4. a poison record (not JSON) lands in the error output with its reason and sequence number;
#   5. the endpoint goes down: re-apply with every call failing until a set instant (fault mode
#      `until`), restart the data plane, replay the rest of the sample from that point (`--seek`)
#      over a span past the outage. Read the stream back (`kstream tail`): every trip of the sample
#      is in S3 exactly once or inside a failure-queue range of its shard (never both: nothing
#      half-written), some ranges reached the queue, and the consumer recovered by itself: the trips
#      put after the outage are in S3;
#   6. 10,000 records through faults on this deployment (scripts/soak.sh --deployed: the fare API's
#      fault mode again, function kills, PutRecords throttled and 5xx'd, an emulator outage, a data
#      plane restart; every record in S3, the error output or a failure-queue range: none lost);
#   7. destroy, and nothing named with the prefix is left.
#
# Needs the emulator (scripts/test-e2e.sh starts one if none answers), the venv and the workspace
# build. Prints "ok"/"FAIL" lines; exits 1 on failure.
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
. "$(dirname "$0")/../scripts/lib/common.sh"
cd "$KSTREAM_ROOT"

# shellcheck source=scripts/lib/e2e.sh
. scripts/lib/e2e.sh
e2e_init 04-kds-enrichment-apigw kse4
py() { "$KSTREAM_VENV/bin/python3" - "$@"; }

e2e_build enrichment-consumer
consumer_zip=$zip
e2e_build fare-api
fare_zip=$zip
[ -x "$bin/kstream" ] || die "no $bin/kstream"

sample=data/taxi-trips-sample.json.gz
[ -f "$sample" ] || die "no trip sample at $sample"

apply() { # apply <log> <faults> [more -var ...]
  local logf=$1 faults=$2
  shift 2
  if ! scripts/local-apply.sh apply "$pattern" -var "name_prefix=$prefix" \
    -var "consumer_package_path=$consumer_zip" -var "fare_api_package_path=$fare_zip" \
    -var bucket_tls_only_policy=false -var force_destroy=true -var shard_count=2 \
    -var starting_position=TRIM_HORIZON -var maximum_retry_attempts=3 -var write_unsampled=true \
    -var "fare_api_faults=$faults" "$@" >"$logf" 2>&1; then
    tail -n 30 "$logf" >&2
    die "terraform apply failed (log: $logf)"
  fi
}

log "applying patterns/$pattern (prefix $prefix; fare API faults: 20 % 503, 5 % 429)"
apply_t0=$(date +%s)
apply "$work/apply.log" "error_rate=0.2,throttle_rate=0.05"
apply_secs=$(($(date +%s) - apply_t0))
outputs=$(scripts/local-apply.sh output "$pattern")
out() { jq -r --arg k "$1" '.[$k].value // empty' <<<"$outputs"; }
stream=$(out stream_name)
bucket=$(out bucket_name)
queue_url=$(out failure_queue_url)
consumer=$(out consumer_function_name)
check "outputs name the API URL and the key's parameter (not the key)" test -n "$(out api_url)" -a -n "$(out api_key_parameter_name)"

# The sample, split at an instant: part 1 is every trip dropped off before it.
py "$sample" "$work" <<'PY'
import gzip, json, sys
sample, work = sys.argv[1:3]
lines = gzip.open(sample, "rt").read().splitlines()
trips = [json.loads(l) for l in lines]
times = sorted({t["dropoff_datetime"] for t in trips})
split = times[int(len(times) * 0.6)]
with open(f"{work}/part1.jsonl", "w") as f:
    for l, t in zip(lines, trips):
        if t["dropoff_datetime"] < split:
            f.write(l + "\n")
json.dump({"split": split, "trips": trips}, open(f"{work}/sample.json", "w"))
PY
split=$(jq -r .split "$work/sample.json")
part1=$(grep -c . "$work/part1.jsonl")

e2e_up --api-port 0

# Reads every object of the bucket into $work/rows.json: enriched rows and error-output lines.
read_bucket() {
  py "$bucket" "$(out output_prefix)" "$(out error_prefix)" "$work" <<'PY'
import json, sys, boto3
bucket, rows_prefix, err_prefix, work = sys.argv[1:5]
s3 = boto3.client("s3")
def objects(prefix):
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for o in page.get("Contents", []):
            yield o["Key"], s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read().decode()
rows = [dict(json.loads(l), _key=k) for k, b in objects(rows_prefix) for l in b.splitlines() if l]
errors = [dict(json.loads(l), _key=k) for k, b in objects(err_prefix) for l in b.splitlines() if l]
json.dump({"rows": rows, "errors": errors}, open(f"{work}/rows.json", "w"))
print(len(rows))
PY
}

log "replaying $part1 trips (before $split) into $stream with watermarks"
"$bin/kstream" replay --stream "$stream" --speedup 100000 --watermarks "$work/part1.jsonl" >"$work/replay1.log" 2>&1 ||
  { cat "$work/replay1.log" >&2; die "kstream replay failed"; }
deadline=$(($(date +%s) + 180))
while [ "$(date +%s)" -lt "$deadline" ] && [ "$(read_bucket)" -lt "$part1" ]; do sleep 2; done
consumer_log=$state_dir/logs/$consumer.log
metric_sum() { jq -Rn --arg m "$1" '[inputs | fromjson? | select(has("_aws")) | .[$m] // 0] | add // 0' "$consumer_log"; }

py "$work" "$part1" "$(metric_sum Retries)" "$(metric_sum Throttles)" "$(metric_sum Skipped)" <<'PY' || failures=$((failures + 1))
import json, math, sys
work, part1, retries, throttles, skipped = sys.argv[1], int(sys.argv[2]), *map(float, sys.argv[3:6])
sample = json.load(open(f"{work}/sample.json"))
got = json.load(open(f"{work}/rows.json"))
failed = 0
def check(what, ok, detail=""):
    global failed
    print(("ok    " if ok else "FAIL  ") + what + ("" if ok else f": {detail}"))
    failed += 0 if ok else 1
def fare(i):  # the reference's taxi-fare-endpoint formula, in IEEE doubles as JavaScript computes it
    p = math.fmod(math.e * i, 1)
    return math.floor(p * (100 - 10 + 1) + 10) * (1 + p * 0.4 - 0.2)
want = {t["trip_id"]: t for t in sample["trips"] if t["dropoff_datetime"] < sample["split"]}
by_id = {}
for r in got["rows"]:
    by_id.setdefault(r["trip_id"], []).append(r)
check(f"every trip of part 1 is in S3 ({len(want)} trips, {len(got['rows'])} rows)", set(by_id) == set(want),
      f"missing {sorted(set(want) - set(by_id))[:5]}, extra {sorted(set(by_id) - set(want))[:5]}")
dups = {i: len(rs) for i, rs in by_id.items() if len(rs) > 1}
check("no trip twice", not dups, str(list(dups.items())[:5]))
sampled = [i for i in want if i % 20 == 0]
wrong = [i for i in sampled if i in by_id and by_id[i][0].get("expected_fare") != fare(i)]
check(f"the {len(sampled)} sampled trips carry the reference's fare", sampled and not wrong,
      str([(i, by_id[i][0].get("expected_fare"), fare(i)) for i in wrong[:5]]))
flags = [i for i in by_id if by_id[i][0].get("sampled") != (i % 20 == 0)]
check("sampled is true exactly for ride_request_id % 20 == 0", not flags, str(flags[:5]))
unsampled_fares = [i for i in by_id if i % 20 and by_id[i][0].get("expected_fare") is not None]
check("unsampled trips have no fare", not unsampled_fares, str(unsampled_fares[:5]))
bad_partition = [r["_key"] for r in got["rows"]
                 if f"dt={r['pickup_datetime'][:10]}/hr={r['pickup_datetime'][11:13]}/" not in r["_key"]]
check("rows are partitioned by pickup date and hour", not bad_partition, str(bad_partition[:3]))
check(f"the flaky endpoint was retried (Retries {retries:.0f}, Throttles {throttles:.0f})", retries > 0 and throttles > 0)
check(f"the watermark events were skipped (Skipped {skipped:.0f})", skipped > 0)
check("nothing in the error output", not got["errors"], str(got["errors"][:2]))
sys.exit(1 if failed else 0)
PY

queue_depth() { awse sqs get-queue-attributes --queue-url "$queue_url" --attribute-names ApproximateNumberOfMessages | jq -r .Attributes.ApproximateNumberOfMessages; }
check "the failure queue is empty after the flaky run" test "$(queue_depth)" = 0
api_key=$(awse ssm get-parameter --name "$(out api_key_parameter_name)" --with-decryption --query Parameter.Value --output text)
check "the API key (${#api_key} characters, read from SSM) is in no log of the data plane or the functions" \
  test -n "$api_key" -a -z "$(grep -rlF -- "$api_key" "$state_dir/logs" "$work/up.log" 2>/dev/null)"

# 4. A poison record: into the error output, with its reason; never retried, never blocking.
poison=$(awse kinesis put-record --stream-name "$stream" --partition-key poison --data 'not json')
poison_seq=$(jq -r .SequenceNumber <<<"$poison")
poison_shard=$(jq -r .ShardId <<<"$poison")
deadline=$(($(date +%s) + 60))
while [ "$(date +%s)" -lt "$deadline" ]; do
  read_bucket >/dev/null
  jqt --arg s "$poison_seq" --arg sh "$poison_shard" '.errors | any(.sequence_number == $s and .shard_id == $sh)' "$work/rows.json" && break
  sleep 1
done
check "the poison record is in the error output with its reason" jqt --arg s "$poison_seq" --arg sh "$poison_shard" \
  '.errors | map(select(.sequence_number == $s and .shard_id == $sh)) | length == 1 and (.[0].reason | length > 0) and (.[0].data_base64 == "bm90IGpzb24=")' "$work/rows.json"

# 5. The endpoint down for a while: every call fails until $until.
check "kstream local up stops cleanly on SIGINT" e2e_down
# The outage lasts about 40 s after the data plane is back: the re-apply (timed by the first one)
# and the restart come first.
outage=40
until_epoch=$(($(date +%s) + apply_secs + 15 + outage))
until_iso=$(date -u -d "@$until_epoch" +%Y-%m-%dT%H:%M:%SZ)
log "re-applying with the fare API down until $until_iso"
apply "$work/apply-2.log" "error_rate=1,until=$until_iso"
e2e_up --api-port 0
rest=$(jq --arg s "$split" '[.trips[] | select(.dropoff_datetime >= $s)] | length' "$work/sample.json")
span=$(jq -r '[.trips[].dropoff_datetime] | max' "$work/sample.json")
speedup=$(py "$split" "$span" "$(($until_epoch - $(date +%s) + 30))" <<'PY'
import datetime, sys
a, b, wall = sys.argv[1:4]
t = lambda s: datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))
print(max(1.0, (t(b) - t(a)).total_seconds() / int(wall)))
PY
)
log "replaying the $rest trips from $split (--seek) at speedup $speedup, past the outage"
"$bin/kstream" replay --stream "$stream" --speedup "$speedup" --seek "$split" "$sample" >"$work/replay2.log" 2>&1 ||
  { cat "$work/replay2.log" >&2; die "kstream replay --seek failed"; }
total=$(jq '.trips | length' "$work/sample.json")

# What the stream holds (kstream tail): each trip's shard and sequence number.
"$bin/kstream" tail --stream "$stream" --from trim-horizon --timeout 20s >"$work/stream.jsonl" 2>"$work/tail.log" || true

# Until every record is accounted for: in S3, or in a failure-queue range.
receive_all() {
  while :; do
    page=$(awse sqs receive-message --queue-url "$queue_url" --max-number-of-messages 10 --wait-time-seconds 1)
    # The CLI prints nothing when there is no message.
    [ -n "$page" ] && [ "$(jq '.Messages // [] | length' <<<"$page")" -gt 0 ] || break
    jq -c '.Messages[]' <<<"$page" | while IFS= read -r m; do
      jq -c '.Body | fromjson' <<<"$m" >>"$work/ranges.jsonl"
      awse sqs delete-message --queue-url "$queue_url" --receipt-handle "$(jq -r .ReceiptHandle <<<"$m")"
    done
  done
}
: >"$work/ranges.jsonl"
account() {
  py "$work" <<'PY'
import json, sys
work = sys.argv[1]
stream = [json.loads(l) for l in open(f"{work}/stream.jsonl")]
rows = json.load(open(f"{work}/rows.json"))["rows"]
ranges = [json.loads(l)["KinesisBatchInfo"] for l in open(f"{work}/ranges.jsonl")]
in_s3 = {r["trip_id"] for r in rows}
def in_range(shard, seq):
    return any(r["shardId"] == shard and int(r["startSequenceNumber"]) <= int(seq) <= int(r["endSequenceNumber"]) for r in ranges)
trips = [r for r in stream if isinstance(r["data"], dict) and r["data"].get("type") == "trip"]
print(sum(1 for r in trips if r["data"]["trip_id"] in in_s3 or in_range(r["shardId"], r["sequenceNumber"])), len(trips))
PY
}
deadline=$(($(date +%s) + 240))
while [ "$(date +%s)" -lt "$deadline" ]; do
  receive_all
  read_bucket >/dev/null
  read -r done_n all_n < <(account || echo 0 -1)
  [ "$done_n" -ge "$all_n" ] && [ "$all_n" -ge "$total" ] && break
  sleep 3
done
log "accounted for $done_n of $all_n trip records in the stream ($total in the sample)"

py "$work" "$until_epoch" <<'PY' || failures=$((failures + 1))
import collections, datetime, json, sys
work, until = sys.argv[1], int(sys.argv[2])
failed = 0
def check(what, ok, detail=""):
    global failed
    print(("ok    " if ok else "FAIL  ") + what + ("" if ok else f": {detail}"))
    failed += 0 if ok else 1
stream = [json.loads(l) for l in open(f"{work}/stream.jsonl")]
rows = json.load(open(f"{work}/rows.json"))["rows"]
ranges = [json.loads(l) for l in open(f"{work}/ranges.jsonl")]
infos = [r["KinesisBatchInfo"] for r in ranges]
sample = json.load(open(f"{work}/sample.json"))["trips"]
trips = [r for r in stream if isinstance(r["data"], dict) and r["data"].get("type") == "trip"]
check(f"the stream holds every trip of the sample once ({len(trips)})",
      sorted(r["data"]["trip_id"] for r in trips) == sorted(t["trip_id"] for t in sample))
# The replay aggregates (KPL): several trips share a Kinesis record, so S3 is matched by trip id
# (unique in the sample) and the failure ranges by the Kinesis record's shard and sequence number.
seqs = collections.Counter(r["trip_id"] for r in rows)
def in_range(r):
    return any(i["shardId"] == r["shardId"] and int(i["startSequenceNumber"]) <= int(r["sequenceNumber"]) <= int(i["endSequenceNumber"]) for i in infos)
at = lambda r: r["data"]["trip_id"]
lost = [r["data"]["trip_id"] for r in trips if at(r) not in seqs and not in_range(r)]
both = [r["data"]["trip_id"] for r in trips if at(r) in seqs and in_range(r)]
twice = [s for s, n in seqs.items() if n > 1]
check("nothing lost: every trip is in S3 or in a failure-queue range of its shard", not lost, str(lost[:5]))
check("nothing half-written: no trip both in S3 and in a failure range", not both, str(both[:5]))
check("no trip twice in S3", not twice, str(twice[:5]))
check(f"the outage sent batches to the failure queue ({len(ranges)} ranges)", len(ranges) > 0)
check("the failure metadata names the condition and the range",
      all(r["requestContext"]["condition"] in ("RetryAttemptsExhausted", "RecordAgeExceeded") and "startSequenceNumber" in r["KinesisBatchInfo"] for r in ranges))
after = [r for r in trips if datetime.datetime.fromisoformat(r["approximateArrivalTimestamp"].replace("Z", "+00:00")).timestamp() > until + 5]
check(f"the consumer recovered by itself: the {len(after)} trips put after the outage are in S3",
      after and all(at(r) in seqs for r in after))
sys.exit(1 if failed else 0)
PY

# 6. The fault run on this deployment: its own `kstream local up` on this state dir.
check "kstream local up stops cleanly on SIGINT (before the fault run)" e2e_down
soak_t0=$(date +%s)
check "10,000 records through faults, none lost (scripts/soak.sh)" scripts/soak.sh --deployed "$pattern" --prefix "$prefix" --state-dir "$state_dir" --work "$work/soak"
log "the fault run took $(($(date +%s) - soak_t0)) s"

e2e_destroy
[ "$failures" -eq 0 ] || die "$failures check(s) failed"
log "e2e-04 passed"
