"""Runs pattern 2's Flink SQL locally over produced ticker records and compares it with the
Lambda's S3 output (scripts/flink-compare.sh sets up the venv and calls this).

    flink_compare.py --records RECORDS.jsonl --lambda-output DIR [options]

RECORDS.jsonl: one produced record per line, ``{"event_time", "ticker", "price"}`` with
``event_time`` in either form ``kstream produce`` writes (RFC 3339 or ``yyyy-MM-dd HH:mm:ss.SSS``,
UTC), plus optionally ``arrival_time`` (when Kinesis stored it: ApproximateArrivalTimestamp, as
epoch seconds or either text form). Or the output of ``kstream tail --from trim-horizon`` (lines
with ``data`` and ``approximateArrivalTimestamp``), which gives both. Lines that are not ticker
records as the Lambda reads them (src/ticker.rs) are reported and left out: neither engine
counts them (README.md of flink/ticker-analytics lists where Flink's JSON reader is laxer).

DIR: the Lambda's objects as S3 keys below DIR: rows under ``<rows prefix>ticker=…/dt=…/hr=…/``,
aggregates under ``<aggregates prefix>dt=…/hr=…/``.

What is compared, and why (Flink windows by EVENT time, the Lambda by ARRIVAL time, per shard):

1. Filtered rows: as multisets of (ticker, dt, hr, event_time text, price), exactly. Neither
   engine windows them, so they must agree record for record, text of the timestamp included.
2. Per-ticker totals over the run: the sum of every window's count, per ticker. Each record is
   counted once by each engine whatever window it falls in, so the totals must agree, provided
   (a) the Lambda closed every window that holds a record (checked when arrival times are given)
   and (b) Flink dropped no record as late: that needs no record more than the watermark delay
   behind an earlier one in the file. (b) is checked; the run fails with the reason otherwise.
3. Per-window counts, per ticker: only with arrival times. The Lambda's windows are aligned to
   multiples of the window length (as Lambda's tumbling windows are); a window is comparable when
   no record has its event time in it and its arrival time outside it, or the reverse. For those
   windows Flink's count must equal the sum of the Lambda's per-shard counts. Windows that
   records straddle are listed, not compared.
Also: every field Flink writes in an aggregate line must exist in the Lambda's lines.

Prints one JSON document (the Flink results and the comparison) and exits 1 on a disagreement,
2 on bad input.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import importlib.util
import json
import math
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
APP_DIR = REPO / "flink" / "ticker-analytics"


class InputError(Exception):
    """The records file or the Lambda output cannot be read as described."""


def load_app():
    """flink/ticker-analytics/main.py, the module the deployed job runs."""
    spec = importlib.util.spec_from_file_location("ticker_analytics_main", APP_DIR / "main.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def parse_time(value) -> dt.datetime:
    """RFC 3339, ``yyyy-MM-dd HH:mm:ss[.f]`` (UTC) or epoch seconds, as an aware UTC datetime."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return dt.datetime.fromtimestamp(value, tz=dt.timezone.utc)
    if not isinstance(value, str) or len(value) > 40:
        raise ValueError(f"not a time: {value!r}")
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    parsed = dt.datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.timezone.utc)
    return parsed.astimezone(dt.timezone.utc)


def sql_millis(time: dt.datetime) -> str:
    """The producer's SQL form, ``yyyy-MM-dd HH:mm:ss.SSS`` (what Flink's JSON format reads)."""
    return time.strftime("%Y-%m-%d %H:%M:%S.") + f"{time.microsecond // 1000:03d}"


def epoch_ms(time: dt.datetime) -> int:
    return round(time.timestamp() * 1000)


