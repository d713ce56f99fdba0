#!/usr/bin/env bash
# Regenerates the Powertools EMF reference documents (crates/pipeline/tests/fixtures/powertools-emf/
# <scenario>.json) that crates/pipeline/tests/powertools_emf.rs compares kstream's EMF with.
#   scripts/powertools-emf-fixtures.sh
# Installs Powertools for AWS Lambda (Python) at the version pinned in
# bench/stream-analytics/requirements.txt (with its pinned dependencies) into a throwaway venv,
# target/powertools-emf/venv, and runs make_fixtures.py there (see its header). Needs python3
# and PyPI; writes only the fixtures and target/powertools-emf/.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/common.sh
. scripts/lib/common.sh

pins=bench/stream-analytics/requirements.txt
grep -q '^aws-lambda-powertools==' "$pins" || die "$pins pins no aws-lambda-powertools version"
venv=target/powertools-emf/venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
# Powertools and the two packages it depends on, each at its pinned version.
grep -E '^(aws-lambda-powertools|jmespath|typing_extensions)==' "$pins" >target/powertools-emf/requirements.txt
"$venv/bin/pip" install --quiet --disable-pip-version-check -r target/powertools-emf/requirements.txt
log "Powertools $("$venv/bin/python" -c 'from importlib.metadata import version; print(version("aws-lambda-powertools"))')"
"$venv/bin/python" crates/pipeline/tests/fixtures/powertools-emf/make_fixtures.py
