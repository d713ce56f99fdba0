//! The AWS JSON protocols (`awsJson1_0`, `awsJson1_1`: a `POST /` with the operation in
//! `X-Amz-Target`): any operation of such a service ([`AwsClient::call_json`]: Kinesis, SQS,
//! SSM, Secrets Manager…), and the two the functions call by name, SSM GetParameter and Secrets
//! Manager GetSecretValue, which read enrichment-consumer's API key. Error answers name their code in `x-amzn-ErrorType` or the
//! body's `__type` (either may carry a namespace before `#` or a URL after `:`), their message
//! in `message` or `Message`.

use aws_sigv4::http_request::SigningSettings;
use bytes::Bytes;
use serde::Deserialize;
use serde_json::json;

use super::{Answer, AwsClient, Request, SECRETS_MANAGER, SSM, Service};
use crate::error::AwsError;

/// The protocol's version: its `Content-Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonProtocol {
    /// `application/x-amz-json-1.0` (SQS, DynamoDB…).
    V1_0,
    /// `application/x-amz-json-1.1` (Kinesis, SSM, Secrets Manager, Firehose…).
    V1_1,
}

impl JsonProtocol {
    fn content_type(self) -> &'static str {
        match self {
            Self::V1_0 => "application/x-amz-json-1.0",
            Self::V1_1 => "application/x-amz-json-1.1",
        }
    }
}

/// GetParameter's answer (the fields read).
#[derive(Debug, Deserialize)]
struct GetParameterOutput {
    #[serde(rename = "Parameter")]
    parameter: Option<Parameter>,
}

#[derive(Debug, Deserialize)]
struct Parameter {
    #[serde(rename = "Value")]
    value: Option<String>,
}

/// GetSecretValue's answer (the field read).
#[derive(Debug, Deserialize)]
struct GetSecretValueOutput {
    #[serde(rename = "SecretString")]
    secret_string: Option<String>,
}

impl AwsClient {
    /// The value of the SSM parameter `name`, decrypted (SecureString); `None` when it has
    /// none.
    ///
    /// # Errors
    /// [`AwsError`] with SSM's code (`ParameterNotFound`, `AccessDeniedException`…).
    pub async fn get_parameter(&self, name: &str) -> Result<Option<String>, AwsError> {
        let input = json!({"Name": name, "WithDecryption": true});
        let body = self
            .call_json(
                SSM,
                JsonProtocol::V1_1,
                "SSM GetParameter",
                "AmazonSSM.GetParameter",
                &input,
            )
            .await?;
        let output: GetParameterOutput = parse("SSM GetParameter", &body)?;
        Ok(output.parameter.and_then(|p| p.value))
    }

    /// The secret string of the Secrets Manager secret `id` (name or ARN), current version;
    /// `None` when the secret is binary.
    ///
    /// # Errors
    /// [`AwsError`] with Secrets Manager's code (`ResourceNotFoundException`…).
    pub async fn get_secret_string(&self, id: &str) -> Result<Option<String>, AwsError> {
        let input = json!({"SecretId": id});
        let body = self
            .call_json(
                SECRETS_MANAGER,
                JsonProtocol::V1_1,
                "Secrets Manager GetSecretValue",
                "secretsmanager.GetSecretValue",
                &input,
            )
            .await?;
        let output: GetSecretValueOutput = parse("Secrets Manager GetSecretValue", &body)?;
        Ok(output.secret_string)
    }

    /// Calls `target` (`Kinesis_20131202.PutRecords`) of `service` in `protocol` with
    /// `input`; the answer's body (2xx). `operation` names the call in errors and logs
    /// (`Kinesis PutRecords`).
    ///
    /// # Errors
    /// [`AwsError`]: the service's error code and message once retries are spent (a
    /// throttled or failed request is tried again, see the module's retries), or why no answer
    /// came.
    pub async fn call_json(
        &self,
        service: Service,
        protocol: JsonProtocol,
        operation: &'static str,
        target: &str,
        input: &impl serde::Serialize,
    ) -> Result<Bytes, AwsError> {
        let body = serde_json::to_vec(input).map_err(|e| AwsError::Signing {
            operation,
            reason: format!("the input is not JSON: {e}"),
        })?;
        let request = Request {
            operation,
            service,
            method: http::Method::POST,
            url: format!("{}/", self.endpoint(service).base),
            headers: vec![
                ("content-type", protocol.content_type().to_owned()),
                ("x-amz-target", target.to_owned()),
            ],
            body: Bytes::from(body),
            settings: SigningSettings::default(),
        };
        Ok(self.send(&request, json_error).await?.body)
    }
}

/// The answer as `T`.
fn parse<'a, T: Deserialize<'a>>(operation: &'static str, body: &'a [u8]) -> Result<T, AwsError> {
    serde_json::from_slice(body).map_err(|e| AwsError::Transport {
        operation,
        reason: format!("the answer is not the operation's JSON: {e}"),
        attempts: 1,
    })
}

/// The error code and message of a JSON-protocol error answer.
pub(super) fn json_error(answer: &Answer) -> (String, String) {
    let body: serde_json::Value = serde_json::from_slice(&answer.body).unwrap_or_default();
    let field = |name: &str| body.get(name).and_then(serde_json::Value::as_str);
    let code = answer
        .headers
        .get("x-amzn-errortype")
        .and_then(|v| v.to_str().ok())
        .or_else(|| field("__type"))
        .or_else(|| field("code"))
        .map(sanitize_code)
        .unwrap_or_else(|| format!("Http{}", answer.status));
    let message = field("message")
        .or_else(|| field("Message"))
        .unwrap_or("no message")
        .to_owned();
    (code, message)
}

/// `aws.protocoltests#FooError:http://internal` → `FooError`.
fn sanitize_code(code: &str) -> String {
    let code = code.split(':').next().unwrap_or(code);
    code.rsplit('#').next().unwrap_or(code).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, header: Option<&str>, body: &str) -> Answer {
        let mut headers = http::HeaderMap::new();
        if let Some(value) = header {
            headers.insert("x-amzn-errortype", value.parse().expect("header"));
        }
        Answer {
            status,
            headers,
            body: Bytes::from(body.to_owned()),
        }
    }

    #[test]
    fn error_codes_come_from_the_header_or_the_body_without_namespace_or_url() {
        let header = answer(
            400,
            Some("ParameterNotFound:http://internal.amazon.com/coral/"),
            r#"{"message":"gone"}"#,
        );
        assert_eq!(
            json_error(&header),
            ("ParameterNotFound".into(), "gone".into())
        );
        let body = answer(
            400,
            None,
            r#"{"__type":"com.amazonaws.secretsmanager#ResourceNotFoundException","Message":"no secret"}"#,
        );
        assert_eq!(
            json_error(&body),
            ("ResourceNotFoundException".into(), "no secret".into())
        );
        let nothing = answer(502, None, "<html>bad gateway</html>");
        assert_eq!(
            json_error(&nothing),
            ("Http502".into(), "no message".into())
        );
    }

    #[test]
    fn answers_are_read_into_the_fields_used() {
        let output: GetParameterOutput = parse(
            "SSM GetParameter",
            br#"{"Parameter":{"Name":"/k","Type":"SecureString","Value":"v1","Version":3}}"#,
        )
        .expect("parses");
        assert_eq!(
            output.parameter.and_then(|p| p.value).as_deref(),
            Some("v1")
        );
        let error = parse::<GetSecretValueOutput>("Secrets Manager GetSecretValue", b"[1]")
            .expect_err("not an object");
        assert!(error.to_string().contains("GetSecretValue"), "{error}");
    }
}
