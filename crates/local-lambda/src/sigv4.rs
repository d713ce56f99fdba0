//! SigV4 signing of the data plane's own AWS JSON calls (the API Gateway executor's AWS
//! integrations and the Firehose delivery's Glue reads), with the `aws-sigv4` crate.

use std::time::SystemTime;

use aws_credential_types::provider::{ProvideCredentials as _, SharedCredentialsProvider};
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use bytes::Bytes;
use http::Request;
use http_body_util::Full;

/// Signs a `POST` request in place for `service` in `region`: its headers as they are (set
/// `Host` and the content headers first) and `body`, with credentials from `provider`.
///
/// # Errors
/// The credentials could not be had, or the request could not be signed; the message says which.
pub async fn sign_post(
    req: &mut Request<Full<Bytes>>,
    body: &[u8],
    provider: &SharedCredentialsProvider,
    region: &str,
    service: &str,
) -> Result<(), String> {
    let identity = provider
        .provide_credentials()
        .await
        .map_err(|e| format!("credentials: {e}"))?
        .into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(service)
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| format!("signing: {e}"))?
        .into();
    let url = req.uri().to_string();
    let headers: Vec<(String, String)> = req
        .headers()
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
        .collect();
    let signable = SignableRequest::new(
        "POST",
        url.as_str(),
        headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        SignableBody::Bytes(body),
    )
    .map_err(|e| format!("signing: {e}"))?;
    let (instructions, _) = sign(signable, &params)
        .map_err(|e| format!("signing: {e}"))?
        .into_parts();
    instructions.apply_to_request_http1x(req);
    Ok(())
}
