#!/usr/bin/env python3
"""Writes cases.json: the fixed user records of the KPL interop tests.

Deterministic (seeded); run by generate.sh. Each case is aggregated by the Python and Node
libraries (gen_python.py, gen_node.js) and by kstream-kpl (examples/interop_out.rs).
"""
import base64
import json
import random
import sys

rng = random.Random(20261122)
U128_MAX = 2**128 - 1


def rec(pk, data, ehk=None):
    if isinstance(data, str):
        data = data.encode("utf-8")
    return {
        "partitionKey": pk,
        "explicitHashKey": ehk,
        "data": base64.b64encode(data).decode("ascii"),
    }


def case(name, max_size, records, note):
    return {"name": name, "note": note, "maxSize": max_size, "records": records}


MIB = 1024 * 1024
cases = [
    case("ascii", MIB, [rec(f"user-{i % 3}", f'{{"id":{i},"msg":"hello world {i}"}}') for i in range(12)],
         "ASCII keys and JSON data; three distinct keys, so the table deduplicates"),
    case("utf8", MIB,
         [rec(pk, f"价格 ✓ {i} — € naïve 🚀") for i, pk in enumerate(["ключ", "🔑 key", "日本語", "naïve", "ключ", "🔑 key"])],
         "UTF-8 keys (Cyrillic, emoji, CJK) and UTF-8 data"),
    case("binary", MIB,
         [rec(f"bin-{i % 4}", bytes(rng.randrange(256) for _ in range(rng.randrange(1, 300)))) for i in range(20)]
         + [rec("all-bytes", bytes(range(256)))],
         "random binary data of 1 to 300 bytes, and every byte value"),
    case("empty-data", MIB, [rec("e1", b""), rec("e2", "x"), rec("e1", b""), rec("e3", b"\x00")],
         "empty payloads (the format requires the field; it is written with length 0)"),
    case("long-keys", MIB,
         [rec("k" * 256, "ascii 256"), rec("é" * 256, "two-byte 256"), rec("🔑" * 256, "four-byte 256"),
          rec("".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(200)), "random 200"),
          rec("k" * 256, "ascii 256 again")],
         "partition keys of 256 characters (1, 2 and 4 UTF-8 bytes each)"),
    case("explicit-hash-keys", MIB,
         [rec(f"pk-{i}", f"ehk record {i}", ehk)
          for i, ehk in enumerate(["0", "1", str(U128_MAX), str(rng.randrange(U128_MAX)), "0", str(2**127), str(U128_MAX)])],
         "every record has an explicit hash key, including 0, 2^127, 2^128-1 and repeats"),
    case("mixed-explicit-hash-keys", MIB,
         [rec(f"m-{i}", f"mixed {i}", str(1000 + i) if i % 2 else None) for i in range(6)],
         "some records with an explicit hash key, some without (the libraries report the table's first "
         "key for those without: a bug of theirs, accounted for in the checks)"),
    case("single-record", MIB, [rec("only", "the only record")],
         "one record: the Python and Node libraries still aggregate it; kstream sends it raw"),
    case("many-records", 51200,
         [rec(f"device-{rng.randrange(50):02d}",
              "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") for _ in range(100)))
          for _ in range(3000)],
         "3000 records of 100 bytes over 50 keys, aggregated at 51200 bytes (the KPL default): several aggregates"),
    case("over-1mib", MIB,
         [rec(f"big-{i % 10}", (f"{i:06d}-" * 143)[:1000]) for i in range(1100)],
         "1100 records of 1000 bytes: more than 1 MiB, so two aggregates at the 1 MiB limit"),
]

out = sys.argv[1] if len(sys.argv) > 1 else "cases.json"
with open(out, "w") as f:
    json.dump({"generatedBy": "tests/interop/gen_cases.py", "cases": cases}, f, indent=1, ensure_ascii=False)
    f.write("\n")
