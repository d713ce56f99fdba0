"""The Python peer of functions/stream-analytics: the same tumbling-window handler written as a
Python Lambda user would, with Powertools for AWS Lambda (Python) and aws_kinesis_agg.

Same work as the Rust function (functions/stream-analytics/src/lib.rs), step for step:
- the window state is one JSON string under the key `kstream` (count, min, max, sum, first and
  last event time per ticker; records, malformed, parts, segment); foreign entries are ignored;
- each record: base64 (Powertools' `KinesisStreamEvent` data classes), KPL deaggregation
  (aws_kinesis_agg; a corrupt aggregate fails its record), one ticker per user record, bounded as
  in ticker.rs; the first failing record stops the batch and is named in `batchItemFailures`;
- the rows with `price > PRICE_THRESHOLD` go to S3, one object per (ticker, dt, hr) under the
  reference's Flink sink layout, with the same keys and bodies as the Rust function;
- the final invoke writes the window's aggregates, one JSON line per ticker;
- one EMF document per invoke (Powertools `Metrics`, the same metric names), a log line when a
  window closes (Powertools `Logger`).

Configuration from the environment as the Rust function: OUTPUT_BUCKET, ROWS_PREFIX,
AGGREGATES_PREFIX, PRICE_THRESHOLD, POWERTOOLS_METRICS_NAMESPACE, POWERTOOLS_SERVICE_NAME.
"""

import base64
import datetime as dt
import json
import math
import os
import re

import boto3
from aws_kinesis_agg import MAGIC
from aws_kinesis_agg.deaggregator import iter_deaggregate_records
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import KinesisStreamEvent, event_source

STATE_KEY = "kstream"
MAX_TICKERS = 2000
MAX_TICKER_LEN = 16
TICKER = re.compile(r"[A-Za-z0-9._-]+\Z", re.ASCII)
UTC = dt.timezone.utc

BUCKET = os.environ["OUTPUT_BUCKET"]
ROWS_PREFIX = os.environ.get("ROWS_PREFIX", "filtered/")
AGGREGATES_PREFIX = os.environ.get("AGGREGATES_PREFIX", "aggregates/")
PRICE_THRESHOLD = float(os.environ.get("PRICE_THRESHOLD", "50"))

logger = Logger()
metrics = Metrics()
metrics.set_default_dimensions(FunctionName=os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "stream-analytics"))
s3 = boto3.client("s3")


class RecordError(Exception):
    """Why one record fails."""


class InvokeError(Exception):
    """Why the whole invocation fails (Lambda retries it)."""


def parse_event_time(text):
    if not isinstance(text, str) or len(text) > 40:
        raise RecordError(f"bad event_time {str(text)[:40]!r}")
    try:
        time = dt.datetime.fromisoformat(text)
    except ValueError:
        raise RecordError(f"bad event_time {text!r}") from None
    return time.replace(tzinfo=UTC) if time.tzinfo is None else time.astimezone(UTC)


def parse_ticker(data):
    """(event_time, ticker, price) of one user record, bounded as ticker.rs."""
    try:
        record = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as e:
        raise RecordError(f"not UTF-8 at byte {e.start}") from None
    except ValueError as e:
        raise RecordError(f"not JSON: {e}") from None
    if not isinstance(record, dict):
        raise RecordError("not a JSON object")
    if record.get("event_time") is None:
        raise RecordError("missing field event_time")
    event_time = parse_event_time(record["event_time"])
    ticker = record.get("ticker")
    if ticker is None:
        raise RecordError("missing field ticker")
    if not isinstance(ticker, str) or len(ticker) > MAX_TICKER_LEN or not TICKER.match(ticker):
        raise RecordError(f"bad ticker {str(ticker)[:40]!r}")
    price = record.get("price")
    if price is None:
        raise RecordError("missing field price")
    if isinstance(price, bool) or not isinstance(price, (int, float)) or not math.isfinite(price):
        raise RecordError("bad price")
    return event_time, ticker, float(price)


def read_record(record):
    """The user records of one Kinesis record (KPL aggregates taken apart)."""
    try:
        data = record.kinesis.data_as_bytes()
    except ValueError as e:
        raise RecordError(f"bad base64: {e}") from None
    if not data.startswith(MAGIC):
        return [parse_ticker(data)]
    users = []
    for user in iter_deaggregate_records(record.raw_event):
        if not user["kinesis"].get("aggregated"):
            # aws_kinesis_agg passes a corrupt aggregate through unchanged: fail it instead.
            raise RecordError("corrupt KPL aggregate")
        users.append(parse_ticker(base64.b64decode(user["kinesis"]["data"])))
    return users


def load_state(entries):
    text = (entries or {}).get(STATE_KEY)
    if text is None:
        return {"tickers": {}, "records": 0, "malformed": 0, "parts": 0, "segment": None}
    if not isinstance(text, str):
        raise InvokeError("the window state is not a string")
    try:
        state = json.loads(text)
    except ValueError as e:
        raise InvokeError(f"the window state is not JSON: {e}") from None
    for stats in state["tickers"].values():
        stats["first"] = dt.datetime.fromisoformat(stats["first"])
        stats["last"] = dt.datetime.fromisoformat(stats["last"])
    return state


def dump_state(state):
    tickers = {
        t: {**s, "first": s["first"].isoformat(), "last": s["last"].isoformat()}
        for t, s in state["tickers"].items()
    }
    return {STATE_KEY: json.dumps({**state, "tickers": tickers}, separators=(",", ":"))}


def admit(state, users):
    new = {t for _, t, _ in users if t not in state["tickers"]}
    if len(state["tickers"]) + len(new) > MAX_TICKERS:
        raise RecordError(f"more than {MAX_TICKERS} tickers in the window")


