#!/usr/bin/env bash
# Runs every test tier that exists, in order. Called by `make test` (and so by CI).
# Each tier is a script of its own, runnable alone:
#   test-lint.sh       rustfmt, clippy -D warnings, terraform fmt
#   test-rust.sh       Rust unit and integration tests (handlers with real event shapes, property tests)
#   test-arm64.sh      the crates with architecture-dependent code, tested on arm64 under qemu
#   test-terraform.sh  terraform validate + terraform test (mock_provider "aws") for every module and pattern
#   test-interop.sh    KPL interop vectors with the Python and Node libraries
#   test-emulator.sh   each pattern applied to and destroyed from the emulator, with smoke scripts
#   test-e2e.sh        whole patterns driven through kstream local on the emulator
set -euo pipefail
cd "$(dirname "$0")/.."
tiers=(lint rust arm64 terraform interop emulator e2e)
start=$(date +%s)
for tier in "${tiers[@]}"; do
  script="scripts/test-$tier.sh"
  [ -x "$script" ] || continue
  t0=$(date +%s)
  echo "==> tier: $tier"
  "$script"
  echo "==> tier $tier passed in $(( $(date +%s) - t0 ))s"
done
echo "==> all tiers passed in $(( $(date +%s) - start ))s"
