-- The reference's sink_table_s3: JSON lines under ticker=…/dt=yyyy-MM-dd/hr=HH/, the
-- partition columns in the path only, so a line is {"event_time":"…","price":…} exactly as
-- functions/stream-analytics writes it (src/output.rs). Files are committed on checkpoints.
CREATE TABLE filtered_rows (
  event_time TIMESTAMP(3),
  price DOUBLE,
  ticker STRING,
  dt STRING,
  hr STRING
) PARTITIONED BY (ticker, dt, hr) WITH (
  'connector' = 'filesystem',
  'path' = '${rows_path}',
  'format' = 'json',
  'json.timestamp-format.standard' = 'SQL',
  'sink.partition-commit.policy.kind' = 'success-file',
  -- A JSON (row format) part file is otherwise kept open up to 30 min or 128 MB: roll it every
  -- minute, so it is committed at the next checkpoint after that.
  'sink.rolling-policy.rollover-interval' = '1 min',
  'sink.rolling-policy.check-interval' = '10 s'
)
