#!/usr/bin/env bash
# Producer benchmark: sustained user records per second per shard against a local endpoint that
# enforces Kinesis' shard write limits (1000 records/s, 1 MiB/s per shard; throttled entries
# beyond them), 100-byte records. Side by side in one run: kstream-producer with and without
# aggregation, and the Python peers (a boto3 PutRecords loop with aws_kinesis_agg, and without),
# on 1 shard and on 8 shards; each producer in its own process against the same endpoint
# process, so its CPU time is its own. Prints a table with ratios; writes bench/results/producer.md.
# Env: SECONDS_PER_RUN (default 12), WARMUP (default 3), RECORD_SIZE (default 100), SHARDS_WIDE (8).
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_PER_RUN="${SECONDS_PER_RUN:-12}"
WARMUP="${WARMUP:-3}"
RECORD_SIZE="${RECORD_SIZE:-100}"
SHARDS_WIDE="${SHARDS_WIDE:-8}"
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
HAVE_PY=0
if [ -x "$PY" ] && "$PY" -c 'import boto3, aws_kinesis_agg' 2>/dev/null; then
  HAVE_PY=1
else
  echo "python peers skipped: run 'make venv' for boto3 and aws_kinesis_agg" >&2
fi

# bench_one IMPL MODE SHARDS KEYS: a fresh endpoint with SHARDS shards, one producer run.
bench_one() {
  local impl=$1 mode=$2 shards=$3 keys=$4
  echo "$impl, $mode, $shards shard(s): ${SECONDS_PER_RUN}s after ${WARMUP}s warm-up..." >&2
  "$BIN" serve --shards "$shards" >"$RESULTS.url" &
  SERVER_PID=$!
  local url=""
  for _ in $(seq 300); do
    url="$(head -1 "$RESULTS.url" 2>/dev/null || true)"
    case "$url" in http://*) break ;; esac
    sleep 0.1
  done
  case "$url" in
    http://*) ;;
    *) echo "the benchmark endpoint did not start" >&2; exit 1 ;;
  esac
  if [ "$impl" = rust ]; then
    "$BIN" run --endpoint "$url" --mode "$mode" --seconds "$SECONDS_PER_RUN" --warmup "$WARMUP" \
      --record-size "$RECORD_SIZE" --keys "$keys" --shards "$shards" >>"$RESULTS"
  else
    "$PY" bench/producer/peer.py "$url" "$mode" "$SECONDS_PER_RUN" "$WARMUP" "$RECORD_SIZE" \
      "$keys" "$shards" >>"$RESULTS"
  fi
  kill "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}

bench_one rust aggregate 1 16
bench_one rust raw 1 16
if [ "$HAVE_PY" = 1 ]; then
  bench_one python aggregate 1 16
  bench_one python raw 1 16
fi
bench_one rust aggregate "$SHARDS_WIDE" 256
if [ "$HAVE_PY" = 1 ]; then
  bench_one python aggregate "$SHARDS_WIDE" 256
fi

python3 - "$RESULTS" "$OUT" "$SECONDS_PER_RUN" "$RECORD_SIZE" <<'EOF'
import datetime, json, os, platform, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
out, seconds, size = sys.argv[2], sys.argv[3], sys.argv[4]
base = next(r for r in rows if r["impl"].startswith("rust") and r["mode"] == "raw")
def find(impl, mode, shards):
    return next((r for r in rows if r["impl"].startswith(impl) and r["mode"] == mode and r["shards"] == shards), None)
lines = [
    "# Producer benchmark",
    "",
    "Sustained throughput against a local endpoint enforcing Kinesis' shard write limits (token",
    "buckets of 1000 records/s and 1 MiB/s per shard, one second of burst; entries beyond them fail",
    f"with ProvisionedThroughputExceededException), {size}-byte records, {seconds} s measured after",
    "a warm-up that spends the initial burst. Each producer runs in its own process against the",
    "same endpoint process, at its defaults: kstream-producer with rate limit 150 %, 51200-byte",
    "aggregates per predicted shard, 100 ms buffering; the Python peer is a single-threaded boto3",
    "PutRecords loop (500 entries / 5 MiB per request) resending failed entries after 100 ms, with",
    "aws_kinesis_agg aggregates of 51200 bytes (not shard-aware: on several shards its aggregates",
    "mix records of other shards, which KCL consumers drop). 1-shard runs use 16 partition keys,",
    "wide runs 256.",
    "",
    f"Run {datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')} on "
    f"{os.cpu_count()} cores ({platform.machine()}), `make bench` (bench/producer/run.sh).",
    "",
    "| producer | mode | shards | user records/s/shard | user MiB/s/shard | % of 1 MiB/s | wire efficiency | CPU ms / 10k records | records vs kstream raw |",
    "|---|---|---:|---:|---:|---:|---:|---:|---:|",
]
for r in rows:
    cpu = r.get("cpu_ms_per_10k_records")
    lines.append(
        f"| {r['impl']} | {r['mode']} | {r['shards']} | {r['user_records_per_s_per_shard']:.0f} | "
        f"{r['user_bytes_per_s_per_shard'] / 1048576:.3f} | {100 * r['fraction_of_1mib']:.1f} % | "
        f"{r['wire_efficiency']:.3f} | {cpu:.1f} | "
        f"{r['user_records_per_s_per_shard'] / base['user_records_per_s_per_shard']:.2f}× |"
        if cpu is not None else
        f"| {r['impl']} | {r['mode']} | {r['shards']} | {r['user_records_per_s_per_shard']:.0f} | "
        f"{r['user_bytes_per_s_per_shard'] / 1048576:.3f} | {100 * r['fraction_of_1mib']:.1f} % | "
        f"{r['wire_efficiency']:.3f} | – | "
        f"{r['user_records_per_s_per_shard'] / base['user_records_per_s_per_shard']:.2f}× |"
    )
lines += ["", "Goal: aggregating ≥ 90 % of 1 MiB/s of user bytes per shard, against the 1000 records/s a",
          "non-aggregating producer gets."]
agg = find("rust", "aggregate", 1)
if agg:
    verdict = "met" if agg["fraction_of_1mib"] >= 0.9 else "NOT met"
    lines.append(f"Result: {100 * agg['fraction_of_1mib']:.1f} % of 1 MiB/s per shard, goal {verdict}; "
                 f"{agg['user_records_per_s_per_shard'] / base['user_records_per_s_per_shard']:.1f}× the "
                 "records of the non-aggregating run.")
for shards in sorted({r["shards"] for r in rows}):
    rust, py = find("rust", "aggregate", shards), find("python", "aggregate", shards)
    if rust and py and py.get("cpu_ms_per_10k_records"):
        lines.append(
            f"{shards} shard(s), aggregating: kstream-producer moves "
            f"{rust['user_records_per_s_per_shard'] / py['user_records_per_s_per_shard']:.2f}× the records of the "
            f"Python peer, at {py['cpu_ms_per_10k_records'] / rust['cpu_ms_per_10k_records']:.1f}× less CPU per record.")
lines += ["", "Wire efficiency = user data bytes / bytes sent to Kinesis (data plus partition keys).",
          "Raw JSON lines of this run:", "", "```"] + [json.dumps(r) for r in rows] + ["```", ""]
open(out, "w").write("\n".join(lines))
start = next(i for i, l in enumerate(lines) if l.startswith("| producer"))
end = next(i for i, l in enumerate(lines) if l.startswith("Wire efficiency"))
print("\n".join(lines[start:end]))
EOF
echo "wrote $OUT" >&2
