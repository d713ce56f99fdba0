#!/usr/bin/env bash
# Runs every test tier that exists, in order. Called by `make test` (and so by CI).
# Each tier is a script of its own, runnable alone:
#   test-lint.sh       rustfmt, clippy -D warnings, terraform fmt
#   test-rust.sh       Rust unit and integration tests (handlers with real event shapes, property tests)
#   test-fuzz.sh       each default cargo-fuzz target over its seed corpus, 2,000 fixed-seed runs (nightly)
#   test-conformance.sh  the local data plane against AWS-recorded outputs (conformance/), counts per area
#   test-arch.sh       code that depends on the instruction set: each x86_64 MD5 kernel, and arm64 under qemu
#   test-terraform.sh  terraform validate + terraform test (mock_provider "aws") for every module and pattern
#   test-interop.sh    KPL interop vectors with the Python and Node libraries
#   test-emulator.sh   each pattern applied to and destroyed from the emulator, with smoke scripts
#   test-e2e.sh        whole patterns driven through kstream local on the emulator
set -euo pipefail
cd "$(dirname "$0")/.."
tiers=(lint rust fuzz conformance arch terraform interop emulator e2e)
# A test run builds each crate once and never edits it: incremental caches would only take disk
# (about 4 GB). Set CARGO_INCREMENTAL=1 to keep them.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
# What the build takes on disk, printed after each tier: a full disk shows up as a linker crash.
disk() { printf 'target/ %s, %s free' "$(du -sh target 2>/dev/null | cut -f1)" "$(df -h --output=avail . | tail -1 | tr -d ' ')"; }
start=$(date +%s)
for tier in "${tiers[@]}"; do
  script="scripts/test-$tier.sh"
  [ -x "$script" ] || continue
  t0=$(date +%s)
  echo "==> tier: $tier"
  "$script"
  echo "==> tier $tier passed in $(( $(date +%s) - t0 ))s ($(disk))"
done
echo "==> all tiers passed in $(( $(date +%s) - start ))s"
