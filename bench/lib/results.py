"""The benchmark result file, bench/results/<suite>.json: written by every suite's report, read by
bench/summary.py, bench/cost.py and bench/plot.py. The format is described in bench/README.md
(Result files): the sides (kstream first), the metrics per workload and side, the goals with their
verdicts, and for suites that run a Lambda handler the measured billed time per batch ("cost").

A suite's report builds the document with `metric`, `goal` and `cost`, and writes it with `write`,
which checks it (`check`) first; readers load every file with `load_all`, which checks them too.
"""

import datetime
import json
import math
import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "bench" / "results"
COMPARISONS = {">=": lambda value, goal: value >= goal, "<=": lambda value, goal: value <= goal}


def metric(name, unit, higher_is_better, values, plot=False):
    """One measured quantity: values[workload][side] (a side left out where it was not measured)."""
    return {"name": name, "unit": unit, "higher_is_better": higher_is_better, "plot": plot,
            "values": {workload: dict(sides) for workload, sides in values.items()}}


def goal(name, value, target, comparison, unit):
    """One goal and whether `value` meets it (`comparison` is ">=" or "<=")."""
    return {"name": name, "value": value, "goal": target, "comparison": comparison, "unit": unit,
            "met": COMPARISONS[comparison](value, target)}


def cost(function, workload, side, memory_mb, records_per_batch, billed_ms_per_batch,
         architecture="arm64"):
    """What Lambda bills for one batch: `billed_ms_per_batch` is the median measured wall time
    from the event delivered to the response posted."""
    return {"function": function, "workload": workload, "side": side, "memory_mb": memory_mb,
            "records_per_batch": records_per_batch, "billed_ms_per_batch": billed_ms_per_batch,
            "architecture": architecture}


def command(script, variables=()):
    """How the suite was run: `script` after those of its `variables` set in the environment."""
    return " ".join([f"{name}={os.environ[name]}" for name in variables if name in os.environ] + [script])


def median(values):
    ordered = sorted(values)
    if not ordered:
        raise ValueError("median of no values")
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def pattern_memory_mb(pattern, variable):
    """The default of `variable` in patterns/<pattern>/variables.tf: a function's configured memory."""
    text = (ROOT / "patterns" / pattern / "variables.tf").read_text()
    block = re.search(r'^variable "' + re.escape(variable) + r'" \{\n(.*?)^\}', text, re.M | re.S)
    found = block and re.search(r"^\s*default\s*=\s*(\d+)\s*$", block.group(1), re.M)
    if not found:
        raise ValueError(f"patterns/{pattern}/variables.tf: no numeric default for {variable}")
    return int(found.group(1))


def check(doc, where="result"):
    """Raises ValueError naming what is wrong with a result document."""
    def fail(message):
        raise ValueError(f"{where}: {message}")

    for key in ("suite", "title", "recorded", "command", "sides", "metrics", "goals"):
        if key not in doc:
            fail(f"no {key!r}")
    sides = doc["sides"]
    if not sides or sides[0] != "kstream" or len(set(sides)) != len(sides):
        fail(f"sides must start with kstream and not repeat: {sides}")
    if not any(m.get("plot") for m in doc["metrics"]):
        fail("no metric with plot: true")
    for m in doc["metrics"]:
        for key in ("name", "unit", "higher_is_better", "values"):
            if key not in m:
                fail(f"metric {m.get('name')!r} has no {key!r}")
        for workload, values in m["values"].items():
            unknown = set(values) - set(sides)
            if unknown:
                fail(f"metric {m['name']!r}, {workload}: sides {sorted(unknown)} not in {sides}")
            if any(not isinstance(v, (int, float)) or not math.isfinite(v) for v in values.values()):
                fail(f"metric {m['name']!r}, {workload}: a value is not a finite number: {values}")
    for g in doc["goals"]:
        if g.get("comparison") not in COMPARISONS:
            fail(f"goal {g.get('name')!r}: comparison must be one of {sorted(COMPARISONS)}")
        if g["met"] != COMPARISONS[g["comparison"]](g["value"], g["goal"]):
            fail(f"goal {g['name']!r}: met={g['met']} contradicts {g['value']} {g['comparison']} {g['goal']}")
    for c in doc.get("cost", []):
        if c.get("side") not in sides:
            fail(f"cost entry of side {c.get('side')!r} not in {sides}")
        if not (c["memory_mb"] > 0 and c["records_per_batch"] > 0 and c["billed_ms_per_batch"] > 0):
            fail(f"cost entry with a non-positive figure: {c}")


def write(suite, title, command, sides, metrics, goals, costs=None):
    """Checks and writes bench/results/<suite>.json; returns its path."""
    doc = {
        "suite": suite, "title": title,
        "recorded": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "command": command, "sides": sides, "metrics": metrics, "goals": goals,
    }
    if costs is not None:
        doc["cost"] = costs
    check(doc, suite)
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{suite}.json"
    path.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    return path


def load_all(directory=RESULTS):
    """Every bench/results/*.json, checked, in suite order."""
    docs = []
    for path in sorted(Path(directory).glob("*.json")):
        doc = json.loads(path.read_text())
        check(doc, str(path))
        if doc["suite"] != path.stem:
            raise ValueError(f"{path}: suite {doc['suite']!r} in a file named for {path.stem!r}")
        docs.append(doc)
    return docs


def suites_with_runner():
    """The suites `make bench` runs: bench/<suite>/run.sh."""
    return sorted(p.parent.name for p in (ROOT / "bench").glob("*/run.sh"))
