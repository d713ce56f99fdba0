# shellcheck shell=bash disable=SC2154 # colours come from scripts/lib/common.sh
# Smoke-check helpers: PASS/FAIL lines and a summary. Source after scripts/lib/common.sh.
#
#   check_eq   "<what>" <expected> <actual>     PASS when equal (strings)
#   check_num  "<what>" <expected> <actual>     PASS when numerically equal (100 == 100.0)
#   check_true "<what>" <command...>            PASS when the command succeeds
#   check_json "<what>" <json> <jq filter>      PASS when the filter yields true for the JSON
#   pass/fail  "<what>" [detail]
#   check_topic_encrypted <topic arn>           PASS when the SNS topic exists with a KMS key
#   smoke_summary                               prints totals; returns 1 if anything failed
#   (awse, the aws CLI against the emulator, comes from scripts/lib/common.sh)

SMOKE_PASSED=0
SMOKE_FAILED=0
SMOKE_FAILURES=()

pass() {
  SMOKE_PASSED=$((SMOKE_PASSED + 1))
  printf '%sPASS%s  %s%s\n' "$_k_green" "$_k_reset" "$1" "${2:+ ($2)}"
}

fail() {
  SMOKE_FAILED=$((SMOKE_FAILED + 1))
  SMOKE_FAILURES+=("$1")
  printf '%sFAIL%s  %s%s\n' "$_k_red" "$_k_reset" "$1" "${2:+: $2}"
}

section() { printf '\n%s-- %s%s\n' "$_k_bold" "$1" "$_k_reset"; }

check_eq() {
  if [ "$2" = "$3" ]; then pass "$1" "$3"; else fail "$1" "expected '$2', got '$3'"; fi
}

check_num() {
  if [ -n "$3" ] && awk -v a="$2" -v b="$3" 'BEGIN { exit !(a + 0 == b + 0) }'; then
    pass "$1" "$3"
  else
    fail "$1" "expected $2, got '${3}'"
  fi
}

check_true() {
  local what=$1
  shift
  if "$@" >/dev/null 2>&1; then pass "$what"; else fail "$what" "'$*' failed"; fi
}

check_json() {
  local what=$1 json=$2 filter=$3 detail=${4:-}
  if [ "$(jq -r "$filter" <<<"$json" 2>/dev/null)" = true ]; then
    pass "$what" "$detail"
  else
    fail "$what" "${detail:+$detail; }not true: $filter"
  fi
}

# check_bucket_secure <bucket> <bucket ARN>: the secure-bucket module's settings as the emulator
# reports them: public access blocked, default encryption (SSE-KMS when the pattern's
# bucket_kms_key_arn is set, else SSE-S3), and the TLS-only policy unless the pattern's
# bucket_tls_only_policy is false (emulator only). Needs the caller's `var`.
check_bucket_secure() {
  local bucket=$1 bucket_arn=$2 pab enc want bp
  if pab=$(awse s3api get-public-access-block --bucket "$bucket" 2>&1); then
    check_json "public access blocked (all four)" "$pab" '.PublicAccessBlockConfiguration | [.BlockPublicAcls, .IgnorePublicAcls, .BlockPublicPolicy, .RestrictPublicBuckets] | all'
  else
    fail "public access block set" "$pab"
  fi
  if enc=$(awse s3api get-bucket-encryption --bucket "$bucket" 2>&1); then
    want=AES256
    [ -n "$(var bucket_kms_key_arn)" ] && want=aws:kms
    check_eq "default encryption" "$want" "$(jq -r '.ServerSideEncryptionConfiguration.Rules[0].ApplyServerSideEncryptionByDefault.SSEAlgorithm' <<<"$enc")"
  else
    fail "default encryption set" "$enc"
  fi
  if [ "$(var bucket_tls_only_policy)" = false ]; then
    # Only for the emulator (plain HTTP): see var.bucket_tls_only_policy.
    if awse s3api get-bucket-policy --bucket "$bucket" >/dev/null 2>&1; then
      fail "no bucket policy (var.bucket_tls_only_policy = false)"
    else
      pass "no TLS-only bucket policy (var.bucket_tls_only_policy = false, emulator only)"
    fi
  elif bp=$(awse s3api get-bucket-policy --bucket "$bucket" --query Policy --output text 2>&1); then
    check_json "bucket policy denies requests without TLS" "$bp" \
      "[.Statement[] | select(.Effect == \"Deny\" and .Condition.Bool[\"aws:SecureTransport\"] == \"false\" and (.Resource | index(\"$bucket_arn/*\") != null))] | length == 1"
  else
    fail "bucket policy set" "$bp"
  fi
}


# The alarm topic exists and is encrypted with a KMS key (every pattern's default topic).
check_topic_encrypted() {
  local topic=$1 attrs
  if attrs=$(awse sns get-topic-attributes --topic-arn "$topic" 2>&1); then
    check_json "alarm topic exists and is KMS-encrypted" "$attrs" '.Attributes.KmsMasterKeyId // "" | length > 0'
  else
    fail "alarm topic $topic exists" "$attrs"
  fi
}

smoke_summary() {
  local name=$1
  printf '\n'
  if [ "$SMOKE_FAILED" -eq 0 ]; then
    printf '%s%s: all %d checks passed%s\n' "$_k_green" "$name" "$SMOKE_PASSED" "$_k_reset"
    return 0
  fi
  printf '%s%s: %d of %d checks FAILED:%s\n' "$_k_red" "$name" "$SMOKE_FAILED" \
    "$((SMOKE_PASSED + SMOKE_FAILED))" "$_k_reset"
  printf '  - %s\n' "${SMOKE_FAILURES[@]}"
  return 1
}
