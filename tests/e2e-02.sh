#!/usr/bin/env bash
# End to end, pattern 2 through `kstream local`: the same Terraform as for AWS applied to the emulator,
# the real stream-analytics binary (built for this machine) run by the local windowed mapping.
#
#   1. apply patterns/02-kpl-kds-analytics under a unique prefix with the emulator-only settings
#      bucket_tls_only_policy=false (moto refuses object writes under a policy with a conditional Deny)
#      and force_destroy=true, one shard, a 10 s tumbling window, one retry, TRIM_HORIZON, and no
#      scheduled producer (records are put here, so every one is known);
#   2. start `kstream local up --no-api`;
#   3. put 30 ticker records (three tickers, prices around the threshold, one exactly at it) in the
#      reference's schema with SQL event times; wait until the window closed and its aggregates are
#      in S3; check with boto3: every record with price > PRICE_THRESHOLD exactly once as a JSON line
#      {"event_time","price"} under <rows_prefix>ticker=<ticker>/dt=<event date>/hr=<event hour>/,
#      none at or below it; the aggregates' count, min, max and sum per ticker equal a recount of
#      the records put;
#   4. a poison record (not a ticker): reported by the function, retried once, its batch's metadata
#      (shard, start sequence number = the poison's) in the failure queue;
#   5. Ctrl-C (SIGINT) stops the data plane; destroy, and nothing named with the prefix is left.
#
# Needs the emulator (scripts/test-e2e.sh starts one if none answers; alone: `make emulator`, or
# AWS_ENDPOINT_URL), the venv, and a `kstream local` that runs tumbling windows. Prints "ok"/"FAIL"
# lines; exits 1 on failure.
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
. "$(dirname "$0")/../scripts/lib/common.sh"
cd "$KSTREAM_ROOT"

# shellcheck source=scripts/lib/e2e.sh
. scripts/lib/e2e.sh
e2e_init 02-kpl-kds-analytics kse2

e2e_build stream-analytics

window=10
log "applying patterns/$pattern (prefix $prefix, ${window} s tumbling window)"
if ! scripts/local-apply.sh apply "$pattern" -var "name_prefix=$prefix" -var "analytics_package_path=$KSTREAM_ROOT/$zip" \
  -var scheduled_producer_enabled=false -var bucket_tls_only_policy=false -var force_destroy=true \
  -var shard_count=1 -var "tumbling_window_in_seconds=$window" -var maximum_retry_attempts=1 \
  -var starting_position=TRIM_HORIZON >"$work/apply.log" 2>&1; then
  tail -n 30 "$work/apply.log" >&2
  die "terraform apply failed (log: $work/apply.log)"
fi
outputs=$(scripts/local-apply.sh output "$pattern")
out() { jq -r --arg k "$1" '.[$k].value // empty' <<<"$outputs"; }
stream=$(out stream_name)
bucket=$(out bucket_name)
rows_prefix=$(out rows_prefix)
aggregates_prefix=$(out aggregates_prefix)
queue_url=$(out failure_queue_url)
check "the mapping has the ${window} s window (read back)" test "$(out tumbling_window_in_seconds)" = "$window"

e2e_up --no-api

py() { "$KSTREAM_VENV/bin/python3" - "$@"; }

# 3. Records with known prices; the expected rows and per-ticker recount go to $work.
log "putting 30 ticker records into $stream"
py "$stream" "$work" <<'PY'
import datetime, json, sys, boto3
stream, work = sys.argv[1:3]
base = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
records = []
for i in range(30):
    ticker = ["AMZN", "MSFT", "AAPL"][i % 3]
    price = 50.0 if i == 7 else round(40 + (i * 37) % 25 + 0.25, 2)
    # Milliseconds that end in a non-zero digit: the function writes Flink's form, which drops
    # trailing zeros of the fraction.
    records.append({"event_time": f"{base}.{10 * i + 1:03d}", "ticker": ticker, "price": price})
kinesis = boto3.client("kinesis")
answer = kinesis.put_records(StreamName=stream, Records=[
    {"Data": json.dumps(r).encode(), "PartitionKey": r["ticker"]} for r in records])
assert answer["FailedRecordCount"] == 0, answer
json.dump(records, open(f"{work}/records.json", "w"))
PY
pass "30 records put"

# The aggregates of every window of the records, once their counts add up to all of them (the
# window closes after its end, 10 s, once a read finds nothing more of it).
read_outputs() {
  py "$bucket" "$rows_prefix" "$aggregates_prefix" "$work" <<'PY'
import json, sys, boto3
bucket, rows_prefix, agg_prefix, work = sys.argv[1:5]
s3 = boto3.client("s3")
def objects(prefix):
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for o in page.get("Contents", []):
            yield o["Key"], s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read().decode()
rows = []
for key, body in objects(rows_prefix):
    parts = dict(p.split("=", 1) for p in key[len(rows_prefix):].split("/")[:-1])
    for line in body.splitlines():
        rows.append({"key": key, "partitions": parts, "row": json.loads(line), "line": line})
aggregates = []
for key, body in objects(agg_prefix):
    for line in body.splitlines():
        aggregates.append({"key": key, "line": json.loads(line)})
json.dump({"rows": rows, "aggregates": aggregates}, open(f"{work}/outputs.json", "w"))
print(sum(a["line"]["count"] for a in aggregates))
PY
}
counted=0
for _ in $(seq 1 45); do
  counted=$(read_outputs)
  [ "$counted" -lt 30 ] || break
  sleep 2
