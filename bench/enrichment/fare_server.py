#!/usr/bin/env python3
"""The fare endpoint both sides of the enrichment benchmark call: one local HTTP/1.1 server,
so that it is the same for both and not what is measured.

    fare_server.py PORT LATENCY_MS API_KEY

It stands where API Gateway and the fare Lambda stand in pattern 4 and answers as they would:
`GET /{stage}/predictFare?ride_request_id=N` with `Host: {api}.execute-api.{region}.amazonaws.com`
answers `{"ride_request_id":N,"expected_fare":F}`, F the reference's formula
(patterns-2-4.md section 5: pseudoRandom = (e * id) % 1, ...), after LATENCY_MS. Before that,
as API Gateway with `AWS_IAM` and `api_key_required`, every request must carry:
- `x-api-key` equal to API_KEY (else 403 `{"message":"Forbidden"}`);
- an `Authorization: AWS4-HMAC-SHA256` signature for `execute-api` in the host's region, by the
  access key in AWS_ACCESS_KEY_ID, with `host` and `x-api-key` among the signed headers,
  `x-amz-date` within 15 minutes, and a signature that verifies with AWS_SECRET_ACCESS_KEY
  (else 403 with the reason): both sides must really sign.
A missing, zero or non-numeric id answers 400 `Missing ride_request_id`, as the reference.

asyncio with a small keep-alive HTTP/1.1 parser (GET only, no bodies): one process, one
thread. It prints `ready PORT` once listening; on SIGTERM it prints its counts and exits.
"""

import asyncio
import datetime
import hashlib
import hmac
import json
import math
import os
import re
import signal
import sys
from urllib.parse import parse_qsl, quote, urlsplit

HOST = re.compile(r"^[a-z0-9]+\.execute-api\.([a-z0-9-]+)\.amazonaws\.com$")
AUTH = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request,\s*"
    r"SignedHeaders=([a-z0-9;-]+),\s*Signature=([0-9a-f]{64})$"
)
LEADING_NUMBER = re.compile(r"^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
MAX_SKEW = datetime.timedelta(minutes=15)
MAX_HEAD = 16 * 1024

counts = {"ok": 0, "bad_request": 0, "forbidden": 0}


def fare_body(raw_id):
    """The reference's answer for `ride_request_id` raw_id, or None (400)."""
    match = LEADING_NUMBER.match(raw_id or "")  # JavaScript's parseFloat, leniently
    if not match:
        return None
    rid = float(match.group(0))
    if rid == 0 or math.isnan(rid):
        return None
    pseudo_random = math.fmod(math.e * rid, 1.0)  # JavaScript's %: the sign of the dividend
    noise_factor = 1 + (pseudo_random * 0.4) - 0.2
    random_fare = math.floor(pseudo_random * (100 - 10 + 1) + 10)
    shown = int(rid) if rid.is_integer() else rid  # JSON.stringify prints 123, not 123.0
    return json.dumps({"ride_request_id": shown, "expected_fare": random_fare * noise_factor},
                      separators=(",", ":"))


class Signer:
    """Verifies SigV4 for execute-api with the one known access key."""

    def __init__(self, access_key, secret_key):
        self.access_key = access_key
        self.secret = secret_key
        self.keys = {}

    def signing_key(self, day, region, service):
        key = (day, region, service)
        if key not in self.keys:
            k = hmac.new(("AWS4" + self.secret).encode(), day.encode(), hashlib.sha256).digest()
            for part in (region, service, "aws4_request"):
                k = hmac.new(k, part.encode(), hashlib.sha256).digest()
            self.keys[key] = k
        return self.keys[key]

    def check(self, path, query, headers, region):
        """None when the request is signed as API Gateway requires, else the reason."""
        auth = headers.get("authorization")
        if not auth:
            return "Missing Authentication Token"
        m = AUTH.match(auth)
        if not m:
            return "Authorization header is not AWS4-HMAC-SHA256 with Credential, SignedHeaders, Signature"
        access_key, day, scope_region, service, signed, signature = m.groups()
        if access_key != self.access_key:
            return "The security token included in the request is invalid"
        if service != "execute-api" or scope_region != region:
            return f"Credential should be scoped to a valid region/service, not {scope_region}/{service}"
        names = signed.split(";")
        if "host" not in names or "x-api-key" not in names:
            return f"host and x-api-key must be signed (SignedHeaders={signed})"
        amz_date = headers.get("x-amz-date", "")
        try:
            when = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
        except ValueError:
            return "x-amz-date is missing or malformed"
        if amz_date[:8] != day or abs(datetime.datetime.now(datetime.timezone.utc) - when) > MAX_SKEW:
            return "Signature expired or not yet current"
        if "x-amz-security-token" in headers and "x-amz-security-token" not in names:
            return "x-amz-security-token must be signed"
        canonical_query = "&".join(
            f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}"
            for k, v in sorted(parse_qsl(query, keep_blank_values=True))
        )
        canonical_headers = "".join(
            f"{n}:{' '.join(headers.get(n, '').split())}\n" for n in names
        )
        payload = headers.get("x-amz-content-sha256", EMPTY_SHA256)
        canonical = "\n".join(["GET", quote(path, safe="/-_.~"), canonical_query,
                               canonical_headers, signed, payload])
        to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, f"{day}/{region}/{service}/aws4_request",
                             hashlib.sha256(canonical.encode()).hexdigest()])
        expected = hmac.new(self.signing_key(day, region, service), to_sign.encode(),
                            hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, signature):
            return "The request signature we calculated does not match the signature you provided"
        return None


