"""A fault-injecting HTTP proxy in front of the emulator, for the fault run (soak.py).

Every client of the run (the producer, `kstream local up`, the functions it starts) reaches the
emulator through it. It forwards each request as it is and answers with the emulator's answer,
except:

- Kinesis PutRecords (``X-Amz-Target: Kinesis_20131202.PutRecords``, JSON 1.1), where, as Kinesis
  itself does under load or on an internal error:
  - per request, a fraction is answered ``400 ProvisionedThroughputExceededException`` or
    ``500 InternalFailure`` without reaching the emulator, and a fraction is forwarded (the
    records are stored) and then answered ``500 InternalFailure`` (the producer cannot know they
    were stored: it puts them again, so the stream holds duplicates, as on AWS);
  - per record, a fraction of the entries is taken out of the request before it is forwarded and
    answered in the response with ``ErrorCode`` ``ProvisionedThroughputExceededException`` or
    ``InternalFailure`` (never stored), the others with the emulator's result, in order, and
    ``FailedRecordCount`` counting both.
- an outage (``outage(seconds)``): the listener is closed and every open connection is cut, so
  clients get "connection refused" or a reset; after ``seconds`` the same port listens again.
  This is how the run makes "the emulator restarted" honest: moto keeps its state only in memory,
  so a real restart would lose every stream, queue and bucket of the deployment; an outage is
  what a client sees of a restart that keeps state.

Counts of what was injected are in ``stats``. Standard library only.
"""

from __future__ import annotations

import http.client
import json
import random
import socket
import socketserver
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler

HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "expect",  # answered here (BaseHTTPRequestHandler sends 100 Continue); the body is forwarded whole
}
PUT_RECORDS = "Kinesis_20131202.PutRecords"


class Faults:
    """Fractions of PutRecords requests and records that fail (each in [0, 1])."""

    def __init__(
        self,
        request_throttle=0.02,
        request_error=0.02,
        request_error_after_store=0.02,
        record_throttle=0.03,
        record_error=0.01,
    ):
        self.request_throttle = request_throttle
        self.request_error = request_error
        self.request_error_after_store = request_error_after_store
        self.record_throttle = record_throttle
        self.record_error = record_error


class _Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
    request_queue_size = 128

    def handle_error(self, request, client_address):
        # A connection cut by an outage (or by its client) ends its handler: nothing to report.
        pass


