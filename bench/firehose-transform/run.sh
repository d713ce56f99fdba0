#!/usr/bin/env bash
# Benchmark: the Firehose transform (functions/firehose-transform, Rust) against the same
# template rendered by Node Handlebars.js 4.7 (bench/package.json), on the same 3 MiB
# Firehose event of 1 KiB records, in one run. Each side does a whole invocation's work:
# parse the event (Rust through serde_path_to_error, as lambda_runtime does), base64- and
# JSON-decode each record, render, base64-encode, serialize the response.
#
# Per side: wall time and CPU time per invocation (Rust: the thread's CPU time, the
# process is single-threaded; Node: process.cpuUsage, garbage-collector threads
# included), peak RSS from /usr/bin/time -v. The Rust driver uses the Lambda binary's
# global allocator (mimalloc v2, functions/firehose-transform/src/main.rs). Sides alternate
# for ROUNDS rounds and each side's best round counts, so load from other processes on a
# shared machine skews the ratio as little as possible. Goals: >= 5x Node's throughput,
# <= 1/4 of its peak memory. Writes bench/results/firehose-transform.md and .json (report.py).
#
# Env: ITERATIONS (default 30), WARMUP (default 3), ROUNDS (default 3), RECORDS (default
# 3072 = 3 MiB).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
HERE=bench/firehose-transform
ITERATIONS=${ITERATIONS:-30}
WARMUP=${WARMUP:-3}
ROUNDS=${ROUNDS:-3}
RECORDS=${RECORDS:-3072}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

[ -x /usr/bin/time ] || { echo "bench: /usr/bin/time is required (apt-get install time)" >&2; exit 1; }
if [ ! -d bench/node_modules/handlebars ]; then
  (cd bench && npm ci --no-audit --no-fund >/dev/null)
fi

# shellcheck source=bench/lib/build.sh
. bench/lib/build.sh
bench_build
RUST_BIN=$ROOT/target/release/examples/transform_bench

python3 "$HERE/make_event.py" "$WORK/event.json" "$RECORDS"
TEMPLATE=$HERE/seed.hbs

measure() { # name round command... -> $WORK/<name>.<round>.json and .rss (KiB)
  local name=$1 round=$2; shift 2
  /usr/bin/time -v -o "$WORK/$name.$round.time" "$@" >"$WORK/$name.$round.json"
  awk -F': ' '/Maximum resident set size/ {print $2}' "$WORK/$name.$round.time" >"$WORK/$name.$round.rss"
}

for round in $(seq 1 "$ROUNDS"); do
  echo "round $round/$ROUNDS..." >&2
  measure rust "$round" "$RUST_BIN" "$WORK/event.json" "$TEMPLATE" "$ITERATIONS" "$WARMUP"
  measure node "$round" node "$HERE/node_transform.js" "$WORK/event.json" "$TEMPLATE" "$ITERATIONS" "$WARMUP"
done

python3 "$HERE/report.py" "$WORK" "$RECORDS" "$ITERATIONS" "$ROUNDS"
