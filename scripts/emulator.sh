#!/usr/bin/env bash
# The local AWS emulator: moto server on $KSTREAM_EMULATOR_HOST:$KSTREAM_EMULATOR_PORT (127.0.0.1:4566).
#
#   scripts/emulator.sh start    start it in the background and wait until it answers (idempotent:
#                                an emulator already answering there, moto or LocalStack, is reused)
#   scripts/emulator.sh stop     stop the one this script started (pid file .kstream/emulator.pid)
#   scripts/emulator.sh status   print what answers there; exit 0 if up, 3 if not
#   scripts/emulator.sh env      print the environment for clients: eval "$(scripts/emulator.sh env)"
#   scripts/emulator.sh reset    wipe all emulator state (moto only; asks nothing, so be sure)
#
# Logs go to .kstream/emulator.log (.kstream/emulator-<port>.{pid,log} on another port).
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
. "$(dirname "$0")/lib/common.sh"

pid_file=$KSTREAM_EMULATOR_PID_FILE
log_file=$KSTREAM_EMULATOR_LOG
start_timeout=${KSTREAM_EMULATOR_START_TIMEOUT:-60}

# The pid in the pid file, if that process is still alive.
our_pid() {
  local pid
  [ -f "$pid_file" ] || return 1
  pid=$(cat "$pid_file")
  if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then
    echo "$pid"
  else
    return 1
  fi
}

port_in_use() {
  (exec 3<>"/dev/tcp/$KSTREAM_EMULATOR_HOST/$KSTREAM_EMULATOR_PORT") 2>/dev/null
}

start() {
  local kind pid waited=0
  if kind=$(kstream_emulator_kind); then
    if pid=$(our_pid); then
      log "emulator already running ($kind, pid $pid) at $(kstream_emulator_url)"
    else
      log "reusing the $kind already answering at $(kstream_emulator_url) (not started by kstream; 'stop' leaves it)"
    fi
    return 0
  fi
  if ! pid=$(our_pid); then
    if port_in_use; then
      die "something that is neither moto nor LocalStack listens on $(kstream_emulator_url); free the port or set KSTREAM_EMULATOR_PORT"
    fi
    kstream_require_venv
    mkdir -p "$KSTREAM_STATE_DIR"
    log "starting moto server at $(kstream_emulator_url) (log: ${log_file#"$KSTREAM_ROOT"/})"
    # setsid: the server outlives the make/shell that started it and gets no terminal signals.
    # DOCKER_HOST=none://: moto invokes a stream's mapped function itself for every record put (in
    # Docker, which kstream local does not use: it runs the functions). Without Docker that attempt
    # took 0.8 s per record (PutRecords of 50 records: 40 s); an invalid address fails it at once.
    # scripts/lib/moto_server.py: moto's server with its Kinesis shards safe for concurrent puts
    # and reads (stock moto gives two concurrent puts one sequence number and loses a record).
    DOCKER_HOST=none:// setsid "$KSTREAM_VENV/bin/python3" "$KSTREAM_ROOT/scripts/lib/moto_server.py" -H "$KSTREAM_EMULATOR_HOST" -p "$KSTREAM_EMULATOR_PORT" \
      >>"$log_file" 2>&1 </dev/null &
    pid=$!
    echo "$pid" >"$pid_file"
  fi
  until kind=$(kstream_emulator_kind); do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$pid_file"
      tail -n 20 "$log_file" >&2 || true
      die "moto server exited during start-up (see $log_file)"
    fi
    if [ "$waited" -ge "$((start_timeout * 5))" ]; then
      tail -n 20 "$log_file" >&2 || true
      die "moto server did not answer within ${start_timeout}s (pid $pid, see $log_file)"
    fi
    sleep 0.2
    waited=$((waited + 1))
  done
  log "emulator up ($kind, pid $pid) at $(kstream_emulator_url)"
}

stop() {
  local pid
  if ! pid=$(our_pid); then
    rm -f "$pid_file"
    if kind=$(kstream_emulator_kind); then
      log "the $kind at $(kstream_emulator_url) was not started by kstream: leaving it running"
    else
      log "emulator not running"
    fi
    return 0
  fi
  log "stopping emulator (pid $pid)"
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    warn "pid $pid did not stop after 5s: sending KILL"
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$pid_file"
  log "emulator stopped"
}

status() {
  local kind pid
  if kind=$(kstream_emulator_kind); then
    if pid=$(our_pid); then
      echo "running: $kind at $(kstream_emulator_url) (pid $pid, log ${log_file#"$KSTREAM_ROOT"/})"
    else
      echo "running: $kind at $(kstream_emulator_url) (not started by kstream)"
    fi
    return 0
  fi
  echo "not running at $(kstream_emulator_url)"
  return 3
}

print_env() {
  kstream_emulator_env
  local v
  for v in AWS_ENDPOINT_URL AWS_REGION AWS_DEFAULT_REGION AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY; do
    printf 'export %s=%q\n' "$v" "${!v}"
  done
}

reset() {
  local kind
  kind=$(kstream_emulator_kind) || die "emulator not running at $(kstream_emulator_url)"
  [ "$kind" = moto ] || die "reset is for moto only (found $kind)"
  curl -fsS -m 10 -X POST "$(kstream_emulator_url)/moto-api/reset" >/dev/null
  log "emulator state wiped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  env) print_env ;;
  reset) reset ;;
  *)
    echo "usage: $0 start|stop|status|env|reset" >&2
    exit 2
    ;;
esac
