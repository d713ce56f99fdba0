# shellcheck shell=bash disable=SC2034 # variables here are used by the scripts that source this file
# Shared helpers for the kstream scripts. Source it; it defines functions and variables only.
#
#   KSTREAM_ROOT            repository root (derived from this file's location)
#   KSTREAM_STATE_DIR       local state: emulator pid/log, Terraform state for the emulator (.kstream/)
#   KSTREAM_EMULATOR_HOST   emulator bind/connect host (default 127.0.0.1)
#   KSTREAM_EMULATOR_PORT   emulator port (default 4566, the port LocalStack uses too)
#
# kstream_emulator_env exports the environment every client uses to reach the emulator
# (AWS_ENDPOINT_URL and dummy credentials). Nothing else in the scripts names a host.

KSTREAM_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
KSTREAM_STATE_DIR=${KSTREAM_STATE_DIR:-$KSTREAM_ROOT/.kstream}
KSTREAM_EMULATOR_HOST=${KSTREAM_EMULATOR_HOST:-127.0.0.1}
KSTREAM_EMULATOR_PORT=${KSTREAM_EMULATOR_PORT:-4566}
KSTREAM_VENV=${KSTREAM_VENV:-$KSTREAM_ROOT/.venv}

# The emulator this repository started: pid file and log (port-specific unless on the default port).
if [ "$KSTREAM_EMULATOR_PORT" = 4566 ]; then
  KSTREAM_EMULATOR_PID_FILE=$KSTREAM_STATE_DIR/emulator.pid
  KSTREAM_EMULATOR_LOG=$KSTREAM_STATE_DIR/emulator.log
else
  KSTREAM_EMULATOR_PID_FILE=$KSTREAM_STATE_DIR/emulator-$KSTREAM_EMULATOR_PORT.pid
  KSTREAM_EMULATOR_LOG=$KSTREAM_STATE_DIR/emulator-$KSTREAM_EMULATOR_PORT.log
fi

# Colour only on a terminal.
if [ -t 1 ]; then
  _k_bold=$'\e[1m' _k_red=$'\e[31m' _k_green=$'\e[32m' _k_yellow=$'\e[33m' _k_reset=$'\e[0m'
else
  _k_bold='' _k_red='' _k_green='' _k_yellow='' _k_reset=''
fi

log() { printf '%s==>%s %s\n' "$_k_bold" "$_k_reset" "$*" >&2; }
warn() { printf '%swarning:%s %s\n' "$_k_yellow" "$_k_reset" "$*" >&2; }
die() {
  printf '%serror:%s %s\n' "$_k_red" "$_k_reset" "$*" >&2
  exit 1
}

# The emulator's base URL.
kstream_emulator_url() { printf 'http://%s:%s' "$KSTREAM_EMULATOR_HOST" "$KSTREAM_EMULATOR_PORT"; }

# Export what the aws CLI, the AWS SDKs and the Terraform AWS provider need to talk to the emulator.
# An AWS_ENDPOINT_URL already set by the caller wins (e.g. a LocalStack on another host).
kstream_emulator_env() {
  export AWS_ENDPOINT_URL=${AWS_ENDPOINT_URL:-$(kstream_emulator_url)}
  export AWS_REGION=${AWS_REGION:-us-east-1}
  export AWS_DEFAULT_REGION=${AWS_DEFAULT_REGION:-$AWS_REGION}
  export AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID:-test}
  export AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY:-test}
  # Never pick up a developer's real profile, SSO session or assumed role by accident.
  unset AWS_PROFILE AWS_SESSION_TOKEN AWS_SECURITY_TOKEN
  export AWS_PAGER=''
  export AWS_EC2_METADATA_DISABLED=true
}

# Which emulator answers at URL (default: the emulator's address): prints "moto", "localstack",
# or nothing (exit 1).
kstream_emulator_kind() {
  local url=${1:-$(kstream_emulator_url)}
  url=${url%/}
  if curl -fsS -m 2 -o /dev/null "$url/moto-api/" 2>/dev/null; then
    echo moto
  elif curl -fsS -m 2 -o /dev/null "$url/_localstack/health" 2>/dev/null; then
    echo localstack
  else
    return 1
  fi
}

# The Python tools in .venv (aws CLI, moto, tflocal, cargo-lambda). `make venv` creates it.
kstream_require_venv() {
  if [ ! -x "$KSTREAM_VENV/bin/aws" ] || [ ! -x "$KSTREAM_VENV/bin/moto_server" ]; then
    die "the Python tools are missing ($KSTREAM_VENV): run 'make venv' first"
  fi
  case ":$PATH:" in
    *":$KSTREAM_VENV/bin:"*) ;;
    *) export PATH="$KSTREAM_VENV/bin:$PATH" ;;
  esac
}

