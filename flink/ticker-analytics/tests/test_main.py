"""main.py without PyFlink: the properties it accepts and rejects, and that every SQL file renders
with the values it is given (no parameter left over or missing).

    python3 -m unittest flink/ticker-analytics/tests/test_main.py
"""

import importlib.util
import json
import sys
import tempfile
import unittest
from pathlib import Path

APP = Path(__file__).resolve().parent.parent
SPEC = importlib.util.spec_from_file_location("ticker_analytics_main", APP / "main.py")
main = importlib.util.module_from_spec(SPEC)
sys.modules[SPEC.name] = main
SPEC.loader.exec_module(main)

PROPS = {"price.threshold": "50", "window.seconds": "60", "watermark.delay.seconds": "5"}


def params(**overrides):
    return main.params_from({**PROPS, **overrides}, rows_path="s3a://b/flink/filtered", aggregates_path="s3a://b/flink/aggregates")


class RenderTest(unittest.TestCase):
    def test_every_sql_file_renders_without_leftover_parameters(self):
        values = {
            **params().values(),
            "input_stream_arn": "arn:aws:kinesis:eu-west-1:123456789012:stream/s",
            "aws_region": "eu-west-1",
            "source_init_position": "LATEST",
            "input_path": "file:///tmp/in",
        }
        files = sorted(p.name for p in main.SQL_DIR.glob("*.sql"))
        self.assertEqual(len(files), 7)
        for name in files:
            text = main.render(name, values)
            self.assertNotIn("${", text, name)

    def test_intervals_and_threshold_are_sql_literals(self):
        self.assertIn("INTERVAL '00:00:05' HOUR TO SECOND", main.render("source_kinesis.sql", {
            **params().values(), "input_stream_arn": "a", "aws_region": "r", "source_init_position": "LATEST"}))
        self.assertIn("INTERVAL '00:15:00' HOUR TO SECOND", main.render("insert_aggregates.sql", params(**{"window.seconds": "900"}).values()))
        self.assertIn("WHERE price > 42.5", main.render("insert_filtered.sql", params(**{"price.threshold": "42.5"}).values()))

    def test_a_missing_value_names_the_parameter(self):
        with self.assertRaisesRegex(main.ConfigError, r"source_kinesis.sql: no value for \$\{input_stream_arn\}"):
            main.render("source_kinesis.sql", params().values())

    def test_quotes_are_doubled_and_control_characters_refused(self):
        self.assertEqual(main.sql_string("a'b"), "a''b")
        with self.assertRaises(main.ConfigError):
            main.sql_string("a\nb")


class PropertiesTest(unittest.TestCase):
    def test_out_of_range_values_are_refused_with_their_name(self):
        for name, value in [("window.seconds", "0"), ("window.seconds", "901"), ("window.seconds", "1.5"),
                            ("watermark.delay.seconds", "-1"), ("price.threshold", "nan"),
                            ("price.threshold", "inf"), ("price.threshold", "fifty")]:
            with self.subTest(name=name, value=value), self.assertRaisesRegex(main.ConfigError, name):
                params(**{name: value})

    def test_a_missing_property_is_refused(self):
        props = dict(PROPS)
        del props["window.seconds"]
        with self.assertRaisesRegex(main.ConfigError, "window.seconds"):
            main.params_from(props, rows_path="x", aggregates_path="y")

    def test_the_kstream_group_is_read_from_the_managed_flink_file(self):
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as file:
            json.dump([{"PropertyGroupId": "kinesis.analytics.flink.run.options", "PropertyMap": {"python": "main.py"}},
                       {"PropertyGroupId": "kstream", "PropertyMap": PROPS}], file)
        try:
            self.assertEqual(main.load_properties(file.name), PROPS)
        finally:
            Path(file.name).unlink()

    def test_s3_paths_have_no_trailing_slash(self):
        self.assertEqual(main.s3_path("bucket", "flink/filtered/"), "s3a://bucket/flink/filtered")


if __name__ == "__main__":
    unittest.main()
