#!/usr/bin/env bash
# `make demo`, data-plane step (called by scripts/demo.sh with the pattern's Terraform outputs in
# KSTREAM_DEMO_OUTPUTS): pattern 1 moving data on one machine through `kstream local`.
#
#   1. builds kds-consumer and kstream for this machine (cargo build; debug, shared with the tests)
#   2. starts `kstream local up` in the background (REST API on 127.0.0.1:$KSTREAM_DEMO_API_PORT,
#      default 4567; state in .kstream/local; log .kstream/local/up.log)
#   3. signs in a demo user of the pattern's Cognito pool (the emulator's) and sends through the API:
#      good orders (POST /records), a malformed record (data not JSON) and a poison record
#      ({"poison": true}, kds-consumer's test convention), and one bad request (400 from the API)
#   4. shows the Rust consumer's log for those batches, and the failure queue's messages: the
#      on-failure metadata Lambda would send (shard, sequence range, batch size, invoke count);
#      they are left in the queue for `kstream redrive` (scripts/demo.sh ends with its command)
#   5. stops the data plane with SIGINT (in-flight invocations finish, checkpoints are saved)
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
cd "$KSTREAM_ROOT"

kstream_require_venv
kstream_emulator_env
export PATH="$KSTREAM_VENV/bin:$PATH"
outputs=${KSTREAM_DEMO_OUTPUTS:?scripts/demo.sh passes the pattern outputs in KSTREAM_DEMO_OUTPUTS}
out() { jq -r --arg k "$1" '.[$k].value // empty | if type == "string" then . else tojson end' <<<"$outputs"; }
strip() { sed 's/\x1b\[[0-9;]*m//g'; }

state_dir=$KSTREAM_STATE_DIR/local
port=${KSTREAM_DEMO_API_PORT:-4567}
mkdir -p "$state_dir"

log "building kds-consumer and kstream for this machine (cargo build)"
cargo build -q -p kds-consumer -p kstream-cli
bin=target/debug

# A data plane left running by an earlier demo is stopped first (it read an older deployment).
if [ -f "$state_dir/status.json" ]; then
  old=$(jq -r '.pid' "$state_dir/status.json")
  if [ "$(jq -r .state "$state_dir/status.json")" = running ] && kill -0 "$old" 2>/dev/null; then
    log "stopping the data plane of an earlier run (pid $old)"
    kill -INT "$old" || true
    for _ in $(seq 1 50); do kill -0 "$old" 2>/dev/null || break; sleep 0.2; done
  fi
fi

fn=$(out consumer_function_name)
# This deployment only (its name prefix), whatever else the emulator holds.
prefix=${fn%-consumer}-
log "starting kstream local up for ${prefix}* (log: ${state_dir#"$KSTREAM_ROOT"/}/up.log)"
"$bin/kstream" local up --state-dir "$state_dir" --functions-dir "$bin" --api-port "$port" --no-status-line \
  --name-prefix "$prefix" >"$state_dir/up.log" 2>&1 &
up_pid=$!
stop_up() {
  if kill -0 "$up_pid" 2>/dev/null; then
    kill -INT "$up_pid"
    wait "$up_pid" || true
  fi
}
trap stop_up EXIT
for _ in $(seq 1 100); do
  [ -f "$state_dir/status.json" ] && [ "$(jq -r .pid "$state_dir/status.json")" = "$up_pid" ] && break
  kill -0 "$up_pid" 2>/dev/null || { cat "$state_dir/up.log" >&2; die "kstream local up exited"; }
  sleep 0.2
done
sed 's/^/    /' "$state_dir/up.log" | grep -v '^\s*$' | strip >&2

queue_url=$(out failure_queue_url)
base=http://127.0.0.1:$port/restapis/$(out rest_api_id)/$(out api_stage_name)/_user_request_
pool=$(out user_pool_id)
client=$(out user_pool_client_id)

# A demo user in the pattern's user pool, signed in through the emulator's Cognito.
user=demo@example.com
password='Demo!Passw0rd-1'
if ! awse cognito-idp admin-get-user --user-pool-id "$pool" --username "$user" >/dev/null 2>&1; then
  awse cognito-idp admin-create-user --user-pool-id "$pool" --username "$user" --message-action SUPPRESS \
    --user-attributes Name=email,Value="$user" Name=given_name,Value=Demo >/dev/null
  awse cognito-idp admin-set-user-password --user-pool-id "$pool" --username "$user" --password "$password" --permanent
fi
token=$(awse cognito-idp admin-initiate-auth --user-pool-id "$pool" --client-id "$client" \
  --auth-flow ADMIN_USER_PASSWORD_AUTH --auth-parameters USERNAME="$user",PASSWORD="$password" \
  --query AuthenticationResult.IdToken --output text)

post() { # post <path> <json>: prints "<status> <compact body>"
  local body
  body=$(curl -s -w '\n%{http_code}' -X POST "$base$1" -H 'Content-Type: application/json' -H "Authorization: $token" -d "$2")
  printf '%s %s\n' "$(tail -n 1 <<<"$body")" "$(sed '$d' <<<"$body" | jq -c . 2>/dev/null || sed '$d' <<<"$body")"
}

