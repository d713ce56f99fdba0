"""Measurement pieces shared by the benchmark suites that run a Lambda handler (stream-analytics,
enrichment, kds-consumer): a minimal Lambda Runtime API serving one child process, another
process's CPU clock and peak RSS, and a Python handler called in this process as the Python
runtime calls it.

A suite's drive.py imports it as `runtime` after putting bench/lib on sys.path.

- `serve(command, invocations, function)`: serves `/2018-06-01/runtime/invocation/...` on
  127.0.0.1, starts COMMAND against it (AWS_LAMBDA_RUNTIME_API and the Lambda variables set,
  the rest of the environment as given) and hands it `invocations.total` events, one at a time,
  in order: the process receives each over HTTP, parses it, handles it and posts the response
  itself, as on Lambda. For every `GET /next` (index i: the request for invoke i; index `total`:
  the request after the last response) it notes the process's CPU clock (all threads) and the
  time; for every invoke the time its event was handed out and the time its response was read.
  The request after the last response is held until the process is killed; then its peak RSS
  has been noted. A POST to anything but the current invoke's `/response` (an `/error`, an
  `/init/error`), a failed check of a response, or the process exiting ends the run with
  `Run.failure` set.
- `process_cpu_s(pid)`, `peak_rss_kib(pid)`: from outside, Linux only.
- `call_as_python_runtime(handler, payload, context)`: `json.loads` of the event bytes (Lambda
  parses the event before a Python handler runs), the handler, `json.dumps` of its result, with
  the process CPU time and the wall time they took.
"""

import json
import os
import subprocess
import threading
import time
import types
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

RUNTIME = "/2018-06-01/runtime"
ACCOUNT = "123456789012"


def peak_rss_kib(pid="self"):
    """The process's peak resident set size (VmHWM), in KiB."""
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise SystemExit("no VmHWM in /proc/<pid>/status")


def process_cpu_s(pid):
    """Another process's CPU time, all threads (the Linux process CPU clock of `pid`)."""
    return time.clock_gettime(((~pid) << 3) | 2)


def lambda_context(function, request_id, memory_mb=512):
    """The context object a Python handler gets (the fields the benchmarks' handlers read)."""
    return types.SimpleNamespace(
        function_name=function, function_version="$LATEST", aws_request_id=request_id,
        memory_limit_in_mb=memory_mb,
        invoked_function_arn=f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{function}",
        log_group_name=f"/aws/lambda/{function}", log_stream_name="bench",
        get_remaining_time_in_millis=lambda: 60_000,
    )


def call_as_python_runtime(handler, payload, context):
    """(response bytes, CPU seconds, wall seconds) of one invoke as the Python runtime makes it."""
    wall = time.perf_counter()
    cpu = time.process_time()
    response = json.dumps(handler(json.loads(payload), context)).encode()
    return response, time.process_time() - cpu, time.perf_counter() - wall


@dataclass
class Run:
    """What `serve` saw. Index i of `next_cpu_s` / `next_wall_s` is the `GET /next` asking for
    invoke i (index `total` the one after the last response); `delivered_s[i]` / `posted_s[i]`
    the monotonic times invoke i's event was handed out and its response read; `started_s` the
    monotonic time just before the process was started (fork/exec)."""

    started_s: float = 0.0
    next_cpu_s: list = field(default_factory=list)
    next_wall_s: list = field(default_factory=list)
    delivered_s: list = field(default_factory=list)
    posted_s: list = field(default_factory=list)
    peak_rss_kib: int = 0
    failure: str = ""

    def cpu_s(self, first, end):
        """CPU seconds the process spent on invokes [first, end)."""
        return self.next_cpu_s[end] - self.next_cpu_s[first]

    def wall_s(self, first, end):
        return self.next_wall_s[end] - self.next_wall_s[first]

    def invoke_wall_s(self, index):
        """Event handed out → response read, for invoke `index` (what Lambda bills)."""
        return self.posted_s[index] - self.delivered_s[index]


def _read_body(handler):
    if handler.headers.get("Transfer-Encoding", "").lower() == "chunked":
        data = b""
        while True:
            size = int(handler.rfile.readline().split(b";")[0], 16)
            chunk = handler.rfile.read(size + 2)
            if size == 0:
                return data
            data += chunk[:-2]
    return handler.rfile.read(int(handler.headers.get("Content-Length", 0)))


