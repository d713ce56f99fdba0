#!/usr/bin/env python3
"""The stream-analytics benchmark's table, and the check that both sides wrote the same objects.

    report.py RESULTS.jsonl EVENTS_DIR BUCKET OUT.md INVOKES WARMUP WINDOWS ROUNDS

Per side and workload, the best round by CPU time, the highest peak RSS of its rounds and the
median wall time of the measured invokes with records of all its rounds (what Lambda bills). The
objects under rust/ and python/ in BUCKET (the emulator's) must be the same keys with the same
bytes, or the report fails: the two sides did the same work. Writes OUT.md and
bench/results/stream-analytics.json.
"""

import datetime
import json
import os
import platform
import sys
from importlib.metadata import version

import boto3

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from lib import results  # noqa: E402  (bench/lib)

WORKLOADS = ["100-plain", "100-kpl", "1000-plain", "1000-kpl"]
PYTHON = "Python Powertools"


def label(workload):
    size, form = workload.split("-")
    return f"{int(size):,} records an invoke, {'plain JSON' if form == 'plain' else 'KPL-aggregated'}"


def write_result(figures):
    """bench/results/stream-analytics.json from the table's figures; no goal is set for this suite."""
    def values(key):
        return {label(w): {"kstream": f["rust"][key], PYTHON: f["python"][key]} for w, f in figures.items()}

    memory_mb = results.pattern_memory_mb("02-kpl-kds-analytics", "analytics_memory_size_mb")
    return results.write(
        "stream-analytics", "stream-analytics (pattern 2's tumbling windows): kstream vs Powertools Python",
        results.command("bench/stream-analytics/run.sh", ["INVOKES", "WARMUP", "WINDOWS", "ROUNDS"]),
        ["kstream", PYTHON],
        [results.metric("user records per CPU-second", "records/CPU-s", True, values("rate"), plot=True),
         results.metric("peak memory (RSS)", "MiB", False, values("rss_mib"), plot=True),
         results.metric("wall time per invoke with records (median)", "ms", False, values("wall_ms"), plot=True),
         results.metric("CPU time per invoke", "ms", False, values("cpu_ms_per_invoke"))],
        [],
        [results.cost("stream-analytics", label(w), side, memory_mb, f["records_per_invoke"], f[key]["wall_ms"])
         for w, f in figures.items() for key, side in (("rust", "kstream"), ("python", PYTHON))])


def objects(s3, bucket, prefix):
    out = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            body = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
            out[item["Key"][len(prefix):]] = body
    return out


