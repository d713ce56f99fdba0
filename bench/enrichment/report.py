#!/usr/bin/env python3
"""The enrichment benchmark's table, and the check that both sides wrote the same rows.

    report.py RESULTS.jsonl EVENTS_DIR BUCKET OUT.md WARMUP BATCHES ROUNDS

Per workload (batch size / SAMPLE_EVERY / fare latency) and side: trips per CPU-second of the
best round (by CPU time), peak RSS (the highest of its rounds), the p50/p99 of the call
latencies of all its measured rounds pooled (client-side, per attempt, as each side timed it),
and the median wall time per batch of all its measured rounds (what Lambda bills). Writes OUT.md
and bench/results/enrichment.json.

The rows each side wrote under `{side}/{workload}/enriched/` in BUCKET (the emulator's) must be
the same objects (same keys) holding the same rows in the same order (same trip ids, fares and
every other field, compared as JSON values: Rust prints a float field as `2.0` where Node
prints `2`), every sampled trip of the workload's events once, each with the fare the endpoint
answers for its id to the last bit (the reference's formula, fare_server.py): or the report
fails, naming the side that is wrong.
"""

import base64
import datetime
import json
import os
import platform
import subprocess
import sys

import boto3

from fare_server import fare_body

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from lib import results  # noqa: E402  (bench/lib)

NODE = "Node 20"


def label(workload):
    size, every, latency = workload.split("-")
    return f"{int(size):,} trips, SAMPLE_EVERY {every.removeprefix('every')}, fare {latency.removesuffix('ms')} ms"


def write_result(figures):
    """bench/results/enrichment.json from the table's figures; no goal is set for this suite."""
    def values(key):
        return {label(w): {"kstream": f["rust"][key], NODE: f["node"][key]} for w, f in figures.items()}

    memory_mb = results.pattern_memory_mb("04-kds-enrichment-apigw", "consumer_memory_size_mb")
    return results.write(
        "enrichment", "enrichment (pattern 4's fare enrichment): kstream vs a Node 20 consumer",
        results.command("bench/enrichment/run.sh", ["WARMUP", "BATCHES", "ROUNDS", "SIZES", "SAMPLE_EVERY_VALUES",
                                                    "FARE_LATENCIES_MS"]),
        ["kstream", NODE],
        [results.metric("trips per CPU-second", "trips/CPU-s", True, values("rate"), plot=True),
         results.metric("fare call latency p99", "ms", False, values("p99"), plot=True),
         results.metric("peak memory (RSS)", "MiB", False, values("rss"), plot=True),
         results.metric("wall time per batch (median)", "ms", False, values("wall_ms"), plot=True),
         results.metric("fare call latency p50", "ms", False, values("p50")),
         results.metric("CPU time per batch", "ms", False, values("cpu_ms"))],
        [],
        [results.cost("enrichment-consumer", label(w), side, memory_mb, int(w.split("-")[0]), f[key]["wall_ms"])
         for w, f in figures.items() for key, side in (("rust", "kstream"), ("node", NODE))])


def objects(s3, bucket, prefix):
    out = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            body = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
            out[item["Key"][len(prefix):]] = [json.loads(line) for line in body.decode().splitlines()]
    return out


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def expected_ids(events_dir, size, sample_every):
    events = json.load(open(os.path.join(events_dir, f"{size}.json")))["events"]
    ids = []
    for event in events:
        for record in event["Records"]:
            trip = json.loads(base64.b64decode(record["kinesis"]["data"]))
            if trip.get("ride_request_id", trip["trip_id"]) % sample_every == 0:
                ids.append(trip["trip_id"])
    return ids


def check_fares(side, workload, objects_of_side):
    """Every row's fare must be the one the endpoint answered for its id, to the last bit."""
    for key, rows in objects_of_side.items():
        for row in rows:
            answered = json.loads(fare_body(str(row["ride_request_id"])))["expected_fare"]
            if row["expected_fare"] != answered:
                raise SystemExit(
                    f"{workload}: {side} wrote expected_fare {row['expected_fare']!r} for trip "
                    f"{row['trip_id']} in {key}; the fare API answered {answered!r}")


def check_rows(s3, bucket, events_dir, workload):
    size, every, _ = workload.split("-")
    rust = objects(s3, bucket, f"rust/{workload}/enriched/")
    node = objects(s3, bucket, f"node/{workload}/enriched/")
    check_fares("rust", workload, rust)
    check_fares("node", workload, node)
    if set(rust) != set(node):
        only = sorted(set(rust) ^ set(node))[:5]
        raise SystemExit(f"{workload}: the two sides wrote different objects, e.g. {only}")
    for key in rust:
        if rust[key] != node[key]:
            diff = next((r, n) for r, n in zip(rust[key] + [None] * len(node[key]),
                                                node[key] + [None] * len(rust[key])) if r != n)
            raise SystemExit(f"{workload}: {key} differs between the sides: rust {diff[0]} node {diff[1]}")
    rows = [row for key in sorted(rust) for row in rust[key]]
    want = expected_ids(events_dir, int(size), int(every.removeprefix("every")))
    if sorted(r["trip_id"] for r in rows) != sorted(want):
        raise SystemExit(f"{workload}: {len(rows)} rows written, {len(want)} sampled trips expected")
    if any(not isinstance(r["expected_fare"], float) or not r["sampled"] for r in rows):
        raise SystemExit(f"{workload}: a row without a fare")
    return len(rust), len(rows)


