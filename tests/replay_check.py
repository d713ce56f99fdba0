#!/usr/bin/env python3
"""Checks what `kstream replay --seek T --watermarks` put into a stream (scripts/test-producer-emulator.sh).

Usage: .venv/bin/python tests/replay_check.py STREAM SAMPLE.json.gz SEEK WATERMARKS_SENT

Reads every shard from TRIM_HORIZON with boto3 (AWS_ENDPOINT_URL: the emulator), deaggregates KPL
records with aws_kinesis_agg, and fails unless:
- the trips are exactly the sample's lines whose dropoff_datetime is at or after SEEK, each payload
  byte-identical to its line plus "\\n", each once;
- every shard holds watermark records, as many in all as the replay reports sending, each
  `{"watermark":"<instant, 3 fraction digits>","type":"watermark"}\\n` with partition key "23",
  never aggregated, non-decreasing per shard, at least one during the replay between SEEK and the
  last, and the last one of each shard (the final round, sent once every event was acknowledged)
  equal to the newest trip on that shard.
"""
import base64
import collections
import gzip
import json
import re
import sys
from datetime import datetime

import boto3
from aws_kinesis_agg.deaggregator import iter_deaggregate_records

WATERMARK = re.compile(rb'^\{"watermark":"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)","type":"watermark"\}\n$')


def instant(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def read_stream(client, stream):
    """Every user record of every shard: {shard: [(partition_key, data, aggregated)]}."""
    shards = client.list_shards(StreamName=stream)["Shards"]
    out = {}
    for shard in shards:
        shard_id = shard["ShardId"]
        iterator = client.get_shard_iterator(StreamName=stream, ShardId=shard_id,
                                             ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        records = []
        while iterator:
            page = client.get_records(ShardIterator=iterator, Limit=10000)
            for r in page["Records"]:
                event = {"kinesis": {"kinesisSchemaVersion": "1.0", "sequenceNumber": r["SequenceNumber"],
                                     "approximateArrivalTimestamp": 1.0, "partitionKey": r["PartitionKey"],
                                     "data": base64.b64encode(r["Data"]).decode()}}
                for user in iter_deaggregate_records([event]):
                    k = user["kinesis"]
                    records.append((k["partitionKey"], base64.b64decode(k["data"]), bool(k.get("aggregated"))))
            if not page["Records"] and page.get("MillisBehindLatest", 0) == 0:
                break
            iterator = page.get("NextShardIterator")
        out[shard_id] = records
    return out


def main():
    stream, sample, seek, reported = sys.argv[1], sys.argv[2], instant(sys.argv[3]), int(sys.argv[4])
    lines = gzip.open(sample, "rb").read().splitlines()
    expected = collections.Counter(
        line + b"\n" for line in lines if instant(json.loads(line)["dropoff_datetime"]) >= seek)
    by_shard = read_stream(boto3.client("kinesis"), stream)
    failures = []
    trips = collections.Counter()
    watermarks = 0
    for shard, records in sorted(by_shard.items()):
        marks, newest = [], None
        for key, data, aggregated in records:
            match = WATERMARK.match(data)
            if match:
                if key != "23" or aggregated:
                    failures.append(f"{shard}: watermark with key {key!r}, aggregated {aggregated}")
                marks.append(instant(match.group(1).decode()))
            else:
                trips[data] += 1
                t = instant(json.loads(data)["dropoff_datetime"])
                newest = t if newest is None or t > newest else newest
        watermarks += len(marks)
        if not marks:
            failures.append(f"{shard}: no watermark record")
            continue
        if marks != sorted(marks):
            failures.append(f"{shard}: watermarks go backwards: {marks}")
        if newest is not None and marks[-1] != newest:
            failures.append(f"{shard}: last watermark {marks[-1]}, newest trip {newest}")
        # The rounds during the replay carried values (not only EPOCH, not only the final round).
        if not any(seek <= m < marks[-1] for m in marks[:-1]):
            failures.append(f"{shard}: no watermark during the replay: {marks}")
        print(f"{shard}: {len(records) - len(marks)} trips, watermarks {', '.join(m.strftime('%H:%M:%S') for m in marks)}")
    if len(by_shard) != 2:
        failures.append(f"{len(by_shard)} shards, expected 2")
    if trips != expected:
        missing, extra = expected - trips, trips - expected
        failures.append(f"trips: {sum(trips.values())} read, {sum(expected.values())} expected; "
                        f"{sum(missing.values())} missing, {sum(extra.values())} unexpected or duplicated "
                        f"(e.g. {next(iter(extra or missing), b'')[:120]!r})")
    if watermarks != reported:
        failures.append(f"{watermarks} watermark records read, the replay reported {reported} sent")
    if failures:
        print("\n".join(f"FAIL: {f}" for f in failures), file=sys.stderr)
        sys.exit(1)
    print(f"replay check: {sum(trips.values())} trips after {sys.argv[3]} byte-identical, "
          f"{watermarks} watermarks on {len(by_shard)} shards")


if __name__ == "__main__":
    main()
