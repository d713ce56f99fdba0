//! The AWS REST-JSON protocol (`restJson1`: the operation in the method and path, its
//! parameters in the path, query and headers): any operation of such a service
//! ([`AwsClient::call_rest`]: Lambda's Invoke and GetFunctionConfiguration for the redrive
//! function). Error answers are read as the JSON protocols' are (`x-amzn-ErrorType` or the
//! body's `__type`/`code`, and `message`/`Message`).

use aws_sigv4::http_request::SigningSettings;
use bytes::Bytes;

use super::json::json_error;
use super::{AwsClient, Request, Service};
use crate::error::AwsError;

/// A successful (2xx) answer of a REST call: its status, headers and body.
#[derive(Debug, Clone)]
pub struct RestAnswer {
    /// The HTTP status.
    pub status: u16,
    /// The answer's headers (Lambda Invoke's `X-Amz-Function-Error`…).
    pub headers: http::HeaderMap,
    /// The body.
    pub body: Bytes,
}

impl RestAnswer {
    /// The value of header `name`, when present and text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl AwsClient {
    /// Calls `service` with `method` at `path_and_query` (starting with `/`, already
    /// percent-encoded), sending `headers` and `body`; the answer when its status is 2xx.
    /// `operation` names the call in errors and logs (`Lambda Invoke`).
    ///
    /// # Errors
    /// [`AwsError`]: the service's error code and message once retries are spent, or why no
    /// answer came.
    pub async fn call_rest(
        &self,
        service: Service,
        operation: &'static str,
        method: http::Method,
        path_and_query: &str,
        headers: Vec<(&'static str, String)>,
        body: Bytes,
    ) -> Result<RestAnswer, AwsError> {
        let request = Request {
            operation,
            service,
            method,
            url: format!("{}{path_and_query}", self.endpoint(service).base),
            headers,
            body,
            settings: SigningSettings::default(),
        };
        let answer = self.send(&request, json_error).await?;
        Ok(RestAnswer {
            status: answer.status,
            headers: answer.headers,
            body: answer.body,
        })
    }
}

/// `text` percent-encoded for one path segment: every byte but the unreserved ones.
pub fn encode_segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for &b in text.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_segments_encode_all_but_unreserved_bytes() {
        assert_eq!(encode_segment("my-fn_1.x~"), "my-fn_1.x~");
        assert_eq!(
            encode_segment("arn:aws:lambda:us-east-1:1:function:f/x"),
            "arn%3Aaws%3Alambda%3Aus-east-1%3A1%3Afunction%3Af%2Fx"
        );
    }
}
