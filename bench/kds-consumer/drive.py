#!/usr/bin/env python3
"""Drives one side of the kds-consumer benchmark through Kinesis batches and measures it.

    drive.py SIDE WORKLOAD.json WARMUP BATCHES STDOUT_FILE -- COMMAND...

Hands WARMUP + BATCHES batches of the workload (make_events.py: its distinct batches in turn) to
the side, one invoke each, and checks every response: it must be, as a JSON value, exactly the
`{"batchItemFailures": [...]}` the workload expects for that batch (the same failed sequence
numbers in the same order), or the run fails naming the invoke. Prints one JSON line:
{"side", "workload", "kinesis_records", "user_records", "invokes", "cpu_s", "wall_ms",
"peak_rss_kib", "responses"}: the measured batches' records, the CPU seconds and the wall time
of each measured invoke, the process's peak RSS, and a digest of all the responses.

Every side is a process, COMMAND, against the local Runtime API of bench/lib/runtime.py: it
receives each event over HTTP, parses it, handles it and posts its response itself, as on
Lambda. SIDE is rust (the release binary of functions/kds-consumer), python (awslambdaric, the
Python runtime interface client, running powertools_consumer.handler), node (node with
bench/enrichment/node_runtime.mjs and node_consumer.mjs), floor (the release example
kds-consumer/examples/runtime_floor.rs: the function's runtime with a handler that answers
without reading the event) or socket-floor (the release example socket_floor.rs: a blocking
standard-library loop over the Runtime API, no runtime, that answers without reading the event);
the floors' responses are not checked and their digest is of nothing.
CPU time: the process's CPU clock (all threads) between its request for the first measured
invoke and its request after the last. Wall time of an invoke: from the event handed out to the
response read. Its stdout (logs, EMF) goes to STDOUT_FILE. Peak RSS: the process's VmHWM at the
end, start-up included.
"""

import hashlib
import json
import os
import statistics
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import runtime  # noqa: E402  (bench/lib/runtime.py)


FLOORS = ("floor", "socket-floor")


class Plan:
    """The invokes to make, the batch each gets, and the check of each response."""

    def __init__(self, workload_path, warmup, batches, check=True):
        self.workload = json.load(open(workload_path))
        self.batches = self.workload["batches"]
        self.warmup = warmup
        self.total = warmup + batches
        self.digest = hashlib.sha256()
        self.check = check

    def batch(self, index):
        return self.batches[index % len(self.batches)]

    def payload(self, index):
        with open(self.batch(index)["path"], "rb") as f:
            return f.read()

    def answer(self, index, body):
        if not self.check:
            return
        response = json.loads(body)
        expected = self.batch(index)["expected"]
        if response != expected:
            raise SystemExit(f"invoke {index}: answered {body[:2000].decode(errors='replace')}, expected "
                             f"{json.dumps(expected)[:2000]}")
        self.digest.update(json.dumps(response, sort_keys=True).encode())

    def result(self, side, cpu_s, wall_s, peak_kib):
        measured = self.total - self.warmup
        return {
            "side": side,
            "workload": self.workload["name"],
            "kinesis_records": measured * self.workload["kinesis_records_per_batch"],
            "user_records": measured * self.workload["user_records_per_batch"],
            "invokes": measured,
            "cpu_s": cpu_s,
            "wall_ms": [1000 * s for s in wall_s],
            "wall_ms_median": 1000 * statistics.median(wall_s),
            "peak_rss_kib": peak_kib,
            "responses": self.digest.hexdigest(),
        }


def run_process(side, plan, stdout_path, command):
    with open(stdout_path, "wb") as stdout, open(stdout_path + ".err", "wb") as stderr:
        run = runtime.serve(command, plan, f"kds-consumer-{side}", stdout=stdout, stderr=stderr, memory_mb=256)
    if run.failure:
        raise SystemExit(f"{side} {plan.workload['name']}: {run.failure} (its output: {stdout_path} and .err)")
    walls = [run.invoke_wall_s(i) for i in range(plan.warmup, plan.total)]
    return plan.result(side, run.cpu_s(plan.warmup, plan.total), walls, run.peak_rss_kib)


def main():
    side, workload_path = sys.argv[1:3]
    assert len(sys.argv) > 7 and sys.argv[6] == "--", __doc__
    plan = Plan(workload_path, int(sys.argv[3]), int(sys.argv[4]), check=side not in FLOORS)
    result = run_process(side, plan, sys.argv[5], sys.argv[7:])
    print(json.dumps(result))


if __name__ == "__main__":
    main()