# For a test tier that needs the emulator: kstream_emulator_for_tier starts one when none answers at
# the configured host:port (and exports AWS_ENDPOINT_URL); kstream_emulator_release, called from the
# tier's EXIT trap, stops it only if this script started it.
kstream_emulator_for_tier() {
  kstream_emulator_env
  _kstream_started_emulator=""
  if ! kstream_emulator_kind >/dev/null 2>&1; then
    "$KSTREAM_ROOT/scripts/emulator.sh" start
    _kstream_started_emulator=yes
  fi
}
kstream_emulator_release() {
  [ -z "${_kstream_started_emulator:-}" ] || "$KSTREAM_ROOT/scripts/emulator.sh" stop || true
}

kstream_require_terraform() {
  command -v terraform >/dev/null 2>&1 ||
    die "terraform is not installed (need >= 1.7): see https://developer.hashicorp.com/terraform/install"
}

# Use the on-disk provider mirror when this machine has one and KSTREAM_TF_MIRROR is unset (the
# registry may be unreachable here). The one place this rule lives: scripts/tf.sh (every
# `terraform init` of the project), scripts/local-apply.sh and scripts/test-terraform.sh call it.
# KSTREAM_TF_MIRROR= (set, empty) forces the public registry.
kstream_default_tf_mirror() {
  if [ -z "${KSTREAM_TF_MIRROR+set}" ] && [ -d /opt/tf-plugins/registry.terraform.io ]; then
    export KSTREAM_TF_MIRROR=/opt/tf-plugins
  fi
}

# A TF_CLI_CONFIG_FILE naming a missing file only adds a warning to every terraform run: drop it.
kstream_tf_cli_config_guard() {
  if [ -n "${TF_CLI_CONFIG_FILE:-}" ] && [ ! -f "$TF_CLI_CONFIG_FILE" ]; then
    unset TF_CLI_CONFIG_FILE
  fi
}

# The aws CLI against the emulator (AWS_ENDPOINT_URL, from kstream_emulator_env), JSON output.
awse() { aws --endpoint-url "$AWS_ENDPOINT_URL" --output json "$@"; }

# Fail unless an emulator answers at AWS_ENDPOINT_URL (call after kstream_emulator_env):
# guards every command that would otherwise act on whatever the endpoint is.
kstream_require_emulator() {
  [ -n "${AWS_ENDPOINT_URL:-}" ] || die "AWS_ENDPOINT_URL is not set"
  kstream_emulator_kind "$AWS_ENDPOINT_URL" >/dev/null ||
    die "no emulator answers at $AWS_ENDPOINT_URL: run 'scripts/emulator.sh start' (or 'make emulator')"
}

