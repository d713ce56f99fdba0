#!/usr/bin/env python3
"""The goal summary at the end of `make bench`: every suite's goals from bench/results/*.json in
one table (suite, goal, value, goal value, met or MISSED), the kstream-over-peer ratio of every
plotted metric per workload, and the Lambda cost table (bench/cost.py). Prints them and writes
bench/results/summary.md (and cost.md). A suite that has a bench/<suite>/run.sh but no result
file is listed as such (scripts/bench.sh removes a suite's file before running it, so a failed
suite shows here). Exits 0 even when goals are missed: the table says so.

    bench/summary.py [RESULTS_DIR]
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cost  # noqa: E402  (bench/cost.py)
from lib import results  # noqa: E402  (bench/lib)

SIGNS = {">=": "≥", "<=": "≤"}


def number(value, unit):
    if float(value).is_integer():
        return f"{value:,.0f}{'' if unit == '×' else ' '}{unit}".rstrip()
    if unit == "×":
        return f"{value:.2f}×" if value < 10 else f"{value:.1f}×"
    if unit == "%":
        return f"{value:.1f} %"
    text = f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"
    return f"{text} {unit}" if unit else text


def goal_rows(docs):
    for doc in docs:
        for g in doc["goals"]:
            verdict = "met" if g["met"] else "**MISSED**"
            yield (doc["suite"], g["name"], number(g["value"], g["unit"]),
                   f"{SIGNS[g['comparison']]} {number(g['goal'], g['unit'])}", verdict)


def ratio_rows(docs):
    """(suite, metric, peer, "workload: ratio, ..."): kstream ÷ peer, above 1 when kstream is better."""
    for doc in docs:
        for m in doc["metrics"]:
            if not m.get("plot"):
                continue
            for peer in doc["sides"][1:]:
                parts = []
                for workload, values in m["values"].items():
                    if "kstream" in values and peer in values and values["kstream"] and values[peer]:
                        ratio = values["kstream"] / values[peer]
                        if not m["higher_is_better"]:
                            ratio = 1 / ratio
                        parts.append(f"{workload}: {ratio:.1f}×")
                if parts:
                    yield doc["suite"], m["name"], peer, "; ".join(parts)


def markdown(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def main():
    directory = sys.argv[1] if len(sys.argv) > 1 else results.RESULTS
    os.makedirs(directory, exist_ok=True)
    docs = results.load_all(directory)
    have = {doc["suite"] for doc in docs}
    missing = [s for s in results.suites_with_runner() if s not in have]
    goals = list(goal_rows(docs))
    missed = sum(1 for row in goals if row[-1] != "met")
    suites = [f"- `{d['suite']}`: recorded {d['recorded']} by `{d['command']}`"
              + ("" if d["goals"] else " (no goal stated for it: ratios only)") for d in docs]
    suites += [f"- `{s}`: **no result file** (not run, or it failed)" for s in missing]
    verdict = (f"{len(goals) - missed} of {len(goals)} goals met" + (f", **{missed} MISSED**" if missed else "")
               + (f"; {len(missing)} suite(s) without a result" if missing else ""))
    cost_lines = cost.table(docs)
    lines = ["# Benchmark summary", "", verdict + ".", "", *suites, "", "## Goals", "",
             *markdown(["suite", "goal", "value", "goal value", "result"], goals), "",
             "## Ratios", "", "kstream over each peer, per workload, for every plotted metric: above 1× "
             "where kstream is better (for lower-is-better metrics, the peer's figure over kstream's).", "",
             *markdown(["suite", "metric", "peer", "kstream ÷ peer"], ratio_rows(docs))]
    if cost_lines:
        lines += ["", "## Lambda cost of one million records", "", *cost_lines, "", *cost.NOTES]
    text = "\n".join(lines) + "\n"
    print(text)
    with open(os.path.join(directory, "summary.md"), "w") as f:
        f.write(text)
    cost.write(directory, docs)
    print(f"wrote {os.path.join(directory, 'summary.md')}" + (" and cost.md" if cost_lines else ""),
          file=sys.stderr)


if __name__ == "__main__":
    main()
