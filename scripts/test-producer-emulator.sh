#!/usr/bin/env bash
# Producer tests against the emulator (moto): every record read back, none lost, order per key.
# Called by scripts/test-e2e.sh once the emulator runs; AWS_ENDPOINT_URL defaults to the shared one.
set -euo pipefail
cd "$(dirname "$0")/.."
export AWS_ENDPOINT_URL="${AWS_ENDPOINT_URL:-http://127.0.0.1:4566}"
export AWS_REGION="${AWS_REGION:-us-east-1}" AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}"
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-test}" AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-test}"
cargo test -p kstream-producer --test tests emulator:: -- --ignored
