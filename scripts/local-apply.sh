#!/usr/bin/env bash
# Apply a pattern to the local emulator: the SAME configuration as for AWS, redirected by the environment.
#
#   scripts/local-apply.sh apply   <pattern> [-var k=v ...] [terraform args]   init + apply -auto-approve
#   scripts/local-apply.sh destroy <pattern> [terraform args]                   destroy -auto-approve
#   scripts/local-apply.sh plan    <pattern> [terraform args]
#   scripts/local-apply.sh output  <pattern> [name]       terraform output -json (or -raw <name>)
#   scripts/local-apply.sh vars    <pattern>              the variables' effective values, as JSON
#   scripts/local-apply.sh state-dir <pattern>            where this deployment's state lives
#   KSTREAM_PLAN_JSON=<file> ... apply                      also writes the applied plan as JSON there
#
# <pattern> is a directory name under patterns/ (01-apigw-kds-lambda), its number (01), or a path to
# any other root configuration (it must contain a '/').
#
# How it reaches the emulator: the Terraform AWS provider (>= 5) takes its endpoint from AWS_ENDPOINT_URL,
# like the aws CLI and the SDKs, and sends S3 requests path-style when the endpoint host is an IP address.
# So no override file and no tflocal is needed, and nothing is written into patterns/: a real
# `terraform apply` in the pattern directory is unaffected by anything done here.
# The emulator's deployments are kept apart from AWS's:
#   .kstream/tf/<pattern>/<state>/terraform.tfstate   state (-state), never the pattern dir's terraform.tfstate
#   .kstream/tf/<pattern>/<state>/data                 TF_DATA_DIR (providers, modules), not <pattern>/.terraform
#   .kstream/tf/<pattern>/<state>/var-args             the -var/-var-file arguments of the last apply, reused
#                                                      by destroy/output/vars/plan on the same state
# <state> is $KSTREAM_LOCAL_STATE (default "default"): independent deployments of one pattern side by side
# (give each its own name prefix variable so resource names do not collide in the shared emulator).
# Providers come from the mirror when KSTREAM_TF_MIRROR is set (scripts/tf.sh); on a machine with
# /opt/tf-plugins it is set automatically (kstream_default_tf_mirror in scripts/lib/common.sh).
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
. "$(dirname "$0")/lib/common.sh"

