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
tiers=(lint rust fuzz conformance arch terraform interop e2e)
# The emulator tier runs beside the others, in the background: it starts once the rust tier has
# built and tested the workspace, and is waited for at the end. Most of it is waiting (on the
# emulator and on the AWS provider's polling), and the rest, the arm64 release build of the
# function packages (`make build`, ~7 min of CPU), runs at a low priority (nice) in the time the
# e2e tier spends waiting on windows, buffers and retries. Its emulator is its own
# (KSTREAM_BACKGROUND_EMULATOR_PORT, default 4568) unless AWS_ENDPOINT_URL names one for all. Run alone
# (scripts/test-emulator.sh), it is unchanged. KSTREAM_TEST_SERIAL=1 runs every tier in order.
background_after=rust
background_tier=emulator
# A test run builds each crate once and never edits it: incremental caches would only take disk
# (about 4 GB). Set CARGO_INCREMENTAL=1 to keep them.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
# What the build takes on disk, printed after each tier: a full disk shows up as a linker crash.
disk() { printf 'target/ %s, %s free' "$(du -sh target 2>/dev/null | cut -f1)" "$(df -h --output=avail . | tail -1 | tr -d ' ')"; }

if [ "${KSTREAM_TEST_SERIAL:-0}" = 1 ]; then
  tiers+=("$background_tier")
  background_after=
fi
# KSTREAM_TIERS="rust e2e emulator" runs only those tiers (in the order above; the emulator tier
# still in the background, started at once when the rust tier is not among them).
if [ -n "${KSTREAM_TIERS:-}" ]; then
  wanted=" $KSTREAM_TIERS "
  selected=()
  for tier in "${tiers[@]}"; do [[ "$wanted" != *" $tier "* ]] || selected+=("$tier"); done
  tiers=("${selected[@]}")
  [[ "$wanted" == *" $background_tier "* ]] || background_tier=none
  [[ "$wanted" == *" $background_after "* ]] || background_after=
fi
bg_pid=
bg_log=target/test-$background_tier.log
bg_start=0
stop_background() {
  [ -n "$bg_pid" ] || return 0
  if kill -0 "$bg_pid" 2>/dev/null; then
    echo "==> stopping the background tier $background_tier"
    kill -TERM -- "-$bg_pid" 2>/dev/null || true
    wait "$bg_pid" 2>/dev/null || true
  fi
}
trap stop_background EXIT
start_background() {
  local script="scripts/test-$background_tier.sh"
  [ -x "$script" ] || return 0
  mkdir -p target
  echo "==> tier: $background_tier (in the background, low priority; log: $bg_log)"
  bg_start=$(date +%s)
  # A process group of its own (job control), so stop_background can end all of it; not a session
  # of its own (setsid): with the kernel's autogroups, each session shares the CPU equally, and
  # nice would then not lower its share against the other tiers.
  set -m
  KSTREAM_EMULATOR_PORT=${KSTREAM_BACKGROUND_EMULATOR_PORT:-4568} \
    nice -n 15 "$script" >"$bg_log" 2>&1 </dev/null &
  bg_pid=$!
  set +m
}
wait_background() {
  [ -n "$bg_pid" ] || return 0
  local rc=0
  echo "==> waiting for the background tier $background_tier"
  wait "$bg_pid" || rc=$?
  bg_pid=
  cat "$bg_log"
  if [ "$rc" != 0 ]; then
    echo "==> tier $background_tier FAILED (exit $rc; log: $bg_log)"
    exit "$rc"
  fi
  echo "==> tier $background_tier passed in $(( $(date +%s) - bg_start ))s, beside the others ($(disk))"
}

start=$(date +%s)
[ -n "$background_after" ] || [ "${KSTREAM_TEST_SERIAL:-0}" = 1 ] || start_background
for tier in "${tiers[@]}"; do
  script="scripts/test-$tier.sh"
  [ -x "$script" ] || continue
  t0=$(date +%s)
  echo "==> tier: $tier"
  "$script"
  echo "==> tier $tier passed in $(( $(date +%s) - t0 ))s ($(disk))"
  [ "$tier" != "$background_after" ] || start_background
done
wait_background
echo "==> all tiers passed in $(( $(date +%s) - start ))s"
