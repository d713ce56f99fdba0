//! kstream pattern 4's fare API: `GET /predictFare?ride_request_id=N` behind an API Gateway
//! REST API (Lambda proxy integration), answering as the reference's Node function does.
//!
//! - `ride_request_id` is read with JavaScript's `parseFloat` ([`parse_float`]): `"123abc"` is
//!   123, `"1e3"` 1000, `"12.5"` 12.5.
//! - A falsy id (`0`, `NaN`, missing or empty), or no query string at all, answers 400
//!   `Missing ride_request_id` (`text/plain`). The reference throws without a query string and
//!   API Gateway answers 502; this one answers 400.
//! - Otherwise 200 `{"ride_request_id":123,"expected_fare":38.518104367585856}`
//!   (`application/json`): the reference's formula ([`fare`]) with both numbers printed as
//!   `JSON.stringify` prints them ([`js_number`]).
//! - A repeated parameter uses its last value, as API Gateway's `queryStringParameters` does.
//! - The fault mode ([`faults`], `FARE_FAULTS`, tests only) can answer 503, 429 or late.

pub mod error;
pub mod fare;
pub mod faults;
pub mod js_number;
pub mod parse_float;

use lambda_http::http::StatusCode;
use lambda_http::http::header::CONTENT_TYPE;
use lambda_http::{Body, Error, Request, RequestExt, Response};

pub use error::FaultsError;
pub use fare::{Answer, answer, expected_fare};
pub use faults::{Fault, Faults};

/// The query parameter holding the id.
pub const RIDE_REQUEST_ID: &str = "ride_request_id";

/// Handles one API Gateway request (REST API proxy event).
pub async fn handler(request: Request, faults: &Faults) -> Result<Response<Body>, Error> {
    let fault = faults.decide(chrono::Utc::now(), &mut rand::rng());
    match fault {
        Fault::Error => {
            tracing::warn!("fault mode: injected fault (503)");
            return json(
                StatusCode::SERVICE_UNAVAILABLE,
                r#"{"message":"injected fault"}"#,
            );
        }
        Fault::Throttle => {
            tracing::warn!("fault mode: injected throttle (429)");
            return json(
                StatusCode::TOO_MANY_REQUESTS,
                r#"{"message":"injected throttle"}"#,
            );
        }
        Fault::Slow(delay) => {
            tracing::warn!(delay_ms = delay.as_millis(), "fault mode: slow answer");
            tokio::time::sleep(delay).await;
        }
        Fault::None => {}
    }
    let params = request.query_string_parameters_ref();
    let id = params
        .and_then(|q| q.all(RIDE_REQUEST_ID))
        .and_then(|v| v.last().copied());
    match answer(id) {
        Answer::Fare(body) => {
            tracing::debug!(ride_request_id = id, %body, "fare");
            json(StatusCode::OK, body)
        }
        Answer::MissingId => {
            tracing::info!(
                ride_request_id = id,
                "missing or falsy ride_request_id: 400"
            );
            Ok(Response::builder()
                .status(StatusCode::BAD_REQUEST)
                .header(CONTENT_TYPE, "text/plain")
                .body(Body::Text(fare::MISSING_ID.to_owned()))?)
        }
    }
}

fn json(status: StatusCode, body: impl Into<String>) -> Result<Response<Body>, Error> {
    Ok(Response::builder()
        .status(status)
        .header(CONTENT_TYPE, "application/json")
        .body(Body::Text(body.into()))?)
}
