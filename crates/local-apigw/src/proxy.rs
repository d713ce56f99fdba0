//! Lambda proxy integrations (`AWS_PROXY`): the REST API (v1) event, and the function's
//! response mapped back to HTTP.

use std::collections::BTreeMap;

use base64::Engine;
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use serde_json::{Map, Value, json};

/// What the executor knows about a request when it builds the proxy event.
#[derive(Debug, Clone)]
pub(crate) struct ProxyRequest<'a> {
    pub(crate) resource_path: &'a str,
    /// The path as the client sent it, without the stage.
    pub(crate) path: &'a str,
    pub(crate) http_method: &'a str,
    pub(crate) headers: Option<&'a HeaderMap>,
    pub(crate) query: &'a BTreeMap<String, Vec<String>>,
    pub(crate) path_params: &'a BTreeMap<String, String>,
    pub(crate) stage_variables: &'a BTreeMap<String, String>,
    pub(crate) body: &'a [u8],
    pub(crate) binary: bool,
    /// The `requestContext` (built once, shared with `$context`).
    pub(crate) request_context: Value,
}

fn map_or_null<V: Into<Value> + Clone>(m: &BTreeMap<String, V>) -> Value {
    if m.is_empty() {
        Value::Null
    } else {
        Value::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), v.clone().into()))
                .collect(),
        )
    }
}

/// Builds the REST API proxy event (payload format 1.0).
pub(crate) fn event(req: &ProxyRequest<'_>) -> Value {
    let mut headers = Map::new();
    let mut multi_headers: Map<String, Value> = Map::new();
    if let Some(h) = req.headers {
        // API Gateway does not pass `Content-Length` on to the function (AWS-recorded:
        // LocalStack's `test_lambda_aws_proxy_integration` snapshot, a POST with a body).
        for name in h.keys().filter(|n| *n != http::header::CONTENT_LENGTH) {
            let values: Vec<String> = h
                .get_all(name)
                .iter()
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                .collect();
            let display = canonical_header_name(name.as_str());
            if let Some(last) = values.last() {
                headers.insert(display.clone(), Value::String(last.clone()));
            }
            multi_headers.insert(display, json!(values));
        }
    }
    let query_single: BTreeMap<String, String> = req
        .query
        .iter()
        .filter_map(|(k, v)| v.last().map(|last| (k.clone(), last.clone())))
        .collect();
    let body = if req.body.is_empty() {
        Value::Null
    } else if req.binary {
        Value::String(base64::engine::general_purpose::STANDARD.encode(req.body))
    } else {
        Value::String(String::from_utf8_lossy(req.body).into_owned())
    };
    let or_null = |m: Map<String, Value>| {
        if m.is_empty() {
            Value::Null
        } else {
            Value::Object(m)
        }
    };
    json!({
        "resource": req.resource_path,
        "path": req.path,
        "httpMethod": req.http_method,
        "headers": or_null(headers),
        "multiValueHeaders": or_null(multi_headers),
        "queryStringParameters": map_or_null(&query_single),
        "multiValueQueryStringParameters": map_or_null(req.query),
        "pathParameters": map_or_null(req.path_params),
        "stageVariables": map_or_null(req.stage_variables),
        "requestContext": req.request_context,
        "body": body,
        "isBase64Encoded": req.binary && !req.body.is_empty(),
    })
}

