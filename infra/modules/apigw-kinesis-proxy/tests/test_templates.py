"""Renders the module's API Gateway mapping templates with a Velocity engine.

API Gateway evaluates request and response templates with Apache Velocity (VTL) plus its own
`$input`, `$util` and `$context` objects. This test renders templates/*.vtl with airspeed-ext (a
Velocity-compatible engine, the one LocalStack uses for API Gateway) and a small implementation of
those objects, and checks what Kinesis and the client would receive: valid JSON, the right fields,
and the status overrides of the error mapping.

Run: .venv/bin/python -m unittest infra/modules/apigw-kinesis-proxy/tests/test_templates.py
(scripts/test-terraform.sh runs it).
"""

import base64
import json
import re
import unittest
from pathlib import Path

import airspeed

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
STREAM = "kstream-test-stream"


def json_path(document, path):
    """Evaluates the JSONPath subset API Gateway templates use: $, $.a.b, $.a[0].b. None if absent."""
    if not path.startswith("$"):
        raise ValueError(f"not a JSONPath: {path}")
    value = document
    for name, index in re.findall(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]", path[1:]):
        if name:
            if not isinstance(value, dict) or name not in value:
                return None
            value = value[name]
        else:
            if not isinstance(value, list) or int(index) >= len(value):
                return None
            value = value[int(index)]
    return value


class Input:
    """$input: the request (or integration response) body."""

    def __init__(self, body):
        self._doc = json.loads(body) if body else {}

    def path(self, p):
        return json_path(self._doc, p)

    def json(self, p):
        return json.dumps(json_path(self._doc, p))


class Util:
    """$util."""

    def base64Encode(self, s):  # noqa: N802 (API Gateway's name)
        return base64.b64encode(str(s).encode("utf-8")).decode("ascii")


def render(template_name, body, stream_name=STREAM):
    """Renders a template as Terraform (templatefile) and then API Gateway would.

    Returns (text, context) where context["responseOverride"] holds any status override."""
    text = (TEMPLATES / template_name).read_text()
    # Terraform's templatefile(): the only interpolation the templates may use is ${stream_name}.
    leftovers = re.findall(r"\$\{(?!stream_name\})|%\{", text)
    assert not leftovers, f"{template_name}: Terraform template syntax other than ${{stream_name}}"
    text = text.replace("${stream_name}", stream_name)
    context = {"requestId": "req-1", "responseOverride": {}}
    out = airspeed.Template(text).merge({"input": Input(body), "util": Util(), "context": context})
    return out, context


# Every method call the templates make. A local executor must implement these; anything else
# (e.g. String.endsWith, which airspeed lacks and renders as truthy) is kept out on purpose.
ALLOWED_CALLS = {"input.path", "input.json", "util.base64Encode", "contains"}


class TemplateSyntax(unittest.TestCase):
    def test_only_known_methods_are_called(self):
        seen = set()
        for template in sorted(TEMPLATES.glob("*.vtl")):
            text = "\n".join(l for l in template.read_text().splitlines() if not l.lstrip().startswith("##"))
            for call in re.findall(r"\$!?\{?([A-Za-z_][\w.]*)\(", text):
                name = call if call.split(".")[0] in ("input", "util") else call.split(".")[-1]
                seen.add(name)
                with self.subTest(template=template.name, call=call):
                    self.assertIn(name, ALLOWED_CALLS)
        self.assertEqual(seen, ALLOWED_CALLS, "the scan must see the calls the templates make")


class RequestTemplates(unittest.TestCase):
    def test_put_record_stores_the_raw_data_string(self):
        data = '{"ticker":"AMZN","price":182.5}'
        out, _ = render("put-record.request.vtl", json.dumps({"data": data, "partitionKey": "AMZN"}))
        request = json.loads(out)
        self.assertEqual(request["StreamName"], STREAM)
        # The reference used $input.json here and stored the data with its JSON quotes.
        self.assertEqual(base64.b64decode(request["Data"]).decode(), data)
        self.assertEqual(request["PartitionKey"], "AMZN")

    def test_put_record_partition_key_cannot_break_the_json(self):
        key = 'a"b\\c\'d é'
        out, _ = render("put-record.request.vtl", json.dumps({"data": "x", "partitionKey": key}))
        self.assertEqual(json.loads(out)["PartitionKey"], key)

    def test_put_record_keeps_unicode_bytes(self):
        data = "prix 12 € — ok"
        out, _ = render("put-record.request.vtl", json.dumps({"data": data, "partitionKey": "k"}))
        self.assertEqual(base64.b64decode(json.loads(out)["Data"]).decode("utf-8"), data)

    def test_put_records_maps_every_record_in_order(self):
        records = [{"data": f'{{"n":{i}}}', "partitionKey": f'key"{i}'} for i in range(5)]
        out, _ = render("put-records.request.vtl", json.dumps({"records": records}))
        request = json.loads(out)
        self.assertEqual(request["StreamName"], STREAM)
        self.assertEqual(len(request["Records"]), 5)
        for sent, mapped in zip(records, request["Records"]):
            self.assertEqual(base64.b64decode(mapped["Data"]).decode(), sent["data"])
            self.assertEqual(mapped["PartitionKey"], sent["partitionKey"])

    def test_put_records_single_record(self):
        out, _ = render("put-records.request.vtl", json.dumps({"records": [{"data": "x", "partitionKey": "k"}]}))
        self.assertEqual(json.loads(out)["Records"], [{"Data": "eA==", "PartitionKey": "k"}])


