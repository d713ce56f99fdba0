#!/usr/bin/env bash
# KPL aggregation and deaggregation: kstream-kpl vs Python aws_kinesis_agg vs Node aws-kinesis-agg,
# side by side on the same input, plus wire efficiency. Writes bench/results/kpl.md.
# Run by `make bench` (scripts/bench.sh); takes about two minutes.
set -euo pipefail
cd "$(dirname "$0")/../.."
make --no-print-directory venv
# shellcheck source=bench/lib/peers.sh
. bench/lib/peers.sh
bench_node_peers
dir=$PWD/target/bench-kpl
mkdir -p "$dir" bench/results

echo "==> building the Rust harness (release)"
cargo bench -q -p kstream-kpl --bench kpl --no-run
echo "==> generating the shared input"
cargo bench -q -p kstream-kpl --bench kpl -- generate "$dir"
echo "==> kstream-kpl"
cargo bench -q -p kstream-kpl --bench kpl -- run "$dir" > "$dir/rust.json"
echo "==> Python aws_kinesis_agg"
.venv/bin/python bench/kpl/bench.py "$dir" > "$dir/python.json"
echo "==> Node aws-kinesis-agg"
NODE_PATH=bench/node_modules node bench/kpl/bench.js "$dir" > "$dir/node.json"
echo
.venv/bin/python bench/kpl/report.py "$dir" bench/results/kpl.md