# One workspace build for every test step. Cargo resolves dependency features per invocation: a
# `cargo build -p X` or `cargo test -p X` builds another copy of every dependency whose features
# differ from the whole workspace's (there were four copies of the AWS SDK: minutes of build time
# and gigabytes of disk). So the test scripts build once, as `cargo test --workspace` does, and run
# what that build made:
#   kstream_build                          builds every target (a no-op when fresh); the workspace's
#                                          binaries (kstream, the functions) land in target/debug.
#                                          The two below call it once per script.
#   kstream_tests DIR [TARGET] [-- ARGS]   runs the test binaries of the package in DIR (or only its
#                                          integration test TARGET) with the harness ARGS, as cargo
#                                          test does: from the package directory
#   kstream_example DIR NAME [ARGS]        runs the package's example NAME (from the current
#                                          directory, as cargo run does)
#   kstream_example_path DIR NAME          prints the path of the package's example NAME
# The list is written to a file of its own and moved into place: two scripts building at once in
# one checkout (make demo beside make test) each replace it whole, never half-written.
KSTREAM_ARTIFACTS=$KSTREAM_ROOT/target/kstream-artifacts.jsonl
kstream_build() {
  local list
  mkdir -p "$KSTREAM_ROOT/target"
  list=$(mktemp "$KSTREAM_ARTIFACTS.XXXXXX")
  if ! (cd "$KSTREAM_ROOT" && cargo test --workspace --no-run --message-format=json-render-diagnostics) |
    jq -c 'select(.reason == "compiler-artifact" and .executable != null)
           | {dir: (.manifest_path | rtrimstr("/Cargo.toml")), kind: .target.kind[0],
              name: .target.name, test: .profile.test, exe: .executable}' >"$list"; then
    rm -f "$list"
    return 1
  fi
  mv "$list" "$KSTREAM_ARTIFACTS"
  _kstream_built=yes
}
_kstream_artifacts() { # dir filter(jq) -> executables
  local dir
  dir=$(cd "$KSTREAM_ROOT/$1" && pwd)
  jq -r --arg dir "$dir" "select(.dir == \$dir) | select($2) | .exe" "$KSTREAM_ARTIFACTS"
}
kstream_tests() {
  local dir=$1 target="" exe exes
  shift
  if [ $# -gt 0 ] && [ "$1" != -- ]; then target=$1; shift; fi
  [ "${1:-}" != -- ] || shift
  [ -n "${_kstream_built:-}" ] || kstream_build
  local filter='.test'
  [ -z "$target" ] || filter=".test and .kind == \"test\" and .name == \"$target\""
  exes=$(_kstream_artifacts "$dir" "$filter")
  [ -n "$exes" ] || die "no test binary ${target:+'$target' }in $dir (kstream_build)"
  for exe in $exes; do
    log "running ${exe#"$KSTREAM_ROOT"/} $*"
    (cd "$KSTREAM_ROOT/$dir" && CARGO_MANIFEST_DIR=$PWD "$exe" "$@")
  done
}
kstream_example() {
  local dir=$1 name=$2 exe
  shift 2
  exe=$(kstream_example_path "$dir" "$name")
  "$exe" "$@"
}
kstream_example_path() {
  local dir=$1 name=$2 exe
  [ -n "${_kstream_built:-}" ] || kstream_build
  exe=$(_kstream_artifacts "$dir" ".kind == \"example\" and .name == \"$name\"")
  [ -n "$exe" ] || die "no example '$name' in $dir (kstream_build)"
  printf '%s\n' "$exe"
}

# A Rust tool a tier needs (cargo-deny, cargo-fuzz), pinned and installed once per machine:
#   kstream_cargo_tool NAME VERSION [BIN]   prints the path of the tool's binary BIN (default NAME),
#                                           after `cargo install --locked --version VERSION` into
#                                           $KSTREAM_TOOLS/NAME-VERSION when it is not there yet.
# KSTREAM_TOOLS defaults to ${XDG_CACHE_HOME:-$HOME/.cache}/kstream/tools: a per-machine cache keyed
# by version, outside the checkout, so a clean clone (CI) does not rebuild it and a version bump
# installs next to the old one. Idempotent; concurrent callers wait on one lock (flock) instead of
# building the same tool twice. Build output goes to stderr.
kstream_cargo_tool() {
  local name=$1 version=$2 bin=${3:-$1} tools root
  tools=${KSTREAM_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/kstream/tools}
  root=$tools/$name-$version
  if [ ! -x "$root/bin/$bin" ]; then
    mkdir -p "$tools"
    (
      flock 9
      if [ ! -x "$root/bin/$bin" ]; then
        log "installing $name $version into ${root/#"$HOME"/\~} (once per machine)"
        cargo install --quiet --locked --version "$version" --root "$root" "$name" >&2 ||
          die "cargo install $name $version failed"
      fi
    ) 9>"$tools/.$name-$version.lock" || return 1
  fi
  [ -x "$root/bin/$bin" ] || die "$name $version installed no $bin in $root/bin"
  printf '%s\n' "$root/bin/$bin"
}

# A Python tool whose pins clash with the project's .venv (checkov pins boto3, packaging, ...), in a
# venv of its own in the same per-machine cache:
#   kstream_python_tool NAME VERSION   prints the venv's directory after `pip install NAME==VERSION`
#                                      into $KSTREAM_TOOLS/NAME-VERSION when it is not there yet.
kstream_python_tool() {
  local name=$1 version=$2 tools root
  tools=${KSTREAM_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/kstream/tools}
  root=$tools/$name-$version
  if [ ! -f "$root/.installed" ]; then
    mkdir -p "$tools"
    (
      flock 9
      if [ ! -f "$root/.installed" ]; then
        log "installing $name $version into ${root/#"$HOME"/\~} (once per machine)"
        rm -rf "$root"
        python3 -m venv "$root" >&2 && "$root/bin/pip" install --quiet "$name==$version" >&2 ||
          die "pip install $name==$version failed"
        touch "$root/.installed"
      fi
    ) 9>"$tools/.$name-$version.lock" || return 1
  fi
  printf '%s\n' "$root"
}
