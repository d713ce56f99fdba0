#!/usr/bin/env python3
"""Deaggregates kstream-kpl's Kinesis records with Python aws_kinesis_agg and compares every user
record with what kstream put in. Exits 1 on any difference.

Usage: .venv/bin/python tests/interop/check_python.py OUT.json   (OUT.json from examples/interop_out.rs)
"""
import base64
import json
import sys
from importlib.metadata import version

from aws_kinesis_agg.deaggregator import iter_deaggregate_records


def library_ehk(expected, j):
    """The explicit hash key the library reports for record j of an aggregate.

    The library reads explicit_hash_key_table[explicit_hash_key_index] without checking that the
    index is present; absent, it reads as 0, so a record without a key gets the table's first key
    (the first key among the aggregate's records) when the table is not empty. A bug of the
    library, reproduced here so the comparison still checks every byte we wrote.
    """
    own = expected[j]["explicitHashKey"]
    if own is not None:
        return own
    return next((e["explicitHashKey"] for e in expected if e["explicitHashKey"] is not None), None)


def main():
    doc = json.load(open(sys.argv[1]))
    failures = []
    users = 0
    for i, k in enumerate(doc["kinesisRecords"]):
        ctx = f"record {i} (case {k['case']}, {k['how']})"
        seq = f"4959{i:052d}"
        event = {"kinesis": {"kinesisSchemaVersion": "1.0", "sequenceNumber": seq,
                             "approximateArrivalTimestamp": 1.0, "partitionKey": k["partitionKey"],
                             "data": k["data"]}}
        got = list(iter_deaggregate_records([event]))
        expected = k["expected"]
        if len(got) != len(expected):
            failures.append(f"{ctx}: {len(got)} user records, expected {len(expected)}")
            continue
        for j, (g, e) in enumerate(zip(got, expected)):
            g = g["kinesis"]
            checks = {
                "partitionKey": (g["partitionKey"], e["partitionKey"]),
                "data": (base64.b64decode(g["data"]), base64.b64decode(e["data"])),
                "sequenceNumber": (g["sequenceNumber"], seq),
            }
            if k["aggregated"]:
                checks["aggregated"] = (g.get("aggregated"), True)
                checks["subSequenceNumber"] = (g.get("subSequenceNumber"), j)
                checks["explicitHashKey"] = (g.get("explicitHashKey"), library_ehk(expected, j))
            else:
                checks["aggregated"] = (g.get("aggregated"), None)
            for field, (have, want) in checks.items():
                if have != want:
                    failures.append(f"{ctx}, user record {j}: {field} = {have!r:.80}, expected {want!r:.80}")
            users += 1
    lib = f"aws_kinesis_agg {version('aws_kinesis_agg')} (Python)"
    if failures:
        print(f"FAIL {lib}: {len(failures)} differences", file=sys.stderr)
        for f in failures[:20]:
            print("  " + f, file=sys.stderr)
        sys.exit(1)
    print(f"ok   {lib}: {len(doc['kinesisRecords'])} Kinesis records from kstream-kpl -> {users} user records, all identical")


main()
