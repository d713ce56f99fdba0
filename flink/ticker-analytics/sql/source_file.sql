-- The same table over JSON-lines files (local runs: scripts/flink-compare.sh). Same columns,
-- same watermark, same JSON options as source_kinesis.sql; only the connector differs.
CREATE TABLE stock_table (
  ticker STRING,
  price DOUBLE,
  event_time TIMESTAMP(3),
  WATERMARK FOR event_time AS event_time - INTERVAL '${watermark_delay}' HOUR TO SECOND
) WITH (
  'connector' = 'filesystem',
  'path' = '${input_path}',
  'format' = 'json',
  'json.timestamp-format.standard' = 'SQL',
  'json.ignore-parse-errors' = 'true'
)
