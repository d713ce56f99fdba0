#!/usr/bin/env python3
"""Writes the cold-start suite's events: one small valid event per function, of the kind its
pattern sends it, each needing no call out of the process but those the function's work is
(redrive receives from its queue, scheduled-producer puts into its stream):

- kds-consumer: a Kinesis event of 10 JSON ticker records;
- stream-analytics: a tumbling-window event of 10 ticker records, none above the price
  threshold (no S3 object), not the final invoke (bench/stream-analytics/make_events.py);
- enrichment-consumer: a Kinesis event of 10 trips, none sampled at SAMPLE_EVERY=20 (no fare
  call, no S3 object) (bench/enrichment/make_events.py);
- firehose-transform: a Firehose event of 10 records of 1 KiB for the seed template
  (bench/firehose-transform/make_event.py);
- fare-api: functions/fare-api's API Gateway REST proxy request fixture;
- redrive: one pass over an empty on-failure queue, to S3;
- scheduled-producer: a run of 10 records.

    make_events.py OUT_DIR QUEUE_URL BUCKET

Runs with the stream-analytics peer's Python (aws_kinesis_agg, which that suite's events
import).
"""

import datetime
import json
import os
import random
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1]
ROOT = BENCH.parent
RECORDS = 10


def load(name, path):
    sys.path.insert(0, str(path.parent))
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    out, queue_url, bucket = sys.argv[1:4]
    os.makedirs(out, exist_ok=True)
    analytics = load("analytics_events", BENCH / "stream-analytics" / "make_events.py")
    enrichment = load("enrichment_events", BENCH / "enrichment" / "make_events.py")
    firehose = load("firehose_event", BENCH / "firehose-transform" / "make_event.py")
    rng = random.Random(14)

    tickers = []
    for i in range(RECORDS):
        data = json.dumps({"event_time": f"2026-11-22 05:00:0{i}.123", "ticker": analytics.TICKERS[i % 5],
                           "price": round(rng.uniform(1, 50), 2)}, separators=(",", ":")).encode()
        tickers.append(analytics.kinesis_record(analytics.FIRST_SEQ + i, f"pk-{i}", data))
    # The same records serve kds-consumer: a plain Kinesis event (no window fields).
    events = {
        "kds-consumer": {"Records": tickers},
        "stream-analytics": analytics.window_event(tickers, False),
    }

    trips = []
    dropoff = enrichment.START + datetime.timedelta(minutes=30)
    for i in range(RECORDS):
        trip = enrichment.trip(rng, 1 + i, dropoff + datetime.timedelta(seconds=i))  # ids 1..10: none sampled
        data = json.dumps(trip, separators=(",", ":")).encode() + b"\n"
        trips.append(enrichment.kinesis_record(enrichment.FIRST_SEQ + i, data, dropoff.timestamp()))
    events["enrichment-consumer"] = {"Records": trips}

    events["firehose-transform"] = {
        "invocationId": "cold-start-00000000-0000-0000-0000-000000000000",
        "deliveryStreamArn": "arn:aws:firehose:us-east-1:123456789012:deliverystream/bench",
        "region": "us-east-1",
        "records": [{"recordId": f"{i:056d}", "approximateArrivalTimestamp": 1795320306000 + i,
                     "data": firehose.base64.b64encode(firehose.record(i)).decode()} for i in range(RECORDS)],
    }
    fixture = ROOT / "functions" / "fare-api" / "tests" / "fixtures" / "predict-fare-request.json"
    events["fare-api"] = json.loads(fixture.read_text())
    events["redrive"] = {"queue_url": queue_url, "mode": "s3", "s3_uri": f"s3://{bucket}/redrive/"}
    events["scheduled-producer"] = {"records": RECORDS}

    for function, event in events.items():
        Path(out, f"{function}.json").write_text(json.dumps(event))


if __name__ == "__main__":
    main()
