"""The fault run: N records through an applied pattern on `kstream local`, with faults, every record
accounted for. Run by scripts/soak.sh (which applies the pattern for `make soak`, or is given the
deployment an end-to-end test applied); see there for the environment.

What it does:
1. makes N records, each with a unique id ``<run>-<n>``; 1 % are poison (pattern 1: ``"poison":
   true``, the consumer's convention; pattern 2: no ticker, price or event time, which
   stream-analytics names in batchItemFailures; pattern 3: JSON without the template's fields,
   which firehose-transform answers ProcessingFailed; pattern 4: see pattern04.py, which holds
   that pattern's specifics: records, the fare API's fault mode, the accounting);
2. starts the fault proxy (proxy.py) in front of the emulator, and ``kstream local up`` and the
   producer (``kstream put``, raw records, one per line) with AWS_ENDPOINT_URL on the proxy, so
   every AWS call of the run crosses it; PutRecords are throttled and 5xx'd there;
3. feeds the producer over a set time while the faults happen, each real: the function process
   SIGKILLed at random moments (a kill that lands in an invocation fails it with
   Runtime.ExitError: counted from the data plane's log), the emulator unreachable once (the
   proxy refuses and cuts every connection), and ``kstream local up`` stopped with SIGINT and
   started again;
4. waits until the data plane's checkpoints reach the end of every shard, stops it, and accounts
   for every record, reading the emulator directly (not through the proxy):
   - in the stream: every stored copy of each id (duplicates from "5xx after store" retries);
   - pattern 1: processed = the consumer logged the record (its trace line with the payload, in
     the invocation's span) in an invocation that answered ("batch processed") without naming
     it in batchItemFailures; failure queue = inside a KinesisBatchInfo range (shard, start..end)
     of the on-failure queue's messages;
   - pattern 3: processed = a line of the data objects in S3 (the template keeps the id in
     ``ticker``); error output = ``rawData`` of the error records;
   - pattern 2: processed = its row in S3 (price above the threshold) or counted in its window
     segment's aggregate line, which must equal the recount of the stream's copies there;
     failure queue as for pattern 1 (pattern02.py has the details);
   - pattern 4: processed = the trip's row in S3; error output = ``data_base64`` of the error
     lines; failure queue = as pattern 1;
   - lost = neither, or never stored though the producer reported success; the run fails
     naming them (all in <work>/lost.txt). A record the producer reports failed is a failure too.
Prints a summary and writes <work>/soak-summary.json.
"""

from __future__ import annotations

import argparse
import base64
import glob
import gzip
import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pattern02  # noqa: E402
import pattern04  # noqa: E402
from proxy import Faults, FaultProxy  # noqa: E402

# Patterns whose specifics live in their own module (tests/soak/patternNN.py).
PATTERNS = {"04": pattern04}

POISON_RATE = 0.01


def log(msg: str) -> None:
    print(f"==> {msg}", file=sys.stderr, flush=True)