def main():
    results_path, events_dir, bucket, out = sys.argv[1:5]
    warmup, batches, rounds = map(int, sys.argv[5:8])
    runs = [json.loads(line) for line in open(results_path) if line.strip()]
    workloads = list(dict.fromkeys(r["label"] for r in runs))

    def side(name, workload):
        mine = [r for r in runs if r["side"] == name and r["label"] == workload]
        assert mine and len({r["trips"] for r in mine}) == 1, (name, workload)
        best = min(mine, key=lambda r: r["cpu_s"])
        latencies = [v for r in mine for v in r["latencies_ms"]]
        return {
            "rate": best["trips"] / best["cpu_s"],
            "cpu_ms": 1000 * best["cpu_s"] / best["invokes"],
            "rss": max(r["peak_rss_kib"] for r in mine) / 1024,
            "p50": percentile(latencies, 50),
            "p99": percentile(latencies, 99),
            "calls": len(latencies),
            "sampled": sum(r["sampled"] for r in mine),
            "wall_ms": results.median([w for r in mine for w in r["batch_wall_ms"]]),
        }

    s3 = boto3.client("s3")
    rows = []
    figures = {}
    checked_objects = checked_rows = 0
    for workload in workloads:
        n_objects, n_rows = check_rows(s3, bucket, events_dir, workload)
        checked_objects += n_objects
        checked_rows += n_rows
        r, n = side("rust", workload), side("node", workload)
        figures[workload] = {"rust": r, "node": n}
        size, every, latency = workload.split("-")
        retries = "" if r["calls"] == r["sampled"] and n["calls"] == n["sampled"] else \
            f" (retries: Rust {r['calls'] - r['sampled']}, Node {n['calls'] - n['sampled']})"
        rows.append(
            f"| {int(size):,} | {every.removeprefix('every')} | {latency.removesuffix('ms')} | "
            f"{r['rate']:,.0f} | {n['rate']:,.0f} | **{r['rate'] / n['rate']:.1f}×** | "
            f"{r['cpu_ms']:.1f} | {n['cpu_ms']:.1f} | "
            f"{r['p50']:.2f} / {r['p99']:.2f} | {n['p50']:.2f} / {n['p99']:.2f} | "
            f"{r['p99'] / n['p99']:.2f}{retries} | "
            f"{r['rss']:.1f} | {n['rss']:.1f} | {r['rss'] / n['rss']:.2f} | "
            f"{r['wall_ms']:.1f} | {n['wall_ms']:.1f} |"
        )
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    node_version = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    lock = json.load(open(os.path.join(os.path.dirname(__file__), "..", "package-lock.json")))["packages"]
    pinned = ", ".join(f"{name} {lock['node_modules/' + name]['version']}" for name in
                       ["@aws-sdk/client-s3", "@smithy/signature-v4", "@aws-crypto/sha256-js",
                        "p-limit", "@aws-lambda-powertools/metrics"])
    lines = [
        "# enrichment: Rust (kstream) vs a Node 20 consumer",
        "",
        "Pattern 4's consumer (functions/enrichment-consumer) and the same consumer written for "
        "Node 20 (bench/enrichment/node_consumer.mjs), each run as Lambda runs it against a local "
        "Runtime API, on the same Kinesis batches of trips, calling the same local fare endpoint "
        "(SigV4 for execute-api and x-api-key checked on every request, the reference's fare "
        "formula, a fixed added latency) with MAX_IN_FLIGHT=20, CALL_TIMEOUT_MS=3000, and "
        f"writing their rows to the same local S3 (moto). {warmup} warm-up batch(es) of 1,000 "
        f"trips, then {batches * 1000:,} measured trips (in batches of the size shown) per side "
        f"and round, {rounds} alternating rounds: trips/s per "
        "CPU-second and CPU ms per batch from each side's best round; latencies of all measured "
        "rounds pooled; peak RSS the highest. Both sides wrote the same "
        f"{checked_rows:,} rows in {checked_objects} objects (same keys, same rows and fares, "
        "checked).",
        "",
        f"Run {now} on {os.cpu_count()} cores ({platform.machine()}), load average "
        f"{os.getloadavg()[0]:.1f} at the end; Node {node_version} ({pinned}). `make bench` "
        "(bench/enrichment/run.sh).",
        "",
        "| records per batch | SAMPLE_EVERY | fare latency ms | Rust trips/s per CPU-s | "
        "Node trips/s per CPU-s | Rust/Node | Rust CPU ms/batch | Node CPU ms/batch | "
        "Rust call p50 / p99 ms | Node call p50 / p99 ms | p99 Rust/Node | Rust peak RSS MiB | "
        "Node peak RSS MiB | RSS Rust/Node | Rust wall ms/batch (median) | Node wall ms/batch (median) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        *rows,
        "",
        "CPU time is each whole process's (all threads: for Node its garbage collector and libuv "
        "threads), from its request for the first measured batch to its request for the one "
        "after the last: receiving the event, parsing it, signing and making the calls, the S3 "
        "PUTs' client side, EMF, the response. The fare endpoint and the emulator run in their "
        "own processes and are not counted. Call latency is client-side per attempt, signing "
        "included, as each side times it (Rust: its EMF CallLatency values; Node: its own timer "
        "published through Powertools Metrics); with 20 calls in flight against one fare "
        "endpoint process, it includes the endpoint's queue, the same for both sides. Wall ms per "
        "batch: the median over the measured batches of all rounds, from the event handed to the "
        "process's `GET /next` to its posted response; what the cost table (bench/cost.py) bills.",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    with open(out, "w") as f:
        f.write(text)
    print(f"wrote {out} and {write_result(figures)}", file=sys.stderr)


if __name__ == "__main__":
    main()
