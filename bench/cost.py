#!/usr/bin/env python3
"""The Lambda cost of one million records, per function, workload and side, from the "cost"
entries of bench/results/*.json (the suites that run a function handler: its configured memory,
records per batch and the measured median wall time per batch, event delivered to response
posted). Prints the table and writes bench/results/cost.md; bench/summary.py includes it.

    bench/cost.py [RESULTS_DIR]

Per million records: requests = 1e6 / records per batch; request cost = requests × the price per
request; compute cost = requests × ceil(billed ms per batch) / 1000 × memory MB / 1024 × the price
per GB-second (Lambda bills each invoke's duration rounded up to the millisecond). The free tier,
the event source (Kinesis, Firehose) and the other services' charges are left out.
"""
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import results  # noqa: E402  (bench/lib)

# AWS Lambda on arm64 (Graviton) in us-east-1, on-demand, the first tier (7.5 billion GB-s a month).
# As published on the AWS Lambda pricing page as of 2024; this machine has no internet, so they
# could not be re-checked when this table was made (2026-12-05).
PRICE_PER_GB_SECOND_USD = 0.0000133334
PRICE_PER_MILLION_REQUESTS_USD = 0.20
PRICES = ("arm64, us-east-1: 0.0000133334 USD per GB-s and 0.20 USD per million requests, as "
          "published on the AWS Lambda pricing page as of 2024 (not re-checked: no internet here, "
          "2026-12-05)")
ARCHITECTURE = "arm64"
RECORDS = 1_000_000


def per_million(entry):
    """Request, compute and total USD for one million records at this entry's measured batch."""
    if entry["architecture"] != ARCHITECTURE:
        raise ValueError(f"no {entry['architecture']} prices here, only {ARCHITECTURE}: {entry}")
    requests = RECORDS / entry["records_per_batch"]
    billed_ms = math.ceil(entry["billed_ms_per_batch"])
    request_usd = requests * PRICE_PER_MILLION_REQUESTS_USD / 1e6
    compute_usd = requests * billed_ms / 1000 * entry["memory_mb"] / 1024 * PRICE_PER_GB_SECOND_USD
    return {"requests": requests, "billed_ms": billed_ms, "request_usd": request_usd,
            "compute_usd": compute_usd, "total_usd": request_usd + compute_usd}


def rows(docs):
    """(entry, its cost, its total over kstream's for the same function and workload) per cost entry."""
    out = []
    for doc in docs:
        entries = doc.get("cost", [])
        kstream = {(e["function"], e["workload"]): per_million(e)["total_usd"]
                   for e in entries if e["side"] == "kstream"}
        for e in entries:
            c = per_million(e)
            base = kstream.get((e["function"], e["workload"]))
            out.append((e, c, c["total_usd"] / base if base else None))
    return out


def usd(value):
    """Millionths of a dollar: the cost of a million records is often a fraction of a cent."""
    return f"{value:.6f}"


def table(docs):
    """The cost table as Markdown lines, a row per function and workload with every side's billed ms
    and USD per million records (empty when no suite has cost entries)."""
    found = rows(docs)
    if not found:
        return []
    lines = [
        "| function | memory MB | workload | records per batch | kstream: billed ms, USD per 1M records "
        "| peers: billed ms, USD per 1M records (× kstream) |",
        "|---|---:|---|---:|---:|---|",
    ]
    groups = {}
    for e, c, ratio in found:
        groups.setdefault((e["function"], e["workload"]), []).append((e, c, ratio))
    for (function, workload), entries in groups.items():
        first = entries[0][0]
        ours = next((f"{c['billed_ms']} ms, {usd(c['total_usd'])}" for e, c, _ in entries if e["side"] == "kstream"),
                    "–")
        peers = "; ".join(f"{e['side']}: {c['billed_ms']} ms, {usd(c['total_usd'])}"
                          + ("" if ratio is None else f" ({ratio:.2f}×)")
                          for e, c, ratio in entries if e["side"] != "kstream")
        lines.append(f"| {function} | {first['memory_mb']} | {workload} | {first['records_per_batch']:,} "
                     f"| {ours} | {peers} |")
    return lines


def detail(docs):
    """Every cost entry with its request and compute parts, as Markdown lines."""
    lines = [
        "| function | workload | side | memory MB | records per batch | wall ms per batch (median) "
        "| billed ms | USD per 1M records: requests | compute | total |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for e, c, _ in rows(docs):
        lines.append(
            f"| {e['function']} | {e['workload']} | {e['side']} | {e['memory_mb']} | {e['records_per_batch']:,} "
            f"| {e['billed_ms_per_batch']:.2f} | {c['billed_ms']} | {usd(c['request_usd'])} "
            f"| {usd(c['compute_usd'])} | {usd(c['total_usd'])} |")
    return lines


NOTES = [
    f"Prices: {PRICES}. Per million records: requests = 1,000,000 / records per batch, each billed "
    "its median measured wall time (event delivered to response posted) rounded up to the "
    "millisecond, at the function's memory as its pattern configures it (patterns/*/variables.tf); "
    "the peers at the same memory. Free tier, event-source and other services' charges left out.",
    "",
    "The wall times were measured on this machine, where a process runs on a whole core. Lambda gives "
    "a function CPU in proportion to its memory (one vCPU at 1,769 MB; at 256 MB about a seventh of "
    "one), so there the CPU-bound part of a batch takes longer: these figures are a lower bound, and "
    "between two sides the bill moves towards their CPU-time ratio. At 100 records a batch the "
    "request price (0.002 USD per million records) is most of the bill, the same for every side.",
]


def write(directory, docs):
    """Writes DIRECTORY/cost.md; returns its text, or None when no result file has cost entries."""
    lines = table(docs)
    if not lines:
        return None
    text = "\n".join(["# Lambda cost of one million records", "", *lines, "", *NOTES, "",
                      "## Request and compute parts", "", *detail(docs)]) + "\n"
    with open(os.path.join(directory, "cost.md"), "w") as f:
        f.write(text)
    return text


def main():
    directory = sys.argv[1] if len(sys.argv) > 1 else results.RESULTS
    text = write(directory, results.load_all(directory))
    if text is None:
        print("cost: no result file has cost entries", file=sys.stderr)
        return
    print(text)
    print(f"wrote {os.path.join(directory, 'cost.md')}", file=sys.stderr)


if __name__ == "__main__":
    main()
