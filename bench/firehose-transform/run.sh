#!/usr/bin/env bash
# Benchmark: the Firehose transform (functions/firehose-transform, Rust) against the same
# template rendered by Node Handlebars.js 4.7 (bench/package.json), on the same 3 MiB
# Firehose event of 1 KiB records, in one run. Each side does a whole invocation's work:
# parse the event (Rust through serde_path_to_error, as lambda_runtime does), base64- and
# JSON-decode each record, render, base64-encode, serialize the response.
#
# Per side: wall time and CPU time per invocation (Rust: the thread's CPU time, the
# process is single-threaded; Node: process.cpuUsage, garbage-collector threads
# included), peak RSS from /usr/bin/time -v. The Rust driver uses the Lambda binary's
# global allocator (mimalloc v2, functions/firehose-transform/src/main.rs). Sides alternate
# for ROUNDS rounds and each side's best round counts, so load from other processes on a
# shared machine skews the ratio as little as possible. Goals: >= 5x Node's throughput,
# <= 1/4 of its peak memory. Writes bench/results/firehose-transform.md.
#
# Env: ITERATIONS (default 30), WARMUP (default 3), ROUNDS (default 3), RECORDS (default
# 3072 = 3 MiB).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
HERE=bench/firehose-transform
ITERATIONS=${ITERATIONS:-30}
WARMUP=${WARMUP:-3}
ROUNDS=${ROUNDS:-3}
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

measure() { # name round command... -> $WORK/<name>.<round>.json and .rss (KiB)
  local name=$1 round=$2; shift 2
  /usr/bin/time -v -o "$WORK/$name.$round.time" "$@" >"$WORK/$name.$round.json"
  awk -F': ' '/Maximum resident set size/ {print $2}' "$WORK/$name.$round.time" >"$WORK/$name.$round.rss"
}

for round in $(seq 1 "$ROUNDS"); do
  echo "round $round/$ROUNDS..." >&2
  measure rust "$round" "$RUST_BIN" "$WORK/event.json" "$TEMPLATE" "$ITERATIONS" "$WARMUP"
  measure node "$round" node "$HERE/node_transform.js" "$WORK/event.json" "$TEMPLATE" "$ITERATIONS" "$WARMUP"
done

python3 - "$WORK" "$RECORDS" "$ITERATIONS" "$ROUNDS" <<'PY'
import glob, json, os, sys
work, records, iterations, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])

def side(name):
    runs = []
    for path in sorted(glob.glob(f"{work}/{name}.*.json")):
        run = json.load(open(path))
        assert run["records"] == records and run["ok"] == records, run
        run["rss_kib"] = int(open(path[:-5] + ".rss").read())
        runs.append(run)
    return {
        "wall_ms": min(r["median_ms"] for r in runs),
        "cpu_ms": min(r["cpu_ms"] for r in runs),
        "rss_mib": max(r["rss_kib"] for r in runs) / 1024,
        "event_bytes": runs[0]["event_bytes"],
        "extra": runs[0],
    }

r, n = side("rust"), side("node")
wall = n["wall_ms"] / r["wall_ms"]
cpu = n["cpu_ms"] / r["cpu_ms"]
mem = r["rss_mib"] / n["rss_mib"]
rate = lambda ms: records / (ms / 1000)
rows = [
    ("wall time per invocation, ms (best round's median)", f'{r["wall_ms"]:.1f}', f'{n["wall_ms"]:.1f}', f"{wall:.1f}x faster"),
    ("CPU time per invocation, ms (best round)", f'{r["cpu_ms"]:.1f}', f'{n["cpu_ms"]:.1f}', f"{cpu:.1f}x less"),
    ("records/s per CPU-second", f'{rate(r["cpu_ms"]):,.0f}', f'{rate(n["cpu_ms"]):,.0f}', f"{cpu:.1f}x"),
    ("input MiB/s per CPU-second", f'{rate(r["cpu_ms"]) / 1024:.0f}', f'{rate(n["cpu_ms"]) / 1024:.0f}', f"{cpu:.1f}x"),
    ("peak RSS, MiB", f'{r["rss_mib"]:.1f}', f'{n["rss_mib"]:.1f}', f"{mem:.2f} of Node"),
]
met = lambda ok: "met" if ok else "NOT met"
lines = [
    "# Firehose transform: Rust (kstream) vs Node Handlebars.js",
    "",
    f"Event: {records} records of 1 KiB ({n['event_bytes'] / 2**20:.1f} MiB as a Firehose event), the seed's "
    f"template; {rounds} alternating rounds of {iterations} measured invocations per side, in one run. "
    f"Node {os.popen('node --version').read().strip()}, handlebars {n['extra']['handlebars']}; "
    f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the end.",
    "",
    "| metric | Rust (kstream) | Node (handlebars) | ratio |",
    "|---|---:|---:|---:|",
    *[f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows],
    "",
    f"Goals: >= 5x throughput: {met(cpu >= 5)} by CPU time ({cpu:.1f}x), {met(wall >= 5)} by wall time "
    f"({wall:.1f}x); <= 1/4 of Node's peak memory: {met(mem <= 0.25)} ({mem:.2f}).",
    "",
    "CPU time is the steadier measure on a shared machine (wall time includes waiting for a CPU); "
    "Node's CPU time includes its garbage-collector threads. Both sides parse the event, decode and "
    "JSON-parse every record, render, base64-encode and serialize the response; the Rust driver "
    "runs the handler with the Lambda binary's allocator (mimalloc v2). Rust also encodes "
    "values for their JSON context and guarantees valid one-line JSON; Node's output for this "
    "template is not valid JSON (`\"a\": some string`).",
]
text = "\n".join(lines) + "\n"
print(text)
os.makedirs("bench/results", exist_ok=True)
open("bench/results/firehose-transform.md", "w").write(text)
PY
