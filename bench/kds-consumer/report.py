#!/usr/bin/env python3
"""The kds-consumer benchmark's table and result file.

    report.py RESULTS.jsonl EVENTS_DIR OUT_BASE COMMAND

Per workload and side: user records per CPU-second and CPU ms per batch of the best round (by
CPU time), peak RSS (the highest of its rounds), and the median wall time per batch over the
measured batches of all rounds. The floor (drive.py's side `floor`: the function's runtime with
a handler that does not read the event) gives its CPU ms per batch, and Python's CPU over it:
the most any handler on that runtime could reach against Python; the socket floor (side
`socket-floor`: a blocking standard-library loop over the Runtime API, no runtime) the same for
any process in any language. Every side must have answered with the same responses (the same
digest: each response was already checked against the workload's expected batchItemFailures by
drive.py), or the report fails. Prints the table and writes OUT_BASE.md and OUT_BASE.json (the
result file of bench/README.md: metrics, the goals >= 20x Powertools Python and >= 5x Powertools
TypeScript in records per CPU-second per workload, and the cost entries at the memory pattern 1
gives its consumer).
"""

import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
from importlib.metadata import version

SIDES = {"rust": "kstream", "python": "Powertools Python", "node": "Powertools TypeScript"}
# drive.py's floor sides: what receiving and answering a batch costs before any handler.
FLOORS = {"floor": "kstream runtime floor (no handler)", "socket-floor": "socket floor (no runtime, no handler)"}
GOALS = {"python": 20.0, "node": 5.0}
WORKLOADS = ["100-plain", "100-kpl", "1000-plain", "1000-kpl"]
# patterns/01-apigw-kds-lambda/variables.tf: consumer_memory_size_mb (default 256), arm64
# (infra/modules/lambda-function: architecture's default).
MEMORY_MB = 256
ARCHITECTURE = "arm64"
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


def label(meta):
    size = meta["kinesis_records_per_batch"]
    if meta["user_records_per_batch"] == size:
        return f"{size:,} plain JSON"
    return f"{size:,} KPL-aggregated ({meta['user_records_per_batch']:,} user records)"


def node_package(name):
    path = os.path.join(ROOT, "bench", "node_modules", name, "package.json")
    return json.load(open(path))["version"]


def summarize(runs, side, workload):
    mine = [r for r in runs if r["side"] == side and r["workload"] == workload]
    if not mine:
        raise SystemExit(f"no result for {side} {workload}")
    fastest = min(mine, key=lambda r: r["cpu_s"])
    return {
        "rate": fastest["user_records"] / fastest["cpu_s"],
        "cpu_ms": 1000 * fastest["cpu_s"] / fastest["invokes"],
        "wall_ms": statistics.median(w for r in mine for w in r["wall_ms"]),
        "rss_mib": max(r["peak_rss_kib"] for r in mine) / 1024,
        "rounds": len(mine),
        "responses": {r["responses"] for r in mine},
    }


