#!/usr/bin/env bash
# Producer benchmark: sustained user records per second per shard against a local endpoint that
# enforces Kinesis' shard write limits (1000 records/s, 1 MiB/s per shard; throttled entries
# beyond them), 100-byte records. Side by side in one run: kstream-producer with aggregation,
# kstream-producer without, and Python peers (boto3 PutRecords loop with aws_kinesis_agg, and
# without). Prints a table with ratios and writes bench/results/producer.md.
# Env: SECONDS_PER_RUN (default 15), WARMUP (default 3), RECORD_SIZE (default 100).
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_PER_RUN="${SECONDS_PER_RUN:-15}"
WARMUP="${WARMUP:-3}"
RECORD_SIZE="${RECORD_SIZE:-100}"
PY=.venv/bin/python
OUT=bench/results/producer.md
mkdir -p bench/results
RESULTS="$(mktemp)"
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; fi
  rm -f "$RESULTS" "$RESULTS.url"
}
trap cleanup EXIT

echo "building the benchmark (release)..." >&2
cargo build --release --quiet -p kstream-producer --example bench_producer
BIN=target/release/examples/bench_producer

for mode in aggregate raw; do
  echo "kstream-producer, $mode: ${SECONDS_PER_RUN}s after ${WARMUP}s warm-up..." >&2
  "$BIN" run --mode "$mode" --seconds "$SECONDS_PER_RUN" --warmup "$WARMUP" \
    --record-size "$RECORD_SIZE" >>"$RESULTS"
done

if [ -x "$PY" ] && "$PY" -c 'import boto3, aws_kinesis_agg' 2>/dev/null; then
  for mode in aggregate raw; do
    echo "python peer, $mode..." >&2
    "$BIN" serve >"$RESULTS.url" &
    SERVER_PID=$!
    for _ in $(seq 50); do [ -s "$RESULTS.url" ] && break; sleep 0.1; done
    "$PY" bench/producer/peer.py "$(head -1 "$RESULTS.url")" "$mode" "$SECONDS_PER_RUN" "$WARMUP" \
      "$RECORD_SIZE" >>"$RESULTS"
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
  done
else
  echo "python peers skipped: run 'make venv' for boto3 and aws_kinesis_agg" >&2
fi

python3 - "$RESULTS" "$OUT" "$SECONDS_PER_RUN" "$RECORD_SIZE" <<'EOF'
import json, sys, platform, os, datetime
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
out, seconds, size = sys.argv[2], sys.argv[3], sys.argv[4]
base = next(r for r in rows if r["impl"].startswith("rust") and r["mode"] == "raw")
lines = [
    "# Producer benchmark",
    "",
    f"Sustained throughput of one shard against a local endpoint enforcing Kinesis' shard write",
    f"limits (token buckets of 1000 records/s and 1 MiB/s, one second of burst; entries beyond",
    f"them fail with ProvisionedThroughputExceededException), {size}-byte records over 16",
    f"partition keys, {seconds} s measured after a warm-up that spends the initial burst.",
    f"Producers run at their defaults (kstream-producer: rate limit 150 %, 51200-byte aggregates,",
    f"100 ms buffering; the Python peer: a boto3 PutRecords loop resending failed entries after",
    f"100 ms, aws_kinesis_agg aggregates of 51200 bytes).",
    "",
    f"Run {datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')} on "
    f"{os.cpu_count()} cores ({platform.machine()}), `make bench` (bench/producer/run.sh).",
    "",
    "| producer | mode | user records/s/shard | user MiB/s/shard | % of 1 MiB/s | wire efficiency | vs kstream raw |",
    "|---|---|---:|---:|---:|---:|---:|",
]
for r in rows:
    lines.append(
        f"| {r['impl']} | {r['mode']} | {r['user_records_per_s_per_shard']:.0f} | "
        f"{r['user_bytes_per_s_per_shard'] / 1048576:.3f} | {100 * r['fraction_of_1mib']:.1f} % | "
        f"{r['wire_efficiency']:.3f} | {r['user_records_per_s_per_shard'] / base['user_records_per_s_per_shard']:.2f}× |"
    )
agg = next((r for r in rows if r["impl"].startswith("rust") and r["mode"] == "aggregate"), None)
py = next((r for r in rows if r["impl"].startswith("python") and r["mode"] == "aggregate"), None)
lines += ["", "Goal: aggregating ≥ 90 % of 1 MiB/s of user bytes per shard, against the 1000 records/s a",
          "non-aggregating producer gets."]
if agg:
    verdict = "met" if agg["fraction_of_1mib"] >= 0.9 else "NOT met"
    lines.append(f"Result: {100 * agg['fraction_of_1mib']:.1f} % of 1 MiB/s — goal {verdict}; "
                 f"{agg['user_records_per_s_per_shard'] / base['user_records_per_s_per_shard']:.1f}× the records of the non-aggregating run.")
if agg and py:
    lines.append(f"Against the Python aggregating peer: {agg['user_records_per_s_per_shard'] / py['user_records_per_s_per_shard']:.2f}×.")
lines += ["", "Wire efficiency = user data bytes / bytes sent to Kinesis (data plus partition keys).",
          "Raw JSON lines of this run:", "", "```"] + [json.dumps(r) for r in rows] + ["```", ""]
open(out, "w").write("\n".join(lines))
start = next(i for i, l in enumerate(lines) if l.startswith("| producer"))
end = next(i for i, l in enumerate(lines) if l.startswith("Wire efficiency"))
print("\n".join(lines[start:end]))
EOF
echo "wrote $OUT" >&2
