#!/usr/bin/env bash
# Tier: Rust unit and integration tests (tests needing the emulator are #[ignore]d here and run by test-e2e.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --workspace
