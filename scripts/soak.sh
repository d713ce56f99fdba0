#!/usr/bin/env bash
# The fault run: records through a pattern on `kstream local`, with faults, every record accounted for.
#
#   scripts/soak.sh [--records N] [PATTERN...]     `make soak`: for each pattern (01 02 03 04 by
#                                                  default), apply it under a unique prefix, run,
#                                                  destroy; 100,000 records by default
#   scripts/soak.sh --deployed PATTERN --prefix P [--state-dir DIR] [--work DIR] [--records N]
#                                                  run on a deployment already applied (10,000
#                                                  records in make test: e2e-01 ~45 s, e2e-02 ~40 s,
#                                                  e2e-03 ~55 s, e2e-04 ~60 s)
#
# The faults, each real (tests/soak/soak.py and tests/soak/proxy.py have the details): 1 % poison
# records; the function process SIGKILLed at random moments (4 times per run, more if none lands in
# an invocation); PutRecords throttled and 5xx'd per request and per record, and 5xx'd after the
# records were stored (duplicates), by a proxy in front of the emulator that every client of the
# run goes through; the emulator unreachable once for 10 s (that proxy refusing and cutting every
# connection: moto keeps its state only in memory, so really restarting it would lose every stream,
# queue and bucket of the deployment); `kstream local up` stopped with SIGINT and started again.
# Pattern 4 adds the fare API's own fault mode (20 % 503, 5 % 429: tests/soak/pattern04.py).
# Every record is then found processed, in the failure queue's ranges (patterns 1, 2 and 4), in
# Firehose's error output (pattern 3) or in the consumer's error output (pattern 4); pattern 2's
# are found through its windows' output (a row, or its window's aggregate equal to a recount:
# tests/soak/pattern02.py); duplicates are counted; a lost record fails the run, named. Prints the
# counts, and writes them to <work>/soak-summary.json.
#
# Needs the emulator (started if none answers, on KSTREAM_EMULATOR_PORT) and the venv.
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
cd "$KSTREAM_ROOT"

usage() {
  sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

deployed="" prefix="" state_dir="" work="" records=""
patterns=()
while [ $# -gt 0 ]; do
  case $1 in
    --deployed) deployed=$2; shift 2 ;;
    --prefix) prefix=$2; shift 2 ;;
    --state-dir) state_dir=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    --records) records=$2; shift 2 ;;
    -h | --help) usage ;;
    -*) echo "unknown option $1" >&2; usage ;;
    *) patterns+=("$1"); shift ;;
  esac
done

# The short number of a pattern name or number: 01-apigw-kds-lambda -> 01.
num() { printf '%s' "${1%%-*}"; }

# soak_run <pattern> <prefix> <work> <records> [soak.py options]: runs the harness on the
# applied deployment of <pattern> (its outputs from scripts/local-apply.sh).
soak_run() {
  local n p=$2
  n=$(num "$1")
  mkdir -p "$3"
  if [ "$n" = 02 ]; then
    # Pattern 2's accounting itself first, on made-up output damaged one way at a time (< 1 s).
    "$KSTREAM_VENV/bin/python3" -m unittest -q tests/soak/test_pattern02.py 2>"$3/unittest.log" ||
      { cat "$3/unittest.log" >&2; die "tests/soak/test_pattern02.py failed"; }
  fi
  scripts/local-apply.sh output "$1" >"$3/outputs.json"
  local feed=25 drain=120
  if [ "$4" -gt 20000 ]; then
    feed=$(($4 / 500)) drain=900
  fi
  "$KSTREAM_VENV/bin/python3" tests/soak/soak.py --pattern "$n" --records "$4" --outputs "$3/outputs.json" \
    --prefix "$p" --work "$3" --kstream target/debug/kstream --functions-dir target/debug \
    --feed-seconds "$feed" --drain-timeout "$drain" "${@:5}"
}

kstream_require_venv
kstream_emulator_for_tier
trap kstream_emulator_release EXIT

if [ -n "$deployed" ]; then
  [ -n "$prefix" ] || die "--deployed needs --prefix (the deployment's name_prefix)"
  [ -x target/debug/kstream ] || kstream_build
  work=${work:-$KSTREAM_STATE_DIR/soak-$(num "$deployed")-$$}
  soak_run "$deployed" "$prefix" "$work" "${records:-10000}" ${state_dir:+--state-dir "$state_dir"}
  exit
fi

# `make soak`: apply, run, destroy, one pattern after the other.
[ ${#patterns[@]} -gt 0 ] || patterns=(01 02 03 04)
records=${records:-100000}
# shellcheck source=scripts/lib/e2e.sh
. scripts/lib/e2e.sh
kstream_build
status=0
for p in "${patterns[@]}"; do
  # moto keeps every object and record in memory, freed late or never (S3 server access logs add
  # an object per request; a moto serving two of pattern 2's 100,000-record runs reached 20 GB):
  # an emulator this script started is started afresh for each pattern (each applies its own).
  if [ -n "${_kstream_started_emulator:-}" ] && [ "$p" != "${patterns[0]}" ]; then
    scripts/emulator.sh stop && scripts/emulator.sh start
  fi
  case $(num "$p") in
    01) name=01-apigw-kds-lambda package=kds-consumer stem=sk1 ;;
    02) name=02-kpl-kds-analytics package=stream-analytics stem=sk2 ;;
    03) name=03-kds-firehose-s3 package=firehose-transform stem=sk3 ;;
    04) name=04-kds-enrichment-apigw package=enrichment-consumer stem=sk4 ;;
    *) die "no fault run for pattern $p (01 to 04 have one)" ;;
  esac
  (
    e2e_init "$name" "$stem"
    e2e_build "$package"
    pkg=$zip
    [[ $pkg == /* ]] || pkg=$KSTREAM_ROOT/$zip
    log "applying patterns/$name (prefix $prefix) for $records records"
    case $name in
      01-*) vars=(-var "consumer_package_path=$pkg" -var batch_size=100 -var maximum_retry_attempts=3
        -var parallelization_factor=10) ;;
      02-*) vars=(-var "analytics_package_path=$pkg" -var scheduled_producer_enabled=false
        -var bucket_tls_only_policy=false -var force_destroy=true -var shard_count=4
        -var tumbling_window_in_seconds=10 -var maximum_retry_attempts=2 -var starting_position=TRIM_HORIZON) ;;
      03-*) vars=(-var "transform_package_path=$pkg" -var bucket_tls_only_policy=false
        -var force_destroy=true -var shard_count=2 -var buffering_size_mb=1
        -var buffering_interval_seconds=60 -var buffer_interval_seconds=60) ;;
      # As tests/e2e-04.sh: every trip written (each record accounted for), TRIM_HORIZON, 3 retries.
      04-*) vars=(-var "consumer_package_path=$pkg" -var "fare_api_package_path=$pkg"
        -var bucket_tls_only_policy=false -var force_destroy=true -var shard_count=2
        -var starting_position=TRIM_HORIZON -var maximum_retry_attempts=3 -var write_unsampled=true) ;;
    esac
    if ! scripts/local-apply.sh apply "$name" -var "name_prefix=$prefix" "${vars[@]}" >"$work/apply.log" 2>&1; then
      tail -n 30 "$work/apply.log" >&2
      die "terraform apply failed (log: $work/apply.log)"
    fi
    soak_run "$name" "$prefix" "$work/soak" "$records" --state-dir "$state_dir" --kills 10 ||
      fail "pattern $name: $records records through faults (logs: ${work#"$KSTREAM_ROOT"/}/soak)"
    e2e_destroy
    [ "$failures" -eq 0 ]
  ) || status=1
done
exit $status
