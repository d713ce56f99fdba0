#!/usr/bin/env bash
# Runs every benchmark suite (bench/<suite>/run.sh) side by side with its peers; each prints ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p bench/results
for suite in bench/*/run.sh; do
  [ -x "$suite" ] || continue
  echo "==> bench: $(basename "$(dirname "$suite")")"
  "$suite"
done
