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
  'sink.partition-commit.policy.kind' = 'success-file'
)
