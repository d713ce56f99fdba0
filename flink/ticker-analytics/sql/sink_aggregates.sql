-- One line per (window, ticker) under dt=yyyy-MM-dd/hr=HH/ of the window start, with the
-- field names of functions/stream-analytics' aggregate lines (src/output.rs). Flink windows
-- the whole stream, so the Lambda's per-shard fields (stream, shard_id, terminated_early)
-- have no counterpart here.
CREATE TABLE window_aggregates (
  window_start TIMESTAMP(3),
  window_end TIMESTAMP(3),
  ticker STRING,
  `count` BIGINT,
  min_price DOUBLE,
  max_price DOUBLE,
  avg_price DOUBLE,
  sum_price DOUBLE,
  first_event_time TIMESTAMP(3),
  last_event_time TIMESTAMP(3),
  dt STRING,
  hr STRING
) PARTITIONED BY (dt, hr) WITH (
  'connector' = 'filesystem',
  'path' = '${aggregates_path}',
  'format' = 'json',
  'json.timestamp-format.standard' = 'SQL',
  'sink.partition-commit.policy.kind' = 'success-file',
  -- A JSON (row format) part file is otherwise kept open up to 30 min or 128 MB: roll it every
  -- minute, so it is committed at the next checkpoint after that.
  'sink.rolling-policy.rollover-interval' = '1 min',
  'sink.rolling-policy.check-interval' = '10 s'
)