class ResponseTemplates(unittest.TestCase):
    def test_put_record_success(self):
        body = {"SequenceNumber": "4963", "ShardId": "shardId-000000000001", "EncryptionType": "KMS"}
        out, ctx = render("put-record.response.vtl", json.dumps(body))
        self.assertEqual(json.loads(out), {"SequenceNumber": "4963", "ShardId": "shardId-000000000001"})
        self.assertEqual(ctx["responseOverride"], {})

    def test_put_records_partial_failure_is_reported(self):
        body = {
            "FailedRecordCount": 1,
            "Records": [
                {"SequenceNumber": "1", "ShardId": "shardId-000000000000"},
                {"ErrorCode": "ProvisionedThroughputExceededException", "ErrorMessage": 'Rate exceeded for "shard"'},
            ],
            "EncryptionType": "KMS",
        }
        out, ctx = render("put-records.response.vtl", json.dumps(body))
        response = json.loads(out)
        self.assertEqual(response["FailedRecordCount"], 1)
        self.assertEqual(response["Records"], body["Records"])
        self.assertEqual(ctx["responseOverride"], {})

    def client_error(self, body):
        out, ctx = render("client-error.response.vtl", json.dumps(body))
        return json.loads(out), ctx["responseOverride"].get("status")

    def test_throttling_becomes_429_with_kinesis_message(self):
        for error_type in [
            "ProvisionedThroughputExceededException",
            "ThrottlingException",
            "KMSThrottlingException",
            "LimitExceededException",
        ]:
            with self.subTest(error_type=error_type):
                body, status = self.client_error({"__type": error_type, "message": "Rate exceeded for shard"})
                self.assertEqual(status, 429)
                self.assertEqual(body["message"], "Rate exceeded for shard")
                self.assertEqual(body["type"], error_type)
                self.assertEqual(body["requestId"], "req-1")

    def test_client_errors_stay_400_with_kinesis_message(self):
        msg = "1 validation error detected: Value at 'data' failed to satisfy constraint: \"length <= 1048576\""
        body, status = self.client_error({"__type": "ValidationException", "message": msg})
        self.assertIsNone(status)
        self.assertEqual(body["message"], msg)

    def test_setup_errors_become_500_without_details(self):
        for error in [
            {"__type": "AccessDeniedException", "Message": "User arn:aws:sts::123456789012:assumed-role/x is not authorized"},
            {"__type": "ResourceNotFoundException", "message": "Stream s under account 123456789012 not found."},
            {"__type": "KMSAccessDeniedException", "message": "key arn:aws:kms:..."},
            {"__type": "com.amazon.coral.service#AccessDeniedException", "Message": "denied"},
        ]:
            with self.subTest(error=error["__type"]):
                body, status = self.client_error(error)
                self.assertEqual(status, 500)
                self.assertEqual(body["message"], "The stream proxy is misconfigured")
                self.assertNotIn("123456789012", json.dumps(body))

    def test_error_without_message_or_type(self):
        body, status = self.client_error({})
        self.assertIsNone(status)
        self.assertEqual(body, {"message": "Kinesis rejected the request", "type": "", "requestId": "req-1"})

    def test_server_error(self):
        out, ctx = render("server-error.response.vtl", json.dumps({"__type": "InternalFailure", "message": "oops"}))
        self.assertEqual(json.loads(out), {"message": "oops", "type": "InternalFailure", "requestId": "req-1"})
        self.assertEqual(ctx["responseOverride"], {})
        out, _ = render("server-error.response.vtl", "")
        self.assertEqual(json.loads(out)["message"], "Kinesis is unavailable, retry with backoff")


if __name__ == "__main__":
    unittest.main()
