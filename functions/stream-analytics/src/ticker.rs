//! One stock-ticker record: `{"event_time": …, "ticker": "AAPL", "price": 72.51}`.
//!
//! `event_time` is read in either form `kstream produce` writes: RFC 3339
//! (`2026-11-22T05:00:00.123Z`) or the reference producer's SQL timestamp
//! (`2026-11-22 05:00:00.123`, taken as UTC, as the reference's Flink table does with
//! `TIMESTAMP(3)`). Every field is bounded, so a hostile record fails alone with a reason.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Deserialize;

use crate::error::RecordError;

/// Longest ticker symbol accepted (the reference's Flink table is `ticker VARCHAR(6)`; a little
/// room for exchange suffixes). The ticker becomes an S3 key segment, so its characters are
/// bounded too: ASCII letters, digits, `.`, `-` and `_`.
pub const MAX_TICKER_LEN: usize = 16;

/// A parsed ticker record.
#[derive(Debug, Clone, PartialEq)]
pub struct Ticker {
    /// When the producer stamped the record (UTC, millisecond precision or finer).
    pub event_time: DateTime<Utc>,
    /// The ticker symbol.
    pub ticker: String,
    /// The price: finite.
    pub price: f64,
}

#[derive(Deserialize)]
struct Wire<'a> {
    #[serde(borrow)]
    event_time: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow)]
    ticker: Option<std::borrow::Cow<'a, str>>,
    price: Option<serde_json::Value>,
}

impl Ticker {
    /// Parses one user record's bytes.
    pub fn parse(bytes: &[u8]) -> Result<Self, RecordError> {
        let text = std::str::from_utf8(bytes).map_err(|e| RecordError::Utf8(e.valid_up_to()))?;
        let wire: Wire<'_> = serde_json::from_str(text).map_err(RecordError::Json)?;
        let event_time = wire
            .event_time
            .ok_or(RecordError::MissingField("event_time"))?;
        let event_time = parse_event_time(&event_time)?;
        let ticker = wire.ticker.ok_or(RecordError::MissingField("ticker"))?;
        if ticker.is_empty()
            || ticker.len() > MAX_TICKER_LEN
            || !ticker
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
        {
            return Err(RecordError::BadTicker(ticker.chars().take(40).collect()));
        }
        let price = match wire.price {
            None | Some(serde_json::Value::Null) => return Err(RecordError::MissingField("price")),
            Some(serde_json::Value::Number(n)) => n.as_f64().filter(|p| p.is_finite()),
            Some(_) => None,
        }
        .ok_or(RecordError::BadPrice)?;
        Ok(Self {
            event_time,
            ticker: ticker.into_owned(),
            price,
        })
    }
}

/// RFC 3339, or `yyyy-MM-dd HH:mm:ss[.fraction]` as UTC.
pub fn parse_event_time(text: &str) -> Result<DateTime<Utc>, RecordError> {
    if text.len() > 40 {
        return Err(RecordError::BadEventTime(text.chars().take(40).collect()));
    }
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Ok(time.with_timezone(&Utc));
    }
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f")
        .map(|t| t.and_utc())
        .map_err(|_| RecordError::BadEventTime(text.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 13's bounds, as this parser has them: nothing but the three fields is kept,
    /// and a hostile record fails alone with a reason (or, when the nesting is in a field
    /// it never reads, is read in linear memory without recursion).
    #[test]
    fn hostile_records_fail_alone_or_cost_linear_memory() {
        let deep = |field: &str| {
            format!(
                r#"{{"event_time":"2026-11-22T05:00:00Z","ticker":"AAPL","price":1,"{field}":{}0{}}}"#,
                "[".repeat(200_000),
                "]".repeat(200_000)
            )
        };
        // a deep price: serde_json's depth limit (128)
        let deep_price = deep("price").replacen(r#""price":1,"#, "", 1);
        let err = Ticker::parse(deep_price.as_bytes()).unwrap_err();
        assert_eq!(err.kind(), "Json");
        assert!(
            err.to_string().contains("recursion limit exceeded"),
            "{err}"
        );
        // deep in a field the parser skips: skipped iteratively, the record is good
        assert!(Ticker::parse(deep("other").as_bytes()).is_ok());
        // long fields are refused before they are kept
        let long_ticker = format!(
            r#"{{"event_time":"2026-11-22T05:00:00Z","ticker":"{}","price":1}}"#,
            "A".repeat(1_000_000)
        );
        assert_eq!(
            Ticker::parse(long_ticker.as_bytes()).unwrap_err().kind(),
            "BadTicker"
        );
        let long_time = format!(
            r#"{{"event_time":"{}","ticker":"A","price":1}}"#,
            "2".repeat(1_000_000)
        );
        assert_eq!(
            Ticker::parse(long_time.as_bytes()).unwrap_err().kind(),
            "BadEventTime"
        );
    }

    #[test]
    fn both_event_time_forms_parse_to_the_same_instant() {
        let a = Ticker::parse(
            br#"{"event_time":"2026-11-22T05:00:00.123Z","ticker":"AAPL","price":72.5}"#,
        )
        .unwrap();
        let b = Ticker::parse(
            br#"{"event_time":"2026-11-22 05:00:00.123","ticker":"AAPL","price":72.5}"#,
        )
        .unwrap();
        assert_eq!(a, b);
        assert_eq!(a.event_time.timestamp_millis(), 1_795_323_600_123);
    }

    #[test]
    fn bad_records_fail_with_a_reason() {
        let cases: [(&[u8], &str); 8] = [
            (b"\xff", "UTF-8"),
            (b"not json", "JSON"),
            (br#"{"ticker":"A","price":1}"#, "event_time"),
            (
                br#"{"event_time":"yesterday","ticker":"A","price":1}"#,
                "event_time",
            ),
            (
                br#"{"event_time":"2026-11-22 05:00:00","price":1}"#,
                "ticker",
            ),
            (
                br#"{"event_time":"2026-11-22 05:00:00","ticker":"../x","price":1}"#,
                "ticker",
            ),
            (
                br#"{"event_time":"2026-11-22 05:00:00","ticker":"A","price":"1"}"#,
                "price",
            ),
            (
                br#"{"event_time":"2026-11-22 05:00:00","ticker":"A"}"#,
                "price",
            ),
        ];
        for (bytes, word) in cases {
            let error = Ticker::parse(bytes).unwrap_err().to_string();
            assert!(error.contains(word), "{error:?} should name {word}");
        }
    }
}
