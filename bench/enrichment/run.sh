#!/usr/bin/env bash
# Benchmark: pattern 4's enrichment consumer (functions/enrichment-consumer, Rust) against the
# same consumer written for Node 20 (bench/enrichment/node_consumer.mjs: @aws-sdk/client-s3 and
# client-ssm, @smithy/signature-v4 + @aws-crypto/sha256-js, p-limit, Powertools Metrics; pinned
# in bench/package.json), on the same Kinesis batches of trips, in one run.
#
# Workloads (make_events.py): Kinesis events of 100 and 1,000 trip records (the issue 11
# contract's shape, base64 as Lambda delivers them), with SAMPLE_EVERY=1 (every trip called:
# stresses the calls) and 20 (the reference's), against a fare endpoint answering at once and
# after 5 ms. Both sides: MAX_IN_FLIGHT=20, CALL_TIMEOUT_MS=3000, the API key from SSM at cold
# start, rows to the same local S3 (the moto emulator, scripts/emulator.sh on
# KSTREAM_EMULATOR_PORT, default 4606; started and stopped here unless one already answers
# there), each side and workload under its own prefix; at the end their rows must be the same.
#
# The fare endpoint (fare_server.py): one local process per latency, for both sides, answering
# the reference's formula and refusing any request without the API key and a valid SigV4
# signature for execute-api; both consumers reach it through AWS_ENDPOINT_URL_EXECUTE_API with
# FARE_API_URL=https://<id>.execute-api.us-east-1.amazonaws.com/prod/predictFare.
#
# Per side (drive.py): the process against a minimal local Runtime API; CPU time (user+sys, all
# threads) and wall time over the measured batches (after the warm-up), peak RSS, and the call
# latencies each side published in its EMF. Sides alternate for ROUNDS rounds; each side's
# best round counts for CPU. Writes bench/results/enrichment.md.
#
# Env: WARMUP (warm-up batches of 1,000 trips, default 1), BATCHES (measured trips in thousands:
# 3 = 3 batches of 1,000 or 30 of 100), ROUNDS (2), SIZES ("100 1000"), SAMPLE_EVERY_VALUES
# ("1 20"), FARE_LATENCIES_MS ("0 5"), KSTREAM_EMULATOR_PORT (4606).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
HERE=$ROOT/bench/enrichment
WARMUP=${WARMUP:-1}
BATCHES=${BATCHES:-3}
ROUNDS=${ROUNDS:-2}
SIZES=${SIZES:-"100 1000"}
SAMPLE_EVERY_VALUES=${SAMPLE_EVERY_VALUES:-"1 20"}
FARE_LATENCIES_MS=${FARE_LATENCIES_MS:-"0 5"}
export KSTREAM_EMULATOR_PORT=${KSTREAM_EMULATOR_PORT:-4606}
PY=${KSTREAM_VENV:-$ROOT/.venv}/bin/python
BUCKET=kstream-bench-enrichment
KEY_PARAMETER=/kstream-bench/enrichment/api-key
API_KEY=bench-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
WORK=$(mktemp -d)
STARTED_EMULATOR=0
FARE_PIDS=()
cleanup() {
  local status=$?
  for pid in "${FARE_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  if [ "$status" = 0 ]; then rm -rf "$WORK"; else echo "bench: failed; outputs kept in $WORK" >&2; fi
  if [ "$STARTED_EMULATOR" = 1 ]; then scripts/emulator.sh stop >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT

[ -x "$PY" ] || { echo "bench: the Python tools are missing ($PY): run 'make venv' first" >&2; exit 1; }
# shellcheck source=bench/lib/peers.sh
. bench/lib/peers.sh
bench_node_peers

# shellcheck source=bench/lib/build.sh
. bench/lib/build.sh
bench_build
BIN=$ROOT/target/release/enrichment-consumer

if ! scripts/emulator.sh status >/dev/null; then
  scripts/emulator.sh start >&2
  STARTED_EMULATOR=1
fi
eval "$(scripts/emulator.sh env)"
"$PY" - "$BUCKET" "$KEY_PARAMETER" "$API_KEY" <<'PY'
import sys, boto3
bucket, name, key = sys.argv[1:4]
s3 = boto3.client("s3")
s3.create_bucket(Bucket=bucket)
# Earlier runs' rows would otherwise be compared too.
for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
    for item in page.get("Contents", []):
        s3.delete_object(Bucket=bucket, Key=item["Key"])
boto3.client("ssm").put_parameter(Name=name, Value=key, Type="SecureString", Overwrite=True)
PY

# One fare endpoint per latency, on a free port each.
declare -A FARE_PORT
for latency in $FARE_LATENCIES_MS; do
  "$PY" "$HERE/fare_server.py" 0 "$latency" "$API_KEY" >"$WORK/fare-$latency.log" 2>&1 &
  FARE_PIDS+=($!)
  for _ in $(seq 50); do
    grep -q '^ready' "$WORK/fare-$latency.log" && break
    sleep 0.1
  done
  FARE_PORT[$latency]=$(awk '/^ready/ {print $2}' "$WORK/fare-$latency.log")
  [ -n "${FARE_PORT[$latency]}" ] || { cat "$WORK/fare-$latency.log" >&2; exit 1; }
done

"$PY" "$HERE/make_events.py" "$WORK/events" "$WARMUP" "$BATCHES"
export FARE_API_URL=https://k7bench01a.execute-api.us-east-1.amazonaws.com/prod/predictFare
export API_KEY_PARAMETER=$KEY_PARAMETER OUTPUT_BUCKET=$BUCKET
export MAX_IN_FLIGHT=20 CALL_TIMEOUT_MS=3000
export POWERTOOLS_SERVICE_NAME=enrichment POWERTOOLS_METRICS_NAMESPACE=kstream-bench
# The Rust function's tracing at INFO, as on Lambda; Node logs its line per batch too.
export AWS_LAMBDA_LOG_LEVEL=INFO

measure() { # side size sample_every latency round
  local side=$1 size=$2 every=$3 latency=$4 round=$5
  local label="$size-every$every-${latency}ms"
  local command
  if [ "$side" = rust ]; then command=("$BIN"); else command=(node "$HERE/node_runtime.mjs" "$HERE/node_consumer.mjs"); fi
  SAMPLE_EVERY=$every AWS_ENDPOINT_URL_EXECUTE_API=http://127.0.0.1:${FARE_PORT[$latency]} \
    OUTPUT_PREFIX=$side/$label/enriched/ ERROR_PREFIX=$side/$label/errors/ \
    "$PY" "$HERE/drive.py" "$side" "$label" "$WORK/events/$size.json" "$WORK/$side-$label-$round.out" \
    -- "${command[@]}" >>"$WORK/results.jsonl"
}

for round in $(seq 1 "$ROUNDS"); do
  for size in $SIZES; do
    for every in $SAMPLE_EVERY_VALUES; do
      for latency in $FARE_LATENCIES_MS; do
        echo "round $round/$ROUNDS: $size records, SAMPLE_EVERY=$every, fare latency ${latency} ms..." >&2
        # Alternate which side goes first, so neither always runs on a warmer machine.
        if [ $((round % 2)) = 1 ]; then
          measure rust "$size" "$every" "$latency" "$round"
          measure node "$size" "$every" "$latency" "$round"
        else
          measure node "$size" "$every" "$latency" "$round"
          measure rust "$size" "$every" "$latency" "$round"
        fi
      done
    done
  done
done

mkdir -p bench/results
"$PY" "$HERE/report.py" "$WORK/results.jsonl" "$WORK/events" "$BUCKET" bench/results/enrichment.md \
  "$WARMUP" "$BATCHES" "$ROUNDS"
