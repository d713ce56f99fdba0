"""Checks kstream's SigV4-signed AWS requests against botocore, the AWS SDK for Python.

Usage: check_sigv4.py EXAMPLE_BINARY

Runs EXAMPLE_BINARY (crates/pipeline/examples/signed_requests.rs) with AWS_ENDPOINT_URL naming
a server on a free local port; the server reads each request (S3 PutObject, SSM GetParameter,
Secrets Manager GetSecretValue, Lambda Invoke: REST-JSON, an encoded ARN in the path), signs the same method, URL, body and headers again with
botocore at the request's own X-Amz-Date (S3SigV4Auth for S3: unnormalised path, payload hash
header; SigV4Auth for the JSON and REST-JSON services), and compares the signatures. It answers each request
as the service would, so the example's calls succeed. Fails on any mismatch, on a request
missing, or when the example fails.
"""

import datetime
import http.server
import json
import subprocess
import sys
import threading
from unittest import mock

from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

REGION = "eu-west-1"
CREDENTIALS = Credentials(
    "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "session-token"
)
# The headers the client sets and signs itself (host, x-amz-date and the token are added by
# the signers on both sides).
SIGNED = ("content-type", "x-amz-target", "x-amz-content-sha256", "x-amz-invocation-type")
ANSWERS = {
    "AmazonSSM.GetParameter": {"Parameter": {"Name": "/kstream/fare-api-key", "Value": "k"}},
    "secretsmanager.GetSecretValue": {"SecretString": "k"},
}

results = []


def botocore_signature(method, url, headers, body, service):
    """The Signature= part botocore computes for the request at its X-Amz-Date."""
    request = AWSRequest(
        method=method,
        url=url,
        data=body,
        headers={k: v for k, v in headers.items() if k in SIGNED},
    )
    signer = (S3SigV4Auth if service == "s3" else SigV4Auth)(CREDENTIALS, service, REGION)
    at = datetime.datetime.strptime(headers["x-amz-date"], "%Y%m%dT%H%M%SZ")
    with mock.patch("botocore.auth.datetime") as clock:
        clock.datetime.now.return_value = at.replace(tzinfo=datetime.timezone.utc)
        clock.datetime.utcnow.return_value = at
        clock.timezone = datetime.timezone
        signer.add_auth(request)
    return request.headers["Authorization"].split("Signature=")[1]


class Handler(http.server.BaseHTTPRequestHandler):
    """Checks and answers each request."""

    protocol_version = "HTTP/1.1"

    def handle_one(self):
        length = int(self.headers.get("content-length", 0))
        body = self.rfile.read(length)
        headers = {k.lower(): v for k, v in self.headers.items()}
        target = headers.get("x-amz-target")
        if target is None:
            service = "lambda" if self.path.startswith("/2015-03-31/functions/") else "s3"
        else:
            service = "ssm" if target.startswith("AmazonSSM") else "secretsmanager"

        url = f"http://{headers['host']}{self.path}"
        ours = headers.get("authorization", "").split("Signature=")[-1]
        theirs = botocore_signature(self.command, url, headers, body, service)
        results.append((service, self.command, self.path, ours == theirs, ours, theirs))
        answer = json.dumps(ANSWERS.get(target, {})).encode() if target or service == "lambda" else b""
        self.send_response(200)
        self.send_header("content-length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    do_PUT = handle_one
    do_POST = handle_one

    def log_message(self, *args):
        pass


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = {
        "PATH": "/usr/bin:/bin",
        "AWS_ACCESS_KEY_ID": CREDENTIALS.access_key,
        "AWS_SECRET_ACCESS_KEY": CREDENTIALS.secret_key,
        "AWS_SESSION_TOKEN": CREDENTIALS.token,
        "AWS_REGION": REGION,
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{server.server_address[1]}",
    }
    run = subprocess.run([sys.argv[1]], env=env, capture_output=True, text=True, timeout=60)
    server.shutdown()
    failed = run.returncode != 0
    if failed:
        print(f"the example failed ({run.returncode}): {run.stderr.strip()}")
    for service, method, path, match, ours, theirs in results:
        print(f"{'ok' if match else 'MISMATCH'}  {service:15} {method:4} {path}")
        if not match:
            print(f"    kstream  {ours}\n    botocore {theirs}")
            failed = True
    if sorted(r[0] for r in results) != ["lambda", "s3", "secretsmanager", "ssm"]:
        print(f"expected one request per service, got {[r[0] for r in results]}")
        failed = True
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
