"""Pattern 2 (02-kpl-kds-analytics) in the fault run: its records, and how soak.py accounts for them
through the windows' output of functions/stream-analytics.

The function writes two things, and neither carries a record id: a row ``{"event_time", "price"}``
under ``ticker=<ticker>/dt=/hr=`` for every record with ``price > PRICE_THRESHOLD``, and, when a
window (segment) closes, one aggregate line per ticker (count, min, max, sum of the price, first
and last event time) under an object key ending in ``-<first sequence number of the segment>``.
So the records are made to be found in that output, without changing the format:

- record ``n`` has a unique event time (a fixed base + ``n`` ms) and a unique price, and a
  ``ticker`` that starts with a tag of the run (nothing else writes it); it also carries ``id``
  (the function ignores unknown fields: only the stream side reads it);
- about half are above the threshold (ticker ``<tag>H0``, price ``threshold + (n+1)/1000``): their
  row names them, one by one (ticker, event time; the price is checked);
- the others are at or below it (``<tag>L<n mod 1000>``, price ``threshold - (n+1)/2000``): only
  the aggregates count them. With 1,000 such tickers a (shard, window) holds few records of each
  (mostly one), and a line's count, min, max, first and last name up to two records exactly;
- 1 % poison: ``{"id", "poison": true}`` without ticker, price or event time: the function names
  it in ``batchItemFailures``; after the mapping's bisection and retries its range (itself) is in
  the failure queue.

The accounting (``account``), from the emulator directly:

- each stored copy of a record (shard, sequence number) belongs to the window segment whose first
  sequence number is the greatest at or below its own (segments are contiguous in a shard; the
  records before a segment's first are failed ones): the aggregate objects' keys give those;
- a copy inside a failure-queue range was given up: Lambda leaves the window state as it was, so
  it is not counted; every other copy must be;
- per (shard, segment, ticker) the aggregate line must equal the recount of those copies: count,
  min, max, first, last exactly, the sum to 1e-9. An equal line makes every copy of the group
  processed; a group that does not reconcile (or a line without copies) fails the run, and only
  the records its min, max, first and last name count as processed (unique prices and times);
- a row makes its record processed; rows at or below the threshold, rows of no record, and
  records above it counted in an aggregate without a row fail the run.

Standard library and boto3 only; soak.py imports it for ``--pattern 02``.
"""

from __future__ import annotations

import bisect
import datetime as dt
import hashlib
import json
import re
from collections import Counter, defaultdict

import boto3

EVENT_BASE = dt.datetime(2026, 12, 5, tzinfo=dt.timezone.utc)
LOW_TICKERS = 1000  # distinct tickers at or below the threshold (the function holds 2,000 a window)
# Above it: each invoke writes one row object per ticker, and every S3 request of the run adds an
# object to the access-log bucket, which moto lists slowly on destroy (9 min after 100,000 records
# with 3 tickers): one.
HIGH_TICKERS = 1
SUM_TOLERANCE = 1e-9


def tag_of(run_id: str) -> str:
    """Five letters and digits of the run, the start of each of its tickers (16 characters at most)."""
    digest = int(hashlib.sha256(run_id.encode()).hexdigest(), 16)
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    out = "k"
    for _ in range(4):
        digest, d = divmod(digest, len(alphabet))
        out += alphabet[d]
    return out


def event_ms(text: str) -> int:
    """Milliseconds since EVENT_BASE of an event time (SQL or Flink form, fraction optional)."""
    t = dt.datetime.fromisoformat(text.replace(" ", "T"))
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.timezone.utc)
    return round((t - EVENT_BASE).total_seconds() * 1000)


