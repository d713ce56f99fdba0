#!/usr/bin/env bash
# Runs every benchmark suite (bench/<suite>/run.sh) side by side with its peers; each prints its
# table and writes bench/results/<suite>.md and <suite>.json. Then the goal summary
# (bench/summary.py: every goal met or MISSED, the ratios, the Lambda cost table; summary.md and
# cost.md) and the plots (scripts/bench-plots.sh: docs/bench/<suite>.png), and how long each
# suite took. A failing suite does not stop the others: it has no result file in the summary, and
# this script exits 1 at the end. Missed goals do not fail it; the summary marks them.
#
# Before any suite, everything is built and installed, with no measurement running: the peers'
# packages (bench/lib/peers.sh), the host release binaries (bench/lib/build.sh) and, beside them
# in the background, the arm64 Lambda zips the cold-start suite weighs (cargo lambda, in a target
# directory of its own, target/bench-lambda, so that the two cargo builds do not wait for each
# other's lock; two builds side by side keep both cores busy where one build has a single crate
# left to compile or link).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p bench/results
failed=()
timings=()
start=$SECONDS

# shellcheck source=bench/lib/peers.sh
. bench/lib/peers.sh
# shellcheck source=bench/lib/build.sh
. bench/lib/build.sh
echo "==> bench: building and installing"
bench_functions
zip_log=$(mktemp)
(
  began=$SECONDS
  CARGO_TARGET_DIR=$PWD/target/bench-lambda PATH=$PWD/.venv/bin:$PATH \
    cargo lambda build --release --arm64 --output-format zip --quiet "${FUNCTION_PACKAGES[@]}"
  echo "zip build seconds: $((SECONDS - began))"
) >"$zip_log" 2>&1 &
zip_pid=$!
bench_python_peers target/bench-stream-analytics/venv bench/stream-analytics/requirements.txt
bench_python_peers target/bench-kds-consumer/venv bench/kds-consumer/requirements.txt
bench_node_peers
bench_build
if ! wait "$zip_pid"; then
  cat "$zip_log" >&2
  echo "error: the Lambda zips did not build" >&2
  exit 1
fi
ZIP_BUILD_S=$(sed -n 's/^zip build seconds: //p' "$zip_log")
rm -f "$zip_log"
export ZIPS=skip ZIP_DIR=target/bench-lambda/lambda ZIP_BUILD_S
timings+=("$(printf '%-20s %5d s' "(builds, installs)" $((SECONDS - start)))")
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
