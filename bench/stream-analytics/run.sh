#!/usr/bin/env bash
# Benchmark: pattern 2's tumbling-window analytics (functions/stream-analytics, Rust) against the
# same handler written with Powertools for AWS Lambda (Python) and aws_kinesis_agg
# (bench/stream-analytics/analytics.py), on the same windows, in one run.
#
# Workloads (make_events.py): one shard's window as Lambda delivers it, INVOKES invokes of 100 or
# 1,000 ticker records each, plain JSON or KPL-aggregated, then the final invoke; the state each
# invoke returns goes to the next. Both sides write their objects to the same local S3 (the moto
# emulator, scripts/emulator.sh, on KSTREAM_EMULATOR_PORT, default 4605; started and stopped here
# unless one already answers there), under prefixes of their own set through the function's
# ROWS_PREFIX / AGGREGATES_PREFIX; at the end their objects must be identical.
#
# Per side (drive.py): the Rust release binary against a minimal local Runtime API (it receives,
# parses and answers each event itself), the Python handler called as the Python runtime calls
# it (json.loads of the event, the handler, json.dumps of the response). CPU time over the
# measured windows (after WARMUP windows), peak RSS of the process. Sides alternate for ROUNDS
# rounds, each side's best round counts. Writes bench/results/stream-analytics.md.
#
# Env: INVOKES (default 4), WARMUP (1), WINDOWS (3), ROUNDS (2), KSTREAM_EMULATOR_PORT (4605).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
HERE=$ROOT/bench/stream-analytics
INVOKES=${INVOKES:-4}
WARMUP=${WARMUP:-1}
WINDOWS=${WINDOWS:-3}
ROUNDS=${ROUNDS:-2}
export KSTREAM_EMULATOR_PORT=${KSTREAM_EMULATOR_PORT:-4605}
PEERS=$ROOT/target/bench-stream-analytics/venv
PY=$PEERS/bin/python
BUCKET=kstream-bench-stream-analytics
WORK=$(mktemp -d)
STARTED_EMULATOR=0
cleanup() {
  rm -rf "$WORK"
  if [ "$STARTED_EMULATOR" = 1 ]; then scripts/emulator.sh stop >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT

# shellcheck source=bench/lib/peers.sh
. bench/lib/peers.sh
bench_python_peers "$PEERS" "$HERE/requirements.txt"

# shellcheck source=bench/lib/build.sh
. bench/lib/build.sh
bench_build
BIN=$ROOT/target/release/stream-analytics

if ! scripts/emulator.sh status >/dev/null; then
  scripts/emulator.sh start >&2
  STARTED_EMULATOR=1
fi
eval "$(scripts/emulator.sh env)"
"$PY" -c "import boto3, sys; boto3.client('s3').create_bucket(Bucket=sys.argv[1])" "$BUCKET"

"$PY" "$HERE/make_events.py" "$WORK/events" "$INVOKES"
export OUTPUT_BUCKET=$BUCKET PRICE_THRESHOLD=50
export POWERTOOLS_SERVICE_NAME=stream-analytics POWERTOOLS_METRICS_NAMESPACE=kstream-bench

measure() { # side workload
  local side=$1 workload=$2
  export ROWS_PREFIX=$side/filtered/ AGGREGATES_PREFIX=$side/aggregates/
  if [ "$side" = rust ]; then
    "$PY" "$HERE/drive.py" rust "$BIN" "$WORK/events/$workload.json" "$WARMUP" "$WINDOWS" >>"$WORK/results.jsonl"
  else
    # The handler's logs and EMF go to stdout, as on Lambda (the Rust binary's too); the result to fd 3.
    (cd "$HERE" && "$PY" drive.py python "$WORK/events/$workload.json" "$WARMUP" "$WINDOWS" \
      3>>"$WORK/results.jsonl" >/dev/null)
  fi
}

for round in $(seq 1 "$ROUNDS"); do
  for workload in 100-plain 100-kpl 1000-plain 1000-kpl; do
    echo "round $round/$ROUNDS: $workload..." >&2
    measure rust "$workload"
    measure python "$workload"
  done
done

mkdir -p bench/results
"$PY" "$HERE/report.py" "$WORK/results.jsonl" "$WORK/events" "$BUCKET" bench/results/stream-analytics.md \
  "$INVOKES" "$WARMUP" "$WINDOWS" "$ROUNDS"
