#!/usr/bin/env bash
# KPL interop, both ways, with the libraries users have (Python aws_kinesis_agg, Node aws-kinesis-agg):
#  1. kstream-kpl deaggregates the vectors those libraries made (tests/interop/vectors, committed;
#     regenerate with tests/interop/generate.sh) to the same user records, and re-encodes them to
#     the same bytes;
#  2. those libraries deaggregate kstream-kpl's records (examples/interop_out.rs) to the records we put in;
#  3. the fare API's parity table (functions/fare-api/tests/parity): node runs the reference's fare function
#     again, the output must equal the committed fares.json, and fare-api must answer every row byte for byte;
#  4. botocore (the AWS SDK for Python) signs the requests of kstream-pipeline's AWS client again
#     (examples/signed_requests.rs: S3 PutObject, SSM GetParameter, Secrets Manager GetSecretValue,
#     Lambda Invoke) and
#     gets the same signatures (tests/interop/check_sigv4.py).
# Fails on any difference.
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
cd "$KSTREAM_ROOT"
make --no-print-directory venv
if [ ! bench/node_modules/.package-lock.json -nt bench/package-lock.json ]; then
  npm ci --prefix bench --no-audit --no-fund --silent
fi

echo "==> interop 1/4: kstream-kpl reads the Python and Node vectors"
kstream_tests crates/kpl tests -- --quiet interop

echo "==> interop 2/4: Python and Node read kstream-kpl's records"
out=target/interop/kstream-kpl.json
mkdir -p "$(dirname "$out")"
kstream_example crates/kpl interop_out tests/interop/cases.json "$out"
.venv/bin/python tests/interop/check_python.py "$out"
NODE_PATH=bench/node_modules node tests/interop/check_node.js "$out"

echo "==> interop 3/4: the fare API answers as the reference's Node function (parity table)"
fares=target/interop/fares.json
node functions/fare-api/tests/parity/fares.js >"$fares"
if ! diff -u functions/fare-api/tests/parity/fares.json "$fares"; then
  die "functions/fare-api/tests/parity/fares.json differs from what node makes now (regenerate: node functions/fare-api/tests/parity/fares.js > functions/fare-api/tests/parity/fares.json)"
fi
kstream_tests functions/fare-api parity

echo "==> interop 4/4: botocore signs kstream's AWS requests the same (S3, SSM, Secrets Manager, Lambda)"
signed_requests=$(kstream_example_path crates/pipeline signed_requests)
.venv/bin/python tests/interop/check_sigv4.py "$signed_requests"
