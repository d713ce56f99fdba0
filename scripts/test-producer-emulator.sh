#!/usr/bin/env bash
# Producer and CLI tests against the emulator (moto). Called by scripts/test-e2e.sh once the
# emulator runs; AWS_ENDPOINT_URL defaults to the shared emulator.
#  1. every producer test with the cloudwatch feature, the #[ignore]d emulator tests included
#     (every record read back, none lost, order per key; metrics published with PutMetricData);
#  2. a CLI smoke: kstream produce, put (with a bad line) and replay (gzip) into one stream, then
#     kstream tail reads every record back;
#  3. kstream replay from an S3 prefix (gzip and plain objects) with --seek and --watermarks into
#     a 2-shard stream, read back raw (tests/replay_check.py): the trips after the seek point
#     byte-identical to the sample's lines plus "\n", watermark records on both shards.
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
cd "$KSTREAM_ROOT"
export AWS_ENDPOINT_URL="${AWS_ENDPOINT_URL:-http://127.0.0.1:4566}"
export AWS_REGION="${AWS_REGION:-us-east-1}" AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}"
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-test}" AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-test}"

# The workspace build has the cloudwatch feature on (kstream-cli enables it).
kstream_tests crates/producer -- --include-ignored
KSTREAM=target/debug/kstream
AWS=.venv/bin/aws
STREAM="kstream-cli-smoke-$$-$(date +%s)"
WORK="$(mktemp -d)"
cleanup() {
  "$AWS" kinesis delete-stream --stream-name "$STREAM" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
"$AWS" kinesis create-stream --stream-name "$STREAM" --shard-count 2
"$AWS" kinesis wait stream-exists --stream-name "$STREAM"

fail() { echo "FAIL: $*" >&2; exit 1; }

"$KSTREAM" produce --stream "$STREAM" --rate 0 --count 300

python3 - "$WORK" <<'EOF'
import datetime, gzip, json, sys
work = sys.argv[1]
with open(f"{work}/put.jsonl", "w") as f:
    for i in range(50):
        f.write(json.dumps({"ticker": ["AAPL", "MSFT"][i % 2], "n": i}) + "\n")
    f.write("this line is not JSON\n")
t0 = datetime.datetime(2018, 1, 1)
with gzip.open(f"{work}/trips.json.gz", "wt") as f:
    for i in range(100):
        t = t0 + datetime.timedelta(seconds=36 * i)
        f.write(json.dumps({"trip_id": i, "type": "trip", "total_amount": 9.5,
                            "dropoff_datetime": t.strftime("%Y-%m-%dT%H:%M:%S.000Z")}) + "\n")
EOF

if "$KSTREAM" put --stream "$STREAM" "$WORK/put.jsonl" --partition-key-template '{{ticker}}' \
  2>"$WORK/put.err"; then
  fail "kstream put succeeded despite a bad line"
fi
grep -q '^line 51: not JSON' "$WORK/put.err" || fail "bad line not reported: $(cat "$WORK/put.err")"

# One hour of trips at 3600x: about a second.
"$KSTREAM" replay --stream "$STREAM" "$WORK/trips.json.gz" --speedup 3600

"$KSTREAM" tail --stream "$STREAM" --from trim-horizon --count 450 --timeout 30s >"$WORK/tail.jsonl"
python3 - "$WORK/tail.jsonl" <<'EOF'
import collections, json, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
assert len(rows) == 450, len(rows)
tickers = [r for r in rows if "price" in r["data"]]
puts = [r for r in rows if "n" in r["data"]]
trips = [r for r in rows if r["data"].get("type") == "trip"]
assert (len(tickers), len(puts), len(trips)) == (300, 50, 100), (len(tickers), len(puts), len(trips))
assert sorted(r["data"]["n"] for r in puts) == list(range(50))
assert sorted(r["data"]["trip_id"] for r in trips) == list(range(100))
assert all(r["partitionKey"] == r["data"]["ticker"] for r in puts)
# Order per partition key (by shard position) for the ticker records.
by_key = collections.defaultdict(list)
for r in tickers:
    by_key[r["partitionKey"]].append(r["data"]["event_time"])
assert all(v == sorted(v) for v in by_key.values()), "order per key"
print(f"CLI smoke: {len(rows)} records read back "
      f"({sum(r['aggregated'] for r in rows)} from aggregates)")
EOF

# 3. kstream replay from an S3 prefix with --seek and --watermarks into a 2-shard stream: the
#    committed trip sample split into a gzip object and a plain one (each decompressed by its
#    detected format, in listing order), a README.md the replay skips and an object outside the
#    prefix it must not read; tests/replay_check.py reads every shard back.
BUCKET="kstream-replay-$$-$(date +%s)"
RSTREAM="kstream-replay-smoke-$$-$(date +%s)"
SEEK=2018-01-01T03:00:00Z
cleanup_replay() {
  "$AWS" kinesis delete-stream --stream-name "$RSTREAM" >/dev/null 2>&1 || true
  "$AWS" s3 rb "s3://$BUCKET" --force >/dev/null 2>&1 || true
  cleanup
}
trap cleanup_replay EXIT
"$AWS" kinesis create-stream --stream-name "$RSTREAM" --shard-count 2
"$AWS" s3api create-bucket --bucket "$BUCKET" >/dev/null
"$AWS" kinesis wait stream-exists --stream-name "$RSTREAM"
python3 - "$WORK" data/taxi-trips-sample.json.gz <<'EOF2'
import gzip, os, sys
work, sample = sys.argv[1], sys.argv[2]
lines = gzip.open(sample, "rb").read().splitlines(keepends=True)
os.makedirs(f"{work}/s3/trips")
with gzip.open(f"{work}/s3/trips/part-00000.json.gz", "wb") as f:
    f.writelines(lines[:2000])
with open(f"{work}/s3/trips/part-00001.json", "wb") as f:
    f.writelines(lines[2000:])
with open(f"{work}/s3/trips/README.md", "w") as f:
    f.write("# not trips\n")
EOF2
"$AWS" s3 cp --recursive --quiet "$WORK/s3/trips" "s3://$BUCKET/trips/"
echo 'not JSON, outside the prefix' | "$AWS" s3 cp --quiet - "s3://$BUCKET/other/x.json"

if "$KSTREAM" replay --stream "$RSTREAM" "s3://$BUCKET/nothing-here/" 2>"$WORK/empty.err"; then
  fail "kstream replay of an empty prefix succeeded"
fi
grep -q "no objects to replay under s3://$BUCKET/" "$WORK/empty.err" \
  || fail "empty prefix not reported: $(cat "$WORK/empty.err")"

# Three hours of trips after the seek point at 10800x: about a second, with rounds every 200 ms.
"$KSTREAM" replay --stream "$RSTREAM" "s3://$BUCKET/trips/" --seek "$SEEK" --speedup 10800 \
  --watermarks --watermark-interval 200ms 2>"$WORK/replay.err" \
  || fail "kstream replay from S3 failed: $(cat "$WORK/replay.err")"
cat "$WORK/replay.err"
skipped=$(python3 - data/taxi-trips-sample.json.gz "$SEEK" <<'EOF2'
import gzip, json, sys
print(sum(json.loads(l)["dropoff_datetime"] < sys.argv[2] for l in gzip.open(sys.argv[1], "rb")))
EOF2
)
grep -q "^$skipped event(s) before --seek $(date -u -d "$SEEK" +%Y-%m-%dT%H:%M:%S.000Z) skipped" "$WORK/replay.err" \
  || fail "expected $skipped events skipped before the seek point"
sent=$(sed -n 's/^\([0-9]*\) watermark record(s) sent, 0 skipped (throttled), 0 failed$/\1/p' "$WORK/replay.err")
[ -n "$sent" ] || fail "no watermark summary in the replay's output"
.venv/bin/python tests/replay_check.py "$RSTREAM" data/taxi-trips-sample.json.gz "$SEEK" "$sent"
