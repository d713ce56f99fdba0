"""Python peer of the producer benchmark: boto3 PutRecords in a loop, with aws_kinesis_agg
aggregation (mode "aggregate") or one entry per user record (mode "raw"), resending only the
failed entries after a 100 ms pause. Same endpoint, records and measurement as
examples/bench_producer.rs; prints one JSON line.

usage: peer.py ENDPOINT_URL [aggregate|raw] [seconds] [warmup] [record_size] [keys] [shards]
"""

import collections
import json
import resource
import sys
import time

import boto3
from aws_kinesis_agg.aggregator import RecordAggregator

STREAM = "bench"
MAX_ENTRIES = 500
MAX_REQUEST_BYTES = 5 * 1024 * 1024


def main():
    url = sys.argv[1]
    mode = sys.argv[2] if len(sys.argv) > 2 else "aggregate"
    seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 15.0
    warmup = float(sys.argv[4]) if len(sys.argv) > 4 else 3.0
    record_size = int(sys.argv[5]) if len(sys.argv) > 5 else 100
    nkeys = int(sys.argv[6]) if len(sys.argv) > 6 else 16
    shards = int(sys.argv[7]) if len(sys.argv) > 7 else 1
    client = boto3.client(
        "kinesis",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    keys = ["key-%d" % i for i in range(nkeys)]
    payload = b"x" * record_size
    aggregator = RecordAggregator(max_size=51200)  # the KPL's AggregationMaxSize
    counter = [0]

    def next_entry():
        """One PutRecords entry and the number of user records in it."""
        if mode == "raw":
            key = keys[counter[0] % nkeys]
            counter[0] += 1
            return {"PartitionKey": key, "Data": payload}, 1
        while True:
            key = keys[counter[0] % nkeys]
            counter[0] += 1
            full = aggregator.add_user_record(key, payload)
            if full is not None:
                pk, ehk, data = full.get_contents()
                entry = {"PartitionKey": pk, "Data": data}
                if ehk:
                    entry["ExplicitHashKey"] = ehk
                return entry, full.get_num_user_records()

    retry = collections.deque()
    start = time.monotonic()
    window_start = start + warmup
    window_end = window_start + seconds
    put_records = put_bytes = kinesis_bytes = 0
    cpu_start = None
    while True:
        now = time.monotonic()
        if now >= window_end:
            break
        if cpu_start is None and now >= window_start:
            cpu_start = cpu_seconds()
        batch, size = [], 0
        while len(batch) < MAX_ENTRIES:
            item = retry.popleft() if retry else next_entry()
            entry_size = len(item[0]["Data"]) + len(item[0]["PartitionKey"])
            if batch and size + entry_size > MAX_REQUEST_BYTES:
                retry.appendleft(item)
                break
            batch.append(item)
            size += entry_size
        response = client.put_records(StreamName=STREAM, Records=[e for e, _ in batch])
        done = time.monotonic()
        failed = False
        for (entry, users), result in zip(batch, response["Records"]):
            if "ErrorCode" in result:
                retry.append((entry, users))
                failed = True
            elif window_start <= done < window_end:
                put_records += users
                put_bytes += users * record_size
                kinesis_bytes += len(entry["Data"]) + len(entry["PartitionKey"])
        if failed:
            time.sleep(0.1)
    cpu = cpu_seconds() - (cpu_start if cpu_start is not None else cpu_seconds())
    elapsed = seconds
    print(
        json.dumps(
            {
                "impl": "python boto3 + aws_kinesis_agg" if mode == "aggregate" else "python boto3",
                "mode": mode,
                "shards": shards,
                "record_size": record_size,
                "seconds": elapsed,
                "user_records_per_s_per_shard": put_records / elapsed / shards,
                "user_bytes_per_s_per_shard": put_bytes / elapsed / shards,
                "fraction_of_1mib": put_bytes / elapsed / shards / (1024 * 1024),
                "cpu_seconds": cpu,
                "cpu_ms_per_10k_records": cpu * 1000 / (put_records / 10000) if put_records else None,
                "wire_efficiency": put_bytes / kinesis_bytes if kinesis_bytes else 0,
            }
        )
    )


def cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


if __name__ == "__main__":
    main()
