"""Writes the comparison fixture: produced ticker records and the S3 output the Lambda writes
for them (functions/stream-analytics' layout: src/output.rs), computed here record by record.

    make_fixture.py OUT_DIR [--disagree]

OUT_DIR/records.jsonl     {"event_time", "ticker", "price", "arrival_time"} per line, in send order
OUT_DIR/lambda-output/    filtered/ticker=…/dt=…/hr=…/<stem>.json and aggregates/dt=…/hr=…/<stem>.json

The records are deterministic (seeded): 2 records a second for 150 s from 05:58:30 on
2026-11-22 (so windows cross an hour and the threshold is crossed both ways), event time = send
time in the producer's SQL form, arrival 5 to 300 ms later (some records near a minute boundary
arrive in the next window: straddled windows). Two shards, by ticker, as `kstream produce`
partitions by ticker. Per shard and arrival-time window (aligned to 60 s, as Lambda's tumbling
windows), one aggregate line per ticker, and the rows with price > 50.

--disagree drops one filtered row from the Lambda's output and adds one to one aggregate count,
for the test that the comparison fails.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import json
import random
from pathlib import Path

TICKERS = ["AAPL", "AMZN", "MSFT", "INTC", "TBV"]
SHARDS = {"AAPL": "shardId-000000000000", "AMZN": "shardId-000000000001", "MSFT": "shardId-000000000000",
          "INTC": "shardId-000000000001", "TBV": "shardId-000000000000"}
STREAM = "kstream-fixture"
WINDOW = 60
THRESHOLD = 50.0
START = dt.datetime(2026, 11, 22, 5, 58, 30, tzinfo=dt.timezone.utc)


def flink_timestamp(time: dt.datetime) -> str:
    """output.rs flink_timestamp: seconds, then the fraction without trailing zeros."""
    text = time.strftime("%Y-%m-%d %H:%M:%S")
    fraction = f"{time.microsecond:06d}".rstrip("0")
    return f"{text}.{fraction}" if fraction else text


def sql_millis(time: dt.datetime) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S.") + f"{time.microsecond // 1000:03d}"


def window_start(time: dt.datetime) -> dt.datetime:
    seconds = int(time.timestamp()) // WINDOW * WINDOW
    return dt.datetime.fromtimestamp(seconds, tz=dt.timezone.utc)


def records():
    rng = random.Random(20261122)
    for i in range(300):
        event = START + dt.timedelta(milliseconds=500 * i + rng.randrange(0, 500))
        yield {
            "event": event,
            "arrival": event + dt.timedelta(milliseconds=rng.randrange(5, 300)),
            "ticker": rng.choice(TICKERS),
            "price": rng.randrange(0, 10000) / 100,
        }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--disagree", action="store_true")
    args = parser.parse_args()

    recs = list(records())
    args.out.mkdir(parents=True, exist_ok=True)
    with (args.out / "records.jsonl").open("w", encoding="utf-8") as file:
        for r in recs:
            file.write(json.dumps({"event_time": sql_millis(r["event"]), "ticker": r["ticker"],
                                   "price": r["price"], "arrival_time": r["arrival"].isoformat(timespec="milliseconds").replace("+00:00", "Z")}) + "\n")

    # The Lambda: per (shard, arrival window), in arrival order.
    segments = collections.defaultdict(list)
    for r in sorted(recs, key=lambda r: r["arrival"]):
        segments[(SHARDS[r["ticker"]], window_start(r["arrival"]))].append(r)
    objects = {}
    for (shard, start), seg in sorted(segments.items()):
        stem = f"{STREAM}-{shard}-{start.strftime('%Y%m%dT%H%M%SZ')}-{seg[0]['event'].strftime('%H%M%S%f')}"
        rows = collections.defaultdict(list)
        for r in seg:
            if r["price"] > THRESHOLD:
                e = r["event"]
                rows[(r["ticker"], e.strftime("%Y-%m-%d"), e.strftime("%H"))].append(
                    {"event_time": flink_timestamp(e), "price": r["price"]})
        for (ticker, day, hour), lines in sorted(rows.items()):
            objects[f"filtered/ticker={ticker}/dt={day}/hr={hour}/{stem}-00000.json"] = lines
        stats = {}
        for r in seg:
            s = stats.setdefault(r["ticker"], {"count": 0, "min": r["price"], "max": r["price"], "sum": 0.0,
                                               "first": r["event"], "last": r["event"]})
            s["count"] += 1
            s["min"], s["max"], s["sum"] = min(s["min"], r["price"]), max(s["max"], r["price"]), s["sum"] + r["price"]
            s["first"], s["last"] = min(s["first"], r["event"]), max(s["last"], r["event"])
        end = start + dt.timedelta(seconds=WINDOW)
        objects[f"aggregates/dt={start.strftime('%Y-%m-%d')}/hr={start.strftime('%H')}/{stem}.json"] = [
            {"window_start": flink_timestamp(start), "window_end": flink_timestamp(end), "stream": STREAM,
             "shard_id": shard, "ticker": t, "count": s["count"], "min_price": s["min"], "max_price": s["max"],
             "avg_price": s["sum"] / s["count"], "sum_price": s["sum"], "first_event_time": flink_timestamp(s["first"]),
             "last_event_time": flink_timestamp(s["last"]), "terminated_early": False}
            for t, s in sorted(stats.items())
        ]

    if args.disagree:
        first_rows = next(k for k in sorted(objects) if k.startswith("filtered/"))
        objects[first_rows] = objects[first_rows][1:]
        first_aggs = next(k for k in sorted(objects) if k.startswith("aggregates/"))
        objects[first_aggs][0]["count"] += 1

    for key, lines in objects.items():
        path = args.out / "lambda-output" / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")


if __name__ == "__main__":
    main()
