#!/usr/bin/env bash
# Tier: formatting and lints.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
terraform fmt -check -recursive infra
terraform fmt -check -recursive patterns