done
check "the window closed: its aggregates count all 30 records (counted $counted)" test "$counted" -eq 30

verdict=$(py "$work" <<'PY'
import json, sys
work = sys.argv[1]
records = json.load(open(f"{work}/records.json"))
got = json.load(open(f"{work}/outputs.json"))
threshold = 50.0
problems = []

def flink(t):  # the function's timestamp text: trailing zeros of the fraction dropped
    date, frac = t.split(".")
    frac = frac.rstrip("0")
    return f"{date}.{frac}" if frac else date

expected = sorted((r["ticker"], flink(r["event_time"]), r["price"]) for r in records if r["price"] > threshold)
seen = sorted((g["partitions"].get("ticker"), g["row"]["event_time"], g["row"]["price"]) for g in got["rows"])
if seen != expected:
    problems.append(f"filtered rows differ: expected {len(expected)}, got {len(seen)}: "
                    f"missing {sorted(set(expected) - set(seen))}, unexpected or twice "
                    f"{[s for s in seen if seen.count(s) > 1 or s not in expected]}")
for g in got["rows"]:
    if set(g["row"]) != {"event_time", "price"}:
        problems.append(f"row fields {sorted(g['row'])} in {g['key']}")
    day, hour = g["row"]["event_time"][:10], g["row"]["event_time"][11:13]
    if g["partitions"] != {"ticker": g["partitions"].get("ticker"), "dt": day, "hr": hour}:
        problems.append(f"{g['key']}: partitions {g['partitions']} do not match event time {g['row']['event_time']}")

for ticker in ("AMZN", "MSFT", "AAPL"):
    prices = [r["price"] for r in records if r["ticker"] == ticker]
    lines = [a["line"] for a in got["aggregates"] if a["line"]["ticker"] == ticker]
    count = sum(l["count"] for l in lines)
    total = sum(l["sum_price"] for l in lines)
    low = min((l["min_price"] for l in lines), default=None)
    high = max((l["max_price"] for l in lines), default=None)
    if count != len(prices) or abs(total - sum(prices)) > 1e-6 or low != min(prices) or high != max(prices):
        problems.append(f"{ticker}: aggregates count {count} sum {total} min {low} max {high}, "
                        f"recount {len(prices)} {sum(prices)} {min(prices)} {max(prices)}")
    if any(l["terminated_early"] for l in lines):
        problems.append(f"{ticker}: a window ended early")
print(json.dumps({"rows": len(seen), "expected": len(expected), "problems": problems}))
PY
)
check "every record with price > 50 exactly once under ticker=/dt=/hr=, none at or below ($(jq -r '"\(.rows) of \(.expected)"' <<<"$verdict"))" \
  jqt '[.problems[] | select(startswith("filtered") or contains("partitions") or startswith("row fields"))] | length == 0' <<<"$verdict"
check "aggregates per ticker equal a recount of the records put" \
  jqt '[.problems[] | select(startswith("AMZN") or startswith("MSFT") or startswith("AAPL"))] | length == 0' <<<"$verdict"
jq -r '.problems[]' <<<"$verdict" | sed 's/^/    /'

# 4. A poison record: the function names it in batchItemFailures; after the retry its batch's
# metadata goes to the failure queue.
log "putting a record that is not a ticker"
poison=$(awse kinesis put-record --stream-name "$stream" --partition-key poison --data 'not a ticker')
poison_seq=$(jq -r .SequenceNumber <<<"$poison")
poison_shard=$(jq -r .ShardId <<<"$poison")
message=""
for _ in $(seq 1 45); do
  message=$(awse sqs receive-message --queue-url "$queue_url" --wait-time-seconds 2 | jq -c '.Messages[0].Body // empty | fromjson')
  [ -z "$message" ] || break
done
if [ -n "$message" ]; then
  check "the poison's batch metadata names its shard and sequence number" jqt \
    --arg shard "$poison_shard" --arg seq "$poison_seq" \
    '.KinesisBatchInfo.shardId == $shard and .KinesisBatchInfo.startSequenceNumber == $seq' <<<"$message"
else
  fail "the poison's batch metadata reached the failure queue"
fi

# 5. Stop, destroy, nothing left.
check "kstream local up stops cleanly on SIGINT" e2e_down
e2e_destroy

if [ "$failures" -gt 0 ]; then
  die "e2e-02: $failures check(s) failed (work dir: ${work#"$KSTREAM_ROOT"/})"
fi
log "e2e-02: all checks passed"