usage() {
  sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

[ $# -ge 2 ] || usage
cmd=$1
pattern_arg=$2
shift 2

# Resolve the pattern directory: prints its absolute path.
resolve_pattern() {
  local arg=${1#patterns/} matches=()
  arg=${arg%/}
  if [ -f "$KSTREAM_ROOT/patterns/$arg/main.tf" ]; then
    echo "$KSTREAM_ROOT/patterns/$arg"
    return
  fi
  # Any other root configuration, given by path (scratch configurations, experiments).
  if [[ "$1" == */* ]] && [ -f "$1/main.tf" ]; then
    (cd "$1" && pwd)
    return
  fi
  [[ "$arg" =~ ^[0-9]+$ ]] || die "no pattern patterns/$arg (have: $(cd "$KSTREAM_ROOT/patterns" && echo */))"
  local d
  for d in "$KSTREAM_ROOT"/patterns/"$(printf '%02d' "$((10#$arg))")"-*/; do
    [ -f "$d/main.tf" ] && matches+=("$(basename "$d")")
  done
  [ ${#matches[@]} -eq 1 ] || die "pattern number $arg matches ${#matches[@]} patterns with a main.tf"
  echo "$KSTREAM_ROOT/patterns/${matches[0]}"
}

pattern_dir=$(resolve_pattern "$pattern_arg")
pattern=$(basename "$pattern_dir")
state_name=${KSTREAM_LOCAL_STATE:-default}
[[ "$state_name" =~ ^[A-Za-z0-9._-]+$ ]] || die "KSTREAM_LOCAL_STATE must be [A-Za-z0-9._-]+ (got '$state_name')"
work_dir=$KSTREAM_STATE_DIR/tf/$pattern
state_dir=$work_dir/$state_name
state_file=$state_dir/terraform.tfstate
var_args_file=$state_dir/var-args

# One data dir per deployment, so deployments of one pattern never race on `terraform init`. Providers
# are symlinked from the mirror, or from a shared plugin cache when they come from the registry.
export TF_DATA_DIR=$state_dir/data
export TF_IN_AUTOMATION=1 TF_INPUT=0 CHECKPOINT_DISABLE=1
kstream_tf_cli_config_guard
kstream_default_tf_mirror
if [ -z "${KSTREAM_TF_MIRROR:-}" ] && [ -z "${TF_PLUGIN_CACHE_DIR:-}" ]; then
  export TF_PLUGIN_CACHE_DIR=$KSTREAM_STATE_DIR/terraform-plugin-cache
  mkdir -p "$TF_PLUGIN_CACHE_DIR"
fi
kstream_emulator_env

if [ "$cmd" = state-dir ]; then
  echo "$state_dir"
  exit 0
fi

kstream_require_terraform
kstream_require_venv
kstream_require_emulator
mkdir -p "$state_dir"

# Split the remaining arguments: -var/-var-file are remembered for this state, the rest pass through.
var_args=()
other_args=()
while [ $# -gt 0 ]; do
  case $1 in
    -var | -var-file | --var | --var-file)
      [ $# -ge 2 ] || die "$1 needs a value"
      flag=${1#-}
      var_args+=("-${flag#-}=$2")
      shift 2
      ;;
    -var=* | -var-file=*) var_args+=("$1") && shift ;;
    --var=* | --var-file=*) var_args+=("${1#-}") && shift ;;
    *) other_args+=("$1") && shift ;;
  esac
done
if [ ${#var_args[@]} -eq 0 ] && [ -f "$var_args_file" ]; then
  mapfile -t var_args <"$var_args_file"
fi

color_args=()
[ -t 1 ] || color_args=(-no-color)
tf() {
  local sub=$1
  shift
  terraform -chdir="$pattern_dir" "$sub" "${color_args[@]}" "$@"
}

init() {
  local lock_args=()
  # Never touch the pattern's committed lock file (init would otherwise rewrite it in patterns/).
  [ -f "$pattern_dir/.terraform.lock.hcl" ] && lock_args=(-lockfile=readonly)
  local out
  if ! out=$("$KSTREAM_ROOT/scripts/tf.sh" init "$pattern_dir" -no-color "${lock_args[@]}" 2>&1); then
    printf '%s\n' "$out" >&2
    die "terraform init failed for patterns/$pattern"
  fi
}

# The emulator keeps everything in memory: after it restarts, a saved state names resources that are
# gone. Terraform's refresh drops most of them, but not all providers' resources handle it, so a state
# written against another emulator process is set aside rather than trusted.
emulator_identity() {
  local pid_file=$KSTREAM_EMULATOR_PID_FILE
  # The pid file belongs to the emulator at KSTREAM_EMULATOR_HOST:PORT (scripts/emulator.sh); an
  # endpoint elsewhere (another port, a LocalStack) is known by its URL alone.
  if [ "${AWS_ENDPOINT_URL%/}" = "$(kstream_emulator_url)" ] && [ -f "$pid_file" ] &&
    kill -0 "$(cat "$pid_file")" 2>/dev/null; then
    echo "$AWS_ENDPOINT_URL pid=$(cat "$pid_file") started=$(stat -c %Y "$pid_file")"
  else
    echo "$AWS_ENDPOINT_URL"
  fi
}

check_state_freshness() {
  local id_file=$state_dir/emulator-id current
  current=$(emulator_identity)
  if [ -f "$state_file" ] && [ -f "$id_file" ] && [ "$(cat "$id_file")" != "$current" ]; then
    warn "state for patterns/$pattern ($state_name) was written against another emulator run: starting afresh"
    mv "$state_file" "$state_file.stale.$(date +%s)"
    rm -f "$state_file.backup"
  fi
  echo "$current" >"$id_file"
}

case $cmd in
  apply)
    check_state_freshness
    init
    printf '%s\n' "${var_args[@]}" >"$var_args_file"
    [ ${#var_args[@]} -gt 0 ] || : >"$var_args_file"
    log "terraform apply patterns/$pattern -> emulator at $AWS_ENDPOINT_URL (state: ${state_dir#"$KSTREAM_ROOT"/})"
    apply_log=$state_dir/apply.log
    errors=$state_dir/apply.errors
    # Where the emulator's log (ours, when this machine started it) stands now: a failed apply
    # shows what the emulator logged during it (answers 5xx, tracebacks).
    emulator_log_from=$(($(wc -l <"$KSTREAM_EMULATOR_LOG" 2>/dev/null || echo 0) + 1))
    # Progress goes to the terminal as it comes (and to apply.log); Terraform's error diagnostics
    # (its stderr) are held back and explained once at the end.
    set +e
    if [ -n "${KSTREAM_PLAN_JSON:-}" ]; then
      # The plan is saved, written out as JSON (for the IaC scan, scripts/checkov_gate.py) and
      # applied as saved: the scan sees exactly what was deployed, at no extra plan.
      plan_file=$state_dir/tfplan
      {
        tf plan -input=false -state="$state_file" -out="$plan_file" "${var_args[@]}" "${other_args[@]}" &&
          tf show -json "$plan_file" >"$KSTREAM_PLAN_JSON" &&
          tf apply -auto-approve -input=false -state="$state_file" "$plan_file"
      } 2>"$errors" | tee "$apply_log"
    else
      tf apply -auto-approve -input=false -state="$state_file" "${var_args[@]}" "${other_args[@]}" \
        2>"$errors" | tee "$apply_log"
    fi
    status=${PIPESTATUS[0]}
    set -e
    cat "$errors" >>"$apply_log"
    if [ "$status" -eq 0 ]; then
      cat "$errors" >&2
      exit 0
    fi
    # Plain text for matching, whatever the colours.
    plain=$(sed 's/\x1b\[[0-9;]*m//g; s/^[│╷╵] \{0,1\}//' "$errors")
    # What Terraform said and what the emulator logged meanwhile, in every failure's output (a
    # CI log keeps only the output; the state directory goes with the checkout).
    {
      echo "Terraform's errors:"
      grep -v '^[[:space:]]*$' <<<"$plain" | head -n 40 | sed 's/^/  /' || true
      if [ -f "$KSTREAM_EMULATOR_LOG" ]; then
        echo "the emulator's log during the apply (${KSTREAM_EMULATOR_LOG#"$KSTREAM_ROOT"/}, answers 5xx, retried requests, errors; up to 30 lines):"
        tail -n "+$emulator_log_from" "$KSTREAM_EMULATOR_LOG" |
          grep -E '" 5[0-9][0-9] |retried request|Traceback|Error|Exception' | head -n 30 | sed 's/^/  /' || true
      fi
    } >&2
    if grep -qE 'already exists|AlreadyExists|ResourceInUseException|ResourceConflictException|BucketAlreadyOwnedByYou' <<<"$plain"; then
      n=$(grep -cE '^Error:' <<<"$plain" || true)
      first=$(grep -oE '^  with [^,]+' <<<"$plain" | sed 's/^  with //' | head -n 3 | paste -sd ',' | sed 's/,/, /g')
      die "the emulator at $AWS_ENDPOINT_URL already holds resources with the names this deployment uses ($n errors, e.g. $first).
  They were made by another checkout (or an earlier run) whose Terraform state is not this one (${state_file#"$KSTREAM_ROOT"/}),
  or, if the resource belongs to one this apply created, by a create the provider retried (see the emulator's log above).
  Fix, one of:
    - destroy them from the checkout that made them:  make emulator-destroy PATTERN=$pattern  (there)
    - start from an empty emulator (drops everything in it):  scripts/emulator.sh stop, then run this again
    - use an emulator of this checkout's own:  KSTREAM_EMULATOR_PORT=4577 make demo PATTERN=$pattern
  Terraform's full output: ${apply_log#"$KSTREAM_ROOT"/}"
    fi
    die "terraform apply failed for patterns/$pattern (full output: ${apply_log#"$KSTREAM_ROOT"/})"
    ;;
  destroy)
    if [ ! -f "$state_file" ]; then
      log "nothing to destroy: no emulator state for patterns/$pattern ($state_name)"
      exit 0
    fi
    init
    log "terraform destroy patterns/$pattern from the emulator at $AWS_ENDPOINT_URL"
    tf destroy -auto-approve -input=false -state="$state_file" "${var_args[@]}" "${other_args[@]}"
    ;;
  plan)
    init
    tf plan -input=false -state="$state_file" "${var_args[@]}" "${other_args[@]}"
    ;;
  output)
    [ -f "$state_file" ] || die "patterns/$pattern is not applied to the emulator ($state_name): run '$0 apply $pattern'"
    if [ ${#other_args[@]} -gt 0 ]; then
      tf output -state="$state_file" -raw "${other_args[@]}"
    else
      tf output -state="$state_file" -json
    fi
    ;;
  vars)
    # Every declared variable's effective value (defaults plus this state's -var arguments), evaluated
    # by Terraform itself so the smoke checks never duplicate a default. Sensitive variables are left out.
    init
    names=$("$KSTREAM_VENV/bin/python3" - "$pattern_dir" <<'PY'
import glob, sys, hcl2
names = []
for path in sorted(glob.glob(sys.argv[1] + "/*.tf")):
    with open(path) as f:
        doc = hcl2.load(f)
    for block in doc.get("variable", []):
        for name, body in block.items():
            # python-hcl2 keeps the label's quotes.
            if body.get("sensitive") is not True:
                names.append(name.strip('"'))
print(" ".join(names))
PY
    )
    expr="jsonencode({"
    for n in $names; do expr+="\"$n\" = var.$n, "; done
    expr+="})"
    state_args=()
    [ -f "$state_file" ] && state_args=(-state="$state_file")
    # console prints the JSON as an HCL string literal: decode it once more.
    echo "$expr" | tf console "${state_args[@]}" "${var_args[@]}" | jq -r 'fromjson? // .' | jq .
    ;;
  *) usage ;;
esac
