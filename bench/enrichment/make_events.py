#!/usr/bin/env python3
"""Writes the enrichment benchmark's Kinesis events, deterministic.

    make_events.py OUT_DIR WARMUP BATCHES

For each batch size (100 and 1,000 records) it writes OUT_DIR/<size>.json:
{"name", "records_per_batch", "warmup", "events": [...]}: Kinesis events as Lambda delivers them
to a consumer (`Records[].kinesis.data` base64), each batch its own trips and sequence numbers,
so every invoke writes its own objects. First WARMUP warm-up batches of 1,000 records whatever
the size (so that a process has made as many calls before it is measured with small batches as
with large ones), then the measured batches: BATCHES x 1,000 trips in batches of the size
(3 batches of 1,000 or 30 of 100 for BATCHES=3).

One Kinesis record is one trip in the shape of the issue 11 contract (what `kstream replay`
sends): one JSON object, UTF-8, a trailing newline, `"type":"trip"`, `trip_id` unique and
increasing but not contiguous (gaps of 1 to 5, so `SAMPLE_EVERY`=20 samples about one trip in
20), ISO-8601 UTC instants of seconds precision, sorted by `dropoff_datetime`, pickups over
several hours around 2018-01-01 (several `dt=/hr=` partitions per batch). No watermarks and no
unreadable records: every record is a trip.
"""

import datetime
import json
import os
import random
import sys
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import kinesis  # noqa: E402  (bench/lib/kinesis.py)

SIZES = [100, 1000]
LARGEST = max(SIZES)
ARN = "arn:aws:kinesis:us-east-1:123456789012:stream/taxi-trip-events"
SHARD = "shardId-000000000003"
FIRST_SEQ = 49656392932848766235870931233471186418829917744405921794
START = datetime.datetime(2018, 1, 1, tzinfo=datetime.timezone.utc)


def instant(t: datetime.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def trip(rng: random.Random, trip_id: int, dropoff: datetime.datetime) -> dict:
    distance = round(rng.uniform(0.3, 18.0), 2)
    minutes = max(2.0, distance * rng.uniform(2.5, 5.0))
    pickup = dropoff - datetime.timedelta(seconds=int(minutes * 60))
    fare = round(2.5 + 2.5 * distance + 0.5 * int(minutes), 2)
    tip = round(fare * rng.choice([0, 0.15, 0.2, 0.25]), 2)
    tolls = rng.choice([0.0] * 9 + [5.76])
    extra, mta_tax = 0.5, 0.5
    return {
        "type": "trip",
        "trip_id": trip_id,
        "vendor_id": rng.choice([1, 2]),
        "pickup_datetime": instant(pickup),
        "dropoff_datetime": instant(dropoff),
        "passenger_count": rng.choice([1, 1, 1, 1, 2, 2, 3, 5, 6]),
        "trip_distance": distance,
        "pickup_location_id": rng.randint(1, 265),
        "dropoff_location_id": rng.randint(1, 265),
        "rate_code": rng.choice([1] * 19 + [2]),
        "store_and_fwd_flag": "N",
        "payment_type": rng.choice([1, 1, 2]),
        "fare_amount": fare,
        "extra": extra,
        "mta_tax": mta_tax,
        "tip_amount": tip,
        "tolls_amount": tolls,
        "total_amount": round(fare + extra + mta_tax + tip + tolls + 0.3, 2),
    }


def kinesis_record(seq: int, data: bytes, arrival: float) -> dict:
    return kinesis.kinesis_record(seq, str(zlib.crc32(data)), data, arrival=arrival, shard=SHARD,
                                  stream_arn=ARN, role="enrichment-consumer")


def workload(size: int, warmup: int, batches: int) -> dict:
    rng = random.Random(size)
    # Each workload its own trip ids and sequence numbers, so its objects have their own keys.
    trip_id = size * 10_000_000
    seq = FIRST_SEQ + size * 10_000_000
    sizes = [LARGEST] * warmup + [size] * (batches * LARGEST // size)
    # Pickups over about 6 hours: each batch spans several hr= partitions.
    step = 6 * 3600 / sum(sizes)
    dropoff = START + datetime.timedelta(minutes=30)
    events = []
    for records_in_batch in sizes:
        records = []
        for _ in range(records_in_batch):
            trip_id += rng.randint(1, 5)
            dropoff += datetime.timedelta(seconds=rng.randint(0, int(2 * step)))
            data = json.dumps(trip(rng, trip_id, dropoff), separators=(",", ":")).encode() + b"\n"
            records.append(kinesis_record(seq, data, dropoff.timestamp() + 0.25))
            seq += 1
        events.append({"Records": records})
    return {"name": str(size), "records_per_batch": size, "warmup": warmup, "events": events}


def main() -> None:
    out, warmup, batches = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    os.makedirs(out, exist_ok=True)
    for size in SIZES:
        w = workload(size, warmup, batches)
        with open(os.path.join(out, w["name"] + ".json"), "w") as f:
            json.dump(w, f, separators=(",", ":"))


if __name__ == "__main__":
    main()
