#!/usr/bin/env bash
# Tier: Terraform. For every module in infra/modules and every pattern in patterns/:
# `terraform init -backend=false` (through scripts/tf.sh, so KSTREAM_TF_MIRROR is honoured),
# `terraform validate` and `terraform test` (tests/*.tftest.hcl, mock_provider "aws": offline),
# and for a pattern the rejection cases in tests/rejected/ (check_rejected).
# `terraform fmt -check` is in test-lint.sh.
#   scripts/test-terraform.sh            every module and pattern
#   scripts/test-terraform.sh <dir>...   only these directories
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/common.sh
. scripts/lib/common.sh
kstream_default_tf_mirror

if [ $# -gt 0 ]; then
  dirs=("$@")
else
  dirs=()
  for d in infra/modules/*/ patterns/*/; do
    [ -d "$d" ] && ls "$d"*.tf >/dev/null 2>&1 && dirs+=("${d%/}")
  done
fi
[ ${#dirs[@]} -gt 0 ] || { echo "test-terraform: no Terraform directories found" >&2; exit 1; }

# Share downloaded providers between directories when they come from the registry.
if [ -z "${KSTREAM_TF_MIRROR:-}" ]; then
  export TF_PLUGIN_CACHE_DIR="$PWD/.kstream/terraform-plugin-cache"
  mkdir -p "$TF_PLUGIN_CACHE_DIR"
fi
export TF_IN_AUTOMATION=1 TF_INPUT=0 CHECKPOINT_DISABLE=1

# A value a pattern only hands to a module is checked by that module's validation, and
# `expect_failures` cannot name a child module's variable. So each such case is a test file of its
# own, tests/rejected/<case>.tftest.hcl, whose plan must fail ("Invalid value for variable") with
# the message on its "# expect: <message>" line. Runs them (one terraform test) and prints a line per
# case that was not rejected so; returns 1 then.
check_rejected() {
  local dir=$1 out f base expect section bad=0
  out=$(mktemp)
  scripts/tf.sh test "$dir" -no-color -test-directory=tests/rejected >"$out" 2>&1 || true
  for f in "$dir"/tests/rejected/*.tftest.hcl; do
    base=tests/rejected/$(basename "$f")
    expect=$(sed -n 's/^# expect: //p' "$f")
    # This file's part of the output, on one line (Terraform wraps long messages).
    section=$(awk -v b="$base" 'index($0, b "... in progress") == 1 { on = 1 } on { print }
      index($0, b "... fail") == 1 || index($0, b "... pass") == 1 { on = 0 }' "$out" | tr -s ' \n' '  ')
    if [ -z "$expect" ]; then
      echo "$dir/$base: no '# expect: <message>' line"
      bad=1
    elif [[ "$section" != *"$base... fail"* || "$section" != *"Invalid value for variable"* || "$section" != *"$expect"* ]]; then
      echo "$dir/$base: not rejected with \"$expect\":"
      sed 's/^/  /' "$out"
      bad=1
    fi
  done
  rm -f "$out"
  return $bad
}

# One directory: init, validate, test. Prints its log to $2 and its summary line to $3.
check_dir() {
  local dir=$1 log=$2 result=$3 t0 lock_args=() summary rejected
  t0=$(date +%s)
  # A committed lock file must already hold what init needs (root patterns commit theirs).
  if git ls-files --error-unmatch "$dir/.terraform.lock.hcl" >/dev/null 2>&1; then
    lock_args=(-lockfile=readonly)
  fi
  if scripts/tf.sh init "$dir" -backend=false -no-color "${lock_args[@]}" >"$log" 2>&1 &&
    scripts/tf.sh validate "$dir" -no-color >>"$log" 2>&1 &&
    { [ ! -d "$dir/tests" ] || scripts/tf.sh test "$dir" -no-color >>"$log" 2>&1; } &&
    { [ ! -d "$dir/tests/rejected" ] || check_rejected "$dir" >>"$log"; }; then
    summary=$(grep -E '^Success! [0-9]+ passed' "$log" | tail -1 || true)
    if [ -d "$dir/tests/rejected" ]; then
      rejected=$(find "$dir/tests/rejected" -name '*.tftest.hcl' | wc -l)
      summary+=" + $rejected values rejected by the modules"
    fi
    echo "ok    $dir (${summary:-validated, no tests}) $(($(date +%s) - t0))s" >"$result"
  else
    echo "FAIL  $dir" >"$result"
  fi
}

# Directories run KSTREAM_TF_JOBS at a time (default 2; 1 when providers come from the
# registry, because the plugin cache is not safe for concurrent inits).
jobs=${KSTREAM_TF_JOBS:-2}
[ -n "${KSTREAM_TF_MIRROR:-}" ] || jobs=1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for i in "${!dirs[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
  check_dir "${dirs[$i]}" "$work/$i.log" "$work/$i.result" &
done
wait

failed=()
for i in "${!dirs[@]}"; do
  line=$(cat "$work/$i.result" 2>/dev/null || echo "FAIL  ${dirs[$i]}")
  echo "$line"
  if [[ "$line" == FAIL* ]]; then
    sed 's/^/      /' "$work/$i.log"
    failed+=("${dirs[$i]}")
  fi
done

# Python tests next to the modules (API Gateway mapping templates rendered with a Velocity
# engine); they need the project's .venv (make venv).
py_tests=()
for t in infra/modules/*/tests/test_*.py; do
  [ -f "$t" ] || continue
  for d in "${dirs[@]}"; do [[ "$t" == "$d"/* ]] && py_tests+=("$t"); done
done
if [ ${#py_tests[@]} -gt 0 ]; then
  if [ ! -x .venv/bin/python ]; then
    echo "SKIP  ${py_tests[*]}: no .venv (run make venv; make test does)"
  else
    for t in "${py_tests[@]}"; do
      log=$(mktemp)
      if .venv/bin/python -m unittest "$t" >"$log" 2>&1; then
        echo "ok    $t ($(grep -E '^Ran [0-9]+ tests' "$log"))"
      else
        echo "FAIL  $t"
        sed 's/^/      /' "$log"
        failed+=("$t")
      fi
      rm -f "$log"
    done
  fi
fi

if [ ${#failed[@]} -gt 0 ]; then
  echo "test-terraform: ${#failed[@]} failed: ${failed[*]}" >&2
  exit 1
fi
echo "test-terraform: ${#dirs[@]} directories validated and tested"
