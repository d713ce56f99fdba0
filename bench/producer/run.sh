#!/usr/bin/env bash
# Producer benchmark: sustained user records per second per shard against a local endpoint that
# enforces Kinesis' shard write limits (1000 records/s, 1 MiB/s per shard; throttled entries
# beyond them), 100-byte records. Side by side in one run: kstream-producer with and without
# aggregation, and the Python peers (a boto3 PutRecords loop with aws_kinesis_agg, and without),
# on 1 shard and on 8 shards; each producer in its own process against the same endpoint
# process, so its CPU time is its own. Prints a table with ratios (bench/producer/report.py); writes
# bench/results/producer.md and producer.json.
# Env: SECONDS_PER_RUN (default 8), WARMUP (default 3), RECORD_SIZE (default 100), SHARDS_WIDE (8).
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_PER_RUN="${SECONDS_PER_RUN:-8}"
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

# shellcheck source=bench/lib/build.sh
. bench/lib/build.sh
bench_build
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

python3 bench/producer/report.py "$RESULTS" "$OUT" "$SECONDS_PER_RUN" "$RECORD_SIZE"
