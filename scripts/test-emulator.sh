#!/usr/bin/env bash
# Tier 3: every pattern that has a smoke script (scripts/smoke-NN.sh) is applied to the emulator with the
# same configuration as for AWS, checked by its smoke script, destroyed, and checked to be gone.
#
#   scripts/test-emulator.sh [pattern...]     default: every patterns/NN-*/ with a scripts/smoke-NN.sh
#   (a pattern given as a path to another root configuration uses $KSTREAM_SMOKE as its smoke script)
#
# - Starts the emulator if none answers (and stops it at the end only if it started it).
# - Builds the function zips (make build) so the Lambda resources deploy the real packages.
# - Each run deploys under its own name prefix and its own Terraform state (KSTREAM_LOCAL_STATE=test-<id>),
#   so it neither collides with `make demo`'s deployment in the same emulator nor trips over a state
#   left by an aborted run; such leftovers are destroyed first. Patterns with a force_destroy variable
#   get force_destroy=true (throwaway deployments).
# - After destroy, every resource the outputs name (stream, function, queue, API, dashboard, bucket) and
#   every alarm with the run's prefix must be gone from the emulator.
# - The IaC scan: each pattern's plan is saved, applied as saved, and scanned by checkov at the end
#   against the committed security/checkov-baseline.yaml: a finding not listed there (or a listed one
#   that no longer fails) fails the tier.
# - Every terraform run is bounded by KSTREAM_TF_TIMEOUT seconds (default 900): a provider that waits
#   forever on the emulator fails the tier instead of hanging CI.
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
cd "$KSTREAM_ROOT"

kstream_require_venv
# The emulator's answer to a retried change (scripts/lib/moto_server.py), on moto's application
# without a server: a second or so.
.venv/bin/python -m unittest -q scripts/lib/test_moto_server.py
kstream_require_terraform
kstream_default_tf_mirror
kstream_emulator_env
tf_timeout=${KSTREAM_TF_TIMEOUT:-900}
mkdir -p "$KSTREAM_STATE_DIR"
# The IaC scan: checkov (pinned; its own venv, its pins clash with .venv's) over each pattern's
# applied plan, against security/checkov-baseline.yaml (scripts/checkov_gate.py).
checkov_version=3.3.30
checkov_venv=$(kstream_python_tool checkov "$checkov_version")
plans_dir=$KSTREAM_STATE_DIR/plans
mkdir -p "$plans_dir"