class Run:
    def __init__(self, a: argparse.Namespace):
        self.a = a
        self.work = Path(a.work)
        self.work.mkdir(parents=True, exist_ok=True)
        self.state_dir = Path(a.state_dir) if a.state_dir else self.work / "local"
        self.outputs = {k: v["value"] for k, v in json.loads(Path(a.outputs).read_text()).items()}
        self.rng = random.Random(a.seed)
        self.run_id = f"s{a.seed:x}{int(time.time()) % 100000:05d}"
        self.moto = os.environ["AWS_ENDPOINT_URL"]
        # moto answers 500 now and then under load (a shard's records change while it iterates
        # them): the harness's own reads retry.
        self.kinesis = boto3.client("kinesis", config=Config(retries={"max_attempts": 20, "mode": "standard"}))
        self.up: subprocess.Popen | None = None
        self.up_log = open(self.work / "up.log", "ab")
        self.events: list[str] = []
        self.kills = 0
        self.restarts = 0
        self.outages = 0
        self.function_package = {"01": "kds-consumer", "02": "stream-analytics"}.get(a.pattern, "firehose-transform")
        self.failure_ranges: list[tuple[str, int, int]] = []  # (shard, start, end) of the failure queue
        self.extra_failures: list[str] = []
        self.mod = PATTERNS.get(a.pattern)
        if self.mod is not None:
            self.function_package = self.mod.FUNCTION_PACKAGE
            self.stream, self.stream_arn, self.function = self.mod.names(self.outputs)
            self.id_of = self.mod.id_of
        elif a.pattern == "02":
            self.stream, self.stream_arn = self.outputs["stream_name"], self.outputs["stream_arn"]
            self.function = self.outputs["function_name"]
            self.p2 = pattern02.Pattern02(self)
        elif a.pattern == "01":
            self.stream_arn = self.outputs["stream_arn"]
            self.stream = self.stream_arn.rsplit("/", 1)[1]
            self.function = self.outputs["consumer_function_name"]
        else:
            self.stream = self.outputs["stream_name"]
            self.stream_arn = self.kinesis.describe_stream_summary(StreamName=self.stream)[
                "StreamDescriptionSummary"]["StreamARN"]
            self.function = f"{a.prefix}-transform"

    # ---- the records -------------------------------------------------------------------------

    def make_records(self) -> tuple[list[str], set[str]]:
        if self.mod is not None:
            return self.mod.make_records(self.a.records, self.rng, self.a.seed, POISON_RATE)
        lines, poison = [], set()
        for n in range(self.a.records):
            rid = f"{self.run_id}-{n:06d}"
            bad = self.rng.random() < POISON_RATE
            if self.a.pattern == "02":
                rec = self.p2.record(n, rid, bad)
            elif self.a.pattern == "01":
                rec = {"id": rid, "amount": n % 997 + 0.5}
                if bad:
                    rec["poison"] = True
            elif bad:
                rec = {"poison": rid, "why": "no ticker, price or event_time: ProcessingFailed"}
            else:
                rec = {"ticker": rid, "price": n % 997 + 0.25, "event_time": "2026-12-05T03:00:00Z"}
            if bad:
                poison.add(rid)
            lines.append(json.dumps(rec, separators=(",", ":")))
        return lines, poison

    @staticmethod
    def id_of(data: bytes | str) -> str | None:
        try:
            rec = json.loads(data)
        except ValueError:
            return None
        if not isinstance(rec, dict):
            return None
        for k in ("id", "ticker", "poison"):
            v = rec.get(k)
            if isinstance(v, str):
                return v
        return None

    # ---- the data plane ----------------------------------------------------------------------

    def start_up(self) -> None:
        env = dict(os.environ, AWS_ENDPOINT_URL=self.proxy.url, RUST_LOG="info")
        cmd = [self.a.kstream, "local", "up", "--state-dir", str(self.state_dir),
               "--functions-dir", self.a.functions_dir, "--no-status-line", "--log-format", "JSON",
               "--name-prefix", f"{self.a.prefix}-"]
        cmd += self.mod.UP_OPTIONS if self.mod is not None else ["--no-api"]
        if self.a.pattern == "03":
            cmd += ["--firehose-max-buffer-interval", "2"]
        self.up = subprocess.Popen(cmd, env=env, stdout=self.up_log, stderr=self.up_log)
        status = self.state_dir / "status.json"
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.up.poll() is not None:
                raise SystemExit(f"kstream local up exited ({self.up.returncode}); log: {self.work}/up.log")
            try:
                if json.loads(status.read_text()).get("pid") == self.up.pid:
                    return
            except (OSError, ValueError):
                pass
            time.sleep(0.2)
        raise SystemExit(f"kstream local up did not start; log: {self.work}/up.log")

    def stop_up(self) -> int:
        assert self.up is not None
        self.up.send_signal(signal.SIGINT)
        try:
            code = self.up.wait(timeout=120)
        except subprocess.TimeoutExpired:
            self.up.kill()
            code = self.up.wait()
            self.event(f"kstream local up did not stop within 120 s of SIGINT: killed (status {code})")
        self.up = None
        return code

    def function_pids(self) -> list[int]:
        if self.up is None:
            return []
        pids = []
        for stat in glob.glob("/proc/[0-9]*/stat"):
            try:
                text = Path(stat).read_text()
                ppid = int(text.rsplit(")", 1)[1].split()[1])
                if ppid != self.up.pid:
                    continue
                pid = int(stat.split("/")[2])
                if os.path.basename(os.readlink(f"/proc/{pid}/exe")) == self.function_package:
                    pids.append(pid)
            except (OSError, ValueError, IndexError):
                continue
        return pids

    def event(self, what: str) -> None:
        line = f"[{time.strftime('%H:%M:%S')}] {what}"
        self.events.append(line)
        log(what)

    # ---- faults ------------------------------------------------------------------------------

    @staticmethod
    def running(pid: int) -> bool:
        """Whether the process is on a CPU or waiting for one (state R in /proc/<pid>/stat): a
        function process is only there while it handles an invocation (between them it sleeps
        in its Runtime API poll)."""
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return False
        # The state follows the command name, which is in parentheses and may hold spaces.
        return stat[stat.rfind(")") + 2 : stat.rfind(")") + 3] == "R"

    def kill_one(self) -> None:
        """SIGKILLs a function process, preferably one seen running (it is in an invocation: the
        kill follows the look within microseconds, where an invocation of a batch takes a few
        hundred); after 2 s without one, any. (Sampling CPU time over a few milliseconds, as
        before, no longer caught kds-consumer in an invocation: its batches got that short.)"""
        deadline = time.time() + 2
        while True:
            pids = self.function_pids()
            busy = []
            for _ in range(200):
                busy = [pid for pid in pids if self.running(pid)]
                if busy:
                    break
            candidates = busy or (pids if time.time() > deadline else [])
            if candidates:
                pid = self.rng.choice(candidates)
                try:
                    os.kill(pid, signal.SIGKILL)
                    self.kills += 1
                    state = "running" if busy else "idle"
                    self.event(f"SIGKILL {self.function_package} pid {pid} ({state}; {len(pids)} process(es))")
                    return
                except ProcessLookupError:
                    pass
            if time.time() > deadline + 2:
                self.event("no function process to kill (none for 4 s)")
                return
            time.sleep(0.001)

    def outage(self) -> None:
        self.event(f"emulator unreachable for {self.a.outage_seconds} s (the proxy refuses and cuts every connection)")
        self.proxy.outage(self.a.outage_seconds)
        self.outages += 1
        self.event("emulator reachable again")

    def restart(self) -> None:
        self.event("kstream local up: SIGINT")
        code = self.stop_up()
        self.event(f"kstream local up stopped (status {code}); starting it again")
        self.start_up()
        self.restarts += 1

    # ---- the run -----------------------------------------------------------------------------

    def feed(self, put: subprocess.Popen, lines: list[str], seconds: float) -> None:
        assert put.stdin is not None
        chunks = max(1, int(seconds * 10))
        per = -(-len(lines) // chunks)
        start = time.time()
        for i in range(chunks):
            part = lines[i * per:(i + 1) * per]
            if part:
                put.stdin.write(("\n".join(part) + "\n").encode())
                put.stdin.flush()
            delay = start + (i + 1) * seconds / chunks - time.time()
            if delay > 0:
                time.sleep(delay)
        put.stdin.close()

    def shard_ends(self) -> dict[str, str]:
        ends = {}
        for shard in self.kinesis.list_shards(StreamName=self.stream)["Shards"]:
            sid = shard["ShardId"]
            last = None
            for rec in self.read_shard(sid):
                last = rec["SequenceNumber"]
            if last is not None:
                ends[sid] = last
        return ends

    def read_shard(self, sid: str, after: str | None = None):
        kw = {"ShardIteratorType": "TRIM_HORIZON"} if after is None else {
            "ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "StartingSequenceNumber": after}
        it = self.kinesis.get_shard_iterator(StreamName=self.stream, ShardId=sid, **kw)["ShardIterator"]
        while it:
            for attempt in range(20):
                try:
                    out = self.kinesis.get_records(ShardIterator=it, Limit=10000)
                    break
                except ClientError:
                    if attempt == 19:
                        raise
                    time.sleep(0.5)
            yield from out["Records"]
            if not out["Records"]:
                return
            it = out.get("NextShardIterator")

    def checkpoints(self, open_windows: list | None = None) -> dict[str, str]:
        """The shards' checkpoints; the tumbling windows still open go to ``open_windows`` (pattern
        2: the last windows close, and write their aggregates, after the records are done)."""
        done = {}
        for path in glob.glob(str(self.state_dir / "checkpoints" / "*.json")):
            try:
                f = json.loads(Path(path).read_text())
            except (OSError, ValueError):
                continue
            if f.get("streamArn") == self.stream_arn:
                done.update(f.get("shards", {}))
                if open_windows is not None:
                    open_windows.extend((f.get("windows") or {}).items())
        return done

    def wait_drained(self, ends: dict[str, str], timeout: float) -> bool:
        deadline = time.time() + timeout
        while time.time() < deadline:
            windows: list = []
            cp = self.checkpoints(windows)
            if all(int(cp.get(s, "0") or 0) >= int(e) for s, e in ends.items()) and not windows:
                return True
            if self.up is not None and self.up.poll() is not None:
                self.event(f"kstream local up exited by itself (status {self.up.returncode})")
                return False
            time.sleep(0.5)
        return False

    def prepare_function(self) -> dict | None:
        """Pattern 1: turn on the consumer's record-level trace log (its payload line) through the
        function's environment, as on AWS; returns the environment to restore. Pattern modules
        prepare their own (pattern 4: the fare API's fault mode)."""
        if self.mod is not None:
            return self.mod.prepare(self)
        if self.a.pattern != "01":
            return None
        lam = boto3.client("lambda")
        env = lam.get_function_configuration(FunctionName=self.function).get("Environment", {}).get("Variables", {})
        traced = dict(env, RUST_LOG="info,kds_consumer=trace")
        lam.update_function_configuration(FunctionName=self.function, Environment={"Variables": traced})
        return env

    def restore_function(self, env: dict | None) -> None:
        if env is not None and self.mod is not None:
            self.mod.restore(self, env)
        elif env is not None:
            boto3.client("lambda").update_function_configuration(
                FunctionName=self.function, Environment={"Variables": env})

    def run(self) -> int:
        a = self.a
        lines, poison = self.make_records()
        (self.work / "records.jsonl").write_text("\n".join(lines) + "\n")
        ids = [self.id_of(l) for l in lines]
        faults = Faults(a.request_throttle, a.request_error, a.request_error_after_store,
                        a.record_throttle, a.record_error)
        self.proxy = FaultProxy(self.moto, faults, seed=a.seed)
        saved_env = self.prepare_function()
        started = time.time()
        try:
            self.start_up()
            self.event(f"run {self.run_id}: {len(lines)} records ({len(poison)} poison) into {self.stream} over {a.feed_seconds} s, "
                       f"through the proxy at {self.proxy.url}")
            put_err = open(self.work / "put.log", "wb")
            put = subprocess.Popen(
                [a.kstream, "put", "--stream", self.stream, "--no-aggregate", "--record-ttl", "1h", "-"],
                stdin=subprocess.PIPE, stdout=put_err, stderr=put_err,
                env=dict(os.environ, AWS_ENDPOINT_URL=self.proxy.url))
            feeder = threading.Thread(target=self.feed, args=(put, lines, a.feed_seconds), daemon=True)
            feeder.start()
            # The faults, at random moments of the feed (the outage and the restart one each).
            d = a.feed_seconds
            plan = [(self.rng.uniform(0.05, 1.0) * d, "kill") for _ in range(a.kills)]
            plan += [(0.3 * d, "outage"), (0.7 * d, "restart")]
            for at, what in sorted(plan):
                delay = started + at - time.time()
                if delay > 0:
                    time.sleep(delay)
                {"kill": self.kill_one, "outage": self.outage, "restart": self.restart}[what]()
            feeder.join()
            put_code = put.wait()
            put_err.close()
            self.event(f"producer done (status {put_code}) after {time.time() - started:.0f} s")
            # Kills that landed in an invocation; a few more while the backlog drains if none did.
            for _ in range(a.kills):
                if self.kills_in_invocations() > 0:
                    break
                self.kill_one()
                time.sleep(0.3)
            ends = self.shard_ends()
            drained = self.wait_drained(ends, a.drain_timeout)
            self.event(("the data plane's checkpoints reached the end of every shard" if drained else
                        f"the checkpoints did not reach the end of every shard within {a.drain_timeout} s")
                       + f" ({time.time() - started:.0f} s)")
            if self.up is not None:
                code = self.stop_up()
                self.event(f"kstream local up stopped (status {code})")
        finally:
            if self.up is not None:
                self.stop_up()
            self.proxy.stop()
            self.restore_function(saved_env)
        return self.account(ids, poison, put_code, time.time() - started)

    def kills_in_invocations(self) -> int:
        text = (self.work / "up.log").read_text(errors="replace")
        return text.count("Runtime.ExitError")

    # ---- accounting --------------------------------------------------------------------------

    def stream_copies(self, wanted: set[str]) -> tuple[dict[str, list[tuple[str, int]]], dict[tuple[str, int], str]]:
        copies: dict[str, list[tuple[str, int]]] = defaultdict(list)
        by_seq: dict[tuple[str, int], str] = {}
        for shard in self.kinesis.list_shards(StreamName=self.stream)["Shards"]:
            sid = shard["ShardId"]
            for rec in self.read_shard(sid):
                rid = self.id_of(rec["Data"])
                if rid in wanted:
                    seq = int(rec["SequenceNumber"])
                    copies[rid].append((sid, seq))
                    by_seq[(sid, seq)] = rid
        return copies, by_seq

    def processed_p1(self, wanted: set[str]) -> Counter:
        """Ids the consumer processed: logged in an invocation that answered, not named failed."""
        path = self.state_dir / "logs" / f"{self.function}.log"
        seen: dict[str, list[tuple[str, str]]] = defaultdict(list)  # request id -> (seq, id)
        failed: dict[str, set[str]] = defaultdict(set)
        answered: set[str] = set()
        with open(path, errors="replace") as f:
            for line in f:
                if not line.startswith("{"):
                    continue
                try:
                    doc = json.loads(line)
                except ValueError:
                    continue
                spans = doc.get("spans") or []
                req = next((s.get("requestId") for s in spans if "requestId" in s), None)
                if req is None:
                    continue
                seq = next((s.get("sequence_number") for s in spans if "sequence_number" in s), None)
                fields = doc.get("fields", {})
                msg = fields.get("message", "")
                if msg == "user record":
                    rid = self.id_of(fields.get("payload", ""))
                    if rid in wanted:
                        seen[req].append((str(seq), rid))
                elif msg.startswith("record failed"):
                    failed[req].add(str(seq))
                elif msg == "batch processed":
                    answered.add(req)
        processed: Counter = Counter()
        for req, recs in seen.items():
            if req not in answered:
                continue
            for seq, rid in recs:
                if seq not in failed[req]:
                    processed[rid] += 1
        return processed

    def failure_ranges_p1(self, by_seq: dict[tuple[str, int], str]) -> tuple[Counter, int]:
        sqs = boto3.client("sqs")
        url = self.outputs["failure_queue_url"]
        bodies = {}
        empty = 0
        while empty < 3:
            out = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=300, WaitTimeSeconds=1)
            msgs = out.get("Messages", [])
            if not msgs:
                empty += 1
            for m in msgs:
                bodies[m["MessageId"]] = json.loads(m["Body"])
        by_shard: dict[str, list[tuple[int, str]]] = defaultdict(list)
        for (sid, seq), rid in by_seq.items():
            by_shard[sid].append((seq, rid))
        in_ranges: Counter = Counter()
        messages = 0
        for body in bodies.values():
            info = body.get("KinesisBatchInfo", {})
            if info.get("streamArn") != self.stream_arn:
                continue
            messages += 1
            lo, hi = int(info["startSequenceNumber"]), int(info["endSequenceNumber"])
            self.failure_ranges.append((info["shardId"], lo, hi))
            for seq, rid in by_shard.get(info["shardId"], []):
                if lo <= seq <= hi:
                    in_ranges[rid] += 1
        return in_ranges, messages

    def s3_p3(self, wanted: set[str]) -> tuple[Counter, Counter, Counter]:
        s3 = boto3.client("s3")
        bucket = self.outputs["bucket_name"]
        data_prefix = self.outputs["data_prefix"].split("!{")[0]
        error_prefix = self.outputs["error_output_prefix"].split("!{")[0]
        delivered, errors, error_kinds = Counter(), Counter(), Counter()
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        for page in pages:
            for obj in page.get("Contents", []):
                key = obj["Key"]
                body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
                if key.endswith(".parquet"):
                    import io

                    import pyarrow.parquet as pq

                    rows = pq.read_table(io.BytesIO(body)).to_pylist()
                    body = "\n".join(json.dumps(r, default=str) for r in rows).encode()
                elif key.endswith(".gz"):
                    body = gzip.decompress(body)
                if key.startswith(error_prefix):
                    for line in body.decode(errors="replace").splitlines():
                        try:
                            doc = json.loads(line)
                            rid = self.id_of(base64.b64decode(doc.get("rawData", "")))
                        except ValueError:
                            continue
                        if rid in wanted:
                            errors[rid] += 1
                            error_kinds[doc.get("errorCode", doc.get("ErrorCode", "?"))] += 1
                elif key.startswith(data_prefix):
                    for line in body.decode(errors="replace").splitlines():
                        rid = self.id_of(line)
                        if rid in wanted:
                            delivered[rid] += 1
        return delivered, errors, error_kinds

    def account(self, ids: list[str], poison: set[str], put_code: int, seconds: float) -> int:
        wanted = set(ids)
        put_log = (self.work / "put.log").read_text(errors="replace")
        put_failed = {ids[int(m) - 1] for m in re.findall(r"line (\d+)", put_log) if 0 < int(m) <= len(ids)}
        copies, by_seq = self.stream_copies(wanted)
        summary: dict = {"pattern": self.a.pattern, "run": self.run_id, "in": len(ids), "poison": len(poison)}
        # Where a record not processed may be: {name: Counter of ids} (the failure queue, the error output).
        if self.mod is not None:
            processed, others, extra = self.mod.account(self, wanted, by_seq)
            summary.update(extra)
        elif self.a.pattern == "02":
            second, messages = self.failure_ranges_p1(by_seq)
            summary["failure_queue_messages"] = messages
            lines = (self.work / "records.jsonl").read_text().splitlines()
            processed, extra, self.extra_failures = self.p2.account(ids, lines, copies)
            summary.update(extra)
            others = {"failure_queue": second}
        elif self.a.pattern == "01":
            processed = self.processed_p1(wanted)
            second, messages = self.failure_ranges_p1(by_seq)
            summary["failure_queue_messages"] = messages
            others = {"failure_queue": second}
        else:
            processed, second, kinds = self.s3_p3(wanted)
            summary["error_output_codes"] = dict(kinds)
            others = {"error_output": second}
        lost = sorted(r for r in ids if processed[r] == 0 and not any(c[r] for c in others.values()))
        unstored = sorted(r for r in ids if not copies.get(r) and r not in put_failed)
        summary.update({
            "in_stream": sum(1 for r in ids if copies.get(r)),
            "stream_duplicates": sum(len(c) - 1 for c in copies.values() if len(c) > 1),
            "producer_failed": len(put_failed),
            "processed": sum(1 for r in ids if processed[r]),
            "processed_duplicates": sum(c - 1 for c in processed.values() if c > 1),
            "poison_processed": sum(1 for r in poison if processed[r]),
        })
        for name, second in others.items():
            summary.update({
                name: sum(1 for r in ids if second[r]),
                "processed_and_" + name: sum(1 for r in ids if processed[r] and second[r]),
                "poison_in_" + name: sum(1 for r in poison if second[r]),
                "good_in_" + name: sum(1 for r in ids if r not in poison and second[r]),
            })
        summary.update({
            "lost": len(lost),
            "faults": {
                "function_kills": self.kills,
                "kills_in_invocations": self.kills_in_invocations(),
                "outages": self.outages,
                "outage_seconds": self.a.outage_seconds,
                "data_plane_restarts": self.restarts,
                "proxy": self.proxy.stats,
            },
            "producer_status": put_code,
            "seconds": round(seconds, 1),
            "events": self.events,
        })
        (self.work / "soak-summary.json").write_text(json.dumps(summary, indent=2) + "\n")
        (self.work / "lost.txt").write_text("".join(f"{r}\n" for r in lost))
        f = summary["faults"]
        p = f["proxy"]
        print(f"pattern {self.a.pattern} fault run {self.run_id}: {summary['in']} records in ({summary['poison']} poison), "
              f"{summary['seconds']} s")
        print(f"  faults: {f['function_kills']} function kills ({f['kills_in_invocations']} in an invocation), "
              f"{f['outages']} outage of {f['outage_seconds']} s, {f['data_plane_restarts']} data plane restart; "
              f"PutRecords: {p['put_records_requests']} requests, {p['request_throttled']} throttled + "
              f"{p['request_internal_failure']} 5xx + {p['request_failed_after_store']} 5xx after store, "
              f"{p['record_throttled']} records throttled + {p['record_internal_failure']} InternalFailure")
        if self.mod is not None:
            print(self.mod.describe(summary))
        print(f"  stream: {summary['in_stream']} ids stored, {summary['stream_duplicates']} duplicate copies; "
              f"producer failed {summary['producer_failed']} (status {put_code})")
        print(f"  processed {summary['processed']} ({summary['processed_duplicates']} duplicate processings), "
              + "".join(f"{n.replace('_', ' ')} {summary[n]} (poison {summary['poison_in_' + n]}/{len(poison)}, "
                        f"good {summary['good_in_' + n]}), both {summary['processed_and_' + n]}, " for n in others)
              + f"poison processed {summary['poison_processed']}")
        print(f"  lost {len(lost)}")
        failures = self.mod.failures(summary) if self.mod is not None else []
        if lost:
            failures.append(f"{len(lost)} record(s) lost, e.g. {', '.join(lost[:20])} (all in {self.work}/lost.txt)")
        if unstored:
            failures.append(f"{len(unstored)} record(s) never stored though the producer reported success, e.g. {', '.join(unstored[:10])}")
        if put_failed or put_code != 0:
            failures.append(f"the producer failed {len(put_failed)} record(s) (status {put_code}; {self.work}/put.log)")
        if summary["poison_processed"]:
            failures.append(f"{summary['poison_processed']} poison record(s) reported processed")
        failures += self.extra_failures
        if f["kills_in_invocations"] == 0 and self.a.kills > 0:
            failures.append("no function kill landed in an invocation")
        for fail in failures:
            print(f"FAIL  {fail}")
        if not failures:
            where = " or ".join(n.replace("_", " ") for n in others)
            print(f"ok    every record accounted for: {summary['in']} in = processed or {where}, lost 0")
        return 1 if failures else 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pattern", choices=["01", "02", "03", *PATTERNS], required=True)
    ap.add_argument("--records", type=int, default=10000)
    ap.add_argument("--outputs", required=True, help="terraform output -json of the deployment")
    ap.add_argument("--prefix", required=True, help="the deployment's name_prefix")
    ap.add_argument("--work", required=True)
    ap.add_argument("--state-dir", help="kstream local's state dir (default <work>/local)")
    ap.add_argument("--kstream", default="target/debug/kstream")
    ap.add_argument("--functions-dir", default="target/debug")
    ap.add_argument("--seed", type=int, default=int(time.time()) % 65536)
    ap.add_argument("--feed-seconds", type=float, default=25)
    ap.add_argument("--kills", type=int, default=4)
    ap.add_argument("--outage-seconds", type=float, default=10)
    ap.add_argument("--drain-timeout", type=float, default=120)
    ap.add_argument("--request-throttle", type=float, default=0.03)
    ap.add_argument("--request-error", type=float, default=0.03)
    ap.add_argument("--request-error-after-store", type=float, default=0.03)
    ap.add_argument("--record-throttle", type=float, default=0.03)
    ap.add_argument("--record-error", type=float, default=0.01)
    ap.add_argument("--account-only", action="store_true",
                    help="only the accounting of a run whose work dir and deployment are still there")
    a = ap.parse_args()
    if a.account_only:
        run = Run(a)
        lines = (run.work / "records.jsonl").read_text().splitlines()
        ids = [run.id_of(line) for line in lines]
        run.run_id = ids[0].rsplit("-", 1)[0]
        poison = {run.id_of(line) for line in lines if '"poison"' in line}

        class Stats:
            stats = {k: 0 for k in ("put_records_requests", "request_throttled", "request_internal_failure",
                                    "request_failed_after_store", "record_throttled", "record_internal_failure")}
        run.proxy = Stats()
        return run.account(ids, poison, -1, 0)
    return Run(a).run()


if __name__ == "__main__":
    sys.exit(main())
