-- The ticker stream, as the reference's stock_table reads it (deployed: Managed Flink).
-- Connector: flink-sql-connector-kinesis 5.0.0-1.20 (the KinesisStreamsSource: 'stream.arn',
-- 'source.init.position'). event_time must be the SQL timestamp text
-- `yyyy-MM-dd HH:mm:ss.SSS` (`kstream produce --event-time-format sql`, as the reference's
-- producer). A record that is not such JSON is skipped (json.ignore-parse-errors) instead of
-- failing the job into a restart loop; valid_ticks.sql drops records with missing fields.
CREATE TABLE stock_table (
  ticker STRING,
  price DOUBLE,
  event_time TIMESTAMP(3),
  WATERMARK FOR event_time AS event_time - INTERVAL '${watermark_delay}' HOUR TO SECOND
) WITH (
  'connector' = 'kinesis',
  'stream.arn' = '${input_stream_arn}',
  'aws.region' = '${aws_region}',
  'source.init.position' = '${source_init_position}',
  'format' = 'json',
  'json.timestamp-format.standard' = 'SQL',
  'json.ignore-parse-errors' = 'true'
)
