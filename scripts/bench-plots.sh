#!/usr/bin/env bash
# Draws one PNG per benchmark suite (docs/bench/<suite>.png) from its result file
# (bench/results/<suite>.json) with bench/plot.py and matplotlib, pinned here and installed in its
# own venv in the per-machine tool cache (as scripts/diagrams.sh does for `diagrams`: the test
# tiers' .venv stays without it). Run by scripts/bench.sh after the summary, and by
# `make bench-plots` from the result files already there, without running any suite.
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
cd "$KSTREAM_ROOT"

matplotlib_version=3.10.7
venv=$(kstream_python_tool matplotlib "$matplotlib_version")
"$venv/bin/python" bench/plot.py bench/results docs/bench
