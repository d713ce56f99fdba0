#!/usr/bin/env bash
# Tier: whole patterns driven through the local data plane (`kstream local`) on the emulator.
#
#   1. the emulator tests of the kstream-local crates (their `tests` targets with --ignored): event
#      source mappings with the real test-function binary (crash mid-batch, retries exhausted into SQS,
#      restart from checkpoints, bisect of a poison record in 100, ReportBatchItemFailures, timeouts,
#      filters, parallelization, a changed retry count, tumbling windows, a stream consumer), the REST
#      API executor against moto, the schedules fired by the local scheduler, the
#      scheduled-producer's handler, the enrichment consumer's key and S3 output, kds-consumer's
#      failed-record archive on S3, and `kstream redrive` and the redrive function over the
#      on-failure messages of a real mapping run;
#   2. scripts/test-producer-emulator.sh: the producer (nothing lost, order per key) and the CLI;
#   3. tests/e2e-*.sh: each pattern applied with Terraform and driven end to end (tests/e2e-01.sh:
#      API -> stream -> kds-consumer -> failure queue, and a retry count changed in the variables).
#
# Starts the emulator if none answers (scripts/emulator.sh) and stops it at the end only if it started it.
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
cd "$KSTREAM_ROOT"

kstream_require_venv
kstream_emulator_for_tier
trap kstream_emulator_release EXIT

t0=$(date +%s)
log "kstream-local* emulator tests against $AWS_ENDPOINT_URL"
# The Firehose delivery tests run the real transform binary, which this build makes too.
kstream_tests crates/local-apigw tests -- --ignored
kstream_tests crates/local-firehose tests -- --ignored
kstream_tests crates/local-lambda tests -- --ignored
kstream_tests crates/local tests -- --ignored
# Schedules fired at the test function and at the real scheduled-producer (read back, deaggregated).
kstream_tests crates/local-scheduler tests -- --ignored
kstream_tests functions/scheduled-producer handler -- --ignored
# The enrichment consumer's API key from SSM / Secrets Manager (and re-read after a rotation), rows to S3.
kstream_tests functions/enrichment-consumer emulator -- --ignored
# The consumers' failed-record archive on moto S3 (kds-consumer; enrichment-consumer's in tests/archive.rs).
kstream_tests functions/kds-consumer emulator -- --ignored
# kstream redrive over on-failure messages from a real mapping run: file, S3, re-put, re-invoke, trimmed.
kstream_tests crates/cli redrive -- --ignored
# The redrive Lambda (the redrive workflow's pass) over on-failure messages in moto's SQS.
kstream_tests functions/redrive emulator -- --ignored
log "emulator tests passed in $(($(date +%s) - t0))s"

t0=$(date +%s)
log "producer and CLI against $AWS_ENDPOINT_URL"
scripts/test-producer-emulator.sh
log "producer and CLI passed in $(($(date +%s) - t0))s"

for script in tests/e2e-*.sh; do
  [ -x "$script" ] || continue
  t1=$(date +%s)
  log "$script"
  "$script"
  log "$script passed in $(($(date +%s) - t1))s"
done
