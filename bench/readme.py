#!/usr/bin/env python3
"""Writes the last `make bench` run's goal and cost tables into the README, so that they are never
copied by hand: the text between `<!-- bench:goals -->` and `<!-- /bench:goals -->` becomes the goal
table of bench/results/*.json (bench/summary.py's), the text between `<!-- bench:cost -->` and
`<!-- /bench:cost -->` the Lambda cost table (bench/cost.py's), each with a line saying which runs
made it. scripts/bench.sh runs it after a run in which every suite passed; the prose around the
markers is the README's own.

    bench/readme.py [README] [RESULTS_DIR]
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cost  # noqa: E402  (bench/cost.py)
import summary  # noqa: E402  (bench/summary.py)
from lib import results  # noqa: E402  (bench/lib)


def replace(text, name, body):
    """`text` with the block between the `name` markers replaced by `body`; an error if absent."""
    pattern = re.compile(rf"(<!-- bench:{name} -->\n).*?(<!-- /bench:{name} -->)", re.S)
    if not pattern.search(text):
        raise SystemExit(f"readme.py: no <!-- bench:{name} --> ... <!-- /bench:{name} --> block")
    return pattern.sub(lambda m: m.group(1) + body + m.group(2), text, count=1)


def provenance(docs):
    runs = "; ".join(f"`{d['suite']}` {d['recorded']}" for d in docs)
    return f"From the result files of the last run (bench/results/*.json: {runs}).\n\n"


def main():
    readme = sys.argv[1] if len(sys.argv) > 1 else "README.md"
    directory = sys.argv[2] if len(sys.argv) > 2 else results.RESULTS
    docs = results.load_all(directory)
    if not docs:
        raise SystemExit(f"readme.py: no result file in {directory}: run make bench first")
    goals = summary.markdown(["suite", "goal", "value", "goal value", "result"], summary.goal_rows(docs))
    with open(readme) as f:
        text = f.read()
    text = replace(text, "goals", provenance(docs) + "\n".join(goals) + "\n")
    text = replace(text, "cost", "\n".join(cost.table(docs)) + "\n")
    with open(readme, "w") as f:
        f.write(text)
    print(f"wrote the goal and cost tables of {len(docs)} suite(s) into {readme}", file=sys.stderr)


if __name__ == "__main__":
    main()