# Which patterns.
patterns=()
if [ $# -gt 0 ]; then
  patterns=("$@")
else
  for d in patterns/[0-9][0-9]-*/; do
    n=$(basename "$d")
    [ -f "$d/main.tf" ] && [ -x "scripts/smoke-${n%%-*}.sh" ] && patterns+=("$n")
  done
fi
if [ ${#patterns[@]} -eq 0 ]; then
  log "test-emulator: no pattern with a main.tf and a scripts/smoke-NN.sh yet: nothing to do"
  exit 0
fi

started_emulator=false
cleanup_emulator() {
  if $started_emulator; then scripts/emulator.sh stop || true; fi
}
trap cleanup_emulator EXIT
if ! kstream_emulator_kind "$AWS_ENDPOINT_URL" >/dev/null; then
  scripts/emulator.sh start
  started_emulator=true
fi

# The function packages the Lambda resources deploy. Always rebuilt (a no-op when up to date), unless
# KSTREAM_SKIP_BUILD=1 and every package exists.
missing=false
for f in functions/*/Cargo.toml; do
  [ -f "target/lambda/$(basename "$(dirname "$f")")/bootstrap.zip" ] || missing=true
done
if [ "${KSTREAM_SKIP_BUILD:-0}" = 1 ] && ! $missing; then
  log "using the existing function packages (KSTREAM_SKIP_BUILD=1)"
else
  t0=$(date +%s)
  log "building the function packages (make build)"
  make --no-print-directory -s build >/dev/null
  log "functions built in $(($(date +%s) - t0))s"
fi

# Every resource named by an output must be gone after destroy. Prints one line per leftover.
leftovers() {
  local outputs=$1 prefix=$2 key value
  while IFS=$'\t' read -r key value; do
    case $key in
      *stream_name)
        awse kinesis describe-stream-summary --stream-name "$value" >/dev/null 2>&1 && echo "stream $value" ;;
      *function_name)
        awse lambda get-function --function-name "$value" >/dev/null 2>&1 && echo "function $value" ;;
      *queue_url)
        awse sqs get-queue-attributes --queue-url "$value" >/dev/null 2>&1 && echo "queue $value" ;;
      *dashboard_name)
        awse cloudwatch get-dashboard --dashboard-name "$value" >/dev/null 2>&1 && echo "dashboard $value" ;;
      *bucket_name | *bucket)
        awse s3api head-bucket --bucket "$value" >/dev/null 2>&1 && echo "bucket $value" ;;
      *api_id)
        awse apigateway get-rest-api --rest-api-id "$value" >/dev/null 2>&1 && echo "REST API $value" ;;
      *api_endpoint | *api_url)
        local id
        id=$(sed -nE 's#^https?://([a-z0-9]+)\.execute-api\..*#\1#p' <<<"$value")
        [ -n "$id" ] && awse apigateway get-rest-api --rest-api-id "$id" >/dev/null 2>&1 && echo "REST API $id"
        ;;
    esac
  done < <(jq -r 'to_entries[] | select(.value.value | type == "string") | "\(.key)\t\(.value.value)"' <<<"$outputs")
  awse cloudwatch describe-alarms --alarm-name-prefix "$prefix" --query 'MetricAlarms[].AlarmName' --output text |
    tr '\t' '\n' | sed '/^$/d; /^None$/d; s/^/alarm /'
  return 0
}

# One pattern: apply, smoke, destroy, check. Prints its report; returns 1 on any failure.
run_pattern() {
  local pattern=$1 pattern_dir smoke name pt0 dt0 old id prefix ok outputs left remaining in_state
  local var_args=()
  if [[ "$pattern" == */* ]]; then
    pattern_dir=$pattern
    smoke=${KSTREAM_SMOKE:?a pattern given by path needs KSTREAM_SMOKE}
  else
    pattern_dir=patterns/$pattern
    smoke=scripts/smoke-${pattern%%-*}.sh
  fi
  name=$(basename "$pattern_dir")
  pt0=$(date +%s)
  log "pattern $pattern on the emulator at $AWS_ENDPOINT_URL"

  # Leftovers of aborted runs: destroy what their state still holds, then forget them.
  for old in "$KSTREAM_STATE_DIR/tf/$name"/test-*/; do
    [ -d "$old" ] || continue
    warn "destroying a leftover test deployment ($(basename "$old"))"
    KSTREAM_LOCAL_STATE=$(basename "$old") timeout 300 scripts/local-apply.sh destroy "$pattern" >/dev/null 2>&1 ||
      warn "could not destroy $(basename "$old"); its resources have a unique prefix and do not collide"
    rm -rf "$old"
  done

  id=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
  export KSTREAM_LOCAL_STATE=test-$id
  prefix=kst$id
  # A name prefix of its own, when the pattern takes one (every pattern should: names from a prefix).
  if grep -qE '^variable "name_prefix"' "$pattern_dir"/*.tf; then
    var_args=(-var "name_prefix=$prefix")
  else
    warn "$pattern_dir has no name_prefix variable: default names (may collide with make demo)"
  fi
  # Test deployments are throwaway: let destroy remove buckets with their objects (access logs,
  # delivered records) when the pattern has the switch.
  if grep -qE '^variable "force_destroy"' "$pattern_dir"/*.tf; then
    var_args+=(-var force_destroy=true)
  fi

  ok=true
  outputs='{}'
  local tf_log=$KSTREAM_STATE_DIR/test-emulator-$name.log
  # The applied plan, as JSON, for the IaC scan at the end (patterns under patterns/ only: the
  # baseline knows those).
  local plan_json=
  [[ "$pattern" == */* ]] || plan_json=$plans_dir/$name.json
  rm -f "$plans_dir/$name.json"
  if ! KSTREAM_PLAN_JSON=$plan_json timeout "$tf_timeout" scripts/local-apply.sh apply "$pattern" "${var_args[@]}" >"$tf_log" 2>&1; then
    tail -n 40 "$tf_log"
    echo "FAIL  $pattern: terraform apply to the emulator (log: ${tf_log#"$KSTREAM_ROOT"/})"
    ok=false
  else
    echo "ok    $pattern: applied in $(($(date +%s) - pt0))s"
    outputs=$(scripts/local-apply.sh output "$pattern")
    if "$smoke" "$pattern"; then
      echo "ok    $pattern: $smoke passed"
    else
      echo "FAIL  $pattern: $smoke"
      ok=false
    fi
  fi

  dt0=$(date +%s)
  if timeout "$tf_timeout" scripts/local-apply.sh destroy "$pattern" >>"$tf_log" 2>&1; then
    echo "ok    $pattern: destroyed in $(($(date +%s) - dt0))s"
    left=$(leftovers "$outputs" "$prefix")
    remaining=$(scripts/local-apply.sh state-dir "$pattern")/terraform.tfstate
    in_state=$(jq '[.resources[]? | select(.mode == "managed")] | length' "$remaining" 2>/dev/null || echo 0)
    if [ -n "$left" ] || [ "$in_state" != 0 ]; then
      echo "FAIL  $pattern: destroy left resources behind (state: $in_state):"
      printf '%s\n' "$left" | sed 's/^/        /'
      ok=false
    else
      echo "ok    $pattern: nothing left in the emulator (resources named by the outputs, alarms '$prefix*')"
    fi
    rm -rf "$(scripts/local-apply.sh state-dir "$pattern")"
  else
    tail -n 40 "$tf_log"
    echo "FAIL  $pattern: terraform destroy (state kept in $(scripts/local-apply.sh state-dir "$pattern"))"
    ok=false
  fi
  unset KSTREAM_LOCAL_STATE

  if $ok; then
    log "pattern $pattern passed in $(($(date +%s) - pt0))s"
  else
    return 1
  fi
}

