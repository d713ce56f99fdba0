//! The state a tumbling window carries from invoke to invoke: per ticker, count, min, max and
//! sum of the price and the first and last event time; the records seen and the malformed ones.
//!
//! Lambda hands the state the previous invoke returned back to the next one, as a JSON object
//! (`state`), and drops it after a successful final invoke. This crate keeps its whole state as
//! one JSON string under the key [`STATE_KEY`] (values must be strings for the other runtimes'
//! types; see `event.rs`). The state is bounded: at most [`MAX_TICKERS`] tickers, a few hundred
//! bytes each, so it stays far below Lambda's 1 MB per shard. The rows that pass the filter are
//! not kept in the state: each invoke writes its own to S3 (see `output.rs`).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{RecordError, StateError};
use crate::ticker::Ticker;

/// The key of this function's entry in the window state.
pub const STATE_KEY: &str = "kstream";

/// Most distinct tickers one (shard, window) aggregates; a record of one more fails
/// ([`RecordError::TooManyTickers`]). 2,000 tickers keep the state under about 400 kB.
pub const MAX_TICKERS: usize = 2_000;

/// The aggregate of one ticker in one window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TickerStats {
    /// Records of this ticker.
    pub count: u64,
    /// Lowest price.
    pub min: f64,
    /// Highest price.
    pub max: f64,
    /// Sum of the prices.
    pub sum: f64,
    /// Earliest event time seen.
    pub first: DateTime<Utc>,
    /// Latest event time seen.
    pub last: DateTime<Utc>,
}

impl TickerStats {
    fn new(record: &Ticker) -> Self {
        Self {
            count: 1,
            min: record.price,
            max: record.price,
            sum: record.price,
            first: record.event_time,
            last: record.event_time,
        }
    }

    fn add(&mut self, record: &Ticker) {
        self.count += 1;
        self.min = self.min.min(record.price);
        self.max = self.max.max(record.price);
        self.sum += record.price;
        self.first = self.first.min(record.event_time);
        self.last = self.last.max(record.event_time);
    }

    /// The mean price.
    pub fn avg(&self) -> f64 {
        self.sum / self.count as f64
    }
}

/// What one (shard, window) has aggregated so far.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WindowState {
    /// Per ticker, in ticker order.
    #[serde(default)]
    pub tickers: BTreeMap<String, TickerStats>,
    /// User records aggregated.
    #[serde(default)]
    pub records: u64,
    /// Records that failed (reported in `batchItemFailures`; counted once per attempt).
    #[serde(default)]
    pub malformed: u64,
    /// Filtered-row objects written so far in this window segment: the next part number.
    #[serde(default)]
    pub parts: u32,
    /// Sequence number of the first record of this window segment (a segment is the whole
    /// window unless Lambda terminated it early): part of every object key, so that a fresh
    /// segment after an early termination never overwrites the previous segment's objects.
    #[serde(default)]
    pub segment: Option<String>,
}

impl WindowState {
    /// The state from the event's `state` object: empty when this function's key is absent.
    pub fn from_state<'a>(
        mut entries: impl Iterator<Item = (&'a str, &'a serde_json::Value)>,
    ) -> Result<Self, StateError> {
        let Some((_, value)) = entries.find(|(k, _)| *k == STATE_KEY) else {
            return Ok(Self::default());
        };
        let text = value.as_str().ok_or(StateError::NotAString)?;
        serde_json::from_str(text).map_err(StateError::Json)
    }

    /// The state as the response's `state` object.
    pub fn to_state(&self) -> BTreeMap<String, String> {
        let text = serde_json::to_string(self).expect("the window state always serializes");
        BTreeMap::from([(STATE_KEY.to_owned(), text)])
    }

    /// Whether `records` (one Kinesis record's user records) fit: a record that would take the
    /// window past [`MAX_TICKERS`] tickers fails as a whole.
    pub fn admit(&self, records: &[Ticker]) -> Result<(), RecordError> {
        let new: BTreeSet<&str> = records
            .iter()
            .map(|t| t.ticker.as_str())
            .filter(|t| !self.tickers.contains_key(*t))
            .collect();
        if self.tickers.len() + new.len() > MAX_TICKERS {
            return Err(RecordError::TooManyTickers(MAX_TICKERS));
        }
        Ok(())
    }

    /// Adds one record to its ticker's aggregate ([`admit`](Self::admit) first).
    pub fn add(&mut self, record: &Ticker) {
        match self.tickers.get_mut(&record.ticker) {
            Some(stats) => stats.add(record),
            None => {
                self.tickers
                    .insert(record.ticker.clone(), TickerStats::new(record));
            }
        }
        self.records += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tick(ticker: &str, price: f64, second: i64) -> Ticker {
        Ticker {
            event_time: DateTime::from_timestamp(1_795_323_600 + second, 0).unwrap(),
            ticker: ticker.to_owned(),
            price,
        }
    }

    #[test]
    fn aggregates_per_ticker_and_round_trips_through_the_state() {
        let mut state = WindowState::default();
        for (t, p, s) in [("AAPL", 10.0, 3), ("AAPL", 30.0, 1), ("MSFT", 5.5, 2)] {
            state.add(&tick(t, p, s));
        }
        let aapl = &state.tickers["AAPL"];
        assert_eq!(
            (aapl.count, aapl.min, aapl.max, aapl.avg()),
            (2, 10.0, 30.0, 20.0)
        );
        assert_eq!(aapl.first, tick("x", 0.0, 1).event_time);
        assert_eq!(aapl.last, tick("x", 0.0, 3).event_time);
        let wire = serde_json::to_value(state.to_state()).unwrap();
        let back = WindowState::from_state(
            wire.as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.as_str(), v)),
        )
        .unwrap();
        assert_eq!(back, state);
    }

    #[test]
    fn sums_cross_invokes_exactly() {
        // Read back by serde_json's default float parser, this sum would lose its last bit.
        let mut state = WindowState::default();
        state.add(&tick("AAPL", 3681.1000000000004, 0));
        let wire = serde_json::to_value(state.to_state()).unwrap();
        let back = WindowState::from_state(
            wire.as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.as_str(), v)),
        )
        .unwrap();
        assert_eq!(
            back.tickers["AAPL"].sum.to_bits(),
            3681.1000000000004f64.to_bits()
        );
    }

    #[test]
    fn foreign_and_numeric_state_entries_are_ignored_and_a_bad_own_entry_is_an_error() {
        let numeric = serde_json::json!({"1": 282, "2": 715});
        let entries = numeric
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.as_str(), v));
        assert_eq!(
            WindowState::from_state(entries).unwrap(),
            WindowState::default()
        );
        let bad = serde_json::json!({STATE_KEY: 5});
        let entries = bad
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.as_str(), v));
        assert!(WindowState::from_state(entries).is_err());
    }

    #[test]
    fn the_ticker_count_is_bounded() {
        let mut state = WindowState::default();
        for i in 0..MAX_TICKERS {
            state.add(&tick(&format!("T{i}"), 1.0, 0));
        }
        let one_more = [tick("T0", 2.0, 0), tick("ONE-MORE", 1.0, 0)];
        assert!(matches!(
            state.admit(&one_more),
            Err(RecordError::TooManyTickers(_))
        ));
        assert!(state.admit(&one_more[..1]).is_ok());
        state.add(&one_more[0]);
        let size: usize = state.to_state().values().map(String::len).sum();
        assert!(
            size < 500_000,
            "state of {MAX_TICKERS} tickers is {size} bytes"
        );
    }
}
