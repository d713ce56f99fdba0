-- Tumbling event-time windows per ticker (window table-valued function). A window is emitted
-- once the watermark (newest event time - the delay) passes its end; records arriving after
-- that are late and not counted (Flink drops them; numLateRecordsDropped counts them).
INSERT INTO window_aggregates
SELECT
  window_start,
  window_end,
  ticker,
  COUNT(*) AS `count`,
  MIN(price) AS min_price,
  MAX(price) AS max_price,
  AVG(price) AS avg_price,
  SUM(price) AS sum_price,
  MIN(event_time) AS first_event_time,
  MAX(event_time) AS last_event_time,
  DATE_FORMAT(window_start, 'yyyy-MM-dd') AS dt,
  DATE_FORMAT(window_start, 'HH') AS hr
FROM TABLE(
  TUMBLE(TABLE valid_ticks, DESCRIPTOR(event_time), INTERVAL '${window_length}' HOUR TO SECOND)
)
GROUP BY window_start, window_end, ticker