def add(state, event_time, ticker, price):
    stats = state["tickers"].get(ticker)
    if stats is None:
        state["tickers"][ticker] = {
            "count": 1, "min": price, "max": price, "sum": price, "first": event_time, "last": event_time,
        }
    else:
        stats["count"] += 1
        stats["min"] = min(stats["min"], price)
        stats["max"] = max(stats["max"], price)
        stats["sum"] += price
        stats["first"] = min(stats["first"], event_time)
        stats["last"] = max(stats["last"], event_time)
    state["records"] += 1


def flink_timestamp(time):
    """Flink's SQL text of a timestamp: the fraction without trailing zeros (output.rs)."""
    text = time.strftime("%Y-%m-%d %H:%M:%S")
    if time.microsecond:
        text += "." + f"{time.microsecond:06d}".rstrip("0")
    return text


def put(key, body):
    s3.put_object(Bucket=BUCKET, Key=key, Body=body, ContentType="application/x-ndjson")


def write_rows(stem, part, rows):
    groups = {}
    for event_time, ticker, price in rows:
        group = (ticker, event_time.strftime("%Y-%m-%d"), event_time.strftime("%H"))
        line = json.dumps({"event_time": flink_timestamp(event_time), "price": price}, separators=(",", ":"))
        groups.setdefault(group, []).append(line)
    for (ticker, day, hour), lines in sorted(groups.items()):
        body = ("\n".join(lines) + "\n").encode()
        put(f"{ROWS_PREFIX}ticker={ticker}/dt={day}/hr={hour}/{stem}-{part:05d}.json", body)
    return len(groups)


def write_aggregates(stem, stream, shard, start, end, state, early):
    lines = []
    for ticker, s in sorted(state["tickers"].items()):
        lines.append(json.dumps({
            "window_start": flink_timestamp(start),
            "window_end": flink_timestamp(end),
            "stream": stream,
            "shard_id": shard,
            "ticker": ticker,
            "count": s["count"],
            "min_price": s["min"],
            "max_price": s["max"],
            "avg_price": s["sum"] / s["count"],
            "sum_price": s["sum"],
            "first_event_time": flink_timestamp(s["first"]),
            "last_event_time": flink_timestamp(s["last"]),
            "terminated_early": early,
        }, separators=(",", ":")))
    if not lines:
        return 0
    put(f"{AGGREGATES_PREFIX}dt={start:%Y-%m-%d}/hr={start:%H}/{stem}.json", ("\n".join(lines) + "\n").encode())
    return 1


def source(event, records):
    shard = event.get("shardId") or (records[0].event_id.split(":")[0] if records else None)
    arn = event.get("eventSourceARN") or (records[0].event_source_arn if records else None)
    if not shard or not arn:
        raise InvokeError("the event names no shard or stream")
    return arn.rsplit("/", 1)[-1], shard


@metrics.log_metrics
@event_source(data_class=KinesisStreamEvent)
def handler(event: KinesisStreamEvent, context):
    raw = event.raw_event
    state = load_state(raw.get("state"))
    window = raw.get("window")
    if not window:
        raise InvokeError("the event has no window")
    records = list(event.records)
    metrics.add_metric(name="Records", unit=MetricUnit.Count, value=len(records))
    failures, rows, aggregated = [], [], 0
    for record in records:
        try:
            users = read_record(record)
            admit(state, users)
        except RecordError as error:
            logger.warning(
                "record failed; it and the records after it are retried",
                extra={"sequence_number": record.kinesis.sequence_number, "error": str(error)},
            )
            state["malformed"] += 1
            failures.append({"itemIdentifier": record.kinesis.sequence_number})
            break
        if state["segment"] is None:
            state["segment"] = record.kinesis.sequence_number
        for event_time, ticker, price in users:
            add(state, event_time, ticker, price)
            aggregated += 1
            if price > PRICE_THRESHOLD:
                rows.append((event_time, ticker, price))
    metrics.add_metric(name="UserRecords", unit=MetricUnit.Count, value=aggregated)
    metrics.add_metric(name="FailedRecords", unit=MetricUnit.Count, value=len(failures))
    metrics.add_metric(name="FilteredRows", unit=MetricUnit.Count, value=len(rows))
    written = 0
    final, early = bool(raw.get("isFinalInvokeForWindow")), bool(raw.get("isWindowTerminatedEarly"))
    if state["segment"] is not None:
        stream, shard = source(raw, records)
        start = dt.datetime.fromisoformat(window["start"]).astimezone(UTC)
        end = dt.datetime.fromisoformat(window["end"]).astimezone(UTC)
        stem = f"{stream}-{shard}-{start:%Y%m%dT%H%M%SZ}-{state['segment']}"
        if rows:
            written += write_rows(stem, state["parts"], rows)
            state["parts"] += 1
        if (final or early) and not failures:
            written += write_aggregates(stem, stream, shard, start, end, state, early)
            logger.info("window closed", extra={
                "window_start": window["start"], "shard_id": shard, "tickers": len(state["tickers"]),
                "records": state["records"], "failed_attempts": state["malformed"], "terminated_early": early,
            })
    if final and not failures:
        metrics.add_metric(name="WindowsClosed", unit=MetricUnit.Count, value=1)
    if early:
        metrics.add_metric(name="WindowsTerminatedEarly", unit=MetricUnit.Count, value=1)
    metrics.add_metric(name="ObjectsWritten", unit=MetricUnit.Count, value=written)
    response = {"state": dump_state(state), "batchItemFailures": failures}
    metrics.add_metric(name="StateBytes", unit=MetricUnit.Bytes, value=sum(map(len, response["state"].values())))
    return response
