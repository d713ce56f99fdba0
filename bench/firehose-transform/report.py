#!/usr/bin/env python3
"""The Firehose transform benchmark's table (bench/firehose-transform/run.sh): each side's rounds in
(WORK/<side>.<round>.json from the drivers, .rss from /usr/bin/time), the table printed,
bench/results/firehose-transform.md and bench/results/firehose-transform.json written.

    report.py WORK RECORDS ITERATIONS ROUNDS
"""
import glob
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from lib import results  # noqa: E402  (bench/lib)

GOAL_THROUGHPUT_VS_NODE = 5.0  # records per CPU-second and per wall second, × Node's
GOAL_MEMORY_OF_NODE = 0.25  # peak RSS, of Node's
NODE = "Node Handlebars.js"


def side(work, name, records):
    runs = []
    for path in sorted(glob.glob(f"{work}/{name}.*.json")):
        with open(path) as f:
            run = json.load(f)
        assert run["records"] == records and run["ok"] == records, run
        with open(path[:-5] + ".rss") as f:
            run["rss_kib"] = int(f.read())
        runs.append(run)
    return {
        "wall_ms": min(r["median_ms"] for r in runs),
        "cpu_ms": min(r["cpu_ms"] for r in runs),
        "rss_mib": max(r["rss_kib"] for r in runs) / 1024,
        "event_bytes": runs[0]["event_bytes"],
        "extra": runs[0],
    }


def write_result(r, n, records):
    """bench/results/firehose-transform.json: the table's figures, its goals, the billed time."""
    workload = f"{records:,} records of 1 KiB"
    memory_mb = results.pattern_memory_mb("03-kds-firehose-s3", "transform_memory_mb")

    def both(key, scale=lambda v: v):
        return {workload: {"kstream": scale(r[key]), NODE: scale(n[key])}}

    per_cpu_s = lambda ms: records / (ms / 1000)  # noqa: E731
    return results.write(
        "firehose-transform", "Firehose transform: kstream vs Node Handlebars.js, 3 MiB of records an event",
        results.command("bench/firehose-transform/run.sh", ["ITERATIONS", "WARMUP", "ROUNDS", "RECORDS"]),
        ["kstream", NODE],
        [results.metric("records per CPU-second", "records/CPU-s", True, both("cpu_ms", per_cpu_s), plot=True),
         results.metric("peak memory (RSS)", "MiB", False, both("rss_mib"), plot=True),
         results.metric("wall time per invocation (median)", "ms", False, both("wall_ms"), plot=True),
         results.metric("CPU time per invocation", "ms", False, both("cpu_ms"))],
        [results.goal("throughput vs Node, by CPU time", n["cpu_ms"] / r["cpu_ms"], GOAL_THROUGHPUT_VS_NODE,
                      ">=", "×"),
         results.goal("throughput vs Node, by wall time", n["wall_ms"] / r["wall_ms"], GOAL_THROUGHPUT_VS_NODE,
                      ">=", "×"),
         results.goal("peak memory, of Node's", r["rss_mib"] / n["rss_mib"], GOAL_MEMORY_OF_NODE, "<=", "of Node")],
        [results.cost("firehose-transform", workload, "kstream", memory_mb, records, r["wall_ms"]),
         results.cost("firehose-transform", workload, NODE, memory_mb, records, n["wall_ms"])])


def main():
    work, records, iterations, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    r, n = side(work, "rust", records), side(work, "node", records)
    wall = n["wall_ms"] / r["wall_ms"]
    cpu = n["cpu_ms"] / r["cpu_ms"]
    mem = r["rss_mib"] / n["rss_mib"]

    def rate(ms):
        return records / (ms / 1000)

    rows = [
        ("wall time per invocation, ms (best round's median)", f'{r["wall_ms"]:.1f}', f'{n["wall_ms"]:.1f}',
         f"{wall:.1f}x faster"),
        ("CPU time per invocation, ms (best round)", f'{r["cpu_ms"]:.1f}', f'{n["cpu_ms"]:.1f}', f"{cpu:.1f}x less"),
        ("records/s per CPU-second", f'{rate(r["cpu_ms"]):,.0f}', f'{rate(n["cpu_ms"]):,.0f}', f"{cpu:.1f}x"),
        ("input MiB/s per CPU-second", f'{rate(r["cpu_ms"]) / 1024:.0f}', f'{rate(n["cpu_ms"]) / 1024:.0f}',
         f"{cpu:.1f}x"),
        ("peak RSS, MiB", f'{r["rss_mib"]:.1f}', f'{n["rss_mib"]:.1f}', f"{mem:.2f} of Node"),
    ]

    def met(ok):
        return "met" if ok else "NOT met"

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
        f"Goals: >= {GOAL_THROUGHPUT_VS_NODE:.0f}x throughput: {met(cpu >= GOAL_THROUGHPUT_VS_NODE)} by CPU time "
        f"({cpu:.1f}x), {met(wall >= GOAL_THROUGHPUT_VS_NODE)} by wall time ({wall:.1f}x); <= 1/4 of Node's peak "
        f"memory: {met(mem <= GOAL_MEMORY_OF_NODE)} ({mem:.2f}).",
        "",
        "CPU time is the steadier measure on a shared machine (wall time includes waiting for a CPU); "
        "Node's CPU time includes its garbage-collector threads. Both sides parse the event, decode and "
        "JSON-parse every record, render, base64-encode and serialize the response; the Rust driver "
        "runs the handler with the Lambda binary's allocator (mimalloc v2). Rust also encodes "
        "values for their JSON context and guarantees valid one-line JSON; Node's output for this "
        "template is not valid JSON (`\"a\": some string`). The wall time per invocation is what the "
        "cost table (bench/cost.py) bills: from the event's bytes to the serialized response, in "
        "process (the Runtime API's HTTP receipt and post are not in it, on either side).",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    os.makedirs("bench/results", exist_ok=True)
    with open("bench/results/firehose-transform.md", "w") as f:
        f.write(text)
    print(f"wrote bench/results/firehose-transform.md and {write_result(r, n, records)}", file=sys.stderr)


if __name__ == "__main__":
    main()
