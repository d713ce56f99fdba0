#!/usr/bin/env python3
"""Writes the benchmark's tumbling-window invokes: one window of a shard as Lambda delivers it
(KinesisTimeWindowEvent), deterministic.

    make_events.py OUT_DIR [INVOKES]

For each workload (100 or 1,000 user records per invoke; plain JSON or KPL-aggregated) it writes
OUT_DIR/<workload>.json: {"name", "user_records_per_invoke", "kinesis_records_per_invoke",
"events": [...]}, INVOKES invokes with records followed by the window's final invoke
(`isFinalInvokeForWindow`, no records). The events carry `"state": null`: the driver of each side
puts the state the previous invoke returned there, as Lambda does.

Ticker records are the reference producer's: {"event_time": "yyyy-MM-dd HH:mm:ss.SSS",
"ticker": "AAPL", "price": 51.2}, with its five tickers (as `kstream produce`) and prices of two
decimals uniform in [0, 100), about half above the function's threshold of 50. KPL aggregates
hold AGGREGATE user records each, made with aws_kinesis_agg's RecordAggregator (kstream-kpl
writes the same bytes; scripts/test-interop.sh checks it).
"""

import json
import os
import random
import sys

from aws_kinesis_agg.aggregator import RecordAggregator

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import kinesis  # noqa: E402  (bench/lib/kinesis.py)

TICKERS = ["AAPL", "AMZN", "MSFT", "INTC", "TBV"]
SIZES = [100, 1000]
AGGREGATE = 10
ARN = "arn:aws:kinesis:us-east-1:123456789012:stream/ticker-stream"
SHARD = "shardId-000000000006"
WINDOW = {"start": "2026-11-22T05:00:00Z", "end": "2026-11-22T05:01:00Z"}
FIRST_SEQ = 49656392932848766235870931233471186418829917744405921794


def ticker_record(rng: random.Random, i: int) -> bytes:
    millis = (i * 37) % 60_000
    record = {
        "event_time": f"2026-11-22 05:00:{millis // 1000:02d}.{millis % 1000:03d}",
        "ticker": rng.choice(TICKERS),
        "price": round(rng.uniform(0, 99.99), 2),
    }
    return json.dumps(record, separators=(",", ":")).encode()


def kinesis_record(seq: int, partition_key: str, data: bytes) -> dict:
    arrival = 1795323600.5 + (seq - FIRST_SEQ) / 1000
    return kinesis.kinesis_record(seq, partition_key, data, arrival=arrival, shard=SHARD,
                                  stream_arn=ARN, role="analytics")


def window_event(records: list, final: bool) -> dict:
    return {
        "Records": records,
        "window": WINDOW,
        "state": None,
        "shardId": SHARD,
        "eventSourceARN": ARN,
        "isFinalInvokeForWindow": final,
        "isWindowTerminatedEarly": False,
    }


def workload(size: int, kpl: bool, invokes: int) -> dict:
    rng = random.Random(size * 2 + kpl)
    # Each workload its own sequence numbers, so its objects have their own keys.
    seq = FIRST_SEQ + (size * 2 + kpl) * 1_000_000
    user = 0
    events = []
    kinesis_per_invoke = 0
    for _ in range(invokes):
        records = []
        if kpl:
            for _ in range(size // AGGREGATE):
                aggregator = RecordAggregator()
                for _ in range(AGGREGATE):
                    data = ticker_record(rng, user)
                    assert aggregator.add_user_record(json.loads(data)["ticker"], data) is None
                    user += 1
                partition_key, _, data = aggregator.clear_and_get().get_contents()
                records.append(kinesis_record(seq, partition_key, data))
                seq += 1
        else:
            for _ in range(size):
                data = ticker_record(rng, user)
                records.append(kinesis_record(seq, json.loads(data)["ticker"], data))
                seq += 1
                user += 1
        kinesis_per_invoke = len(records)
        events.append(window_event(records, False))
    events.append(window_event([], True))
    return {
        "name": f"{size}-{'kpl' if kpl else 'plain'}",
        "user_records_per_invoke": size,
        "kinesis_records_per_invoke": kinesis_per_invoke,
        "events": events,
    }


def main() -> None:
    out = sys.argv[1]
    invokes = int(sys.argv[2]) if len(sys.argv) > 2 else 4
    os.makedirs(out, exist_ok=True)
    for size in SIZES:
        for kpl in (False, True):
            w = workload(size, kpl, invokes)
            with open(os.path.join(out, w["name"] + ".json"), "w") as f:
                json.dump(w, f, separators=(",", ":"))


if __name__ == "__main__":
    main()
