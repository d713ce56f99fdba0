# shellcheck shell=bash
# The shared frame of the end-to-end scripts (tests/e2e-*.sh); source it after scripts/lib/common.sh.
#
#   e2e_init <pattern> <prefix stem>
#
# checks the tools, points every client at the emulator, and sets the globals the scripts use:
# pattern, id, prefix (<stem><id>), work (.kstream/e2e-<id>), state_dir (kstream local's state),
# failures and up_pid. It destroys the pattern's deployment on exit (after a Ctrl-C to a running
# `kstream local up`) unless e2e_destroy did. Checks print "ok"/"FAIL" lines through check/pass/fail.
#
#   e2e_destroy
#
# destroys the deployment during the run and checks that nothing is left: the Terraform state holds
# no resource and the emulator has nothing whose name holds the prefix (e2e_leftovers).

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
  [ -z "$up_pid" ] || e2e_down 2>/dev/null || true
  [ -n "$destroyed" ] ||
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
  destroyed=""
  trap e2e_cleanup EXIT
}

# e2e_build <function package>: builds the function and kstream for this machine (bin: their
# directory) and names the package to deploy (zip, an absolute path): always an empty zip. The
# emulator does not run it (the data plane runs the host binary of the same source), and the real
# target/lambda zips may be half-written at this moment by the emulator tier's release build, which
# runs beside this tier (scripts/test.sh).
# shellcheck disable=SC2034
e2e_build() {
  zip=$work/empty.zip
  [ -f "$zip" ] ||
    printf 'PK\005\006\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000' >"$zip"
  case $zip in /*) ;; *) zip=$KSTREAM_ROOT/$zip ;; esac
  log "building $1 and kstream for this machine (the workspace build the tests share)"
  kstream_build
  [ -x "target/debug/$1" ] || die "kstream_build made no target/debug/$1"
  bin=target/debug
}

# e2e_up [kstream local up options]: starts `kstream local up` in the background (pid: up_pid) on
# the run's state dir, the host binaries and the run's prefix, JSON logs appended to $work/up.log,
# and waits until it reports itself running in its status file.
e2e_up() {
  "$bin/kstream" local up --state-dir "$state_dir" --functions-dir "$bin" --no-status-line --log-format JSON \
    --name-prefix "$prefix-" "$@" >>"$work/up.log" 2>&1 &
  up_pid=$!
  local _
  for _ in $(seq 1 100); do
    if [ -f "$state_dir/status.json" ] && [ "$(jq -r '.pid' "$state_dir/status.json")" = "$up_pid" ]; then
      return 0
    fi
    kill -0 "$up_pid" 2>/dev/null || { cat "$work/up.log" >&2; die "kstream local up exited"; }
    sleep 0.2
  done
  die "kstream local up did not start (log: $work/up.log)"
}

# e2e_down: stops it with SIGINT (in-flight invocations finish, checkpoints are saved); returns its
# exit status, and fails when none was started.
e2e_down() {
  [ -n "$up_pid" ] || { warn "kstream local up is not running"; return 1; }
  kill -INT "$up_pid" || true
  local status=0
  wait "$up_pid" || status=$?
  up_pid=""
  return $status
}

# e2e_leftovers <prefix>: every resource on the emulator whose name or ARN holds <prefix> ('-' and
# '_' alike), one "<service>: <name>" line each, for the services the patterns use. KMS keys cannot
# be deleted at once: a key is left when its alias is, or when it is not pending deletion. A
# listing the emulator refuses is printed too (so it fails the caller's check).
e2e_leftovers() {
  "$KSTREAM_VENV/bin/python3" - "$1" <<'PY'
import sys, boto3

prefix = sys.argv[1].lower().replace("_", "-")
named = lambda s: prefix in str(s).lower().replace("_", "-")

def items(service, op, key, field=None, **kw):
    client = boto3.client(service)
    pages = client.get_paginator(op).paginate(**kw) if client.can_paginate(op) else [getattr(client, op)(**kw)]
    for page in pages:
        for it in page.get(key, []):
            yield it if field is None else it.get(field)

listings = [
    ("kinesis", "list_streams", "StreamNames", None, {}),
    ("firehose", "list_delivery_streams", "DeliveryStreamNames", None, {}),
    ("s3", "list_buckets", "Buckets", "Name", {}),
    ("lambda", "list_functions", "Functions", "FunctionName", {}),
    ("lambda", "list_event_source_mappings", "EventSourceMappings", "FunctionArn", {}),
    ("glue", "get_databases", "DatabaseList", "Name", {}),
    ("iam", "list_roles", "Roles", "RoleName", {}),
    ("iam", "list_policies", "Policies", "PolicyName", {"Scope": "Local"}),
    ("logs", "describe_log_groups", "logGroups", "logGroupName", {}),
    ("cloudwatch", "describe_alarms", "MetricAlarms", "AlarmName", {}),
    ("cloudwatch", "list_dashboards", "DashboardEntries", "DashboardName", {}),
    ("sns", "list_topics", "Topics", "TopicArn", {}),
    ("sqs", "list_queues", "QueueUrls", None, {}),
    ("apigateway", "get_rest_apis", "items", "name", {}),
    ("cognito-idp", "list_user_pools", "UserPools", "Name", {"MaxResults": 60}),
    ("kms", "list_aliases", "Aliases", "AliasName", {}),
    ("scheduler", "list_schedules", "Schedules", "Name", {}),
]
for service, op, key, field, kw in listings:
    try:
        for name in items(service, op, key, field, **kw):
            if named(name):
                print(f"{service}: {name}")
    except Exception as e:  # an emulator without the listing: say so, never pass silently
        print(f"{service}: cannot list ({op}): {e}")
try:
    kms = boto3.client("kms")
    for key in items("kms", "list_keys", "Keys", "KeyId"):
        meta = kms.describe_key(KeyId=key)["KeyMetadata"]
        if named(meta.get("Description", "")) and meta["KeyState"] != "PendingDeletion":
            print(f"kms: key {key} ({meta['Description']}) is {meta['KeyState']}")
except Exception as e:
    print(f"kms: cannot list keys: {e}")
PY
}

# e2e_destroy: stops `kstream local up` if it runs, destroys the deployment now and checks that
# nothing is left (the exit trap then has nothing to do).
e2e_destroy() {
  [ -z "$up_pid" ] || e2e_down 2>/dev/null || true
  log "destroying patterns/$pattern (prefix $prefix)"
  if scripts/local-apply.sh destroy "$pattern" >"$work/destroy.log" 2>&1; then
    destroyed=yes
    pass "terraform destroy"
  else
    tail -n 30 "$work/destroy.log" >&2
    fail "terraform destroy (log: $work/destroy.log)"
    return
  fi
  local state left
  state=$(scripts/local-apply.sh state-dir "$pattern")/terraform.tfstate
  check "the Terraform state holds no resource" jqt '(.resources // []) | length == 0' "$state"
  left=$(e2e_leftovers "$prefix")
  [ -z "$left" ] || printf '%s\n' "$left" | sed 's/^/    /'
  check "the emulator holds nothing named $prefix" test -z "$left"
}
