"""moto_server.py's answer to a retried change (its module docs), on moto's own WSGI application
through werkzeug's test client: no server, no network. Run by scripts/test-emulator.sh.

    .venv/bin/python -m unittest scripts/lib/test_moto_server.py
"""

import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import moto_server  # noqa: E402  (patches moto on import)
from moto.moto_server.werkzeug_app import create_backend_app  # noqa: E402
from werkzeug.test import Client  # noqa: E402

AUTH = ("AWS4-HMAC-SHA256 Credential=test/20261206/us-east-1/apigateway/aws4_request, "
        "SignedHeaders=host, Signature=x")


class RetriedChanges(unittest.TestCase):
    def setUp(self) -> None:
        self.client = Client(moto_server._LoggingRetries(create_backend_app))

    def call(self, method: str, path: str, body: dict, attempt: str = "", invocation: str = ""):
        headers = {"Authorization": AUTH, "Content-Type": "application/json"}
        if attempt:
            headers["amz-sdk-request"] = attempt
        if invocation:
            headers["amz-sdk-invocation-id"] = invocation
        return self.client.open(path, method=method, data=json.dumps(body), headers=headers)

    @staticmethod
    def body(response) -> dict:
        return json.loads(response.get_data())

    def plan_with_a_stage(self) -> tuple[str, str]:
        api = self.body(self.call("POST", "/restapis", {"name": "t"}))["id"]
        root = self.body(self.call("GET", f"/restapis/{api}/resources", {}))["item"][0]["id"]
        self.call("PUT", f"/restapis/{api}/resources/{root}/methods/GET",
                  {"authorizationType": "NONE"})
        self.call("PUT", f"/restapis/{api}/resources/{root}/methods/GET/integration",
                  {"type": "MOCK"})
        self.call("POST", f"/restapis/{api}/deployments", {"stageName": "prod"})
        plan = self.call("POST", "/usageplans",
                         {"name": "p", "apiStages": [{"apiId": api, "stage": "prod"}]})
        return api, self.body(plan)["id"]

    def test_a_retry_of_a_change_that_succeeded_gets_its_answer(self) -> None:
        api, plan = self.plan_with_a_stage()
        remove = {"patchOperations": [{"op": "remove", "path": "/apiStages", "value": f"{api}:prod"}]}
        first = self.call("PATCH", f"/usageplans/{plan}", remove, "attempt=1; max=25", "inv-1")
        self.assertEqual(first.status_code, 200)
        again = self.call("PATCH", f"/usageplans/{plan}", remove, "attempt=2; max=25", "inv-1")
        self.assertEqual(again.status_code, 200)
        self.assertEqual(again.get_data(), first.get_data())
        # Another invocation is done again: moto fails removing a stage that is gone (a 500).
        try:
            status = self.call("PATCH", f"/usageplans/{plan}", remove, "attempt=2", "inv-2").status_code
        except ValueError:
            status = 500  # the test client raises what the server answers with a 500
        self.assertEqual(status, 500)

    def test_a_retry_of_a_failed_change_is_done_again(self) -> None:
        missing = self.call("PATCH", "/usageplans/nope", {"patchOperations": []}, "attempt=1",
                            "inv-3")
        self.assertGreaterEqual(missing.status_code, 400)
        _, plan = self.plan_with_a_stage()
        rename = {"patchOperations": [{"op": "replace", "path": "/name", "value": "q"}]}
        again = self.call("PATCH", f"/usageplans/{plan}", rename, "attempt=2", "inv-3")
        self.assertEqual(again.status_code, 200)
        self.assertEqual(self.body(again)["name"], "q")


if __name__ == "__main__":
    unittest.main()
