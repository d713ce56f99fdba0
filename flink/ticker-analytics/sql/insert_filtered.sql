-- The reference's query: every record with price > the threshold, partitioned by the hour of
-- its event time (DATE_FORMAT of a TIMESTAMP: no time zone shift).
INSERT INTO filtered_rows
SELECT
  event_time,
  price,
  ticker,
  DATE_FORMAT(event_time, 'yyyy-MM-dd') AS dt,
  DATE_FORMAT(event_time, 'HH') AS hr
FROM valid_ticks
WHERE price > ${price_threshold}
