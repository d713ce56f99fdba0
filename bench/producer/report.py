#!/usr/bin/env python3
"""The producer benchmark's table (bench/producer/run.sh): one JSON line per producer run in,
the table printed, bench/results/producer.md and bench/results/producer.json written.

    report.py RESULTS.jsonl OUT.md SECONDS_PER_RUN RECORD_SIZE
"""
import datetime
import json
import os
import platform
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from lib import results  # noqa: E402  (bench/lib)

# Aggregating on one shard: at least this fraction of the shard's 1 MiB/s of user bytes.
GOAL_FRACTION_OF_1MIB = 0.90
SIDES = {"rust": "kstream", "python": "Python boto3"}


def side(row):
    return SIDES[row["impl"].split()[0]]


def workload(row):
    shards = f"{row['shards']} shard" + ("s" if row["shards"] > 1 else "")
    return f"{shards}, {'aggregated' if row['mode'] == 'aggregate' else 'not aggregated'}"


def write_result(rows, record_size):
    """bench/results/producer.json: records/s per shard and CPU per record, per workload and side."""
    rate, cpu, share = {}, {}, {}
    for row in rows:
        rate.setdefault(workload(row), {})[side(row)] = row["user_records_per_s_per_shard"]
        share.setdefault(workload(row), {})[side(row)] = 100 * row["fraction_of_1mib"]
        if row.get("cpu_ms_per_10k_records") is not None:
            cpu.setdefault(workload(row), {})[side(row)] = row["cpu_ms_per_10k_records"]
    goals = []
    agg = next((r for r in rows if side(r) == "kstream" and r["mode"] == "aggregate" and r["shards"] == 1), None)
    if agg:
        goals.append(results.goal(f"aggregating producer, 1 shard, {record_size} B records: share of 1 MiB/s",
                                  100 * agg["fraction_of_1mib"], 100 * GOAL_FRACTION_OF_1MIB, ">=", "%"))
    sides = ["kstream"] + [s for s in SIDES.values() if s != "kstream" and any(side(r) == s for r in rows)]
    return results.write(
        "producer", f"Producer: user records per second per shard against the shard limits, {record_size} B records",
        results.command("bench/producer/run.sh", ["SECONDS_PER_RUN", "WARMUP", "RECORD_SIZE", "SHARDS_WIDE"]),
        sides,
        [results.metric("user records per second per shard", "records/s", True, rate, plot=True),
         results.metric("user bytes per shard, share of 1 MiB/s", "%", True, share),
         results.metric("CPU per 10,000 records", "CPU ms", False, cpu, plot=True)],
        goals)


def main():
    rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
    out, seconds, size = sys.argv[2], sys.argv[3], sys.argv[4]
    base = next(r for r in rows if r["impl"].startswith("rust") and r["mode"] == "raw")

    def find(impl, mode, shards):
        return next((r for r in rows if r["impl"].startswith(impl) and r["mode"] == mode and r["shards"] == shards),
                    None)

    lines = [
        "# Producer benchmark",
        "",
        "Sustained throughput against a local endpoint enforcing Kinesis' shard write limits (token",
        "buckets of 1000 records/s and 1 MiB/s per shard, one second of burst; entries beyond them fail",
        f"with ProvisionedThroughputExceededException), {size}-byte records, {seconds} s measured after",
        "a warm-up that spends the initial burst. Each producer runs in its own process against the",
        "same endpoint process, at its defaults: kstream-producer with rate limit 150 %, 51200-byte",
        "aggregates per predicted shard, 100 ms buffering; the Python peer is a single-threaded boto3",
        "PutRecords loop (500 entries / 5 MiB per request) resending failed entries after 100 ms, with",
        "aws_kinesis_agg aggregates of 51200 bytes (not shard-aware: on several shards its aggregates",
        "mix records of other shards, which KCL consumers drop). 1-shard runs use 16 partition keys,",
        "wide runs 256.",
        "",
        f"Run {datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')} on "
        f"{os.cpu_count()} cores ({platform.machine()}), `make bench` (bench/producer/run.sh).",
        "",
        "| producer | mode | shards | user records/s/shard | user MiB/s/shard | % of 1 MiB/s | wire efficiency "
        "| CPU ms / 10k records | records vs kstream raw |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        cpu = r.get("cpu_ms_per_10k_records")
        lines.append(
            f"| {r['impl']} | {r['mode']} | {r['shards']} | {r['user_records_per_s_per_shard']:.0f} | "
            f"{r['user_bytes_per_s_per_shard'] / 1048576:.3f} | {100 * r['fraction_of_1mib']:.1f} % | "
            f"{r['wire_efficiency']:.3f} | {'–' if cpu is None else f'{cpu:.1f}'} | "
            f"{r['user_records_per_s_per_shard'] / base['user_records_per_s_per_shard']:.2f}× |")
    lines += ["", f"Goal: aggregating ≥ {100 * GOAL_FRACTION_OF_1MIB:.0f} % of 1 MiB/s of user bytes per shard, "
              "against the 1000 records/s a", "non-aggregating producer gets."]
    agg = find("rust", "aggregate", 1)
    if agg:
        verdict = "met" if agg["fraction_of_1mib"] >= GOAL_FRACTION_OF_1MIB else "NOT met"
        lines.append(f"Result: {100 * agg['fraction_of_1mib']:.1f} % of 1 MiB/s per shard, goal {verdict}; "
                     f"{agg['user_records_per_s_per_shard'] / base['user_records_per_s_per_shard']:.1f}× the "
                     "records of the non-aggregating run.")
    for shards in sorted({r["shards"] for r in rows}):
        rust, py = find("rust", "aggregate", shards), find("python", "aggregate", shards)
        if rust and py and py.get("cpu_ms_per_10k_records"):
            lines.append(
                f"{shards} shard(s), aggregating: kstream-producer moves "
                f"{rust['user_records_per_s_per_shard'] / py['user_records_per_s_per_shard']:.2f}× the records of the "
                f"Python peer, at {py['cpu_ms_per_10k_records'] / rust['cpu_ms_per_10k_records']:.1f}× less CPU per "
                "record.")
    lines += ["", "Wire efficiency = user data bytes / bytes sent to Kinesis (data plus partition keys).",
              "Raw JSON lines of this run:", "", "```"] + [json.dumps(r) for r in rows] + ["```", ""]
    with open(out, "w") as f:
        f.write("\n".join(lines))
    start = next(i for i, line in enumerate(lines) if line.startswith("| producer"))
    end = next(i for i, line in enumerate(lines) if line.startswith("Wire efficiency"))
    print("\n".join(lines[start:end]))
    print(f"wrote {out} and {write_result(rows, size)}", file=sys.stderr)


if __name__ == "__main__":
    main()
