"""Pattern 4 (patterns/04-kds-enrichment-apigw) in the fault run (soak.py): trips -> Kinesis ->
enrichment-consumer, which asks the fare API (the local REST API executor: SigV4, API key, usage
plan; the fare-api function behind it) for the sampled trips' fares -> rows in S3.

What soak.py takes from here:
- the records: trips with a unique integer ``trip_id`` (the record's id is its decimal text);
  1 % poison: a trip whose ``trip_id`` is a string, which the consumer cannot read and writes to
  its error output (never retried); 1 trip in 20 is sampled (``ride_request_id % 20 == 0``);
- the fare API's own fault mode for the run: ``FARE_FAULTS`` of the fare function set to
  ``error_rate=0.2,throttle_rate=0.05`` (503 and 429 answers the consumer retries; a trip whose
  calls still fail makes its record a batch item failure, so the mapping retries, bisects and in
  the end sends the range to the failure queue) through the function's environment, restored
  after the run;
- ``kstream local up`` serves the REST API on a free port (``--api-port 0``; the functions get its
  URL as AWS_ENDPOINT_URL_EXECUTE_API), so parallel runs do not collide on the default 4567;
- the accounting: processed = the trip's row in the rows objects under ``output_prefix`` (the
  deployment writes every trip: ``write_unsampled = true``); error output = a line of the objects
  under ``error_prefix`` whose ``data_base64`` is the record; failure queue = inside a
  KinesisBatchInfo range of the on-failure queue's messages (shard, start..end).
"""

from __future__ import annotations

import base64
import json
import time
from collections import Counter
from pathlib import Path

import boto3

FUNCTION_PACKAGE = "enrichment-consumer"
FARE_FAULTS = "error_rate=0.2,throttle_rate=0.05"
UP_OPTIONS = ["--api-port", "0"]
# The pattern's sample_every (its default: neither tests/e2e-04.sh nor scripts/soak.sh changes it).
SAMPLE_EVERY = 20


def names(outputs: dict) -> tuple[str, str, str]:
    """The stream's name and ARN and the consumer function's name, from the deployment's outputs."""
    return outputs["stream_name"], outputs["stream_arn"], outputs["consumer_function_name"]


def make_records(count: int, rng, seed: int, poison_rate: float) -> tuple[list[str], set[str]]:
    """The run's records (JSON lines) and the ids of the poison ones. Trip ids start at a base
    unique per (seed, time), a multiple of 20 (so 1 in 20 is sampled), far above the committed
    sample's ids (about 2.6e10), within a positive i64."""
    base = (1 + seed * 100000 + int(time.time()) % 100000) * 1_000_000
    lines, poison = [], set()
    for n in range(count):
        bad = rng.random() < poison_rate
        rid, line = record(base + n, n, bad)
        lines.append(line)
        if bad:
            poison.add(rid)
    return lines, poison


def record(trip_id: int, n: int, bad: bool) -> tuple[str, str]:
    """The id and JSON line of the n-th record of a run."""
    if bad:
        rec = {"type": "trip", "trip_id": str(trip_id), "poison": "trip_id is a string: the error output"}
    else:
        hour = n // 1000 % 24
        rec = {"type": "trip", "trip_id": trip_id, "pickup_datetime": f"2018-01-01T{hour:02d}:{n % 60:02d}:07Z",
               "dropoff_datetime": f"2018-01-01T{hour:02d}:59:07Z", "passenger_count": 1 + n % 4,
               "trip_distance": round(n % 97 / 10, 1), "pickup_location_id": 1 + n % 263,
               "dropoff_location_id": 1 + n * 7 % 263, "total_amount": n % 997 + 0.5}
    return str(trip_id), json.dumps(rec, separators=(",", ":"))


def id_of(data: bytes | str) -> str | None:
    """The id of a record or of a row: its ``trip_id`` (an integer, or the poison's string)."""
    try:
        rec = json.loads(data)
    except ValueError:
        return None
    v = rec.get("trip_id") if isinstance(rec, dict) else None
    if isinstance(v, bool) or not isinstance(v, (int, str)):
        return None
    return str(v)


def _consumer_log(run) -> Path:
    return run.state_dir / "logs" / f"{run.function}.log"