run=$(date -u +%H%M%S)
printf '\n%sThrough the API%s (POST %s/…, Cognito token)\n' "$_k_bold" "$_k_reset" "$base" >&2
good=$(jq -cn --arg run "$run" '{records: [range(1; 4) as $i | {
  data: ({order_id: "api-\($run)-\($i)", amount: ($i * 10), currency: "EUR"} | tojson),
  partitionKey: "customer-\($i)"}]}')
printf '  good orders      POST /records → %s\n' "$(post /records "$good")" >&2
malformed=$(post /record '{"data":"this is not JSON","partitionKey":"customer-9"}')
printf '  malformed record POST /record  → %s\n' "$malformed" >&2
poison=$(post /record "$(jq -cn --arg run "$run" '{data: ({order_id: "api-\($run)-poison", poison: true} | tojson), partitionKey: "customer-7"}')")
printf '  poison record    POST /record  → %s\n' "$poison" >&2
printf '  bad request      POST /record  → %s  (no partitionKey: rejected by the API model)\n' "$(post /record '{"data":"x"}')" >&2
malformed_at=$(cut -d' ' -f2- <<<"$malformed" | jq -r '"\(.ShardId):\(.SequenceNumber)"')
poison_at=$(cut -d' ' -f2- <<<"$poison" | jq -r '"\(.ShardId):\(.SequenceNumber)"')

# Both failing records are bisected out of their batches, retried, then reported to the queue.
# The messages stay in the queue (read with a zero visibility timeout, never deleted): they are what
# `kstream redrive` recovers the records from. Those of this run are the ones whose range holds the
# malformed or the poison record (earlier runs' messages may be there too).
log "waiting for the consumer to give up on the two failing records"
# holds(at): whether a message's range holds "shard:sequence" (sequence numbers compare as numbers).
# shellcheck disable=SC2016 # a jq program
holds='def le(a; b): (a | length) < (b | length) or ((a | length) == (b | length) and a <= b);
  def holds(at): (at | split(":")) as [$s, $q] | .KinesisBatchInfo as $b
    | $b.shardId == $s and le($b.startSequenceNumber; $q) and le($q; $b.endSequenceNumber);'
declare -A by_id=()
messages=()
deadline=$(($(date +%s) + 60))
while [ ${#messages[@]} -lt 2 ] && [ "$(date +%s)" -lt "$deadline" ]; do
  page=$(awse sqs receive-message --queue-url "$queue_url" --max-number-of-messages 10 --wait-time-seconds 1 \
    --visibility-timeout 0)
  while IFS= read -r m; do
    [ -n "$m" ] || continue
    id=$(jq -r .MessageId <<<"$m")
    body=$(jq -r .Body <<<"$m")
    [ -z "${by_id[$id]:-}" ] || continue
    if jq -e --arg p "$poison_at" --arg m "$malformed_at" "$holds"' holds($p) or holds($m)' <<<"$body" >/dev/null; then
      by_id[$id]=1
      messages+=("$body")
    fi
  done < <(jq -c '.Messages // [] | .[]' <<<"$page")
done
sleep 1

printf '\n%sThe Rust consumer%s (%s, log %s)\n' "$_k_bold" "$_k_reset" "$fn" "${state_dir#"$KSTREAM_ROOT"/}/logs/$fn.log" >&2
[ -f "$state_dir/logs/$fn.log" ] || die "no log for $fn: did kstream local find its binary? (see ${state_dir#"$KSTREAM_ROOT"/}/up.log)"
strip <"$state_dir/logs/$fn.log" | grep -E 'batch processed|record failed' | tail -n 20 |
  sed -E 's/ ?xrayTraceId="[^"]*"//; s/Lambda runtime invoke\{requestId=/invoke{/; s/^ */  /' | cut -c1-200 >&2

printf '\n%sThe failure queue%s (%s): what Lambda sends when it gives a batch up\n' "$_k_bold" "$_k_reset" "${queue_url##*/}" >&2
if [ ${#messages[@]} -eq 0 ]; then
  warn "no message reached the failure queue within 60 s (see ${state_dir#"$KSTREAM_ROOT"/}/up.log)"
fi
for m in "${messages[@]}"; do
  jq -r --arg p "$poison_at" --arg m "$malformed_at" '
    .KinesisBatchInfo as $b | "\($b.shardId):\($b.startSequenceNumber)" as $at |
    "  \($b.shardId) sequence \($b.startSequenceNumber)..\($b.endSequenceNumber), batch size \($b.batchSize)" +
    " (\(if $at == $p then "the poison record" elif $at == $m then "the malformed record" else "an earlier record" end))\n" +
    "    \(.requestContext.condition) after \(.requestContext.approximateInvokeCount) invocations, request \(.requestContext.requestId)\n" +
    "    arrived \($b.approximateArrivalOfFirstRecord), stream \($b.streamArn | split("/") | last)"' <<<"$m" >&2
done
printf '  full message: %s\n' "${messages[0]:-none}" | cut -c1-400 >&2

"$bin/kstream" local status --state-dir "$state_dir" | tail -n 1 | sed 's/^/\n/' >&2
stop_up
trap - EXIT
log "kstream local stopped; run it again with: $bin/kstream local up --functions-dir $bin --name-prefix $prefix   (Ctrl-C stops it)"
