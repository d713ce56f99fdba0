# shellcheck shell=bash
# Installs the benchmarks' pinned peers when their pins changed; sourced by bench/<suite>/run.sh
# (run from the repository's root).
#   bench_python_peers VENV REQUIREMENTS   a venv of its own with the suite's pinned Python
#                                          packages, (re)installed when REQUIREMENTS is newer
#   bench_node_peers                       bench/node_modules from bench/package-lock.json
#                                          (npm ci when the lock is newer than the install)

bench_python_peers() {
  local venv=$1 requirements=$2
  if [ ! "$venv/.installed" -nt "$requirements" ]; then
    echo "installing the Python peer ($requirements)..." >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
    touch "$venv/.installed"
  fi
}

bench_node_peers() {
  if [ ! bench/node_modules/.package-lock.json -nt bench/package-lock.json ]; then
    echo "installing the Node peers' packages (bench/package.json)..." >&2
    npm ci --prefix bench --no-audit --no-fund --silent
  fi
}
