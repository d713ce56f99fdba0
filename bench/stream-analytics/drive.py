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
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

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

    def payload(self):
        event = dict(self.events[self.index % len(self.events)])
        event["state"] = self.state
        return json.dumps(event, separators=(",", ":")).encode()

    def answer(self, body):
        """Checks the response to invoke `index` and moves on."""
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


def peak_rss_kib(pid="self"):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise SystemExit("no VmHWM in /proc/<pid>/status")


def process_cpu_s(pid):
    """Another process's CPU time, all threads (the Linux process CPU clock of `pid`)."""
    return time.clock_gettime(((~pid) << 3) | 2)


def run_python(workload_path, warmup, windows):
    import types

    import analytics

    plan = Plan(workload_path, warmup, windows)
    cpu = 0.0
    while plan.index < plan.total:
        payload = plan.payload()
        context = types.SimpleNamespace(
            function_name="stream-analytics-python", function_version="$LATEST",
            aws_request_id=f"bench-{plan.index}", memory_limit_in_mb=512,
            invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:stream-analytics-python",
            log_group_name="/aws/lambda/stream-analytics-python", log_stream_name="bench",
        )
        start, wall = time.process_time(), time.perf_counter()
        response = json.dumps(analytics.handler(json.loads(payload), context)).encode()
        spent = time.process_time() - start
        plan.took(plan.index, time.perf_counter() - wall)
        if plan.index >= plan.warmup_invokes:
            cpu += spent
        plan.spent(plan.index, spent)
        plan.answer(response)
    with os.fdopen(3, "w") as out:
        out.write(json.dumps(plan.result("python", cpu, peak_rss_kib())) + "\n")


def run_rust(binary, workload_path, warmup, windows):
    plan = Plan(workload_path, warmup, windows)
    lock = threading.Lock()
    done = threading.Event()
    marks = {}
    failure = []
    proc = None

    class Api(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def body(self):
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                data = b""
                while True:
                    size = int(self.rfile.readline().split(b";")[0], 16)
                    chunk = self.rfile.read(size + 2)
                    if size == 0:
                        return data
                    data += chunk[:-2]
            return self.rfile.read(int(self.headers.get("Content-Length", 0)))

        def reply(self, status, body=b"", headers=()):
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            if self.path != "/2018-06-01/runtime/invocation/next":
                return self.reply(404)
            with lock:
                now = process_cpu_s(proc.pid)
                if "last" in marks and marks["last"][0] == plan.index - 1:
                    plan.spent(plan.index - 1, now - marks["last"][1])
                marks["last"] = (plan.index, now)
                if plan.index == plan.warmup_invokes:
                    marks["cpu0"] = now
                if plan.index == plan.total:
                    marks["cpu1"] = now
                    marks["rss"] = peak_rss_kib(proc.pid)
                    done.set()
                    payload = None
                else:
                    payload = plan.payload()
                    request_id = f"bench-{plan.index}"
            if payload is None:
                time.sleep(3600)  # the process is killed before this answers
                return None
            deadline = str(int(time.time() * 1000) + 60_000)
            marks["delivered"] = (request_id, time.monotonic())
            return self.reply(200, payload, [
                ("Lambda-Runtime-Aws-Request-Id", request_id),
                ("Lambda-Runtime-Deadline-Ms", deadline),
                ("Lambda-Runtime-Invoked-Function-Arn",
                 "arn:aws:lambda:us-east-1:123456789012:function:stream-analytics"),
                ("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000"),
            ])

        def do_POST(self):
            body = self.body()
            posted = time.monotonic()
            parts = self.path.split("/")
            if self.path.endswith("/response") and parts[-2] == f"bench-{plan.index}":
                with lock:
                    delivered = marks.get("delivered")
                    if delivered and delivered[0] == parts[-2]:
                        plan.took(plan.index, posted - delivered[1])
                    try:
                        plan.answer(body)
                    except SystemExit as e:
                        failure.append(str(e))
                        done.set()
                return self.reply(202, b'{"status":"OK"}')
            failure.append(f"{self.path}: {body[:2000].decode(errors='replace')}")
            done.set()
            return self.reply(202, b'{"status":"OK"}')

    server = ThreadingHTTPServer(("127.0.0.1", 0), Api)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = dict(os.environ)
    env.update({
        "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{server.server_address[1]}",
        "AWS_LAMBDA_FUNCTION_NAME": "stream-analytics",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
        "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/stream-analytics",
        "AWS_LAMBDA_LOG_STREAM_NAME": "bench",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
    })
    proc = subprocess.Popen([binary], env=env, stdout=subprocess.DEVNULL)
    while not done.wait(0.2):
        if proc.poll() is not None:
            failure.append(f"the function exited with {proc.returncode}")
            break
    proc.kill()
    proc.wait()
    server.shutdown()
    if failure:
        raise SystemExit(f"rust: {failure[0]}")
    print(json.dumps(plan.result("rust", marks["cpu1"] - marks["cpu0"], marks["rss"])))


def main():
    if sys.argv[1] == "rust":
        run_rust(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
    elif sys.argv[1] == "python":
        run_python(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
