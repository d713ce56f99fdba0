#!/usr/bin/env bash
# Runs every benchmark suite (bench/<suite>/run.sh) side by side with its peers; each prints its
# table and writes bench/results/<suite>.md and <suite>.json. Then the goal summary
# (bench/summary.py: every goal met or MISSED, the ratios, the Lambda cost table; summary.md and
# cost.md) and the plots (scripts/bench-plots.sh: docs/bench/<suite>.png), and how long each
# suite took. A failing suite does not stop the others: it has no result file in the summary, and
# this script exits 1 at the end. Missed goals do not fail it; the summary marks them.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p bench/results
failed=()
timings=()
start=$SECONDS
for suite in bench/*/run.sh; do
  [ -x "$suite" ] || continue
  name=$(basename "$(dirname "$suite")")
  echo "==> bench: $name"
  rm -f "bench/results/$name.json"
  began=$SECONDS
  if ! "$suite"; then
    failed+=("$name")
    echo "==> bench: $name FAILED" >&2
  fi
  timings+=("$(printf '%-20s %5d s' "$name" $((SECONDS - began)))")
done
suites_seconds=$((SECONDS - start))

echo
echo "==> bench: summary"
python3 bench/summary.py
echo "==> bench: plots"
scripts/bench-plots.sh
# The README's goal and cost tables, from this run's results, when every suite ran.
[ "${#failed[@]}" -gt 0 ] || python3 bench/readme.py README.md

echo
echo "==> bench: time per suite"
printf '  %s\n' "${timings[@]}"
printf '  %-20s %5d s (suites), %d s with the summary and plots\n' total "$suites_seconds" $((SECONDS - start))
if [ "${#failed[@]}" -gt 0 ]; then
  echo "error: suites failed: ${failed[*]}" >&2
  exit 1
fi