def main():
    results_path, events_dir, out_base, command = sys.argv[1:5]
    runs = [json.loads(line) for line in open(results_path) if line.strip()]
    workloads = [w for w in WORKLOADS if any(r["workload"] == w for r in runs)]
    now = datetime.datetime.now(datetime.timezone.utc)
    rows, metrics, goals, cost, notes = [], {}, [], [], []
    for name in ("rate", "cpu_ms", "wall_ms", "rss_mib", "floor_ratio"):
        metrics[name] = {}
    for workload in workloads:
        meta = json.load(open(os.path.join(events_dir, workload + ".json")))
        s = {side: summarize(runs, side, workload) for side in SIDES}
        floors = {side: summarize(runs, side, workload) for side in FLOORS}
        digests = set().union(*(v["responses"] for v in s.values()))
        if len(digests) != 1:
            raise SystemExit(f"{workload}: the sides answered differently ({len(digests)} response digests)")
        title = label(meta)
        for name in ("rate", "cpu_ms", "wall_ms", "rss_mib"):
            metrics[name][title] = {SIDES[side]: round(v[name], 3) for side, v in s.items()}
        floor_ratios = {side: s["python"]["cpu_ms"] / v["cpu_ms"] for side, v in floors.items()}
        for side, v in floors.items():
            metrics["cpu_ms"][title][FLOORS[side]] = round(v["cpu_ms"], 3)
        metrics["floor_ratio"][title] = {FLOORS[side]: round(r, 2) for side, r in floor_ratios.items()}
        floor_cpu = " / ".join(f"{v['cpu_ms']:.3f}" for v in floors.values())
        rust = s["rust"]
        ratios = {side: round(rust["rate"] / s[side]["rate"], 2) for side in GOALS}
        for side, goal in GOALS.items():
            goals.append({
                "name": f"consumer vs {SIDES[side]}, {title} (records per CPU-second)",
                "value": ratios[side], "goal": goal, "comparison": ">=", "unit": "×",
                "met": ratios[side] >= goal,
            })
        for side, v in s.items():
            cost.append({
                "function": "kds-consumer", "workload": title, "side": SIDES[side],
                "memory_mb": MEMORY_MB, "records_per_batch": meta["user_records_per_batch"],
                "kinesis_records_per_batch": meta["kinesis_records_per_batch"],
                "billed_ms_per_batch": round(v["wall_ms"], 3), "architecture": ARCHITECTURE,
            })
        rows.append(
            f"| {title} | {rust['rate']:,.0f} | {s['python']['rate']:,.0f} | {s['node']['rate']:,.0f} | "
            f"**{ratios['python']:.1f}×** | **{ratios['node']:.1f}×** | "
            f"{rust['cpu_ms']:.2f} / {s['python']['cpu_ms']:.2f} / {s['node']['cpu_ms']:.2f} | "
            f"{rust['wall_ms']:.2f} / {s['python']['wall_ms']:.2f} / {s['node']['wall_ms']:.2f} | "
            f"{rust['rss_mib']:.1f} / {s['python']['rss_mib']:.1f} / {s['node']['rss_mib']:.1f} | "
            f"{floor_cpu} | {' / '.join(f'{r:.1f}×' for r in floor_ratios.values())} |"
        )
        notes.append(f"{title}: {meta['failed_per_batch']} failed record(s) per batch")
    node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    rounds = max(v["rounds"] for v in [summarize(runs, "rust", w) for w in workloads])
    lines = [
        "# kds-consumer: pattern 1's consumer (kstream) vs Powertools BatchProcessor (Python, TypeScript)",
        "",
        f"Run {now:%Y-%m-%d %H:%M} UTC on {os.cpu_count()} cores ({platform.machine()}), load average "
        f"{os.getloadavg()[0]:.1f} at the end; Python {platform.python_version()}, aws-lambda-powertools "
        f"{version('aws-lambda-powertools')}, aws-kinesis-agg {version('aws-kinesis-agg')}; Node {node}, "
        f"@aws-lambda-powertools/batch {node_package('@aws-lambda-powertools/batch')}, aws-kinesis-agg "
        f"{node_package('aws-kinesis-agg')}. `{command}`, {rounds} alternating rounds, best round per side.",
        "",
        "Records per CPU-second: user records (a KPL record's sub-records each count) over process CPU "
        "(user + sys, all threads); every side answered every batch with the same batchItemFailures "
        f"(checked against the workload's; {'; '.join(notes)}).",
        "",
        "| Kinesis records per batch | kstream records/CPU-s | Python records/CPU-s | TypeScript records/CPU-s | "
        "kstream/Python (goal ≥ 20×) | kstream/TypeScript (goal ≥ 5×) | CPU ms/batch k / Py / TS | "
        "wall ms/batch (median) k / Py / TS | peak RSS MiB k / Py / TS | "
        "floor CPU ms/batch runtime / socket | Python CPU / floor runtime / socket |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        *rows,
        "",
        "kstream: the release binary against a minimal local Runtime API (receiving the event over HTTP, "
        "parsing it, the handler, its logs and EMF, the response). Python: the handler run by "
        f"awslambdaric {version('awslambdaric')} (the runtime interface client of Lambda's Python "
        "runtimes: its C++ Runtime API client, simplejson for the event and the response). TypeScript: "
        "Node with a runtime loop doing what nodejs20.x does. All three against the same Runtime API. "
        "Wall time per batch: event handed out → response read, what Lambda bills. Floor: kstream's "
        "runtime (the same binary set-up, `examples/runtime_floor.rs`) with a handler that answers "
        "without reading the event; Python CPU / floor is the highest ratio to Python that any "
        "handler on that runtime could reach. Socket floor: a blocking standard-library loop over "
        "the Runtime API (`examples/socket_floor.rs`: no async runtime, no HTTP library, no logs) "
        "that answers without reading the event, the kernel's part of a batch; Python CPU / socket "
        "floor is the highest ratio to Python that any consumer could reach, in any language.",
        "",
        "| goal | ratio | met |",
        "|---|---:|---|",
        *(f"| {g['name']} {g['comparison']} {g['goal']:g}× | {g['value']:.2f}× | {'yes' if g['met'] else '**no**'} |"
          for g in goals),
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    with open(out_base + ".md", "w") as f:
        f.write(text)
    result = {
        "suite": "kds-consumer",
        "title": "pattern 1's consumer vs Powertools BatchProcessor (Python, TypeScript)",
        "recorded": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "command": command,
        "sides": [*SIDES.values(), *FLOORS.values()],
        "metrics": [
            {"name": "records per CPU-second", "unit": "records/CPU-s", "higher_is_better": True,
             "plot": True, "values": metrics["rate"]},
            {"name": "CPU per batch", "unit": "ms", "higher_is_better": False, "plot": False,
             "values": metrics["cpu_ms"]},
            {"name": "wall time per batch (median)", "unit": "ms", "higher_is_better": False,
             "plot": False, "values": metrics["wall_ms"]},
            {"name": "peak RSS", "unit": "MiB", "higher_is_better": False, "plot": True,
             "values": metrics["rss_mib"]},
            {"name": "Powertools Python CPU per batch over each floor's", "unit": "×",
             "higher_is_better": True, "plot": False, "values": metrics["floor_ratio"]},
        ],
        "goals": goals,
        "cost": cost,
    }
    with open(out_base + ".json", "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
