"""Pattern 2 on Managed Service for Apache Flink: the reference's ticker query, in PyFlink SQL.

Reads the ticker stream (``{"event_time", "ticker", "price"}``), and runs two INSERTs in one job:

- ``insert_filtered.sql``: every record with ``price > threshold`` to S3 as JSON lines under
  ``ticker=…/dt=…/hr=…/`` (the reference's ``sink_table_s3``, the layout and field names of
  functions/stream-analytics);
- ``insert_aggregates.sql``: tumbling event-time windows per ticker (count, min, max, avg, sum,
  first/last event time) under ``dt=…/hr=…/``.

The SQL lives in ``sql/*.sql``; this file only fills in their ``${name}`` parameters from the
application properties (group ``kstream``, set by infra/modules/managed-flink) and submits the
job. scripts/flink_compare.py runs the same files locally with ``source_file.sql`` in place of
``source_kinesis.sql``.
"""

from __future__ import annotations

import json
import math
import os
import string
import sys
from dataclasses import dataclass
from pathlib import Path

SQL_DIR = Path(__file__).resolve().parent / "sql"

# Where Managed Flink writes the application's environment properties.
PROPERTIES_PATH = "/etc/flink/application_properties.json"
PROPERTY_GROUP = "kstream"

# The order the statements run in: source, view, sinks, then the two INSERTs as one job.
DDL_FILES = ("valid_ticks.sql", "sink_filtered.sql", "sink_aggregates.sql")
INSERT_FILES = ("insert_filtered.sql", "insert_aggregates.sql")


class ConfigError(ValueError):
    """A property is missing or out of range: the job is not submitted."""


@dataclass(frozen=True)
class Params:
    """The validated parameters the SQL files use (see README.md for each)."""

    rows_path: str
    aggregates_path: str
    price_threshold: float
    window_seconds: int
    watermark_delay_seconds: int

    def values(self) -> dict[str, str]:
        """The ``${name}`` values, already valid SQL literal text."""
        return {
            "rows_path": sql_string(self.rows_path),
            "aggregates_path": sql_string(self.aggregates_path),
            # repr() of a finite float is a valid SQL numeric literal (e.g. 50.0, 1e+16).
            "price_threshold": repr(self.price_threshold),
            # HH:MM:SS for INTERVAL '…' HOUR TO SECOND: SECOND alone has a leading precision
            # of 2 digits (no 900) and Flink rejects SECOND(3+).
            "window_length": hh_mm_ss(self.window_seconds),
            "watermark_delay": hh_mm_ss(self.watermark_delay_seconds),
        }


def hh_mm_ss(seconds: int) -> str:
    """A whole number of seconds as HH:MM:SS."""
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def sql_string(text: str) -> str:
    """Text to place between single quotes in SQL (quotes doubled; no control characters)."""
    if any(ord(c) < 0x20 for c in text):
        raise ConfigError(f"{text!r}: control characters are not allowed")
    return text.replace("'", "''")


def bounded_int(props: dict[str, str], name: str, low: int, high: int) -> int:
    """An integer property within [low, high]."""
    text = props.get(name)
    try:
        value = int(text) if text is not None else None
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        raise ConfigError(f"property {name}={text!r}: an integer from {low} to {high}")
    return value


def finite_float(props: dict[str, str], name: str) -> float:
    """A finite number property."""
    text = props.get(name)
    try:
        value = float(text) if text is not None else math.nan
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise ConfigError(f"property {name}={text!r}: a finite number")
    return value


def required(props: dict[str, str], name: str) -> str:
    """A non-empty property."""
    value = props.get(name)
    if not value:
        raise ConfigError(f"property {name} is missing")
    return value


def params_from(props: dict[str, str], rows_path: str, aggregates_path: str) -> Params:
    """The parameters both the deployed and the local job use."""
    return Params(
        rows_path=rows_path,
        aggregates_path=aggregates_path,
        price_threshold=finite_float(props, "price.threshold"),
        window_seconds=bounded_int(props, "window.seconds", 1, 900),
        watermark_delay_seconds=bounded_int(props, "watermark.delay.seconds", 0, 3600),
    )


def render(file_name: str, values: dict[str, str]) -> str:
    """One SQL file with its ``${name}`` parameters filled in (a missing one is an error)."""
    text = (SQL_DIR / file_name).read_text(encoding="utf-8")
    try:
        return string.Template(text).substitute(values)
    except KeyError as missing:
        raise ConfigError(f"{file_name}: no value for ${{{missing.args[0]}}}") from None
    except ValueError as error:  # a lone "$" (write "$$" for a literal one)
        raise ConfigError(f"{file_name}: {error}") from None


def define(t_env, source_sql: str, params: Params):
    """Creates the source from ``source_sql``, the view and the sinks; returns the statement set
    holding the two INSERTs (not yet executed)."""
    values = params.values()
    t_env.execute_sql(source_sql)
    for name in DDL_FILES:
        t_env.execute_sql(render(name, values))
    statements = t_env.create_statement_set()
    for name in INSERT_FILES:
        statements.add_insert_sql(render(name, values))
    return statements


def load_properties(path: str = PROPERTIES_PATH) -> dict[str, str]:
    """The ``kstream`` property group of a Managed Flink properties file."""
    with open(path, encoding="utf-8") as file:
        groups = json.load(file)
    for group in groups:
        if group.get("PropertyGroupId") == PROPERTY_GROUP:
            return dict(group.get("PropertyMap", {}))
    raise ConfigError(f"{path}: no property group {PROPERTY_GROUP!r}")


def s3_path(bucket: str, prefix: str) -> str:
    """s3a://bucket/prefix without a trailing slash (Flink's S3 filesystem)."""
    return f"s3a://{bucket}/{prefix.rstrip('/')}"


def main() -> None:
    """Deployed entry point: define the job and submit it (Managed Flink runs it; do not wait)."""
    from pyflink.table import EnvironmentSettings, TableEnvironment

    props = load_properties(os.environ.get("KSTREAM_FLINK_PROPERTIES", PROPERTIES_PATH))
    bucket = required(props, "output.bucket")
    params = params_from(
        props,
        rows_path=s3_path(bucket, required(props, "output.rows.prefix")),
        aggregates_path=s3_path(bucket, required(props, "output.aggregates.prefix")),
    )
    source = render(
        "source_kinesis.sql",
        {
            "input_stream_arn": sql_string(required(props, "input.stream.arn")),
            "aws_region": sql_string(required(props, "aws.region")),
            "source_init_position": sql_string(props.get("source.init.position", "LATEST")),
            **params.values(),
        },
    )
    t_env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    define(t_env, source, params).execute()


if __name__ == "__main__":
    try:
        main()
    except ConfigError as error:
        print(f"ticker-analytics: {error}", file=sys.stderr)
        sys.exit(2)
