#!/usr/bin/env python3
"""Drives one side of the enrichment benchmark through Kinesis batches and measures it.

    drive.py SIDE LABEL WORKLOAD.json STDOUT_FILE -- COMMAND...

Serves a minimal Lambda Runtime API (`/2018-06-01/runtime/invocation/...`) on 127.0.0.1 and
starts COMMAND against it (AWS_LAMBDA_RUNTIME_API and the Lambda variables set, the rest of the
environment as given): the Rust release binary (functions/enrichment-consumer), or Node 20 with
node_runtime.mjs and the peer's handler module. Both receive each event over HTTP, parse it,
handle it (fare calls, S3 writes, EMF on stdout) and post the response themselves, as on
Lambda. One invoke per event of the workload (make_events.py), in order, each its own trips;
every response must be `{"batchItemFailures":[]}`, or the run fails.

Measured over the invokes after the workload's `warmup` first ones (the cold start and the
warm-up not counted):
- CPU time: the process's CPU clock (all threads, read from outside with clock_gettime) when it
  asks for the first measured invoke and when it asks for the one after the last;
- wall time between the same two moments, and per batch (what Lambda bills): from the moment the
  event is handed to the process's `GET /next` to the moment its posted response has arrived;
- call latencies: the `CallLatency` values of the EMF documents the process wrote to stdout
  (a file, written synchronously by both runtimes) between those two moments: one value per
  attempt, as each side timed it (Rust: its EMF; Node: its performance.now() timer published
  through Powertools Metrics);
- peak RSS: the process's VmHWM at the end (start-up included).
Prints one JSON line: {"side", "label", "trips", "sampled", "invokes", "cpu_s", "wall_s",
"batch_wall_ms", "peak_rss_kib", "latencies_ms"}.
"""

import base64
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import runtime  # noqa: E402  (bench/lib/runtime.py)


def counts(event, sample_every):
    """(trips, sampled) of one event: every record of the benchmark's events is a trip."""
    trips = sampled = 0
    for record in event["Records"]:
        trip = json.loads(base64.b64decode(record["kinesis"]["data"]))
        trips += 1
        sampled += trip.get("ride_request_id", trip["trip_id"]) % sample_every == 0
    return trips, sampled


def latencies(path, start, end):
    """The CallLatency values of the EMF documents in bytes [start, end) of `path`."""
    with open(path, "rb") as f:
        f.seek(start)
        text = f.read(end - start).decode()
    values = []
    for line in text.splitlines():
        if not line.startswith("{"):
            continue
        try:
            doc = json.loads(line)
        except ValueError:
            continue
        if "_aws" not in doc or "CallLatency" not in doc:
            continue
        value = doc["CallLatency"]
        values.extend(value if isinstance(value, list) else [value])
    return values


def main():
    side, label, workload_path, stdout_path = sys.argv[1:5]
    assert sys.argv[5] == "--", __doc__
    command = sys.argv[6:]
    workload = json.load(open(workload_path))
    events, warmup = workload["events"], workload["warmup"]
    total = len(events)
    batches = total - warmup
    sample_every = int(os.environ["SAMPLE_EVERY"])
    payloads = [json.dumps(e, separators=(",", ":")).encode() for e in events[:total]]
    measured = [counts(e, sample_every) for e in events[warmup:total]]

    stdout_sizes = {}

    class Invocations:
        """The workload's events in order; every response must report no failure."""

        def __init__(self):
            self.total = total

        def payload(self, index):
            return payloads[index]

        def answer(self, index, body):
            if json.loads(body) != {"batchItemFailures": []}:
                raise SystemExit(f"invoke {index}: {body[:2000].decode(errors='replace')}")

        def on_next(self, index):
            if index in (warmup, total):
                stdout_sizes[index] = os.path.getsize(stdout_path)

    with open(stdout_path, "wb") as stdout, open(stdout_path + ".err", "wb") as stderr:
        run = runtime.serve(command, Invocations(), f"enrichment-consumer-{side}", stdout=stdout, stderr=stderr)
    if run.failure:
        raise SystemExit(f"{side} {label}: {run.failure} (its output: {stdout_path} and .err)")
    values = latencies(stdout_path, stdout_sizes[warmup], stdout_sizes[total])
    sampled = sum(s for _, s in measured)
    if len(values) < sampled:
        raise SystemExit(f"{side} {label}: {len(values)} CallLatency values for {sampled} sampled trips")
    print(json.dumps({
        "side": side,
        "label": label,
        "trips": sum(t for t, _ in measured),
        "sampled": sampled,
        "invokes": batches,
        "cpu_s": run.cpu_s(warmup, total),
        "wall_s": run.wall_s(warmup, total),
        "batch_wall_ms": [1000 * run.invoke_wall_s(index) for index in range(warmup, total)],
        "peak_rss_kib": run.peak_rss_kib,
        "latencies_ms": values,
    }))


if __name__ == "__main__":
    main()