def _reply(handler, status, body=b"", headers=()):
    handler.send_response(status)
    for name, value in headers:
        handler.send_header(name, value)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def serve(command, invocations, function, *, stdout=subprocess.DEVNULL, stderr=None, memory_mb=512):
    """Runs COMMAND against a local Runtime API for `invocations.total` invokes; returns a `Run`.

    `invocations` gives `total`, `payload(index) -> bytes` (asked when invoke `index` is handed
    out, after the response to the previous one was checked) and `answer(index, body)` (the
    response's bytes; raising SystemExit fails the run with its message). An optional
    `on_next(index)` is called at every `GET /next`, under the same lock, right after the CPU
    clock was read."""
    run = Run(delivered_s=[0.0] * invocations.total, posted_s=[0.0] * invocations.total)
    lock = threading.Lock()
    done = threading.Event()
    started = threading.Event()  # `proc` is set: the process can ask before Popen returns here
    state = {"index": 0}
    proc = None
    on_next = getattr(invocations, "on_next", None)

    def fail(message):
        if not run.failure:
            run.failure = message
        done.set()

    class Api(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Buffered replies, flushed once the request is handled: a small reply's head and body
        # go out in one write, as Lambda's Runtime API (Go's net/http) sends them. Unbuffered
        # (socketserver's default), the 202's body `{"status":"OK"}` followed its head in a
        # second segment; lambda_runtime drops that body unread, hyper can only drain it if it
        # has already arrived, so it closed the connection and the Rust functions opened a new
        # one for every invoke (bench/README.md, kds-consumer).
        wbufsize = -1

        def log_message(self, *args):
            pass

        def do_GET(self):
            if self.path != f"{RUNTIME}/invocation/next":
                return _reply(self, 404)
            started.wait()
            with lock:
                index = state["index"]
                run.next_cpu_s.append(process_cpu_s(proc.pid))
                run.next_wall_s.append(time.monotonic())
                if on_next is not None:
                    on_next(index)
                if index == invocations.total:
                    run.peak_rss_kib = peak_rss_kib(proc.pid)
                    done.set()
                    payload = None
                else:
                    payload = invocations.payload(index)
            if payload is None:
                time.sleep(3600)  # the process is killed before this answers
                return None
            deadline = str(int(time.time() * 1000) + 60_000)
            run.delivered_s[index] = time.monotonic()
            return _reply(self, 200, payload, [
                ("Lambda-Runtime-Aws-Request-Id", f"bench-{index}"),
                ("Lambda-Runtime-Deadline-Ms", deadline),
                ("Lambda-Runtime-Invoked-Function-Arn",
                 f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{function}"),
                ("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000"),
            ])

        def do_POST(self):
            body = _read_body(self)
            posted = time.monotonic()
            with lock:
                index = state["index"]
                if self.path == f"{RUNTIME}/invocation/bench-{index}/response":
                    run.posted_s[index] = posted
                    try:
                        invocations.answer(index, body)
                    except SystemExit as e:
                        fail(str(e))
                    state["index"] = index + 1
                else:
                    fail(f"{self.path}: {body[:2000].decode(errors='replace')}")
            return _reply(self, 202, b'{"status":"OK"}')

    class Server(ThreadingHTTPServer):
        daemon_threads = True

        def handle_error(self, request, client_address):
            if not done.is_set():  # after the end, the killed process's connection resets
                super().handle_error(request, client_address)

    server = Server(("127.0.0.1", 0), Api)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    # Lambda's environment has no SSL_CERT_DIR / SSL_CERT_FILE / NODE_EXTRA_CA_CERTS (not among
    # the variables its runtimes set); a machine's (this one sets SSL_CERT_DIR=/etc/ssl/certs)
    # would make a function that loads the system's roots read every file of that directory at
    # init, and Node read an extra bundle.
    unset = ("SSL_CERT_DIR", "SSL_CERT_FILE", "NODE_EXTRA_CA_CERTS")
    env = {k: v for k, v in os.environ.items() if k not in unset}
    env.update({
        "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{server.server_address[1]}",
        "AWS_LAMBDA_FUNCTION_NAME": function,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory_mb),
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function}",
        "AWS_LAMBDA_LOG_STREAM_NAME": "bench",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
    })
    run.started_s = time.monotonic()
    proc = subprocess.Popen(command, env=env, stdout=stdout, stderr=stderr)
    started.set()
    while not done.wait(0.2):
        if proc.poll() is not None:
            fail(f"the function exited with {proc.returncode}")
            break
    proc.kill()
    proc.wait()
    server.shutdown()
    return run
