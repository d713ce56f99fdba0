//! Shared by the test targets: API Gateway REST proxy events built from the fixture, and the
//! function's answer to them.

use fare_api::{Faults, handler};
use lambda_http::request::RequestContext;
use lambda_http::{Body, RequestExt};
use serde_json::{Value, json};

/// A real REST API proxy event (`GET /predictFare`, AWS_IAM + API key) as API Gateway sends it.
pub(crate) const FIXTURE: &str = include_str!("../fixtures/predict-fare-request.json");

/// The fixture with its query string replaced: `None` is no query string at all (both maps
/// `null`, as API Gateway sends them); values of a repeated parameter in order.
pub(crate) fn event(query: Option<&[(&str, &str)]>) -> String {
    let mut event: Value = serde_json::from_str(FIXTURE).unwrap();
    let (single, multi) = match query {
        None => (Value::Null, Value::Null),
        Some(pairs) => {
            let mut single = serde_json::Map::new();
            let mut multi = serde_json::Map::new();
            for (k, v) in pairs {
                single.insert((*k).to_owned(), json!(v));
                multi
                    .entry((*k).to_owned())
                    .or_insert_with(|| json!([]))
                    .as_array_mut()
                    .unwrap()
                    .push(json!(v));
            }
            (Value::Object(single), Value::Object(multi))
        }
    };
    event["queryStringParameters"] = single;
    event["multiValueQueryStringParameters"] = multi;
    event.to_string()
}

/// The function's answer to `event`: status, `Content-Type`, body.
pub(crate) async fn call(event: &str, faults: &Faults) -> (u16, String, String) {
    let request = lambda_http::request::from_str(event).unwrap();
    // Parsed as a REST API (payload 1.0) event, not another source.
    assert!(matches!(
        request.request_context_ref(),
        Some(RequestContext::ApiGatewayV1(_))
    ));
    let response = handler(request, faults).await.unwrap();
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    let body = match response.body() {
        Body::Text(t) => t.clone(),
        other => panic!("expected a text body, got {other:?}"),
    };
    (response.status().as_u16(), content_type, body)
}
