#!/usr/bin/env python3
"""Drives one side of the stream-analytics benchmark through whole windows and measures it.

    drive.py rust BINARY WORKLOAD.json WARMUP_WINDOWS WINDOWS   -> one JSON line on stdout
    drive.py python WORKLOAD.json WARMUP_WINDOWS WINDOWS        -> one JSON line on fd 3

Each window is the workload's invokes in order, the state each invoke returns handed to the next
as Lambda does (and dropped after the final invoke); a failed record, an error or a wrong record
count stops the run. CPU time is counted over the measured windows only (not start-up, not the
warm-up windows), as each runtime really spends it on a batch:

- rust: the release binary of functions/stream-analytics against a minimal Runtime API served
  here (`/2018-06-01/runtime/invocation/...`): the binary receives each event over HTTP, parses
  it, handles it, writes S3, serializes and posts its response. Its CPU time is the process's
  CPU clock (all threads, read from outside with clock_gettime) when it asks for the first
  measured invoke and when it asks for the one after the last; building the event from the
  previous state happens here, while the binary waits.
- python: the Powertools handler (analytics.py) in this process, as the Python runtime calls
  it: `json.loads` of the event bytes, the handler, `json.dumps` of the response, in process
  CPU time (all threads). Receiving and posting over HTTP (C code in the real runtime) is not
  counted, in Python's favour.

The result also gives the CPU time of the cheapest measured final invoke (no records, one PUT of
the window's aggregates): what an invoke costs beyond its records. Peak memory is the process's
VmHWM (peak RSS) at the end, start-up included on both sides.

Wall time per measured invoke with records (what Lambda bills for it), each in the result's
`wall_ms`: rust, from the moment the event is handed to the binary's `GET /next` to the moment its
posted response has arrived; python, from `json.loads` to `json.dumps` done (the runtime's
HTTP receipt and post not counted, in Python's favour).
"""

import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import runtime  # noqa: E402  (bench/lib/runtime.py)

STATE_KEY = "kstream"


class Plan:
    """The invokes to make, and the checks on their responses."""

    def __init__(self, workload_path, warmup, windows):
        self.workload = json.load(open(workload_path))
        self.events = self.workload["events"]
        self.warmup_invokes = warmup * len(self.events)
        self.total = (warmup + windows) * len(self.events)
        self.windows = windows
        self.index = 0
        self.state = None
        self.user_records = 0
        self.final_cpu = []
        self.wall_ms = []

    def spent(self, index, cpu_s):
        """Notes the CPU time of invoke `index` when it is a measured final invoke."""
        if index >= self.warmup_invokes and self.events[index % len(self.events)]["isFinalInvokeForWindow"]:
            self.final_cpu.append(cpu_s)

    def took(self, index, wall_s):
        """Notes the wall time of invoke `index` when it is a measured invoke with records."""
        if index >= self.warmup_invokes and self.events[index % len(self.events)]["Records"]:
            self.wall_ms.append(1000 * wall_s)

    def payload(self, index):
        assert index == self.index
        event = dict(self.events[self.index % len(self.events)])
        event["state"] = self.state
        return json.dumps(event, separators=(",", ":")).encode()

    def answer(self, index, body):
        """Checks the response to invoke `index` and moves on."""
        assert index == self.index
        response = json.loads(body)
        position = self.index % len(self.events)
        event = self.events[position]
        if response.get("batchItemFailures"):
            raise SystemExit(f"invoke {self.index}: records failed: {response['batchItemFailures']}")
        expected = self.workload["user_records_per_invoke"] * min(position + 1, len(self.events) - 1)
        got = json.loads(response["state"][STATE_KEY])["records"]
        if got != expected:
            raise SystemExit(f"invoke {self.index}: the state counts {got} records, expected {expected}")
        if self.index >= self.warmup_invokes:
            self.user_records += self.workload["user_records_per_invoke"] if event["Records"] else 0
        self.state = None if event["isFinalInvokeForWindow"] else response["state"]
        self.index += 1

    def result(self, side, cpu_s, peak_kib):
        return {
            "side": side,
            "workload": self.workload["name"],
            "user_records": self.user_records,
            "invokes": self.total - self.warmup_invokes,
            "cpu_s": cpu_s,
            "peak_rss_kib": peak_kib,
            "final_invoke_cpu_s": min(self.final_cpu),
            "wall_ms": self.wall_ms,
        }


def run_python(workload_path, warmup, windows):
    import analytics

    plan = Plan(workload_path, warmup, windows)
    cpu = 0.0
    while plan.index < plan.total:
        payload = plan.payload(plan.index)
        context = runtime.lambda_context("stream-analytics-python", f"bench-{plan.index}")
        response, spent, wall = runtime.call_as_python_runtime(analytics.handler, payload, context)
        plan.took(plan.index, wall)
        if plan.index >= plan.warmup_invokes:
            cpu += spent
        plan.spent(plan.index, spent)
        plan.answer(plan.index, response)
    with os.fdopen(3, "w") as out:
        out.write(json.dumps(plan.result("python", cpu, runtime.peak_rss_kib())) + "\n")


def run_rust(binary, workload_path, warmup, windows):
    plan = Plan(workload_path, warmup, windows)
    run = runtime.serve([binary], plan, "stream-analytics")
    if run.failure:
        raise SystemExit(f"rust: {run.failure}")
    for index in range(plan.total):
        plan.spent(index, run.cpu_s(index, index + 1))
        plan.took(index, run.invoke_wall_s(index))
    cpu = run.cpu_s(plan.warmup_invokes, plan.total)
    print(json.dumps(plan.result("rust", cpu, run.peak_rss_kib)))


def main():
    if sys.argv[1] == "rust":
        run_rust(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
    elif sys.argv[1] == "python":
        run_python(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
