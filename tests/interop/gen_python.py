#!/usr/bin/env python3
"""Aggregates every case of cases.json with Python aws_kinesis_agg and writes vectors/python.json.

Usage: .venv/bin/python tests/interop/gen_python.py tests/interop/cases.json tests/interop/vectors/python.json
"""
import base64
import json
import sys
from importlib.metadata import version

from aws_kinesis_agg.aggregator import RecordAggregator

cases_path, out_path = sys.argv[1], sys.argv[2]
cases = json.load(open(cases_path))["cases"]

vectors = []
for case in cases:
    agg = RecordAggregator(max_size=case["maxSize"])
    full = []
    for r in case["records"]:
        done = agg.add_user_record(r["partitionKey"], base64.b64decode(r["data"]), r["explicitHashKey"])
        if done is not None:
            full.append(done)
    last = agg.clear_and_get()
    if last is not None:
        full.append(last)
    kinesis_records = []
    for a in full:
        pk, ehk, data = a.get_contents()
        kinesis_records.append({
            "partitionKey": pk,
            "explicitHashKey": ehk,
            "userRecords": a.get_num_user_records(),
            "data": base64.b64encode(data).decode("ascii"),
        })
    vectors.append({"name": case["name"], "maxSize": case["maxSize"], "kinesisRecords": kinesis_records})

with open(out_path, "w") as f:
    json.dump({
        "library": f"aws_kinesis_agg {version('aws_kinesis_agg')} (Python, protobuf {version('protobuf')})",
        "generatedBy": "tests/interop/gen_python.py",
        "cases": vectors,
    }, f, indent=1)
    f.write("\n")
