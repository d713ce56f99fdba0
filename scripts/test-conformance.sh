#!/usr/bin/env bash
# Tier: the local data plane against outputs recorded on AWS (conformance/README.md).
#
#   scripts/test-conformance.sh
#
# Runs every test target named `conformance*` (each crate of the data plane has one: it loads its
# area's case files from conformance/<area>/ and drives each case through the real component) with
# --ignored, then prints a pass count per area and feature. Fails when:
#   - any case fails (a runner prints `FAIL <area>/<file>/<case>: ...` and exits non-zero);
#   - an area or feature has fewer cases than conformance/counts.tsv records (a case was lost);
#   - a feature passes fewer cases than it runs.
# The counts are written to target/conformance.tsv (area, feature, passed, total). When cases are
# added, update conformance/counts.tsv from it (the script says so).
#
# Starts the emulator if none answers (the Kinesis -> Lambda cases poll its streams and send to its
# queues) and stops it at the end only if it started it.
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
cd "$KSTREAM_ROOT"

kstream_require_venv
kstream_emulator_for_tier
trap kstream_emulator_release EXIT

[ -n "${_kstream_built:-}" ] || kstream_build
runners=$(jq -r 'select(.test and .kind == "test" and (.name | startswith("conformance"))) | "\(.dir) \(.name)"' \
  "$KSTREAM_ARTIFACTS" | sort -u)
[ -n "$runners" ] || die "no conformance* test target in the build (kstream_build)"

out=$(mktemp)
trap 'rm -f "$out"; kstream_emulator_release' EXIT
failed=()
t0=$(date +%s)
while read -r dir name; do
  rel=${dir#"$KSTREAM_ROOT"/}
  log "conformance: $rel $name"
  if ! kstream_tests "$rel" "$name" -- --ignored --nocapture --test-threads=1 >"$out.one" 2>&1; then
    failed+=("$rel/$name")
  fi
  # Not anchored: the test harness's `test name ... ` may start the line the first one is on.
  grep -oP '(FAIL \S+/\S+: .*|CONFORMANCE\t.*)$' "$out.one" >>"$out" || true
  if [[ " ${failed[*]} " == *" $rel/$name "* ]]; then
    # Everything the failed runner said, for the failures that are not cases (a panic, a setup error).
    tail -n 40 "$out.one" >&2
  fi
  rm -f "$out.one"
done <<<"$runners"

grep '^FAIL' "$out" >&2 || true
mkdir -p target
grep '^CONFORMANCE' "$out" | cut -f2- | sort >target/conformance.tsv || true

# The table: per feature, then per area (the file is sorted; POSIX awk).
awk -F'\t' '
  BEGIN { printf "%-16s %-34s %s\n", "area", "feature", "passed/cases" }
  { key = $1 "\t" $2
    if (key != last && last != "") { split(last, f, "\t"); printf "%-16s %-34s %d/%d\n", f[1], f[2], p, t; p = 0; t = 0 }
    last = key; p += $3; t += $4
    if (!($1 in at)) order[++n] = $1
    ap[$1] += $3; at[$1] += $4 }
  END {
    if (last != "") { split(last, f, "\t"); printf "%-16s %-34s %d/%d\n", f[1], f[2], p, t }
    for (i = 1; i <= n; i++) { a = order[i]; printf "%-16s %-34s %d/%d (%.0f %%)\n", a, "ALL", ap[a], at[a], 100 * ap[a] / at[a] }
  }' target/conformance.tsv

# No lost cases: every (area, feature) in counts.tsv has at least its recorded number of cases.
lost=$(awk -F'\t' '
  NR == FNR { if ($0 !~ /^#/ && NF >= 3) want[$1 "\t" $2] = $3; next }
  { have[$1 "\t" $2] += $4 }
  END { for (k in want) if (have[k] < want[k]) printf "  %s: %d cases, %d recorded\n", k, have[k] + 0, want[k] }
' conformance/counts.tsv target/conformance.tsv)
grew=$(awk -F'\t' '
  NR == FNR { if ($0 !~ /^#/ && NF >= 3) want[$1 "\t" $2] = $3; next }
  { have[$1 "\t" $2] += $4 }
  END { for (k in have) if (have[k] > want[k] + 0) print k }
' conformance/counts.tsv target/conformance.tsv)
short=$(awk -F'\t' '$3 < $4' target/conformance.tsv)

[ -z "$grew" ] || warn "more cases than conformance/counts.tsv records: update it (cut -f1,2,4 target/conformance.tsv)"
[ -z "$lost" ] || die "conformance cases were lost (conformance/counts.tsv):
$lost"
[ ${#failed[@]} -eq 0 ] && [ -z "$short" ] || die "conformance failed: ${failed[*]:-}"
log "conformance: every case passed in $(($(date +%s) - t0))s"
