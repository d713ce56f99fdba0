"""Unit tests of pattern 2's fault-run accounting (pattern02.py) on made-up function output: what
stream-analytics would write for a shard of records, then that output damaged one way at a time.
Run: .venv/bin/python -m unittest tests/soak/test_pattern02.py (no emulator needed)."""

from __future__ import annotations

import json
import random
import sys
import unittest
from collections import defaultdict
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pattern02  # noqa: E402

SHARD = "shardId-000000000000"
STREAM = "s-stream"


def flink(ms: int) -> str:
    """The function's text of an event time: the fraction's trailing zeros dropped."""
    t = pattern02.EVENT_BASE + pattern02.dt.timedelta(milliseconds=ms)
    text = t.strftime("%Y-%m-%d %H:%M:%S")
    frac = f"{t.microsecond // 1000:03d}".rstrip("0")
    return f"{text}.{frac}" if frac else text


class Fixture:
    """40 records on one shard (seq n + 1), a duplicate copy of record 5 (seq 41), two window
    segments (first sequence numbers 1 and 21), the poison given up; and the function's output."""

    def __init__(self):
        self.run = SimpleNamespace(run_id="s1234500001", rng=random.Random(7), stream=STREAM,
                                   outputs={"rows_prefix": "filtered/", "aggregates_prefix": "aggregates/",
                                            "bucket_name": "b"},
                                   failure_ranges=[])
        self.p = object.__new__(pattern02.Pattern02)
        self.p.run, self.p.threshold = self.run, 50.0
        self.ids, self.lines, self.copies = [], [], defaultdict(list)
        for n in range(40):
            rid = f"{self.run.run_id}-{n:06d}"
            rec = self.p.record(n, rid, bad=n in (3, 30))
            self.ids.append(rid)
            self.lines.append(json.dumps(rec))
            self.copies[rid].append((SHARD, n + 1))
        self.copies[self.ids[5]].append((SHARD, 41))
        self.run.failure_ranges = [(SHARD, 4, 4), (SHARD, 31, 31)]
        self.objects: dict[str, list[str]] = {}
        segments = {1: [], 21: []}
        for rid, text in zip(self.ids, self.lines):
            rec = json.loads(text)
            for _, seq in self.copies[rid]:
                if "ticker" in rec:
                    segments[1 if seq < 21 else 21].append(rec)
        for segment, recs in segments.items():
            stem = f"{STREAM}-{SHARD}-20261205T000000Z-{segment}"
            by_ticker = defaultdict(list)
            for rec in recs:
                by_ticker[rec["ticker"]].append(rec)
                if rec["price"] > 50:
                    key = f"filtered/ticker={rec['ticker']}/dt=2026-12-05/hr=00/{stem}-00000.json"
                    ms = pattern02.event_ms(rec["event_time"])
                    self.objects.setdefault(key, []).append(json.dumps({"event_time": flink(ms), "price": rec["price"]}))
            lines = []
            for ticker, group in sorted(by_ticker.items()):
                times = [pattern02.event_ms(r["event_time"]) for r in group]
                prices = [r["price"] for r in group]
                lines.append(json.dumps({"ticker": ticker, "count": len(group), "min_price": min(prices),
                                         "max_price": max(prices), "sum_price": sum(prices),
                                         "first_event_time": flink(min(times)), "last_event_time": flink(max(times))}))
            self.objects[f"aggregates/dt=2026-12-05/hr=00/{stem}.json"] = lines
        self.p.objects = lambda prefix: ((k, "\n".join(v)) for k, v in sorted(self.objects.items()) if k.startswith(prefix))

    def account(self):
        return self.p.account(self.ids, self.lines, self.copies)

    def good(self):
        return [r for r, text in zip(self.ids, self.lines) if "ticker" in json.loads(text)]

    def low(self, n_from: int, n_to: int) -> dict[str, str]:
        """Ticker -> id of the records at or below the threshold with n_from <= n < n_to (record 5,
        stored twice, left out)."""
        out = {}
        for n in range(n_from, n_to):
            ticker = json.loads(self.lines[n]).get("ticker", "")
            if ticker[5:6] == "L" and n != 5:
                out[ticker] = self.ids[n]
        return out


class AccountingTest(unittest.TestCase):
    def test_complete_output_accounts_for_every_good_record(self):
        f = Fixture()
        processed, extra, problems = f.account()
        self.assertEqual(problems, [])
        self.assertEqual(sorted(r for r in processed if processed[r]), sorted(f.good()))
        self.assertEqual(processed[f.ids[5]], 2, "both stored copies of record 5 are counted")
        self.assertEqual(extra["aggregate_groups_off"], 0)
        self.assertGreater(extra["rows"], 0)
        self.assertGreater(extra["at_or_below_threshold"], 0)

    def test_a_missing_aggregate_line_fails_and_its_record_is_not_processed(self):
        f = Fixture()
        key = next(k for k in f.objects if k.endswith("-21.json"))
        ticker, rid = next(iter(f.low(21, 40).items()))
        f.objects[key] = [line for line in f.objects[key] if json.loads(line)["ticker"] != ticker]
        processed, extra, problems = f.account()
        self.assertEqual(extra["aggregate_groups_off"], 1)
        self.assertTrue(any(ticker in p for p in problems), problems)
        self.assertEqual(processed[rid], 0)

    def test_a_count_too_high_fails(self):
        f = Fixture()
        key = next(k for k in f.objects if k.endswith("-1.json"))
        line = json.loads(f.objects[key][0])
        line["count"] += 1
        f.objects[key][0] = json.dumps(line)
        _, extra, problems = f.account()
        self.assertEqual(extra["aggregate_groups_off"], 1)
        self.assertTrue(problems)

    def test_a_missing_row_fails(self):
        f = Fixture()
        key = next(k for k in f.objects if k.startswith("filtered/"))
        f.objects[key].pop()
        _, _, problems = f.account()
        self.assertTrue(any("without a row" in p for p in problems), problems)

    def test_a_row_of_no_record_fails(self):
        f = Fixture()
        key = next(k for k in f.objects if k.startswith("filtered/"))
        f.objects[key].append(json.dumps({"event_time": flink(999_999), "price": 60.0}))
        _, _, problems = f.account()
        self.assertTrue(any("a row of no record" in p for p in problems), problems)

    def test_without_the_first_segment_its_records_are_named(self):
        f = Fixture()
        del f.objects[next(k for k in f.objects if k.endswith("-1.json"))]
        processed, extra, problems = f.account()
        self.assertGreater(extra["copies_before_any_segment"], 0)
        self.assertTrue(any("before every window segment" in p for p in problems), problems)
        low_first = list(f.low(0, 20).values())
        self.assertTrue(low_first and all(processed[r] == 0 for r in low_first))


if __name__ == "__main__":
    unittest.main()
