#!/usr/bin/env bash
# PLACEHOLDER (helper D, issue 11): the lead writes this check and replaces this file.
# It exists only because scripts/lint-patterns.sh requires the pattern's checks to exist. It is
# deliberately not executable, so scripts/test-emulator.sh and scripts/test-e2e.sh skip it, and it
# fails if run by hand: nothing is checked yet.
echo "$0: placeholder, not written yet (pattern 04's check comes with the lead's merge)" >&2
exit 1
