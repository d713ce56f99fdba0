"""The emulator process: moto's server with its Kinesis shard made safe for concurrent callers.

scripts/emulator.sh starts this instead of `moto_server` (same arguments). moto 5.2's
`Shard.put_record` says of itself "this function is not safe for concurrency": it reads the
shard's last sequence number and stores the record under that number plus one, and moto's server
answers requests on threads. Two PutRecords on one shard at once (a producer's parallel requests,
or a retry while the timed-out request still runs) got the same sequence number and the second
record replaced the first: acknowledged to the caller, then lost (8 threads x 1,000 records on one
shard lost 1 in a run). A GetRecords iterating the shard's dict while a put grew it failed with
`OrderedDict mutated during iteration`, a 500 that Kinesis never answers for that. Kinesis gives
every acknowledged record its own sequence number and keeps it, so the data plane's fault runs
only mean something with that guarantee.

Also, moto found the last sequence number by copying every key of the shard into a list on every
put, and GetRecords scanned the shard from its first record: a put and a read cost O(records in
the shard), so a 100,000-record run slowed down quadratically. Here both are O(1) / O(log n).

And moto runs a stream's mapped functions itself, synchronously inside every put, one record per
invocation (failing at once here: DOCKER_HOST=none://, no Docker), which the Lambda service never
does: its event source mappings poll batches, which is what `kstream local`'s data plane does. That
attempt cost ~2 ms per record put on a mapped stream; it is switched off (send_kinesis_message).

A request an AWS SDK sends again (its `amz-sdk-request` header says attempt 2 or later) is logged
with the attempt. Now and then, on a loaded machine, an SDK sends a change again although its
first attempt succeeded here (the server logged its 2xx): Terraform's destroy of pattern 4's usage
plan retried its "remove the API stage" PATCH, which moto then failed with a 500 (`list.remove`),
retried for 15 minutes; a create retried so fails with "already exists". On AWS the first answer
would have reached the client. So a retried change (not GET or HEAD) whose first attempt, by the
SDK's invocation id (`amz-sdk-invocation-id`), succeeded is answered with that attempt's status,
headers and body, and not done twice; the log says so. Requests without an invocation id, as kstream's own signed
clients send them, are untouched.

Step Functions' ValidateStateMachineDefinition, which moto lacks and Terraform calls before it
creates a state machine, comes from moto_sfn.py (structural checks; its docs say which).

The patch changes only Shard's record bookkeeping (one lock per shard; the records dict kept as
moto has it, so split and merge, which rebuild it, still work). tests in crates/producer
(emulator.rs, concurrent_puts_on_one_shard_lose_nothing) fail on an unpatched moto.
"""

import bisect
import logging
import sys
import threading
from typing import Any

import moto.server
from moto.awslambda.models import LambdaBackend
from moto.kinesis import models
from moto.server import main

import moto_sfn  # noqa: F401  (ValidateStateMachineDefinition: its module docs)

_Shard = models.Shard
_locks_guard = threading.Lock()


def _lock(shard: Any) -> threading.RLock:
    lock = shard.__dict__.get("_kstream_lock")
    if lock is None:
        with _locks_guard:
            lock = shard.__dict__.setdefault("_kstream_lock", threading.RLock())
    return lock


def _keys(shard: Any) -> list[int]:
    """The shard's sequence numbers in order; rebuilt when moto replaced or changed the dict."""
    cache = shard.__dict__.get("_kstream_keys")
    if cache is None or cache[0] is not shard.records or len(cache[1]) != len(shard.records):
        cache = (shard.records, list(shard.records.keys()))
        shard.__dict__["_kstream_keys"] = cache
    return cache[1]


def put_record(self: Any, partition_key: str, data: str, explicit_hash_key: str) -> str:
    with _lock(self):
        keys = _keys(self)
        sequence_number = (keys[-1] if keys else 0) + 1
        self.records[sequence_number] = models.Record(partition_key, data, sequence_number, explicit_hash_key)
        keys.append(sequence_number)
        return str(sequence_number)


def get_records(self: Any, last_sequence_id: str, limit: int | None) -> tuple[list[Any], int, int]:
    """moto's answer (records after last_sequence_id, up to limit, millis behind the last record)."""
    with _lock(self):
        keys = _keys(self)
        last_sequence_int = int(last_sequence_id)
        start = bisect.bisect_right(keys, last_sequence_int)
        chosen = keys[start:] if limit is None else keys[start : start + limit]
        results = [self.records[k] for k in chosen]
        millis_behind_latest = 0
        if results:
            last_sequence_int = chosen[-1]
            very_last_record = self.records[keys[-1]]
            millis_behind_latest = int((very_last_record.created_at - results[-1].created_at) * 1000)
        return results, last_sequence_int, millis_behind_latest


