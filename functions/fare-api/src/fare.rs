//! The reference's fare formula and its answers, operation for operation.
//!
//! ```js
//! const id = parseFloat(event.queryStringParameters.ride_request_id);
//! if (!id) return {statusCode:400, body:'Missing ride_request_id'};
//! const pseudoRandom = (Math.E * id) % 1;
//! const noiseFactor  = 1 + (pseudoRandom * 0.4) - 0.2;
//! const randomFare   = Math.floor(pseudoRandom * (100 - 10 + 1) + 10);
//! return {statusCode:200, body: JSON.stringify({ride_request_id:id, expected_fare: randomFare*noiseFactor})};
//! ```
//!
//! The same IEEE-754 operations in the same order (JavaScript's `%` is C's `fmod`, as Rust's;
//! no fused multiply-add), so the fares are bit-identical; `tests/parity/fares.json`, made by
//! node, checks it for every id in the table.

use crate::js_number::to_json_number;
use crate::parse_float::parse_float;

/// The 400 body for a missing or falsy id.
pub const MISSING_ID: &str = "Missing ride_request_id";

/// What the function answers for one `ride_request_id` query value.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// 200, `application/json`: the body, as `JSON.stringify` writes it.
    Fare(String),
    /// 400, `text/plain`: [`MISSING_ID`]. The id is missing, or `parseFloat` made it falsy
    /// (`0`, `-0` or `NaN`).
    MissingId,
}

/// The reference's `expected_fare` for a parsed id.
pub fn expected_fare(id: f64) -> f64 {
    let pseudo_random = (std::f64::consts::E * id) % 1.0;
    let noise_factor = 1.0 + (pseudo_random * 0.4) - 0.2;
    let random_fare = (pseudo_random * f64::from(100 - 10 + 1) + 10.0).floor();
    random_fare * noise_factor
}

/// The answer for the raw query value (`None`: no such parameter, or no query string at all).
pub fn answer(ride_request_id: Option<&str>) -> Answer {
    let id = ride_request_id.map_or(f64::NAN, parse_float);
    // JavaScript truthiness of a number: neither ±0 nor NaN.
    if id == 0.0 || id.is_nan() {
        return Answer::MissingId;
    }
    Answer::Fare(format!(
        "{{\"ride_request_id\":{},\"expected_fare\":{}}}",
        to_json_number(id),
        to_json_number(expected_fare(id))
    ))
}

#[cfg(test)]
mod tests {
    use super::{Answer, answer, expected_fare};

    #[test]
    fn the_reference_samples() {
        assert_eq!(expected_fare(123.0), 38.518104367585856);
        assert_eq!(expected_fare(20.0), 40.68894898991148);
        assert_eq!(expected_fare(1000.0), 31.945598426634206);
        assert_eq!(expected_fare(-20.0), -15.689888935863362);
    }

    #[test]
    fn bodies_print_numbers_as_javascript() {
        assert_eq!(
            answer(Some("123")),
            Answer::Fare(r#"{"ride_request_id":123,"expected_fare":38.518104367585856}"#.into())
        );
        assert_eq!(
            answer(Some("1e3")),
            Answer::Fare(r#"{"ride_request_id":1000,"expected_fare":31.945598426634206}"#.into())
        );
        // Infinity is truthy; its fare is NaN; JSON has neither.
        assert_eq!(
            answer(Some("Infinity")),
            Answer::Fare(r#"{"ride_request_id":null,"expected_fare":null}"#.into())
        );
    }

    #[test]
    fn falsy_ids_are_missing() {
        for id in [
            None,
            Some(""),
            Some("0"),
            Some("-0"),
            Some("0.0e5"),
            Some("abc"),
            Some(" "),
        ] {
            assert_eq!(answer(id), Answer::MissingId, "{id:?}");
        }
    }
}
