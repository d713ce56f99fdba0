#!/usr/bin/env bash
# The architecture diagram of every pattern (docs/diagrams/<pattern>.png), drawn from
# docs/diagrams/patterns.py with the `diagrams` package (pinned, in its own venv in the per-machine
# tool cache: its pins are not the project's) and Graphviz's `dot`, installed with apt-get when it
# is missing and this runs as root. Called by `make diagrams`; the PNGs are committed.
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
cd "$KSTREAM_ROOT"

diagrams_version=0.25.1
if ! command -v dot >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    log "installing Graphviz (apt-get)"
    DEBIAN_FRONTEND=noninteractive timeout 300 apt-get install -y -q graphviz >/dev/null ||
      { timeout 300 apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive timeout 300 apt-get install -y -q graphviz >/dev/null; } ||
      die "could not install Graphviz (apt-get install graphviz)"
  else
    die "Graphviz's dot is missing: install it (Debian/Ubuntu: apt-get install graphviz; macOS: brew install graphviz)"
  fi
fi
venv=$(kstream_python_tool diagrams "$diagrams_version")
"$venv/bin/python" docs/diagrams/patterns.py docs/diagrams
for f in docs/diagrams/*.png; do log "wrote $f ($(du -k "$f" | cut -f1) KiB)"; done
