-- The records functions/stream-analytics accepts (src/ticker.rs): every field present, a ticker
-- of 1 to 16 characters from [A-Za-z0-9._-] (it becomes an S3 key segment). JSON has no NaN or
-- infinity, so a parsed price is finite. A filter keeps event_time a time attribute.
CREATE TEMPORARY VIEW valid_ticks AS
SELECT ticker, price, event_time
FROM stock_table
WHERE event_time IS NOT NULL
  AND price IS NOT NULL
  AND ticker IS NOT NULL
  AND CHAR_LENGTH(ticker) BETWEEN 1 AND 16
  AND NOT REGEXP(ticker, '[^A-Za-z0-9._-]')
