#!/usr/bin/env python3
"""Writes the NYC-taxi-like trip sample that `kstream replay` sends in pattern 4.

    scripts/gen-trips.py [OUT]        default: data/taxi-trips-sample.json.gz

Python 3 standard library only, fixed seed: the same output on every run (the gzip header carries
no file name and mtime 0). scripts/test-lint.sh regenerates the sample to a temporary file and
compares its lines with the committed one. data/README.md documents the fields.

The trips are synthetic, shaped like the reference's `taxi-trips-partitioned.json.lz4/
dropoff_year=2018/` objects (one JSON object per line, sorted by `dropoff_datetime`, `trip_id`
unique, increasing and not contiguous): the first six hours of 2018-01-01 (dropoff time), with
2018 yellow-cab fares (metered $2.50 + $2.50/mile + $0.50 per slow minute, $0.50 overnight extra,
$0.50 MTA tax, JFK flat fare $52, $5.76 tolls, card tips), and
total_amount = fare_amount + extra + mta_tax + tip_amount + tolls_amount.
"""

import gzip
import json
import random
import sys
from datetime import datetime, timedelta, timezone

SEED = 20180101
TRIPS = 4800
START = datetime(2018, 1, 1, tzinfo=timezone.utc)
HOURS = 6
# Spark's monotonically_increasing_id() puts the partition index in the upper bits; starting there
# keeps the ids above 2^32, as in the reference data (consumers must read them as i64).
FIRST_TRIP_ID = 3 << 33
JFK = 132
LAGUARDIA = 138
# Busy Manhattan and airport zones (TLC taxi zone ids); the rest are drawn from 1..265.
BUSY_ZONES = [48, 68, 79, 90, 100, 107, 113, 114, 137, 140, 141, 142, 143, 148, 158, 161, 162,
              163, 164, 170, 186, 229, 230, 231, 234, 236, 237, 238, 239, 246, 249, 263, JFK,
              LAGUARDIA]


def zone(rng):
    if rng.random() < 0.75:
        return BUSY_ZONES[rng.randrange(len(BUSY_ZONES))]
    return rng.randint(1, 265)


def money(value):
    return round(value + 1e-9, 2)


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def trip(rng, trip_id, dropoff):
    pickup_zone, dropoff_zone = zone(rng), zone(rng)
    airport = JFK in (pickup_zone, dropoff_zone)
    # Minutes: mostly short urban rides, airport rides long.
    minutes = rng.uniform(25, 60) if airport else min(rng.lognormvariate(2.4, 0.55), 90)
    mph = rng.uniform(8, 22) if not airport else rng.uniform(15, 30)
    distance = money(max(0.1, minutes / 60 * mph))
    pickup = dropoff - timedelta(seconds=round(minutes * 60))
    slow_minutes = minutes * rng.uniform(0.1, 0.4)
    rate_code, extra = 1, 0.5  # standard rate; the overnight surcharge applies 20:00-06:00
    if airport and rng.random() < 0.8:
        rate_code, fare = 2, 52.0  # JFK flat fare
        extra = 0.0
    elif rng.random() < 0.01:
        rate_code, fare = 5, float(rng.randrange(20, 120, 5))  # negotiated
        extra = 0.0
    else:
        fare = 2.5 + round((distance * 2.5 + slow_minutes * 0.5) * 2) / 2
    roll = rng.random()
    payment_type = 1 if roll < 0.70 else 2 if roll < 0.985 else 3 if roll < 0.995 else 4
    tip = money(fare * rng.choice([0.0, 0.15, 0.2, 0.2, 0.25, 0.3])) if payment_type == 1 else 0.0
    tolls = 5.76 if (airport or distance > 12) and rng.random() < 0.5 else 0.0
    mta_tax = 0.5
    passengers = rng.choices([1, 2, 3, 4, 5, 6], weights=[70, 15, 4, 2, 5, 4])[0]
    vendor_id = rng.choice([1, 2])
    return {
        "type": "trip",
        "trip_id": trip_id,
        "vendor_id": vendor_id,
        "pickup_datetime": iso(pickup),
        "dropoff_datetime": iso(dropoff),
        "passenger_count": passengers,
        "trip_distance": distance,
        "pickup_location_id": pickup_zone,
        "dropoff_location_id": dropoff_zone,
        "rate_code": rate_code,
        "store_and_fwd_flag": "Y" if vendor_id == 1 and rng.random() < 0.02 else "N",
        "payment_type": payment_type,
        "fare_amount": money(fare),
        "extra": extra,
        "mta_tax": mta_tax,
        "tip_amount": tip,
        "tolls_amount": tolls,
        "total_amount": money(fare + extra + mta_tax + tip + tolls),
    }


def lines():
    rng = random.Random(SEED)
    seconds = sorted(rng.randrange(HOURS * 3600) for _ in range(TRIPS))
    trip_id = FIRST_TRIP_ID
    for second in seconds:
        trip_id += rng.randint(1, 3)
        record = trip(rng, trip_id, START + timedelta(seconds=second))
        yield json.dumps(record, separators=(",", ":")) + "\n"


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "data/taxi-trips-sample.json.gz"
    with open(out, "wb") as raw:
        # No file name and mtime 0 in the header: byte-identical output for the same zlib.
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as gz:
            for line in lines():
                gz.write(line.encode())


if __name__ == "__main__":
    main()
