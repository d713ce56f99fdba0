#!/usr/bin/env python3
"""Writes the kds-consumer benchmark's Kinesis batches, deterministic, and the failures each
must be answered with.

    make_events.py OUT_DIR

For each workload (100 or 1,000 Kinesis records per batch; plain JSON or KPL-aggregated) it
writes DISTINCT (5) different batches as Lambda delivers them to pattern 1's consumer (a Kinesis
event, `Records[].kinesis.data` base64), one file each, OUT_DIR/<workload>/<k>.json (the bytes
handed to the function), and OUT_DIR/<workload>.json: {"name", "kinesis_records_per_batch",
"user_records_per_batch", "batches": [{"path", "expected"}]}, where `expected` is the response
every side must post for that batch: `{"batchItemFailures": [{"itemIdentifier": seq}, ...]}`,
the failed Kinesis records in batch order. The drivers hand the batches out in turn.

User records are pattern 1's ticker events, about 100 bytes of JSON:
{"id":123,"event_time":"2026-11-22 05:00:01.123","ticker":"AMZN","price":182.51,"qty":300}.
A KPL-aggregated Kinesis record holds AGGREGATE of them (made with aws_kinesis_agg's
RecordAggregator; kstream-kpl writes the same bytes: scripts/test-interop.sh), so a batch of 100
KPL records carries 1,000 user records.

1 % of the Kinesis records of every batch are bad (at random places): one user record fails the
consumer's validation (functions/kds-consumer's ValidatingProcessor with
REQUIRED_FIELDS=id,ticker,price), in turn: `"poison": true`, a required field missing, a
required field null, text that is not JSON, a JSON array. In a KPL record the bad one is one
sub-record at a random place in the aggregate, which fails the whole Kinesis record.
"""

import json
import os
import random
import sys

from aws_kinesis_agg.aggregator import RecordAggregator

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import kinesis  # noqa: E402  (bench/lib/kinesis.py)

SIZES = [100, 1000]
AGGREGATE = 10
DISTINCT = 5
BAD_PER_MILLE = 10
REQUIRED_FIELDS = "id,ticker,price"
TICKERS = ["AAPL", "AMZN", "MSFT", "INTC", "TBV"]
ARN = "arn:aws:kinesis:us-east-1:123456789012:stream/kstream-p1-stream"
SHARD = "shardId-000000000002"
FIRST_SEQ = 49656392932848766235870931233471186418829917744405921794


def ticker(rng: random.Random, i: int) -> dict:
    millis = (i * 37) % 60_000
    return {
        "id": i,
        "event_time": f"2026-11-22 05:00:{millis // 1000:02d}.{millis % 1000:03d}",
        "ticker": rng.choice(TICKERS),
        "price": round(rng.uniform(1, 999.99), 2),
        "qty": rng.randrange(1, 1000),
    }


def bad(rng: random.Random, i: int, kind: int) -> bytes:
    """A user record that ValidatingProcessor rejects (REQUIRED_FIELDS=id,ticker,price)."""
    record = ticker(rng, i)
    if kind == 0:
        record["poison"] = True
    elif kind == 1:
        del record["price"]
    elif kind == 2:
        record["ticker"] = None
    elif kind == 3:
        return json.dumps(record, separators=(",", ":")).encode()[:-9]
    else:
        return json.dumps([record], separators=(",", ":")).encode()
    return json.dumps(record, separators=(",", ":")).encode()


def good(rng: random.Random, i: int) -> bytes:
    return json.dumps(ticker(rng, i), separators=(",", ":")).encode()


def kinesis_record(seq: int, partition_key: str, data: bytes) -> dict:
    arrival = 1795323600.5 + (seq - FIRST_SEQ) / 1000
    return kinesis.kinesis_record(seq, partition_key, data, arrival=arrival, shard=SHARD,
                                  stream_arn=ARN, role="kstream-p1-consumer")


def batch(rng: random.Random, size: int, kpl: bool, seq: int, user: int, kinds: list) -> tuple:
    """(event, failed sequence numbers, next user record number) of one batch."""
    bad_at = set(rng.sample(range(size), size * BAD_PER_MILLE // 1000))
    records, failed = [], []
    for position in range(size):
        if kpl:
            bad_sub = rng.randrange(AGGREGATE) if position in bad_at else -1
            aggregator = RecordAggregator()
            for sub in range(AGGREGATE):
                data = bad(rng, user, kinds.pop()) if sub == bad_sub else good(rng, user)
                assert aggregator.add_user_record(TICKERS[user % len(TICKERS)], data) is None
                user += 1
            partition_key, _, data = aggregator.clear_and_get().get_contents()
        else:
            data = bad(rng, user, kinds.pop()) if position in bad_at else good(rng, user)
            partition_key = TICKERS[user % len(TICKERS)]
            user += 1
        records.append(kinesis_record(seq + position, partition_key, data))
        if position in bad_at:
            failed.append(str(seq + position))
    return {"Records": records}, failed, user


def workload(out: str, size: int, kpl: bool) -> dict:
    name = f"{size}-{'kpl' if kpl else 'plain'}"
    rng = random.Random(size * 2 + kpl)
    kinds = [i % 5 for i in range(DISTINCT * size)][::-1]
    os.makedirs(os.path.join(out, name), exist_ok=True)
    seq = FIRST_SEQ + (size * 2 + kpl) * 1_000_000
    user = 0
    batches = []
    for k in range(DISTINCT):
        event, failed, user = batch(rng, size, kpl, seq + k * size, user, kinds)
        path = os.path.join(out, name, f"{k}.json")
        with open(path, "w") as f:
            json.dump(event, f, separators=(",", ":"))
        expected = {"batchItemFailures": [{"itemIdentifier": s} for s in failed]}
        batches.append({"path": path, "expected": expected})
    return {
        "name": name,
        "kinesis_records_per_batch": size,
        "user_records_per_batch": size * (AGGREGATE if kpl else 1),
        "failed_per_batch": size * BAD_PER_MILLE // 1000,
        "batches": batches,
    }


def main() -> None:
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for size in SIZES:
        for kpl in (False, True):
            w = workload(out, size, kpl)
            with open(os.path.join(out, w["name"] + ".json"), "w") as f:
                json.dump(w, f, indent=1)


if __name__ == "__main__":
    main()
