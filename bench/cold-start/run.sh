#!/usr/bin/env bash
# Benchmark: the cold start of every function in functions/ and the size of its Lambda zip.
#
# Cold start (drive.py, through bench/lib/runtime.py): each function's release binary for this
# machine, started STARTS times per round against a fresh minimal local Runtime API, with the
# environment its init needs; per start the time from just before the process is started to its
# first GET /next, and to its response to one small valid event (make_events.py) having arrived,
# the CPU time of its init and its peak RSS. Beside it the same handlers as Node 20 and Python
# 3.11 peers where the repository has them (enrichment: bench/enrichment/node_consumer.mjs;
# firehose-transform: bench/firehose-transform/node_transform.js; stream-analytics:
# bench/stream-analytics/analytics.py; kds-consumer: bench/kds-consumer's peers when present),
# started as the managed runtimes start a handler: Node with bench/enrichment/node_runtime.mjs
# importing the module, Python with bench/lib/python_runtime.py importing it. The managed
# runtimes' own bootstrap is not in the peers' figures (it is not in ours either: we are the
# bootstrap). Sides alternate per function and round.
#
# Init that needs AWS goes to the local emulator (scripts/emulator.sh on KSTREAM_EMULATOR_PORT,
# default 4607; started and stopped here unless one already answers there): enrichment-consumer
# (both sides) reads its API key from SSM at init; redrive's event receives from an (empty) SQS
# queue and scheduled-producer's puts 10 records into a Kinesis stream.
#
# Zip sizes: target/lambda/<function>/bootstrap.zip as `make build` makes it
# (cargo lambda build --release --arm64 --output-format zip); the build runs after the timings
# (a no-op when the zips are up to date; from nothing, arm64 cross builds with zig: slow) and
# its time is reported. ZIPS=skip measures the zips in ZIP_DIR without building (scripts/bench.sh
# builds them beside the host build, before any suite, and passes their build time in
# ZIP_BUILD_S).
#
# Env: STARTS (starts per side and round, default 10), ROUNDS (2), FUNCTIONS (all of
# functions/), ZIPS (build | skip), ZIP_DIR (target/lambda), ZIP_BUILD_S (with ZIPS=skip: the
# build time to report), KSTREAM_EMULATOR_PORT (4607).
# Writes bench/results/cold-start.md and cold-start.json.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
HERE=$ROOT/bench/cold-start
STARTS=${STARTS:-10}
ROUNDS=${ROUNDS:-2}
ZIPS=${ZIPS:-build}
read -r -a FUNCTIONS <<<"${FUNCTIONS:-$(cd functions && echo */ | tr -d /)}"
PACKAGES=()
for function in "${FUNCTIONS[@]}"; do PACKAGES+=(-p "$function"); done
export KSTREAM_EMULATOR_PORT=${KSTREAM_EMULATOR_PORT:-4607}
BUCKET=kstream-bench-cold-start
STREAM=kstream-bench-cold-start
QUEUE=kstream-bench-cold-start-on-failure
KEY_PARAMETER=/kstream-bench/cold-start/api-key
WORK=$(mktemp -d)
STARTED_EMULATOR=0
cleanup() {
  local status=$?
  if [ "$status" = 0 ]; then rm -rf "$WORK"; else echo "bench: failed; outputs kept in $WORK" >&2; fi
  if [ "$STARTED_EMULATOR" = 1 ]; then scripts/emulator.sh stop >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT

# shellcheck source=bench/lib/peers.sh
. bench/lib/peers.sh
[ -x .venv/bin/python ] || { echo "bench: the Python tools are missing (.venv): run 'make venv' first" >&2; exit 1; }
bench_python_peers "$ROOT/target/bench-stream-analytics/venv" bench/stream-analytics/requirements.txt
ANALYTICS_PY=$ROOT/target/bench-stream-analytics/venv/bin/python
bench_node_peers
KDS_PEERS=0
if [ -f bench/kds-consumer/powertools_consumer.py ] && [ -f bench/kds-consumer/node_consumer.mjs ]; then
  bench_python_peers "$ROOT/target/bench-kds-consumer/venv" bench/kds-consumer/requirements.txt
  KDS_PY=$ROOT/target/bench-kds-consumer/venv/bin/python
  KDS_PEERS=1
fi

# shellcheck source=bench/lib/build.sh
. bench/lib/build.sh
bench_build

if ! scripts/emulator.sh status >/dev/null; then
  scripts/emulator.sh start >&2
  STARTED_EMULATOR=1
fi
eval "$(scripts/emulator.sh env)"
QUEUE_URL=$(.venv/bin/python - "$BUCKET" "$STREAM" "$QUEUE" "$KEY_PARAMETER" <<'PY'
import sys, boto3
bucket, stream, queue, parameter = sys.argv[1:5]
boto3.client("s3").create_bucket(Bucket=bucket)
boto3.client("ssm").put_parameter(Name=parameter, Value="cold-start-key", Type="SecureString", Overwrite=True)
kinesis = boto3.client("kinesis")
if stream not in kinesis.list_streams()["StreamNames"]:
    kinesis.create_stream(StreamName=stream, ShardCount=1)
kinesis.get_waiter("stream_exists").wait(StreamName=stream, WaiterConfig={"Delay": 1})
sqs = boto3.client("sqs")
url = sqs.create_queue(QueueName=queue)["QueueUrl"]
sqs.purge_queue(QueueUrl=url)
print(url)
PY
)
"$ANALYTICS_PY" "$HERE/make_events.py" "$WORK/events" "$QUEUE_URL" "$BUCKET"

# What each function's init needs (and the peers' the same).
export POWERTOOLS_SERVICE_NAME=cold-start POWERTOOLS_METRICS_NAMESPACE=kstream-bench AWS_LAMBDA_LOG_LEVEL=INFO
export OUTPUT_BUCKET=$BUCKET PRICE_THRESHOLD=50                                  # stream-analytics, enrichment
export FARE_API_URL=https://k7bench01a.execute-api.us-east-1.amazonaws.com/prod/predictFare
export API_KEY_PARAMETER=$KEY_PARAMETER SAMPLE_EVERY=20                          # enrichment
export TEMPLATE_FILE=$ROOT/bench/firehose-transform/seed.hbs                     # firehose-transform
export STREAM_NAME=$STREAM                                                       # scheduled-producer

NODE_RUNTIME=$ROOT/bench/enrichment/node_runtime.mjs
peers() { # function: the peer sides it has
  case $1 in
    enrichment-consumer | firehose-transform) echo node ;;
    stream-analytics) echo python ;;
    kds-consumer) if [ "$KDS_PEERS" = 1 ]; then echo node python; fi ;;
  esac
}
command_of() { # function side: the command line
  case $1/$2 in
    */kstream) echo "$ROOT/target/release/$1" ;;
    enrichment-consumer/node) echo "node $NODE_RUNTIME $ROOT/bench/enrichment/node_consumer.mjs" ;;
    firehose-transform/node) echo "node $NODE_RUNTIME $ROOT/bench/firehose-transform/node_transform.js" ;;
    stream-analytics/python) echo "$ANALYTICS_PY $ROOT/bench/lib/python_runtime.py $ROOT/bench/stream-analytics/analytics.py handler" ;;
    kds-consumer/node) echo "node $NODE_RUNTIME $ROOT/bench/kds-consumer/node_consumer.mjs" ;;
    kds-consumer/python) echo "$KDS_PY $ROOT/bench/lib/python_runtime.py $ROOT/bench/kds-consumer/powertools_consumer.py handler" ;;
  esac
}
measure() { # function side
  local command
  read -r -a command <<<"$(command_of "$1" "$2")"
  .venv/bin/python "$HERE/drive.py" "$1" "$2" "$WORK/events/$1.json" "$STARTS" "$WORK/$1-$2.stderr" \
    -- "${command[@]}" >>"$WORK/results.jsonl"
}