# The patterns run side by side (most of an apply is the provider waiting on the emulator), each
# reporting into its own file, printed in order when all are done. KSTREAM_EMULATOR_SERIAL=1 runs
# them one after another with live output.
failed=()
if [ "${KSTREAM_EMULATOR_SERIAL:-0}" = 1 ] || [ ${#patterns[@]} -eq 1 ]; then
  for pattern in "${patterns[@]}"; do
    run_pattern "$pattern" || failed+=("$pattern")
  done
else
  declare -A pids=()
  reports=$(mktemp -d)
  trap 'cleanup_emulator; rm -rf "$reports"' EXIT
  for pattern in "${patterns[@]}"; do
    run_pattern "$pattern" >"$reports/$(basename "$pattern").log" 2>&1 &
    pids[$pattern]=$!
  done
  log "running ${#patterns[@]} patterns side by side: ${patterns[*]}"
  for pattern in "${patterns[@]}"; do
    wait "${pids[$pattern]}" || failed+=("$pattern")
    cat "$reports/$(basename "$pattern").log"
  done
fi

# The IaC scan over every plan that was applied: a finding not in the baseline fails the tier.
plans=()
for pattern in "${patterns[@]}"; do
  [ -f "$plans_dir/$(basename "$pattern").json" ] && plans+=("$plans_dir/$(basename "$pattern").json")
done
if [ ${#plans[@]} -gt 0 ]; then
  t0=$(date +%s)
  if "$checkov_venv/bin/python" scripts/checkov_gate.py --checkov "$checkov_venv/bin/checkov" \
    --baseline security/checkov-baseline.yaml "${plans[@]}"; then
    log "checkov $checkov_version: ${#plans[@]} plan(s) scanned in $(($(date +%s) - t0))s, nothing new"
  else
    failed+=("checkov")
  fi
fi

if [ ${#failed[@]} -gt 0 ]; then
  die "test-emulator: failed: ${failed[*]}"
fi
log "test-emulator: ${#patterns[@]} pattern(s) applied, smoke-checked and destroyed"
