//! The schedule's Input: what EventBridge Scheduler passes as the event.
//!
//! Scheduler sends the schedule target's `Input` text as the invocation's payload. This
//! function's Input is an optional JSON object overriding the environment for one run:
//!
//! ```json
//! {"records": 500, "rate": 100, "event_time_format": "rfc3339"}
//! ```
//!
//! `null` and `{}` (no Input) run with the environment's values. Fields this function does not
//! know are ignored and logged, so a schedule can carry notes of its own.

use kstream_ticker::EventTimeFormat;
use serde::Deserialize;
use serde_json::Value;

use crate::error::InputError;
use crate::{MAX_RATE, MAX_RECORDS};

/// One run's overrides of the environment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunInput {
    /// Records in this run (`records`, 1 to [`MAX_RECORDS`]).
    pub records: Option<u64>,
    /// Records per second (`rate`, 0 to [`MAX_RATE`]; 0: no limit of its own).
    pub rate: Option<u32>,
    /// How `event_time` is written (`event_time_format`, `sql` or `rfc3339`).
    pub event_time_format: Option<EventTimeFormat>,
}

#[derive(Deserialize)]
struct Fields {
    records: Option<u64>,
    rate: Option<u64>,
    event_time_format: Option<String>,
}

const KNOWN: [&str; 3] = ["records", "rate", "event_time_format"];

fn bounded(field: &'static str, value: u64, min: u64, max: u64) -> Result<u64, InputError> {
    if (min..=max).contains(&value) {
        Ok(value)
    } else {
        Err(InputError::Bounds {
            field,
            value,
            min,
            max,
        })
    }
}

impl RunInput {
    /// The overrides in `event` (the invocation's payload).
    ///
    /// # Errors
    /// [`InputError`] when the event is not an object (nor `null`), or a field is of the wrong
    /// type or out of bounds.
    pub fn from_event(event: &Value) -> Result<Self, InputError> {
        let object = match event {
            Value::Null => return Ok(Self::default()),
            Value::Object(object) => object,
            Value::Bool(_) => return Err(InputError::NotAnObject("a boolean")),
            Value::Number(_) => return Err(InputError::NotAnObject("a number")),
            Value::String(_) => return Err(InputError::NotAnObject("a string")),
            Value::Array(_) => return Err(InputError::NotAnObject("an array")),
        };
        let unknown: Vec<&str> = object
            .keys()
            .map(String::as_str)
            .filter(|k| !KNOWN.contains(k))
            .collect();
        if !unknown.is_empty() {
            tracing::warn!(fields = ?unknown, "the schedule's Input has fields this function ignores");
        }
        let fields: Fields = serde_json::from_value(event.clone()).map_err(InputError::Field)?;
        Ok(Self {
            records: fields
                .records
                .map(|n| bounded("records", n, 1, MAX_RECORDS))
                .transpose()?,
            rate: fields
                .rate
                .map(|n| bounded("rate", n, 0, MAX_RATE))
                .transpose()?
                .map(|n| u32::try_from(n).unwrap_or(u32::MAX)),
            event_time_format: fields.event_time_format.map(|f| f.parse()).transpose()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn an_absent_input_overrides_nothing() {
        assert_eq!(
            RunInput::from_event(&Value::Null).unwrap(),
            RunInput::default()
        );
        assert_eq!(
            RunInput::from_event(&json!({})).unwrap(),
            RunInput::default()
        );
    }

    #[test]
    fn fields_override_and_unknown_fields_are_ignored() {
        let input = RunInput::from_event(
            &json!({"records": 7, "rate": 0, "event_time_format": "rfc3339", "note": "x"}),
        )
        .unwrap();
        assert_eq!(
            input,
            RunInput {
                records: Some(7),
                rate: Some(0),
                event_time_format: Some(EventTimeFormat::Rfc3339),
            }
        );
    }

    #[test]
    fn bad_inputs_say_what_is_wrong() {
        let err = RunInput::from_event(&json!("records=5")).unwrap_err();
        assert!(err.to_string().contains("got a string"), "{err}");
        let err = RunInput::from_event(&json!([1])).unwrap_err();
        assert!(err.to_string().contains("got an array"), "{err}");
        let err = RunInput::from_event(&json!({"records": "5"})).unwrap_err();
        assert!(err.to_string().contains("invalid type"), "{err}");
        let err = RunInput::from_event(&json!({"records": 0})).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the schedule's Input field `records` = 0: from 1 to 1000000"
        );
        let err = RunInput::from_event(&json!({"records": -1})).unwrap_err();
        assert!(err.to_string().contains("invalid value"), "{err}");
        let err = RunInput::from_event(&json!({"rate": 100_001})).unwrap_err();
        assert!(err.to_string().contains("`rate` = 100001"), "{err}");
        let err = RunInput::from_event(&json!({"event_time_format": "iso"})).unwrap_err();
        assert!(err.to_string().contains("`sql` or `rfc3339`"), "{err}");
    }
}
