#!/usr/bin/env bash
# Benchmark: the Firehose transform (functions/firehose-transform, Rust) against the same
# template rendered by Node Handlebars.js 4.7 (bench/package.json), on the same 3 MiB
# Firehose event of 1 KiB records, in one run. Each side does a whole invocation's work
# (parse the event, base64 + JSON-decode each record, render, base64-encode, serialize the
# response); throughput is records per second at the median invocation, peak memory is
# the process's maximum RSS (/usr/bin/time -v). Goals: >= 5x Node's throughput, <= 1/4 of
# its peak memory. Writes bench/results/firehose-transform.md.
#
# Env: ITERATIONS (default 40), WARMUP (default 5), RECORDS (default 3072 = 3 MiB).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
HERE=bench/firehose-transform
ITERATIONS=${ITERATIONS:-40}
WARMUP=${WARMUP:-5}
RECORDS=${RECORDS:-3072}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

[ -x /usr/bin/time ] || { echo "bench: /usr/bin/time is required (apt-get install time)" >&2; exit 1; }
if [ ! -d bench/node_modules/handlebars ]; then
  (cd bench && npm ci --no-audit --no-fund >/dev/null)
fi

echo "building the Rust driver (release)..." >&2
cargo build --release --quiet -p firehose-transform --example transform_bench
RUST_BIN=$ROOT/target/release/examples/transform_bench

python3 "$HERE/make_event.py" "$WORK/event.json" "$RECORDS"
TEMPLATE=$HERE/seed.hbs

measure() { # name, command... -> $WORK/<name>.json and $WORK/<name>.rss (KiB)
  local name=$1; shift
  /usr/bin/time -v -o "$WORK/$name.time" "$@" >"$WORK/$name.json"
  awk -F': ' '/Maximum resident set size/ {print $2}' "$WORK/$name.time" >"$WORK/$name.rss"
}

measure rust "$RUST_BIN" "$WORK/event.json" "$TEMPLATE" "$ITERATIONS" "$WARMUP"
measure node node "$HERE/node_transform.js" "$WORK/event.json" "$TEMPLATE" "$ITERATIONS" "$WARMUP"

python3 - "$WORK" "$RECORDS" "$ITERATIONS" <<'PY'
import json, os, sys
work, records, iterations = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
r = json.load(open(f"{work}/rust.json")); n = json.load(open(f"{work}/node.json"))
rss = {k: int(open(f"{work}/{k}.rss").read()) for k in ("rust", "node")}
for side in (r, n):
    assert side["records"] == records and side["ok"] == records, side
mib = r["event_bytes"] / 2**20
speed = r["records_per_s"] / n["records_per_s"]
mem = rss["rust"] / rss["node"]
rows = [
    ("median invocation (ms)", f'{r["median_ms"]:.1f}', f'{n["median_ms"]:.1f}', f'{n["median_ms"] / r["median_ms"]:.1f}x faster'),
    ("records/s", f'{r["records_per_s"]:,.0f}', f'{n["records_per_s"]:,.0f}', f"{speed:.1f}x"),
    ("input MiB/s (1 KiB records)", f'{r["records_per_s"] * 1024 / 2**20:.1f}', f'{n["records_per_s"] * 1024 / 2**20:.1f}', f"{speed:.1f}x"),
    ("peak RSS (MiB)", f'{rss["rust"] / 1024:.1f}', f'{rss["node"] / 1024:.1f}', f"{mem:.2f} of Node"),
]
goal_speed = speed >= 5.0
goal_mem = mem <= 0.25
lines = [
    "# Firehose transform: Rust vs Node Handlebars.js",
    "",
    f"Event: {records} records of 1 KiB ({mib:.1f} MiB as a Firehose event), the seed's template; "
    f"{iterations} measured invocations per side after warm-up, in one run. "
    f"Node {os.popen('node --version').read().strip()}, handlebars {n['handlebars']}.",
    "",
    "| metric | Rust (kstream) | Node (handlebars) | ratio |",
    "|---|---:|---:|---:|",
    *[f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows],
    "",
    f"Goals: >= 5x throughput: {'met' if goal_speed else 'NOT met'} ({speed:.1f}x); "
    f"<= 1/4 of Node's peak memory: {'met' if goal_mem else 'NOT met'} ({mem:.2f}).",
    "",
    "Both sides parse the event, decode and JSON-parse every record, render, base64-encode and "
    "serialize the response. Rust additionally encodes values for their JSON context, "
    "validates and compacts each output; Node's output for this template is not valid JSON "
    "(`\"a\": some string`).",
]
text = "\n".join(lines) + "\n"
print(text)
os.makedirs("bench/results", exist_ok=True)
open("bench/results/firehose-transform.md", "w").write(text)
PY