/// `content-type` → `Content-Type`, as API Gateway presents header names it received in the
/// common capitalisation (HTTP/1.1 clients send them so; hyper lower-cases them).
pub(crate) fn canonical_header_name(name: &str) -> String {
    name.split('-')
        .map(|part| {
            let mut c = part.chars();
            match c.next() {
                Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// A function response mapped to HTTP.
#[derive(Debug, Clone)]
pub(crate) struct ProxyResponse {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

/// The keys a proxy response may hold; any other key makes it malformed (API Gateway answers
/// 502).
const RESPONSE_KEYS: [&str; 5] = [
    "statusCode",
    "headers",
    "multiValueHeaders",
    "body",
    "isBase64Encoded",
];

/// Maps the function's response (`statusCode`, `headers`, `multiValueHeaders`, `body`,
/// `isBase64Encoded`) as API Gateway does:
/// - `statusCode` is an integer or a string holding one, 200 when absent;
/// - `headers` and `multiValueHeaders` are merged, the multi-value ones first, a value given in
///   both only once;
/// - a base64 body (`isBase64Encoded`) is decoded only when `decode_base64` (the request's
///   `Accept` names a binary media type of the API), else passed on as the text it is.
///
/// `Err` is a malformed proxy response (API Gateway answers 502): not a JSON object, a key
/// outside the five above, a value of the wrong type.
pub(crate) fn response(payload: &[u8], decode_base64: bool) -> Result<ProxyResponse, String> {
    let v: Value = serde_json::from_slice(payload)
        .map_err(|e| format!("the function's response is not JSON: {e}"))?;
    let Value::Object(o) = v else {
        return Err("the function's response is not a JSON object".to_owned());
    };
    if let Some(k) = o.keys().find(|k| !RESPONSE_KEYS.contains(&k.as_str())) {
        return Err(format!(
            "the function's response holds an unknown key {k:?}"
        ));
    }
    let status = match o.get("statusCode") {
        None | Some(Value::Null) => Some(200),
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.trim().parse::<u64>().ok(),
        Some(_) => None,
    }
    .ok_or("statusCode is not an integer")?;
    let status = u16::try_from(status)
        .ok()
        .and_then(|s| StatusCode::from_u16(s).ok())
        .ok_or_else(|| format!("statusCode {status} is not an HTTP status"))?;
    let scalar = |v: &Value| -> Option<String> {
        match v {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    };
    let mut headers = HeaderMap::new();
    let mut put = |name: &str, value: String| -> Result<(), String> {
        let name =
            HeaderName::from_bytes(name.as_bytes()).map_err(|e| format!("header {name:?}: {e}"))?;
        let value =
            HeaderValue::from_str(&value).map_err(|e| format!("header {name} value: {e}"))?;
        if !headers.get_all(&name).iter().any(|v| v == value) {
            headers.append(name, value);
        }
        Ok(())
    };
    match o.get("multiValueHeaders") {
        None | Some(Value::Null) => {}
        Some(Value::Object(m)) => {
            for (k, vs) in m {
                let Value::Array(vs) = vs else {
                    return Err(format!("multiValueHeaders.{k} is not a list"));
                };
                for v in vs {
                    put(
                        k,
                        scalar(v).ok_or(format!("multiValueHeaders.{k} holds a non-scalar"))?,
                    )?;
                }
            }
        }
        Some(_) => return Err("multiValueHeaders is not an object".to_owned()),
    }
    match o.get("headers") {
        None | Some(Value::Null) => {}
        Some(Value::Object(m)) => {
            for (k, v) in m {
                put(k, scalar(v).ok_or(format!("headers.{k} is not a scalar"))?)?;
            }
        }
        Some(_) => return Err("headers is not an object".to_owned()),
    }
    let base64 = match o.get("isBase64Encoded") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err("isBase64Encoded is not a boolean".to_owned()),
    };
    let body = match o.get("body") {
        None | Some(Value::Null) => Bytes::new(),
        Some(Value::String(s)) if base64 && decode_base64 => {
            base64::engine::general_purpose::STANDARD
                .decode(s)
                .map(Bytes::from)
                .map_err(|e| format!("body is not base64: {e}"))?
        }
        Some(Value::String(s)) => Bytes::from(s.clone()),
        Some(_) => return Err("body is not a string".to_owned()),
    };
    Ok(ProxyResponse {
        status,
        headers,
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_has_the_rest_v1_shape() {
        let mut headers = HeaderMap::new();
        headers.insert("content-type", "application/json".parse().unwrap());
        headers.insert("content-length", "0".parse().unwrap());
        headers.append("x-multi", "a".parse().unwrap());
        headers.append("x-multi", "b".parse().unwrap());
        let mut query = BTreeMap::new();
        query.insert(
            "ride_request_id".to_owned(),
            vec!["1".to_owned(), "20".to_owned()],
        );
        let mut path_params = BTreeMap::new();
        path_params.insert("id".to_owned(), "7".to_owned());
        let stage = BTreeMap::new();
        let ctx = json!({"requestId": "r-1", "stage": "prod"});
        let e = event(&ProxyRequest {
            resource_path: "/rides/{id}",
            path: "/rides/7",
            http_method: "GET",
            headers: Some(&headers),
            query: &query,
            path_params: &path_params,
            stage_variables: &stage,
            body: b"",
            binary: false,
            request_context: ctx.clone(),
        });
        assert_eq!(e["resource"], json!("/rides/{id}"));
        assert_eq!(e["path"], json!("/rides/7"));
        assert_eq!(e["httpMethod"], json!("GET"));
        assert_eq!(e["headers"]["Content-Type"], json!("application/json"));
        assert_eq!(e["headers"]["X-Multi"], json!("b"));
        assert_eq!(e["multiValueHeaders"]["X-Multi"], json!(["a", "b"]));
        assert_eq!(e["headers"].get("Content-Length"), None);
        assert_eq!(e["multiValueHeaders"].get("Content-Length"), None);
        assert_eq!(e["queryStringParameters"], json!({"ride_request_id": "20"}));
        assert_eq!(
            e["multiValueQueryStringParameters"],
            json!({"ride_request_id": ["1", "20"]})
        );
        assert_eq!(e["pathParameters"], json!({"id": "7"}));
        assert_eq!(e["stageVariables"], Value::Null);
        assert_eq!(e["requestContext"], ctx);
        assert_eq!(e["body"], Value::Null);
        assert_eq!(e["isBase64Encoded"], json!(false));
        let keys: Vec<&String> = e.as_object().unwrap().keys().collect();
        assert_eq!(keys.len(), 12);
    }

    #[test]
    fn binary_bodies_are_base64() {
        let e = event(&ProxyRequest {
            resource_path: "/",
            path: "/",
            http_method: "POST",
            headers: None,
            body: &[0xff, 0x00],
            binary: true,
            query: &BTreeMap::new(),
            path_params: &BTreeMap::new(),
            stage_variables: &BTreeMap::new(),
            request_context: Value::Null,
        });
        assert_eq!(e["body"], json!("/wA="));
        assert_eq!(e["isBase64Encoded"], json!(true));
    }

    #[test]
    fn responses_map_to_http() {
        let r = response(br#"{"statusCode": 201, "headers": {"x-a": "1", "x-n": 2}, "multiValueHeaders": {"set-cookie": ["a=1", "b=2"]}, "body": "{\"ok\":true}"}"#, false).unwrap();
        assert_eq!(r.status, StatusCode::CREATED);
        assert_eq!(r.headers["x-a"], "1");
        assert_eq!(r.headers["x-n"], "2");
        assert_eq!(r.headers.get_all("set-cookie").iter().count(), 2);
        assert_eq!(r.body, Bytes::from_static(b"{\"ok\":true}"));
        let b64 = br#"{"statusCode": 200, "body": "aGk=", "isBase64Encoded": true}"#;
        assert_eq!(response(b64, true).unwrap().body, Bytes::from_static(b"hi"));
        // Not a binary media type the client accepts: the text as the function gave it.
        assert_eq!(
            response(b64, false).unwrap().body,
            Bytes::from_static(b"aGk=")
        );
        let r = response(br#"{"statusCode": 204}"#, false).unwrap();
        assert!(r.body.is_empty());
        // API Gateway's leniencies: a status as a string, no status at all (200).
        let r = response(br#"{"statusCode": "201"}"#, false).unwrap();
        assert_eq!(r.status, StatusCode::CREATED);
        let r = response(br#"{}"#, false).unwrap();
        assert_eq!(r.status, StatusCode::OK);
        // Both header maps merge, multi-value first, a repeated value once.
        let r = response(
            br#"{"multiValueHeaders": {"x-m": ["a", "b"]}, "headers": {"x-m": "b", "x-s": "c"}}"#,
            false,
        )
        .unwrap();
        let xm: Vec<_> = r.headers.get_all("x-m").iter().collect();
        assert_eq!(xm, ["a", "b"]);
        assert_eq!(r.headers["x-s"], "c");
    }

    #[test]
    fn malformed_responses_are_rejected() {
        for bad in [
            &b"not json"[..],
            b"\"text\"",
            br#"{"statusCode": "test"}"#,
            br#"{"statusCode": true}"#,
            br#"{"statusCode": 99999}"#,
            br#"{"statusCode": 200, "wrongValue": "value"}"#,
            br#"{"statusCode": 200, "body": {"a": 1}}"#,
            br#"{"statusCode": 200, "headers": ["x"]}"#,
            br#"{"statusCode": 200, "headers": {"x": {"y": 1}}}"#,
            br#"{"statusCode": 200, "multiValueHeaders": {"x": "y"}}"#,
            br#"{"statusCode": 200, "isBase64Encoded": "yes"}"#,
            br#"{"statusCode": 200, "body": "@@", "isBase64Encoded": true}"#,
        ] {
            assert!(
                response(bad, true).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
