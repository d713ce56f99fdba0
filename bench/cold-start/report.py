#!/usr/bin/env python3
"""Reports the cold-start suite: per function and side the median and p90 over all starts of
the time to the first GET /next and to the first response, the init CPU and peak RSS, the
peers' ratios to kstream, and the size of each function's Lambda zip; the goals (issue 14):
first /next <= 10 ms and zip <= 2 MB (2,000,000 bytes) per function.

    report.py RESULTS.jsonl ZIPS.txt ZIP_BUILD_SECONDS OUT.md

RESULTS.jsonl: drive.py's lines; ZIPS.txt: "<function> <bytes>" per line; ZIP_BUILD_SECONDS: how
long the zip build took (-1: not built). Writes OUT.md and bench/results/cold-start.json
(bench/lib/results.py) and prints the table.
"""

import json
import math
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))
import results  # noqa: E402

SIDES = {"kstream": "kstream", "node": "Node 20", "python": "Python 3.11"}
NEXT_GOAL_MS = 10.0
ZIP_GOAL_BYTES = 2_000_000


def p90(values):
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]


def main():
    results_path, zips_path, build_s, out = sys.argv[1:5]
    starts = defaultdict(list)  # (function, side) -> samples
    for line in Path(results_path).read_text().splitlines():
        doc = json.loads(line)
        starts[(doc["function"], doc["side"])].extend(doc["starts"])
    zips = {}
    for line in Path(zips_path).read_text().splitlines():
        function, size = line.split()
        zips[function] = int(size)
    functions = list(dict.fromkeys(function for function, _ in starts))
    sides = [side for side in SIDES if any(s == side for _, s in starts)]

    def stat(function, side, key, how):
        samples = starts.get((function, side))
        return how([s[key] for s in samples]) if samples else None

    def values(key, how, scale=1.0):
        table = {}
        for function in functions:
            row = {SIDES[side]: round(stat(function, side, key, how) * scale, 2)
                   for side in sides if (function, side) in starts}
            table[function] = row
        return table

    metrics = [
        results.metric("cold start to first GET /next (median)", "ms", False,
                       values("first_next_ms", results.median), plot=True),
        results.metric("cold start to first response (median)", "ms", False,
                       values("first_response_ms", results.median), plot=True),
        results.metric("cold start to first GET /next (p90)", "ms", False, values("first_next_ms", p90)),
        results.metric("cold start to first response (p90)", "ms", False, values("first_response_ms", p90)),
        results.metric("init CPU time (median)", "ms", False, values("init_cpu_ms", results.median)),
        results.metric("peak RSS (median)", "MiB", False, values("peak_rss_kib", results.median, 1 / 1024)),
        results.metric("Lambda zip size", "MB", False,
                       {f: {"kstream": round(zips[f] / 1e6, 3)} for f in functions if f in zips}, plot=True),
    ]
    goals = []
    for function in functions:
        goals.append(results.goal(f"{function}: cold start to first /next (median)",
                                  round(stat(function, "kstream", "first_next_ms", results.median), 2),
                                  NEXT_GOAL_MS, "<=", "ms"))
    for function in functions:
        if function in zips:
            goals.append(results.goal(f"{function}: Lambda zip (arm64)", round(zips[function] / 1e6, 3),
                                      ZIP_GOAL_BYTES / 1e6, "<=", "MB"))

    lines = ["# Cold start", "",
             "Milliseconds from just before the process is started to its first `GET /next` and to its "
             "first response having arrived, median (p90) over "
             + ", ".join(f"{len(starts[(f, 'kstream')])} starts" for f in functions[:1])
             + " per side; init CPU and peak RSS medians. Ratios: the peer's median over kstream's.", "",
             "| function | side | first /next ms | first response ms | init CPU ms | peak RSS MiB "
             "| first /next peer/kstream | first response peer/kstream |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    for function in functions:
        base_next = stat(function, "kstream", "first_next_ms", results.median)
        base_response = stat(function, "kstream", "first_response_ms", results.median)
        for side in sides:
            if (function, side) not in starts:
                continue
            next_ms = stat(function, side, "first_next_ms", results.median)
            response_ms = stat(function, side, "first_response_ms", results.median)
            ratio = "" if side == "kstream" else f"**{next_ms / base_next:.1f}×**"
            ratio_response = "" if side == "kstream" else f"**{response_ms / base_response:.1f}×**"
            lines.append(
                f"| {function} | {SIDES[side]} | {next_ms:.1f} ({stat(function, side, 'first_next_ms', p90):.1f}) "
                f"| {response_ms:.1f} ({stat(function, side, 'first_response_ms', p90):.1f}) "
                f"| {stat(function, side, 'init_cpu_ms', results.median):.1f} "
                f"| {stat(function, side, 'peak_rss_kib', results.median) / 1024:.1f} | {ratio} | {ratio_response} |")
    built = int(build_s)
    lines += ["", "Lambda zips (`<function>/bootstrap.zip`, arm64, `cargo lambda build --release --arm64 --output-format zip` as `make build` makes them"
              + (f"; the build took {built} s in this run" if built >= 0 else "; not built in this run")
              + "):", "", "| function | bytes | MB | goal ≤ 2 MB |", "|---|---:|---:|---|"]
    for function in functions:
        if function in zips:
            size = zips[function]
            lines.append(f"| {function} | {size:,} | {size / 1e6:.2f} | {'met' if size <= ZIP_GOAL_BYTES else 'MISSED'} |")
        else:
            lines.append(f"| {function} | – | – | no zip |")
    lines += ["", "Goals:", ""] + [
        f"- {g['name']}: {g['value']} {g['unit']} (goal {g['comparison']} {g['goal']}) "
        f"{'met' if g['met'] else '**MISSED**'}" for g in goals]
    text = "\n".join(lines) + "\n"
    Path(out).write_text(text)
    print(text)
    results.write("cold-start", "Cold start to the first GET /next and response; Lambda zip sizes",
                  results.command("bench/cold-start/run.sh", ("STARTS", "ROUNDS", "FUNCTIONS", "ZIPS")),
                  [SIDES[s] for s in sides], metrics, goals)


if __name__ == "__main__":
    main()
