#!/usr/bin/env bash
# Tier: a short smoke of the cargo-fuzz targets (fuzz/) when the nightly toolchain is present:
# builds the default targets (debug, no sanitizer; no AWS SDK) and runs each for a few seconds
# over its seed corpus. Long runs, the local data plane's targets included: `make fuzz`.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=lib/common.sh
. scripts/lib/common.sh
if ! cargo +nightly --version >/dev/null 2>&1; then
  warn "fuzz smoke SKIPPED: no nightly toolchain (rustup toolchain install nightly to run it)"
  exit 0
fi
exec scripts/fuzz.sh --smoke
