#!/usr/bin/env bash
# Tier: formatting and lints.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
# A TF_CLI_CONFIG_FILE naming a missing file only adds a warning to every terraform run.
if [ -n "${TF_CLI_CONFIG_FILE:-}" ] && [ ! -f "$TF_CLI_CONFIG_FILE" ]; then unset TF_CLI_CONFIG_FILE; fi
terraform fmt -check -recursive infra
terraform fmt -check -recursive patterns
# Shell scripts: warnings and errors (skipped, with a notice, where shellcheck is not installed).
if command -v shellcheck >/dev/null; then
  shellcheck -S warning scripts/*.sh scripts/lib/*.sh tests/*.sh bench/*/run.sh .ci/run
else
  echo "shellcheck not installed: shell scripts not linted" >&2
fi