def read_records(path: Path):
    """(records as dicts with parsed times, lines unparsable as ticker records)."""
    records, unparsable = [], 0
    with path.open(encoding="utf-8") as file:
        for number, line in enumerate(file, 1):
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
                if isinstance(raw, dict) and "data" in raw and "approximateArrivalTimestamp" in raw:
                    # A `kstream tail` line: the user record and when Kinesis stored it.
                    if not isinstance(raw["data"], dict):
                        raise ValueError(f"data is {raw.get('dataEncoding', 'not JSON')}")
                    raw = {**raw["data"], "arrival_time": raw["approximateArrivalTimestamp"]}
                event = parse_time(raw["event_time"])
                arrival = parse_time(raw["arrival_time"]) if "arrival_time" in raw else None
                ticker, price = raw["ticker"], raw["price"]
                if not isinstance(ticker, str) or not isinstance(price, (int, float)) or isinstance(price, bool):
                    raise ValueError("ticker must be a string and price a number")
            except (ValueError, KeyError, TypeError) as error:
                # The engines both reject such a record (Lambda: malformed; Flink: skipped).
                print(f"flink-compare: {path}:{number}: not a ticker record ({error}); both engines skip it", file=sys.stderr)
                unparsable += 1
                continue
            records.append({"event": event, "arrival": arrival, "ticker": ticker, "price": float(price)})
    if not records:
        raise InputError(f"{path}: no ticker records")
    if all(r["arrival"] is not None for r in records):
        # `kstream tail` lists shard after shard; a Flink source reads the shards side by side, so
        # it sees the records in about the order they arrived (stable: a shard's order is kept).
        records.sort(key=lambda r: r["arrival"])
    return records, unparsable


def write_flink_input(records, path: Path) -> None:
    """The records as the deployed source sees them (event_time in the producer's SQL form)."""
    with path.open("w", encoding="utf-8") as file:
        for r in records:
            file.write(json.dumps({"event_time": sql_millis(r["event"]), "ticker": r["ticker"], "price": r["price"]}) + "\n")


def run_flink(app, input_path: Path, out: Path, threshold: float, window: int, delay: int) -> None:
    """The deployed SQL with source_file.sql as the source; waits for the bounded job to end."""
    from pyflink.table import EnvironmentSettings, TableEnvironment

    t_env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    config = t_env.get_config()
    config.set("parallelism.default", "1")
    # The file sink commits on checkpoints; the final one (end of input) commits the rest.
    config.set("execution.checkpointing.interval", "1 s")
    config.set("table.local-time-zone", "UTC")
    props = {"price.threshold": repr(threshold), "window.seconds": str(window), "watermark.delay.seconds": str(delay)}
    params = app.params_from(props, rows_path=(out / "filtered").as_uri(), aggregates_path=(out / "aggregates").as_uri())
    source = app.render("source_file.sql", {"input_path": app.sql_string(input_path.as_uri()), **params.values()})
    app.define(t_env, source, params).execute().wait()


def data_files(root: Path):
    """Committed output files below root (not Flink's hidden in-progress files or _SUCCESS)."""
    if not root.is_dir():
        return []
    return sorted(p for p in root.rglob("*") if p.is_file() and not p.name.startswith((".", "_")))


def partition_values(path: Path, root: Path) -> dict[str, str]:
    values = {}
    for part in path.relative_to(root).parts[:-1]:
        if "=" not in part:
            raise InputError(f"{path}: {part!r} is not a key=value partition directory")
        key, value = part.split("=", 1)
        values[key] = value
    return values


def read_lines(path: Path):
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                yield json.loads(line)
            except json.JSONDecodeError as error:
                raise InputError(f"{path}:{number}: not JSON ({error})") from None


def read_rows(root: Path):
    """Filtered rows below root as a Counter of (ticker, dt, hr, event_time, price); and the
    field-name sets seen."""
    rows, fields = collections.Counter(), set()
    for path in data_files(root):
        part = partition_values(path, root)
        if set(part) != {"ticker", "dt", "hr"}:
            raise InputError(f"{path}: partitions {sorted(part)}, expected ticker, dt, hr")
        for line in read_lines(path):
            fields.add(tuple(line))
            rows[(part["ticker"], part["dt"], part["hr"], line["event_time"], float(line["price"]))] += 1
    return rows, fields


def read_aggregates(root: Path):
    """Aggregate lines below root, and the field names seen."""
    lines, fields = [], set()
    for path in data_files(root):
        part = partition_values(path, root)
        if set(part) != {"dt", "hr"}:
            raise InputError(f"{path}: partitions {sorted(part)}, expected dt, hr")
        for line in read_lines(path):
            fields.update(line)
            lines.append(line)
    return lines, fields


