#!/usr/bin/env python3
"""Writes the benchmark's Firehose event: 3 MiB of 1 KiB JSON records shaped like the seed's
({"reading date", "data", "b", "c"}), deterministic.

    python3 make_event.py OUT.json [RECORDS]
"""

import base64
import json
import sys


def record(i: int) -> bytes:
    def build(pad: str) -> bytes:
        return json.dumps(
            {
                "reading date": f"{1 + i % 12}/{1 + i % 28}/22",
                "data": f"record {i} {pad}",
                "b": i,
                "c": i * 10,
            },
            separators=(",", ":"),
        ).encode()

    bare = len(build(""))
    out = build("x" * (1024 - bare))
    assert len(out) == 1024
    return out


def main() -> None:
    out = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 3072
    event = {
        "invocationId": "bench-00000000-0000-0000-0000-000000000000",
        "deliveryStreamArn": "arn:aws:firehose:us-east-1:123456789012:deliverystream/bench",
        "sourceKinesisStreamArn": "arn:aws:kinesis:us-east-1:123456789012:stream/bench",
        "region": "us-east-1",
        "records": [
            {
                "recordId": f"{49656392932848766235870931233471186418829917744405921794 + i}000000",
                "approximateArrivalTimestamp": 1795320306000 + i,
                "data": base64.b64encode(record(i)).decode(),
                "kinesisRecordMetadata": {
                    "shardId": "shardId-000000000000",
                    "partitionKey": f"pk-{i % 16}",
                    "approximateArrivalTimestamp": 1795320306000 + i,
                    "sequenceNumber": str(49656392932848766235870931233471186418829917744405921794 + i),
                    "subsequenceNumber": 0,
                },
            }
            for i in range(n)
        ],
    }
    with open(out, "w") as f:
        json.dump(event, f, separators=(",", ":"))


if __name__ == "__main__":
    main()
