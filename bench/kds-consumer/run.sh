#!/usr/bin/env bash
# Benchmark: pattern 1's consumer (functions/kds-consumer, Rust) against the same consumer written
# with Powertools for AWS Lambda (Python) BatchProcessor (bench/kds-consumer/powertools_consumer.py,
# aws_kinesis_agg) and Powertools for AWS Lambda (TypeScript) BatchProcessor
# (bench/kds-consumer/node_consumer.mjs, aws-kinesis-agg), on the same Kinesis batches, in one run.
#
# Workloads (make_events.py): batches of 100 and 1,000 Kinesis records, plain JSON (one ~100-byte
# ticker event each) or KPL-aggregated (10 such events each), 1 % of the Kinesis records bad (one
# user record failing the validation: REQUIRED_FIELDS=id,ticker,price, poison, not JSON, not an
# object). Every side must answer every batch with exactly the batchItemFailures the workload
# expects, or the run fails.
#
# Per side (drive.py, bench/lib/runtime.py), each a process against a minimal local Runtime API
# that receives, parses, handles and answers each batch itself: the Rust release binary, the
# Python handler under awslambdaric (the runtime interface client of Lambda's Python runtimes)
# and Node 20 (bench/enrichment/node_runtime.mjs). Records per CPU-second (process CPU, all
# threads) over the measured batches after WARMUP_RECORDS Kinesis records of warm-up, peak RSS,
# and the wall time per batch (event handed out → response read). Sides alternate (each round
# starts with another side) for ROUNDS rounds; each side's best round counts for CPU. Also the
# floor: kds-consumer's runtime with a handler that answers without reading the event
# (examples/runtime_floor.rs), what receiving and answering a batch costs before any handler.
# And the socket floor (examples/socket_floor.rs): a blocking standard-library loop over the Runtime
# API with no runtime at all, the least any process spends per batch, whatever its language.
# Writes bench/results/kds-consumer.md and bench/results/kds-consumer.json.
#
# Env: RECORDS (measured Kinesis records per workload, side and round, default 20000),
# WARMUP_RECORDS (2000), MIN_BATCHES (100) and MIN_WARMUP_BATCHES (5), the fewest batches measured
# and warmed up with, whatever RECORDS and WARMUP_RECORDS give (at 1,000 records a batch, 20
# measured batches after 2 of warm-up made the CPU per batch swing by a quarter from one run to
# the next: 0.80 and 1.05 ms at 1,000 plain for the same binary), ROUNDS (2),
# WORKLOADS ("100-plain 100-kpl 1000-plain 1000-kpl").
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
HERE=$ROOT/bench/kds-consumer
RECORDS=${RECORDS:-20000}
WARMUP_RECORDS=${WARMUP_RECORDS:-2000}
MIN_BATCHES=${MIN_BATCHES:-100}
MIN_WARMUP_BATCHES=${MIN_WARMUP_BATCHES:-5}
ROUNDS=${ROUNDS:-2}
WORKLOADS=${WORKLOADS:-"100-plain 100-kpl 1000-plain 1000-kpl"}
PEERS=$ROOT/target/bench-kds-consumer/venv
PY=$PEERS/bin/python
WORK=$(mktemp -d)
cleanup() {
  local status=$?
  if [ "$status" = 0 ]; then rm -rf "$WORK"; else echo "bench: failed; outputs kept in $WORK" >&2; fi
}
trap cleanup EXIT

# shellcheck source=bench/lib/peers.sh
. bench/lib/peers.sh
bench_python_peers "$PEERS" "$HERE/requirements.txt"
bench_node_peers

# shellcheck source=bench/lib/build.sh
. bench/lib/build.sh
bench_build
BIN=$ROOT/target/release/kds-consumer
FLOOR=$ROOT/target/release/examples/runtime_floor
SOCKET_FLOOR=$ROOT/target/release/examples/socket_floor

"$PY" "$HERE/make_events.py" "$WORK/events"
# As pattern 1 configures the consumer (JSON logs at INFO, Powertools names), plus the fields
# every record must have; the peers read REQUIRED_FIELDS too.
export REQUIRED_FIELDS=id,ticker,price
export POWERTOOLS_SERVICE_NAME=kstream-p1-consumer POWERTOOLS_METRICS_NAMESPACE=kstream-bench
export AWS_LAMBDA_LOG_FORMAT=JSON AWS_LAMBDA_LOG_LEVEL=INFO

measure() { # side workload round
  local side=$1 workload=$2 round=$3
  local size=${workload%%-*}
  local warmup=$(((WARMUP_RECORDS + size - 1) / size)) batches=$(((RECORDS + size - 1) / size))
  warmup=$((warmup > MIN_WARMUP_BATCHES ? warmup : MIN_WARMUP_BATCHES))
  batches=$((batches > MIN_BATCHES ? batches : MIN_BATCHES))
  local events=$WORK/events/$workload.json out=$WORK/$side-$workload-$round.out
  case $side in
    rust) "$PY" "$HERE/drive.py" rust "$events" "$warmup" "$batches" "$out" -- "$BIN" ;;
    node) "$PY" "$HERE/drive.py" node "$events" "$warmup" "$batches" "$out" -- \
      node "$ROOT/bench/enrichment/node_runtime.mjs" "$HERE/node_consumer.mjs" ;;
    # awslambdaric takes the handler as module.function from its working directory, as the
    # Python runtime does from LAMBDA_TASK_ROOT.
    python) (cd "$HERE" && "$PY" drive.py python "$events" "$warmup" "$batches" "$out" -- \
      "$PY" -m awslambdaric powertools_consumer.handler) ;;
    floor) "$PY" "$HERE/drive.py" floor "$events" "$warmup" "$batches" "$out" -- "$FLOOR" ;;
    socket-floor) "$PY" "$HERE/drive.py" socket-floor "$events" "$warmup" "$batches" "$out" -- "$SOCKET_FLOOR" ;;
  esac >>"$WORK/results.jsonl"
}

sides=(rust python node floor socket-floor)
for round in $(seq 1 "$ROUNDS"); do
  for workload in $WORKLOADS; do
    echo "round $round/$ROUNDS: $workload..." >&2
    # Each round starts with another side, so that none always runs on a warmer machine.
    for i in "${!sides[@]}"; do
      measure "${sides[$(((round - 1 + i) % ${#sides[@]}))]}" "$workload" "$round"
    done
  done
done

mkdir -p bench/results
"$PY" "$HERE/report.py" "$WORK/results.jsonl" "$WORK/events" bench/results/kds-consumer \
  "bench/kds-consumer/run.sh (RECORDS=$RECORDS WARMUP_RECORDS=$WARMUP_RECORDS MIN_BATCHES=$MIN_BATCHES MIN_WARMUP_BATCHES=$MIN_WARMUP_BATCHES ROUNDS=$ROUNDS)"