def window_of(time: dt.datetime, window: int) -> str:
    """Start of the aligned window holding time, as the engines print it (no fraction)."""
    start = math.floor(time.timestamp() / window) * window
    return dt.datetime.fromtimestamp(start, tz=dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def late_records(records, delay: int):
    """Records more than the watermark delay behind the newest event time before them: Flink
    may drop them from their window (when the watermark already passed its end)."""
    newest, late = None, []
    for r in records:
        if newest is not None and epoch_ms(r["event"]) < epoch_ms(newest) - delay * 1000:
            late.append(r)
        newest = r["event"] if newest is None else max(newest, r["event"])
    return late


def compare(records, unparsable, flink_dir: Path, lambda_dir: Path, args) -> dict:
    problems = []
    flink_rows, flink_row_fields = read_rows(flink_dir / "filtered")
    lambda_rows, lambda_row_fields = read_rows(lambda_dir / args.rows_prefix)
    flink_aggs, flink_agg_fields = read_aggregates(flink_dir / "aggregates")
    lambda_aggs, lambda_agg_fields = read_aggregates(lambda_dir / args.aggregates_prefix)
    if not lambda_aggs:
        raise InputError(f"{lambda_dir / args.aggregates_prefix}: no aggregate lines")

    # 1. Filtered rows, as multisets.
    only_flink, only_lambda = flink_rows - lambda_rows, lambda_rows - flink_rows
    if only_flink or only_lambda:
        problems.append({
            "check": "filtered rows",
            "only_in_flink": [list(k) + [n] for k, n in sorted(only_flink.items())][:20],
            "only_in_lambda": [list(k) + [n] for k, n in sorted(only_lambda.items())][:20],
        })
    for fields in flink_row_fields | lambda_row_fields:
        if fields != ("event_time", "price"):
            problems.append({"check": "row fields", "fields": list(fields), "expected": ["event_time", "price"]})
    missing_fields = flink_agg_fields - lambda_agg_fields
    if missing_fields:
        problems.append({"check": "aggregate fields", "flink_only": sorted(missing_fields)})

    # 2. Per-ticker totals over the run.
    flink_totals, lambda_totals = collections.Counter(), collections.Counter()
    flink_windows, lambda_windows = collections.Counter(), collections.Counter()
    for line in flink_aggs:
        flink_totals[line["ticker"]] += line["count"]
        flink_windows[(line["window_start"], line["ticker"])] += line["count"]
    for line in lambda_aggs:
        lambda_totals[line["ticker"]] += line["count"]
        lambda_windows[(line["window_start"], line["ticker"])] += line["count"]
    late = late_records(records, args.watermark_delay)
    if late:
        raise InputError(
            f"{len(late)} record(s) are more than the watermark delay ({args.watermark_delay} s) behind an "
            f"earlier one (first: {sql_millis(late[0]['event'])} {late[0]['ticker']}): Flink may drop them as late, "
            "so window counts cannot be compared; raise --watermark-delay")
    closed = {line["window_start"] for line in lambda_aggs}
    with_arrival = all(r["arrival"] is not None for r in records)
    if with_arrival:
        unclosed = sorted({window_of(r["arrival"], args.window_seconds) for r in records} - closed)
        if unclosed:
            raise InputError(f"the Lambda has not closed arrival window(s) {unclosed}: run the pipeline until they close")
    if flink_totals != lambda_totals:
        problems.append({"check": "per-ticker totals", "flink": dict(flink_totals), "lambda": dict(lambda_totals)})

    # 3. Per-window counts where event-time and arrival-time windows coincide.
    per_window = {"compared": [], "straddled": [], "reason": None}
    if not with_arrival:
        per_window["reason"] = "no arrival_time in the records: per-window counts are not compared"
    else:
        misaligned = sorted(w for w in closed if window_of(parse_time(w), args.window_seconds) != w)
        if misaligned:
            raise InputError(f"Lambda windows {misaligned[:5]} are not aligned to {args.window_seconds} s")
        straddled = set()
        for r in records:
            e, a = window_of(r["event"], args.window_seconds), window_of(r["arrival"], args.window_seconds)
            if e != a:
                straddled.update((e, a))
        windows = sorted({w for w, _ in flink_windows} | {w for w, _ in lambda_windows})
        for w in windows:
            if w in straddled:
                per_window["straddled"].append(w)
                continue
            per_window["compared"].append(w)
            tickers = {t for (x, t) in flink_windows if x == w} | {t for (x, t) in lambda_windows if x == w}
            for t in sorted(tickers):
                if flink_windows[(w, t)] != lambda_windows[(w, t)]:
                    problems.append({"check": "window count", "window_start": w, "ticker": t,
                                     "flink": flink_windows[(w, t)], "lambda": lambda_windows[(w, t)]})
        if not per_window["compared"]:
            per_window["reason"] = "every window is straddled by some record: none compared"

    return {
        "records": len(records),
        "unparsable_records": unparsable,
        "flink": {
            "filtered_rows": [
                {"ticker": k[0], "dt": k[1], "hr": k[2], "event_time": k[3], "price": k[4], "copies": n}
                for k, n in sorted(flink_rows.items())
            ],
            "window_counts": [
                {"window_start": w, "ticker": t, "count": n} for (w, t), n in sorted(flink_windows.items())
            ],
            "ticker_totals": dict(sorted(flink_totals.items())),
        },
        "lambda": {
            "filtered_rows": sum(lambda_rows.values()),
            "ticker_totals": dict(sorted(lambda_totals.items())),
        },
        "per_window": per_window,
        "agree": not problems,
        "problems": problems,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=Path, required=True, help="JSON lines of produced records")
    parser.add_argument("--lambda-output", type=Path, required=True, help="directory of the Lambda's S3 objects")
    parser.add_argument("--rows-prefix", default="filtered/", help="the Lambda's ROWS_PREFIX (default filtered/)")
    parser.add_argument("--aggregates-prefix", default="aggregates/", help="the Lambda's AGGREGATES_PREFIX (default aggregates/)")
    parser.add_argument("--threshold", type=float, default=50.0, help="PRICE_THRESHOLD (default 50)")
    parser.add_argument("--window-seconds", type=int, default=60, help="window length, 1 to 900 (default 60)")
    parser.add_argument("--watermark-delay", type=int, default=5, help="watermark delay in seconds (default 5)")
    parser.add_argument("--work-dir", type=Path, help="keep Flink's input and output here (default: a temporary directory)")
    args = parser.parse_args()

    app = load_app()
    try:
        records, unparsable = read_records(args.records)
        if not args.lambda_output.is_dir():
            raise InputError(f"{args.lambda_output}: not a directory")
        with tempfile.TemporaryDirectory(prefix="flink-compare-") as tmp:
            work = args.work_dir or Path(tmp)
            work.mkdir(parents=True, exist_ok=True)
            out = work / "flink-output"
            if out.exists() and any(out.iterdir()):
                raise InputError(f"{out}: not empty (a previous run's output): remove it or pick another --work-dir")
            input_path = work / "flink-input" / "records.json"
            input_path.parent.mkdir(exist_ok=True)
            write_flink_input(records, input_path)
            run_flink(app, input_path.parent, out, args.threshold, args.window_seconds, args.watermark_delay)
            result = compare(records, unparsable, out, args.lambda_output, args)
    except (InputError, app.ConfigError, OSError) as error:
        print(f"flink-compare: {error}", file=sys.stderr)
        return 2
    json.dump(result, sys.stdout, indent=2)
    print()
    if not result["agree"]:
        print(f"flink-compare: the engines disagree ({len(result['problems'])} problem(s), see \"problems\")", file=sys.stderr)
        return 1
    print(f"flink-compare: agree on {sum(r['copies'] for r in result['flink']['filtered_rows'])} filtered rows "
          f"and {sum(result['flink']['ticker_totals'].values())} windowed records "
          f"({len(result['per_window']['compared'])} windows compared one by one)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
