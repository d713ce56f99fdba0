#!/usr/bin/env python3
"""Starts one side of one function STARTS times against a fresh local Runtime API each time and
measures its cold start.

    drive.py FUNCTION SIDE EVENT.json STARTS STDERR_FILE -- COMMAND...

Each start (bench/lib/runtime.py's `serve`): a new Runtime API, then COMMAND started against it
(the Rust release binary; Node 20 with bench/enrichment/node_runtime.mjs and the peer's handler
module; Python with bench/lib/python_runtime.py and the peer's module), handed the one event;
its response must be the function's success (`check`), or the run fails. Per start:
- first_next_ms: from just before the process is started (fork/exec) to its first
  `GET /next` (the init: runtime, configuration, clients, for enrichment-consumer the API key
  read from SSM; for Node and Python the interpreter and the handler module's imports);
- first_response_ms: from the same moment to its response to the event having arrived;
- init_cpu_ms: the process's CPU time (all threads) at its first `GET /next`;
- peak_rss_kib: the process's VmHWM after the response.
The process's stdout (logs, EMF) goes to /dev/null, its stderr to STDERR_FILE.
Prints one JSON line: {"function", "side", "starts": [{...}, ...]}.
"""

import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))
import runtime  # noqa: E402


def no_failures(doc):
    return doc.get("batchItemFailures") == []


def all_ok(doc, event):
    return [r.get("result") for r in doc["records"]] == ["Ok"] * len(event["records"])


CHECKS = {
    "kds-consumer": lambda doc, event: no_failures(doc),
    "stream-analytics": lambda doc, event: no_failures(doc),
    "enrichment-consumer": lambda doc, event: no_failures(doc),
    "firehose-transform": all_ok,
    "fare-api": lambda doc, event: doc.get("statusCode") == 200,
    "redrive": lambda doc, event: doc.get("failed") == 0,
    "scheduled-producer": lambda doc, event: doc.get("put") == event["records"] and doc.get("failed") == 0,
}


class OneEvent:
    total = 1

    def __init__(self, function, payload):
        self.function = function
        self.payload_bytes = payload
        self.event = json.loads(payload)

    def payload(self, index):
        return self.payload_bytes

    def answer(self, index, body):
        try:
            doc = json.loads(body)
            ok = CHECKS[self.function](doc, self.event)
        except (ValueError, KeyError, TypeError, AttributeError):
            ok = False
        if not ok:
            raise SystemExit(f"{self.function}: unexpected response {body[:500]!r}")


def main():
    function, side, event_path, starts, stderr_path = sys.argv[1:6]
    if sys.argv[6] != "--":
        raise SystemExit(__doc__)
    command = sys.argv[7:]
    payload = Path(event_path).read_bytes()
    samples = []
    with open(stderr_path, "ab") as stderr:
        for _ in range(int(starts)):
            run = runtime.serve(command, OneEvent(function, payload), function,
                                stdout=subprocess.DEVNULL, stderr=stderr)
            if run.failure:
                raise SystemExit(f"{function} ({side}): {run.failure} (stderr: {stderr_path})")
            samples.append({
                "first_next_ms": (run.next_wall_s[0] - run.started_s) * 1000,
                "first_response_ms": (run.posted_s[0] - run.started_s) * 1000,
                "init_cpu_ms": run.next_cpu_s[0] * 1000,
                "peak_rss_kib": run.peak_rss_kib,
            })
    print(json.dumps({"function": function, "side": side, "starts": samples}))


if __name__ == "__main__":
    main()