def prepare(run) -> dict:
    """Turns on the fare function's fault mode for the run; returns the environment to restore.
    Notes where the consumer's log ends (a state dir an end-to-end test used holds its runs too)."""
    log = _consumer_log(run)
    run.consumer_log_start = log.stat().st_size if log.exists() else 0
    lam = boto3.client("lambda")
    fare = run.outputs["fare_function_name"]
    env = lam.get_function_configuration(FunctionName=fare).get("Environment", {}).get("Variables", {})
    lam.update_function_configuration(FunctionName=fare, Environment={"Variables": dict(env, FARE_FAULTS=FARE_FAULTS)})
    run.event(f"fare API fault mode for the run: {FARE_FAULTS} (FARE_FAULTS of {fare})")
    return env


def restore(run, env: dict) -> None:
    boto3.client("lambda").update_function_configuration(
        FunctionName=run.outputs["fare_function_name"], Environment={"Variables": env})


def fare_metrics(run) -> dict:
    """The consumer's EMF counters over the run (its invocations since prepare): the fare API's
    calls, retries, 429s, trips whose calls finally failed, batch item failures."""
    counters = ("Calls", "Retries", "Throttles", "CallFailures", "BatchItemFailures", "Sampled", "ParseFailures")
    sums = dict.fromkeys(counters, 0)
    sums["invocations"] = 0
    with open(_consumer_log(run), "rb") as f:
        f.seek(getattr(run, "consumer_log_start", 0))
        for line in f:
            try:
                doc = json.loads(line)
            except ValueError:
                continue
            if isinstance(doc, dict) and "_aws" in doc:
                sums["invocations"] += 1
                for n in counters:
                    sums[n] += int(doc.get(n, 0) or 0)
    return sums


def failures(summary: dict) -> list[str]:
    """What fails a pattern 4 run beyond the common checks: the fare API's faults not seen (the
    fault mode did not take), a good trip in the error output, a row of an unsampled trip with a
    fare or of a sampled one without."""
    fare, out = summary["fare_api"], []
    if fare["Retries"] == 0 or fare["Throttles"] == 0:
        out.append(f"the fare API's faults were not seen (retries {fare['Retries']}, 429s {fare['Throttles']})")
    if summary["good_in_error_output"]:
        out.append(f"{summary['good_in_error_output']} good trip(s) in the error output")
    if summary["rows_with_a_wrong_fare"]:
        out.append(f"{summary['rows_with_a_wrong_fare']} row(s) with a fare though unsampled, or without though sampled")
    return out


def describe(summary: dict) -> str:
    """The summary's line about the fare API."""
    f = summary["fare_api"]
    return (f"  fare API: {f['invocations']} invocations, {f['Sampled']} sampled trips (retried batches again), {f['Calls']} calls, "
            f"{f['Retries']} retries, {f['Throttles']} answered 429, {f['CallFailures']} trips whose calls "
            f"finally failed ({f['BatchItemFailures']} batch item failures); rows with a wrong fare "
            f"{summary['rows_with_a_wrong_fare']}")


def _objects(bucket: str, prefix: str):
    """The text of every object under ``prefix``."""
    s3 = boto3.client("s3")
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            yield s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read().decode(errors="replace")


def account(run, wanted: set[str], by_seq: dict) -> tuple[Counter, dict[str, Counter], dict]:
    """Processed (rows in S3), and the failure queue's ranges and the error output, per id."""
    bucket = run.outputs["bucket_name"]
    processed, errors, wrong_fares = Counter(), Counter(), 0
    for body in _objects(bucket, run.outputs["output_prefix"]):
        for line in body.splitlines():
            rid = id_of(line)
            if rid in wanted:
                processed[rid] += 1
                row = json.loads(line)
                if row.get("sampled") != (int(rid) % SAMPLE_EVERY == 0) or row["sampled"] != (row.get("expected_fare") is not None):
                    wrong_fares += 1
    for body in _objects(bucket, run.outputs["error_prefix"]):
        for line in body.splitlines():
            try:
                rid = id_of(base64.b64decode(json.loads(line).get("data_base64", "")))
            except ValueError:
                continue
            if rid in wanted:
                errors[rid] += 1
    in_ranges, messages = run.failure_ranges_p1(by_seq)
    sampled = [r for r in wanted if processed[r] and int(r) % SAMPLE_EVERY == 0]
    both = sorted(r for r in in_ranges if processed[r])
    return processed, {"failure_queue": in_ranges, "error_output": errors}, {
        "failure_queue_messages": messages,
        "processed_and_failure_queue_examples": both[:20],
        "sampled_processed": len(sampled),
        "rows_with_a_wrong_fare": wrong_fares,
        "fare_api": fare_metrics(run),
    }
