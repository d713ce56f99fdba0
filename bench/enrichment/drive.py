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
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def peak_rss_kib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise SystemExit("no VmHWM in /proc/<pid>/status")


def process_cpu_s(pid):
    """Another process's CPU time, all threads (the Linux process CPU clock of `pid`)."""
    return time.clock_gettime(((~pid) << 3) | 2)


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

    lock = threading.Lock()
    done = threading.Event()
    state = {"index": 0}
    marks = {}
    batch_wall_ms = []
    failure = []
    proc = None
    function = f"enrichment-consumer-{side}"

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
                index = state["index"]
                if index == warmup:
                    marks["start"] = (process_cpu_s(proc.pid), time.monotonic(), os.path.getsize(stdout_path))
                if index == total:
                    marks["end"] = (process_cpu_s(proc.pid), time.monotonic(), os.path.getsize(stdout_path))
                    marks["rss"] = peak_rss_kib(proc.pid)
                    done.set()
            if index == total:
                time.sleep(3600)  # the process is killed before this answers
                return None
            deadline = str(int(time.time() * 1000) + 60_000)
            marks["delivered"] = (index, time.monotonic())
            return self.reply(200, payloads[index], [
                ("Lambda-Runtime-Aws-Request-Id", f"bench-{index}"),
                ("Lambda-Runtime-Deadline-Ms", deadline),
                ("Lambda-Runtime-Invoked-Function-Arn",
                 f"arn:aws:lambda:us-east-1:123456789012:function:{function}"),
                ("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000"),
            ])

        def do_POST(self):
            body = self.body()
            posted = time.monotonic()
            with lock:
                index = state["index"]
                if self.path == f"/2018-06-01/runtime/invocation/bench-{index}/response":
                    if index >= warmup and marks.get("delivered", (None,))[0] == index:
                        batch_wall_ms.append(1000 * (posted - marks["delivered"][1]))
                    response = json.loads(body)
                    if response != {"batchItemFailures": []}:
                        failure.append(f"invoke {index}: {body[:2000].decode(errors='replace')}")
                        done.set()
                    state["index"] = index + 1
                else:
                    failure.append(f"{self.path}: {body[:2000].decode(errors='replace')}")
                    done.set()
            return self.reply(202, b'{"status":"OK"}')

    class Server(ThreadingHTTPServer):
        daemon_threads = True

        def handle_error(self, request, client_address):
            if not done.is_set():  # after the end, the killed process's connection resets
                super().handle_error(request, client_address)

    server = Server(("127.0.0.1", 0), Api)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = dict(os.environ)
    env.update({
        "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{server.server_address[1]}",
        "AWS_LAMBDA_FUNCTION_NAME": function,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function}",
        "AWS_LAMBDA_LOG_STREAM_NAME": "bench",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
    })
    with open(stdout_path, "wb") as stdout, open(stdout_path + ".err", "wb") as stderr:
        proc = subprocess.Popen(command, env=env, stdout=stdout, stderr=stderr)
        while not done.wait(0.2):
            if proc.poll() is not None:
                failure.append(f"the function exited with {proc.returncode}")
                break
        proc.kill()
        proc.wait()
    server.shutdown()
    if failure:
        raise SystemExit(f"{side} {label}: {failure[0]} (its output: {stdout_path} and .err)")
    (cpu0, wall0, out0), (cpu1, wall1, out1) = marks["start"], marks["end"]
    values = latencies(stdout_path, out0, out1)
    sampled = sum(s for _, s in measured)
    if len(values) < sampled:
        raise SystemExit(f"{side} {label}: {len(values)} CallLatency values for {sampled} sampled trips")
    print(json.dumps({
        "side": side,
        "label": label,
        "trips": sum(t for t, _ in measured),
        "sampled": sampled,
        "invokes": batches,
        "cpu_s": cpu1 - cpu0,
        "wall_s": wall1 - wall0,
        "batch_wall_ms": batch_wall_ms,
        "peak_rss_kib": marks["rss"],
        "latencies_ms": values,
    }))


if __name__ == "__main__":
    main()