class FaultProxy:
    """The proxy: ``url`` to give clients, ``outage(seconds)``, ``stop()``, ``stats``."""

    def __init__(self, upstream: str, faults: Faults, seed: int = 0):
        parsed = urllib.parse.urlsplit(upstream)
        self.upstream = (parsed.hostname or "127.0.0.1", parsed.port or 80)
        self.faults = faults
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.stats = {
            "requests": 0,
            "put_records_requests": 0,
            "put_records_entries": 0,
            "request_throttled": 0,
            "request_internal_failure": 0,
            "request_failed_after_store": 0,
            "record_throttled": 0,
            "record_internal_failure": 0,
            "outages": 0,
            "connections_cut": 0,
        }
        self.connections: set[socket.socket] = set()
        self.port = 0
        self._server: _Server | None = None
        self._start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def count(self, key: str, n: int = 1) -> None:
        with self.lock:
            self.stats[key] += n

    def roll(self) -> float:
        with self.lock:
            return self.rng.random()

    def _start(self) -> None:
        proxy = self

        class Handler(_Handler):
            pass

        Handler.proxy = proxy
        server = _Server(("127.0.0.1", self.port), Handler)
        self.port = server.server_address[1]
        self._server = server
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()

    def _close(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        with self.lock:
            conns = list(self.connections)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.count("connections_cut", len(conns))

    def outage(self, seconds: float) -> None:
        """Nothing answers for ``seconds`` (connections refused, open ones cut)."""
        self.count("outages")
        self._close()
        time.sleep(seconds)
        for _ in range(50):
            try:
                self._start()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"the proxy could not listen on port {self.port} again")

    def stop(self) -> None:
        self._close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    proxy: FaultProxy

    def setup(self):
        super().setup()
        with self.proxy.lock:
            self.proxy.connections.add(self.connection)
        self.upstream: http.client.HTTPConnection | None = None

    def finish(self):
        try:
            super().finish()
        finally:
            with self.proxy.lock:
                self.proxy.connections.discard(self.connection)
            if self.upstream is not None:
                self.upstream.close()

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass

    def _body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _forward(self, body: bytes):
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        headers["Content-Length"] = str(len(body))
        for attempt in (1, 2):
            if self.upstream is None:
                self.upstream = http.client.HTTPConnection(*self.proxy.upstream, timeout=120)
            try:
                self.upstream.request(self.command, self.path, body=body, headers=headers)
                resp = self.upstream.getresponse()
                data = resp.read()
                return resp.status, resp.getheaders(), data
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # A kept-alive upstream connection the emulator closed: once more on a new one.
                self.upstream.close()
                self.upstream = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _reply(self, status: int, headers, body: bytes) -> None:
        self.send_response(status)
        length_sent = False
        for k, v in headers:
            kl = k.lower()
            if kl in HOP_BY_HOP:
                continue
            if kl == "content-length":
                if self.command == "HEAD":
                    self.send_header(k, v)
                    length_sent = True
                continue
            self.send_header(k, v)
        if not length_sent:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _error(self, status: int, kind: str, message: str) -> None:
        body = json.dumps({"__type": kind, "message": message}).encode()
        self._reply(status, [("Content-Type", "application/x-amz-json-1.1")], body)

    def _handle(self):
        self.proxy.count("requests")
        body = self._body()
        if self.headers.get("X-Amz-Target") == PUT_RECORDS:
            self._put_records(body)
            return
        status, headers, data = self._forward(body)
        self._reply(status, headers, data)

    def _put_records(self, body: bytes) -> None:
        p, f = self.proxy, self.proxy.faults
        p.count("put_records_requests")
        request = json.loads(body)
        entries = request.get("Records", [])
        p.count("put_records_entries", len(entries))
        r = p.roll()
        if r < f.request_throttle:
            p.count("request_throttled")
            self._error(400, "ProvisionedThroughputExceededException", "Rate exceeded for stream (injected by the soak proxy).")
            return
        if r < f.request_throttle + f.request_error:
            p.count("request_internal_failure")
            self._error(500, "InternalFailure", "Internal service failure (injected by the soak proxy).")
            return
        # Per record: which entries fail here, never reaching the emulator.
        verdicts = []
        for _ in entries:
            x = p.roll()
            if x < f.record_throttle:
                verdicts.append("ProvisionedThroughputExceededException")
            elif x < f.record_throttle + f.record_error:
                verdicts.append("InternalFailure")
            else:
                verdicts.append(None)
        forwarded = [e for e, v in zip(entries, verdicts) if v is None]
        results = []
        if forwarded:
            request["Records"] = forwarded
            status, headers, data = self._forward(json.dumps(request).encode())
            if status != 200:
                self._reply(status, headers, data)
                return
            results = json.loads(data)["Records"]
        if r < f.request_throttle + f.request_error + f.request_error_after_store:
            # Stored, but the producer is told otherwise: it puts them again.
            p.count("request_failed_after_store")
            self._error(500, "InternalFailure", "Internal service failure after storing (injected by the soak proxy).")
            return
        merged, failed, stored = [], 0, iter(results)
        for v in verdicts:
            if v is None:
                res = next(stored)
                failed += 1 if "ErrorCode" in res else 0
                merged.append(res)
                continue
            failed += 1
            if v == "InternalFailure":
                p.count("record_internal_failure")
                merged.append({"ErrorCode": v, "ErrorMessage": "Internal service failure (injected by the soak proxy)."})
            else:
                p.count("record_throttled")
                merged.append({"ErrorCode": v, "ErrorMessage": "Rate exceeded for shard (injected by the soak proxy)."})
        out = {"FailedRecordCount": failed, "Records": merged}
        self._reply(200, [("Content-Type", "application/x-amz-json-1.1")], json.dumps(out).encode())

    def do_GET(self):  # noqa: N802 - the base class's names
        self._handle()

    do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_GET
