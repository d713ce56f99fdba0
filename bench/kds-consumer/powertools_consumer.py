"""The Python peer of functions/kds-consumer: pattern 1's consumer written as a Python Lambda user
would, with Powertools for AWS Lambda (Python) `BatchProcessor` (`EventType.KinesisDataStreams`,
`process_partial_response`) and aws_kinesis_agg for KPL aggregates.

The same validation as the Rust function's ValidatingProcessor (functions/kds-consumer), user
record by user record:
- the data must be UTF-8 JSON (`NaN` / `Infinity` refused, as serde_json does), at most 1 MiB;
- it must be a JSON object; `"poison": true` (the JSON boolean) fails;
- every field of REQUIRED_FIELDS (comma-separated) must be present and not null.
A KPL aggregate (the data starts with the KPL magic) is deaggregated with aws_kinesis_agg (MD5
checked); one that it cannot take apart fails, and the first failing sub-record fails the
Kinesis record (the rest of the aggregate is skipped), as in the Rust function. Powertools
names every failed Kinesis record's sequence number in `batchItemFailures`, in batch order.
"""

import base64
import json
import os

from aws_kinesis_agg import MAGIC
from aws_kinesis_agg.deaggregator import iter_deaggregate_records
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.kinesis_stream_event import KinesisStreamRecord

MAX_RECORD_BYTES = 1024 * 1024
REQUIRED_FIELDS = [f.strip() for f in os.environ.get("REQUIRED_FIELDS", "").split(",") if f.strip()]

processor = BatchProcessor(event_type=EventType.KinesisDataStreams)


class RecordError(Exception):
    """Why a user record fails (its Kinesis record is reported in batchItemFailures)."""


def _no_constant(name):
    raise ValueError(f"{name} is not JSON")


def validate(data: bytes) -> None:
    if not data:
        raise RecordError("empty record")
    if len(data) > MAX_RECORD_BYTES:
        raise RecordError(f"record data is {len(data)} bytes, more than {MAX_RECORD_BYTES}")
    try:
        record = json.loads(data.decode("utf-8"), parse_constant=_no_constant)
    except UnicodeDecodeError as e:
        raise RecordError(f"not UTF-8 at byte {e.start}") from None
    except ValueError as e:
        raise RecordError(f"not JSON: {e}") from None
    if not isinstance(record, dict):
        raise RecordError(f"record is a JSON {type(record).__name__}, expected a JSON object")
    if record.get("poison") is True:
        raise RecordError("poison record")
    for field in REQUIRED_FIELDS:
        if record.get(field) is None:
            raise RecordError(f"record lacks the required field {field}")


def record_handler(record: KinesisStreamRecord) -> None:
    data = record.kinesis.data_as_bytes()
    if data[: len(MAGIC)] != MAGIC:
        validate(data)
        return
    for user in iter_deaggregate_records(record.raw_event):
        if user is record.raw_event:  # not taken apart: a corrupt aggregate
            raise RecordError("corrupt KPL aggregate")
        validate(base64.b64decode(user["kinesis"]["data"]))


def handler(event, context):
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context,
    )