def get_min_sequence_number(self: Any) -> int:
    with _lock(self):
        keys = _keys(self)
        return keys[0] if keys else 0


def get_max_sequence_number(self: Any) -> int:
    with _lock(self):
        keys = _keys(self)
        return keys[-1] if keys else 0


def _locked(method: Any) -> Any:
    def run(self: Any, *args: Any, **kwargs: Any) -> Any:
        with _lock(self):
            return method(self, *args, **kwargs)

    return run


_Shard.put_record = put_record
_Shard.get_records = get_records
_Shard.get_min_sequence_number = get_min_sequence_number
_Shard.get_max_sequence_number = get_max_sequence_number
# The rest of Shard that walks its records (AT_TIMESTAMP iterators, DescribeStream) runs under the lock.
_Shard.get_sequence_number_at = _locked(_Shard.get_sequence_number_at)
_Shard.to_json = _locked(_Shard.to_json)



def send_kinesis_message(self: Any, **_: Any) -> None:
    """Nothing: `kstream local` runs the stream's event source mappings (module docs)."""


LambdaBackend.send_kinesis_message = send_kinesis_message

_retries = logging.getLogger("kstream.emulator")
_Dispatcher = moto.server.DomainDispatcherApplication


_ANSWERED_MAX = 4096
# The largest answer kept (a change's answer is small; a read by POST, as Kinesis GetRecords, may
# be megabytes): at most _ANSWERED_MAX x this in memory.
_ANSWERED_BYTES_MAX = 64 * 1024


class _LoggingRetries(_Dispatcher):  # type: ignore[misc,valid-type]
    """moto's WSGI application, logging every request an SDK marks as a retry, and answering a
    retry of a change that already succeeded with the first attempt's answer (module docs)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The answers of successful changes (not GET or HEAD) by the SDK's invocation id, the
        # latest _ANSWERED_MAX of at most _ANSWERED_BYTES_MAX: status, headers and body.
        self._answered: dict[str, tuple[str, list[tuple[str, str]], bytes]] = {}
        self._answered_lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        attempt = environ.get("HTTP_AMZ_SDK_REQUEST", "")
        invocation = environ.get("HTTP_AMZ_SDK_INVOCATION_ID", "")
        method = environ.get("REQUEST_METHOD", "")
        # "attempt=N; max=M" (the AWS SDKs) or "attempt=N" (the AWS CLI, botocore).
        if attempt and attempt.split(";")[0].strip() != "attempt=1":
            with self._answered_lock:
                answered = self._answered.get(invocation)
            _retries.warning(
                "retried request: %s %s (%s, invocation %s)%s", method, environ.get("PATH_INFO"),
                attempt, invocation or "-",
                "; it succeeded before: answered as then, not done again" if answered else "")
            if answered:
                status, headers, body = answered
                start_response(status, headers)
                return [body]
        if not invocation or method in ("GET", "HEAD"):
            return super().__call__(environ, start_response)
        # A change: its answer is kept when it succeeds.
        answer: list[Any] = []

        def keep(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            answer[:] = [status, list(headers)]
            return start_response(status, headers, exc_info)

        result = super().__call__(environ, keep)
        headers = answer[1] if answer else []
        if any(k.lower() == "content-type" and "eventstream" in v for k, v in headers):
            return result  # an event stream (SubscribeToShard): passed on as it comes
        try:
            body = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close:
                close()
        if answer and answer[0].startswith("2") and len(body) <= _ANSWERED_BYTES_MAX:
            with self._answered_lock:
                self._answered[invocation] = (answer[0], answer[1], body)
                while len(self._answered) > _ANSWERED_MAX:
                    del self._answered[next(iter(self._answered))]
        return [body]


moto.server.DomainDispatcherApplication = _LoggingRetries

if __name__ == "__main__":
    # Its own handler: a handler on the root logger would make werkzeug leave its request lines
    # at the root's level (WARNING), and they would no longer be logged.
    _handler = logging.StreamHandler()
    _handler.setFormatter(logging.Formatter("%(asctime)s %(name)s: %(message)s"))
    _retries.addHandler(_handler)
    _retries.propagate = False
    sys.exit(main())
