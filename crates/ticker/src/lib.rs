//! Pattern 2's stock-ticker records, as `kstream produce` and the `scheduled-producer` function
//! both write them.
//!
//! Each record is `{"event_time":"2026-11-22T05:00:00.123Z","ticker":"AAPL","price":42.17}`:
//! `event_time` is the send time in UTC with milliseconds, RFC 3339 (Flink's `TIMESTAMP(3)` in
//! ISO-8601 mode) or the reference producer's `yyyy-MM-dd HH:mm:ss.SSS` (`2026-11-22
//! 05:00:00.123`: `java.sql.Timestamp`'s text, which the reference's Flink table `stock_table`
//! reads with the JSON format's default SQL timestamp standard); `ticker` is one of
//! [`TICKERS`]; `price` is uniform in [0, 100) with two decimals. Producers use the ticker as
//! the partition key, so the records of one ticker stay in order on one shard.
//!
//! # Example
//!
//! ```
//! use kstream_ticker::{EventTimeFormat, Ticker};
//!
//! let mut rng = rand::rng();
//! let record = Ticker::random(&mut rng, EventTimeFormat::Sql);
//! let json = record.to_json();
//! assert!(json.starts_with(br#"{"event_time":""#));
//! assert!(kstream_ticker::TICKERS.contains(&record.ticker()));
//! ```

use chrono::{DateTime, SecondsFormat, Utc};
use rand::Rng;
use serde::Serialize;

/// The tickers of the reference producer.
pub const TICKERS: [&str; 5] = ["AAPL", "AMZN", "MSFT", "INTC", "TBV"];

/// How `event_time` is written (always UTC, always milliseconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum EventTimeFormat {
    /// RFC 3339: `2026-11-22T05:00:00.123Z`.
    Rfc3339,
    /// `yyyy-MM-dd HH:mm:ss.SSS`, as the reference's Java KPL demo writes a `java.sql.Timestamp`
    /// and Flink SQL's JSON format reads `TIMESTAMP(3)` by default: `2026-11-22 05:00:00.123`.
    Sql,
}

impl EventTimeFormat {
    /// `time` in this format.
    pub fn format(self, time: DateTime<Utc>) -> String {
        match self {
            Self::Rfc3339 => time.to_rfc3339_opts(SecondsFormat::Millis, true),
            Self::Sql => time.format("%Y-%m-%d %H:%M:%S%.3f").to_string(),
        }
    }
}

/// A name that is not an [`EventTimeFormat`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("event time format {0:?}: `sql` or `rfc3339`")]
pub struct UnknownFormat(pub String);

impl std::str::FromStr for EventTimeFormat {
    type Err = UnknownFormat;

    /// `sql` or `rfc3339`, in any case.
    fn from_str(s: &str) -> Result<Self, UnknownFormat> {
        match s.trim().to_ascii_lowercase().as_str() {
            "sql" => Ok(Self::Sql),
            "rfc3339" => Ok(Self::Rfc3339),
            _ => Err(UnknownFormat(s.to_owned())),
        }
    }
}

/// One stock-ticker record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ticker {
    event_time: String,
    ticker: &'static str,
    price: f64,
}

impl Ticker {
    /// A record stamped now, `event_time` written in `format`.
    pub fn random(rng: &mut impl Rng, format: EventTimeFormat) -> Self {
        Self::random_at(rng, format, Utc::now())
    }

    /// A record stamped `time`, `event_time` written in `format`.
    pub fn random_at(rng: &mut impl Rng, format: EventTimeFormat, time: DateTime<Utc>) -> Self {
        let ticker = TICKERS[rng.random_range(0..TICKERS.len())];
        let price = (rng.random_range(0.0..100.0f64) * 100.0).floor() / 100.0;
        Self {
            event_time: format.format(time),
            ticker,
            price,
        }
    }

    /// The ticker (the partition key producers use).
    pub fn ticker(&self) -> &'static str {
        self.ticker
    }

    /// The price.
    pub fn price(&self) -> f64 {
        self.price
    }

    /// The event time, as written.
    pub fn event_time(&self) -> &str {
        &self.event_time
    }

    /// The record's JSON bytes (`{"event_time":…,"ticker":…,"price":…}`, in that order).
    pub fn to_json(&self) -> Vec<u8> {
        // Strings and a finite f64: serializing cannot fail.
        serde_json::to_vec(self).expect("a ticker record serializes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticker_records_have_the_pattern_2_shape() {
        let mut rng = rand::rng();
        for _ in 0..100 {
            let record = Ticker::random(&mut rng, EventTimeFormat::Rfc3339);
            let json: serde_json::Value = serde_json::from_slice(&record.to_json()).unwrap();
            assert_eq!(json, serde_json::to_value(&record).unwrap());
            assert_eq!(json.as_object().unwrap().len(), 3);
            let time = json["event_time"].as_str().unwrap();
            let parsed = chrono::DateTime::parse_from_rfc3339(time).unwrap();
            assert_eq!(
                parsed.timestamp_subsec_nanos() % 1_000_000,
                0,
                "millisecond precision"
            );
            assert_eq!(time.len(), "2026-11-22T05:00:00.123Z".len());
            assert!(TICKERS.contains(&json["ticker"].as_str().unwrap()));
            let price = json["price"].as_f64().unwrap();
            assert!((0.0..100.0).contains(&price));
            assert_eq!(price, record.price());
        }
    }

    #[test]
    fn sql_event_time_is_the_reference_producers_timestamp_text() {
        let time = chrono::DateTime::parse_from_rfc3339("2026-11-22T05:00:00.007Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(EventTimeFormat::Sql.format(time), "2026-11-22 05:00:00.007");
        assert_eq!(
            EventTimeFormat::Rfc3339.format(time),
            "2026-11-22T05:00:00.007Z"
        );
        let mut rng = rand::rng();
        let record = Ticker::random(&mut rng, EventTimeFormat::Sql);
        let json: serde_json::Value = serde_json::from_slice(&record.to_json()).unwrap();
        let text = json["event_time"].as_str().unwrap();
        let parsed = chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.3f").unwrap();
        assert_eq!(text.len(), "2026-11-22 05:00:00.123".len());
        assert!(
            (Utc::now().naive_utc() - parsed).num_seconds().abs() < 5,
            "stamped now, in UTC"
        );
    }

    #[test]
    fn formats_parse_by_name_and_refuse_others() {
        assert_eq!("sql".parse::<EventTimeFormat>(), Ok(EventTimeFormat::Sql));
        assert_eq!(
            " RFC3339 ".parse::<EventTimeFormat>(),
            Ok(EventTimeFormat::Rfc3339)
        );
        let err = "iso".parse::<EventTimeFormat>().unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"event time format "iso": `sql` or `rfc3339`"#
        );
    }
}
