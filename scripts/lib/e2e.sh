# shellcheck shell=bash
# The shared frame of the end-to-end scripts (tests/e2e-*.sh); source it after scripts/lib/common.sh.
#
#   e2e_init <pattern> <prefix stem>
#
# checks the tools, points every client at the emulator, and sets the globals the scripts use:
# pattern, id, prefix (<stem><id>), work (.kstream/e2e-<id>), state_dir (kstream local's state),
# failures and up_pid. It destroys the pattern's deployment on exit (after a Ctrl-C to a running
# `kstream local up`). Checks print "ok"/"FAIL" lines through check/pass/fail.

awse() { aws --endpoint-url "$AWS_ENDPOINT_URL" --output json "$@"; }

pass() { printf 'ok    %s\n' "$*"; }
fail() {
  printf 'FAIL  %s\n' "$*"
  failures=$((failures + 1))
}
jqt() { jq -e "$@" >/dev/null; } # a jq test: true when the expression is true
check() { # check "<what>" <command...>: pass or fail on the command's status
  local what=$1
  shift
  if "$@"; then pass "$what"; else fail "$what"; fi
}

e2e_cleanup() {
  if [ -n "$up_pid" ] && kill -0 "$up_pid" 2>/dev/null; then kill -INT "$up_pid" 2>/dev/null || true; wait "$up_pid" 2>/dev/null || true; fi
  scripts/local-apply.sh destroy "$pattern" >"$work/destroy.log" 2>&1 || warn "destroy failed (log: $work/destroy.log)"
  rm -rf "$(scripts/local-apply.sh state-dir "$pattern")"
}

# The variables set here (prefix, state_dir, work, ...) are the sourcing script's globals.
# shellcheck disable=SC2034
e2e_init() {
  kstream_require_venv
  kstream_require_terraform
  kstream_default_tf_mirror
  kstream_emulator_env
  export PATH="$KSTREAM_VENV/bin:$PATH"

  pattern=$1
  id=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
  export KSTREAM_LOCAL_STATE=e2e-$id
  prefix=$2$id
  work=$KSTREAM_STATE_DIR/e2e-$id
  state_dir=$work/local
  mkdir -p "$work"
  failures=0
  up_pid=""
  trap e2e_cleanup EXIT
}

# e2e_build <function package>: builds the function and kstream for this machine (bin: their
# directory) and names the package to deploy (zip): the real zip when `make build` made it, else
# an empty zip (the emulator does not run it; the data plane runs the host binary of the same source).
# shellcheck disable=SC2034
e2e_build() {
  zip=target/lambda/$1/bootstrap.zip
  if [ ! -f "$zip" ]; then
    zip=$work/empty.zip
    printf 'PK\005\006\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000' >"$zip"
  fi
  log "building $1 and kstream for this machine (the workspace build the tests share)"
  kstream_build
  [ -x "target/debug/$1" ] || die "kstream_build made no target/debug/$1"
  bin=target/debug
}
