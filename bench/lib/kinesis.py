"""The Kinesis event record as Lambda delivers it to a consumer, shared by the benchmark suites'
make_events.py (stream-analytics, enrichment, kds-consumer): one entry of `Records`, with the
data base64-encoded and the event source metadata of a stream in us-east-1.

A suite's make_events.py imports it as `kinesis` after putting bench/lib on sys.path.
"""

import base64


def kinesis_record(seq: int, partition_key: str, data: bytes, *, arrival: float, shard: str,
                   stream_arn: str, role: str) -> dict:
    """Kinesis record `seq` of `shard` (`eventID` shard:seq), `data` base64 as Lambda sends it."""
    return {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": partition_key,
            "sequenceNumber": str(seq),
            "data": base64.b64encode(data).decode(),
            "approximateArrivalTimestamp": arrival,
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"{shard}:{seq}",
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": f"arn:aws:iam::123456789012:role/{role}",
        "awsRegion": "us-east-1",
        "eventSourceARN": stream_arn,
    }