class FareProtocol(asyncio.Protocol):
    """One keep-alive connection; answers leave in request order."""

    def __init__(self, server):
        self.server = server
        self.buffer = b""
        self.pending = []  # [ready, bytes] in request order
        self.transport = None
        self.close_after = False

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(self.buffer) > MAX_HEAD:
                    self.transport.close()
                return
            head, self.buffer = self.buffer[:end].decode("latin-1"), self.buffer[end + 4:]
            lines = head.split("\r\n")
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            length = int(headers.get("content-length", "0") or 0)
            if length:
                self.buffer = self.buffer[length:]  # a GET has none; ignore it if sent
            if headers.get("connection", "").lower() == "close":
                self.close_after = True
            self.answer(lines[0], headers)

    def answer(self, request_line, headers):
        status, body, kind = self.server.handle(request_line, headers)
        reason = {200: "OK", 400: "Bad Request", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed"}[status]
        body = body.encode()
        raw = (f"HTTP/1.1 {status} {reason}\r\nContent-Type: {kind}\r\n"
               f"Content-Length: {len(body)}\r\n\r\n").encode() + body
        slot = [False, raw]
        self.pending.append(slot)
        if self.server.latency_s > 0:
            asyncio.get_running_loop().call_later(self.server.latency_s, self.ready, slot)
        else:
            self.ready(slot)

    def ready(self, slot):
        slot[0] = True
        while self.pending and self.pending[0][0]:
            if not self.transport.is_closing():
                self.transport.write(self.pending.pop(0)[1])
            else:
                self.pending.pop(0)
        if self.close_after and not self.pending:
            self.transport.close()


class FareServer:
    def __init__(self, latency_ms, api_key, signer):
        self.latency_s = latency_ms / 1000
        self.api_key = api_key
        self.signer = signer

    def handle(self, request_line, headers):
        parts = request_line.split(" ")
        if len(parts) != 3:
            return 400, "bad request line", "text/plain"
        method, target, _ = parts
        url = urlsplit(target)
        if not url.path.endswith("/predictFare"):
            return 404, '{"message":"Missing Authentication Token"}', "application/json"
        if method != "GET":
            return 405, '{"message":"Method Not Allowed"}', "application/json"
        host = HOST.match(headers.get("host", ""))
        if not host:
            return 403, '{"message":"Host is not {api}.execute-api.{region}.amazonaws.com"}', "application/json"
        if headers.get("x-api-key") != self.api_key:
            counts["forbidden"] += 1
            return 403, '{"message":"Forbidden"}', "application/json"
        why = self.signer.check(url.path, url.query, headers, host.group(1))
        if why:
            counts["forbidden"] += 1
            return 403, json.dumps({"message": why}), "application/json"
        raw_id = dict(parse_qsl(url.query, keep_blank_values=True)).get("ride_request_id")
        body = fare_body(raw_id)
        if body is None:
            counts["bad_request"] += 1
            return 400, "Missing ride_request_id", "text/plain"
        counts["ok"] += 1
        return 200, body, "application/json"


async def main():
    port, latency_ms, api_key = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
    signer = Signer(os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"])
    app = FareServer(latency_ms, api_key, signer)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: FareProtocol(app), "127.0.0.1", port, backlog=256)
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    print(f"ready {server.sockets[0].getsockname()[1]}", flush=True)
    await stop.wait()
    server.close()
    print(json.dumps(counts), flush=True)


if __name__ == "__main__":
    # The reference's samples (patterns-2-4.md section 5), checked at every start.
    assert fare_body("123") == '{"ride_request_id":123,"expected_fare":38.518104367585856}', fare_body("123")
    assert fare_body("20") == '{"ride_request_id":20,"expected_fare":40.68894898991148}'
    assert fare_body("1000") == '{"ride_request_id":1000,"expected_fare":31.945598426634206}'
    assert fare_body("0") is None and fare_body("abc") is None and fare_body("") is None
    asyncio.run(main())
