#!/usr/bin/env bash
# Regenerates the interop vectors: cases.json (the user records), then the aggregates made from
# them by Python aws_kinesis_agg (vectors/python.json) and Node aws-kinesis-agg (vectors/node.json).
# The outputs are committed; scripts/test-interop.sh only reads them. Rerun after changing a case.
set -euo pipefail
cd "$(dirname "$0")/../.."
make --no-print-directory venv
npm ci --prefix bench --no-audit --no-fund --silent
dir=tests/interop
.venv/bin/python "$dir/gen_cases.py" "$dir/cases.json"
.venv/bin/python "$dir/gen_python.py" "$dir/cases.json" "$dir/vectors/python.json"
NODE_PATH=bench/node_modules node "$dir/gen_node.js" "$dir/cases.json" "$dir/vectors/node.json"
ls -l "$dir/cases.json" "$dir"/vectors/*.json