def main():
    results_path, events_dir, bucket, out = sys.argv[1:5]
    invokes, warmup, windows, rounds = map(int, sys.argv[5:9])
    runs = [json.loads(line) for line in open(results_path) if line.strip()]

    def best(side, workload):
        mine = [r for r in runs if r["side"] == side and r["workload"] == workload]
        assert mine, (side, workload)
        assert len({r["user_records"] for r in mine}) == 1, mine
        fastest = min(mine, key=lambda r: r["cpu_s"])
        return {
            "rate": fastest["user_records"] / fastest["cpu_s"],
            "cpu_ms_per_invoke": 1000 * fastest["cpu_s"] / fastest["invokes"],
            "rss_mib": max(r["peak_rss_kib"] for r in mine) / 1024,
            "final_ms": 1000 * min(r["final_invoke_cpu_s"] for r in mine),
            "wall_ms": results.median([w for r in mine for w in r["wall_ms"]]),
        }

    s3 = boto3.client("s3")
    rust_objects, python_objects = objects(s3, bucket, "rust/"), objects(s3, bucket, "python/")
    if not rust_objects or rust_objects != python_objects:
        only = sorted(set(rust_objects) ^ set(python_objects))[:5]
        differ = sorted(k for k in set(rust_objects) & set(python_objects) if rust_objects[k] != python_objects[k])[:5]
        raise SystemExit(f"the two sides wrote different objects: only on one side {only}, different bodies {differ}")

    rows = []
    figures = {}
    finals = {"rust": [], "python": []}
    for workload in WORKLOADS:
        meta = json.load(open(os.path.join(events_dir, workload + ".json")))
        r, p = best("rust", workload), best("python", workload)
        figures[workload] = {"rust": r, "python": p, "records_per_invoke": meta["user_records_per_invoke"]}
        finals["rust"].append(r["final_ms"])
        finals["python"].append(p["final_ms"])
        size, form = workload.split("-")
        shape = f"{int(size):,} {'plain JSON' if form == 'plain' else 'KPL-aggregated'} " \
                f"({meta['kinesis_records_per_invoke']:,} Kinesis records)"
        rows.append(
            f"| {shape} | {r['rate']:,.0f} | {p['rate']:,.0f} | **{r['rate'] / p['rate']:.1f}×** | "
            f"{r['cpu_ms_per_invoke']:.2f} | {p['cpu_ms_per_invoke']:.2f} | "
            f"{r['rss_mib']:.1f} | {p['rss_mib']:.1f} | {r['rss_mib'] / p['rss_mib']:.2f} | "
            f"{r['wall_ms']:.2f} | {p['wall_ms']:.2f} |"
        )
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# stream-analytics: Rust (kstream) vs Powertools for AWS Lambda (Python)",
        "",
        f"Each workload is one shard's tumbling window: {invokes} invokes of the user records shown, "
        "then the final invoke (state carried between them as one JSON string); "
        f"{warmup} warm-up window(s), then {windows} measured windows per side and round, "
        f"{rounds} alternating rounds, best round per side. Both sides write the same "
        f"{len(rust_objects)} objects (filtered rows and window aggregates, checked byte for byte) "
        "to the same local S3 (moto).",
        "",
        f"Run {now} on {os.cpu_count()} cores ({platform.machine()}), load average "
        f"{os.getloadavg()[0]:.1f} at the end; Python {platform.python_version()}, "
        f"aws-lambda-powertools {version('aws-lambda-powertools')}, aws-kinesis-agg "
        f"{version('aws-kinesis-agg')}, boto3 {version('boto3')}. `make bench` "
        "(bench/stream-analytics/run.sh).",
        "",
        "| user records per invoke | Rust records/s per CPU-s | Python records/s per CPU-s | "
        "Rust/Python | Rust CPU ms/invoke | Python CPU ms/invoke | Rust peak RSS MiB | "
        "Python peak RSS MiB | RSS Rust/Python | Rust wall ms/invoke (median) | Python wall ms/invoke (median) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        *rows,
        "",
        "Rust: the release binary against a minimal local Runtime API; its CPU time is the whole "
        "process's (receiving the event over HTTP, parsing it, the handler, the S3 client, the "
        "response). Python: the handler as the Python runtime calls it, `json.loads` of the event "
        "to `json.dumps` of the response, in process CPU time (the runtime's HTTP receipt is not "
        "counted, in Python's favour). CPU time per invoke includes the S3 PUTs' client side "
        "(signing, checksums, HTTP), not the emulator's: each invoke with records writes one "
        "object per ticker (five), the final invoke one. Wall ms per invoke: the median over the "
        "measured invokes with records of all rounds, from the event handed over to the response "
        "back (Rust: over the local Runtime API; Python: `json.loads` to `json.dumps`); what the cost "
        "table (bench/cost.py) bills per batch.",
        "",
        f"What an invoke costs beyond its records (the final invoke: no records, one PUT of the "
        f"window's aggregates, best of all runs): Rust {min(finals['rust']):.2f} ms, Python "
        f"{min(finals['python']):.2f} ms of CPU.",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    with open(out, "w") as f:
        f.write(text)
    print(f"wrote {out} and {write_result(figures)}", file=sys.stderr)


if __name__ == "__main__":
    main()