class Pattern02:
    """The run's tag and threshold; records; the accounting."""

    def __init__(self, run):
        self.run = run
        env = boto3.client("lambda").get_function_configuration(FunctionName=run.function).get(
            "Environment", {}).get("Variables", {})
        self.threshold = float(env.get("PRICE_THRESHOLD", "50"))

    @property
    def tag(self) -> str:
        return tag_of(self.run.run_id)

    def record(self, n: int, rid: str, bad: bool) -> dict:
        if bad:
            return {"id": rid, "poison": True, "why": "no ticker, price or event_time: batchItemFailures"}
        when = EVENT_BASE + dt.timedelta(milliseconds=n)
        event_time = when.strftime("%Y-%m-%d %H:%M:%S.") + f"{when.microsecond // 1000:03d}"
        if self.run.rng.random() < 0.5:
            ticker, price = f"{self.tag}H{n % HIGH_TICKERS}", round(self.threshold + (n + 1) / 1000, 3)
        else:
            ticker, price = f"{self.tag}L{n % LOW_TICKERS:03d}", round(self.threshold - (n + 1) / 2000, 4)
        return {"id": rid, "ticker": ticker, "price": price, "event_time": event_time}

    # ---- the function's output ------------------------------------------------------------------

    def objects(self, prefix: str):
        s3 = boto3.client("s3")
        bucket = self.run.outputs["bucket_name"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for obj in page.get("Contents", []):
                body = s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read().decode()
                yield obj["Key"], body

    def rows(self, by_key: dict, records: dict) -> tuple[Counter, list[str]]:
        """Rows of the run's tickers: per id, how many; and what is wrong."""
        seen, problems = Counter(), []
        prefix = self.run.outputs["rows_prefix"] + f"ticker={self.tag}"
        for key, body in self.objects(prefix):
            ticker = re.search(r"ticker=([^/]+)/", key).group(1)
            for line in body.splitlines():
                row = json.loads(line)
                rid = by_key.get((ticker, event_ms(row["event_time"])))
                if rid is None:
                    problems.append(f"a row of no record: {key}: {line}")
                elif row["price"] != records[rid]["price"]:
                    problems.append(f"the row of {rid} has price {row['price']}, put {records[rid]['price']}")
                elif row["price"] <= self.threshold:
                    problems.append(f"a row at or below the threshold: {rid} ({row['price']})")
                else:
                    seen[rid] += 1
        return seen, problems

    def aggregates(self) -> tuple[dict[str, list[int]], dict[tuple[str, int], dict[str, dict]]]:
        """Every window segment's first sequence number, per shard (all of the stream's windows);
        the lines of the run's tickers per (shard, segment)."""
        starts: dict[str, set[int]] = defaultdict(set)
        lines: dict[tuple[str, int], dict[str, dict]] = defaultdict(dict)
        stream = self.run.stream
        for key, body in self.objects(self.run.outputs["aggregates_prefix"]):
            name = key.rsplit("/", 1)[-1]
            m = re.fullmatch(re.escape(stream) + r"-(shardId-\d+)-\d{8}T\d{6}Z-(\d+)\.json", name)
            if m is None:
                continue
            shard, segment = m.group(1), int(m.group(2))
            starts[shard].add(segment)
            for text in body.splitlines():
                line = json.loads(text)
                if line["ticker"].startswith(self.tag):
                    lines[(shard, segment)][line["ticker"]] = line
        return {s: sorted(v) for s, v in starts.items()}, lines

    # ---- the accounting -------------------------------------------------------------------------

    def given_up_index(self) -> dict[str, tuple[list[int], list[int]]]:
        """The failure queue's ranges per shard, merged: (starts, ends), sorted."""
        spans: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for shard, lo, hi in self.run.failure_ranges:
            spans[shard].append((lo, hi))
        index = {}
        for shard, ranges in spans.items():
            merged: list[list[int]] = []
            for lo, hi in sorted(ranges):
                if merged and lo <= merged[-1][1]:
                    merged[-1][1] = max(merged[-1][1], hi)
                else:
                    merged.append([lo, hi])
            index[shard] = ([m[0] for m in merged], [m[1] for m in merged])
        return index

    @staticmethod
    def inside(spans: tuple[list[int], list[int]] | None, seq: int) -> bool:
        if spans is None:
            return False
        i = bisect.bisect_right(spans[0], seq) - 1
        return i >= 0 and seq <= spans[1][i]

    def account(self, ids: list[str], lines: list[str], copies: dict) -> tuple[Counter, dict, list[str]]:
        """Processed copies per id, the summary's pattern 2 counts, and what fails the run."""
        records, by_key, by_price = {}, {}, {}
        for rid, text in zip(ids, lines):
            rec = json.loads(text)
            if "ticker" in rec:
                rec["ms"] = event_ms(rec["event_time"])
                records[rid] = rec
                by_key[(rec["ticker"], rec["ms"])] = rid
                by_price[rec["price"]] = rid
        row_seen, problems = self.rows(by_key, records)
        starts, agg_lines = self.aggregates()
        given_up = self.given_up_index()
        # The copies each aggregate line must count: (shard, segment, ticker) -> [id, ...].
        groups: dict[tuple[str, int, str], list[str]] = defaultdict(list)
        unsegmented = 0
        for rid, rec in records.items():
            for shard, seq in copies.get(rid, []):
                if self.inside(given_up.get(shard), seq):
                    continue
                segs = starts.get(shard, [])
                i = bisect.bisect_right(segs, seq) - 1
                if i < 0:
                    unsegmented += 1
                    continue
                groups[(shard, segs[i], rec["ticker"])].append(rid)
        counted: Counter = Counter()
        reconciled = off = individual = 0
        for (shard, segment), by_ticker in agg_lines.items():
            for ticker in by_ticker:
                groups.setdefault((shard, segment, ticker), [])
        for (shard, segment, ticker), members in groups.items():
            line = agg_lines.get((shard, segment), {}).get(ticker)
            recs = [records[r] for r in members]
            want = None
            if recs:
                want = (len(recs), min(r["price"] for r in recs), max(r["price"] for r in recs),
                        min(r["ms"] for r in recs), max(r["ms"] for r in recs))
            got = None
            if line is not None:
                got = (line["count"], line["min_price"], line["max_price"],
                       event_ms(line["first_event_time"]), event_ms(line["last_event_time"]))
            total = sum(r["price"] for r in recs)
            if got is not None and got == want and abs(line["sum_price"] - total) <= SUM_TOLERANCE * max(1.0, abs(total)):
                reconciled += 1
                individual += min(len(members), 2)
                for rid in members:
                    counted[rid] += 1
                continue
            off += 1
            if len(problems) < 40:
                problems.append(f"aggregate of {ticker} in {shard} segment {segment}: line {got} "
                                f"sum {line and line['sum_price']}, recount {want} sum {total} ({len(members)} copies)")
            if line is not None:
                # What the line names for certain: prices and event times are unique per record.
                named = {by_price.get(line["min_price"]), by_price.get(line["max_price"])}
                named |= {by_key.get((ticker, event_ms(line[k]))) for k in ("first_event_time", "last_event_time")}
                for rid in named - {None}:
                    if rid in members:
                        counted[rid] += 1
        processed: Counter = Counter()
        missing_rows = []
        for rid, rec in records.items():
            processed[rid] = max(row_seen[rid], counted[rid])
            if rec["price"] > self.threshold and counted[rid] and not row_seen[rid]:
                missing_rows.append(rid)
        if unsegmented:
            problems.append(f"{unsegmented} stored copies lie before every window segment of their shard "
                            "(no aggregate object at or before them)")
        if missing_rows:
            problems.append(f"{len(missing_rows)} record(s) above the threshold counted in an aggregate "
                            f"without a row, e.g. {', '.join(sorted(missing_rows)[:10])}")
        high = [r for r, rec in records.items() if rec["price"] > self.threshold]
        stored_copies = {r: len(copies.get(r, [])) for r in high}
        extra = {
            "tag": self.tag,
            "price_threshold": self.threshold,
            "above_threshold": len(high),
            "at_or_below_threshold": len(records) - len(high),
            "rows": sum(row_seen.values()),
            "row_duplicates": sum(max(0, row_seen[r] - stored_copies[r]) for r in high),
            "aggregate_groups": len(groups),
            "aggregate_groups_reconciled": reconciled,
            "aggregate_groups_off": off,
            "aggregate_copies_counted": sum(counted.values()),
            "aggregate_copies_named_individually": individual,
            "copies_before_any_segment": unsegmented,
            "poison_copies_stored": sum(len(copies.get(r, [])) for r in ids if r not in records),
        }
        return processed, extra, problems