for round in $(seq 1 "$ROUNDS"); do
  for function in "${FUNCTIONS[@]}"; do
    read -r -a sides <<<"kstream $(peers "$function")"
    echo "round $round/$ROUNDS: $function (${sides[*]}), $STARTS starts each..." >&2
    # Alternate which side goes first, so neither always runs on a warmer machine.
    if [ $((round % 2)) = 0 ]; then
      for ((i = ${#sides[@]} - 1; i >= 0; i--)); do measure "$function" "${sides[i]}"; done
    else
      for side in "${sides[@]}"; do measure "$function" "$side"; done
    fi
  done
done

# The Lambda zips, after the timings so that the cross build does not load the machine under them.
ZIP_BUILD_S=${ZIP_BUILD_S:--1}
ZIP_DIR=${ZIP_DIR:-target/lambda}
if [ "$ZIPS" = build ]; then
  echo "building the Lambda zips (cargo lambda build --release --arm64 --output-format zip)..." >&2
  began=$SECONDS
  PATH=$ROOT/.venv/bin:$PATH cargo lambda build --release --arm64 --output-format zip --quiet "${PACKAGES[@]}" >&2
  ZIP_BUILD_S=$((SECONDS - began))
fi
for function in "${FUNCTIONS[@]}"; do
  zip=$ZIP_DIR/$function/bootstrap.zip
  if [ -f "$zip" ]; then printf '%s %s\n' "$function" "$(stat -c %s "$zip")"; fi
done >"$WORK/zips.txt"

mkdir -p bench/results
.venv/bin/python "$HERE/report.py" "$WORK/results.jsonl" "$WORK/zips.txt" "$ZIP_BUILD_S" bench/results/cold-start.md
