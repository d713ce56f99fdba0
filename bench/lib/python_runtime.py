"""A minimal Lambda Runtime API client for the Python peers, doing what the python3.11 runtime
does for a handler module: import it (its top-level code is the cold start), then loop: GET
/runtime/invocation/next, `json.loads` the event, call handler(event, context), POST the
`json.dumps`'d result to /response (or the error to /error). A failed import is posted to
/runtime/init/error and exits 1.

    AWS_LAMBDA_RUNTIME_API=host:port python python_runtime.py HANDLER_FILE.py [HANDLER_NAME]

The managed runtime's own start-up (its bootstrap, awslambdaric) is not in here: a cold start
measured through this client is the interpreter, the handler module's imports and its
top-level code, and the loop.
"""

import http.client
import importlib.util
import json
import os
import sys
import time
import traceback
import types

BASE = "/2018-06-01/runtime"


def failure(error):
    return json.dumps({"errorType": type(error).__name__, "errorMessage": str(error)}).encode()


def main():
    path = os.path.abspath(sys.argv[1])
    name = sys.argv[2] if len(sys.argv) > 2 else "handler"
    host, port = os.environ["AWS_LAMBDA_RUNTIME_API"].split(":")
    api = http.client.HTTPConnection(host, int(port))

    def exchange(method, route, body=None):
        api.request(method, BASE + route, body=body,
                    headers={"Content-Type": "application/json"} if body is not None else {})
        response = api.getresponse()
        return response.headers, response.read()

    try:
        sys.path.insert(0, os.path.dirname(path))
        spec = importlib.util.spec_from_file_location(os.path.splitext(os.path.basename(path))[0], path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        handler = getattr(module, name)
    except Exception as error:  # the init error goes to the Runtime API, as the runtime does
        traceback.print_exc()
        exchange("POST", "/init/error", failure(error))
        sys.exit(1)

    while True:
        headers, body = exchange("GET", "/invocation/next")
        request_id = headers["Lambda-Runtime-Aws-Request-Id"]
        deadline_ms = int(headers["Lambda-Runtime-Deadline-Ms"])
        context = types.SimpleNamespace(
            aws_request_id=request_id,
            function_name=os.environ.get("AWS_LAMBDA_FUNCTION_NAME"),
            function_version=os.environ.get("AWS_LAMBDA_FUNCTION_VERSION"),
            invoked_function_arn=headers.get("Lambda-Runtime-Invoked-Function-Arn"),
            memory_limit_in_mb=int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")),
            log_group_name=os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME"),
            log_stream_name=os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME"),
            get_remaining_time_in_millis=lambda: deadline_ms - int(time.time() * 1000),
        )
        try:
            result = json.dumps(handler(json.loads(body), context)).encode()
        except Exception as error:
            traceback.print_exc()
            exchange("POST", f"/invocation/{request_id}/error", failure(error))
            continue
        exchange("POST", f"/invocation/{request_id}/response", result)


if __name__ == "__main__":
    main()
