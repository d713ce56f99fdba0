#!/usr/bin/env bash
# Runs pattern 2's Flink SQL (flink/ticker-analytics/sql) locally with PyFlink over produced ticker
# records and compares the result with the Lambda's S3 output (scripts/flink_compare.py says what
# is compared and why). Needs a JDK (java on PATH or JAVA_HOME) and Python 3.8 to 3.11.
#
#   scripts/flink-compare.sh RECORDS.jsonl LAMBDA_OUTPUT_DIR [flink_compare.py options]
#   scripts/flink-compare.sh --self-test    main.py's unit tests; generated fixture: must agree;
#                                           perturbed fixture: must disagree
#
# PyFlink (flink/ticker-analytics/requirements-local.txt, pinned) is installed on first use into
# .venv-flink (about 720 MB, mostly apache-flink-libraries); it is reinstalled only when the
# requirements file changes, so running twice is safe. KSTREAM_FLINK_PYTHON picks the interpreter.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/common.sh
. scripts/lib/common.sh

venv=.venv-flink
requirements=flink/ticker-analytics/requirements-local.txt

ensure_java() {
  if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then return; fi
  command -v java >/dev/null || die "PyFlink needs a JDK (11 or 17): install one or set JAVA_HOME"
}

ensure_venv() {
  local stamp=$venv/.requirements.sha256 want python
  want=$(sha256sum "$requirements" | cut -d' ' -f1)
  if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then return; fi
  python=${KSTREAM_FLINK_PYTHON:-}
  if [ -z "$python" ]; then
    for candidate in python3.11 python3.10 python3.9 python3; do
      if command -v "$candidate" >/dev/null; then python=$candidate; break; fi
    done
  fi
  [ -n "$python" ] || die "no python3 found (PyFlink 1.20 supports Python 3.8 to 3.11)"
  "$python" -c 'import sys; sys.exit(not ((3, 8) <= sys.version_info[:2] <= (3, 11)))' ||
    die "$python is $("$python" -V 2>&1): PyFlink 1.20 supports Python 3.8 to 3.11 (set KSTREAM_FLINK_PYTHON)"
  log "installing PyFlink into $venv (first run: ~720 MB)"
  rm -rf "$venv"
  "$python" -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
  echo "$want" >"$stamp"
}

self_test() {
  local rc
  self_test_tmp=$(mktemp -d)
  trap 'rm -rf "$self_test_tmp"' EXIT
  local tmp=$self_test_tmp
  log "main.py: properties and SQL rendering"
  "$venv/bin/python" -m unittest flink/ticker-analytics/tests/test_main.py
  "$venv/bin/python" flink/ticker-analytics/tests/make_fixture.py "$tmp/agree"
  # The committed fixture is this generator's output.
  diff -r flink/ticker-analytics/tests/fixture "$tmp/agree" >/dev/null ||
    die "flink/ticker-analytics/tests/fixture differs from make_fixture.py's output: regenerate it"
  log "fixture: the engines must agree"
  "$venv/bin/python" scripts/flink_compare.py --records "$tmp/agree/records.jsonl" \
    --lambda-output "$tmp/agree/lambda-output" >"$tmp/agree.json"
  log "perturbed fixture (one row missing, one count off): the engines must disagree"
  "$venv/bin/python" flink/ticker-analytics/tests/make_fixture.py "$tmp/disagree" --disagree
  rc=0
  "$venv/bin/python" scripts/flink_compare.py --records "$tmp/disagree/records.jsonl" \
    --lambda-output "$tmp/disagree/lambda-output" >"$tmp/disagree.json" 2>"$tmp/disagree.err" || rc=$?
  [ "$rc" = 1 ] || { cat "$tmp/disagree.err" >&2; die "the perturbed fixture was not reported as a disagreement (exit $rc)"; }
  "$venv/bin/python" - "$tmp/disagree.json" <<'PY'
import json, sys
checks = sorted({p["check"] for p in json.load(open(sys.argv[1]))["problems"]})
expected = ["filtered rows", "per-ticker totals", "window count"]
if checks != expected:
    sys.exit(f"flink-compare self-test: problems {checks}, expected {expected}")
PY
  log "flink-compare self-test: ok"
}

[ $# -ge 1 ] || { sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
ensure_java
ensure_venv
if [ "$1" = --self-test ]; then
  self_test
else
  [ $# -ge 2 ] || die "usage: scripts/flink-compare.sh RECORDS.jsonl LAMBDA_OUTPUT_DIR [options]"
  records=$1 output=$2
  shift 2
  exec "$venv/bin/python" scripts/flink_compare.py --records "$records" --lambda-output "$output" "$@"
fi
