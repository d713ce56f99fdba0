#!/usr/bin/env python3
"""Python aws_kinesis_agg on the shared KPL bench datasets (made by the Rust harness).

Usage: .venv/bin/python bench/kpl/bench.py DIR   -> JSON on stdout
Each measurement is the best of several passes (at least MIN_PASSES and MIN_SECONDS), in process
CPU time, so that other processes competing for the cores skew the figures less.
"""
import base64
import json
import sys
import time
from importlib.metadata import version

from aws_kinesis_agg.aggregator import RecordAggregator
from aws_kinesis_agg.deaggregator import iter_deaggregate_records

MIN_PASSES = 3
MIN_SECONDS = 1.0
SIZES = [100, 1024]


def best(fn):
    start = time.perf_counter()
    best_t = float("inf")
    passes = 0
    while passes < MIN_PASSES or time.perf_counter() - start < MIN_SECONDS:
        t = time.process_time()
        fn()
        best_t = min(best_t, time.process_time() - t)
        passes += 1
    return best_t


def rate(nbytes, records, seconds):
    return {"seconds": seconds, "mb_per_s": nbytes / 1e6 / seconds, "records_per_s": records / seconds}


def measure(path):
    d = json.load(open(path))
    users = [(u["partitionKey"], base64.b64decode(u["data"])) for u in d["userRecords"]]
    # Lambda-shaped Kinesis records, as the library's deaggregate_records takes them.
    kinesis = [{
        "eventSource": "aws:kinesis",
        "kinesis": {"kinesisSchemaVersion": "1.0", "partitionKey": k["partitionKey"],
                    "sequenceNumber": k["sequenceNumber"], "approximateArrivalTimestamp": 1.0,
                    "data": k["data"]},
    } for k in d["kinesisRecords"]]
    kinesis_bytes = sum(len(base64.b64decode(k["data"])) for k in d["kinesisRecords"])
    user_bytes = sum(len(u[1]) for u in users)

    count = [0]

    def deagg():
        n = 0
        for _ in iter_deaggregate_records(kinesis):
            n += 1
        count[0] = n

    t_deagg = best(deagg)
    assert count[0] == len(users), (count[0], len(users))

    out = [0]

    def agg():
        a = RecordAggregator(max_size=51200)
        n = 0
        for pk, data in users:
            full = a.add_user_record(pk, data)
            if full is not None:
                full.get_contents()  # the encoded bytes, ready to send
                n += 1
        last = a.clear_and_get()
        if last is not None:
            last.get_contents()
            n += 1
        out[0] = n

    t_agg = best(agg)
    return {
        "record_size": d["recordSize"],
        "user_records": len(users),
        "deaggregate": rate(kinesis_bytes, len(users), t_deagg),
        "aggregate": rate(user_bytes, len(users), t_agg),
        "aggregate_kinesis_records": out[0],
    }


def main():
    directory = sys.argv[1]
    results = [measure(f"{directory}/dataset-{size}.json") for size in SIZES]
    print(json.dumps({
        "implementation": f"aws_kinesis_agg {version('aws_kinesis_agg')} (Python {sys.version.split()[0]}, protobuf {version('protobuf')})",
        "clock": "process CPU time",
        "throughput": results,
    }, indent=1))


main()
